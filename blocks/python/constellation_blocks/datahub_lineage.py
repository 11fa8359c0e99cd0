"""DataHub metadata ingestion: one asset that publishes the pipeline's upstream assets, and their lineage, to DataHub.

After its upstream blocks have run, the block emits, for every asset it depends on (directly or
through other blocks: the blocks feeding it, the blocks feeding those, and so on), a DataHub
dataset whose URN is made from the config's platform and env and the asset key joined with dots,
with its properties (name, description, the Dagster asset key); and, with ``include_lineage``, an
UpstreamLineage aspect per dataset mirroring the Dagster deps among those assets. Everything it
emits is known when the definitions load; only the emitting waits for the run.

It talks to GMS through acryl-datahub's ``DatahubRestEmitter`` over Rest.li (``GET /config``, then
``POST /aspects?action=ingestProposalBatch``), which every GMS serves; the token comes from the env
var ``token_secret`` names, bound as a ``dg.EnvVar``.

No ``from __future__ import annotations``: Dagster checks the ``context`` annotation as a class.
"""

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg
from datahub.emitter.mce_builder import make_dataset_urn
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.emitter.rest_emitter import DatahubRestEmitter
from datahub.metadata.schema_classes import DatasetLineageTypeClass, DatasetPropertiesClass, UpstreamClass, UpstreamLineageClass
from pydantic import Field

from constellation_blocks.building import BlockContext, BuiltBlock
from constellation_blocks.pipeline import PipelineFileError


class DataHubResource(dg.ConfigurableResource):
    """A DataHub GMS and the token to reach it (set from a ``dg.EnvVar``, read at run time)."""

    gms_url: str = Field(description="URL of the DataHub GMS, e.g. http://datahub-gms:8080.")
    token: str | None = Field(default=None, description="A DataHub personal access token.")

    def emitter(self) -> DatahubRestEmitter:
        """A Rest.li emitter: chosen explicitly, so the endpoints do not depend on what GMS advertises."""
        return DatahubRestEmitter(gms_server=self.gms_url, token=self.token or None, openapi_ingestion=False)


@dataclass(frozen=True)
class Dataset:
    """One upstream asset as DataHub sees it."""

    key: dg.AssetKey
    description: str | None
    upstream: tuple[dg.AssetKey, ...]


def build(ctx: BlockContext) -> BuiltBlock:
    """The block's one asset, after its upstream blocks, emitting their datasets and lineage."""
    block, config = ctx.block, ctx.block.config
    where = f"{ctx.pipeline.source}: blocks.{block.id}.config"
    for key in ("gms_url", "platform"):
        if not isinstance(config.get(key), str) or not config[key]:
            raise PipelineFileError(f"{where}.{key} is required: the DataHub GMS URL and the platform id of the datasets.")
    datasets = upstream_datasets(ctx)
    resource_key = f"{ctx.pipeline.group}__{block.id}_datahub"
    resource = DataHubResource(gms_url=config["gms_url"], token=ctx.pipeline.secret(block.id, "token_secret"))

    def publish(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        proposals = list(metadata_proposals(datasets, config, ctx.pipeline.name))
        emitter = getattr(context.resources, resource_key).emitter()
        try:
            emitter.test_connection()  # a wrong URL fails here with DataHub's own explanation
            emitter.emit_mcps(proposals)
        finally:
            emitter.close()
        edges = sum(len(d.upstream) for d in datasets) if config.get("include_lineage", True) else 0
        return dg.MaterializeResult(
            metadata={
                "datasets": len(datasets),
                "lineage_edges": edges,
                "urns": dg.MetadataValue.json([urn(d.key, config) for d in datasets]),
            }
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)  # resource_defs on an asset, as in component.single_asset
        asset = dg.asset(
            key=ctx.key,
            deps=ctx.upstream_keys(),
            resource_defs={resource_key: resource},
            required_resource_keys={resource_key},
            **ctx.asset_args(),
        )(publish)
    return BuiltBlock(assets=[asset], keys=(ctx.key,))


def upstream_datasets(ctx: BlockContext) -> list[Dataset]:
    """Every asset made by a block this one depends on, transitively, in build order, with its deps among them."""
    blocks = set()
    pending = [ctx.block_id]
    while pending:
        for connected in ctx.pipeline.inputs(pending.pop()):
            for upstream in connected.upstream:
                if upstream not in blocks:
                    blocks.add(upstream)
                    pending.append(upstream)
    found: dict[dg.AssetKey, Dataset] = {}
    for block_id, built in ctx.built.items():  # built holds upstream blocks first
        if block_id in blocks:
            for assets in built.assets:
                for key in assets.keys:
                    found[key] = Dataset(key, assets.specs_by_key[key].description, tuple(assets.asset_deps.get(key, ())))
    return [Dataset(d.key, d.description, tuple(k for k in d.upstream if k in found)) for d in found.values()]


def urn(key: dg.AssetKey, config: Mapping[str, Any]) -> str:
    """The dataset URN of an asset: the platform and env of the config, the key's parts joined by dots."""
    return make_dataset_urn(platform=config["platform"], name=".".join(key.path), env=config.get("env") or "PROD")


def metadata_proposals(datasets: Iterable[Dataset], config: Mapping[str, Any], pipeline_name: str) -> Iterable[MetadataChangeProposalWrapper]:
    """Each dataset's properties, and (with include_lineage) its UpstreamLineage, as DataHub proposals."""
    for dataset in datasets:
        dataset_urn = urn(dataset.key, config)
        yield MetadataChangeProposalWrapper(
            entityUrn=dataset_urn,
            aspect=DatasetPropertiesClass(
                name=dataset.key.path[-1],
                description=dataset.description,
                customProperties={"dagster_asset_key": "/".join(dataset.key.path), "constellation_pipeline": pipeline_name},
            ),
        )
        if config.get("include_lineage", True) and dataset.upstream:
            yield MetadataChangeProposalWrapper(
                entityUrn=dataset_urn,
                aspect=UpstreamLineageClass(
                    upstreams=[UpstreamClass(dataset=urn(key, config), type=DatasetLineageTypeClass.TRANSFORMED) for key in dataset.upstream]
                ),
            )

"""Airbyte sync: one asset that triggers a sync of an existing Airbyte connection and waits for its job.

Runs through dagster-airbyte's ``AirbyteResource``, which talks to the server named by the config's
host, port and use_https (Airbyte's Configuration API under /api/v1: ``connections/get``,
``connections/sync``, ``jobs/get``, and ``jobs/cancel`` when the wait is given up). The block fails
its run when the job fails, is cancelled, or is still running after ``timeout_seconds`` (the job is
then cancelled). The newer ``AirbyteWorkspace`` needs a workspace id and OAuth client credentials,
which this block's config does not carry; ``AirbyteResource`` (superseded, still maintained) takes
the server and a token as they are. The token is sent as a bearer header, from the env var
``api_token_secret`` names, bound as a ``dg.EnvVar``.

The tables the connection writes are not known when the definitions load (that would ask the
Airbyte server): the block is one asset, which downstream blocks (dbt, Great Expectations) wait for.

No ``from __future__ import annotations``: Dagster checks the ``context`` annotation as a class.
"""

import warnings
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster._utils.merger import deep_merge_dicts
from dagster_airbyte import AirbyteResource
from pydantic import Field

from constellation_blocks.building import BlockContext, BuiltBlock
from constellation_blocks.pipeline import PipelineFileError


class AirbyteSyncResource(AirbyteResource):
    """dagster-airbyte's ``AirbyteResource`` with an API token (set from a ``dg.EnvVar``) sent as a bearer header."""

    api_token: str | None = Field(default=None, description="An Airbyte application access token.")

    def make_request(self, endpoint: str, data: Mapping[str, object] | None) -> Mapping[str, object] | None:
        """The library's request (retries and all), with the token added to its headers."""
        if not self.api_token:
            return super().make_request(endpoint, data)
        # request_additional_params is plain config, fixed when the resource is built; the token
        # is only known at run time, so the request goes out from a copy that carries it.
        extra = deep_merge_dicts(dict(self.request_additional_params), {"headers": {"Authorization": f"Bearer {self.api_token}"}})
        return AirbyteResource.make_request(self.model_copy(update={"request_additional_params": extra}), endpoint, data)


def build(ctx: BlockContext) -> BuiltBlock:
    """The block's one asset, syncing the connection, with its Airbyte resource bound to it."""
    block, config = ctx.block, ctx.block.config
    where = f"{ctx.pipeline.source}: blocks.{block.id}.config"
    if not isinstance(config.get("connection_id"), str) or not config["connection_id"]:
        raise PipelineFileError(f"{where}.connection_id is required: the id of the Airbyte connection to sync (from its URL in the Airbyte UI).")
    for key in ("poll_interval_seconds", "timeout_seconds", "port"):
        if not isinstance(config.get(key), int) or isinstance(config[key], bool) or config[key] < 1:
            raise PipelineFileError(f"{where}.{key} must be a whole number of at least 1, got {config.get(key)!r}.")
    resource_key = f"{ctx.pipeline.group}__{block.id}_airbyte"
    with warnings.catch_warnings():
        # Superseded for Airbyte's newer workspace API; see the module docstring for why it is used.
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        resource = AirbyteSyncResource(
            host=config["host"],
            port=str(config["port"]),
            use_https=bool(config["use_https"]),
            api_token=ctx.pipeline.secret(block.id, "api_token_secret"),
            forward_logs=False,
        )

    def sync(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        airbyte: AirbyteSyncResource = getattr(context.resources, resource_key)
        output = airbyte.sync_and_poll(
            connection_id=config["connection_id"], poll_interval=config["poll_interval_seconds"], poll_timeout=config["timeout_seconds"]
        )
        return dg.MaterializeResult(metadata=sync_metadata(output.job_details, output.connection_details))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)  # resource_defs on an asset, as in component.single_asset
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        asset = dg.asset(
            key=ctx.key,
            resource_defs={resource_key: resource},
            required_resource_keys={resource_key},
            **ctx.asset_args(),
        )(sync)
    return BuiltBlock(assets=[asset], keys=(ctx.key,))


def sync_metadata(job_details: Mapping[str, Any], connection: Mapping[str, Any]) -> dict[str, Any]:
    """The job id and status, the connection's name and the streams it synced, for the materialization."""
    job = job_details.get("job") or {}
    streams = [
        entry["stream"]["name"]
        for entry in (connection.get("syncCatalog") or {}).get("streams", [])
        if (entry.get("config") or {}).get("selected", True) and "name" in (entry.get("stream") or {})
    ]
    return {
        "airbyte/job_id": job.get("id"),
        "airbyte/job_status": job.get("status"),
        "airbyte/connection": connection.get("name") or connection.get("connectionId"),
        "airbyte/streams": dg.MetadataValue.json(streams),
    }

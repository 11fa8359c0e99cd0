"""dlt ingestion: one block runs a dlt pipeline, and each table it loads is a Dagster asset.

Built as dagster-dlt's ``@dlt_assets`` builds it (``build_dlt_asset_specs`` + a subsettable
``multi_asset`` that calls ``DagsterDltResource.run``), spelled out here because the block also
needs what the decorator does not pass on: the pipeline's retry policy and the resource bound to
the asset (see ``component.single_asset`` for why resources are bound per asset).

Load time touches nothing outside the process: the asset specs come from the block's config (a
rest_api source is built without its credentials; a sql_database source is known by its
``table_names``), and no dlt working directory is made. At run time the resource, whose fields
are ``dg.EnvVar``s, gives the credentials, and the real source and dlt pipeline are built then.

dlt keeps its state (incremental cursors, schemas) in the destination, under the pipeline name;
its local working directory is a scratch copy that dagster-dlt drops before every run anyway. It
lives under the run's own folder, so two pipelines of a shard (or two runs of one) never share it.

No ``from __future__ import annotations``: Dagster checks the ``context`` annotation as a class.
"""

import copy
import shutil
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import dlt
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, build_dlt_asset_specs
from dagster_dlt.translator import DltResourceTranslatorData
from dlt.common.normalizers.naming.snake_case import NamingConvention
from dlt.extract.source import DltSource
from pydantic import Field

from constellation_blocks.building import BlockContext, BuiltBlock
from constellation_blocks.pipeline import Block, PipelineFileError

SOURCES = ("rest_api", "sql_database")
DESTINATIONS = ("duckdb", "postgres")

# The arguments of dlt's sql_database source that a pipeline.json may set: plain data only.
_SQL_DATABASE_ARGS = ("schema", "table_names", "chunk_size", "backend", "reflection_level")
# Where each rest_api auth type takes its secret, so the token never sits in pipeline.json.
_REST_API_SECRET_FIELD = {"bearer": "token", "api_key": "api_key", "http_basic": "password", "oauth2_client_credentials": "client_secret"}
_NAMING = NamingConvention()


class DltIngestionResource(DagsterDltResource):
    """dagster-dlt's resource with the block's credentials, each set from a ``dg.EnvVar`` (read at run time)."""

    source_credentials: str | None = Field(default=None, description="A database URL (sql_database) or an API token (rest_api).")
    destination_credentials: str | None = Field(default=None, description="The destination's URL (postgres).")


class BlockTranslator(DagsterDltTranslator):
    """Keys each loaded table [org, pipeline, block, table] and gives it the block's group, kinds and metadata."""

    def __init__(self, block_key: dg.AssetKey, asset_args: Mapping[str, Any], destination: str):
        self.block_key = block_key
        self.asset_args = asset_args
        self.destination = destination

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        table = table_name(data.resource)
        return dg.AssetSpec(
            key=dg.AssetKey([*self.block_key.path, table]),
            description=f"{self.asset_args['description']}: table {table}.",
            group_name=self.asset_args["group_name"],
            kinds={"dlt", self.destination},
            metadata={**self.asset_args["metadata"], "dagster/table_name": table, "dagster/storage_kind": self.destination},
        )


def table_name(resource: Any) -> str:
    """The destination table a dlt resource loads into, normalized as dlt normalizes it."""
    name = resource.table_name if isinstance(resource.table_name, str) else resource.name
    return _NAMING.normalize_table_identifier(name)


def build(ctx: BlockContext) -> BuiltBlock:
    """The block's tables as one subsettable multi-asset, with its credentials bound as a resource."""
    block = ctx.block
    config = checked_config(block, ctx.pipeline.source)
    args = ctx.asset_args()
    translator = BlockTranslator(ctx.key, args, config["destination"])
    # The pipeline is made at run time (see run_dlt); the specs only need the source's resources.
    specs = build_dlt_asset_specs(dlt_source=make_source(config, credentials=None), dlt_pipeline=None, dagster_dlt_translator=translator)
    # The slug keeps the key apart from other pipelines' in a shared location, as naming.ts does.
    resource_key = f"{ctx.pipeline.group}__{block.id}_dlt"
    partitions_def = args.get("partitions_def")
    backfill = dg.BackfillPolicy.single_run() if isinstance(partitions_def, dg.TimeWindowPartitionsDefinition) else None

    def materialize(context: dg.AssetExecutionContext) -> Iterator[Any]:
        yield from run_dlt(context, block, config, getattr(context.resources, resource_key), translator)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)  # resource_defs on an asset, as in component.single_asset
        assets = dg.multi_asset(
            name="__".join(ctx.key.path),
            specs=specs,
            can_subset=True,
            retry_policy=args.get("retry_policy"),
            op_tags=args.get("op_tags"),
            partitions_def=partitions_def,
            backfill_policy=backfill,
            resource_defs={resource_key: DltIngestionResource(**credentials(ctx, config))},
            required_resource_keys={resource_key},
        )(materialize)
    return BuiltBlock(assets=[assets], keys=tuple(spec.key for spec in specs))


def credentials(ctx: BlockContext, config: Mapping[str, Any]) -> dict[str, dg.EnvVar]:
    """The resource's credential fields, each from the env var its config names; only those the block uses.

    A field left unset stays None: binding an env var that is not needed would fail every run
    where it is not set.
    """
    fields = {}
    if config["source"] == "sql_database" or _rest_api_auth(config) is not None:
        fields["source_credentials"] = ctx.pipeline.secret(ctx.block_id, "source_credentials_secret")
    if config["destination"] == "postgres":
        fields["destination_credentials"] = ctx.pipeline.secret(ctx.block_id, "destination_credentials_secret")
    return fields


def checked_config(block: Block, source: str) -> dict[str, Any]:
    """The block's config after the checks that must hold before any asset exists, with errors naming the key."""
    config = block.config
    where = f"{source}: blocks.{block.id}.config"

    def fail(key: str, problem: str) -> PipelineFileError:
        return PipelineFileError(f"{where}.{key} {problem}")

    if config.get("source") == "filesystem":
        raise fail("source", 'is "filesystem", which this version of dlt_ingestion@1 does not run yet; use rest_api or sql_database.')
    if config.get("source") not in SOURCES:
        raise fail("source", f"must be one of {', '.join(SOURCES)}, got {config.get('source')!r}.")
    if config.get("destination") not in DESTINATIONS:
        raise fail("destination", f"must be one of {', '.join(DESTINATIONS)}, got {config.get('destination')!r}.")
    if config["destination"] == "duckdb" and not (isinstance(config.get("duckdb_path"), str) and config["duckdb_path"]):
        raise fail("duckdb_path", "must name the DuckDB file to load into when destination is duckdb.")
    source_config = config.get("source_config")
    if not isinstance(source_config, Mapping):
        raise fail("source_config", f"must be an object, got {type(source_config).__name__}.")
    if config["source"] == "rest_api":
        if not isinstance(source_config.get("client"), Mapping) or not source_config["client"].get("base_url"):
            raise fail("source_config.client.base_url", "is required for rest_api.")
        if not isinstance(source_config.get("resources"), list) or not source_config["resources"]:
            raise fail("source_config.resources", "must list at least one resource for rest_api.")
    else:
        # The tables must be known when the definitions load: they are the block's assets.
        tables = source_config.get("table_names")
        if not isinstance(tables, list) or not tables or not all(isinstance(t, str) and t for t in tables):
            raise fail("source_config.table_names", "must list the tables to load for sql_database.")
        unknown = sorted(set(source_config) - set(_SQL_DATABASE_ARGS))
        if unknown:
            raise fail("source_config", f"has {', '.join(unknown)}; sql_database takes {', '.join(_SQL_DATABASE_ARGS)}.")
    return config


def make_source(config: Mapping[str, Any], credentials: str | None) -> DltSource:
    """The dlt source of the block; without credentials, only good for listing its resources."""
    source_config = copy.deepcopy(dict(config["source_config"]))
    if config["source"] == "rest_api":
        from dlt.sources.rest_api import rest_api_source

        auth = _rest_api_auth(config)
        if auth is not None:
            client = source_config["client"]
            if credentials is None:
                client.pop("auth")  # listing resources needs no token
            else:
                field = _REST_API_SECRET_FIELD.get(str(auth.get("type", "bearer")), "token")
                client["auth"] = {"type": "bearer", **auth, field: auth.get(field) or credentials}
        source = rest_api_source(source_config)
    elif credentials is None:
        # Reflecting the tables would connect to the database; their names are all the specs need.
        source = _named_tables(source_config["table_names"])
    else:
        from dlt.sources.sql_database import sql_database

        source = sql_database(credentials=credentials, **source_config)
    cursor = config.get("incremental_cursor")
    if cursor:
        for resource in source.resources.values():
            resource.apply_hints(incremental=dlt.sources.incremental(cursor))
    return source


def _named_tables(tables: list[str]) -> DltSource:
    def tables_source():
        return [dlt.resource([], name=table) for table in tables]

    return dlt.source(tables_source, name="sql_database")()


def _rest_api_auth(config: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if config["source"] != "rest_api":
        return None
    auth = config["source_config"]["client"].get("auth")
    return auth if isinstance(auth, Mapping) else None


def run_dlt(
    context: dg.AssetExecutionContext, block: Block, config: Mapping[str, Any], resource: DltIngestionResource, translator: BlockTranslator
) -> Iterator[Any]:
    """Runs the dlt pipeline for the selected tables and yields one materialization per table."""
    if config["source"] == "sql_database" and not resource.source_credentials:
        raise dg.Failure(f"{config['source_credentials_secret']} is empty: sql_database needs a database URL.")
    if config["destination"] == "postgres":
        if not resource.destination_credentials:
            raise dg.Failure(f"{config['destination_credentials_secret']} is empty: the postgres destination needs its URL.")
        destination = dlt.destinations.postgres(credentials=resource.destination_credentials)
    else:
        destination = dlt.destinations.duckdb(credentials=str(Path(config["duckdb_path"]).expanduser()))
    workdir = Path(context.instance.storage_directory()) / "dlt" / (block.pipeline_id or "pipeline") / block.id / context.run.run_id
    pipeline = dlt.pipeline(
        pipeline_name=config["pipeline_name"],
        destination=destination,
        dataset_name=config.get("dataset_name"),
        pipelines_dir=str(workdir),
    )
    source = make_source(config, resource.source_credentials)
    hints: dict[str, Any] = {"write_disposition": config["write_disposition"]}
    if config.get("primary_key"):
        hints["primary_key"] = config["primary_key"]
    try:
        yield from resource.run(context=context, dlt_source=source, dlt_pipeline=pipeline, dagster_dlt_translator=translator, **hints)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

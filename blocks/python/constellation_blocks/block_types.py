"""The block types this library implements: config defaults, Dagster kind, step function, resource.

This is the one place that says how a block type becomes Dagster code; ``PipelineComponent`` reads
it (and src/compile/block-recipes.ts repeats the step and resource names for the generated
definitions.py of legacy locations). Step functions and resource classes are named here, not
imported: a location imports only the modules its blocks use, so a pipeline without DuckDB blocks
never needs the duckdb package.

The defaults repeat the ``default`` values of each manifest's ``config_schema`` (blocks/manifests/):
the compiler fills them in already, but a pipeline.json written by hand or by an older compiler
may lack a key, and a block must then behave as its manifest promises. A test compares these
with the manifests so the two cannot drift apart.

A pipeline may also use block types from a code repository (``repo_blocks``): they are the
pipeline's own, so each function here takes the pipeline's ``repo_types`` as ``repo``.
"""

import copy
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from constellation_blocks import repo_blocks
from constellation_blocks.repo_blocks import RepoBlockType

BLOCK_TYPES: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "postgres_incremental_extract@1": {
            "kind": "postgres",
            "step": ("postgres", "incremental_extract"),
            "resource": ("PostgresResource", "connection_secret"),
            "defaults": {
                "created_at_column": "created_at",
                "updated_at_column": "updated_at",
                "primary_key": ["id"],
                "batch_size": 10000,
                "connection_secret": "POSTGRES_URL",
            },
        },
        "clickhouse_replacing_merge_tree_load@1": {
            "kind": "clickhouse",
            "step": ("clickhouse", "load_replacing_merge_tree"),
            "resource": ("ClickHouseResource", "connection_secret"),
            "defaults": {
                "database": "default",
                "version_column": "updated_at",
                "create_table_if_missing": True,
                "batch_size": 100000,
                "connection_secret": "CLICKHOUSE_URL",
            },
        },
        "duckdb_load@1": {
            "kind": "duckdb",
            "step": ("duckdb", "load_table"),
            "resource": None,
            "defaults": {"mode": "append"},
        },
        # User SQL in an in-memory DuckDB with external access off (sandboxed_duckdb): no file, no lock.
        "duckdb_sql_transform@1": {
            "kind": "duckdb",
            "step": ("duckdb", "sql_transform"),
            "resource": None,
            "defaults": {"output_table": "result"},
        },
        "feature_engineering@1": {
            "kind": "duckdb",
            "step": ("features", "engineer_features"),
            "resource": None,
            "defaults": {"output_table": "features"},
        },
        # A builder, not a step: one asset per loaded table (dlt_ingest.build), credentials bound there.
        "dlt_ingestion@1": {
            "kind": "dlt",
            "build": ("dlt_ingest", "build"),
            "resource": None,
            "defaults": {
                "destination": "duckdb",
                "write_disposition": "append",
                "source_credentials_secret": "DLT_SOURCE_CREDENTIALS",
                "destination_credentials_secret": "DLT_DESTINATION_CREDENTIALS",
            },
        },
        # A builder: one asset check on the upstream asset it validates (expectations.build), no asset.
        "great_expectations_validation@1": {
            "kind": "great_expectations",
            "build": ("expectations", "build"),
            "resource": None,
            "defaults": {"database": "duckdb", "connection_secret": "POSTGRES_URL", "fail_pipeline_on_error": True},
        },
        # A builder: one asset publishing its upstream assets and their lineage (datahub_lineage.build).
        "datahub_metadata_ingestion@1": {
            "kind": "datahub",
            "build": ("datahub_lineage", "build"),
            "resource": None,
            "defaults": {"env": "PROD", "include_lineage": True, "token_secret": "DATAHUB_GMS_TOKEN"},
        },
        # A builder: one asset syncing an Airbyte connection, its own AirbyteResource bound (airbyte_sync.build).
        "airbyte_sync@1": {
            "kind": "airbyte",
            "build": ("airbyte_sync", "build"),
            "resource": None,
            "defaults": {
                "host": "localhost",
                "port": 8000,
                "use_https": False,
                "poll_interval_seconds": 10,
                "timeout_seconds": 3600,
                "api_token_secret": "AIRBYTE_API_TOKEN",
            },
        },
        # Builders on dagster-dbt: the models of a project as assets (dbt.build_run), its tests as
        # checks on them (dbt.build_test); the project's manifest is parsed at deploy time.
        "dbt_run@1": {
            "kind": "dbt",
            "build": ("dbt", "build_run"),
            "resource": None,
            "defaults": {"command": "build", "select": "fqn:*", "full_refresh": False, "vars": {}},
        },
        "dbt_test@1": {
            "kind": "dbt",
            "build": ("dbt", "build_test"),
            "resource": None,
            "defaults": {"select": "fqn:*", "fail_on_warning": False},
        },
        # Builders: one asset each with its own S3Store bound (four settings, not one URL: s3.py);
        # their files port carries object references, which files_to_table reads.
        "s3_files@1": {
            "kind": "s3",
            "build": ("s3", "list_files"),
            "resource": None,
            "defaults": {
                "prefix": "",
                "pattern": "*",
                "region": "garage",
                "access_key_id_secret": "AWS_ACCESS_KEY_ID",
                "secret_access_key_secret": "AWS_SECRET_ACCESS_KEY",
            },
        },
        "s3_files_write@1": {
            "kind": "s3",
            "build": ("s3", "write_files"),
            "resource": None,
            "defaults": {
                "prefix": "",
                "format": "parquet",
                "region": "garage",
                "access_key_id_secret": "AWS_ACCESS_KEY_ID",
                "secret_access_key_secret": "AWS_SECRET_ACCESS_KEY",
            },
        },
        # A builder: one asset reading a table of a DuckDB file, its ``after`` upstreams as deps (duckdb_read.build).
        "duckdb_table_read@1": {
            "kind": "duckdb",
            "build": ("duckdb_read", "build"),
            "resource": None,
            "defaults": {},
        },
        # Builders: one asset each with its own IcebergCatalog bound (catalog URL or its secret,
        # warehouse, S3 endpoint and keys: iceberg_catalog.py); their table ports carry ExtractedRows.
        "iceberg_table_read@1": {
            "kind": "iceberg",
            "build": ("iceberg", "read_table"),
            "resource": None,
            "defaults": {
                "region": "garage",
                "access_key_id_secret": "AWS_ACCESS_KEY_ID",
                "secret_access_key_secret": "AWS_SECRET_ACCESS_KEY",
            },
        },
        "iceberg_table_write@1": {
            "kind": "iceberg",
            "build": ("iceberg", "write_table"),
            "resource": None,
            "defaults": {
                "mode": "append",
                "create_table_if_missing": True,
                "region": "garage",
                "access_key_id_secret": "AWS_ACCESS_KEY_ID",
                "secret_access_key_secret": "AWS_SECRET_ACCESS_KEY",
            },
        },
        # No resource: the store and the names of its keys come with each file reference.
        "files_to_table@1": {
            "kind": "pyarrow",
            "step": ("files_to_table", "read_table"),
            "resource": None,
            "defaults": {"format": "auto"},
        },
    }
)


NO_REPO_TYPES: Mapping[str, RepoBlockType] = MappingProxyType({})
"""A pipeline without repository block types (``repo``, below, is the pipeline's ``repo_types``)."""


def _entry(block_type: str, repo: Mapping[str, RepoBlockType]) -> Mapping[str, Any]:
    """The registry entry of ``block_type``: a built-in one, or one of the pipeline's repository types.

    A repository type is one asset from a step function, kind "python", no connection resource
    (its code reads its own secrets: repo_blocks.secret) and no defaults (the compiler fills in
    its manifest's defaults; there is no older compiler to make up for).
    """
    if block_type in repo:
        return {"kind": "python", "repo_step": repo[block_type].callable, "resource": None, "defaults": {}}
    return BLOCK_TYPES[block_type]


def is_known(block_type: str, repo: Mapping[str, RepoBlockType] = NO_REPO_TYPES) -> bool:
    """Whether this version of the library implements ``block_type`` (e.g. "duckdb_load@1"), or ``repo`` holds it."""
    return block_type in BLOCK_TYPES or block_type in repo


def with_defaults(block_type: str, config: Mapping[str, Any], repo: Mapping[str, RepoBlockType] = NO_REPO_TYPES) -> dict[str, Any]:
    """The block's config with the manifest defaults under every key it leaves out."""
    defaults = _entry(block_type, repo)["defaults"]
    # Copy list and dict defaults so that no caller can change the registry through a block's config.
    merged = {key: copy.deepcopy(value) if isinstance(value, (list, dict)) else value for key, value in defaults.items()}
    merged.update(config)
    return merged


def kind(block_type: str, repo: Mapping[str, RepoBlockType] = NO_REPO_TYPES) -> str:
    """The Dagster kind shown on the asset, e.g. "postgres"."""
    return _entry(block_type, repo)["kind"]


@dataclass(frozen=True)
class ResourceSpec:
    """The connection resource a block type needs, and the config field naming its secret's env var."""

    cls: type
    secret_field: str


def step(block_type: str, repo: Mapping[str, RepoBlockType] = NO_REPO_TYPES) -> Callable[..., Any]:
    """The step function of ``block_type``, called as ``step(context, block, [resource], **ports)``."""
    entry = _entry(block_type, repo)
    if "repo_step" in entry:
        return repo_blocks.resolve(entry["repo_step"])
    module, name = entry["step"]
    return getattr(_module(module), name)


def builder(block_type: str, repo: Mapping[str, RepoBlockType] = NO_REPO_TYPES) -> Callable[..., Any] | None:
    """The builder of ``block_type`` (``build(BlockContext) -> BuiltBlock``), None for a one-asset step type."""
    entry = _entry(block_type, repo).get("build")
    return getattr(_module(entry[0]), entry[1]) if entry else None


def takes_resource(block_type: str, repo: Mapping[str, RepoBlockType] = NO_REPO_TYPES) -> bool:
    """Whether ``block_type`` needs a connection resource (without importing its module)."""
    return _entry(block_type, repo)["resource"] is not None


def resource(block_type: str, repo: Mapping[str, RepoBlockType] = NO_REPO_TYPES) -> ResourceSpec | None:
    """The connection resource ``block_type`` needs, or None when it needs none."""
    entry = _entry(block_type, repo)["resource"]
    if entry is None:
        return None
    class_name, secret_field = entry
    return ResourceSpec(getattr(_module(_module_name(block_type)), class_name), secret_field)


def _module_name(block_type: str) -> str:
    """The library module implementing the built-in ``block_type``: its step function's, or its builder's."""
    entry = BLOCK_TYPES[block_type]
    return (entry.get("step") or entry["build"])[0]


def _module(name: str):
    return importlib.import_module(f"constellation_blocks.{name}")


# Sensor types: no asset, a sensor on one of the pipeline's jobs (``triggers``). Kept apart from
# BLOCK_TYPES because a sensor is not a block: it sits in pipeline.json's "sensors", never in "blocks".
SENSOR_TYPES: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "file_arrival_sensor@1": {
            "build": ("triggers", "file_arrival_sensor"),
            "defaults": {
                "prefix": "",
                "pattern": "*",
                "minimum_interval_seconds": 30,
                "access_key_id_secret": "AWS_ACCESS_KEY_ID",
                "secret_access_key_secret": "AWS_SECRET_ACCESS_KEY",
            },
        },
        "github_release_sensor@1": {
            "build": ("triggers", "github_release_sensor"),
            "defaults": {
                "include_prereleases": False,
                "minimum_interval_seconds": 300,
                "token_secret": "GITHUB_TOKEN",
                "api_url": "https://api.github.com",
            },
        },
        "data_quality_alert_sensor@1": {
            "build": ("triggers", "data_quality_alert_sensor"),
            "defaults": {"severity": "ERROR", "minimum_interval_seconds": 60},
        },
    }
)


def is_sensor(sensor_type: str) -> bool:
    """Whether this version of the library implements the sensor type ``sensor_type``."""
    return sensor_type in SENSOR_TYPES


def sensor_with_defaults(sensor_type: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The sensor's config with the manifest defaults under every key it leaves out."""
    return {**SENSOR_TYPES[sensor_type]["defaults"], **config}


def sensor_builder(sensor_type: str) -> Callable[..., Any]:
    """The builder of ``sensor_type``: ``build(TriggerContext) -> dg.SensorDefinition``."""
    module, name = SENSOR_TYPES[sensor_type]["build"]
    return getattr(_module(module), name)

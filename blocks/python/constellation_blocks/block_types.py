"""The block types this library implements, with their config defaults and Dagster kinds.

The defaults repeat the ``default`` values of each manifest's ``config_schema`` (blocks/manifests/):
the compiler fills them in already, but a pipeline.json written by hand or by an older compiler
may lack a key, and a block must then behave as its manifest promises. A test compares these
with the manifests so the two cannot drift apart.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

BLOCK_TYPES: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "postgres_incremental_extract@1": {
            "kind": "postgres",
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
            "defaults": {"mode": "append"},
        },
    }
)


def is_known(block_type: str) -> bool:
    """Whether this version of the library implements ``block_type`` (e.g. "duckdb_load@1")."""
    return block_type in BLOCK_TYPES


def with_defaults(block_type: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The block's config with the manifest defaults under every key it leaves out."""
    defaults = BLOCK_TYPES[block_type]["defaults"]
    # Copy list defaults so that no caller can change the registry through a block's config.
    merged = {key: list(value) if isinstance(value, list) else value for key, value in defaults.items()}
    merged.update(config)
    return merged


def kind(block_type: str) -> str:
    """The Dagster kind shown on the asset, e.g. "postgres"."""
    return BLOCK_TYPES[block_type]["kind"]

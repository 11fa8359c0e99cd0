"""Steps that open a DuckDB file run one at a time, within a run and across runs.

DuckDB lets one process hold a database file for writing, and no other process open it meanwhile
(https://duckdb.org/docs/stable/connect/concurrency). Dagster's multiprocess executor runs the
steps of a run in parallel processes: a dbt test and a Great Expectations check on the models the
run just built, both opening the warehouse, failed with "Could not set lock on file". So every step
that opens DuckDB carries ``OP_TAGS``, and every job runs on ``EXECUTOR``, Dagster's multiprocess
executor limited to one such step at a time (``tag_concurrency_limits``); other steps still run in
parallel. Across runs (a backfill launches one run per partition, all at once) the same steps
share a Dagster concurrency pool, ``POOL``, through the op tag Dagster reads as the step's pool:
with the pool limited to 1 (``concurrency: pools: default_limit: 1`` in the dagster.yaml this
project writes; a team's own Dagster sets it with ``dagster instance concurrency set``), a step
waits for the slot instead of failing on the file lock.
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg

DUCKDB_TAG = "constellation/duckdb"
POOL = "constellation_duckdb"
OP_TAGS = {DUCKDB_TAG: "opens a DuckDB file", "dagster/concurrency_key": POOL}
# Steps start from a forkserver that has imported the code location once per run (Dagster preloads
# the location's module), instead of each step spawning a fresh Python that imports Dagster, the
# block library and every pipeline of its shard again: seconds per step, most of a short run.
EXECUTOR = dg.multiprocess_executor.configured(
    {"tag_concurrency_limits": [{"key": DUCKDB_TAG, "limit": 1}], "start_method": {"forkserver": {}}},
    name="multiprocess_one_duckdb_step",
)

# Block types whose step opens a DuckDB file, and when (their config, defaults filled in by the compiler).
# Not duckdb_sql_transform nor feature_engineering: their DuckDB is in memory, one per step, and
# can open no file at all (sandboxed_duckdb), so they run in parallel like any other step.
_OPENS_DUCKDB = {
    "duckdb_load@1": lambda config: True,
    "duckdb_table_read@1": lambda config: True,
    "dlt_ingestion@1": lambda config: config.get("destination", "duckdb") == "duckdb",
    "great_expectations_validation@1": lambda config: config.get("database", "duckdb") == "duckdb",
}


def op_tags(block_type: str, config: Mapping[str, Any]) -> dict[str, str]:
    """The op tags of a block's step: ``OP_TAGS`` when it opens a DuckDB file (dbt blocks: see ``dbt_op_tags``)."""
    opens = _OPENS_DUCKDB.get(block_type)
    return dict(OP_TAGS) if opens is not None and opens(config) else {}


def dbt_op_tags(manifest: Mapping[str, Any]) -> dict[str, str]:
    """A dbt block opens DuckDB when its project's target is dbt-duckdb, as its manifest records."""
    return dict(OP_TAGS) if manifest.get("metadata", {}).get("adapter_type") == "duckdb" else {}

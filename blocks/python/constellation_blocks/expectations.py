"""Great Expectations validation: an asset check on a table that an upstream block wrote into a database.

The block makes no asset. Its check sits on the upstream asset it validates: the one whose last
key part is the config's ``table`` (dlt's and dbt's blocks make one asset per table or model), or
the upstream's only asset. At run time it reads the table from DuckDB (``duckdb_path``) or
PostgreSQL (the URL in the env var ``connection_secret`` names, bound as a ``dg.EnvVar``) into a
pandas frame and validates it in an ephemeral Great Expectations context, which writes nothing to
disk. A failed expectation is a failed check, not a failed step: ERROR and blocking (downstream
assets of the run are skipped) when ``fail_pipeline_on_error``, else WARN. Every expectation's
outcome is in the check's metadata.

Expectations are built when the definitions load, so a bad one fails the load naming its index.

No ``from __future__ import annotations``: Dagster checks the ``context`` annotation as a class.
"""

import warnings
from collections.abc import Mapping
from typing import Any

import dagster as dg
import duckdb
import great_expectations as gx
import pandas as pd
import psycopg
from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults, ProgressBarsConfig
from psycopg import sql

from constellation_blocks import identifiers
from constellation_blocks.building import BlockContext, BuiltBlock
from constellation_blocks.pipeline import Block, PipelineFileError
from constellation_blocks.postgres import PostgresResource

DATABASES = ("duckdb", "postgres")

# The manifest's expectation types and their Great Expectations classes: a type from pipeline.json
# only ever selects one of these, it never names code.
EXPECTATION_CLASSES = {
    "expect_column_values_to_not_be_null": gx.expectations.ExpectColumnValuesToNotBeNull,
    "expect_column_values_to_be_unique": gx.expectations.ExpectColumnValuesToBeUnique,
    "expect_column_values_to_be_between": gx.expectations.ExpectColumnValuesToBeBetween,
    "expect_table_row_count_to_be_between": gx.expectations.ExpectTableRowCountToBeBetween,
    "expect_column_values_to_be_in_set": gx.expectations.ExpectColumnValuesToBeInSet,
    "expect_column_values_to_match_regex": gx.expectations.ExpectColumnValuesToMatchRegex,
}


def build(ctx: BlockContext) -> BuiltBlock:
    """One asset check on the validated upstream asset; the block's output is that asset, checked."""
    block, source = ctx.block, ctx.pipeline.source
    config = checked_config(block, source)
    expectation_suite(block, source)  # fails the load now rather than every run later
    target = target_key(ctx, config)
    blocking = bool(config["fail_pipeline_on_error"])
    severity = dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN
    resource_key = f"{ctx.pipeline.group}__{block.id}_ge"
    resource_defs = {resource_key: PostgresResource(url=ctx.pipeline.secret(block.id, "connection_secret"))} if config["database"] == "postgres" else {}

    def validate(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        frame = read_table(config, getattr(context.resources, resource_key) if resource_defs else None)
        result = run_validation(frame, expectation_suite(block, source))
        return check_result(result, severity, rows=len(frame), suite=suite_name(block))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)  # resource_defs on a check, as on an asset in component.single_asset
        check = dg.asset_check(
            asset=target,
            name=block.id,
            description=f"{ctx.asset_args()['description']}: Great Expectations suite {suite_name(block)} on {config['table']}.",
            blocking=blocking,
            op_tags=ctx.asset_args().get("op_tags"),
            resource_defs=resource_defs or None,
            required_resource_keys={resource_key} if resource_defs else None,
            metadata={"constellation/block_type": block.type, "constellation/name": block.name},
        )(validate)
    return BuiltBlock(checks=[check], keys=(target,))


def checked_config(block: Block, source: str) -> dict[str, Any]:
    """The block's config after the checks that must hold before the check exists, with errors naming the key."""
    config = block.config

    def fail(key: str, problem: str) -> PipelineFileError:
        return PipelineFileError(f"{source}: blocks.{block.id}.config.{key} {problem}")

    for key in ("table", "schema"):
        if key in config:
            try:
                identifiers.checked(config[key], key)
            except ValueError as error:
                raise fail(key, f"is not a plain table name: {error}.") from None
    if "table" not in config:
        raise fail("table", "is required: the table (or dbt model) to validate, e.g. \"orders\".")
    if config.get("database") not in DATABASES:
        raise fail("database", f"must be one of {', '.join(DATABASES)}, got {config.get('database')!r}.")
    if config["database"] == "duckdb" and not (isinstance(config.get("duckdb_path"), str) and config["duckdb_path"]):
        raise fail("duckdb_path", "must name the DuckDB file to read when database is duckdb.")
    return config


def target_key(ctx: BlockContext, config: Mapping[str, Any]) -> dg.AssetKey:
    """The upstream asset the check validates: the one named by ``table``, or the upstream's only one."""
    where = f"{ctx.pipeline.source}: blocks.{ctx.block_id}"
    keys = ctx.upstream_keys()
    if not keys:
        raise PipelineFileError(f"{where}.inputs must connect an upstream block to port \"tables\": the check needs an asset to sit on.")
    if len(keys) == 1:
        return keys[0]
    named = [key for key in keys if key.path[-1] == config["table"]]
    if len(named) == 1:
        return named[0]
    tables = ", ".join(key.path[-1] for key in keys)
    problem = "names no upstream asset" if not named else "names assets of several upstream blocks"
    raise PipelineFileError(f'{where}.config.table "{config["table"]}" {problem}; the upstream assets are {tables}.')


def suite_name(block: Block) -> str:
    """The suite's name in the results: the config's ``suite_name``, else the block id."""
    return block.config.get("suite_name") or block.id


def expectation_suite(block: Block, source: str) -> gx.ExpectationSuite:
    """The block's expectations as a suite; a bad one is a PipelineFileError naming its index."""
    expectations = block.config.get("expectations")
    where = f"{source}: blocks.{block.id}.config.expectations"
    if not isinstance(expectations, list) or not expectations:
        raise PipelineFileError(f"{where} must list at least one expectation.")
    built = []
    for index, entry in enumerate(expectations):
        kind = entry.get("type") if isinstance(entry, Mapping) else None
        if kind not in EXPECTATION_CLASSES:
            raise PipelineFileError(f"{where}[{index}].type must be one of {', '.join(EXPECTATION_CLASSES)}, got {kind!r}.")
        kwargs = entry.get("kwargs") or {}
        try:
            built.append(EXPECTATION_CLASSES[kind](**kwargs))
        except (TypeError, ValueError) as error:  # pydantic's ValidationError is a ValueError
            problem = "; ".join(line.strip() for line in str(error).splitlines()[1:]) or str(error)
            raise PipelineFileError(f"{where}[{index}].kwargs do not fit {kind}: {problem}.") from None
    return gx.ExpectationSuite(name=suite_name(block), expectations=built)


def read_table(config: Mapping[str, Any], postgres: PostgresResource | None) -> pd.DataFrame:
    """The whole table, from DuckDB or PostgreSQL; a table that cannot be read fails the check's step."""
    parts = [config[key] for key in ("schema", "table") if config.get(key)]
    try:
        if postgres is None:
            with duckdb.connect(config["duckdb_path"], read_only=True) as con:
                return con.execute(f"SELECT * FROM {'.'.join(map(identifiers.duckdb_quote, parts))}").df()
        with postgres.connect() as conn, conn.cursor() as cursor:
            cursor.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(*parts)))
            return pd.DataFrame(cursor.fetchall(), columns=[column.name for column in cursor.description])
    except (duckdb.Error, psycopg.Error) as error:
        raise dg.Failure(f"could not read {'.'.join(parts)} from {config['database']}: {error}") from error


def run_validation(frame: pd.DataFrame, suite: gx.ExpectationSuite) -> Any:
    """Validates ``frame`` in an ephemeral context: nothing on disk, no analytics, no progress bars."""
    context = gx.get_context(
        mode="ephemeral",
        project_config=DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
        ),
    )
    batch_definition = context.data_sources.add_pandas("table").add_dataframe_asset("frame").add_batch_definition_whole_dataframe("all")
    return batch_definition.get_batch(batch_parameters={"dataframe": frame}).validate(suite)


def check_result(result: Any, severity: dg.AssetCheckSeverity, rows: int, suite: str) -> dg.AssetCheckResult:
    """The check's outcome, with every expectation's success and unexpected counts as metadata."""
    outcomes = []
    for each in result.results:
        details = each.result or {}
        outcome = {
            "expectation": each.expectation_config.type,
            "kwargs": {k: v for k, v in each.expectation_config.kwargs.items() if k != "batch_id"},
            "success": bool(each.success),
        }
        for key in ("unexpected_count", "unexpected_percent", "observed_value"):
            if details.get(key) is not None:
                outcome[key] = details[key]
        if each.exception_info.get("raised_exception"):
            outcome["exception"] = each.exception_info.get("exception_message")
        outcomes.append(outcome)
    failed = [o["expectation"] for o in outcomes if not o["success"]]
    return dg.AssetCheckResult(
        passed=bool(result.success),
        severity=severity,
        description=f"{len(failed)} of {len(outcomes)} expectations failed: {', '.join(failed)}." if failed else None,
        metadata={
            "suite": suite,
            "rows": rows,
            "evaluated_expectations": len(outcomes),
            "failed_expectations": len(failed),
            "results": dg.MetadataValue.json(outcomes),
        },
    )

"""DuckDB table read: one table or view of a DuckDB file into the pipeline as a table port value.

The bridge from a warehouse back into table ports: a dbt_run block builds its models in a DuckDB
file, and this block reads one of them for feature_engineering, iceberg_table_write or any sink.
Its ``after`` input carries no values, only order: the asset takes its upstream assets as
``deps``, and from a dbt_run block only the model named like the table, when there is one (the
other models of the project need not be built first).

The file is opened read-only, and the step carries the DuckDB op tag (``duckdb_steps``), so it
never runs beside a step of the same run that writes the file.

No ``from __future__ import annotations``: Dagster checks the ``context`` annotation as a class.
"""

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from constellation_blocks import arrow_rows, identifiers
from constellation_blocks.building import BlockContext, BuiltBlock
from constellation_blocks.identifiers import duckdb_quote as quote
from constellation_blocks.pipeline import Block, PipelineFileError

DBT_RUN_TYPE = "dbt_run@1"
_SHOWN_TABLES = 20
"""How many of the file's tables an error about a missing table lists."""


def build(ctx: BlockContext) -> BuiltBlock:
    """The block's one asset: reads the table when run, after the assets of the blocks on ``after``."""
    block = ctx.block
    _check_config(block, ctx.pipeline.source)

    # No return annotation: Dagster would check the dg.Output against it.
    def read(context: dg.AssetExecutionContext):
        return read_table(context, block)

    asset = dg.asset(key=ctx.key, deps=after_keys(ctx), **ctx.asset_args())(read)
    return BuiltBlock(assets=[asset], keys=(ctx.key,))


def after_keys(ctx: BlockContext) -> list[dg.AssetKey]:
    """The assets the read waits for: each block's on ``after``, but of a dbt_run block only the model named like the table."""
    name = ctx.block.config["table"].split(".")[-1]
    keys: dict[dg.AssetKey, None] = {}
    for port in ctx.pipeline.inputs(ctx.block_id):
        if port.port != "after":
            continue
        for upstream in port.upstream:
            made = ctx.built[upstream].keys
            if ctx.pipeline.block(upstream).type == DBT_RUN_TYPE:
                made = tuple(key for key in made if key.path[-1] == name) or made
            keys.update(dict.fromkeys(made))
    return list(keys)


def read_table(context: dg.AssetExecutionContext, block: Block) -> dg.Output:
    """The rows of the configured table (columns, and the partition's time window when partitioned)."""
    config = block.config
    path = config["database_path"]
    if not Path(path).is_file():
        raise _failure(block, "database_path", f"{path!r} is not a file here; give the path of an existing DuckDB file, e.g. the one a dbt_run block's models are built in.")
    try:
        con = duckdb.connect(path, read_only=True)
    except duckdb.Error as error:
        raise _failure(block, "database_path", f"{path!r} cannot be opened read-only: {error}. Is it a DuckDB file, and is no other process writing it?") from error
    try:
        schema, name, columns = _table(con, block)
        selected = _selected(block, columns)
        where, parameters, window = _partition_filter(context, block, columns)
        # Fully qualified: a file named like one of its schemas (silver.duckdb holding schema silver)
        # makes "silver.purchases" ambiguous between the catalog and the schema.
        catalog = con.execute("SELECT current_database()").fetchone()[0]
        sql = f"SELECT {', '.join(map(quote, selected))} FROM {quote(catalog)}.{quote(schema)}.{quote(name)}{where}"
        table = con.execute(sql, parameters).to_arrow_table()
    finally:
        con.close()
    rows = arrow_rows.to_rows(table, name, block.id)
    context.log.info(f"Read {len(rows.rows)} row(s) of {schema}.{name} from {path}{f' ({window})' if window else ''}.")
    metadata = {"database_path": path, "table": f"{schema}.{name}", "dagster/row_count": len(rows.rows)}
    return dg.Output(rows, metadata={**metadata, **({"partition_window": window} if window else {})})


def _table(con: duckdb.DuckDBPyConnection, block: Block) -> tuple[str, str, dict[str, tuple[str, str]]]:
    """The table's schema and name as the file spells them, and its columns: lower-case name → (name, DuckDB type)."""
    parts = block.config["table"].split(".")
    schema, name = parts if len(parts) == 2 else ("main", parts[0])
    # DuckDB matches identifiers case-insensitively; so does this lookup.
    found = con.execute(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND lower(table_schema) = lower(?) AND lower(table_name) = lower(?) "
        "ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()
    if not found:
        tables = [row[0] for row in con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() ORDER BY 1"
        ).fetchall()]
        listed = ", ".join(tables[:_SHOWN_TABLES]) + (", ..." if len(tables) > _SHOWN_TABLES else "") if tables else "none"
        raise _failure(
            block,
            "table",
            f"{block.config['table']!r}: the DuckDB file {block.config['database_path']!r} has no such table or view "
            f"(its tables: {listed}). Name one of them (schema-qualified unless in main), or connect the block "
            "that builds it to the after input so it runs first.",
        )
    return found[0][0], found[0][1], {column.lower(): (column, data_type) for _, _, column, data_type in found}


def _selected(block: Block, columns: dict[str, tuple[str, str]]) -> list[str]:
    """The columns to read, as the table spells them: those of ``columns`` in config, else all."""
    wanted: Sequence[str] = block.config.get("columns") or [name for name, _ in columns.values()]
    missing = [c for c in wanted if c.lower() not in columns]
    if missing:
        raise _failure(block, "columns", f"{block.config['table']!r} has no column(s) {', '.join(missing)}; it has: {_names(columns)}.")
    return [columns[c.lower()][0] for c in wanted]


def _partition_filter(context: dg.AssetExecutionContext, block: Block, columns: dict[str, tuple[str, str]]) -> tuple[str, list[Any], str | None]:
    """The WHERE clause keeping the rows of the run's time window, its parameters, and the window as text."""
    column = block.config.get("partition_column")
    if not column:
        return "", [], None
    if column.lower() not in columns:
        raise _failure(block, "partition_column", f"{block.config['table']!r} has no column {column}; it has: {_names(columns)}.")
    name, data_type = columns[column.lower()]
    if not context.has_partition_key:
        return "", [], None
    if not isinstance(context.assets_def.partitions_def, dg.TimeWindowPartitionsDefinition):
        raise _failure(block, "partition_column", f"this run's partition {context.partition_key!r} is no time window (static partitions); remove partition_column, or give the pipeline hourly, daily, weekly or monthly partitions.")
    window = context.partition_time_window
    bounds = _bounds(block, name, data_type, window.start, window.end)
    return f" WHERE {quote(name)} >= CAST(? AS {bounds[0]}) AND {quote(name)} < CAST(? AS {bounds[0]})", list(bounds[1:]), f"{window.start.isoformat()} to {window.end.isoformat()}"


def _bounds(block: Block, column: str, data_type: str, start: datetime, end: datetime) -> tuple[str, str, str]:
    """The SQL type to compare ``column`` as, and the window's bounds as its text (a naive timestamp is in the partitions' time zone)."""
    if data_type == "DATE":
        return "DATE", start.date().isoformat(), end.date().isoformat()
    if data_type == "TIMESTAMP WITH TIME ZONE":
        return "TIMESTAMPTZ", start.isoformat(), end.isoformat()
    if data_type.startswith("TIMESTAMP"):
        return "TIMESTAMP", start.replace(tzinfo=None).isoformat(), end.replace(tzinfo=None).isoformat()
    raise _failure(block, "partition_column", f"{column} is of type {data_type}; name a DATE or TIMESTAMP column, or remove partition_column to read all rows.")


def _names(columns: dict[str, tuple[str, str]]) -> str:
    return ", ".join(name for name, _ in columns.values())


def _check_config(block: Block, source: str) -> None:
    """What must hold at load: the table and column names are plain identifiers (the manifest's patterns)."""
    config = block.config
    try:
        identifiers.checked_table(config.get("table"), "table")
        for column in config.get("columns") or []:
            identifiers.checked(column, "each of columns")
        if config.get("partition_column") is not None:
            identifiers.checked(config["partition_column"], "partition_column")
    except ValueError as error:
        raise PipelineFileError(f"{source}: blocks.{block.id}.config: {error}.") from None
    path = config.get("database_path")
    if not isinstance(path, str) or not path.endswith((".duckdb", ".db")):
        raise PipelineFileError(f'{source}: blocks.{block.id}.config.database_path must be the path of a DuckDB file ending in .duckdb or .db, e.g. "/data/warehouse.duckdb"; got {path!r}.')


def _failure(block: Block, field: str, problem: str) -> dg.Failure:
    return dg.Failure(f"blocks.{block.id}.config.{field} {problem}")

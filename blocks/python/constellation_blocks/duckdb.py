"""DuckDB: the load block, writing into a database file named in the block's config, and the SQL transform.

``sql_transform`` opens no file: it runs its query in an in-memory, locked-down DuckDB (see
``sandboxed_duckdb``) over the rows of its inputs, so it needs no lock on any database file.

Only core DuckDB is used: extensions download at run time by default, which fails offline.
"""

from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from constellation_blocks import column_types, identifiers, sandboxed_duckdb
from constellation_blocks.identifiers import duckdb_quote as quote
from constellation_blocks.pipeline import Block
from constellation_blocks.rows import ExtractedRows, as_row_sets
from constellation_blocks.watermark import sink_metadata

MODES = ("append", "replace", "merge")
_TYPES = {
    "smallint": "SMALLINT",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "real": "REAL",
    "double precision": "DOUBLE",
}
_FAMILY_TYPES = {
    "int": "BIGINT",
    "float": "DOUBLE",
    "decimal": "DOUBLE",  # unconstrained or wider than DuckDB's 38 digits; numeric(p,s) is below
    "bool": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "timestamptz": "TIMESTAMPTZ",
    "date": "DATE",
    "time": "TIME",
    "interval": "INTERVAL",
    "uuid": "UUID",
    "bytes": "BLOB",
}
_STAGE = quote("_constellation_stage")
# DuckDB binds parameters one row at a time with executemany (about 1 ms a row); one INSERT
# with a few hundred rows of VALUES is over ten times faster.
_PARAMETERS_PER_INSERT = 2000


def load_table(context: dg.AssetExecutionContext, block: Block, rows: ExtractedRows | list[ExtractedRows]) -> dg.Output:
    """Writes the rows into a DuckDB table: append them, replace the table, or merge on a key.

    ``merge`` deletes the rows whose primary key matches an incoming row and inserts the incoming
    ones, in one transaction, so a re-sent row replaces its older copy. ``append`` keeps every
    copy: an incremental extract re-sends the rows at its watermark, so prefer ``merge`` after one.
    On success the materialization records ``constellation/watermark`` for the upstream extract.
    """
    config = block.config
    path = config["database_path"]
    table = identifiers.checked_table(config["table"], "table")
    mode = config["mode"]
    if mode not in MODES:
        raise ValueError(f'mode must be one of {", ".join(MODES)}, got {mode!r}')
    primary_key = [identifiers.checked(c, "primary_key column") for c in config.get("primary_key") or []]
    if mode == "merge" and not primary_key:
        raise ValueError('mode "merge" needs primary_key: the column(s) that identify a row, e.g. ["id"]')
    row_sets = as_row_sets(rows)
    target = ".".join(map(quote, table))

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(path)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            if len(table) == 2:
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(table[0])}")
            written = 0
            for index, row_set in enumerate(row_sets):
                replace = mode == "replace" and index == 0
                con.execute(f"CREATE {'OR REPLACE ' if replace else ''}TABLE {'' if replace else 'IF NOT EXISTS '}{target} ({_definitions(row_set)})")
                _check_columns(con, table, row_set)
                if mode == "merge":
                    _merge(con, target, row_set, primary_key)
                else:
                    _insert(con, target, row_set)
                written += len(row_set.rows)
            total = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.close()

    context.log.info(f"Wrote {written} row(s) to DuckDB table {config['table']} ({mode}); it now holds {total}.")
    summary = {"database_path": path, "table": config["table"], "mode": mode, "rows_written": written}
    return dg.Output(summary, metadata={**summary, "dagster/row_count": total, **sink_metadata(row_sets)})


def sql_transform(context: dg.AssetExecutionContext, block: Block, tables: ExtractedRows | list[ExtractedRows]) -> dg.Output:
    """Runs the block's one SELECT over its input tables, each a view named after its upstream block's id."""
    where = f"blocks.{block.id}.config"
    sql, field = block.config["sql"], f"{where}.sql"
    name = identifiers.checked(block.config["output_table"], f"{where}.output_table")
    sandboxed_duckdb.check_select(sql, field)
    inputs = sandboxed_duckdb.input_tables(as_row_sets(tables), where)
    with sandboxed_duckdb.sandbox(inputs) as con:
        result = sandboxed_duckdb.run_query(con, sql, field)
    context.log.info(f"The query over {', '.join(inputs)} returned {result.num_rows} row(s).")
    return sandboxed_duckdb.table_output(result, name, block.id)


def _definitions(rows: ExtractedRows) -> str:
    types = rows.column_types or ["text"] * len(rows.columns)
    return ", ".join(f"{quote(name)} {_duckdb_type(pg_type)}" for name, pg_type in zip(rows.columns, types))


def _duckdb_type(pg_type: str) -> str:
    if pg_type in _TYPES:
        return _TYPES[pg_type]
    precision = column_types.numeric_precision(pg_type)
    if precision and 0 < precision[0] <= 38:
        return f"DECIMAL({precision[0]},{precision[1]})"
    return _FAMILY_TYPES.get(column_types.family(pg_type), "VARCHAR")


def _check_columns(con: duckdb.DuckDBPyConnection, table: list[str], rows: ExtractedRows) -> None:
    schema, name = table if len(table) == 2 else ("main", table[0])
    existing = [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()]
    unknown = [c for c in rows.columns if c not in existing]
    if unknown:
        raise ValueError(f"DuckDB table {'.'.join(table)} has no column(s) {', '.join(unknown)}; it has: {', '.join(existing)}")


def _merge(con: duckdb.DuckDBPyConnection, target: str, rows: ExtractedRows, primary_key: list[str]) -> None:
    missing = [c for c in primary_key if c not in rows.columns]
    if missing:
        raise ValueError(f"merge: the input rows have no primary_key column(s) {', '.join(missing)}; they have: {', '.join(rows.columns)}")
    columns = ", ".join(map(quote, rows.columns))
    # Stage the batch with the target's own column types, then swap matching keys in one go.
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_STAGE} AS SELECT {columns} FROM {target} WHERE false")
    _insert(con, _STAGE, rows)
    matches = " AND ".join(f"{target}.{quote(c)} = {_STAGE}.{quote(c)}" for c in primary_key)
    con.execute(f"DELETE FROM {target} USING {_STAGE} WHERE {matches}")
    con.execute(f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {_STAGE}")
    con.execute(f"DROP TABLE {_STAGE}")


def _insert(con: duckdb.DuckDBPyConnection, target: str, rows: ExtractedRows) -> None:
    if not rows.rows:
        return
    width = len(rows.columns)
    types = rows.column_types or ["text"] * width
    as_text = [column_types.family(t) in ("json", "text") for t in types]
    per_insert = max(1, _PARAMETERS_PER_INSERT // width)
    placeholder = "(" + ", ".join(["?"] * width) + ")"
    statement = f"INSERT INTO {target} ({', '.join(map(quote, rows.columns))}) VALUES "
    for start in range(0, len(rows.rows), per_insert):
        chunk = rows.rows[start : start + per_insert]
        values: list[Any] = [column_types.to_text(v) if text else v for row in chunk for v, text in zip(row, as_text)]
        con.execute(statement + ", ".join([placeholder] * len(chunk)), values)

"""``constellation_inspect_source``: looks at a source block's database from where its pipelines run.

The service launches this job in an environment's Dagster with a source block's config as run
config, e.g. ``{"block_type": "postgres_incremental_extract@1", "config": {"table":
"public.customers", "connection_secret": "SOURCE_DB_URL"}}``. The op connects the way the block
would, reading the secret from the environment variable the config names, here where Dagster
runs: the service never reads the secret, and the run config holds only its name. It answers
with the tables it can see, the columns of one table (name, the database's type, and the logical
type contracts use) and a few sample rows.

The answer is the op's output metadata (``inspection``, JSON), which the service reads back over
GraphQL. Expected failures (connection refused, authentication failed, a missing table) are an
answer too, ``{"ok": false, "error": ...}``, and the op never raises: a raised error's text and
stack would be kept in Dagster's event log, and a driver's message may quote the connection. Every
error text is scrubbed of the secret's value and the parts of its URL (``_scrub``). Sample values
are the source's data, which an inspection is for; they are truncated, never secrets of ours.

The environment's system code location, ``constellation_system`` (system_location.py), defines
the job, so it runs in the environment's own Python with that environment's variables, exactly
where the blocks run, before any pipeline is deployed there. Database drivers are imported when a
block type is inspected, so loading the location costs little.

No ``from __future__ import annotations``: Dagster checks the ``context`` annotation as a class.
"""

import base64
import json
import math
import os
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import dagster as dg

from constellation_blocks import block_types, column_contracts, identifiers

JOB_NAME = "constellation_inspect_source"
OP_NAME = "inspect_source"
"""The job's one op: run config goes under ``ops.inspect_source.config``."""
RESULT_LABEL = "inspection"
MAX_SAMPLE_ROWS = 20
MAX_TABLES = 200
_VALUE_CHARS = 200
"""A sample value longer than this (text, JSON, bytes) is cut, ending in "…"."""
_STATEMENT_TIMEOUT_MS = 30_000


class InspectionError(Exception):
    """An expected failure, its message already fit to show (no secret in it)."""


def inspect(block_type: str, config: dict[str, Any], table: str | None = None, sample_rows: int = 5, max_tables: int = 100,
            environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The inspection's answer: ``ok`` with ``tables``, ``table``, ``columns``, ``rows``, or ``ok: false`` with ``error``."""
    environ = os.environ if environ is None else environ
    inspector = _INSPECTORS.get(block_type)
    if inspector is None:
        supported = ", ".join(sorted(_INSPECTORS))
        return {"ok": False, "error": f"inspection is not supported for {block_type} yet (it is for {supported})"}
    sample_rows = max(0, min(int(sample_rows), MAX_SAMPLE_ROWS))
    max_tables = max(1, min(int(max_tables), MAX_TABLES))
    merged = block_types.with_defaults(block_type, config)
    secrets: list[str] = []
    try:
        return {"ok": True, "block_type": block_type, **inspector(merged, table or merged.get("table"), sample_rows, max_tables, environ, secrets)}
    except InspectionError as error:
        return {"ok": False, "block_type": block_type, "error": _scrub(str(error), secrets)}
    except Exception as error:  # noqa: BLE001 - anything else is reported, scrubbed, never raised (see the module doc)
        return {"ok": False, "block_type": block_type, "error": _scrub(f"{type(error).__name__}: {error}", secrets)}


def _postgres(config: dict[str, Any], table: str | None, sample_rows: int, max_tables: int, environ, secrets: list[str]) -> dict[str, Any]:
    import psycopg
    from psycopg import sql

    from constellation_blocks import postgres

    spec = block_types.resource("postgres_incremental_extract@1")
    name = identifiers.checked(config.get(spec.secret_field), spec.secret_field) if config.get(spec.secret_field) else ""
    url = environ.get(name) if name else None
    if not url:
        raise InspectionError(f"the environment variable {name or '(none named)'} (config {spec.secret_field}) is not set where Dagster runs; set it to the Postgres URL")
    secrets.append(url)
    try:
        conn = spec.cls(url=url).connect()  # the block's own resource: same driver, same session settings
    except psycopg.OperationalError as error:
        raise InspectionError(f"cannot connect to the Postgres database in {name}: {_first_line(error)}") from None
    with conn:
        # Autocommit statements run outside psycopg's transactions, so read-only is the session's
        # default; a view that is slow to read ends the inspection rather than stall it.
        conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        conn.execute(f"SET statement_timeout = {_STATEMENT_TIMEOUT_MS}")
        found = conn.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1 LIMIT %s",
            (max_tables + 1,),
        ).fetchall()
        tables = [row[0] for row in found]
        answer: dict[str, Any] = {"tables": tables[:max_tables], "tables_truncated": len(tables) > max_tables}
        if not table:
            return answer
        parts = identifiers.checked_table(table, "table")
        try:
            # The extract's own reading of a table's columns (postgres.describe_table), so what is shown is what it sees.
            columns = [(col, pg_type, nullable) for col, (pg_type, nullable) in postgres.describe_table(conn, parts, table).items()]
        except ValueError:
            raise InspectionError(f'table "{table}" does not exist in the database in {name} (or its user cannot see it); tables: {_listed(tables)}') from None
        cursor = conn.execute(sql.SQL("SELECT * FROM {} LIMIT %s").format(sql.Identifier(*parts)), (sample_rows,))
        rows = [[_json_safe(value) for value in row] for row in cursor.fetchall()]
    return {
        **answer,
        "table": table,
        "columns": [
            {"name": col, "type": column_contracts.postgres_logical_type(pg_type), "source_type": pg_type, "nullable": nullable}
            for col, pg_type, nullable in columns
        ],
        "rows": rows,
    }


def _duckdb(config: dict[str, Any], table: str | None, sample_rows: int, max_tables: int, environ, secrets: list[str]) -> dict[str, Any]:
    import duckdb

    from constellation_blocks.identifiers import duckdb_quote as quote

    path = config.get("database_path")
    if not isinstance(path, str) or not Path(path).is_file():
        raise InspectionError(f"database_path {path!r} is not a file where Dagster runs; give the path of an existing DuckDB file")
    try:
        con = duckdb.connect(path, read_only=True)
    except duckdb.Error as error:
        raise InspectionError(f"database_path {path!r} cannot be opened read-only: {_first_line(error)}") from None
    try:
        catalog = con.execute("SELECT current_database()").fetchone()[0]
        tables = [row[0] for row in con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_catalog = current_database() ORDER BY 1 LIMIT ?",
            [max_tables + 1],
        ).fetchall()]
        answer: dict[str, Any] = {"tables": tables[:max_tables], "tables_truncated": len(tables) > max_tables}
        if not table:
            return answer
        parts = identifiers.checked_table(table, "table")
        schema, name = parts if len(parts) == 2 else ("main", parts[0])
        found = con.execute(
            "SELECT table_schema, table_name, column_name, data_type, is_nullable = 'YES' FROM information_schema.columns"
            " WHERE table_catalog = current_database() AND lower(table_schema) = lower(?) AND lower(table_name) = lower(?) ORDER BY ordinal_position",
            [schema, name],
        ).fetchall()
        if not found:
            raise InspectionError(f'table "{table}" does not exist in {path!r}; tables: {_listed(tables)}')
        sample = con.execute(f"SELECT * FROM {quote(catalog)}.{quote(found[0][0])}.{quote(found[0][1])} LIMIT ?", [sample_rows]).to_arrow_table()
    finally:
        con.close()
    arrow_types = {field.name: field.type for field in sample.schema}
    return {
        **answer,
        "table": table,
        "columns": [
            {"name": col, "type": column_contracts.arrow_logical_type(arrow_types[col]) if col in arrow_types else None, "source_type": data_type, "nullable": nullable}
            for _, _, col, data_type, nullable in found
        ],
        "rows": [[_json_safe(value) for value in row.values()] for row in sample.to_pylist()],
    }


_INSPECTORS: dict[str, Callable[..., dict[str, Any]]] = {
    "postgres_incremental_extract@1": _postgres,
    "duckdb_table_read@1": _duckdb,
}


def _json_safe(value: Any) -> Any:
    """A sample value as JSON: numbers, booleans and null as they are, the rest as (truncated) text."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        text = base64.b64encode(bytes(value)).decode()
    elif isinstance(value, (dict, list, tuple)):
        text = json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))
    elif isinstance(value, (Decimal, timedelta)):
        text = str(value)
    else:
        text = str(value)
    return text if len(text) <= _VALUE_CHARS else text[: _VALUE_CHARS - 1] + "…"


def _scrub(message: str, secrets: list[str]) -> str:
    """``message`` without any secret value, nor the password, user or whole of a URL among them."""
    parts: set[str] = set()
    for secret in secrets:
        parts.add(secret)
        try:
            url = urlsplit(secret)
            for part in (url.password, url.username, url.netloc):
                if part:
                    parts.update({part, unquote(part)})
        except ValueError:
            pass
    # Longest first, so a URL goes whole before its password is looked for inside what is left.
    for part in sorted((p for p in parts if len(p) >= 3), key=len, reverse=True):
        message = message.replace(part, "***")
    # A driver may echo any URL it was given; none belongs in the answer.
    return re.sub(r"[a-z][a-z0-9+.-]*://\S+", "***", message)


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _listed(tables: list[str], most: int = 20) -> str:
    return ", ".join(tables[:most]) + (", …" if len(tables) > most else "") if tables else "none"


@dg.op(
    name=OP_NAME,
    config_schema={
        "block_type": dg.Field(str, description='The source block type with its version, e.g. "postgres_incremental_extract@1".'),
        "config": dg.Field(dg.Permissive(), description="The block's config, as in a pipeline (secret names only)."),
        "table": dg.Field(str, is_required=False, description="The table to describe, instead of the config's."),
        "sample_rows": dg.Field(int, default_value=5, description=f"Sample rows to read, at most {MAX_SAMPLE_ROWS}."),
        "max_tables": dg.Field(int, default_value=100, description=f"Tables to list, at most {MAX_TABLES}."),
    },
    out=dg.Out(dg.Nothing),
)
def inspect_op(context: dg.OpExecutionContext):
    c = context.op_config
    answer = inspect(c["block_type"], dict(c["config"]), c.get("table"), c["sample_rows"], c["max_tables"])
    context.log.info("Inspected the source." if answer["ok"] else f"Inspection failed: {answer['error']}")
    # A Nothing output: no IO manager stores it, only the metadata is kept.
    yield dg.Output(None, metadata={RESULT_LABEL: dg.MetadataValue.json(answer)})


@dg.job(name=JOB_NAME, description="Tests a source block's connection and lists its tables, columns and sample rows (Constellation Agent).")
def inspect_source_job():
    inspect_op()

"""An in-memory DuckDB where user-written SQL runs over the tables a block was given, and nothing else.

``duckdb_sql_transform`` and ``feature_engineering`` run SQL from a block's config. It runs in a
connection opened with external access off (no files, no URLs, no ATTACH, COPY, INSTALL or
extension downloads), Python replacement scans off (a query cannot read a variable of the calling
code by naming it), and the configuration locked, so the SQL cannot switch any of that back on.
The input tables are then registered as views named after the blocks that produced them: in
DuckDB 1.5.6 registering an Arrow table on a connection whose external access is already off
works (a registered Python object is not external access), so the connection is never open
without the lock, not even while it is being filled. The time zone is set to UTC before the lock
(it cannot be given at connect time: it needs the built-in ICU extension loaded first).

The text is also checked before it runs (``check_select``): exactly one statement, and that one
a query (SELECT, WITH … SELECT, FROM …, VALUES), using DuckDB's own parser. The sandbox is what
keeps files out of reach; the check makes a COPY or a second statement fail with a message about
the config field rather than a permission error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster as dg
import duckdb
import pyarrow as pa

from constellation_blocks import arrow_rows
from constellation_blocks.identifiers import duckdb_quote as quote
from constellation_blocks.rows import ExtractedRows

MEMORY_LIMIT = "2GB"
"""Per connection: the inputs arrive as Python rows already, so a query needing far more is a mistake."""
THREADS = 2

_LOCKED = {
    "enable_external_access": False,
    "python_enable_replacements": False,
    "threads": THREADS,
    "memory_limit": MEMORY_LIMIT,
}
# The first keyword a query may start with; DuckDB reports PRAGMA, SHOW, DESCRIBE and SUMMARIZE as
# SELECT statements too (they become table functions), so the statement type alone lets them by.
_QUERY_STARTS = {"select", "with", "from", "values", "("}


class SqlError(dg.Failure):
    """User SQL that is not allowed or does not run; the message names the config field."""


@contextmanager
def sandbox(tables: Mapping[str, pa.Table]) -> Iterator[duckdb.DuckDBPyConnection]:
    """A locked in-memory connection with each of ``tables`` registered as a view under its name."""
    con = duckdb.connect(":memory:", config=dict(_LOCKED))
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET lock_configuration = true")
        for name, table in tables.items():
            con.register(name, table)
        yield con
    finally:
        con.close()


def input_tables(row_sets: list[ExtractedRows], where: str) -> dict[str, pa.Table]:
    """The rows of each upstream block as Arrow, by the id of the block that produced them."""
    tables: dict[str, pa.Table] = {}
    for rows in row_sets:
        if not rows.source:
            raise SqlError(f"{where}: an input table does not say which block produced it, so it has no view name.")
        if rows.source in tables:
            raise SqlError(f'{where}: two inputs come from block "{rows.source}"; connect each upstream block once.')
        tables[rows.source] = arrow_rows.to_arrow(rows)
    return tables


def check_select(sql: str, field: str) -> None:
    """Raises ``SqlError`` naming ``field`` unless ``sql`` is exactly one query statement."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        raise SqlError(f"{field} is not valid DuckDB SQL: {_first_line(error)}") from None
    if len(statements) != 1:
        raise SqlError(f"{field} must be exactly one SELECT statement; it has {len(statements)}. Remove the others (and any SET, ATTACH or COPY).")
    first = _first_word(sql)
    if statements[0].type != duckdb.StatementType.SELECT or first not in _QUERY_STARTS:
        raise SqlError(
            f"{field} must be a SELECT (or WITH … SELECT) statement, not {first.upper() or statements[0].type.name}: "
            "the query may only read its input tables; files, URLs, COPY, ATTACH, INSTALL, PRAGMA and SET are refused."
        )


def check_expression(con: duckdb.DuckDBPyConnection, expression: str, table: str, field: str) -> str:
    """``expression`` wrapped in parentheses, once DuckDB has parsed it as one expression over ``table``.

    It is parsed inside ``SELECT (<expression>) FROM <table>``, each parenthesis on its own line
    (so a ``--`` comment in it ends before them), and the statement must come out as exactly that:
    one statement, one unnamed item, that table, no other clause. Text that closes the
    parenthesis early to add a clause or a second item fails here; a column that does not exist,
    or an aggregate (the expression is evaluated on each row), fails DuckDB's binder, named in
    the message. Window functions (``lag(total) OVER (...)``) are per-row values and pass.
    """
    wrapped = f"(\n{expression}\n)"
    probe = f"SELECT {wrapped} FROM {quote(table)}"
    tree = json.loads(con.execute("SELECT json_serialize_sql($probe)", {"probe": probe}).fetchone()[0])
    if tree.get("error") or not _is_one_expression(tree, table):
        detail = f": {tree['error_message']}" if tree.get("error") else ""
        raise SqlError(f"{field} must be one SQL expression over the input's columns, e.g. \"total / nullif(items, 0)\"{detail}")
    # Bound as it will run, beside the row's own columns: an aggregate such as sum() fails here,
    # and a star, which is not one value, gives more than one column.
    try:
        described = con.execute(f"DESCRIBE SELECT *, {wrapped} FROM {quote(table)}").fetchall()
    except duckdb.Error as error:
        raise SqlError(f"{field} cannot be evaluated on each row of the input: {_first_line(error)} ({where_it_runs(con)})") from None
    if len(described) != len(con.execute(f"DESCRIBE {quote(table)}").fetchall()) + 1:
        raise SqlError(f"{field} must give one value per row, not several columns.")
    return wrapped


def _is_one_expression(tree: Mapping[str, Any], table: str) -> bool:
    statements = tree.get("statements") or []
    if len(statements) != 1:
        return False
    node = statements[0]["node"]
    source = node.get("from_table") or {}
    return (
        node.get("type") == "SELECT_NODE"
        and len(node.get("select_list") or []) == 1
        and node["select_list"][0].get("alias") == ""
        and source.get("type") == "BASE_TABLE"
        and source.get("table_name") == table
        and not source.get("alias")
        and not node.get("modifiers")
        and not (node.get("cte_map") or {}).get("map")
        and not node.get("group_expressions")
        and all(node.get(clause) is None for clause in ("where_clause", "having", "qualify", "sample"))
    )


def run_query(con: duckdb.DuckDBPyConnection, sql: str, field: str, parameters: Mapping[str, Any] | None = None) -> pa.Table:
    """The result of ``sql`` as Arrow; a DuckDB error becomes a ``SqlError`` naming ``field`` and the tables there are."""
    try:
        return con.execute(sql, dict(parameters) if parameters else None).to_arrow_table()
    except duckdb.Error as error:
        raise SqlError(f"{field} failed in DuckDB: {_first_line(error)} ({where_it_runs(con)})") from None


def where_it_runs(con: duckdb.DuckDBPyConnection) -> str:
    """What a query may read, for error messages: the registered views; external access is off."""
    names = [row[0] for row in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY view_name").fetchall()]
    return f"external access is off: only the input tables {', '.join(map(quote, names)) or '(none)'} can be read"


def _first_word(sql: str) -> str:
    tokens = duckdb.tokenize(sql)  # comments are not tokens
    if not tokens:
        return ""
    start = tokens[0][0]
    end = tokens[1][0] if len(tokens) > 1 else len(sql)
    word = sql[start:end].strip()
    return "(" if word.startswith("(") else word.split()[0].lower() if word else ""


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]


def table_output(table: pa.Table, name: str, source: str, primary_key: list[str] | None = None, **metadata: Any) -> dg.Output:
    """``table`` leaving through a table port as ``ExtractedRows`` named ``name``, with its row count and column types."""
    rows = arrow_rows.to_rows(table, name=name, source=source)
    rows.primary_key = list(primary_key or [])
    columns = dg.MetadataValue.json(dict(zip(rows.columns, rows.column_types)))
    return dg.Output(rows, metadata={"rows": table.num_rows, "columns": columns, **metadata, "dagster/row_count": table.num_rows})

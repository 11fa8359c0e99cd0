"""ClickHouse: a native-protocol connection resource and the ReplacingMergeTree load block.

Works with servers as old as 18.16 (Debian's package), so tables use only types that release
knows: Int64, UInt8, UInt64, Float64, String, Date, DateTime('UTC') and Nullable(...) of those.
DateTime keeps whole seconds: sub-second parts of source timestamps are dropped.
"""

from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

import dagster as dg
from clickhouse_driver import Client
from pydantic import Field

from constellation_blocks import column_types, identifiers
from constellation_blocks.identifiers import clickhouse_quote as quote
from constellation_blocks.pipeline import Block
from constellation_blocks.rows import ExtractedRows, as_row_sets
from constellation_blocks.watermark import sink_metadata

_TYPES = {
    "int": "Int64",
    "float": "Float64",
    "decimal": "Float64",  # 18.16 has Decimal only behind an experimental setting
    "bool": "UInt8",
    "timestamp": "DateTime('UTC')",
    "timestamptz": "DateTime('UTC')",
    "date": "Date",
}
# ReplacingMergeTree's version column must be an unsigned integer, Date or DateTime.
_VERSION_TYPES = {"int": "UInt64", "timestamp": "DateTime('UTC')", "timestamptz": "DateTime('UTC')", "date": "Date"}


class ClickHouseResource(dg.ConfigurableResource):
    """A ClickHouse server reached over the native protocol (clickhouse-driver).

    The URL has the form clickhouse://user:password@host:9000/database (clickhouses:// for TLS).
    """

    url: str = Field(description="clickhouse://user:password@host:9000/database (native protocol; set from a secret).")

    def client(self) -> Client:
        """A new client; the connection opens on the first query."""
        return Client.from_url(self.url)


def load_replacing_merge_tree(
    context: dg.AssetExecutionContext, block: Block, clickhouse: ClickHouseResource, rows: ExtractedRows | list[ExtractedRows]
) -> dg.Output:
    """Inserts the extracted rows into a ReplacingMergeTree table, creating it if allowed.

    Rows that share the ORDER BY key collapse to the one with the highest version column on
    merge, so re-sent rows replace older copies; query with FINAL to see the collapsed table
    before a merge has run. On success the materialization records ``constellation/watermark``,
    which is what lets the upstream extract move on; a failure leaves it where it was.
    """
    config = block.config
    database = identifiers.checked(config["database"], "database")
    table = identifiers.checked(config["table"], "table")
    order_by = [identifiers.checked(c, "order_by column") for c in config["order_by"]]
    version = identifiers.checked(config["version_column"], "version_column")
    batch_size = int(config["batch_size"])
    target = f"{quote(database)}.{quote(table)}"
    row_sets = as_row_sets(rows)

    client = clickhouse.client()
    try:
        created = False
        written = 0
        for row_set in row_sets:
            existing = _table_columns(client, database, table)
            if not existing:
                if not config["create_table_if_missing"]:
                    raise ValueError(f"ClickHouse table {database}.{table} does not exist and create_table_if_missing is false")
                _create_table(client, database, target, row_set, order_by, version)
                existing = _table_columns(client, database, table)
                created = True
            written += _insert(client, target, existing, row_set, batch_size)
    finally:
        client.disconnect()

    context.log.info(f"Wrote {written} row(s) to ClickHouse table {database}.{table}.")
    summary = {"table": f"{database}.{table}", "rows_written": written, "created_table": created}
    return dg.Output(summary, metadata={**summary, **sink_metadata(row_sets)})


def _table_columns(client: Client, database: str, table: str) -> dict[str, str]:
    """Column name → ClickHouse type of the table, empty when it does not exist."""
    found = client.execute(
        "SELECT name, type FROM system.columns WHERE database = %(database)s AND table = %(table)s",
        {"database": database, "table": table},
    )
    return dict(found)


def _create_table(client: Client, database: str, target: str, rows: ExtractedRows, order_by: list[str], version: str) -> None:
    missing = [c for c in [*order_by, version] if c not in rows.columns]
    if missing:
        raise ValueError(f"the input rows have no column(s) {', '.join(missing)} (needed by order_by / version_column); they have: {', '.join(rows.columns)}")
    definitions = []
    for index, name in enumerate(rows.columns):
        family = column_types.family(rows.column_types[index]) if rows.column_types else "text"
        if name == version:
            if family not in _VERSION_TYPES:
                raise ValueError(f'version_column "{name}" is {rows.column_types[index]}; ReplacingMergeTree needs a timestamp, date or integer')
            ch_type = _VERSION_TYPES[family]
        else:
            ch_type = _TYPES.get(family, "String")
        # Key and version columns cannot be Nullable in ClickHouse; the rest follow the source.
        nullable = (rows.nullable[index] if rows.nullable else True) and name not in order_by and name != version
        definitions.append(f"{quote(name)} {f'Nullable({ch_type})' if nullable else ch_type}")
    client.execute(f"CREATE DATABASE IF NOT EXISTS {quote(database)}")
    client.execute(
        f"CREATE TABLE IF NOT EXISTS {target} ({', '.join(definitions)}) "
        f"ENGINE = ReplacingMergeTree({quote(version)}) ORDER BY ({', '.join(map(quote, order_by))})"
    )


def _insert(client: Client, target: str, existing: dict[str, str], rows: ExtractedRows, batch_size: int) -> int:
    unknown = [c for c in rows.columns if c not in existing]
    if unknown:
        raise ValueError(f"ClickHouse table {target} has no column(s) {', '.join(unknown)}; it has: {', '.join(existing)}")
    converters = [_converter(existing[c]) for c in rows.columns]
    statement = f"INSERT INTO {target} ({', '.join(map(quote, rows.columns))}) VALUES"
    for start in range(0, len(rows.rows), batch_size):
        batch = [tuple(convert(v) for convert, v in zip(converters, row)) for row in rows.rows[start : start + batch_size]]
        client.execute(statement, batch)
    return len(rows.rows)


def _converter(ch_type: str) -> Callable[[Any], Any]:
    """Turns a source value into what clickhouse-driver expects for a column of ``ch_type``."""
    nullable = ch_type.startswith("Nullable(")
    base = ch_type[len("Nullable(") : -1] if nullable else ch_type
    if base.startswith(("Int", "UInt")):
        convert, zero = int, 0
    elif base.startswith("Float"):
        convert, zero = float, 0.0
    elif base.startswith("DateTime"):
        convert, zero = _to_datetime, 0  # the driver takes raw epoch seconds too
    elif base == "Date":
        convert, zero = _to_date, date(1970, 1, 1)
    elif base.startswith(("String", "FixedString")):
        convert, zero = column_types.to_text, ""
    else:
        convert, zero = (lambda v: v), None

    def converter(value: Any) -> Any:
        if value is None:
            # A NULL bound for a non-Nullable column (say, a never-updated version column)
            # becomes the type's zero, as ClickHouse itself fills an omitted column.
            return None if nullable else zero
        return convert(value)

    return converter


def _to_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        # Timestamps without time zone are taken as UTC, matching the DateTime('UTC') columns.
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    return value


def _to_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value

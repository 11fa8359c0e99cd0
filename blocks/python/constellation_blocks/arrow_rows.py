"""Between Arrow tables and ``ExtractedRows``, the value table ports carry.

Table ports carry ``ExtractedRows`` with Postgres type names (see ``rows`` and ``column_types``),
which every sink already turns into its own types. Blocks that read or write files work in Arrow,
so they convert here, at the edge: Arrow types become the Postgres spelling of the same type, and
back. A type with no Postgres counterpart (lists, structs, maps) travels as JSON.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from constellation_blocks import column_types
from constellation_blocks.rows import ExtractedRows


def pg_type(arrow_type: pa.DataType) -> str:
    """The Postgres spelling of an Arrow type, e.g. int64 → "bigint", timestamp[us, tz=UTC] → "timestamp with time zone"."""
    if pa.types.is_dictionary(arrow_type):
        return pg_type(arrow_type.value_type)
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_int8(arrow_type) or pa.types.is_int16(arrow_type) or pa.types.is_uint8(arrow_type):
        return "smallint"
    if pa.types.is_int32(arrow_type) or pa.types.is_uint16(arrow_type):
        return "integer"
    if pa.types.is_uint64(arrow_type):
        return "numeric(20,0)"  # above bigint's range
    if pa.types.is_integer(arrow_type):
        return "bigint"
    if pa.types.is_float16(arrow_type) or pa.types.is_float32(arrow_type):
        return "real"
    if pa.types.is_floating(arrow_type):
        return "double precision"
    if pa.types.is_decimal(arrow_type):
        return f"numeric({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp with time zone" if arrow_type.tz else "timestamp without time zone"
    if pa.types.is_date(arrow_type):
        return "date"
    if pa.types.is_time(arrow_type):
        return "time without time zone"
    if pa.types.is_duration(arrow_type):
        return "interval"
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type) or pa.types.is_fixed_size_binary(arrow_type):
        return "bytea"
    if pa.types.is_nested(arrow_type):
        return "jsonb"
    return "text"  # strings, and the all-null column of a file that never filled it


def to_rows(table: pa.Table, name: str, source: str) -> ExtractedRows:
    """``table`` as the rows a table port carries; ``source`` is the producing block's id."""
    columns = table.column_names
    values = [table.column(c).to_pylist() for c in columns]
    return ExtractedRows(
        table=name,
        columns=list(columns),
        rows=list(zip(*values)) if columns else [],
        primary_key=[],  # files have no key; a sink that merges names its own
        previous_watermark=None,
        watermark=None,
        column_types=[pg_type(field.type) for field in table.schema],
        nullable=[field.nullable for field in table.schema],
        source=source,
    )


def arrow_type(pg: str) -> pa.DataType | None:
    """The Arrow type to write a Postgres-typed column as; None where the value is written as text."""
    family = column_types.family(pg)
    if family == "int":
        return {"smallint": pa.int16(), "integer": pa.int32()}.get(pg, pa.int64())
    if family == "float":
        return pa.float32() if pg == "real" else pa.float64()
    if family == "decimal":
        precision = column_types.numeric_precision(pg)
        return pa.decimal128(*precision) if precision and 0 < precision[0] <= 38 else None
    return {
        "bool": pa.bool_(),
        "timestamptz": pa.timestamp("us", tz="UTC"),
        "timestamp": pa.timestamp("us"),
        "date": pa.date32(),
        "time": pa.time64("us"),
        "bytes": pa.binary(),
    }.get(family)


def to_arrow(rows: ExtractedRows) -> pa.Table:
    """The rows of a table port as an Arrow table, column types kept where Arrow has them, text otherwise."""
    types = rows.column_types or ["text"] * len(rows.columns)
    arrays = []
    for index, pg in enumerate(types):
        values: list[Any] = [row[index] for row in rows.rows]
        target = arrow_type(pg)
        if target is None:
            # uuid, json, interval, wide numerics, text: their readable text form (as the sinks store them).
            arrays.append(pa.array([column_types.to_text(v) for v in values], type=pa.string()))
        else:
            arrays.append(pa.array(values, type=target))
    return pa.Table.from_arrays(arrays, names=list(rows.columns))

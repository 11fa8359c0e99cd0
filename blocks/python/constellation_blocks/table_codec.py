"""The values that flow between assets, as files: table ports as Parquet, everything else as JSON.

A table port carries ``ExtractedRows`` (rows, Postgres type names, key, watermarks). Written as
Parquet, its columns keep their Arrow type where Arrow has one (``arrow_rows.arrow_type``); the
rest travel as text with an encoding noted in the file's metadata, so that reading gives back the
very values that were written: a uuid comes back a ``uuid.UUID``, JSON comes back parsed, an
unconstrained numeric a ``Decimal``, an interval a ``timedelta``. Everything else about the rows
(table name, column types, key, watermarks, source) sits in the same metadata entry.

Other ports (a ``files`` port's object references, a sink's metrics) are plain data and are
written as JSON. Nothing is ever pickled: a file written here can be read by any process, in any
Python, and holds no code.
"""

from __future__ import annotations

import io
import json
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from constellation_blocks import arrow_rows, column_types
from constellation_blocks.rows import ExtractedRows

ROWS_METADATA_KEY = b"constellation.rows"
"""The Parquet schema metadata entry holding everything about ``ExtractedRows`` but the rows."""

# How a column Arrow has no type for is written as text, and read back (by its type's family).
_TEXT_DECODERS = {
    "uuid": uuid.UUID,
    "json": json.loads,
    "decimal": Decimal,
    "text": str,
}


def table_to_parquet(value: ExtractedRows | pa.Table) -> bytes:
    """``value`` as the bytes of one Parquet file (ExtractedRows with their metadata)."""
    table = value if isinstance(value, pa.Table) else _rows_to_arrow(value)
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def parquet_to_table(data: bytes) -> ExtractedRows | pa.Table:
    """What ``table_to_parquet`` wrote: ExtractedRows when it wrote rows, else the Arrow table."""
    table = pq.read_table(io.BytesIO(data))
    raw = (table.schema.metadata or {}).get(ROWS_METADATA_KEY)
    return _arrow_to_rows(table, json.loads(raw)) if raw is not None else table


def value_to_json(value: Any) -> bytes:
    """A plain value (lists, dicts, numbers, strings) as JSON; dates and times as ISO text."""
    return json.dumps(value, default=_plain, ensure_ascii=False, sort_keys=True).encode("utf-8")


def json_to_value(data: bytes) -> Any:
    return json.loads(data.decode("utf-8"))


def is_table(value: Any) -> bool:
    """Whether ``value`` is a table port's value (written as Parquet)."""
    return isinstance(value, (ExtractedRows, pa.Table))


def concat(values: list[Any]) -> Any:
    """Several partitions of one asset as one value: rows stacked (the first one's metadata kept)."""
    if len(values) == 1:
        return values[0]
    if all(isinstance(v, ExtractedRows) for v in values):
        first = values[0]
        return ExtractedRows(**{**first.__dict__, "rows": [row for v in values for row in v.rows]})
    if all(isinstance(v, pa.Table) for v in values):
        return pa.concat_tables(values, promote_options="default")
    return values


def _rows_to_arrow(rows: ExtractedRows) -> pa.Table:
    types = rows.column_types or ["text"] * len(rows.columns)
    arrays, encodings = [], {}
    for index, (name, pg) in enumerate(zip(rows.columns, types)):
        values = [row[index] for row in rows.rows]
        target = _arrow_type(pg)
        if target is not None:
            arrays.append(pa.array(values, type=target))
            continue
        family = column_types.family(pg)
        encoding = family if family in _TEXT_DECODERS else "text"
        encodings[name] = encoding
        arrays.append(pa.array([_encode(v, encoding) for v in values], type=pa.string()))
    meta = {
        "table": rows.table,
        "column_types": list(types),
        "nullable": list(rows.nullable),
        "primary_key": list(rows.primary_key),
        "previous_watermark": _iso(rows.previous_watermark),
        "watermark": _iso(rows.watermark),
        "source": rows.source,
        "text_encodings": encodings,
    }
    table = pa.Table.from_arrays(arrays, names=list(rows.columns)) if rows.columns else pa.table({})
    return table.replace_schema_metadata({ROWS_METADATA_KEY: json.dumps(meta).encode("utf-8")})


def _arrow_to_rows(table: pa.Table, meta: dict[str, Any]) -> ExtractedRows:
    columns = table.column_names
    encodings = meta["text_encodings"]
    values = []
    for name in columns:
        column = table.column(name).to_pylist()
        decode = _TEXT_DECODERS.get(encodings.get(name, ""))
        values.append([None if v is None else decode(v) for v in column] if decode else column)
    return ExtractedRows(
        table=meta["table"],
        columns=list(columns),
        rows=list(zip(*values)) if columns else [],
        primary_key=meta["primary_key"],
        previous_watermark=_from_iso(meta["previous_watermark"]),
        watermark=_from_iso(meta["watermark"]),
        column_types=meta["column_types"],
        nullable=meta["nullable"],
        source=meta["source"],
    )


def _arrow_type(pg: str) -> pa.DataType | None:
    # Intervals are durations in Arrow; the rest as the sinks' shared mapping says.
    return pa.duration("us") if column_types.family(pg) == "interval" else arrow_rows.arrow_type(pg)


def _encode(value: Any, encoding: str) -> str | None:
    if value is None:
        return None
    if encoding == "json":
        # Always JSON text, also for a JSON string: "abc" must not come back as the number it spells.
        return json.dumps(value, default=_plain, ensure_ascii=False)
    return column_types.to_text(value) if encoding == "text" else str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (Decimal, uuid.UUID, timedelta)):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    raise TypeError(f"{type(value).__name__} cannot travel between assets: only rows, Arrow tables and plain data (lists, dicts, numbers, text) do")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _from_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None

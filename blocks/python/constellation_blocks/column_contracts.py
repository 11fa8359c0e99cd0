"""Checks a table a step receives against the columns its input needs, before the step runs.

Validation compares what a producer declares with what its consumer needs; a source table can
still change after deploy (a column renamed or dropped), so pipeline.json also carries each
table input's needs (``blocks.<id>.inputs[].columns``: names, and a logical type or null) and
the step refuses a table that lacks one, naming the column, the upstream block and the port,
instead of failing later inside a sink with a database's error. The needs are data the compiler
wrote; nothing here runs anything they say.

Types are compared only where both the need and the table give one: a column whose Postgres or
Arrow type has no logical type here (intervals, bytes, times) is not checked, as validation does
not check a column whose producer gives no type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pyarrow as pa

from constellation_blocks import column_types
from constellation_blocks.rows import ExtractedRows

# Postgres column families (column_types.family) → the logical types contracts name.
_FAMILY_TYPES = {
    "int": "integer",
    "float": "float",
    "decimal": "float",
    "bool": "boolean",
    "timestamp": "timestamp",
    "timestamptz": "timestamp",
    "date": "date",
    "json": "json",
    "uuid": "string",
    "text": "string",
}
_LISTED = 12


@dataclass(frozen=True)
class NeededColumn:
    """A column a table input needs, and its logical type (None: any type)."""

    name: str
    type: str | None = None


def check_input(block_id: str, port: str, upstream: str, value: Any, needed: Sequence[NeededColumn]) -> None:
    """Raise ``dg.Failure`` when ``value`` (what ``upstream`` sent to ``port``) lacks a needed column or has it with another type.

    Not retried whatever the block's retry policy: a retry is given the same upstream output, so
    it would fail the same way, only later.
    """
    have = _columns(value)
    if not needed or have is None:
        return  # not a table (a list of files, metrics): contracts are about tables
    missing = [column.name for column in needed if column.name not in have]
    if missing:
        listed = ", ".join(list(have)[:_LISTED]) + (", …" if len(have) > _LISTED else "") or "no columns"
        what = f'column "{missing[0]}"' if len(missing) == 1 else "columns " + ", ".join(f'"{name}"' for name in missing)
        raise dg.Failure(f"{block_id}: input {port} from {upstream} lacks {what} (it has: {listed})", allow_retries=False)
    for column in needed:
        actual = have[column.name]
        if column.type and actual and actual != column.type:
            raise dg.Failure(
                f'{block_id}: input {port} from {upstream} has column "{column.name}" as {actual}, but it must be {column.type}',
                allow_retries=False,
            )


def _columns(value: Any) -> dict[str, str | None] | None:
    """Column name → logical type (None when it has none here) of a table value; None for anything else."""
    if isinstance(value, ExtractedRows):
        types = value.column_types or [None] * len(value.columns)
        return {name: postgres_logical_type(t) if t else None for name, t in zip(value.columns, types)}
    if isinstance(value, pa.Table):
        return {field.name: arrow_logical_type(field.type) for field in value.schema}
    return None


def postgres_logical_type(pg_type: str) -> str | None:
    """The logical type of a Postgres column type as ``format_type`` spells it; None when it has none (interval, bytea, time)."""
    return _FAMILY_TYPES.get(column_types.family(pg_type))


def arrow_logical_type(arrow: pa.DataType) -> str | None:
    """The logical type of an Arrow column type; None when it has none."""
    checks = [
        (pa.types.is_boolean, "boolean"),
        (pa.types.is_integer, "integer"),
        (lambda t: pa.types.is_floating(t) or pa.types.is_decimal(t), "float"),
        (pa.types.is_timestamp, "timestamp"),
        (pa.types.is_date, "date"),
        (lambda t: pa.types.is_string(t) or pa.types.is_large_string(t), "string"),
    ]
    return next((name for check, name in checks if check(arrow)), None)

"""Arrow tables against an Iceberg table's schema, and a run's partition as an Iceberg row filter.

Iceberg keeps timestamps in microseconds, a zone-aware one as ``timestamptz`` (stored in UTC); the
schema a new table gets from its first input follows that. Later inputs are cast to the table's
schema where the cast loses nothing a reader would notice (wider integers, integers to floats,
timestamp units, large and small strings); anything else fails the run naming the column.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dagster as dg
import pyarrow as pa


def arrow_schema_for_iceberg(schema: pa.Schema) -> pa.Schema:
    """``schema`` with every timestamp in microseconds and every zone-aware one in UTC (Iceberg's timestamptz)."""
    fields = []
    for field in schema:
        kind = field.type
        if pa.types.is_timestamp(kind):
            kind = pa.timestamp("us", tz="UTC" if kind.tz else None)
        elif pa.types.is_null(kind):
            kind = pa.string()  # a column no row filled: Iceberg has no type for "nothing yet"
        fields.append(pa.field(field.name, kind, nullable=True))
    return pa.schema(fields)


def conform(data: pa.Table, schema: Any, table_name: str, where: str) -> pa.Table:
    """``data`` cast to the Iceberg ``schema`` (its columns, in its order); a failure naming the first column that does not fit."""
    target = schema.as_arrow()
    extra = [name for name in data.column_names if name not in target.names]
    if extra:
        raise dg.Failure(
            f"the input has column {extra[0]!r}, which {table_name} lacks (it has: {', '.join(target.names)}); "
            f"drop the column upstream, or write to a new table ({where}.table)."
        )
    arrays = []
    for field in target:
        if field.name not in data.column_names:
            if not field.nullable:
                raise dg.Failure(f"the input has no column {field.name!r}, which {table_name} requires.")
            arrays.append(pa.nulls(data.num_rows, field.type))
            continue
        column = data.column(field.name)
        if not _fits(column.type, field.type):
            raise dg.Failure(
                f"column {field.name!r} is {column.type} in the input but {schema.find_field(field.name).field_type} in "
                f"{table_name}; cast it upstream, or write to a new table ({where}.table)."
            )
        try:
            arrays.append(column.cast(field.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
            raise dg.Failure(f"column {field.name!r} does not fit {table_name}'s type {field.type}: {error}") from None
    return pa.Table.from_arrays(arrays, schema=target)


def _fits(source: pa.DataType, target: pa.DataType) -> bool:
    t = pa.types
    if source == target or t.is_null(source):
        return True
    if (t.is_string(source) or t.is_large_string(source)) and (t.is_string(target) or t.is_large_string(target)):
        return True
    if (t.is_binary(source) or t.is_large_binary(source)) and (t.is_binary(target) or t.is_large_binary(target)):
        return True
    if t.is_integer(source):
        return (t.is_integer(target) and target.bit_width >= source.bit_width) or t.is_floating(target) or t.is_decimal(target)
    if t.is_floating(source):
        return t.is_floating(target)
    if t.is_timestamp(source) and t.is_timestamp(target):
        return (source.tz is None) == (target.tz is None)
    if t.is_decimal(source) and t.is_decimal(target):
        return target.scale >= source.scale and target.precision - target.scale >= source.precision - source.scale
    return False


def partition_filter(context: dg.AssetExecutionContext, schema: Any, column: str | None, where: str) -> Any:
    """The row filter of the run's partition on ``column``, None when there is no column or no partition key.

    A time-window partition on a date or timestamp column is the range [start, end) of its window
    (in the partition's timezone; a zone-less timestamp compares wall-clock times); any other
    partition, or a column of another type, is equality with the partition key.
    """
    from pyiceberg.expressions import And, EqualTo, GreaterThanOrEqual, LessThan
    from pyiceberg.types import DateType, TimestampType, TimestamptzType

    if not column or not context.has_partition_key:
        return None
    try:
        kind = schema.find_field(column).field_type
    except ValueError:
        names = ", ".join(f.name for f in schema.fields)
        raise dg.Failure(f"{where}.partition_column {column!r} is not a column of the table (it has: {names}); name one that is.") from None
    window = _time_window(context)
    if window is None or not isinstance(kind, (DateType, TimestampType, TimestamptzType)):
        return EqualTo(column, context.partition_key)
    start, end = window
    if isinstance(kind, DateType):
        bounds: tuple[Any, Any] = (start.date(), end.date())
    elif isinstance(kind, TimestampType):
        bounds = (start.replace(tzinfo=None), end.replace(tzinfo=None))
    else:
        bounds = (start, end)
    return And(GreaterThanOrEqual(column, bounds[0]), LessThan(column, bounds[1]))


def outside_partition(data: pa.Table, schema: Any, partition: Any) -> int:
    """How many rows of ``data`` (already conformed to ``schema``) the partition filter leaves out, nulls included."""
    from pyiceberg.expressions.visitors import bind
    from pyiceberg.io.pyarrow import expression_to_pyarrow

    inside = data.filter(expression_to_pyarrow(bind(schema, partition, case_sensitive=True), schema))
    return data.num_rows - inside.num_rows


def _time_window(context: dg.AssetExecutionContext) -> tuple[datetime, datetime] | None:
    if not isinstance(context.assets_def.partitions_def, dg.TimeWindowPartitionsDefinition):
        return None
    window = context.partition_time_window
    return window.start, window.end

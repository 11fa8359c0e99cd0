"""``feature_engineering``: one row per entity with one column per feature, computed in a sandboxed DuckDB.

What a feature means, precisely:

- The output has one row per distinct value of the ``entity_key`` column(s) among the rows the
  block considers, ordered by the key; its columns are the key columns, then the features in
  config order. Its rows' primary key is the entity key.
- **as_of.** With a ``timestamp_column``, rows whose timestamp is NULL are left out, and features
  are computed as of one instant. In a run of a time-partitioned pipeline, as_of is the end of
  the run's partition window (daily partition "2024-01-02": 2024-01-03T00:00), which belongs to
  the next partition, so only rows *before* it count (no row from the future of the partition
  reaches its features). Otherwise (no partitions, or static ones) as_of is the latest timestamp
  in the input, and every row counts. as_of is recorded in the materialization's metadata.
  Without ``timestamp_column`` there is no as_of: every row counts, partitioned run or not.
- **Windows.** A feature with ``window`` ("30m", "12h", "7d", "2w") uses only the rows of the
  window ending at as_of: timestamp in [as_of − window, as_of) in a partitioned run (a 1d window
  is exactly the run's daily partition), in (as_of − window, as_of] otherwise (the latest row is
  in). Both are exactly one window long. A window needs ``timestamp_column``. An entity with
  rows but none in a feature's window gets 0 for count and NULL for the other aggregations.
- **Aggregations** over the entity's rows (in the window): ``count`` counts rows, or the non-NULL
  values of ``column`` when one is given; ``sum``, ``mean``, ``min``, ``max`` skip NULLs (a sum of
  integers stays a 64-bit integer); ``last`` is ``column``'s value on the entity's latest row,
  NULL included — latest by timestamp, ties and tables without ``timestamp_column`` broken by the
  input's row order (the last row wins).
- **Expressions** are DuckDB SQL evaluated on each input row (they may use any input column),
  and the feature is the value on the entity's latest row, exactly as ``last`` would take a
  column: "total / nullif(items, 0)" is that ratio for the entity's latest order. With a window,
  the latest row in the window, NULL when there is none. An expression must be one expression
  (no second item, clause or statement); it runs in the same locked-down DuckDB as the query, so
  a subquery can read the input (named by its upstream block's id) and nothing else.

Identifiers from the config are checked and quoted; values (as_of, window starts) are query
parameters; only a checked expression's text reaches the SQL, in parentheses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import dagster as dg
import pyarrow as pa

from constellation_blocks import identifiers, sandboxed_duckdb
from constellation_blocks.identifiers import duckdb_quote as quote
from constellation_blocks.pipeline import Block
from constellation_blocks.rows import ExtractedRows, as_row_sets
from constellation_blocks.sandboxed_duckdb import SqlError

AGGREGATIONS = ("count", "sum", "mean", "min", "max", "last")
_FUNCTIONS = {"sum": "sum", "mean": "avg", "min": "min", "max": "max"}
_WINDOW = re.compile(r"^([1-9][0-9]*)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_POSITION = "__constellation_position"
_TIME = "__constellation_time"


@dataclass(frozen=True)
class Feature:
    """One feature of the config, checked: an expression, or an aggregation of ``column``, maybe windowed."""

    name: str
    field: str
    expression: str | None
    aggregation: str | None
    column: str | None
    window: timedelta | None


def engineer_features(context: dg.AssetExecutionContext, block: Block, rows: ExtractedRows) -> dg.Output:
    """The feature table of the block's input rows, as of the end of the run's partition window or the latest row."""
    where = f"blocks.{block.id}.config"
    [row_set] = as_row_sets(rows)
    table, as_of = feature_table(row_set, block.config, where, partition_end(context))
    context.log.info(f"Computed {len(block.config['features'])} feature(s) for {table.num_rows} entit(y/ies) as of {as_of}.")
    name = identifiers.checked(block.config["output_table"], f"{where}.output_table")
    return sandboxed_duckdb.table_output(
        table, name, block.id, primary_key=list(block.config["entity_key"]), as_of=as_of.isoformat() if as_of else None
    )


def partition_end(context: dg.AssetExecutionContext) -> datetime | None:
    """The end of the run's time partition window (exclusive), None when the run has no time partition."""
    if not (context.has_partition_key or context.has_partition_key_range):
        return None
    if not isinstance(context.assets_def.partitions_def, dg.TimeWindowPartitionsDefinition):
        return None
    return context.partition_time_window.end


def feature_table(rows: ExtractedRows, config: Mapping[str, Any], where: str, partition_end: datetime | None) -> tuple[pa.Table, datetime | None]:
    """The features of ``rows`` (one row per entity) and the as_of they were computed at."""
    keys = [identifiers.checked(k, f"{where}.entity_key") for k in config["entity_key"]]
    time_column = config.get("timestamp_column")
    features = _features(config["features"], where, time_column, keys)
    [(name, table)] = sandboxed_duckdb.input_tables([rows], where).items()
    _check_columns(table, keys, time_column, features, where)
    # Each row's place in the input, for "latest" between equal timestamps (a scan keeps no order).
    table = table.append_column(_POSITION, pa.array(range(table.num_rows), type=pa.int64()))
    with sandboxed_duckdb.sandbox({name: table}) as con:
        expressions = {f.name: sandboxed_duckdb.check_expression(con, f.expression, name, f"{f.field}.expression") for f in features if f.expression}
        time = None
        if time_column:
            time = quote(time_column) if pa.types.is_timestamp(table.schema.field(time_column).type) else f"CAST({quote(time_column)} AS TIMESTAMP)"
        as_of = _as_of(con, name, time, partition_end, table.schema.field(time_column).type if time_column else None)
        integers = {c for c in table.column_names if pa.types.is_integer(table.schema.field(c).type)}
        sql, parameters = _query(name, keys, time, features, expressions, as_of, partition_end is not None, integers)
        return sandboxed_duckdb.run_query(con, sql, f"{where}.features", parameters), as_of


def _features(raw: Any, where: str, time_column: str | None, keys: list[str]) -> list[Feature]:
    if not isinstance(raw, list) or not raw:
        raise dg.Failure(f"{where}.features must list at least one feature, e.g. [{{\"name\": \"orders_7d\", \"aggregation\": \"count\", \"window\": \"7d\"}}].")
    features: list[Feature] = []
    for index, item in enumerate(raw):
        field = f"{where}.features[{index}]"
        name = identifiers.checked(item.get("name"), f"{field}.name")
        if name in keys or name in (f.name for f in features):
            raise dg.Failure(f"{field}.name {name!r} is already a column of the feature table (an entity key or another feature); choose another name.")
        expression, aggregation, column = item.get("expression"), item.get("aggregation"), item.get("column")
        if (expression is None) == (aggregation is None):
            raise dg.Failure(f"{field} ({name}) must have either an expression or an aggregation, not {'both' if expression else 'neither'}.")
        if aggregation is not None and aggregation not in AGGREGATIONS:
            raise dg.Failure(f"{field}.aggregation is {aggregation!r}; it is one of {', '.join(AGGREGATIONS)}.")
        if expression is not None and column is not None:
            raise dg.Failure(f"{field}.column applies to aggregations; the expression of {name} names its columns itself. Remove column.")
        if aggregation not in (None, "count") and column is None:
            raise dg.Failure(f"{field} ({name}): aggregation {aggregation!r} needs column, the column it aggregates.")
        if expression is not None and (not isinstance(expression, str) or not expression.strip()):
            raise dg.Failure(f"{field}.expression must be a DuckDB SQL expression, e.g. \"total / nullif(items, 0)\".")
        window = _window(item.get("window"), f"{field}.window")
        if window is not None and not time_column:
            raise dg.Failure(f"{field}.window is set ({item['window']}) but {where}.timestamp_column is not: a window needs the column holding each row's time.")
        checked_column = identifiers.checked(column, f"{field}.column") if column is not None else None
        features.append(Feature(name, field, expression, aggregation, checked_column, window))
    return features


def _window(raw: Any, field: str) -> timedelta | None:
    if raw is None:
        return None
    match = _WINDOW.match(raw) if isinstance(raw, str) else None
    if not match:
        raise dg.Failure(f"{field} must be a number and m, h, d or w (minutes, hours, days, weeks), e.g. \"7d\"; got {raw!r}.")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _check_columns(table: pa.Table, keys: list[str], time_column: str | None, features: list[Feature], where: str) -> None:
    have = ", ".join(table.column_names)
    for key in keys:
        if key not in table.column_names:
            raise dg.Failure(f"{where}.entity_key: the input has no column {key!r}; it has: {have}.")
    if time_column:
        if time_column not in table.column_names:
            raise dg.Failure(f"{where}.timestamp_column: the input has no column {time_column!r}; it has: {have}.")
        kind = table.schema.field(time_column).type
        if not (pa.types.is_timestamp(kind) or pa.types.is_date(kind)):
            raise dg.Failure(
                f"{where}.timestamp_column {time_column!r} holds {kind}, not timestamps or dates; "
                "declare its type upstream (files_to_table columns) or cast it in a duckdb_sql_transform."
            )
    for feature in features:
        if feature.column is not None and feature.column not in table.column_names:
            raise dg.Failure(f"{feature.field}.column: feature {feature.name} aggregates column {feature.column!r}, which the input does not have; it has: {have}.")


def _as_of(con: Any, table: str, time: str | None, partition_end: datetime | None, kind: pa.DataType | None) -> datetime | None:
    if time is None:
        return None
    if partition_end is not None:
        # A column without a time zone holds wall-clock times: compare in the partitions' zone.
        return partition_end if getattr(kind, "tz", None) else partition_end.replace(tzinfo=None)
    return con.execute(f"SELECT max({time}) FROM {quote(table)}").fetchone()[0]


def _query(
    table: str, keys: list[str], time: str | None, features: list[Feature], expressions: Mapping[str, str], as_of: datetime | None, partitioned: bool,
    integers: set[str],
) -> tuple[str, dict[str, Any]]:
    parameters: dict[str, Any] = {}
    computed = [f"{time} AS {quote(_TIME)}"] if time else []
    computed += [f"{text} AS {quote('__e_' + name)}" for name, text in expressions.items()]
    filter_rows = ""
    if time:
        parameters["as_of"] = as_of
        filter_rows = f"WHERE {time} IS NOT NULL AND {time} {'<' if partitioned else '<='} $as_of"
    latest = f"({quote(_TIME)}, {quote(_POSITION)})" if time else quote(_POSITION)
    columns = []
    for index, feature in enumerate(features):
        value = quote("__e_" + feature.name) if feature.expression else quote(feature.column) if feature.column else "*"
        aggregation = "last" if feature.expression else feature.aggregation
        if aggregation == "count":
            sql = f"count({value})"
        elif aggregation == "last":
            sql = f"arg_max_null({value}, {latest})"
        else:
            sql = f"{_FUNCTIONS[aggregation]}({value})"
        if feature.window is not None:
            parameters[f"start_{index}"] = as_of - feature.window if as_of is not None else None
            sql += f" FILTER (WHERE {quote(_TIME)} {'>=' if partitioned else '>'} $start_{index})"
        if aggregation == "sum" and feature.column in integers:
            sql = f"CAST({sql} AS BIGINT)"  # DuckDB sums integers into a 128-bit integer, which Arrow makes a decimal
        columns.append(f"{sql} AS {quote(feature.name)}")
    key_list = ", ".join(map(quote, keys))
    source = f"SELECT *{''.join(', ' + c for c in computed)} FROM {quote(table)} {filter_rows}"
    return f"WITH src AS ({source}) SELECT {key_list}, {', '.join(columns)} FROM src GROUP BY {key_list} ORDER BY {key_list}", parameters

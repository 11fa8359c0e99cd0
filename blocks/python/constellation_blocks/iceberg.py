"""Iceberg table blocks: ``iceberg_table_read`` scans a table, ``iceberg_table_write`` commits rows to one.

Both are one asset with their own ``IcebergCatalog`` bound (``iceberg_catalog``: the catalog URL or
the env var holding it, the warehouse, and the S3 store's endpoint and keys). Rows leave and enter
through table ports as ``ExtractedRows`` (``arrow_rows`` converts at the edge), so every source and
sink of the library connects to them.

A partitioned run with ``partition_column`` works on its partition only: the read scans the rows
whose column falls in the run's partition; the write replaces exactly those rows in one commit
(pyiceberg's overwrite with a filter), so re-running a partition leaves the table as it was and
never touches another partition. ``iceberg_tables`` holds the schema and partition logic.
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
import pyarrow as pa

from constellation_blocks import arrow_rows
from constellation_blocks.building import BlockContext, BuiltBlock
from constellation_blocks.component import step_asset
from constellation_blocks.iceberg_catalog import IcebergCatalog, catalog_resource, describe_catalog, is_sql, safe_text, storage_failure
from constellation_blocks.iceberg_tables import arrow_schema_for_iceberg, conform, outside_partition, partition_filter
from constellation_blocks.pipeline import Block, PipelineFileError
from constellation_blocks.rows import as_row_sets


def read_table(ctx: BlockContext) -> BuiltBlock:
    """The ``iceberg_table_read`` asset: the table's rows (filtered, at a snapshot, or the run's partition)."""
    key = _resource_key(ctx)
    return step_asset(ctx, _read, key, {key: catalog_resource(ctx.pipeline, ctx.block_id)})


def write_table(ctx: BlockContext) -> BuiltBlock:
    """The ``iceberg_table_write`` asset: its input rows appended, overwritten or upserted in one commit."""
    config = ctx.block.config
    if config["mode"] == "upsert" and not config.get("key_columns"):
        raise PipelineFileError(f'{_where(ctx.block)}.key_columns must name the key column(s) when mode is "upsert", e.g. ["order_id"].')
    key = _resource_key(ctx)
    return step_asset(ctx, _write, key, {key: catalog_resource(ctx.pipeline, ctx.block_id)})


def _read(context: dg.AssetExecutionContext, block: Block, catalog: IcebergCatalog) -> dg.Output:
    from pyiceberg.expressions import AlwaysTrue, And
    from pyiceberg.expressions.parser import parse

    config, where = block.config, _where(block)
    table = _load_table(catalog.load(where, config), config, where, create_from=None)
    row_filter: Any = AlwaysTrue()
    if config.get("row_filter"):
        try:
            row_filter = parse(config["row_filter"])
        except Exception as error:  # pyparsing's ParseException, or a literal pyiceberg cannot read
            raise dg.Failure(
                f"{where}.row_filter {config['row_filter']!r} is not a pyiceberg row filter ({safe_text(error, config)}); "
                "write it like \"status = 'paid' AND order_date >= '2024-01-01'\"."
            ) from None
    partition = partition_filter(context, table.schema(), config.get("partition_column"), where)
    if partition is not None:
        row_filter = And(row_filter, partition)
    snapshot_id = int(config["snapshot_id"]) if config.get("snapshot_id") else None
    if snapshot_id is not None and table.snapshot_by_id(snapshot_id) is None:
        known = ", ".join(str(s.snapshot_id) for s in table.snapshots()[-5:]) or "none"
        raise dg.Failure(f"{where}.snapshot_id {snapshot_id} is not a snapshot of {_name(config)} (latest: {known}); omit it to read the current one.")
    with _storage(config, where, f"reading {_name(config)}"):
        try:
            data = table.scan(row_filter=row_filter, snapshot_id=snapshot_id).to_arrow()
        except ValueError as error:  # a filter on a column the table lacks, or a literal of the wrong type
            raise dg.Failure(f"{where}.row_filter {config.get('row_filter')!r} does not fit {_name(config)}: {safe_text(error, config)}") from None
    rows = arrow_rows.to_rows(data, name=config["table"], source=block.id)
    context.log.info(f"Read {data.num_rows} row(s) from {_name(config)}.")
    snapshot = table.snapshot_by_id(snapshot_id) if snapshot_id is not None else table.current_snapshot()
    return dg.Output(rows, metadata=_metadata(config, snapshot, {"dagster/row_count": data.num_rows}))


def _write(context: dg.AssetExecutionContext, block: Block, catalog: IcebergCatalog, rows: Any) -> dg.Output:
    from pyiceberg.expressions import AlwaysTrue

    config, where, mode = block.config, _where(block), block.config["mode"]
    data = _input_table(rows)
    table = _load_table(catalog.load(where, config), config, where, create_from=data.schema)
    data = conform(data, table.schema(), _name(config), where)
    partition = partition_filter(context, table.schema(), config.get("partition_column"), where)
    if partition is not None:
        outside = outside_partition(data, table.schema(), partition)
        if outside:
            raise dg.Failure(
                f"{outside} input row(s) have {where}.partition_column {config['partition_column']!r} outside partition "
                f"{context.partition_key}; a partitioned write replaces only its partition. Filter the rows upstream, "
                "or remove partition_column to write them all."
            )
    keys = list(config.get("key_columns") or []) if mode == "upsert" else []
    with _storage(config, where, f"writing {_name(config)}"):
        if mode == "upsert":
            written = _upsert(table, data, keys, config, where)
        elif partition is not None:
            with warnings.catch_warnings():
                # "Delete operation did not match any records": the partition's first run, as expected.
                warnings.simplefilter("ignore", UserWarning)
                table.overwrite(data, overwrite_filter=partition)
            written = data.num_rows
        elif mode == "overwrite":
            table.overwrite(data)
            written = data.num_rows
        else:
            table.append(data)
            written = data.num_rows
        table.refresh()
        after = table.scan(row_filter=partition if partition is not None else AlwaysTrue()).to_arrow()
    context.log.info(f"Wrote {written} row(s) to {_name(config)} ({mode if mode == 'upsert' or partition is None else 'partition overwrite'}).")
    rows_out = dataclasses.replace(arrow_rows.to_rows(after, name=config["table"], source=block.id), primary_key=keys)
    extra = {"rows_written": written, "dagster/row_count": after.num_rows}
    return dg.Output(rows_out, metadata=_metadata(config, table.current_snapshot(), extra))


def _upsert(table: Any, data: pa.Table, keys: list[str], config: Mapping[str, Any], where: str) -> int:
    missing = [k for k in keys if k not in data.column_names]
    if missing:
        raise dg.Failure(f"{where}.key_columns names {missing[0]!r}, which is not a column of {_name(config)}; name key columns the table has.")
    if data.num_rows == 0:
        return 0
    try:
        result = table.upsert(data, join_cols=keys)
    except ValueError as error:
        if "Duplicate" in str(error):
            raise dg.Failure(f"the input holds a key of {where}.key_columns {keys} more than once; an upsert takes each key once.") from None
        raise
    return result.rows_updated + result.rows_inserted


def _load_table(catalog: Any, config: Mapping[str, Any], where: str, create_from: pa.Schema | None) -> Any:
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError, TableAlreadyExistsError

    identifier = (*config["namespace"].split("."), config["table"])
    try:
        return catalog.load_table(identifier)
    except (NoSuchTableError, NoSuchNamespaceError):
        pass
    except OSError as error:  # the table's metadata file, read from the store
        raise storage_failure(error, config, where, f"loading {_name(config)}") from None
    except Exception as error:
        raise dg.Failure(f"cannot load {_name(config)} from the Iceberg catalog {describe_catalog(config, where)}: {safe_text(error, config)}") from None
    at = f"in the Iceberg catalog {describe_catalog(config, where)}"
    if create_from is None:
        raise dg.Failure(f"table {_name(config)} does not exist {at}; correct {where}.namespace / {where}.table, or write it first (iceberg_table_write).")
    if not config["create_table_if_missing"]:
        raise dg.Failure(
            f"table {_name(config)} does not exist {at}; set {where}.create_table_if_missing to true to create it "
            f"from the input's columns, or correct {where}.namespace / {where}.table."
        )
    sql_catalog = bool(config.get("catalog_uri_secret")) or is_sql(config.get("catalog_uri") or "")
    if sql_catalog and not config.get("warehouse"):
        raise dg.Failure(f"creating {_name(config)} in a SQL catalog needs {where}.warehouse, e.g. \"s3://lake/warehouse\".")
    with _storage(config, where, f"creating {_name(config)}"):
        catalog.create_namespace_if_not_exists(identifier[:-1])
        try:
            return catalog.create_table(identifier, schema=arrow_schema_for_iceberg(create_from))
        except TableAlreadyExistsError:
            # Another run created it since we looked: a backfill's first runs start together.
            # (A commit that meets another run's is retried by pyiceberg itself, on the table as it is then.)
            return catalog.load_table(identifier)


def _input_table(rows: Any) -> pa.Table:
    tables = [arrow_rows.to_arrow(row_set) for row_set in as_row_sets(rows)]
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="permissive")


@contextlib.contextmanager
def _storage(config: Mapping[str, Any], where: str, doing: str) -> Iterator[None]:
    """Turns pyarrow's S3 errors into failures naming the endpoint or key fields."""
    try:
        yield
    except OSError as error:
        raise storage_failure(error, config, where, doing) from None


def _metadata(config: Mapping[str, Any], snapshot: Any, extra: dict[str, Any]) -> dict[str, Any]:
    # The id as text: 64-bit ids lose digits in JSON readers that parse numbers as doubles.
    return {"table": _name(config), "snapshot_id": str(snapshot.snapshot_id) if snapshot else "none", **extra}


def _name(config: Mapping[str, Any]) -> str:
    return f"{config['namespace']}.{config['table']}"


def _resource_key(ctx: BlockContext) -> str:
    return f"{ctx.pipeline.group}__{ctx.block_id}_iceberg"


def _where(block: Block) -> str:
    return f"blocks.{block.id}.config"

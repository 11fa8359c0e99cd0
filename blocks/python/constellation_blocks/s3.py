"""S3-compatible storage blocks: ``s3_files`` lists objects, ``s3_files_write`` writes a table as a file.

Both are one asset with their own ``S3Store`` bound (endpoint, region, and keys as ``dg.EnvVar``s
named by the config's ``*_secret`` fields), and both output a ``files`` port: references to
objects, never their bytes (``s3_store`` describes the shape). ``files_to_table`` reads them.

``s3_files`` lists at run time, not at load: the definitions never call the store, so a pipeline
loads with the store down, and each run sees the bucket as it is then.
"""

from __future__ import annotations

import csv
import io
import json
from base64 import b64encode
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
from botocore.exceptions import BotoCoreError, ClientError

from constellation_blocks import arrow_rows, column_types
from constellation_blocks.building import BlockContext, BuiltBlock
from constellation_blocks.component import step_asset
from constellation_blocks.pipeline import Block, PipelineFileError
from constellation_blocks.rows import as_row_sets
from constellation_blocks.s3_store import S3Store, failure, file_ref, key_matcher, store_resource

FORMATS = {"parquet": "parquet", "csv": "csv", "jsonl": "jsonl"}
"""Write format → file extension."""


def list_files(ctx: BlockContext) -> BuiltBlock:
    """The ``s3_files`` asset: the objects under ``prefix`` whose keys (below the prefix) match ``pattern``."""
    _check_prefix(ctx)
    key = _resource_key(ctx)
    return step_asset(ctx, _list, key, {key: store_resource(ctx.pipeline, ctx.block_id)})


def write_files(ctx: BlockContext) -> BuiltBlock:
    """The ``s3_files_write`` asset: its input rows written as one object per run (per partition when partitioned)."""
    _check_prefix(ctx)
    if ctx.block.config["format"] not in FORMATS:
        raise PipelineFileError(f"{_where(ctx.block)}.format must be one of {', '.join(FORMATS)}, got {ctx.block.config['format']!r}.")
    key = _resource_key(ctx)
    return step_asset(ctx, _write, key, {key: store_resource(ctx.pipeline, ctx.block_id)})


def _list(context: dg.AssetExecutionContext, block: Block, store: S3Store) -> dg.Output:
    config = block.config
    prefix = _for_partition(context, block, "prefix")
    pattern = _for_partition(context, block, "pattern")
    matches = key_matcher(pattern)
    found: list[dict[str, Any]] = []
    try:
        pages = store.client().get_paginator("list_objects_v2").paginate(Bucket=config["bucket"], Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                if matches.fullmatch(item["Key"][len(prefix) :]):
                    found.append(file_ref(config, item["Key"], item["Size"], item["ETag"]))
    except (ClientError, BotoCoreError) as error:
        raise failure(error, _where(block), config, f"listing s3://{config['bucket']}/{prefix}") from error
    context.log.info(f"{len(found)} object(s) under s3://{config['bucket']}/{prefix} match {pattern!r}.")
    return dg.Output(found, metadata=_files_metadata(found))


PARTITION_PLACEHOLDER = "{partition}"
"""Replaced in ``prefix`` and ``pattern`` by the run's partition key: a daily run lists its day's files."""


def _for_partition(context: dg.AssetExecutionContext, block: Block, field: str) -> str:
    """The config ``field`` with ``{partition}`` replaced by the run's partition key (plain text replacement, no format())."""
    value = block.config[field]
    if PARTITION_PLACEHOLDER not in value:
        return value
    if not context.has_partition_key:
        raise dg.Failure(
            f"{_where(block)}.{field} contains {PARTITION_PLACEHOLDER} but this run has no partition: "
            "give the pipeline partitions, or remove the placeholder."
        )
    return value.replace(PARTITION_PLACEHOLDER, context.partition_key)


def _write(context: dg.AssetExecutionContext, block: Block, store: S3Store, rows: Any) -> dg.Output:
    config = block.config
    row_sets = as_row_sets(rows)
    # One object per run, or per partition: re-running a partition overwrites its file (idempotent).
    stem = context.partition_key if context.has_partition_key else context.run.run_id
    client = store.client()
    written = []
    for index, row_set in enumerate(row_sets):
        suffix = f"-{row_set.source or index}" if len(row_sets) > 1 else ""
        key = f"{config['prefix']}{stem}{suffix}.{FORMATS[config['format']]}"
        body = encode(arrow_rows.to_arrow(row_set), config["format"])
        try:
            answer = client.put_object(Bucket=config["bucket"], Key=key, Body=body)
        except (ClientError, BotoCoreError) as error:
            raise failure(error, _where(block), config, f"writing s3://{config['bucket']}/{key}") from error
        written.append(file_ref(config, key, len(body), answer.get("ETag", "")))
        context.log.info(f"Wrote {len(row_set.rows)} row(s) to s3://{config['bucket']}/{key} ({config['format']}).")
    return dg.Output(written, metadata=_files_metadata(written))


def encode(table: pa.Table, fmt: str) -> bytes:
    """``table`` as the bytes of a Parquet, CSV (header row) or JSON Lines file."""
    sink = io.BytesIO()
    if fmt == "parquet":
        pq.write_table(table, sink)
    elif fmt == "csv":
        # Python's csv writer, not Arrow's: Arrow's refuses some column types (binary, time).
        text = io.StringIO(newline="")
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(table.column_names)
        for row in zip(*(table.column(c).to_pylist() for c in table.column_names)):
            writer.writerow(["" if v is None else _text(v) for v in row])
        sink.write(text.getvalue().encode("utf-8"))
    else:
        for record in table.to_pylist():
            sink.write(json.dumps(record, ensure_ascii=False, default=_text, separators=(",", ":")).encode("utf-8") + b"\n")
    return sink.getvalue()


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return b64encode(value).decode("ascii")  # readable in any text format, and reversible
    if isinstance(value, bool):
        return "true" if value else "false"  # as JSON and Arrow's CSV reader spell it
    text = column_types.to_text(value)
    return text if isinstance(text, str) else str(text)


def _files_metadata(files: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "files": len(files),
        "bytes": sum(f["size"] for f in files),
        # The first few, so the Dagster UI shows what was found without storing a huge list.
        "first_files": dg.MetadataValue.json([f["uri"] for f in files[:20]]),
    }


def _check_prefix(ctx: BlockContext) -> None:
    prefix = ctx.block.config["prefix"]
    if not isinstance(prefix, str) or prefix.startswith("/"):
        raise PipelineFileError(f'{_where(ctx.block)}.prefix must be a key prefix without a leading "/", e.g. "exports/orders/"; got {prefix!r}.')


def _resource_key(ctx: BlockContext) -> str:
    return f"{ctx.pipeline.group}__{ctx.block_id}_s3"


def _where(block: Block) -> str:
    return f"blocks.{block.id}.config"

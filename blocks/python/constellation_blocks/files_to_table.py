"""``files_to_table``: the CSV, JSON Lines and Parquet files a ``files`` port names, read into one table.

The files are fetched from the store each reference points into (endpoint, region, and the names
of the env vars holding its keys come along in the reference; see ``s3_store``), parsed with
pyarrow, and stacked into one table that leaves through the table port as ``ExtractedRows``, like
an extract's rows, so every sink takes it. Each file is read whole into memory: the block is for
the files a pipeline drops and picks up, not for a lake too big for one process.

Columns are inferred per file, and files that disagree are unified (an integer column in one file
and a float one in another become float). Declared ``columns`` fix the table instead: exactly
those columns, in that order, cast to the declared types; a file without one of them, or with a
value that does not fit, fails the run naming the column and the file.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq
from botocore.exceptions import BotoCoreError, ClientError

from constellation_blocks import arrow_rows
from constellation_blocks.pipeline import Block
from constellation_blocks.s3_store import client_for_ref, failure

COLUMN_TYPES: Mapping[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "float": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
}
"""The types a declared column may have (the manifest's enum), as Arrow types."""

EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
"""How ``format: "auto"`` picks a file's format from the end of its key."""


def read_table(context: dg.AssetExecutionContext, block: Block, files: Any) -> dg.Output:
    """Reads every file of the ``files`` port (one list, or a list per upstream) into one table."""
    config, where = block.config, f"blocks.{block.id}.config"
    declared = _declared(config.get("columns"), where)
    refs = _refs(files)
    tables = []
    for ref in refs:
        table = _parse(_fetch(ref, where), _format(ref, config["format"], where), declared)
        if declared is not None:
            table = _conform(table, declared, ref["uri"], where)
        if config.get("source_file_column"):
            table = _with_source(table, config["source_file_column"], ref["uri"], where)
        tables.append(table)
    table = _stack(tables, declared, config.get("source_file_column"), where)
    context.log.info(f"Read {table.num_rows} row(s) from {len(refs)} file(s).")
    rows = arrow_rows.to_rows(table, name=block.id, source=block.id)
    summary = {"files": len(refs), "rows": table.num_rows, "columns": dg.MetadataValue.json(dict(zip(rows.columns, rows.column_types)))}
    return dg.Output(rows, metadata={**summary, "dagster/row_count": table.num_rows})


def _refs(files: Any) -> list[Mapping[str, Any]]:
    # A multiple port hands one list per upstream block; a single one, the list itself.
    items = [ref for group in files for ref in group] if files and isinstance(files[0], list) else list(files or [])
    for ref in items:
        if not isinstance(ref, Mapping) or not {"bucket", "key", "endpoint", "credentials"} <= set(ref):
            raise TypeError(f"expected file references from an s3_files or s3_files_write block, got {type(ref).__name__}")
    return items


def _declared(columns: Any, where: str) -> dict[str, pa.DataType] | None:
    if columns is None:
        return None
    if not isinstance(columns, Mapping) or not columns:
        raise dg.Failure(f'{where}.columns must map column names to types, e.g. {{"id": "integer", "name": "string"}}, or be left out to infer them.')
    unknown = {name: kind for name, kind in columns.items() if kind not in COLUMN_TYPES}
    if unknown:
        name, kind = next(iter(unknown.items()))
        raise dg.Failure(f"{where}.columns.{name} is {kind!r}; a declared type is one of {', '.join(COLUMN_TYPES)}.")
    return {name: COLUMN_TYPES[kind] for name, kind in columns.items()}


def _format(ref: Mapping[str, Any], configured: str, where: str) -> str:
    if configured != "auto":
        return configured
    key = ref["key"].lower()
    for extension, fmt in EXTENSIONS.items():
        if key.endswith(extension):
            return fmt
    raise dg.Failure(f"{ref['uri']}: cannot tell its format from the name; set {where}.format to csv, jsonl or parquet.")


def _fetch(ref: Mapping[str, Any], where: str) -> bytes:
    client = client_for_ref(ref)
    try:
        return client.get_object(Bucket=ref["bucket"], Key=ref["key"])["Body"].read()
    except (ClientError, BotoCoreError) as error:
        # The store's settings are the listing block's: name its fields, not this block's.
        settings = {"bucket": ref["bucket"], "endpoint": ref["endpoint"]}
        settings.update({f"{part}_secret": name for part, name in ref["credentials"].items()})
        raise failure(error, "the listing block's config", settings, f"reading {ref['uri']}") from error


def _parse(body: bytes, fmt: str, declared: Mapping[str, pa.DataType] | None) -> pa.Table:
    source = io.BytesIO(body)
    try:
        if fmt == "csv":
            # Declared columns are read as text and cast after, so the cast error names the column
            # and "007" declared as string stays "007" instead of passing through an integer.
            # An empty field is NULL, as s3_files_write writes NULL: CSV has no other spelling of it.
            convert = pa_csv.ConvertOptions(column_types={name: pa.string() for name in declared or {}}, strings_can_be_null=True)
            return pa_csv.read_csv(source, convert_options=convert)
        if fmt == "jsonl":
            return pa_json.read_json(source)
        return pq.read_table(source)
    except pa.ArrowInvalid as error:
        raise dg.Failure(f"not a readable {fmt} file: {error}") from None


def _conform(table: pa.Table, declared: Mapping[str, pa.DataType], uri: str, where: str) -> pa.Table:
    missing = [name for name in declared if name not in table.column_names]
    if missing:
        raise dg.Failure(
            f"{uri} has no column {missing[0]!r} declared in {where}.columns.{missing[0]}; "
            f"it has: {', '.join(table.column_names)}. Remove it from columns or fix the file."
        )
    arrays = []
    for name, target in declared.items():
        try:
            arrays.append(pc.cast(table.column(name), target))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
            raise dg.Failure(
                f"{uri}: column {name!r} does not fit its declared type {target} ({where}.columns.{name}): {error}. "
                "Declare the type its values have, or \"string\"."
            ) from None
    return pa.Table.from_arrays(arrays, names=list(declared))


def _with_source(table: pa.Table, column: str, uri: str, where: str) -> pa.Table:
    if column in table.column_names:
        raise dg.Failure(f"{where}.source_file_column {column!r} is already a column of {uri}; choose another name.")
    return table.append_column(pa.field(column, pa.string(), nullable=False), pa.array([uri] * table.num_rows, type=pa.string()))


def _stack(tables: list[pa.Table], declared: Mapping[str, pa.DataType] | None, source_column: str | None, where: str) -> pa.Table:
    if not tables:
        if declared is None:
            raise dg.Failure(f"no files to read, so no columns to infer: declare {where}.columns to get an empty table when nothing matches.")
        fields = [pa.field(name, kind) for name, kind in declared.items()]
        if source_column:
            fields.append(pa.field(source_column, pa.string(), nullable=False))
        return pa.schema(fields).empty_table()
    try:
        # "permissive" unifies what files infer differently (int64 with double, a column missing in one file).
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise dg.Failure(f"the files disagree on column types ({error}); declare {where}.columns to fix them.") from None

"""The IO manager of every compiled pipeline: values between assets as files every process can reach.

Dagster's default IO manager pickles each asset's value under ``DAGSTER_HOME/storage``: customer
rows on the local disk of whichever machine ran the step, in a format only this Python can read,
and out of reach as soon as steps run in other processes or containers. This one writes table
ports as Parquet and other ports as JSON (``table_codec``) to the environment's table storage:

- a folder (the development default: ``<data folder>/table-data/<environment>``, set by
  ``npm run dagster``), or
- a prefix of an S3-compatible bucket (``s3://bucket/prefix``), which every run worker and code
  server of a cluster reaches.

Each Dagster deployment says which by its environment variables, read when a location loads:

- ``CONSTELLATION_TABLE_STORAGE``: a folder path or ``s3://bucket/prefix``; unset, a folder
  ``table-data`` under ``DAGSTER_HOME`` (still no pickles, for a location loaded by hand);
- with S3, ``CONSTELLATION_TABLE_STORAGE_ENDPOINT`` (the S3 API URL),
  ``CONSTELLATION_TABLE_STORAGE_REGION`` (default ``us-east-1``) and the keys in
  ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``, read at run time, never stored in config.

A value lives at ``<asset key path>.<parquet|json>``, or ``<asset key path>/<partition>.<ext>``
for a partitioned asset, so re-running a partition replaces exactly its file. Assets that output
nothing (dbt models, dlt tables, checks) write nothing.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from constellation_blocks import table_codec

STORAGE_ENV = "CONSTELLATION_TABLE_STORAGE"
ENDPOINT_ENV = "CONSTELLATION_TABLE_STORAGE_ENDPOINT"
REGION_ENV = "CONSTELLATION_TABLE_STORAGE_REGION"

_EXTENSIONS = ("parquet", "json")
_MISSING = object()


class TableIOManager(dg.ConfigurableIOManager):
    """Stores asset values as Parquet (tables) or JSON (plain data) under ``base``: a folder or ``s3://bucket/prefix``."""

    base: str = Field(description="Folder path, or s3://bucket/prefix, that holds the values.")
    endpoint_url: str | None = Field(default=None, description="S3 API URL when base is s3://…")
    region: str = Field(default="us-east-1", description="Region name the S3 store expects.")
    access_key_id: str | None = Field(default=None, description="S3 access key id (from an env var).")
    secret_access_key: str | None = Field(default=None, description="S3 secret access key (from an env var).")

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if obj is None:
            return
        if table_codec.is_table(obj):
            data, extension = table_codec.table_to_parquet(obj), "parquet"
        else:
            data, extension = table_codec.value_to_json(obj), "json"
        store, partition = self._store(), context.partition_key if context.has_partition_key else None
        path = self._path(context, partition, extension)
        store.write(path, data)
        # The other format's file of an earlier run would otherwise shadow this one on load.
        store.delete(self._path(context, partition, _other(extension)))
        context.add_output_metadata({"stored_at": dg.MetadataValue.path(store.uri(path))})

    def load_input(self, context: dg.InputContext) -> Any:
        upstream, store = context.upstream_output, self._store()
        keys = list(context.asset_partition_keys) if context.has_asset_partitions else [None]
        # One store (one S3 client) for every partition read.
        values = [v for key in keys if (v := _load(store, [self._path(upstream, key, ext) for ext in _EXTENSIONS])) is not _MISSING]
        # An unpartitioned asset reading a partitioned one asks for every partition to date: it
        # gets the ones materialized so far, stacked. One asked-for partition must be there.
        if not values:
            what = f"partition {keys[0]} of " if len(keys) == 1 and keys[0] else ("any partition of " if keys[0] else "")
            raise dg.Failure(
                f"No stored value for {what}{upstream.asset_key.to_user_string()} in {store.uri('')}: "
                "materialize that asset (or partition) first, in this environment."
            )
        return table_codec.concat(values)

    def _path(self, context: dg.OutputContext, partition: str | None, extension: str) -> str:
        parts = list(context.asset_key.path)
        return "/".join([*parts, f"{partition}.{extension}"] if partition else [*parts[:-1], f"{parts[-1]}.{extension}"])

    def _store(self) -> Any:
        if self.base.startswith("s3://"):
            from constellation_blocks.table_io_s3 import S3Folder  # boto3 only where S3 is used

            return S3Folder(self.base, self.endpoint_url, self.region, self.access_key_id, self.secret_access_key)
        return LocalFolder(self.base)


class LocalFolder:
    """Values as files under one folder; a write goes to a temporary file first, so a reader never sees half of one."""

    def __init__(self, base: str):
        self.root = Path(base)

    def write(self, path: str, data: bytes) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        partial.write_bytes(data)
        partial.replace(target)

    def read(self, path: str) -> bytes | None:
        try:
            return (self.root / path).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, path: str) -> None:
        (self.root / path).unlink(missing_ok=True)

    def uri(self, path: str) -> str:
        return str(self.root / path)


def _load(store: Any, paths: Any) -> Any:
    """The value at the first of ``paths`` (one per format) that holds one, else ``_MISSING``."""
    for path in paths:
        data = store.read(path)
        if data is not None:
            return table_codec.parquet_to_table(data) if path.endswith(".parquet") else table_codec.json_to_value(data)
    return _MISSING


def _other(extension: str) -> str:
    return _EXTENSIONS[1 - _EXTENSIONS.index(extension)]


@cache
def _manager_for(base: str, endpoint_url: str | None, region: str) -> TableIOManager:
    if not base.startswith("s3://"):
        return TableIOManager(base=base)
    if not endpoint_url:
        raise ValueError(f"{STORAGE_ENV} is {base}: set {ENDPOINT_ENV} to the S3 API URL of that bucket.")
    return TableIOManager(
        base=base,
        endpoint_url=endpoint_url,
        region=region,
        access_key_id=dg.EnvVar("AWS_ACCESS_KEY_ID"),
        secret_access_key=dg.EnvVar("AWS_SECRET_ACCESS_KEY"),
    )


def io_manager_from_env() -> TableIOManager:
    """The IO manager this Dagster deployment's environment variables choose (see the module docstring).

    One instance per setting: every pipeline component of a shard binds it as ``io_manager``, and
    Dagster merges their definitions only when the resource is the very same object.
    """
    base = os.environ.get(STORAGE_ENV) or str(Path(os.environ.get("DAGSTER_HOME") or ".") / "table-data")
    if not base.startswith("s3://"):
        base = str(Path(base).resolve())  # the folder a run worker sees, whatever its working directory
    return _manager_for(base, os.environ.get(ENDPOINT_ENV) or None, os.environ.get(REGION_ENV) or "us-east-1")

"""The Iceberg catalog an ``iceberg_table_*`` block names, and the run failures its errors become.

A block's config names the catalog by ``catalog_uri`` (an Iceberg REST catalog's URL, or
``sqlite:////abs/path.db`` for a SQL catalog in a SQLite file) or by ``catalog_uri_secret`` (the env
var holding a SQL catalog URL with credentials, e.g. ``postgresql+psycopg2://user:pw@host/db``).
``IcebergCatalog`` carries those settings, with the S3 keys and the secret URL as ``dg.EnvVar``s
resolved when the run starts: no key or password ever sits in config, a port or a materialization.

Every failure names the config field that fixes it (``where`` is "blocks.<id>.config").
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from pydantic import Field

from constellation_blocks.pipeline import PipelineFileError

CATALOG_NAME = "default"
"""The name tables are registered under in a SQL catalog (pyiceberg's default): another engine reading the catalog uses it too."""

_BAD_KEYS = ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "ACCESS_DENIED", "InvalidClientTokenId", "HTTP response code: 403")
_UNREACHABLE = ("curlCode: 7", "Couldn't connect", "Connection refused", "NETWORK_CONNECTION", "Could not resolve host")


class IcebergCatalog(dg.ConfigurableResource):
    """One Iceberg catalog and the S3-compatible store behind its tables (keys set from ``dg.EnvVar``s)."""

    uri: str = Field(description="REST catalog URL or SQL catalog URL (from config, or from the env var catalog_uri_secret names).")
    warehouse: str | None = Field(default=None, description="Where new tables go, e.g. s3://lake/warehouse.")
    s3_endpoint: str | None = Field(default=None, description="S3-compatible endpoint of the data files.")
    region: str = Field(description="S3 region name.")
    access_key_id: str = Field(description="The S3 access key id.")
    secret_access_key: str = Field(description="The S3 secret access key.")

    def load(self, where: str, config: Mapping[str, Any]) -> Any:
        """The pyiceberg catalog; a failure naming ``where``'s catalog fields when it cannot be opened."""
        # pyarrow's S3 client asks the EC2 metadata service for a region or keys it already has; here that only hangs.
        os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
        properties = {
            "s3.region": self.region,
            "s3.access-key-id": self.access_key_id,
            "s3.secret-access-key": self.secret_access_key,
            # Path-style: Garage, MinIO and moto serve buckets under the endpoint's path.
            "s3.force-virtual-addressing": "false",
            "s3.connect-timeout": "5",
            "py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO",
        }
        if self.s3_endpoint:
            properties["s3.endpoint"] = self.s3_endpoint
        if self.warehouse:
            properties["warehouse"] = self.warehouse
        try:
            if is_sql(self.uri):
                from pyiceberg.catalog.sql import SqlCatalog

                return SqlCatalog(CATALOG_NAME, uri=self.uri, **properties)
            from pyiceberg.catalog.rest import RestCatalog

            return RestCatalog(CATALOG_NAME, uri=self.uri, **properties)
        except Exception as error:  # SQLAlchemy, requests and pyiceberg each raise their own
            raise dg.Failure(f"cannot open the Iceberg catalog {describe_catalog(config, where)}: {safe_text(error, config)}") from None


def is_sql(uri: str) -> bool:
    """Whether ``uri`` names a SQL catalog (SQLAlchemy URL) rather than a REST catalog."""
    return uri.startswith(("sqlite:", "postgresql:", "postgresql+", "mysql:", "mysql+"))


def catalog_resource(pipeline: Any, block_id: str) -> IcebergCatalog:
    """The block's catalog from its config; the secret URL and the S3 keys are ``dg.EnvVar``s named by its ``*_secret`` fields."""
    config = pipeline.block(block_id).config
    where = f"blocks.{block_id}.config"
    uri = config.get("catalog_uri")
    if (uri is None) == (config.get("catalog_uri_secret") is None):
        raise PipelineFileError(
            f"{where}: give exactly one of catalog_uri (a REST catalog URL, or sqlite:////abs/path.db) and "
            "catalog_uri_secret (the env var holding a SQL catalog URL with credentials)."
        )
    return IcebergCatalog(
        uri=uri if uri is not None else pipeline.secret(block_id, "catalog_uri_secret"),
        warehouse=config.get("warehouse"),
        s3_endpoint=config.get("s3_endpoint_url"),
        region=config["region"],
        access_key_id=pipeline.secret(block_id, "access_key_id_secret"),
        secret_access_key=pipeline.secret(block_id, "secret_access_key_secret"),
    )


def describe_catalog(config: Mapping[str, Any], where: str) -> str:
    """The catalog as an error message may show it: its URL from config, or only the env var name for a secret URL."""
    if config.get("catalog_uri"):
        return f"{config['catalog_uri']} ({where}.catalog_uri)"
    return f"in environment variable {config.get('catalog_uri_secret')} ({where}.catalog_uri_secret)"


def safe_text(error: BaseException, config: Mapping[str, Any]) -> str:
    """The error's first line, with the secret catalog URL (and its password) cut out if it appears."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    secret = os.environ.get(str(config.get("catalog_uri_secret") or ""), "")
    return text.replace(secret, "<catalog_uri_secret>") if secret else text


def storage_failure(error: OSError, config: Mapping[str, Any], where: str, doing: str) -> dg.Failure:
    """A run failure for an error of pyarrow's S3 file IO, naming the field that would fix it."""
    text = str(error)
    if any(code in text for code in _BAD_KEYS):
        names = f"{config['access_key_id_secret']} / {config['secret_access_key_secret']}"
        return dg.Failure(
            f"{doing}: the S3 store refused the keys; check the environment variables {names} named by "
            f"{where}.access_key_id_secret and {where}.secret_access_key_secret."
        )
    if any(code in text for code in _UNREACHABLE):
        return dg.Failure(f"{doing}: cannot reach the S3 store at {config.get('s3_endpoint_url')} ({where}.s3_endpoint_url); is it running there?")
    if "NoSuchBucket" in text or "bucket does not exist" in text.lower():
        return dg.Failure(f"{doing}: the bucket of the table's location does not exist ({where}.warehouse); create it or correct the warehouse.")
    return dg.Failure(f"{doing}: {safe_text(error, config)} (check {where}.s3_endpoint_url and {where}.region)")

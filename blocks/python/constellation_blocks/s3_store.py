"""An S3-compatible store (Garage, MinIO, AWS, moto) and what a ``files`` port carries between assets.

A ``files`` port carries references, never contents: a list of plain dicts, one per object,

    {"bucket": "raw-data", "key": "exports/orders/a.csv", "size": 1234, "etag": "…",
     "uri": "s3://raw-data/exports/orders/a.csv", "endpoint": "http://garage:3900",
     "region": "garage", "credentials": {"access_key_id": "AWS_ACCESS_KEY_ID",
                                          "secret_access_key": "AWS_SECRET_ACCESS_KEY"}}

Small and picklable, so whatever IO manager passes values between assets stores a few hundred bytes
per file instead of the data, and a reader in another process fetches the objects itself. The
``credentials`` are the *names* of the environment variables that hold the keys (from the
producing block's config), resolved where the reader runs; no key value ever sits in a port, a
pipeline.json or a materialization.

Errors name the config field to fix: a missing bucket names ``bucket``, refused keys name the
``*_secret`` fields (and the env vars they point at), an unreachable store names ``endpoint_url``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import boto3
import dagster as dg
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from pydantic import Field

# Path-style addressing: Garage, MinIO and moto serve buckets under the endpoint's path, and a
# bucket name with dots breaks virtual-host TLS. Few retries and short timeouts: a wrong endpoint
# should fail the run in seconds with a message, not after boto3's default back-off.
_CLIENT_CONFIG = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=60)
_BAD_KEYS = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidClientTokenId", "AuthorizationHeaderMalformed"}


class S3Store(dg.ConfigurableResource):
    """One S3-compatible endpoint and the keys to it (set from ``dg.EnvVar``s, read at run time)."""

    endpoint_url: str = Field(description="Base URL of the S3-compatible API.")
    region: str = Field(description="Region name the store expects.")
    access_key_id: str = Field(description="The access key id.")
    secret_access_key: str = Field(description="The secret access key.")

    def client(self) -> Any:
        """A boto3 S3 client for this store."""
        return make_client(self.endpoint_url, self.region, self.access_key_id, self.secret_access_key)


def make_client(endpoint_url: str, region: str, access_key_id: str, secret_access_key: str) -> Any:
    """A boto3 S3 client, path-style, with short timeouts."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=_CLIENT_CONFIG,
    )


def store_resource(pipeline: Any, block_id: str) -> S3Store:
    """The block's store from its config; the keys are ``dg.EnvVar``s named by its ``*_secret`` fields."""
    config = pipeline.block(block_id).config
    return S3Store(
        endpoint_url=config["endpoint_url"],
        region=config["region"],
        access_key_id=pipeline.secret(block_id, "access_key_id_secret"),
        secret_access_key=pipeline.secret(block_id, "secret_access_key_secret"),
    )


def file_ref(config: Mapping[str, Any], key: str, size: int, etag: str) -> dict[str, Any]:
    """The reference to one object, as a ``files`` port carries it (see the module docstring)."""
    return {
        "bucket": config["bucket"],
        "key": key,
        "size": size,
        "etag": etag.strip('"'),
        "uri": f"s3://{config['bucket']}/{key}",
        "endpoint": config["endpoint_url"],
        "region": config["region"],
        "credentials": {"access_key_id": config["access_key_id_secret"], "secret_access_key": config["secret_access_key_secret"]},
    }


def client_for_ref(ref: Mapping[str, Any]) -> Any:
    """A client for the store a reference points into, its keys read now from the env vars it names."""
    keys = []
    for part in ("access_key_id", "secret_access_key"):
        name = ref["credentials"][part]
        value = os.environ.get(name)
        if not value:
            raise dg.Failure(
                f"environment variable {name} is not set: {ref['uri']} was listed by a block whose config.{part}_secret names it; "
                "set it where the pipeline runs, or point that field at the variable that holds the key."
            )
        keys.append(value)
    return make_client(ref["endpoint"], ref["region"], *keys)


def failure(error: Exception, where: str, config: Mapping[str, Any], doing: str) -> dg.Failure:
    """A run failure for a boto3 error, naming the config field (under ``where``) that would fix it."""
    bucket, endpoint = config.get("bucket"), config.get("endpoint_url") or config.get("endpoint")
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code == "NoSuchBucket":
            return dg.Failure(f'{doing}: bucket "{bucket}" does not exist at {endpoint} ({where}.bucket); create it or correct the name.')
        if code in ("NoSuchKey", "404"):
            return dg.Failure(f"{doing}: the object is gone (deleted since it was listed?); run the listing block again.")
        if code in _BAD_KEYS or code == "403":
            names = f"{config.get('access_key_id_secret', '?')} / {config.get('secret_access_key_secret', '?')}"
            return dg.Failure(
                f"{doing}: the store at {endpoint} refused the keys ({code}); check the environment variables {names} "
                f"named by {where}.access_key_id_secret and {where}.secret_access_key_secret."
            )
        return dg.Failure(f"{doing}: {code or 'error'} from {endpoint}: {error}")
    if isinstance(error, EndpointConnectionError):
        return dg.Failure(f"{doing}: cannot reach {endpoint} ({where}.endpoint_url); is the store running there?")
    if isinstance(error, BotoCoreError):
        return dg.Failure(f"{doing}: {error} (check {where}.endpoint_url and {where}.region)")
    raise error


def key_matcher(pattern: str) -> re.Pattern[str]:
    """A regex for a key glob: ``*`` and ``?`` stay within one path segment, ``**`` crosses segments.

    ``**/`` also matches no folder at all, so "**/*.csv" finds "a.csv" and "x/y/a.csv". Every other
    character is literal: the pattern is user text and must never become regex syntax.
    """
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            parts.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            parts.append(".*")
            i += 2
        elif pattern[i] == "*":
            parts.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            parts.append("[^/]")
            i += 1
        else:
            parts.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(parts), re.DOTALL)

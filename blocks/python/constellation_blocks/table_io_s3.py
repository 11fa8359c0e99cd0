"""Asset values in a prefix of an S3-compatible bucket: the table storage every process of a cluster reaches."""

from __future__ import annotations

from typing import Any

import dagster as dg
from botocore.exceptions import BotoCoreError, ClientError

from constellation_blocks.s3_store import make_client


class S3Folder:
    """``s3://bucket/prefix`` as a folder of values; errors name the environment variables to fix."""

    def __init__(self, base: str, endpoint_url: str | None, region: str, access_key_id: str | None, secret_access_key: str | None):
        bucket, _, prefix = base.removeprefix("s3://").partition("/")
        self.bucket, self.prefix, self.endpoint_url = bucket, prefix.strip("/"), endpoint_url
        self._client = make_client(endpoint_url, region, access_key_id, secret_access_key)

    def write(self, path: str, data: bytes) -> None:
        self._call("writing", path, lambda key: self._client.put_object(Bucket=self.bucket, Key=key, Body=data))

    def read(self, path: str) -> bytes | None:
        def get(key: str) -> bytes | None:
            try:
                return self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            except ClientError as error:
                if str(error.response.get("Error", {}).get("Code")) in ("NoSuchKey", "404"):
                    return None
                raise

        return self._call("reading", path, get)

    def delete(self, path: str) -> None:
        self._call("deleting", path, lambda key: self._client.delete_object(Bucket=self.bucket, Key=key))

    def uri(self, path: str) -> str:
        return f"s3://{self.bucket}/{self._key(path)}"

    def _key(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def _call(self, doing: str, path: str, action: Any) -> Any:
        try:
            return action(self._key(path))
        except (ClientError, BotoCoreError) as error:
            raise dg.Failure(
                f"{doing} {self.uri(path)} at {self.endpoint_url} failed ({error}); the table storage is set by "
                "CONSTELLATION_TABLE_STORAGE, CONSTELLATION_TABLE_STORAGE_ENDPOINT and the keys in AWS_ACCESS_KEY_ID / "
                "AWS_SECRET_ACCESS_KEY of this Dagster deployment: check that the bucket exists and the keys are right."
            ) from error

"""Blobs as objects in an S3 bucket: the production store. Plain module (no Dagster import)."""

from __future__ import annotations

import base64
import hashlib
import posixpath
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from spotify_charts import settings
from spotify_charts.storage import FileStore, StoreError, check_key


def default_client() -> Any:
    """An S3 client from boto3's usual chain (environment, profile, the task's IAM role;
    `AWS_ENDPOINT_URL_S3` for an S3-compatible server), retrying throttling and transient errors
    up to 5 attempts, as Dagster's S3 resource does by default."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client("s3", config=Config(retries={"max_attempts": 5}))


class S3FileStore(FileStore):
    """Blobs as objects in an S3 bucket, under an optional prefix.

    A PUT makes an object visible whole or not at all, so writes need no temporary name; each
    carries its MD5 (`Content-MD5`), so S3 refuses a body damaged on the way. `client` is a boto3
    S3 client (thread-safe); its retry configuration handles throttling and transient errors.
    """

    READ_THREADS = 4  # per call; a load reads two chunks at once, within botocore's pool of 10 connections

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        if not bucket or "/" in bucket:
            raise ValueError(f"S3 bucket name {bucket!r} is empty or contains '/' (give the prefix separately)")
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if self.prefix:
            check_key(self.prefix)

    def object_key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.object_key(key)}"

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except Exception as exc:
            if _error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                self._check_bucket()
                return False
            raise self._error("HEAD", key, exc) from exc
        return True

    def read(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))
            return answer["Body"].read()
        except Exception as exc:
            if _error_code(exc) in ("404", "NoSuchKey"):
                raise FileNotFoundError(self.uri(key)) from None
            raise self._error("GET", key, exc) from exc

    def write(self, key: str, data: bytes) -> None:
        digest = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.object_key(key),
                Body=data,
                ContentMD5=digest,
                ContentType=_content_type(key),
            )
        except Exception as exc:
            raise self._error("PUT", key, exc) from exc

    def delete(self, keys: Sequence[str]) -> None:
        """Remove these objects (the Redshift loader's temporary files); absent ones are no error."""
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
            chunk = keys[start : start + 1000]
            try:
                answer = self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": self.object_key(k)} for k in chunk], "Quiet": True},
                )
            except Exception as exc:
                raise self._error("DELETE", chunk[0], exc) from exc
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise StoreError(f"s3://{self.bucket}/{first['Key']}: DELETE failed: {first.get('Message')}")

    def existing(self, keys: Iterable[str]) -> set[str]:
        """One listing per folder instead of one HEAD per key (a year of a chart is 1 request, not 365)."""
        wanted: dict[str, set[str]] = {}
        for key in keys:
            folder = posixpath.dirname(self.object_key(key))
            wanted.setdefault(folder, set()).add(key)
        found: set[str] = set()
        for folder, folder_keys in wanted.items():
            listed = set(self._list(folder + "/" if folder else ""))
            found.update(key for key in folder_keys if self.object_key(key) in listed)
        return found

    def read_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if len(keys) < 2:
            return super().read_many(keys)
        with ThreadPoolExecutor(max_workers=self.READ_THREADS) as pool:
            return list(pool.map(self._read_or_none, keys))

    def _list(self, prefix: str) -> Iterable[str]:
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", ()):
                    yield item["Key"]
        except Exception as exc:
            raise StoreError(f"s3://{self.bucket}/{prefix}: listing failed: {_describe(exc)}") from exc

    def _check_bucket(self) -> None:
        # A HEAD on a missing bucket is a 404 too: tell "no such object" from "no such bucket".
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as exc:
            raise StoreError(f"s3://{self.bucket}: {_describe(exc)}") from exc

    def _error(self, operation: str, key: str, exc: Exception) -> StoreError:
        return StoreError(f"{self.uri(key)}: {operation} failed: {_describe(exc)}")


def _error_code(exc: Exception) -> str | None:
    response = getattr(exc, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def _describe(exc: Exception) -> str:
    """botocore's message (it names the error code and operation, never credentials)."""
    code = _error_code(exc)
    if type(exc).__name__ == "NoCredentialsError":
        return "no AWS credentials found (environment, profile or instance role; see README, Running against AWS)"
    if code in ("404", "NoSuchBucket"):
        return f"the bucket does not exist (create it, or check {settings.S3_BUCKET.name})"
    if code in ("403", "AccessDenied"):
        return "access denied (check the credentials' IAM policy for this bucket)"
    return str(exc)


def _content_type(key: str) -> str:
    if key.endswith(".json.gz"):
        return "application/gzip"
    if key.endswith(".html"):
        return "text/html; charset=utf-8"
    return "application/octet-stream"

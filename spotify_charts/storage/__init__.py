"""Where the platform keeps its files: raw chart snapshots, the dashboard page and (for Redshift)
the Parquet files a load COPYs from. An interface here; the local folder in `local`, S3 in `s3`.

Plain package (no Dagster import).
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence

from spotify_charts import settings

RAW_PREFIX = "raw/spotify-charts"
QUARANTINE_PREFIX = "quarantine"


def snapshot_key(alias: str, chart_date: dt.date) -> str:
    """The store key of one chart's snapshot for one date."""
    return f"{RAW_PREFIX}/{alias}/{chart_date.isoformat()}.json.gz"


def quarantine_key(key: str, when: dt.datetime) -> str:
    """Where a corrupt blob is kept for inspection: `quarantine/{UTC time}/{its key}`."""
    return f"{QUARANTINE_PREFIX}/{when.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}/{key}"


def check_key(key: str) -> list[str]:
    """The key's parts; ValueError for a key that is absolute, empty in parts, or climbs out."""
    parts = key.split("/")
    if key.startswith("/") or "\\" in key or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"store key escapes the data folder or is malformed: {key!r}")
    return parts


class StoreError(Exception):
    """The store refused or failed an operation; the message names the blob's location."""


class FileStore(ABC):
    """Keyed blobs; writes are atomic."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def read(self, key: str) -> bytes:
        """The blob's bytes; FileNotFoundError when there is none."""

    @abstractmethod
    def write(self, key: str, data: bytes) -> None:
        """Store the blob so that no reader ever sees a partial one under `key`."""

    @abstractmethod
    def uri(self, key: str) -> str:
        """Where the blob is, for people and error messages."""

    def delete(self, keys: Sequence[str]) -> None:
        """Remove these blobs; absent ones are no error."""
        raise NotImplementedError(f"{type(self).__name__} cannot delete blobs")

    def existing(self, keys: Iterable[str]) -> set[str]:
        """Which of `keys` hold a blob (a store may answer for many keys at once)."""
        return {key for key in keys if self.exists(key)}

    def read_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """Each key's bytes, or None where there is no blob, in the order asked."""
        return [self._read_or_none(key) for key in keys]

    def _read_or_none(self, key: str) -> bytes | None:
        try:
            return self.read(key)
        except FileNotFoundError:
            return None


def from_settings(values: settings.Values) -> FileStore:
    """The bucket when one is set (credentials from boto3's usual chain), else the local data folder."""
    if values[settings.S3_BUCKET]:
        from spotify_charts.storage.s3 import S3FileStore, default_client

        return S3FileStore(default_client(), values[settings.S3_BUCKET], values[settings.S3_PREFIX])
    from spotify_charts.storage.local import LocalFileStore

    return LocalFileStore(values.data_dir)

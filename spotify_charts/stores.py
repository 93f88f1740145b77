"""Where raw chart snapshots live: an interface, and the local-folder store used by default.

A later S3 store implements the same interface. Plain module (no Dagster import).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path

RAW_PREFIX = "raw/spotify-charts"


def snapshot_key(alias: str, chart_date: dt.date) -> str:
    """The store key of one chart's snapshot for one date."""
    return f"{RAW_PREFIX}/{alias}/{chart_date.isoformat()}.json.gz"


class RawStore(ABC):
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


class LocalRawStore(RawStore):
    """Blobs as files under a folder."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def path(self, key: str) -> Path:
        # A string check, not Path.resolve(): resolving costs a system call per path component.
        parts = key.split("/")
        if key.startswith("/") or "\\" in key or any(part in ("", ".", "..") for part in parts):
            raise ValueError(f"store key escapes the data folder or is malformed: {key!r}")
        return self.root.joinpath(*parts)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def write(self, key: str, data: bytes) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, data)

    def uri(self, key: str) -> str:
        return str(self.path(key))


def _atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename it over the final name."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the files are the user's data, readable as usual
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

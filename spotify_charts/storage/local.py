"""Blobs in a local folder: the default store. Plain module (no Dagster import)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from spotify_charts.storage import FileStore, check_key


class LocalFileStore(FileStore):
    """Blobs as files under a folder."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def path(self, key: str) -> Path:
        # A string check, not Path.resolve(): resolving costs a system call per path component.
        return self.root.joinpath(*check_key(key))

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

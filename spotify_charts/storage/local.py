"""Blobs in a local folder: the default store. Plain module (no Dagster import)."""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from spotify_charts.storage import FileStore, StoreError, check_key


class LocalFileStore(FileStore):
    """Blobs as files under a folder."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self._folders: set[Path] = set()

    def path(self, key: str) -> Path:
        # A string check, not Path.resolve(): resolving costs a system call per path component.
        return self.root.joinpath(*check_key(key))

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def write(self, key: str, data: bytes) -> None:
        path = self.path(key)
        folder = path.parent
        if folder not in self._folders:  # one mkdir per folder, not per file (a bulk import writes 100,000s)
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(write_error(folder, exc)) from exc
            self._folders.add(folder)
        try:
            try:
                _atomic_write(path, data)
            except FileNotFoundError:  # the folder was removed since: make it again
                folder.mkdir(parents=True, exist_ok=True)
                _atomic_write(path, data)
        except OSError as exc:  # the OS names no file for a failed write: say which, and why first
            raise StoreError(write_error(path, exc)) from exc

    def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.path(key).unlink(missing_ok=True)

    def uri(self, key: str) -> str:
        return str(self.path(key))


def write_error(path: Path, exc: OSError) -> str:
    """`no space left on device: cannot write {path}` (or the OS's reason): the cause first, then where."""
    reason = "no space left on device" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc)).lower()
    return f"{reason}: cannot write {path}"


def _atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename it over the final name.

    The temporary name is unique per process and thread, so concurrent writers never share one;
    plain os calls, as mkstemp's random names and file objects cost more than the write itself."""
    tmp = f"{path.parent}/.{path.name}.{os.getpid()}-{threading.get_ident()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.fchmod(fd, 0o644)  # whatever the umask: the files are the user's data, readable as usual
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

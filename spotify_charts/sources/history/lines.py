"""A history CSV as bytes: opened (gzipped or not), cut into blocks of whole lines, and the lines
that the row-by-row reader (Python's csv module) reads.

Plain module (no Dagster import).
"""

from __future__ import annotations

import os
import re
from collections import deque
from collections.abc import Callable
from typing import IO

from zlib_ng import gzip_ng_threaded

from spotify_charts.sources.history.report import HistoryImportError

CHUNK = 8 << 20  # bytes read at a time; a block is the whole lines in them (~35,000 rows)
MAX_LINE = 64 << 20  # a "line" longer than this is no history CSV
_GZIP_MAGIC = b"\x1f\x8b"
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")  # lines as a text file with newline="" has them
FIRST_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)?")


def open_binary(path: str | os.PathLike[str]) -> tuple[IO[bytes], IO[bytes]]:
    """The file's bytes (decompressed in a thread when gzipped), and the raw file for progress."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the caller with the binary stream
    except FileNotFoundError:
        raise HistoryImportError(path, "no such file") from None
    except IsADirectoryError:
        raise HistoryImportError(path, "is a folder, not a file (give the CSV file itself)") from None
    except OSError as exc:  # permission denied, and the like
        raise HistoryImportError(path, f"cannot be opened ({exc.strerror or exc})") from None
    if raw.read(2) == _GZIP_MAGIC:
        raw.seek(0)
        return gzip_ng_threaded.open(raw, "rb", threads=1), raw
    raw.seek(0)
    return raw, raw


class Blocks:
    """The file in blocks of whole lines, each ending with a line end (LF; CR alone in a file
    without LF; one is added at the end)."""

    def __init__(self, path: str, binary: IO[bytes]) -> None:
        self.path = path
        self.binary = binary
        self.rest = b""
        self.done = False
        self.unterminated = False  # the file's last line has no line end (its block is the last)

    def next(self) -> bytes:
        """The next block; b"" at the end of the file."""
        while not self.done:
            data = self.binary.read(CHUNK)
            if not data:
                self.done = True
                break
            if self.rest:
                data = self.rest + data
            cut = data.rfind(b"\n") + 1
            if not cut:  # no LF: lines may end in a carriage return alone (one not at the very end,
                # which could be the first half of a CRLF)
                cut = data.rfind(b"\r", 0, len(data) - 1) + 1
            self.rest = data[cut:]
            if cut:
                return data[:cut]
            if len(self.rest) > MAX_LINE:
                raise HistoryImportError(self.path, f"no line end in {MAX_LINE >> 20} MB: not a CSV file")
        block, self.rest = self.rest, b""
        if not block:
            return b""
        if not block.endswith(b"\r"):
            self.unterminated = True
        return block + b"\n"


class Lines:
    """The lines the row-by-row reader (`csv.reader`) reads. It ends where a row ends; a row whose
    quoted value runs past the block's end reads on into the next block (`more`)."""

    def __init__(self, more: Callable[[], bool]) -> None:
        self.lines: deque[str] = deque()
        self.at_row_start = True
        self.more = more

    def add(self, text: str) -> None:
        self.lines.extend(_LINE.findall(text))

    def __iter__(self) -> Lines:
        return self

    def __next__(self) -> str:
        if not self.lines and (self.at_row_start or not self.more()):
            raise StopIteration
        self.at_row_start = False
        return self.lines.popleft()

"""The chart CSV downloads folder as the `csv_exports` sensor sees it: which files are new or
changed since the last tick, settled, and valid. Plain module (no Dagster import)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from spotify_charts.sources.csv_export import CsvExportError, changed_ns, convert_export, is_settled, parse_export_name


@dataclass(frozen=True)
class ReadyExport:
    """A new or changed CSV that converted cleanly."""

    name: str
    alias: str
    chart_date: dt.date
    sha256: str


@dataclass
class FolderScan:
    """What a sensor tick found in the CSV folder, and the cursor to keep for the next tick."""

    ready: list[ReadyExport] = field(default_factory=list)
    malformed: list[CsvExportError] = field(default_factory=list)
    unsettled: int = 0  # files changed too recently to read (they may still be being written)
    cursor: str | None = None

    def date_ranges(self) -> list[list[ReadyExport]]:
        """The ready files grouped into runs of consecutive chart dates (one run request each)."""
        groups: list[list[ReadyExport]] = []
        for export in sorted(self.ready, key=lambda e: (e.chart_date, e.name)):
            if groups and (export.chart_date - groups[-1][-1].chart_date).days <= 1:
                groups[-1].append(export)
            else:
                groups.append([export])
        return groups


def run_key(exports: Sequence[ReadyExport]) -> str:
    """Names the dates and the exact file contents: the same files again are the same run."""
    digest = hashlib.sha256("\n".join(f"{e.name}:{e.sha256}" for e in sorted(exports, key=lambda e: e.name)).encode())
    return f"csv-exports:{exports[0].chart_date}..{exports[-1].chart_date}:{digest.hexdigest()[:16]}"


def scan_folder(folder: str | os.PathLike[str], cursor: str | None, now_ns: int) -> FolderScan:
    """The CSVs changed since the cursor's high-water mark, read and converted to check them.

    A file counts as changed when its mtime or ctime (creation, copy, rename, rewrite: anything
    the OS sees) passes the mark; files that have not settled (`csv_export.is_settled`) wait for
    the next tick and hold the mark back, so one still being copied is not read half-written.
    """
    state = json.loads(cursor) if cursor else {"changed_ns": 0, "names": []}
    mark, at_mark = state["changed_ns"], set(state["names"])
    scan = FolderScan()
    changed: list[tuple[int, os.DirEntry]] = []
    for entry in os.scandir(folder):
        if not entry.name.endswith(".csv") or entry.name.startswith(".") or not entry.is_file():
            continue
        stat = entry.stat()
        changed_at = changed_ns(stat)
        if changed_at < mark or (changed_at == mark and entry.name in at_mark):
            continue
        if not is_settled(stat, now_ns):
            scan.unsettled += 1
            continue
        changed.append((changed_at, entry))
    for _, entry in changed:
        try:
            data = Path(entry.path).read_bytes()
            alias, chart_date = parse_export_name(entry.path)
            convert_export(entry.path, data)
        except CsvExportError as exc:
            scan.malformed.append(exc)
            continue
        scan.ready.append(ReadyExport(entry.name, alias, chart_date, hashlib.sha256(data).hexdigest()))
    if changed:
        new_mark = max(ns for ns, _ in changed)
        names = {entry.name for ns, entry in changed if ns == new_mark}
        if new_mark == mark:
            names |= at_mark
        scan.cursor = json.dumps({"changed_ns": new_mark, "names": sorted(names)})
    else:
        scan.cursor = cursor
    return scan

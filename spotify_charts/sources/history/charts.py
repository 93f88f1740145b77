"""The charts of a history import once their rows are read: checked, stored, or set aside and merged.

`ChartWriter` checks a chart's payload with the one rule set (`snapshots/rules.py`), stores it as a
raw snapshot (gzip and write in two threads, off the parsing thread) and keeps the report's totals.
Rows of a chart that was already stored (or a chart whose ranks are not 1..N yet) are spilled to one
of 64 bucket files; `merge_late` reads them back one bucket at a time and stores each chart again.

A chart is only ever replaced by a whole, valid one: before this import first writes a chart, the
snapshot it replaces (one an earlier import or run stored) is copied aside, and a chart that a late
row then spoils, or that is still waiting for late rows when the import stops on an error, gets that
snapshot back (or is removed if it had none).

Plain module (no Dagster import).
"""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
import zlib
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO

import numpy as np
import orjson

from spotify_charts.snapshots import SnapshotError
from spotify_charts.snapshots.files import encode_snapshot
from spotify_charts.snapshots.rules import check_payload
from spotify_charts.sources.history.report import BadRow, ImportReport, Key, label
from spotify_charts.storage import FileStore, snapshot_key

SOURCE = "history"
SPILL_BUCKETS = 64
MAX_REPORTED = 1000  # bad rows kept in the report (all are counted)


class OpenChart:
    """The rows of a chart read so far: packed (the fast path's JSON of ranks 1..top, in order) or
    unpacked (an entry dict and a line per rank, in the order read)."""

    __slots__ = (
        "key",
        "entries",
        "ranks",
        "errors",
        "first_line",
        "last_line",
        "ordered",
        "top",
        "count",
        "parts",
        "part_lines",
    )

    def __init__(self, key: Key, line: int) -> None:
        self.key = key
        self.entries: list[dict] = []
        self.ranks: dict[int, int] = {}  # rank -> line
        self.errors = 0
        self.first_line = self.last_line = line
        self.ordered = True
        self.top = 0  # the highest rank so far (a lower one after it: the rows are not in rank order)
        self.count = 0  # packed rows
        self.parts: list[bytes] = []  # packed: comma-separated entries as JSON
        self.part_lines: list[np.ndarray] = []  # packed: the line of each row

    @property
    def size(self) -> int:
        return self.count + len(self.entries)

    def pack(self, entries_json: bytes, lines: np.ndarray, top: int) -> None:
        """Rows of ranks top+1 .. `top` (in order) as JSON, on a chart that is packed or empty."""
        self.parts.append(entries_json)
        self.part_lines.append(lines)
        self.count += len(lines)
        self.top = top
        self.last_line = int(lines[-1])

    def unpack(self) -> None:
        """Packed rows as entry dicts and lines, as the row-by-row reader keeps them."""
        if not self.count:
            return
        self.entries = orjson.loads(b"[" + b",".join(self.parts) + b"]")
        self.ranks = dict(zip(range(1, self.count + 1), np.concatenate(self.part_lines).tolist(), strict=True))
        self.count, self.parts, self.part_lines = 0, [], []


def entry_rank(entry: dict) -> int:
    return entry["chartEntryData"]["currentRank"]


class ChartWriter:
    def __init__(self, path: str, store: FileStore) -> None:
        self.path = path
        self.name = Path(path).name
        self.store = store
        self.report = ImportReport(path)
        self.stored: set[Key] = set()
        self.rejected: set[Key] = set()
        self.late_keys: set[Key] = set()
        self.spill_dir: tempfile.TemporaryDirectory | None = None
        self.spill_files: dict[int, IO[bytes]] = {}
        # For each chart this import wrote: where the snapshot it replaced is kept (offset and size in
        # the `replaced` file), or None when there was none.
        self.previous: dict[Key, tuple[int, int] | None] = {}
        self.replaced: IO[bytes] | None = None
        self.replaced_lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=2)  # gzip + write off the parsing thread
        self.in_flight: list[Future] = []

    def close(self) -> None:
        """Wait for the stores in flight and remove the spill files."""
        self.pool.shutdown(wait=True)
        for handle in [*self.spill_files.values(), self.replaced]:
            if handle is not None:
                handle.close()
        if self.spill_dir is not None:
            self.spill_dir.cleanup()

    def temp_dir(self) -> Path:
        if self.spill_dir is None:
            self.spill_dir = tempfile.TemporaryDirectory(prefix="history-import-")
        return Path(self.spill_dir.name)

    def keep_previous(self, key: Key, location: str) -> None:
        """Before this import first writes a chart: copy the snapshot it replaces aside (pool thread)."""
        if key in self.previous:
            return
        try:
            data = self.store.read(location)
        except FileNotFoundError:
            self.previous[key] = None
            return
        with self.replaced_lock:
            if self.replaced is None:
                self.replaced = open(self.temp_dir() / "replaced.bin", "w+b")  # noqa: SIM115
            offset = self.replaced.seek(0, 2)
            self.replaced.write(data)
        self.previous[key] = (offset, len(data))

    def restore(self, key: Key) -> bool:
        """Undo this import's writes of a chart: the snapshot it replaced back, or none. True if one was back."""
        location = snapshot_key(*key)
        kept = self.previous.pop(key, None)
        if kept is None:
            self.store.delete([location])
            return False
        with self.replaced_lock:
            self.replaced.seek(kept[0])
            data = self.replaced.read(kept[1])
        self.store.write(location, data)
        return True

    def abandon(self, open_keys: Iterable[Key]) -> None:
        """After an error that ends the import: the charts stored while rows of them were still to
        merge (set aside, or read into a chart still open) are partial, so they get their earlier
        snapshot back (or none)."""
        try:
            self.drain(0)
        finally:
            for key in sorted((self.late_keys | set(open_keys)) & self.stored):
                data = self.store.read(snapshot_key(*key))
                count = len(orjson.loads(zlib.decompress(data, wbits=31))["entries"])
                self.tally(count, len(data), -1)
                self.stored.discard(key)
                if self.restore(key):
                    self.report.charts_kept.append(label(key))
                self.report.charts_not_finished.append(label(key))

    def bad(self, line: int, problem: str, chart: OpenChart | None) -> None:
        report = self.report
        report.bad_row_count += 1
        if chart is not None:
            chart.errors += 1
        if len(report.bad_rows) < MAX_REPORTED:
            report.bad_rows.append(BadRow(line, problem, label(chart.key) if chart else None))

    def warn(self, line: int, problem: str) -> None:
        """A row that is stored but worth a look."""
        report = self.report
        report.warning_count += 1
        if len(report.warnings) < MAX_REPORTED:
            report.warnings.append(BadRow(line, problem, None))

    def payload(self, key: Key, entries: list[dict], lines: list[int]) -> dict:
        alias, day = key
        return {
            "displayChart": {"date": day.isoformat(), "chartMetadata": {"alias": alias}},
            "entries": entries,
            "historyImport": {"fileName": self.name, "lines": lines},
        }

    def store_payload(self, key: Key, payload: dict) -> None:
        """A chart read row by row: checked, gzipped and written in a pool thread."""
        self._submit(key, payload=payload)

    def store_json(self, key: Key, chart: OpenChart) -> None:
        """A packed chart: its payload is written around its entries' JSON, byte for byte what
        `orjson.dumps` gives for the payload of the same entries unpacked."""
        shape = orjson.dumps(self.payload(key, [], [chart.first_line, chart.last_line]))
        head, tail = shape.split(b'"entries":[]', 1)  # (the first: the file name comes after, escaped)
        body = b"".join([head, b'"entries":[', b",".join(chart.parts), b"]", tail])
        # One part: checked column by column already (ranks 1..N, tracks once). Parts from two
        # blocks: a track could repeat across them, so the rule set reads it whole.
        self._submit(key, body=body, checked=chart.count if len(chart.parts) == 1 else None)

    def _submit(
        self, key: Key, payload: dict | None = None, body: bytes | None = None, checked: int | None = None
    ) -> None:
        self.drain(64)
        self.in_flight.append(self.pool.submit(self._store, key, payload, body, checked))
        self.stored.add(key)

    def _store(
        self, key: Key, payload: dict | None, body: bytes | None, checked: int | None
    ) -> tuple[Key, int, int] | tuple[Key, SnapshotError, list[int]]:
        """The rule set every payload passes (`payload`, or `body` decoded), unless the fast path
        `checked` the body's entries already; then gzip and write the payload's JSON (`body`)."""
        if checked is None:
            payload = orjson.loads(body) if payload is None else payload
            alias, day = key
            try:
                checked = check_payload(f"{self.path} ({alias}/{day})", payload)
            except SnapshotError as exc:
                return key, exc, payload["historyImport"]["lines"]
        body = orjson.dumps(payload) if body is None else body
        data = encode_snapshot(body, SOURCE, level=1)  # millions of charts: speed over size
        location = snapshot_key(*key)
        self.keep_previous(key, location)
        self.store.write(location, data)
        return key, checked, len(data)

    def drain(self, keep: int) -> None:
        """Wait for stores in flight until at most `keep` remain (a store error surfaces here)."""
        while len(self.in_flight) > keep:
            key, count, size = self.in_flight.pop(0).result()
            if isinstance(count, SnapshotError):  # e.g. a rank missing: the whole chart is left out
                self.stored.discard(key)
                self.bad(size[0], f"{count.problem} (rows on lines {size[0]}..{size[1]})", None)
                # (merged with late rows: the part stored first must not stay on its own)
                self.reject(key, kept=self.restore(key) if key in self.previous else False)
                continue
            self.tally(count, size, +1)

    def tally(self, count: int, size: int, sign: int) -> None:
        """A chart stored (+1) or taken back (-1); its dates and regions come from `stored` at the end."""
        report = self.report
        report.charts_stored += sign
        report.entries_stored += sign * count
        report.bytes_stored += sign * size

    def reject(self, key: Key, kept: bool = False) -> None:
        """The chart is not stored; `kept`: the snapshot stored before this import stays."""
        self.rejected.add(key)
        self.report.charts_rejected.append(label(key))
        if kept:
            self.report.charts_kept.append(label(key))

    def spill(self, chart: OpenChart) -> None:
        """Keep part of a chart on disk until the end of the file: rows that came after the chart was
        stored, or a chart whose ranks are not 1..N yet (the rest may come later)."""
        chart.unpack()
        self.report.late_rows += len(chart.entries)
        if chart.key in self.rejected:  # (its bad rows are reported; nothing of it is stored)
            return
        self.late_keys.add(chart.key)
        bucket = hash(chart.key) % SPILL_BUCKETS
        handle = self.spill_files.get(bucket)
        if handle is None:
            handle = self.spill_files[bucket] = open(self.temp_dir() / f"{bucket}.jsonl", "ab")  # noqa: SIM115
        alias, day = chart.key
        record = [alias, day.isoformat(), chart.errors, chart.first_line, chart.last_line, chart.entries, chart.ranks]
        handle.write(orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS) + b"\n")

    def merge_late(self) -> None:
        """Merge each spilled part into its chart, one bucket at a time; store again, or remove."""
        if not self.late_keys:
            return
        self.drain(0)
        for _, handle in sorted(self.spill_files.items()):
            handle.close()
            parts: dict[Key, list] = {}
            with open(handle.name, "rb") as spilled:
                for line in spilled:
                    alias, day, errors, first, last, entries, ranks = orjson.loads(line)
                    parts.setdefault((alias, dt.date.fromisoformat(day)), []).append(
                        (errors, first, last, entries, ranks)
                    )
            for key, pieces in parts.items():
                self.merge(key, pieces)
            self.drain(0)
        self.spill_files.clear()

    def merge(self, key: Key, pieces: list) -> None:
        alias, day = key
        if key in self.rejected:
            return
        location = snapshot_key(alias, day)
        entries: list[dict] = []
        was_stored = key in self.stored
        if was_stored:  # a part was stored before the rest came: merge with it
            data = self.store.read(location)
            entries = orjson.loads(zlib.decompress(data, wbits=31))["entries"]
            self.tally(len(entries), len(data), -1)  # counted again when stored again
            self.stored.discard(key)
        ranks = {entry_rank(entry) for entry in entries}
        lines = [min(p[1] for p in pieces), max(p[2] for p in pieces)]
        bad = any(errors for errors, *_ in pieces)
        for _, _, _, part, partranks in pieces:
            for rank_text, line in partranks.items():
                rank = int(rank_text)
                if rank in ranks:
                    self.bad(line, f"rank {rank} appears more than once (also in earlier rows of {label(key)})", None)
                    bad = True
                ranks.add(rank)
            entries.extend(part)
        if bad:  # the chart as this import first stored it must not stay either
            self.reject(key, kept=self.restore(key) if was_stored else False)
            return
        self.report.late_rows_merged += sum(len(part) for _, _, _, part, _ in pieces)
        entries.sort(key=entry_rank)
        self.store_payload(key, self.payload(key, entries, lines))

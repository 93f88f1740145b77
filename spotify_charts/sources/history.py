"""Bulk import of a public chart history CSV: every region's daily top chart becomes a raw snapshot.

The largest public Spotify chart history (a Kaggle data set, 2017-2021: ~26 million rows, 3.5 GB)
is one CSV with the header `title,rank,date,artist,url,region,chart,trend,streams`: `region` is a
country's English name or `Global`, `chart` is `top200` or `viral50`, `url` is
`https://open.spotify.com/track/{id}`, `trend` one of SAME_POSITION, MOVE_UP, MOVE_DOWN, NEW_ENTRY,
`streams` empty for viral50. `import_history` turns each region's `top200` chart of each date into
the raw snapshot of `regional-{code}-daily` for that date, in the charts service's payload shape
(as the CSV downloads are, `sources/csv_export.py`), recorded with `source = history`:
- `trend` becomes `entryStatus` (NO_CHANGE, MOVED_UP, MOVED_DOWN, NEW_ENTRY); `streams` becomes
  `rankingMetric` (an integral float such as `1234.0`, as pandas writes a column with gaps, is
  read as 1234; an empty one is left out); `artist` is split on ", " into credits without URIs.
  What the history does not carry (previous and peak rank, labels, release date) is left out.
- region names are matched to `data/regions.csv` ignoring case; rows of other regions are skipped
  and each unknown name is reported once, with its row count. `viral50` rows are counted and skipped.
- a bad row (a column missing, a rank or number that is not one, a URL that is not a track's, a
  rank twice in a chart) is reported with the file and line, and its whole chart is not stored. A
  row whose region or date cannot be read counts against the chart of the rows around it.

It streams: plain or gzipped input (detected by its first bytes), read once, rows never all in
memory. Charts are stored as their rows end, which needs each chart's rows to be close together
(the public file keeps them together; charts may come in any order, rows of a chart in any rank
order). Up to `window_rows` rows of recent charts stay open, so rows a little out of place still
join their chart. A row of a chart that was already stored (a file in no useful order) is spilled
to one of 64 bucket files on disk; at the end each bucket is read back (about 1/64 of the late rows
in memory at once), merged with the stored snapshot and the chart stored again, or removed if a
late row was bad. Until then such a chart's snapshot is partial: load staging after the import.

Plain module (no Dagster import).
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import os
import tempfile
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import orjson
from zlib_ng import gzip_ng_threaded

from spotify_charts.regions import FIRST_CHART_DATE, daily_alias, region_names
from spotify_charts.snapshots import SnapshotError
from spotify_charts.snapshots.files import encode_snapshot
from spotify_charts.snapshots.rules import check_payload
from spotify_charts.storage import FileStore, snapshot_key

SOURCE = "history"
HEADER = ("title", "rank", "date", "artist", "url", "region", "chart", "trend", "streams")
TRACK_URL = "https://open.spotify.com/track/"
TRENDS = {"SAME_POSITION": "NO_CHANGE", "MOVE_UP": "MOVED_UP", "MOVE_DOWN": "MOVED_DOWN", "NEW_ENTRY": "NEW_ENTRY"}
MAX_RANK = 200
WINDOW_ROWS = 100_000  # rows of open charts kept in memory (~80 MB)
SPILL_BUCKETS = 64
MAX_REPORTED = 1000  # bad rows kept in the report (all are counted)
_TRACK_URI = "spotify:track:"
_GZIP_MAGIC = b"\x1f\x8b"

Key = tuple[str, dt.date]  # (alias, chart date)


class HistoryImportError(ValueError):
    """A history file that cannot be read at all (missing, wrong header, not UTF-8 text)."""

    def __init__(self, path: str | os.PathLike[str], problem: str, line: int | None = None) -> None:
        where = f"{path}, line {line}" if line else str(path)
        super().__init__(f"{where}: {problem}")
        self.path, self.line, self.problem = str(path), line, problem


@dataclass(frozen=True)
class BadRow:
    line: int
    problem: str
    chart: str | None  # "alias/date" of the chart the row is counted against, when known

    def describe(self, path: str) -> str:
        return f"{path}, line {self.line}: {self.problem}" + (f" ({self.chart} not stored)" if self.chart else "")


@dataclass
class ImportReport:
    path: str
    rows: int = 0  # data rows read
    charts_stored: int = 0
    entries_stored: int = 0
    bytes_stored: int = 0
    charts_rejected: list[str] = field(default_factory=list)  # "alias/date" not stored for a bad row
    bad_rows: list[BadRow] = field(default_factory=list)  # the first MAX_REPORTED
    bad_row_count: int = 0
    viral_rows: int = 0
    unknown_regions: dict[str, int] = field(default_factory=dict)  # region name -> rows skipped
    late_rows: int = 0  # rows of charts already stored, merged at the end
    regions: set[str] = field(default_factory=set)  # codes of the charts stored
    first_date: dt.date | None = None
    last_date: dt.date | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [
            f"{self.path}: {self.rows:,} rows in {self.seconds:.1f} s "
            f"({self.rows / max(self.seconds, 1e-9):,.0f} rows/s); {self.charts_stored:,} charts stored "
            f"({self.entries_stored:,} entries, {len(self.regions)} regions, {self.first_date} .. {self.last_date})",
            f"skipped: {self.viral_rows:,} viral50 rows; {self.bad_row_count:,} bad rows; "
            f"{len(self.charts_rejected):,} charts not stored because of a bad row",
        ]
        for name, count in sorted(self.unknown_regions.items()):
            lines.append(f"unknown region {name!r}: {count:,} rows skipped (not in data/regions.csv)")
        if self.late_rows:
            lines.append(f"{self.late_rows:,} rows arrived after their chart was stored and were merged into it")
        lines.extend(bad.describe(self.path) for bad in self.bad_rows)
        if self.bad_row_count > len(self.bad_rows):
            lines.append(f"... and {self.bad_row_count - len(self.bad_rows):,} more bad rows")
        return "\n".join(lines)


class _Chart:
    __slots__ = ("key", "entries", "ranks", "errors", "first_line", "last_line", "ordered", "top")

    def __init__(self, key: Key, line: int) -> None:
        self.key = key
        self.entries: list[dict] = []
        self.ranks: dict[int, int] = {}  # rank -> line
        self.errors = 0
        self.first_line = self.last_line = line
        self.ordered = True
        self.top = 0  # the highest rank so far (a lower one after it: the rows are not in rank order)


def _region_codes() -> dict[str, str]:
    return {name.casefold(): code for code, name in region_names().items()}


def open_text(path: str | os.PathLike[str]) -> tuple[IO[str], IO[bytes]]:
    """The file as text (UTF-8, a byte-order mark dropped), and the raw file for progress."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the caller with the text stream
    except FileNotFoundError:
        raise HistoryImportError(path, "no such file") from None
    if raw.read(2) == _GZIP_MAGIC:
        raw.seek(0)
        binary: IO[bytes] = gzip_ng_threaded.open(raw, "rb", threads=1)  # decompressed in a thread
    else:
        raw.seek(0)
        binary = raw
    return io.TextIOWrapper(binary, encoding="utf-8-sig", newline="", errors="strict"), raw


class _Importer:
    def __init__(
        self, path: str, store: FileStore, window_rows: int, progress: Callable[[int, int, int], None] | None
    ) -> None:
        self.path = path
        self.name = Path(path).name
        self.store = store
        self.window_rows = window_rows
        self.progress = progress
        self.report = ImportReport(path)
        self.codes = _region_codes()
        self.open: OrderedDict[Key, _Chart] = OrderedDict()
        self.open_rows = 0
        self.stored: set[Key] = set()
        self.rejected: set[Key] = set()
        self.late_keys: set[Key] = set()
        self.spill_dir: tempfile.TemporaryDirectory | None = None
        self.spill_files: dict[int, IO[bytes]] = {}
        self.pool = ThreadPoolExecutor(max_workers=2)  # gzip + write off the parsing thread
        self.in_flight: list[Future] = []
        self.dates: dict[str, dt.date | None] = {}

    # --- reporting
    def bad(self, line: int, problem: str, chart: _Chart | None) -> None:
        report = self.report
        report.bad_row_count += 1
        if chart is not None:
            chart.errors += 1
        if len(report.bad_rows) < MAX_REPORTED:
            report.bad_rows.append(BadRow(line, problem, _label(chart.key) if chart else None))

    def parse_date(self, text: str) -> dt.date | None:
        if text not in self.dates:
            try:
                day = dt.date.fromisoformat(text)
                self.dates[text] = day if FIRST_CHART_DATE <= day <= dt.date(2100, 1, 1) else None
            except ValueError:
                self.dates[text] = None
        return self.dates[text]

    # --- the pass over the file
    def run(self) -> ImportReport:
        start = time.perf_counter()
        text, raw = open_text(self.path)
        size = os.fstat(raw.fileno()).st_size
        # Millions of small dicts that live until their chart is stored: the cyclic collector would
        # scan the whole window again and again (10x slower). They form no cycles; refcounts free them.
        collecting = gc.isenabled()
        gc.disable()
        try:
            with text:
                self.read(text, raw, size)
            self.drain(0)
            self.merge_late()
        except UnicodeDecodeError as exc:
            raise HistoryImportError(self.path, f"not UTF-8 text ({exc.reason})", self.line) from None
        except (OSError, EOFError, zlib.error) as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            raise HistoryImportError(self.path, f"cannot be read ({exc})", self.line) from None
        finally:
            if collecting:
                gc.enable()
            self.pool.shutdown(wait=True)
            for handle in self.spill_files.values():
                handle.close()
            if self.spill_dir is not None:
                self.spill_dir.cleanup()
        self.report.seconds = time.perf_counter() - start
        if self.progress:
            self.progress(size, size, self.report.rows)
        return self.report

    line = 0

    def read(self, text: IO[str], raw: IO[bytes], size: int) -> None:
        reader = csv.reader(text)
        header = next(reader, None)
        if header is None:
            raise HistoryImportError(self.path, "the file is empty")
        if tuple(column.strip() for column in header) != HEADER:
            raise HistoryImportError(
                self.path, f"header is {','.join(header)!r}, expected {','.join(HEADER)!r}", reader.line_num
            )
        report, codes, unknown = self.report, self.codes, self.report.unknown_regions
        trends, bad, url_length = TRENDS, self.bad, len(TRACK_URL)
        chart: _Chart | None = None
        region_text = date_text = ""
        rows = viral = 0
        next_progress = 0
        for row in reader:
            rows += 1
            if rows >= next_progress:
                next_progress = rows + 200_000
                self.line = reader.line_num
                if self.progress:
                    self.progress(raw.tell(), size, rows)
            try:
                title, rank_text, row_date, artist, url, row_region, kind, trend, streams = row
            except ValueError:
                if row:  # (a blank line is no row)
                    bad(reader.line_num, f"{len(row)} columns, expected {len(HEADER)}", chart)
                continue
            if kind != "top200":
                if kind == "viral50":
                    viral += 1
                else:
                    bad(reader.line_num, f"chart {kind!r} is neither top200 nor viral50", None)
                continue
            if row_region != region_text or row_date != date_text:
                line = reader.line_num
                code = codes.get(row_region.strip().casefold())
                if code is None:
                    unknown[row_region] = unknown.get(row_region, 0) + 1
                    continue
                day = self.parse_date(row_date)
                if day is None:
                    bad(line, f"date {row_date!r} is not a chart date (YYYY-MM-DD, from {FIRST_CHART_DATE})", chart)
                    continue
                region_text, date_text = row_region, row_date
                chart = self.chart_for((daily_alias(code), day), line)
            try:
                rank = int(rank_text)
            except ValueError:
                bad(reader.line_num, f"rank {rank_text!r} is not a number", chart)
                continue
            if not 0 < rank <= MAX_RANK:
                bad(reader.line_num, f"rank {rank} is not from 1 to {MAX_RANK}", chart)
                continue
            ranks = chart.ranks
            if rank in ranks:
                bad(reader.line_num, f"rank {rank} appears more than once (first on line {ranks[rank]})", chart)
                continue
            track = url[url_length:]
            if not url.startswith(TRACK_URL) or not track.isalnum() or not track.isascii():
                bad(reader.line_num, f"url {url!r} is not {TRACK_URL}{{id}}", chart)
                continue
            status = trends.get(trend)
            data: dict[str, object] = {"currentRank": rank}
            if status is not None:
                data["entryStatus"] = status
            elif trend:
                bad(reader.line_num, f"trend {trend!r} is not one of {', '.join(TRENDS)}", chart)
                continue
            if streams:
                if not streams.isdigit():
                    if streams.endswith(".0") and streams[:-2].isdigit():
                        streams = streams[:-2]
                    else:
                        bad(reader.line_num, f"streams {streams!r} is not a number", chart)
                        continue
                data["rankingMetric"] = {"value": streams, "type": "STREAMS"}
            if rank < chart.top:
                chart.ordered = False
            else:
                chart.top = rank
            ranks[rank] = chart.last_line = reader.line_num
            chart.entries.append(
                {
                    "chartEntryData": data,
                    "trackMetadata": {
                        "trackName": title,
                        "trackUri": _TRACK_URI + track,
                        "artists": [{"name": name} for name in artist.split(", ") if name]
                        if ", " in artist
                        else ([{"name": artist}] if artist else []),
                    },
                }
            )
            self.open_rows += 1
            if self.open_rows > self.window_rows:
                self.close_oldest(keep=chart.key)
        self.line = reader.line_num
        report.rows = rows
        report.viral_rows = viral
        while self.open:
            self.close_oldest(keep=None)

    def chart_for(self, key: Key, line: int) -> _Chart:
        """The open chart of this key (a new one if none), most recently used last."""
        chart = self.open.get(key)
        if chart is not None:
            self.open.move_to_end(key)
            return chart
        chart = _Chart(key, line)
        self.open[key] = chart
        return chart

    def close_oldest(self, keep: Key | None) -> None:
        key, chart = next(iter(self.open.items()))
        if key == keep:  # the chart being read is the only one open: it simply is large
            if len(self.open) == 1:
                return
            self.open.move_to_end(key)
            key, chart = next(iter(self.open.items()))
        del self.open[key]
        self.open_rows -= len(chart.entries)
        self.finish(chart)

    def finish(self, chart: _Chart) -> None:
        key = chart.key
        if key in self.stored or key in self.rejected:
            self.spill(chart)
            return
        if chart.errors:
            self.reject(key)
            return
        if not chart.entries:
            return
        if chart.top != len(chart.entries):  # ranks not 1..N yet: the rest may come later, keep it aside
            self.spill(chart)
            return
        if not chart.ordered:
            chart.entries.sort(key=_rank)
        payload = self.payload(key, chart.entries, [chart.first_line, chart.last_line])
        self.store_payload(key, payload)

    def payload(self, key: Key, entries: list[dict], lines: list[int]) -> dict:
        alias, day = key
        return {
            "displayChart": {"date": day.isoformat(), "chartMetadata": {"alias": alias}},
            "entries": entries,
            "historyImport": {"fileName": self.name, "lines": lines},
        }

    def store_payload(self, key: Key, payload: dict) -> None:
        self.drain(64)
        self.in_flight.append(self.pool.submit(self._store, key, payload))
        self.stored.add(key)

    def _store(self, key: Key, payload: dict) -> tuple[Key, int, int] | tuple[Key, SnapshotError, list[int]]:
        alias, day = key
        try:
            count = check_payload(f"{self.path} ({alias}/{day})", payload)  # the rule set every payload passes
        except SnapshotError as exc:
            return key, exc, payload["historyImport"]["lines"]
        data = encode_snapshot(orjson.dumps(payload), SOURCE, level=1)  # millions of charts: speed over size
        self.store.write(snapshot_key(alias, day), data)
        return key, count, len(data)

    def drain(self, keep: int) -> None:
        """Wait for stores in flight until at most `keep` remain (a store error surfaces here)."""
        while len(self.in_flight) > keep:
            key, count, size = self.in_flight.pop(0).result()
            if isinstance(count, SnapshotError):  # e.g. a rank missing: the whole chart is left out
                self.stored.discard(key)
                self.bad(size[0], f"{count.problem} (rows on lines {size[0]}..{size[1]})", None)
                self.reject(key)
                continue
            self.tally(*key, count, size, +1)

    def tally(self, alias: str, day: dt.date, count: int, size: int, sign: int) -> None:
        report = self.report
        report.charts_stored += sign
        report.entries_stored += sign * count
        report.bytes_stored += sign * size
        if sign > 0:
            report.regions.add(alias.split("-")[1])
            report.first_date = min(report.first_date or day, day)
            report.last_date = max(report.last_date or day, day)

    def reject(self, key: Key) -> None:
        self.rejected.add(key)
        self.report.charts_rejected.append(_label(key))

    # --- charts whose rows came after they were stored
    def spill(self, chart: _Chart) -> None:
        """Keep part of a chart on disk until the end of the file: rows that came after the chart was
        stored, or a chart whose ranks are not 1..N yet (the rest may come later)."""
        self.report.late_rows += len(chart.entries)
        if chart.key in self.rejected:  # (its bad rows are reported; nothing of it is stored)
            return
        self.late_keys.add(chart.key)
        if self.spill_dir is None:
            self.spill_dir = tempfile.TemporaryDirectory(prefix="history-import-")
        bucket = hash(chart.key) % SPILL_BUCKETS
        handle = self.spill_files.get(bucket)
        if handle is None:
            handle = self.spill_files[bucket] = open(Path(self.spill_dir.name) / f"{bucket}.jsonl", "ab")  # noqa: SIM115
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
            self.tally(alias, day, len(entries), len(data), -1)  # counted again when stored again
            self.stored.discard(key)
        ranks = {_rank(entry) for entry in entries}
        lines = [min(p[1] for p in pieces), max(p[2] for p in pieces)]
        bad = any(errors for errors, *_ in pieces)
        for _, _, _, part, part_ranks in pieces:
            for rank_text, line in part_ranks.items():
                rank = int(rank_text)
                if rank in ranks:
                    self.bad(line, f"rank {rank} appears more than once (also in earlier rows of {_label(key)})", None)
                    bad = True
                ranks.add(rank)
            entries.extend(part)
        if bad:
            if was_stored:
                self.store.delete([location])
            self.reject(key)
            return
        entries.sort(key=_rank)
        self.store_payload(key, self.payload(key, entries, lines))


def _rank(entry: dict) -> int:
    return entry["chartEntryData"]["currentRank"]


def _label(key: Key) -> str:
    return f"{key[0]}/{key[1].isoformat()}"


def import_history(
    path: str | os.PathLike[str],
    store: FileStore,
    progress: Callable[[int, int, int], None] | None = None,
    window_rows: int = WINDOW_ROWS,
) -> ImportReport:
    """Store every complete, valid top200 chart of a history CSV as a raw snapshot (see the module
    docstring). `progress(bytes_read, bytes_total, rows)` is called every 200,000 rows.

    Raises HistoryImportError when the file cannot be read at all; bad rows are in the report."""
    return _Importer(str(path), store, window_rows, progress).run()


def check_report(report: ImportReport) -> None:
    """HistoryImportError naming the first bad row when any row was bad (the good charts are stored)."""
    if report.bad_row_count:
        first = report.bad_rows[0]
        raise HistoryImportError(
            report.path,
            f"{report.bad_row_count} bad row(s), {len(report.charts_rejected)} chart(s) not stored; "
            f"first: line {first.line}: {first.problem}",
        )

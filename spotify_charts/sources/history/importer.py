"""Reading a history CSV: rows into charts, each chart handed to the writer when its rows end
(see the package docstring for the format and the rules).

Plain module (no Dagster import).
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import os
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from typing import IO

from zlib_ng import gzip_ng_threaded

from spotify_charts.regions import FIRST_CHART_DATE, daily_alias, region_names
from spotify_charts.sources.history.charts import ChartWriter, OpenChart, entry_rank
from spotify_charts.sources.history.report import HistoryImportError, ImportReport, Key
from spotify_charts.storage import FileStore

HEADER = ("title", "rank", "date", "artist", "url", "region", "chart", "trend", "streams")
TRACK_URL = "https://open.spotify.com/track/"
TRENDS = {"SAME_POSITION": "NO_CHANGE", "MOVE_UP": "MOVED_UP", "MOVE_DOWN": "MOVED_DOWN", "NEW_ENTRY": "NEW_ENTRY"}
MAX_RANK = 200
WINDOW_ROWS = 100_000  # rows of open charts kept in memory (~80 MB)
_TRACK_URI = "spotify:track:"
_GZIP_MAGIC = b"\x1f\x8b"


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


class Importer(ChartWriter):
    def __init__(
        self, path: str, store: FileStore, window_rows: int, progress: Callable[[int, int, int], None] | None
    ) -> None:
        super().__init__(path, store)
        self.window_rows = window_rows
        self.progress = progress
        self.codes = _region_codes()
        self.open: OrderedDict[Key, OpenChart] = OrderedDict()
        self.open_rows = 0
        self.dates: dict[str, dt.date | None] = {}

    def parse_date(self, text: str) -> dt.date | None:
        if text not in self.dates:
            try:
                day = dt.date.fromisoformat(text)
                self.dates[text] = day if FIRST_CHART_DATE <= day <= dt.date(2100, 1, 1) else None
            except ValueError:
                self.dates[text] = None
        return self.dates[text]

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
            self.close()
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
        chart: OpenChart | None = None
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

    def chart_for(self, key: Key, line: int) -> OpenChart:
        """The open chart of this key (a new one if none), most recently used last."""
        chart = self.open.get(key)
        if chart is not None:
            self.open.move_to_end(key)
            return chart
        chart = OpenChart(key, line)
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

    def finish(self, chart: OpenChart) -> None:
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
            chart.entries.sort(key=entry_rank)
        payload = self.payload(key, chart.entries, [chart.first_line, chart.last_line])
        self.store_payload(key, payload)


def import_history(
    path: str | os.PathLike[str],
    store: FileStore,
    progress: Callable[[int, int, int], None] | None = None,
    window_rows: int = WINDOW_ROWS,
) -> ImportReport:
    """Store every complete, valid top200 chart of a history CSV as a raw snapshot (see the module
    docstring). `progress(bytes_read, bytes_total, rows)` is called every 200,000 rows.

    Raises HistoryImportError when the file cannot be read at all; bad rows are in the report."""
    return Importer(str(path), store, window_rows, progress).run()

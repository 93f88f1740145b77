"""Reading a history CSV: rows into charts, each chart handed to the writer when its rows end
(see the package docstring for the format and the rules).

The file is read in blocks of whole lines. `columns.parse_block` reads a block column by column;
each run of a chart's rows then joins its chart as one piece of JSON (the chart stays "packed")
when it continues the chart's ranks in order. Anything else goes through the row-by-row reader
(`read_row`, Python's csv module), which is the reference: a block it reads, and a run that does
not continue its chart in order, get exactly the checks, messages and entries they always had.

Plain module (no Dagster import).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gc
import os
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from typing import IO

import numpy as np
import orjson

from spotify_charts.regions import FIRST_CHART_DATE, daily_alias, region_names
from spotify_charts.snapshots import TRACK_PREFIX
from spotify_charts.sources.history.charts import ChartWriter, OpenChart, entry_rank
from spotify_charts.sources.history.columns import HEADER, MAX_RANK, TRACK_URL, TRENDS, Block, credits, parse_block
from spotify_charts.sources.history.lines import FIRST_LINE, Blocks, Lines, open_binary
from spotify_charts.sources.history.report import HistoryImportError, ImportReport, Key
from spotify_charts.storage import FileStore, StoreError

WINDOW_ROWS = 100_000  # rows of open charts kept in memory (~30 MB)


def _region_codes() -> dict[str, str]:
    return {name.casefold(): code for code, name in region_names().items()}


class Importer(ChartWriter):
    def __init__(
        self,
        path: str,
        store: FileStore,
        window_rows: int,
        progress: Callable[[int, int, int], None] | None,
        fast: bool = True,
    ) -> None:
        super().__init__(path, store)
        self.window_rows = window_rows
        self.progress = progress
        self.fast = fast
        self.codes = _region_codes()
        self.open: OrderedDict[Key, OpenChart] = OrderedDict()
        self.open_rows = 0
        self.dates: dict[str, dt.date | None] = {}
        self.lines = Lines(self.read_on)
        self.reader = csv.reader(self.lines)
        self.blocks: Blocks | None = None
        self.lines_before = 0  # lines of the file read by the fast path (the reader counts its own)
        # The row-by-row reader's chart: the one of the last row whose region and date were read.
        self.chart: OpenChart | None = None
        self.region_text: str | None = None
        self.date_text: str | None = None
        self.row_chart: OpenChart | None = None  # the chart the last row read row by row joined

    @property
    def line(self) -> int:
        """The number of the last line read."""
        return self.lines_before + self.reader.line_num

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
        binary, raw = open_binary(self.path)
        size = os.fstat(raw.fileno()).st_size
        # Rows read one by one become small dicts that live until their chart is stored: the cyclic
        # collector would scan the whole window again and again. They form no cycles; refcounts free them.
        collecting = gc.isenabled()
        gc.disable()
        try:
            try:
                with binary, raw:
                    self.read(raw, size, Blocks(self.path, binary))
            except (OSError, EOFError, zlib.error) as exc:  # reading the file (the store's errors are StoreError)
                raise HistoryImportError(self.path, f"cannot be read ({exc})", self.line) from None
            self.drain(0)
            self.merge_late()
        except BaseException as exc:
            try:
                self.abandon(self.open.keys())
            except Exception:  # (e.g. the same full disk): the first error is the one to report
                pass
            if isinstance(exc, StoreError):  # (e.g. the disk is full): the import stops here, and says so
                error = HistoryImportError(self.path, f"stopped: {exc}", self.line)
                error.report = self.finish_report()
                raise error from None
            if isinstance(exc, HistoryImportError):
                exc.report = self.finish_report()
            raise
        finally:
            if collecting:
                gc.enable()
            self.close()
        self.finish_report()
        self.report.seconds = time.perf_counter() - start
        if self.progress:
            self.progress(size, size, self.report.rows)
        return self.report

    def finish_report(self) -> ImportReport:
        """The dates and regions of the charts stored, as they are once every chart is settled."""
        report = self.report
        report.dates = sorted({day for _, day in self.stored})
        report.regions = {alias.split("-")[1] for alias, _ in self.stored}
        report.first_date, report.last_date = (report.dates[0], report.dates[-1]) if report.dates else (None, None)
        return report

    def read(self, raw: IO[bytes], size: int, blocks: Blocks) -> None:
        self.blocks = blocks
        block = blocks.next()
        if block.startswith(codecs.BOM_UTF8):
            block = block[len(codecs.BOM_UTF8) :]
        end = FIRST_LINE.match(block).end()
        self.add_text(block[:end])
        header = next(self.reader, None)
        if header is None:
            raise HistoryImportError(self.path, "the file is empty")
        if tuple(column.strip() for column in header) != HEADER:
            raise HistoryImportError(self.path, f"header is {','.join(header)!r}, expected {','.join(HEADER)!r}", 1)
        if self.lines.lines:  # more lines in the header's: line ends that are carriage returns alone
            self.read_rows(b"")
        block = block[end:] or blocks.next()  # (the first block may hold the header alone)
        next_progress = 0
        while block:
            # (lines the row-by-row reader has not read yet come first: that reader reads the block)
            parsed = (
                parse_block(block, self.codes, self.parse_date, daily_alias)
                if self.fast and not self.lines.lines and not blocks.unterminated
                else None
            )
            if parsed is None:
                self.read_rows(block)
            else:
                self.add_block(parsed)
                self.lines_before += parsed.rows
            if self.progress and self.report.rows >= next_progress:
                next_progress = self.report.rows + 200_000
                self.progress(raw.tell(), size, self.report.rows)
            block = blocks.next()
        if blocks.unterminated and self.row_chart is not None:
            # A file cut short ends inside its last line, where a number may be cut too (941000 read
            # as 9410): nothing in the line itself shows it, so its chart is not stored.
            self.bad(
                self.line,
                "the last line has no line end: the file may be cut short (add a line end if the line is whole)",
                self.row_chart,
            )
        while self.open:
            self.close_oldest(keep=None)

    def add_text(self, block: bytes) -> None:
        """A block's lines for the row-by-row reader."""
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = self.line + block[: exc.start].count(b"\n") + 1
            raise HistoryImportError(self.path, f"not UTF-8 text ({exc.reason})", line) from None
        self.lines.add(text)

    def read_on(self) -> bool:
        """The next block for a row whose quoted value runs past its block's end (False at the end)."""
        block = self.blocks.next() if self.blocks else b""
        if block:
            self.add_text(block)
        return bool(block)

    def read_rows(self, block: bytes) -> None:
        """Every row of the block, one by one (and of the blocks after it that a row runs into)."""
        self.add_text(block)
        lines, reader, read_row = self.lines, self.reader, self.read_row
        while True:
            lines.at_row_start = True
            try:
                row = next(reader, None)
            except csv.Error as exc:  # a value longer than the csv module allows (128 KB): no chart data
                raise HistoryImportError(
                    self.path, f"not a CSV file in the history's layout ({exc})", self.line
                ) from None
            if row is None:
                return
            self.report.rows += 1
            read_row(row, self.line)

    def read_row(self, row: list[str], line: int) -> None:
        bad = self.bad
        chart = self.chart
        self.row_chart = None
        try:
            title, rank_text, row_date, artist, url, row_region, kind, trend, streams = row
        except ValueError:
            if row:  # (a blank line is no row)
                bad(line, f"{len(row)} columns, expected {len(HEADER)}", chart)
            return
        if kind != "top200":
            if kind == "viral50":
                self.report.viral_rows += 1
            else:
                bad(line, f"chart {kind!r} is neither top200 nor viral50", None)
            return
        if row_region != self.region_text or row_date != self.date_text:
            code = self.codes.get(row_region.strip().casefold())
            if code is None:
                unknown = self.report.unknown_regions
                unknown[row_region] = unknown.get(row_region, 0) + 1
                return
            day = self.parse_date(row_date)
            if day is None:
                bad(line, f"date {row_date!r} is not a chart date (YYYY-MM-DD, from {FIRST_CHART_DATE})", chart)
                return
            self.region_text, self.date_text = row_region, row_date
            chart = self.chart = self.chart_for((daily_alias(code), day), line)
        if chart.count:
            chart.unpack()
        try:
            rank = int(rank_text)
        except ValueError:
            bad(line, f"rank {rank_text!r} is not a number", chart)
            return
        if not 0 < rank <= MAX_RANK:
            bad(line, f"rank {rank} is not from 1 to {MAX_RANK}", chart)
            return
        if self.repeated(chart, line, rank):
            return
        track = url[len(TRACK_URL) :]
        if not url.startswith(TRACK_URL) or not track.isalnum() or not track.isascii():
            bad(line, f"url {url!r} is not {TRACK_URL}{{id}}", chart)
            return
        status = TRENDS.get(trend)
        data: dict[str, object] = {"currentRank": rank}
        if status is not None:
            data["entryStatus"] = status
        elif trend:
            bad(line, f"trend {trend!r} is not one of {', '.join(TRENDS)}", chart)
            return
        if streams:
            if not streams.isdigit():
                if streams.endswith(".0") and streams[:-2].isdigit():
                    streams = streams[:-2]
                else:
                    bad(line, f"streams {streams!r} is not a number", chart)
                    return
            data["rankingMetric"] = {"value": streams, "type": "STREAMS"}
        if not title:
            self.warn(line, "the track title is empty (stored as it is)")
        entry = {
            "chartEntryData": data,
            "trackMetadata": {"trackName": title, "trackUri": TRACK_PREFIX + track, "artists": credits(artist)},
        }
        self.add_entry(chart, line, rank, entry)

    def repeated(self, chart: OpenChart, line: int, rank: int) -> bool:
        """Whether an unpacked chart has this rank already (the row is then reported bad)."""
        if rank not in chart.ranks:
            return False
        self.bad(line, f"rank {rank} appears more than once (first on line {chart.ranks[rank]})", chart)
        return True

    def add_entry(self, chart: OpenChart, line: int, rank: int, entry: dict) -> None:
        """One good row of an unpacked chart (its rank not in the chart yet)."""
        if rank < chart.top:
            chart.ordered = False
        else:
            chart.top = rank
        chart.ranks[rank] = chart.last_line = line
        chart.entries.append(entry)
        self.row_chart = chart
        self.open_rows += 1
        if self.open_rows > self.window_rows:
            self.close_oldest(keep=chart.key)

    def add_block(self, block: Block) -> None:
        """A block the fast path read: each run of a chart's rows joins its chart as one piece of
        JSON when it continues the chart's ranks in order (the common case), else row by row."""
        report = self.report
        report.rows += block.rows
        report.viral_rows += block.viral_rows
        for name, count in block.unknown_regions.items():
            report.unknown_regions[name] = report.unknown_regions.get(name, 0) + count
        first = self.line + 1  # the block's first line
        for run in block.runs:
            start, end = run.start, run.end
            lines = block.lines[start:end] + first
            chart = self.chart_for((run.alias, run.day), int(lines[0]))
            ranks = block.ranks[start:end]
            in_order = (
                not run.repeats_a_track
                and not chart.entries
                and not chart.errors
                and ranks[0] == chart.top + 1
                and bool((np.diff(ranks) == 1).all())
            )
            if in_order:
                chart.pack(block.entries_json(start, end), lines, int(ranks[-1]))
                self.grown(chart, end - start)
                continue
            chart.unpack()
            entries = orjson.loads(b"[" + block.entries_json(start, end) + b"]")
            for line, rank, entry in zip(lines.tolist(), ranks.tolist(), entries, strict=True):
                if not self.repeated(chart, line, rank):
                    self.add_entry(chart, line, rank, entry)
        if block.runs:
            self.chart = self.open.get((block.runs[-1].alias, block.runs[-1].day))
            self.region_text, self.date_text = block.last_region, block.last_date

    def grown(self, chart: OpenChart, rows: int) -> None:
        """`rows` rows joined `chart`: close the oldest other charts as `add_entry` would, row by row."""
        while rows:
            room = self.window_rows - self.open_rows  # rows that fit before the window is exceeded
            if room >= rows:
                self.open_rows += rows
                return
            step = room + 1 if room >= 0 else 1
            self.open_rows += step
            rows -= step
            self.close_oldest(keep=chart.key)

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
        self.open_rows -= chart.size
        if chart is self.chart:
            self.chart = None
            self.region_text = self.date_text = None
        self.finish(chart)

    def finish(self, chart: OpenChart) -> None:
        key = chart.key
        if key in self.stored or key in self.rejected:
            self.spill(chart)
            return
        if chart.errors:
            self.reject(key)
            return
        if not chart.size:
            return
        if chart.top != chart.size:  # ranks not 1..N yet: the rest may come later, keep it aside
            self.spill(chart)
            return
        if chart.count:  # packed: its entries are JSON already, in rank order
            self.store_json(key, chart)
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
    fast: bool = True,
) -> ImportReport:
    """Store every complete, valid top200 chart of a history CSV as a raw snapshot (see the module
    docstring). `progress(bytes_read, bytes_total, rows)` is called every 200,000 rows.

    Raises HistoryImportError when the file cannot be read at all; bad rows are in the report."""
    return Importer(str(path), store, window_rows, progress, fast).run()

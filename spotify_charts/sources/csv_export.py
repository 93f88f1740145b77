"""Chart CSV downloads from charts.spotify.com as a chart source, and the scan behind their sensor.

A user without a token downloads `regional-{code}-daily-{YYYY-MM-DD}.csv` files (UTF-8 with a
byte-order mark; header `rank,uri,artist_names,track_name,source,peak_rank,previous_rank,
days_on_chart,streams`) into the CSV folder (`settings.CSV_DIR`). Each valid file becomes the raw snapshot of
its chart and date, converted to the charts service's payload shape so the rest of the pipeline
reads one format: `source` is recorded as `csv`, the CSV's `source` column (the label) becomes
the label, `artist_names` is split on ", " into credits without artist URIs, `days_on_chart`
becomes `appearancesOnChart`. What the CSV does not carry (artist URIs, release date, image,
entry status) is left out, as the service leaves out optional fields.

A malformed file (wrong name, wrong header, a rank or number that is not one, a URI that is not
a track's, a rank twice, a date after today) raises `CsvExportError` naming the file and line;
nothing of it is used.

A file is read only once it has settled (`read_settled`: unchanged for `SETTLE_SECONDS`, the rule
the `csv_exports` sensor's scan uses too), so a download still being written is never stored half.
A snapshot records its file's SHA-256; when the file changes later, the source says so
(`changed_since`) and the raw step imports it again.

Plain module (no Dagster import).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import re
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import orjson

from spotify_charts import settings
from spotify_charts.regions import FIRST_CHART_DATE, daily_alias, region_names
from spotify_charts.snapshots import SnapshotError
from spotify_charts.snapshots.rules import check_payload, valid_streams, valid_track_uri
from spotify_charts.sources import FetchedChart, utc_today

HEADER = (
    "rank",
    "uri",
    "artist_names",
    "track_name",
    "source",
    "peak_rank",
    "previous_rank",
    "days_on_chart",
    "streams",
)
FILE_NAME = "regional-{code}-daily-{YYYY-MM-DD}.csv"
_FILE_NAME = re.compile(r"^regional-(?P<region>[a-z]{2}|global)-daily-(?P<date>\d{4}-\d{2}-\d{2})\.csv$")


class CsvExportError(ValueError):
    """A chart CSV that cannot be imported; the message names the file and, where it applies, the line."""

    def __init__(self, path: str | os.PathLike[str], problem: str, line: int | None = None) -> None:
        where = f"{path}, line {line}" if line else str(path)
        super().__init__(f"{where}: {problem}")
        self.path = str(path)
        self.line = line
        self.problem = problem


def export_name(alias: str, chart_date: dt.date) -> str:
    """The file name charts.spotify.com gives the CSV of a chart and date."""
    return f"{alias}-{chart_date.isoformat()}.csv"


def parse_export_name(path: str | os.PathLike[str]) -> tuple[str, dt.date]:
    """The chart alias and date a CSV's file name stands for; CsvExportError when it is not one."""
    name = Path(path).name
    match = _FILE_NAME.match(name)
    if not match:
        raise CsvExportError(path, f"file name {name!r} is not {FILE_NAME} (a daily regional chart)")
    if match["region"] not in region_names():
        raise CsvExportError(path, f"{match['region']!r} is not a region code with Spotify charts")
    try:
        chart_date = dt.date.fromisoformat(match["date"])
    except ValueError:
        raise CsvExportError(path, f"{match['date']!r} in the file name is not a date") from None
    if chart_date < FIRST_CHART_DATE:
        raise CsvExportError(path, f"{chart_date} is before the first Spotify chart ({FIRST_CHART_DATE})")
    latest = utc_today() + dt.timedelta(days=1)  # (a day's tolerance: it is already tomorrow somewhere)
    if chart_date > latest:
        raise CsvExportError(path, f"{chart_date} in the file name is in the future (the latest chart is {latest})")
    return daily_alias(match["region"]), chart_date


# A CSV changed this recently may still be being written (a browser download, a copy): the sensor
# leaves it for its next tick, the source waits for it (at most MAX_WAIT_SECONDS).
SETTLE_SECONDS = 5.0
MAX_WAIT_SECONDS = 60.0


def changed_ns(stat: os.stat_result) -> int:
    """When the file last changed in any way the OS sees (written, copied, renamed, rewritten)."""
    return max(stat.st_mtime_ns, stat.st_ctime_ns)


def is_settled(stat: os.stat_result, now_ns: int) -> bool:
    """Unchanged for SETTLE_SECONDS: no longer being written."""
    return changed_ns(stat) <= now_ns - int(SETTLE_SECONDS * 1e9)


def read_settled(path: Path) -> bytes:
    """The file's bytes once it has settled and did not change while read (FileNotFoundError if absent)."""
    deadline = time.monotonic() + MAX_WAIT_SECONDS
    while True:
        before = path.stat()
        if is_settled(before, time.time_ns()):
            data = path.read_bytes()
            after = path.stat()
            unchanged = (after.st_size, changed_ns(after)) == (before.st_size, changed_ns(before))
            if unchanged and len(data) == after.st_size:
                return data
        if time.monotonic() >= deadline:
            raise CsvExportError(
                path,
                f"still changing after {MAX_WAIT_SECONDS:.0f} s: is it still being written? Run again once it is whole",
            )
        time.sleep(min(max(SETTLE_SECONDS / 5, 0.05), max(deadline - time.monotonic(), 0)))


def convert_export(path: str | os.PathLike[str], data: bytes) -> FetchedChart:
    """The CSV's chart as a payload in the charts service's shape (see the module docstring)."""
    alias, chart_date = parse_export_name(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CsvExportError(path, f"not UTF-8 text (byte {exc.start})", line) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise CsvExportError(path, "the file is empty")
    if tuple(column.strip() for column in header) != HEADER:
        hint = " (a weekly chart's CSV; only daily charts are imported)" if "weeks_on_chart" in header else ""
        raise CsvExportError(path, f"header is {','.join(header)!r}, expected {','.join(HEADER)!r}{hint}", 1)
    entries = []
    seen: dict[int, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue  # a blank line (some tools end the file with one)
        if len(row) != len(HEADER):
            raise CsvExportError(path, f"{len(row)} columns, expected {len(HEADER)}", line)
        values = dict(zip(HEADER, row))
        rank = _integer(path, line, values, "rank", minimum=1)  # a whole number >= 1: valid_rank, with the line
        if rank in seen:  # the payload rules' "rank twice", said with both lines
            raise CsvExportError(path, f"rank {rank} appears more than once (first on line {seen[rank]})", line)
        seen[rank] = line
        uri = values["uri"].strip()
        if not valid_track_uri(uri):
            raise CsvExportError(path, f"uri {uri!r} is not a Spotify track URI", line)
        streams = values["streams"].strip()
        if streams and not valid_streams(streams):
            raise CsvExportError(path, f"streams {streams!r} is not a number", line)
        entry_data: dict[str, object] = {
            "currentRank": rank,
            "previousRank": _integer(path, line, values, "previous_rank", minimum=-1, blank=-1),
            "peakRank": _integer(path, line, values, "peak_rank", minimum=1),
            "appearancesOnChart": _integer(path, line, values, "days_on_chart", minimum=1),
        }
        if streams:
            entry_data["rankingMetric"] = {"value": streams, "type": "STREAMS"}
        label = values["source"].strip()
        entries.append(
            {
                "chartEntryData": entry_data,
                "trackMetadata": {
                    "trackName": values["track_name"],
                    "trackUri": uri,
                    "artists": [{"name": name} for name in values["artist_names"].split(", ") if name.strip()],
                    "labels": [{"name": label}] if label else [],
                },
            }
        )
    if not entries:
        raise CsvExportError(path, "the file has a header but no chart entries")
    payload = {
        "displayChart": {"date": chart_date.isoformat(), "chartMetadata": {"alias": alias}},
        "entries": entries,
        "csvExport": {"fileName": Path(path).name, "sha256": hashlib.sha256(data).hexdigest()},
    }
    try:  # the payload rules, as the service's payloads get them (the rest: ranks 1..N, a track twice)
        count = check_payload(str(path), payload)
    except SnapshotError as exc:
        raise CsvExportError(path, exc.problem) from None
    return FetchedChart(orjson.dumps(payload), count)


def _integer(path, line: int, values: Mapping[str, str], column: str, minimum: int, blank: int | None = None) -> int:
    text = values[column].strip()
    if not text and blank is not None:
        return blank
    try:
        number = int(text)
    except ValueError:
        raise CsvExportError(path, f"{column} {text!r} is not a number", line) from None
    if number < minimum:
        raise CsvExportError(path, f"{column} {number} is below {minimum}", line)
    return number


class CsvExportSource:
    """Charts from the CSV files in a folder: a chart is there when its file is (else None)."""

    name = "csv"
    max_concurrency = 2

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def path(self, alias: str, chart_date: dt.date) -> Path:
        return self.folder / export_name(alias, chart_date)

    def fetch(self, alias: str, chart_date: dt.date) -> FetchedChart | None:
        path = self.path(alias, chart_date)
        try:
            data = read_settled(path)
        except FileNotFoundError:
            return None
        return convert_export(path, data)

    def changed_since(self, alias: str, chart_date: dt.date, payload: dict) -> bool:
        """Whether the CSV of a chart stored from it (`payload`) changed since: a new SHA-256."""
        stored = payload.get("csvExport")
        if not isinstance(stored, dict):
            return False  # stored from another source: not this one's to replace
        try:
            data = read_settled(self.path(alias, chart_date))
        except FileNotFoundError:
            return False  # (moved away since: the snapshot stays)
        return hashlib.sha256(data).hexdigest() != stored.get("sha256")

    def latest_date(self, alias: str) -> dt.date | None:
        dates = []
        for entry in os.scandir(self.folder):
            try:
                file_alias, chart_date = parse_export_name(entry.name)
            except CsvExportError:
                continue
            if file_alias == alias:
                dates.append(chart_date)
        return max(dates, default=None)


def read_exports(folder: str | os.PathLike[str], names: Iterable[str]) -> list[tuple[str, dt.date, FetchedChart]]:
    """Every named CSV converted (alias, date, chart), or CsvExportError for the first bad one.

    All are read before any is stored, so a malformed file in a run stores nothing of the run."""
    converted = []
    for name in names:
        if Path(name).name != name:
            raise CsvExportError(name, f"not a file name in {settings.CSV_DIR.name}")
        path = Path(folder) / name
        try:
            data = read_settled(path)
        except FileNotFoundError:
            raise CsvExportError(path, "no such file (moved or deleted since it was found?)") from None
        alias, chart_date = parse_export_name(path)
        converted.append((alias, chart_date, convert_export(path, data)))
    return converted

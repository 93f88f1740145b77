"""Fetch charts into the raw store, and load raw snapshots into the warehouse's staging tables.

The two steps behind the raw and staging assets, as plain functions (no Dagster import).
"""

from __future__ import annotations

import datetime as dt
import gzip
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import NamedTuple

import orjson

from spotify_charts import settings
from spotify_charts.snapshots import Snapshot, SnapshotError
from spotify_charts.snapshots.arrow import CHUNK_SIZE, ChartTables, parse_chunk
from spotify_charts.snapshots.files import encode_snapshot, snapshot_source
from spotify_charts.sources import ChartSource, FetchedChart
from spotify_charts.sources.csv_export import export_name
from spotify_charts.storage import FileStore, quarantine_key, snapshot_key
from spotify_charts.warehouses.base import Warehouse


@dataclass
class FetchReport:
    charts: int = 0  # chart-days asked for
    fetched: int = 0
    reused: int = 0  # already stored, not fetched again
    missing: list[str] = field(default_factory=list)  # "alias/date" the source has no chart for
    entries: int = 0  # entries in the fetched payloads
    bytes: int = 0  # gzipped bytes written
    # corrupt stored snapshots fetched again: {"snapshot", "problem", "kept_at"} (the old bytes' copy)
    quarantined: list[dict[str, str]] = field(default_factory=list)
    changed: list[tuple[str, dt.date]] = field(default_factory=list)  # stored, changed at the source since: again


class Corrupt(NamedTuple):
    """A stored snapshot the loader would refuse, and why."""

    snapshot: Snapshot
    error: SnapshotError


@dataclass
class LoadReport:
    snapshots: int = 0
    entry_rows: int = 0
    artist_rows: int = 0
    charts: set[str] = field(default_factory=set)


def fetch_snapshots(
    source: ChartSource,
    store: FileStore,
    aliases: Sequence[str],
    dates: Sequence[dt.date],
    refresh: bool = False,
) -> FetchReport:
    """Store every chart of `aliases` for `dates` that is not stored yet (all of them if `refresh`).

    A stored snapshot counts only if the loader would accept it: one that is corrupt (empty, not
    gzip, not JSON, a broken payload) is fetched again, and its bytes are kept for inspection
    under `quarantine/{time}/{key}` (written there, then the fresh snapshot over the original:
    the key always holds a whole file, and no store needs a rename). When the source cannot give
    the chart again, the corrupt file stays where it is and SnapshotError says how to replace it.

    Each snapshot is written as soon as it is fetched, so a failure keeps the charts fetched before it.
    """
    started = dt.datetime.now(dt.UTC)
    report = FetchReport(charts=len(aliases) * len(dates))
    wanted = [(alias, day) for day in dates for alias in aliases]
    corrupt: dict[tuple[str, dt.date], Corrupt] = {}
    if not refresh:
        stored = store.existing(snapshot_key(a, d) for a, d in wanted)
        corrupt = find_corrupt(store, [(a, d) for a, d in wanted if snapshot_key(a, d) in stored], source.name)
        whole = [(a, d) for a, d in wanted if snapshot_key(a, d) in stored and (a, d) not in corrupt]
        report.changed = changed_at_source(source, store, whole)
        again = set(report.changed)
        todo = [(a, d) for a, d in wanted if snapshot_key(a, d) not in stored or (a, d) in corrupt or (a, d) in again]
        report.reused = len(wanted) - len(todo)
    else:
        todo = wanted
    # A snapshot from another source (a CSV import while the sample or API source runs) is not
    # replaced by this one: that would swap real charts for simulated ones, or mix sources.
    unhealed = [
        (item, f"it came from the '{old.snapshot.source}' source, which this run's source ('{source.name}') must "
               f"not replace; {_how_to_replace(old.snapshot, source)}")
        for item, old in corrupt.items()
        if snapshot_source(old.snapshot.data) not in (None, source.name)
    ]  # fmt: skip
    kept = {item for item, _ in unhealed}
    todo = [item for item in todo if item not in kept]

    def fetch_one(item: tuple[str, dt.date]) -> tuple[str, dt.date, int, int] | None:
        alias, day = item
        chart = source.fetch(alias, day)
        if chart is None:
            return None
        data = encode_snapshot(chart.body, source.name)
        key = snapshot_key(alias, day)
        if item in corrupt:
            store.write(quarantine_key(key, started), corrupt[item].snapshot.data)
        store.write(key, data)
        return alias, day, chart.entries, len(data)

    # Two workers for the sample source (simulated per alias in order); the API source says how
    # many requests may be in flight (settings.MAX_CONCURRENCY), its rate limiter the pace.
    with ThreadPoolExecutor(max_workers=getattr(source, "max_concurrency", 2)) as pool:
        for item, result in zip(todo, pool.map(fetch_one, todo)):
            if result is None and item in corrupt:
                how = _how_to_replace(corrupt[item].snapshot, source)
                unhealed.append((item, f"the '{source.name}' source has no chart for it; {how}"))
            elif result is None:
                report.missing.append(f"{item[0]}/{item[1].isoformat()}")
            else:
                report.fetched += 1
                report.entries += result[2]
                report.bytes += result[3]
                if item in corrupt:
                    key = snapshot_key(*item)
                    report.quarantined.append(
                        {"snapshot": store.uri(key), "problem": corrupt[item].error.problem,
                         "kept_at": store.uri(quarantine_key(key, started))}
                    )  # fmt: skip
    if unhealed:
        (first, remedy), more = unhealed[0], len(unhealed) - 1
        error = corrupt[first].error
        raise SnapshotError(
            error.location, f"{error.problem}; {remedy}" + (f" (and {more} more corrupt snapshot(s))" if more else "")
        )
    return report


def changed_at_source(
    source: ChartSource, store: FileStore, charts: Sequence[tuple[str, dt.date]]
) -> list[tuple[str, dt.date]]:
    """The stored charts that the source has changed since (a CSV rewritten after its import).

    Only a source that can tell (one with `changed_since`, the CSV folder) is asked."""
    changed_since = getattr(source, "changed_since", None)
    if changed_since is None or not charts:
        return []
    stored = store.read_many([snapshot_key(alias, day) for alias, day in charts])
    return [
        (alias, day)
        for (alias, day), data in zip(charts, stored)
        if data is not None and changed_since(alias, day, orjson.loads(gzip.decompress(data)))
    ]


def find_corrupt(
    store: FileStore, charts: Sequence[tuple[str, dt.date]], default_source: str
) -> dict[tuple[str, dt.date], Corrupt]:
    """The stored snapshots of these charts that the loader would refuse, each with its error.

    Checked as the loader parses them (in chunks, on two threads); only a chunk that fails is
    parsed again one snapshot at a time, to find every bad one in it.
    """
    checked_at = dt.datetime.now(dt.UTC)
    chunks = [charts[i : i + CHUNK_SIZE] for i in range(0, len(charts), CHUNK_SIZE)]

    def check(chunk: Sequence[tuple[str, dt.date]]) -> dict[tuple[str, dt.date], Corrupt]:
        snapshots = read_snapshots(store, chunk, default_source)
        try:
            parse_chunk(snapshots, checked_at)
            return {}
        except SnapshotError:
            pass
        bad = {}
        for snapshot in snapshots:
            try:
                parse_chunk([snapshot], checked_at)
            except SnapshotError as exc:
                bad[(snapshot.chart_id, snapshot.chart_date)] = Corrupt(snapshot, exc)
        return bad

    found: dict[tuple[str, dt.date], Corrupt] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for bad in pool.map(check, chunks):
            found.update(bad)
    return found


def _how_to_replace(snapshot: Snapshot, source: ChartSource) -> str:
    """What a person does about a corrupt snapshot the pipeline cannot fetch again."""
    csv_name = export_name(snapshot.chart_id, snapshot.chart_date)
    folder = getattr(source, "folder", None)  # the CSV source reads a folder: name the very file
    where = f"{folder}/{csv_name}" if folder else f"{csv_name} into the CSV folder ({settings.CSV_DIR.name})"
    return (
        f"replace {snapshot.location} with a valid snapshot: for a CSV import, put {where} and materialise "
        f"raw_chart_snapshots for {snapshot.chart_date} with run config csv_files: ['{csv_name}']"
    )


def store_charts(
    store: FileStore, source_name: str, charts: Sequence[tuple[str, dt.date, FetchedChart]]
) -> FetchReport:
    """Store charts already in hand (converted CSV exports), replacing any snapshot of the same chart and date."""
    report = FetchReport(charts=len(charts))
    for alias, day, chart in charts:
        data = encode_snapshot(chart.body, source_name)
        store.write(snapshot_key(alias, day), data)
        report.fetched += 1
        report.entries += chart.entries
        report.bytes += len(data)
    return report


def read_snapshots(store: FileStore, charts: Sequence[tuple[str, dt.date]], default_source: str) -> list[Snapshot]:
    """The stored snapshots of these charts and dates, leaving out those with none."""
    keys = [snapshot_key(alias, day) for alias, day in charts]
    return [
        Snapshot(alias, day, snapshot_source(data) or default_source, store.uri(key), data)
        for (alias, day), key, data in zip(charts, keys, store.read_many(keys))
        if data is not None
    ]


# Chunks parsed ahead of the warehouse at most (each ~128 snapshots, a few MB of Arrow): the
# parsers are faster than an insert, and with no bound a large backfill's whole history would wait
# in memory (9 GB at 26 million entries) before it reached the warehouse.
PARSED_AHEAD = 4


def map_ahead(pool: ThreadPoolExecutor, fn: Callable, items: Iterable, ahead: int) -> Iterator:
    """`pool.map(fn, items)` in order, but never more than `ahead` results waiting for the consumer
    (`pool.map` submits every item at once and keeps every result until it is taken)."""
    pending: deque[Future] = deque()
    try:
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) > ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:  # the consumer stopped (an error): what has not started does not start
        for future in pending:
            future.cancel()


def load_staging(
    store: FileStore,
    warehouse: Warehouse,
    aliases: Sequence[str],
    dates: Sequence[dt.date],
    default_source: str,
) -> LoadReport:
    """Replace staging rows of these charts and dates with what the raw store holds.

    Two worker threads each read, decompress, parse and flatten a chunk of snapshots while the
    warehouse inserts the chunks already done, all in one transaction.
    """
    loaded_at = dt.datetime.now(dt.UTC)
    wanted = [(alias, day) for day in dates for alias in aliases]
    chunks = [wanted[i : i + CHUNK_SIZE] for i in range(0, len(wanted), CHUNK_SIZE)]
    report = LoadReport()

    def work(chunk: list[tuple[str, dt.date]]) -> tuple[list[str], ChartTables]:
        snapshots = read_snapshots(store, chunk, default_source)
        return [s.chart_id for s in snapshots], parse_chunk(snapshots, loaded_at)

    def tallied(results: Iterator[tuple[list[str], ChartTables]]) -> Iterator[ChartTables]:
        # Counted here, in the consuming thread, so the workers share no mutable state.
        for chart_ids, tables in results:
            report.snapshots += len(chart_ids)
            report.charts.update(chart_ids)
            report.artist_rows += tables.artists.num_rows
            yield tables

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            batches = tallied(map_ahead(pool, work, chunks, PARSED_AHEAD))
            report.entry_rows = warehouse.replace_charts(aliases, min(dates), max(dates), batches)
    except SnapshotError as exc:  # nothing was replaced (one transaction): say how to heal it
        raise SnapshotError(
            exc.location,
            f"{exc.problem}. Nothing was loaded. Materialise raw_chart_snapshots for that date again: it fetches a "
            "corrupt snapshot again and keeps the bad file under quarantine/ (a CSV import: its error names the file "
            "to replace)",
        ) from None
    return report

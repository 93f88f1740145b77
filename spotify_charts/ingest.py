"""Fetch charts into the raw store, and load raw snapshots into the warehouse's staging tables.

The two steps behind the raw and staging assets, as plain functions (no Dagster import).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from spotify_charts.snapshots import Snapshot
from spotify_charts.snapshots.arrow import CHUNK_SIZE, ChartTables, parse_chunk
from spotify_charts.snapshots.files import encode_snapshot, snapshot_source
from spotify_charts.sources import ChartSource, FetchedChart
from spotify_charts.storage import FileStore, snapshot_key
from spotify_charts.warehouses.base import Warehouse


@dataclass
class FetchReport:
    charts: int = 0  # chart-days asked for
    fetched: int = 0
    reused: int = 0  # already stored, not fetched again
    missing: list[str] = field(default_factory=list)  # "alias/date" the source has no chart for
    entries: int = 0  # entries in the fetched payloads
    bytes: int = 0  # gzipped bytes written


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

    Each snapshot is written as soon as it is fetched, so a failure keeps the charts fetched before it.
    """
    report = FetchReport(charts=len(aliases) * len(dates))
    wanted = [(alias, day) for day in dates for alias in aliases]
    if not refresh:
        stored = store.existing(snapshot_key(a, d) for a, d in wanted)
        todo = [(a, d) for a, d in wanted if snapshot_key(a, d) not in stored]
        report.reused = len(wanted) - len(todo)
    else:
        todo = wanted

    def fetch_one(item: tuple[str, dt.date]) -> tuple[str, dt.date, int, int] | None:
        alias, day = item
        chart = source.fetch(alias, day)
        if chart is None:
            return None
        data = encode_snapshot(chart.body, source.name)
        store.write(snapshot_key(alias, day), data)
        return alias, day, chart.entries, len(data)

    # Two workers for the sample source (simulated per alias in order); the API source says how
    # many requests may be in flight (settings.MAX_CONCURRENCY), its rate limiter the pace.
    with ThreadPoolExecutor(max_workers=getattr(source, "max_concurrency", 2)) as pool:
        for item, result in zip(todo, pool.map(fetch_one, todo)):
            if result is None:
                report.missing.append(f"{item[0]}/{item[1].isoformat()}")
            else:
                report.fetched += 1
                report.entries += result[2]
                report.bytes += result[3]
    return report


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

    with ThreadPoolExecutor(max_workers=2) as pool:
        batches = tallied(pool.map(work, chunks))
        report.entry_rows = warehouse.replace_charts(aliases, min(dates), max(dates), batches)
    return report

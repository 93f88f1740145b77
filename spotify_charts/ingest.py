"""Fetch charts into the raw store, and load raw snapshots into the warehouse's staging tables.

The two steps behind the raw and staging assets, as plain functions (no Dagster import).
"""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from spotify_charts.payload import ChartTables, Snapshot, parse_snapshots
from spotify_charts.sources import ChartSource
from spotify_charts.stores import RawStore, snapshot_key
from spotify_charts.warehouse import Warehouse


@dataclass
class FetchReport:
    charts: int = 0  # chart-days asked for
    fetched: int = 0
    reused: int = 0  # already stored, not fetched again
    missing: list[str] = field(default_factory=list)  # "alias/date" the source has no chart for
    entries: int = 0  # entries in the fetched payloads
    bytes: int = 0  # gzipped bytes written


def fetch_snapshots(
    source: ChartSource,
    store: RawStore,
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
        todo = [(a, d) for a, d in wanted if not store.exists(snapshot_key(a, d))]
        report.reused = len(wanted) - len(todo)
    else:
        todo = wanted

    def fetch_one(item: tuple[str, dt.date]) -> tuple[str, dt.date, int, int] | None:
        alias, day = item
        chart = source.fetch(alias, day)
        if chart is None:
            return None
        # mtime=0: the same payload always gives the same bytes.
        data = gzip.compress(chart.body, compresslevel=6, mtime=0)
        store.write(snapshot_key(alias, day), data, {"source": source.name})
        return alias, day, chart.entries, len(data)

    # Charts are simulated per alias in order; one worker per alias keeps each one's days in order.
    with ThreadPoolExecutor(max_workers=2) as pool:
        for item, result in zip(todo, pool.map(fetch_one, todo)):
            if result is None:
                report.missing.append(f"{item[0]}/{item[1].isoformat()}")
            else:
                report.fetched += 1
                report.entries += result[2]
                report.bytes += result[3]
    return report


def read_snapshots(
    store: RawStore, aliases: Sequence[str], dates: Sequence[dt.date], default_source: str
) -> list[Snapshot]:
    """Every stored snapshot of these charts and dates (absent ones are skipped)."""
    snapshots = []
    for day in dates:
        for alias in aliases:
            key = snapshot_key(alias, day)
            try:
                data = store.read(key)
            except FileNotFoundError:
                continue
            source = store.read_metadata(key).get("source", default_source)
            snapshots.append(Snapshot(alias, day, source, store.uri(key), data))
    return snapshots


def load_staging(
    store: RawStore,
    warehouse: Warehouse,
    aliases: Sequence[str],
    dates: Sequence[dt.date],
    default_source: str,
) -> ChartTables:
    """Replace staging rows of these charts and dates with what the raw store holds."""
    snapshots = read_snapshots(store, aliases, dates, default_source)
    tables = parse_snapshots(snapshots)
    warehouse.replace_charts(aliases, min(dates), max(dates), tables)
    return tables

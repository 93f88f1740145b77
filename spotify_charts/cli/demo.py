"""Command line for `make demo`: check the settings and the date window, run every asset (two runs,
in one Dagster process), report.

Usage: python -m spotify_charts.cli.demo demo [--start YYYY-MM-DD] [--end YYYY-MM-DD]

Every setting is parsed and checked (and the data folder's writability) before Dagster is started,
so a bad one ends the command with one line and exit status 2, and no run is recorded. The runs
themselves execute in a child process (`python -m spotify_charts.cli.demo runs FIRST LAST`), so
that Ctrl-C can end them and a second Ctrl-C stop them at once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys

from spotify_charts import settings, storage, warehouses
from spotify_charts.dashboard.data import CONTRACT_TABLES
from spotify_charts.dashboard.page import PAGE_KEY
from spotify_charts.regions import FIRST_CHART_DATE
from spotify_charts.storage import RAW_PREFIX, FileStore
from spotify_charts.warehouses.base import Warehouse
from spotify_charts.warehouses.duckdb import DuckDBWarehouse

# After Ctrl-C, how long Dagster may take to mark its run canceled or failed before it is killed.
INTERRUPT_GRACE_SECONDS = 30


class DateRangeError(ValueError):
    pass


def demo_window(start: str | None, end: str | None, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The demo's chart dates: default the 365 days ending yesterday (UTC); errors say what is wrong."""
    today = today or dt.datetime.now(dt.UTC).date()
    yesterday = today - dt.timedelta(days=1)

    def parse(name: str, value: str) -> dt.date:
        try:
            return settings.parse_date(value)
        except ValueError as exc:
            raise DateRangeError(f"{name}={value!r} is not valid: {exc}") from None

    last = parse("END", end) if end else yesterday
    first = parse("START", start) if start else last - dt.timedelta(days=364)
    if first < FIRST_CHART_DATE:
        raise DateRangeError(f"START={first} is before the first Spotify daily charts ({FIRST_CHART_DATE})")
    if last > yesterday:
        raise DateRangeError(f"END={last} is in the future: the latest complete chart date is {yesterday} (UTC)")
    if first > last:
        raise DateRangeError(f"START={first} is after END={last}")
    return first, last


def _targets() -> tuple[FileStore, Warehouse]:
    """The raw store and warehouse the run wrote to, from the same settings the run used."""
    values = settings.load()
    return storage.from_settings(values), warehouses.from_settings(values)


def _report(store: FileStore, warehouse: Warehouse) -> str:
    local = isinstance(warehouse, DuckDBWarehouse)
    where = str(warehouse.path) if local else repr(warehouse)
    lines = [f"Raw snapshots: {store.uri(RAW_PREFIX)}", f"Warehouse:     {where}"]
    for table in ("staging.chart_entries", "staging.chart_entry_artists", "marts.fct_chart_entries"):
        sql = f"select count(*) as n, min(chart_date) as first, max(chart_date) as last from {table}"
        (row,) = warehouse.query(sql)
        lines.append(f"  {table:<30} {row['n']:>10,} rows  {row['first']} .. {row['last']}")
    lines.append('Contract tables (README, "Analytics"):')
    for name in CONTRACT_TABLES:
        (row,) = warehouse.query(f"select count(*) as n, count(distinct chart_id) as charts from marts.{name}")
        lines.append(f"  marts.{name:<30} {row['n']:>8,} rows  {row['charts']} charts")
    explore = f"duckdb {warehouse.path}" if local else "psql"
    lines.append(f"Explore: make dev (Dagster UI), or {explore}")
    if store.exists(PAGE_KEY):
        page = store.uri(PAGE_KEY)
        how = f"aws s3 cp {page} . and open it" if page.startswith("s3://") else "open it in any browser"
        lines.append(f"Dashboard:     {page}  ({how}; it works offline)")
    return "\n".join(lines)


def _release_dead_runs() -> list[str]:
    """End runs of this instance whose process is gone and free their warehouse slots; say so."""
    from spotify_charts.defs.automation.dead_runs import tidy_local_instance  # imports Dagster: only when needed

    lines = tidy_local_instance(settings.get(settings.KEEP_FAILED_RUNS_DAYS))
    for line in lines:
        print(f"note: {line}", file=sys.stderr, flush=True)
    return lines


def _run_to_the_end(command: list[str], env: dict[str, str]) -> int:
    """Run the Dagster process; on Ctrl-C let it end its run (CANCELED or FAILURE), then make sure
    no run of it is left STARTED or holding the warehouse slot."""
    process = subprocess.Popen(command, env=env)
    try:
        return process.wait()
    except KeyboardInterrupt:
        # The terminal sent SIGINT to the whole process group: Dagster is ending its run already.
        print("\ninterrupted: ending the run (Ctrl-C again to stop at once)", file=sys.stderr, flush=True)
        try:
            process.wait(timeout=INTERRUPT_GRACE_SECONDS)
        except (KeyboardInterrupt, subprocess.TimeoutExpired):
            process.kill()
            process.wait()
        return 130
    finally:
        if process.returncode != 0:
            _release_dead_runs()


def _runs(first: dt.date, last: dt.date) -> list[list[str]]:
    """The demo's two runs, as `dg launch` arguments: every date-partitioned asset for the window as
    one run, then the assets made from all of history (dimensions, analytics marts, dashboard) as a
    second.

    One run of both would plan each of the second group's ~130 checks once per date of the window
    (Dagster 1.13 records a planned check row per partition of the run, even for an unpartitioned
    asset's check: 58,000 rows and ~13 s for a year); a daily backfill from the UI splits them the
    same way, by partitions definition."""
    # The steps run one after another anyway; in one process they skip ~5 s of start-up each.
    in_process = ["--config-json", '{"execution": {"config": {"in_process": {}}}}']
    return [
        ["--assets", "partitions:time", "--partition-range", f"{first}...{last}", *in_process],
        ["--assets", "partitions:none", *in_process],
    ]


def materialize(first: dt.date, last: dt.date) -> int:
    """The Dagster process (`runs`): release dead runs, then both runs, each `dg launch -m
    spotify_charts.definitions ...` called in this one process, so Dagster is imported and the
    definitions loaded once (two `dg launch` commands and the check before did it three times)."""
    from spotify_charts.defs.automation.launch import launch_in_one_process  # imports Dagster

    _release_dead_runs()  # a run killed earlier must not hold the warehouse
    return launch_in_one_process(_runs(first, last))


def demo(start: str | None, end: str | None) -> int:
    try:
        settings.load()
        first, last = demo_window(start, end)
    except (DateRangeError, settings.SettingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Materialising every asset for {first} .. {last}", flush=True)
    # With SQLite instance storage Dagster otherwise records a "planned" event per asset and per
    # partition before the run starts (2,555 for a year of 7 partitioned assets, ~25 ms each here):
    # minutes. One event per asset with the whole range instead; the run's own events are the same.
    env = {**os.environ, "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true"}
    runs = [sys.executable, "-m", "spotify_charts.cli.demo", "runs", str(first), str(last)]
    returncode = _run_to_the_end(runs, env)
    if returncode:
        print("error: the run failed; see the log above", file=sys.stderr)
        return returncode
    print(_report(*_targets()))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="spotify_charts.cli.demo")
    sub = parser.add_subparsers(dest="command", required=True)
    demo_parser = sub.add_parser("demo", help="run every asset for a window of chart dates")
    demo_parser.add_argument("--start")
    demo_parser.add_argument("--end")
    runs_parser = sub.add_parser("runs", help="(what `demo` starts) the runs for FIRST..LAST, in this process")
    runs_parser.add_argument("first", type=dt.date.fromisoformat)
    runs_parser.add_argument("last", type=dt.date.fromisoformat)
    args = parser.parse_args(argv)
    if args.command == "runs":
        return materialize(args.first, args.last)
    return demo(args.start, args.end)


if __name__ == "__main__":
    sys.exit(main())

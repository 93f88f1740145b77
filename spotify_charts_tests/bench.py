"""`make bench`: the performance figures in BENCHMARKS.md.

1. Raw snapshots to staging: a year of the 7 default charts (511,000 entries), loaded into a
   fresh DuckDB file by a fresh process each round, as a Dagster step would. Entries per second.
2. The demo: `make demo` for a year of 7 charts with an installed .venv, end to end (wall clock).

Usage: python -m spotify_charts_tests.bench [--rounds N] [--skip-demo]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from spotify_charts.ingest import fetch_snapshots
from spotify_charts.regions import DEFAULT_REGIONS, daily_alias
from spotify_charts.sources import SampleSource
from spotify_charts.stores import LocalRawStore

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "bench-results"
END = dt.date(2025, 12, 31)
DATES = [END - dt.timedelta(days=i) for i in range(364, -1, -1)]
ALIASES = [daily_alias(code) for code in DEFAULT_REGIONS]

_LOAD_ONE_ROUND = """
import datetime as dt, json, sys, time
from spotify_charts.ingest import load_staging
from spotify_charts.stores import LocalRawStore
from spotify_charts.warehouse import DuckDBWarehouse
raw, db, aliases, first, days = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4], int(sys.argv[5])
dates = [dt.date.fromisoformat(first) + dt.timedelta(days=i) for i in range(days)]
start = time.perf_counter()
report = load_staging(LocalRawStore(raw), DuckDBWarehouse(db), aliases, dates, "sample")
print(json.dumps({"seconds": time.perf_counter() - start, "entries": report.entry_rows}))
"""


def prepare_raw() -> Path:
    raw = WORK / "raw-year"
    report = fetch_snapshots(SampleSource(), LocalRawStore(raw), ALIASES, DATES)
    if report.fetched:
        print(f"generated {report.fetched} sample snapshots in {raw}", flush=True)
    return raw


def bench_load(raw: Path, rounds: int) -> dict:
    results = []
    for i in range(rounds):
        db = WORK / "load.duckdb"
        db.unlink(missing_ok=True)
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                _LOAD_ONE_ROUND,
                str(raw),
                str(db),
                json.dumps(ALIASES),
                DATES[0].isoformat(),
                str(len(DATES)),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(out.stdout)
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"machine: {machine}")
    raw = prepare_raw()
    print(f"raw snapshots -> staging, {len(ALIASES)} charts x {len(DATES)} days, {args.rounds} rounds:")
    load = bench_load(raw, args.rounds)
    demo = None if args.skip_demo else bench_demo()
    lines = [
        "| measure | result | target |",
        "| --- | --- | --- |",
        f"| raw snapshots to staging, median of {args.rounds} cold processes | "
        f"{load['median_per_s']:,.0f} entries/s ({load['entries']:,} in {load['median_s']:.2f} s; "
        f"range {load['worst_per_s']:,.0f} to {load['best_per_s']:,.0f}) | 200,000 entries/s |",
    ]
    if demo:
        lines.append(f"| `make demo`, a year of 7 charts, installed .venv | {demo['seconds']:.0f} s | under 180 s |")
    table = "\n".join(lines)
    (WORK / "latest.md").write_text(f"{dt.date.today()}, {machine}\n\n{table}\n")
    print()
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`bench --only dashboard`: the dashboard page for all 73 charts, its size and load time in Chromium.

The data: every region's sample chart for DAYS days, loaded and built by `dbt build` once into
bench-results/dashboard-73/ and reused by later runs (generating a year of 73 charts takes
minutes). Each round renders the page from the contract tables and opens it in a fresh headless
Chromium tab (Debian's `chromium`): the load time is the page's own navigation timing (start to
the end of the load event), and switching the selector to another chart is timed too.

Usage: python -m benchmarks.bench --only dashboard [--rounds N]  (or python -m benchmarks.dashboard)
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from spotify_charts.dashboard.data import load
from spotify_charts.dashboard.page import render
from spotify_charts.ingest import fetch_snapshots, load_staging
from spotify_charts.regions import daily_alias, region_names
from spotify_charts.sources.sample import SampleSource
from spotify_charts.storage.local import LocalFileStore
from spotify_charts.warehouses.duckdb import DuckDBWarehouse

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "bench-results" / "dashboard-73"
DBT = Path(sys.executable).with_name("dbt")
END = dt.date(2025, 12, 31)
DAYS = 365
ALIASES = [daily_alias(code) for code in region_names()]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def prepare(days: int = DAYS) -> Path:
    """A DuckDB file with every model built over all 73 charts x `days` days (made once, then reused)."""
    db = WORK / f"marts-{days}d.duckdb"
    if db.exists():
        return db
    WORK.mkdir(parents=True, exist_ok=True)
    dates = [END - dt.timedelta(days=i) for i in range(days - 1, -1, -1)]
    store = LocalFileStore(WORK / "raw")
    start = time.perf_counter()
    report = fetch_snapshots(SampleSource(), store, ALIASES, dates)
    print(f"  generated {report.fetched:,} sample charts in {time.perf_counter() - start:.0f} s", flush=True)
    building = WORK / "building.duckdb"
    building.unlink(missing_ok=True)
    start = time.perf_counter()
    loaded = load_staging(store, DuckDBWarehouse(building), ALIASES, dates, "sample")
    print(f"  loaded {loaded.entry_rows:,} entries in {time.perf_counter() - start:.0f} s", flush=True)
    env = dict(os.environ, SPOTIFY_CHARTS_WAREHOUSE="duckdb", SPOTIFY_CHARTS_DUCKDB_PATH=str(building))
    start = time.perf_counter()
    subprocess.run(
        [str(DBT), "build", "--target-path", str(WORK / "dbt-target"), "--log-path", str(WORK / "dbt-logs")],
        cwd=REPO / "dbt", env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    print(f"  dbt build in {time.perf_counter() - start:.0f} s", flush=True)
    building.rename(db)
    return db


def bench_dashboard(rounds: int, days: int = DAYS) -> dict:
    """Render the 73-chart page, then open it `rounds` times in Chromium: size, render and load times."""
    from playwright.sync_api import sync_playwright

    db = prepare(days)
    warehouse = DuckDBWarehouse(db)
    start = time.perf_counter()
    data = load(warehouse.query, warehouse.table_names("marts"))
    read_s = time.perf_counter() - start
    start = time.perf_counter()
    page = render(data, dt.datetime.now(dt.UTC)).encode()
    render_s = time.perf_counter() - start
    path = WORK / "index.html"
    path.write_bytes(page)
    chromium = shutil.which("chromium")
    if not chromium:
        raise SystemExit("needs Debian's chromium (apt-get install chromium)")
    loads, switches = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for i in range(rounds):
            tab = browser.new_page(viewport={"width": 1366, "height": 900})
            tab.goto(path.as_uri())
            tab.wait_for_load_state("load")
            timing = tab.evaluate(
                "() => { const t = performance.getEntriesByType('navigation')[0];"
                " return {load: t.loadEventEnd, dom: t.domContentLoadedEventEnd}; }"
            )
            last = data.charts[-1].chart_id
            start = time.perf_counter()
            tab.select_option("#chart", last)
            tab.locator(f'section.chart[data-chart="{last}"]:not([hidden]) figure.plot svg').first.wait_for()
            tab.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            switches.append(1000 * (time.perf_counter() - start))
            loads.append(timing["load"])
            print(f"  round {i + 1}: load event end {timing['load']:.0f} ms, switch {switches[-1]:.0f} ms", flush=True)
            tab.close()
        browser.close()
    return {
        "charts": len(data.charts),
        "days": days,
        "bytes": len(page),
        "read_s": read_s,
        "render_s": render_s,
        "load_ms": statistics.median(loads),
        "load_ms_max": max(loads),
        "switch_ms": statistics.median(switches),
        "rounds": rounds,
    }


if __name__ == "__main__":
    print(bench_dashboard(int(sys.argv[1]) if len(sys.argv) > 1 else 5))

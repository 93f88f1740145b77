"""Two runs that write the same DuckDB warehouse at the same time both succeed: the project's
dagster.yaml puts every warehouse step in one pool with one slot, so the second one waits."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from spotify_charts.ingest import fetch_snapshots
from spotify_charts.sources.sample import SampleSource
from spotify_charts.storage.local import LocalFileStore

REPO = Path(__file__).resolve().parents[2]
DAGSTER = Path(sys.executable).with_name("dagster")
ALIASES = ["regional-global-daily", "regional-ee-daily"]


def launch(env: dict[str, str], day: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(DAGSTER), "asset", "materialize", "-m", "spotify_charts.definitions",
         "--select", "raw_chart_snapshots,staging/chart_entries,staging/chart_entry_artists,"
         "dbt_staging/stg_spotify__chart_entries,dbt_staging/stg_spotify__chart_entry_artists,"
         "marts/fct_chart_entries,marts/fct_chart_entry_artists",
         "--partition", day],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def test_overlapping_runs_queue_for_the_warehouse_and_both_succeed(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    data = tmp_path / "data"
    days = [dt.date(2025, 6, 1), dt.date(2025, 6, 2)]
    fetch_snapshots(SampleSource(), LocalFileStore(data), ALIASES, days)  # the runs only read them
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "SPOTIFY_CHARTS_DATA_DIR": str(data),
        "SPOTIFY_CHARTS_DUCKDB_PATH": str(data / "warehouse.duckdb"),
        "SPOTIFY_CHARTS_REGIONS": "global,ee",
    }
    first = launch(env, days[0].isoformat())
    time.sleep(1)
    second = launch(env, days[1].isoformat())
    outputs = [p.communicate(timeout=600)[0] for p in (first, second)]
    for process, output in zip((first, second), outputs):
        assert process.returncode == 0, output[-4000:]
        assert "Could not set lock" not in output
    waited = [o for o in outputs if "concurrency" in o.lower() and "pool" in o.lower()]
    assert waited, "neither run reported waiting for the warehouse pool"
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("select chart_date, count(*) from marts.fct_chart_entries group by 1 order by 1").fetchall()
    assert rows == [(days[0], 250), (days[1], 250)]

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from spotify_charts.cli import demo as cli
from spotify_charts.cli.demo import DateRangeError, demo_window
from spotify_charts.dashboard.data import CONTRACT_TABLES
from spotify_charts.dashboard.page import PAGE_KEY

TODAY = dt.date(2026, 11, 24)


def test_default_window_is_the_365_days_ending_yesterday():
    assert demo_window(None, None, TODAY) == (dt.date(2025, 11, 24), dt.date(2026, 11, 23))
    assert demo_window("2024-01-01", "2024-12-31", TODAY) == (dt.date(2024, 1, 1), dt.date(2024, 12, 31))


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2016-12-31", "2017-01-05", "before the first Spotify daily charts"),
        ("2026-11-01", "2026-11-24", "in the future"),
        ("2024-13-01", None, "is not valid: a real date written YYYY-MM-DD"),
        ("20240301", None, "is not valid: a date written YYYY-MM-DD"),
        ("2024-02-01", "2024-01-01", "is after END"),
    ],
)
def test_bad_windows_say_what_is_wrong(start, end, message):
    with pytest.raises(DateRangeError, match=message):
        demo_window(start, end, TODAY)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("SPOTIFY_CHARTS_REGIONS", "us,zz"),
        ("SPOTIFY_CHARTS_SOURCE", "nope"),
        ("SPOTIFY_CHARTS_WAREHOUSE", "oracle"),
        ("SPOTIFY_CHARTS_MAX_RPS", "abc"),
        ("SPOTIFY_CHARTS_MAX_CONCURRENCY", "0"),
    ],
)
def test_demo_refuses_bad_settings_in_one_line_before_writing_or_recording_a_run(tmp_path, setting, value):
    env = {
        "SPOTIFY_CHARTS_DATA_DIR": str(tmp_path / "data"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        setting: value,
        "PATH": "/usr/bin",
    }
    result = subprocess.run(
        [sys.executable, "-m", "spotify_charts.cli.demo", "demo", "--start", "2024-01-01", "--end", "2024-01-02"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {setting}={value!r} is not valid: ") and result.stderr.count("\n") == 1
    assert result.stdout == "" and list(tmp_path.iterdir()) == []  # no data folder, no Dagster instance, no run


def test_the_report_says_where_the_run_wrote_locally_or_in_s3(tmp_path, monkeypatch, s3_bucket):
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema staging; create schema marts")
        for table in ("staging.chart_entries", "staging.chart_entry_artists", "marts.fct_chart_entries"):
            con.execute(f"create table {table} as select date '2025-06-01' as chart_date")
        for name in CONTRACT_TABLES:
            con.execute(f"create table marts.{name} as select 'regional-ee-daily' as chart_id")

    monkeypatch.setenv("SPOTIFY_CHARTS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SPOTIFY_CHARTS_DUCKDB_PATH", str(db))
    local = cli._report(*cli._targets())
    assert f"Raw snapshots: {tmp_path / 'data' / 'raw' / 'spotify-charts'}" in local
    assert "staging.chart_entries" in local and "1 rows  2025-06-01 .. 2025-06-01" in local
    assert f"Warehouse:     {db}" in local and "marts.top_songs" in local
    assert "Dashboard:" not in local  # no page written yet

    monkeypatch.setenv("SPOTIFY_CHARTS_S3_BUCKET", s3_bucket)
    monkeypatch.setenv("SPOTIFY_CHARTS_S3_PREFIX", "prod")
    store, warehouse = cli._targets()
    store.write(PAGE_KEY, b"<html></html>")
    in_s3 = cli._report(store, warehouse)
    assert f"Raw snapshots: s3://{s3_bucket}/prod/raw/spotify-charts" in in_s3
    assert f"Dashboard:     s3://{s3_bucket}/prod/dashboard/index.html" in in_s3


def test_the_demo_records_both_runs_in_the_instance_from_one_dagster_process(tmp_path):
    """`make demo`'s two runs, as `dg launch` records them (the partition range's tags, the assets),
    both executed by one process that is not the demo's own: one Dagster start for both."""
    import dagster as dg

    repo = Path(__file__).resolve().parents[2]
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(repo / "dagster.yaml", home / "dagster.yaml")
    data = tmp_path / "data"
    env = {**os.environ, "DAGSTER_HOME": str(home), "SPOTIFY_CHARTS_DATA_DIR": str(data),
           "SPOTIFY_CHARTS_REGIONS": "global,ee"}  # fmt: skip
    first, last = "2025-06-01", "2025-06-02"
    result = subprocess.run(
        [sys.executable, "-m", "spotify_charts.cli.demo", "demo", "--start", first, "--end", last],
        cwd=repo, env=env, capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Raw snapshots:" in result.stdout and "Dashboard:" in result.stdout

    with dg.DagsterInstance.from_config(str(home)) as instance:
        partitioned, history = (r.dagster_run for r in reversed(instance.get_run_records()))
        assert partitioned.status == history.status == dg.DagsterRunStatus.SUCCESS
        assert partitioned.tags["dagster/asset_partition_range_start"] == first
        assert partitioned.tags["dagster/asset_partition_range_end"] == last
        assert dg.AssetKey("raw_chart_snapshots") in partitioned.asset_selection
        assert "dagster/asset_partition_range_start" not in history.tags
        assert dg.AssetKey("dashboard") in history.asset_selection
        (pid,) = {
            instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_START)[0].dagster_event.pid
            for run in (partitioned, history)
        }
        assert pid != os.getpid()

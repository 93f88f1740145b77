"""The whole code location loads, validates, and has exactly the graph we expect."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from spotify_charts.definitions import defs
from spotify_charts.resources import build_resources

EXPECTED_ASSETS = [
    "dbt_staging/stg_spotify__chart_entries",
    "dbt_staging/stg_spotify__chart_entry_artists",
    "marts/fct_chart_entries",
    "raw_chart_snapshots",
    "staging/chart_entries",
    "staging/chart_entry_artists",
]


def test_asset_graph_snapshot():
    graph = defs.resolve_asset_graph()
    keys = sorted(key.to_user_string() for key in graph.get_all_asset_keys())
    assert keys == EXPECTED_ASSETS
    # one connected lineage graph: dbt's sources are the staging assets
    stg = dg.AssetKey(["dbt_staging", "stg_spotify__chart_entries"])
    assert graph.get(stg).parent_keys == {dg.AssetKey(["staging", "chart_entries"])}
    assert graph.get(dg.AssetKey(["marts", "fct_chart_entries"])).parent_keys == {stg}
    assert graph.get(dg.AssetKey(["staging", "chart_entries"])).parent_keys == {dg.AssetKey("raw_chart_snapshots")}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.partitions_def is not None and node.backfill_policy == dg.BackfillPolicy.single_run()
    checks = {key.name for key in graph.asset_check_keys}
    assert "unique_combination_fct_chart_entries_chart_id__chart_date__rank" in checks
    assert len(checks) == 17


def test_schedules_and_sensors():
    assert [s.name for s in defs.schedules] == ["all_assets_job_schedule"]
    assert [s.name for s in defs.sensors] == ["log_run_failures"]


def test_dagster_definitions_validate(tmp_path):
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate", "-m", "spotify_charts.definitions"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_settings_come_from_env_vars_without_showing_values():
    resources = build_resources({"SPOTIFY_CHARTS_REGIONS": "us", "SPOTIFY_CHARTS_DATA_DIR": "/srv/charts"})
    assert resources["chart_source"].regions == dg.EnvVar("SPOTIFY_CHARTS_REGIONS")
    assert resources["chart_source"].source == "sample"
    assert resources["raw_store"].data_dir == dg.EnvVar("SPOTIFY_CHARTS_DATA_DIR")
    assert resources["warehouse"].path == "/srv/charts/warehouse.duckdb"

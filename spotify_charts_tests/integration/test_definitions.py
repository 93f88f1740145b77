"""The whole code location loads, validates, and has exactly the graph we expect."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from spotify_charts.definitions import defs
from spotify_charts.defs.resources import (
    LocalFileStoreResource,
    PostgresWarehouseResource,
    RedshiftWarehouseResource,
    S3FileStoreResource,
    build_resources,
)

DAILY_ASSETS = [
    "dbt_staging/stg_spotify__chart_entries",
    "dbt_staging/stg_spotify__chart_entry_artists",
    "marts/fct_chart_entries",
    "marts/fct_chart_entry_artists",
    "raw_chart_snapshots",
    "staging/chart_entries",
    "staging/chart_entry_artists",
]
CONTRACT_TABLES = [
    "marts/artist_days_at_number_one",
    "marts/chart_reentries",
    "marts/longest_top10_runs",
    "marts/new_songs_by_month",
    "marts/release_day_performance",
    "marts/song_lifecycle",
    "marts/song_longevity",
    "marts/top_artists",
    "marts/top_songs",
]
ANALYTICS_ASSETS = sorted(
    [
        *CONTRACT_TABLES,
        "intermediate/int_chart_song_days",
        "intermediate/int_chart_song_debuts",
        "intermediate/int_chart_song_runs",
        "intermediate/int_track_credits",
        "intermediate/int_tracks__latest_entry",
        "marts/bridge_song_artists",
        "marts/dim_artists",
        "marts/dim_charts",
        "marts/dim_songs",
        "marts/dim_tracks",
        "reference/regions",
        "dashboard",
    ]
)


def test_asset_graph_snapshot():
    graph = defs.resolve_asset_graph()
    keys = sorted(key.to_user_string() for key in graph.get_all_asset_keys())
    assert keys == sorted(DAILY_ASSETS + ANALYTICS_ASSETS)
    # one connected lineage graph: dbt's sources are the staging assets
    stg = dg.AssetKey(["dbt_staging", "stg_spotify__chart_entries"])
    fact = dg.AssetKey(["marts", "fct_chart_entries"])
    assert graph.get(stg).parent_keys == {dg.AssetKey(["staging", "chart_entries"])}
    assert graph.get(fact).parent_keys == {stg}
    assert graph.get(dg.AssetKey(["staging", "chart_entries"])).parent_keys == {dg.AssetKey("raw_chart_snapshots")}
    facts = {fact, dg.AssetKey(["marts", "fct_chart_entry_artists"])}
    for name in CONTRACT_TABLES:  # every contract table stands on the partitioned facts
        assert facts & graph.get_ancestor_asset_keys(dg.AssetKey(name.split("/"))), name
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        # partitioned by chart date, except what rebuilds from all history; one run for any range
        assert (node.partitions_def is not None) == (key.to_user_string() in DAILY_ASSETS)
        assert node.backfill_policy == dg.BackfillPolicy.single_run()
    # the dashboard stands on every contract table
    assert graph.get(dg.AssetKey("dashboard")).parent_keys == {dg.AssetKey(n.split("/")) for n in CONTRACT_TABLES}
    checks = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
    assert ("marts/fct_chart_entries", "unique_combination_fct_chart_entries_chart_id__chart_date__rank") in checks
    assert ("marts/song_longevity", "unique_combination_song_longevity_chart_id__longevity_bucket") in checks
    # every dbt data test is an asset check, on the model its yml attaches it to; plus our own
    ours = {
        ("raw_chart_snapshots", "every_chart_stored"),
        ("staging/chart_entries", "ranks_contiguous"),
        ("staging/chart_entries", "no_track_twice"),
        ("staging/chart_entries", "streams_non_increasing"),
        ("staging/chart_entries", "history_consistent"),
        ("staging/chart_entries", "chart_size_as_expected"),
        ("staging/chart_entries", "latest_chart_date_is_recent"),
    }
    assert ours <= checks and len(checks - ours) == 153
    from spotify_charts.defs.assets.staging import staging_chart_tables

    blocking = {spec.name for spec in staging_chart_tables.check_specs if spec.blocking}
    assert blocking == {"ranks_contiguous", "no_track_twice"}  # the rules whose failure corrupts the marts
    assert {asset for asset, _ in checks} >= set(CONTRACT_TABLES)


def test_schedules_and_sensors():
    # what a production deployment expects: fetching from the source is switched on by a person;
    # automation, failure alerts and CSV imports (idle until SPOTIFY_CHARTS_CSV_DIR is set) are on
    # from the start
    schedules = {s.name: (s.cron_schedule, s.execution_timezone, s.default_status) for s in defs.schedules}
    assert schedules == {"daily_charts_schedule": ("0 23 * * *", "UTC", dg.DefaultScheduleStatus.STOPPED)}
    sensors = {s.name: s.default_status for s in defs.sensors}
    assert sensors == {
        "new_chart_dates": dg.DefaultSensorStatus.STOPPED,
        "csv_exports": dg.DefaultSensorStatus.RUNNING,
        "automation_conditions": dg.DefaultSensorStatus.RUNNING,
        "log_run_failures": dg.DefaultSensorStatus.RUNNING,
        "dead_runs": dg.DefaultSensorStatus.RUNNING,
    }
    assert sorted(j.name for j in defs.jobs) == ["all_assets_job", "ingest_chart_dates"]


def test_the_dashboard_is_requested_when_a_mart_changes():
    from spotify_charts.defs.assets.dashboard import CONTRACT_TABLE_KEYS, dashboard_page

    assets = dg.Definitions(
        assets=[dashboard_page, *[dg.AssetSpec(key) for key in CONTRACT_TABLE_KEYS]], resources=build_resources()
    )
    instance = dg.DagsterInstance.ephemeral()
    for key in CONTRACT_TABLE_KEYS:
        instance.report_runless_asset_event(dg.AssetMaterialization(key))
    instance.report_runless_asset_event(dg.AssetMaterialization("dashboard"))
    quiet = dg.evaluate_automation_conditions(defs=assets, instance=instance)
    assert quiet.total_requested == 0  # nothing changed since the dashboard was built
    instance.report_runless_asset_event(dg.AssetMaterialization(["marts", "top_songs"]))
    changed = dg.evaluate_automation_conditions(defs=assets, instance=instance, cursor=quiet.cursor)
    assert changed.total_requested == 1
    assert changed.get_requested_partitions(dg.AssetKey("dashboard")) == {None}


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
    assert resources["file_store"].data_dir == dg.EnvVar("SPOTIFY_CHARTS_DATA_DIR")
    assert resources["warehouse"].path == "/srv/charts/warehouse.duckdb"
    assert resources["chart_source"].csv_dir is None
    assert build_resources({"SPOTIFY_CHARTS_CSV_DIR": "/dl"})["chart_source"].csv_dir == dg.EnvVar(
        "SPOTIFY_CHARTS_CSV_DIR"
    )


def test_a_bucket_setting_chooses_the_s3_store():
    s3 = build_resources({"SPOTIFY_CHARTS_S3_BUCKET": "charts", "SPOTIFY_CHARTS_S3_PREFIX": "prod"})["file_store"]
    assert isinstance(s3, S3FileStoreResource)
    assert s3.bucket == dg.EnvVar("SPOTIFY_CHARTS_S3_BUCKET") and s3.prefix == dg.EnvVar("SPOTIFY_CHARTS_S3_PREFIX")
    # credentials are boto3's business (environment, profile, IAM role): none in the resource's config
    assert (s3.s3.aws_access_key_id, s3.s3.aws_secret_access_key, s3.s3.aws_session_token) == (None, None, None)
    assert isinstance(build_resources({})["file_store"], LocalFileStoreResource)


def test_postgres_is_chosen_by_setting_and_its_password_is_an_env_var():
    env = {"SPOTIFY_CHARTS_WAREHOUSE": "postgres", "SPOTIFY_CHARTS_PG_HOST": "db", "SPOTIFY_CHARTS_PG_PASSWORD": "pw"}
    warehouse = build_resources(env)["warehouse"]
    assert isinstance(warehouse, PostgresWarehouseResource)
    assert warehouse.password == dg.EnvVar("SPOTIFY_CHARTS_PG_PASSWORD") and warehouse.host == dg.EnvVar(
        "SPOTIFY_CHARTS_PG_HOST"
    )
    assert (warehouse.port, warehouse.user, warehouse.database) == (5432, "postgres", "spotify_charts")
    with pytest.raises(ValueError, match="'oracle' is not supported; valid: duckdb, postgres, redshift"):
        build_resources({"SPOTIFY_CHARTS_WAREHOUSE": "oracle"})


def test_redshift_settings_are_env_vars_and_it_loads_through_the_bucket():
    env = {
        "SPOTIFY_CHARTS_WAREHOUSE": "redshift",
        "SPOTIFY_CHARTS_REDSHIFT_HOST": "cluster",
        "SPOTIFY_CHARTS_REDSHIFT_PASSWORD": "pw",
        "SPOTIFY_CHARTS_REDSHIFT_IAM_ROLE": "arn:aws:iam::1:role/copy",
        "SPOTIFY_CHARTS_S3_BUCKET": "charts",
    }
    warehouse = build_resources(env)["warehouse"]
    assert isinstance(warehouse, RedshiftWarehouseResource) and warehouse.port == 5439
    assert warehouse.password == dg.EnvVar("SPOTIFY_CHARTS_REDSHIFT_PASSWORD")
    assert warehouse.iam_role == dg.EnvVar("SPOTIFY_CHARTS_REDSHIFT_IAM_ROLE")
    assert warehouse.loads.bucket == dg.EnvVar("SPOTIFY_CHARTS_S3_BUCKET")
    with pytest.raises(ValueError, match="redshift needs SPOTIFY_CHARTS_S3_BUCKET"):
        build_resources({k: v for k, v in env.items() if k != "SPOTIFY_CHARTS_S3_BUCKET"})


WORKSPACE_QUERY = """{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename ... on PythonError { message } } } } } }"""


@pytest.mark.parametrize("command", [["dagster", "dev", "-w", "workspace.yaml"], ["dg", "dev"]])
def test_the_code_location_loads_without_the_environment_on_path(command, tmp_path):
    """As an IDE or a service manager starts Dagster: by the environment's own path, with a PATH
    that lacks it (the code server, its dbt parse and the daemon must still find dbt)."""
    import json
    import signal
    import socket
    import time
    import urllib.request

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    env = {"HOME": os.environ.get("HOME", "/root"), "PATH": "/usr/bin:/bin", "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    # an out-of-date manifest: the code server must run dbt (parse) itself, with that PATH
    from spotify_charts.defs.dbt_project import dbt_project

    os.utime(dbt_project.manifest_path, (0, 0))
    log = tmp_path / "dev.log"
    executable = str(Path(sys.executable).with_name(command[0]))
    with log.open("w") as out:
        server = subprocess.Popen(
            [executable, *command[1:], "--port", str(port)],
            cwd=Path(__file__).resolve().parents[2], env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline, entries = time.monotonic() + 600, []
        while time.monotonic() < deadline and server.poll() is None:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/graphql",
                    data=json.dumps({"query": WORKSPACE_QUERY}).encode(),
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(request, timeout=10) as response:
                    entries = json.load(response)["data"]["workspaceOrError"]["locationEntries"]
            except OSError:
                entries = []
            if entries and all(entry["loadStatus"] == "LOADED" for entry in entries):
                break
            time.sleep(1)
        assert entries, log.read_text()[-3000:]
        (entry,) = entries
        loaded = entry["locationOrLoadError"]
        assert loaded["__typename"] == "RepositoryLocation", loaded.get("message", "")[-2000:]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()

"""The whole code location loads, validates, and has exactly the graph we expect."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

import spotify_charts.definitions as definitions_module
from spotify_charts.dashboard.data import CONTRACT_TABLES as DASHBOARD_TABLES
from spotify_charts.definitions import defs
from spotify_charts.defs.resources import build_resources
from spotify_charts.storage.local import LocalFileStore
from spotify_charts.storage.s3 import S3FileStore
from spotify_charts.warehouses.duckdb import DuckDBWarehouse
from spotify_charts.warehouses.postgres import PostgresWarehouse

DAILY_ASSETS = [
    "dbt_staging/stg_spotify__chart_entries",
    "dbt_staging/stg_spotify__chart_entry_artists",
    "marts/fct_chart_entries",
    "marts/fct_chart_entry_artists",
    "raw_chart_snapshots",
    "staging/chart_entries",
    "staging/chart_entry_artists",
]
CONTRACT_TABLES = [f"marts/{name}" for name in DASHBOARD_TABLES]  # the one list, dashboard/data.py
# the dbt group "core": the facts, and the dimensions with the helper models they stand on
CORE_ASSETS = [
    "intermediate/int_chart_dates__loaded",
    "intermediate/int_track_credits",
    "intermediate/int_tracks__changed",
    "intermediate/int_tracks__latest_entry",
    "marts/bridge_song_artists",
    "marts/dim_artists",
    "marts/dim_charts",
    "marts/dim_songs",
    "marts/dim_tracks",
    "marts/fct_chart_entries",
    "marts/fct_chart_entry_artists",
    "reference/regions",
]
# the dbt group "analytics": the contract tables, the per-song models they stand on, and the
# models that keep those incremental (what changed since the last build, and its saved state)
ANALYTICS_HELPERS = [
    "intermediate/int_analytics__changed_song_days",
    "intermediate/int_analytics__changed_songs",
    "intermediate/int_analytics__chart_dates",
    "intermediate/int_analytics__state_dates",
    "intermediate/int_analytics__state_tracks",
    "intermediate/int_chart_song_days",
    "intermediate/int_chart_song_debut_days",
    "intermediate/int_chart_song_debuts",
    "intermediate/int_chart_song_months",
    "intermediate/int_chart_song_runs",
    "intermediate/int_chart_songs",
]
ANALYTICS_ASSETS = sorted(
    [
        *CONTRACT_TABLES,
        *ANALYTICS_HELPERS,
        *(name for name in CORE_ASSETS if not name.startswith("marts/fct_")),
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
    # the groups are the layers, and lineage reads left to right through them, never back
    layers = ["raw", "staging", "core", "analytics", "dashboard"]
    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert {name for name, group in groups.items() if group == "core"} == set(CORE_ASSETS)
    assert {name for name, group in groups.items() if group == "analytics"} == {*CONTRACT_TABLES, *ANALYTICS_HELPERS}
    assert {groups["raw_chart_snapshots"], groups["staging/chart_entries"], groups["dashboard"]} == {
        "raw", "staging", "dashboard"
    }  # fmt: skip
    assert groups["dbt_staging/stg_spotify__chart_entries"] == "staging"
    for key in graph.get_all_asset_keys():
        for parent in graph.get(key).parent_keys:
            assert layers.index(groups[parent.to_user_string()]) <= layers.index(groups[key.to_user_string()]), (
                f"{parent.to_user_string()} -> {key.to_user_string()}"
            )
    # the dashboard stands on every contract table
    assert graph.get(dg.AssetKey("dashboard")).parent_keys == {dg.AssetKey(n.split("/")) for n in CONTRACT_TABLES}
    checks = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
    assert ("marts/fct_chart_entries", "unique_combination_fct_chart_entries_chart_id__chart_date__rank") in checks
    assert ("marts/song_longevity", "unique_combination_song_longevity_chart_id__longevity_bucket") in checks
    # every dbt data test is an asset check, on the model its yml attaches it to; plus our own
    ours = {
        ("raw_chart_snapshots", "every_chart_stored"),
        ("staging/chart_entries", "streams_non_increasing"),
        ("staging/chart_entries", "history_consistent"),
        ("staging/chart_entries", "chart_size_as_expected"),
        ("staging/chart_entries", "latest_chart_date_is_recent"),
    }
    assert ours <= checks and len(checks - ours) == 175
    from spotify_charts.defs.assets.staging import staging_chart_tables

    blocking = {spec.name for spec in staging_chart_tables.check_specs if spec.blocking}
    # what would corrupt the marts is refused payload by payload (snapshots/rules.py), before staging
    assert blocking == set()
    assert {asset for asset, _ in checks} >= set(CONTRACT_TABLES)


def test_the_dashboard_stands_on_the_models_dbt_marks_as_contracts():
    """Its upstream set is a selection (dbt models whose contract is enforced), not a hand list: it
    equals what the manifest says, and it is exactly the tables the page reads."""
    import json

    from spotify_charts.dashboard.data import CONTRACT_TABLES as PAGE_READS
    from spotify_charts.defs.assets.dashboard import CONTRACT_TABLE_KEYS
    from spotify_charts.defs.dbt_project import dbt_project

    manifest = json.loads(dbt_project.manifest_path.read_text())
    contracts = {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["contract"]["enforced"]
    }
    graph = defs.resolve_asset_graph()
    parents = graph.get(dg.AssetKey("dashboard")).parent_keys
    assert parents == set(CONTRACT_TABLE_KEYS)
    assert {key.path[-1] for key in parents} == contracts == set(PAGE_READS)
    for key in parents:  # each is the dbt model's own asset, in the lineage
        assert graph.get(key).is_materializable and "dbt" in graph.get(key).kinds


def test_schedules_and_sensors():
    # what a production deployment expects: fetching from the source is switched on by a person;
    # automation, failure alerts and CSV imports (idle until SPOTIFY_CHARTS_CSV_DIR is set) are on
    # from the start
    schedules = {s.name: (s.cron_schedule, s.execution_timezone, s.default_status) for s in defs.schedules}
    assert schedules == {
        "daily_charts_schedule": ("0 23 * * *", "UTC", dg.DefaultScheduleStatus.STOPPED),
        # the incremental marts' safety net is on from the start
        "weekly_full_rebuild_schedule": ("0 4 * * 0", "UTC", dg.DefaultScheduleStatus.RUNNING),
    }
    sensors = {s.name: s.default_status for s in defs.sensors}
    assert sensors == {
        "new_chart_dates": dg.DefaultSensorStatus.STOPPED,
        "csv_exports": dg.DefaultSensorStatus.RUNNING,
        "automation_conditions": dg.DefaultSensorStatus.RUNNING,
        "log_run_failures": dg.DefaultSensorStatus.RUNNING,
        "dead_runs": dg.DefaultSensorStatus.RUNNING,
        # idle until SPOTIFY_CHARTS_SIGNALS_WEBHOOK is set
        "song_signals_webhook": dg.DefaultSensorStatus.RUNNING,
    }
    assert sorted(j.name for j in defs.jobs) == [
        "all_assets_job", "full_analytics_rebuild", "import_history_job", "ingest_chart_dates"
    ]  # fmt: skip
    rebuild = defs.resolve_job_def("full_analytics_rebuild")
    assert {k.to_user_string() for k in rebuild.asset_layer.executable_asset_keys} == {*ANALYTICS_ASSETS}


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


def test_resources_hold_no_values_so_the_ui_and_run_config_show_none(monkeypatch):
    monkeypatch.setenv("SPOTIFY_CHARTS_PG_PASSWORD", "pg-secret-value")
    monkeypatch.setenv("SPOTIFY_CLIENT_SECRET", "client-secret-value")
    resources = build_resources()
    for name in ("chart_source", "file_store", "warehouse"):
        assert type(resources[name]).model_fields == {}, name  # nothing to show, nothing to leak
    assert set(defs.resources) >= {"chart_source", "file_store", "warehouse", "dbt"}
    for resource in [*defs.resources.values(), *resources.values()]:
        shown = repr(resource) + str(getattr(resource, "model_dump", dict)())
        assert "pg-secret-value" not in shown and "client-secret-value" not in shown, resource


def test_the_store_and_warehouse_are_chosen_when_a_step_starts(tmp_path, monkeypatch):
    monkeypatch.setenv("SPOTIFY_CHARTS_DATA_DIR", str(tmp_path / "data"))
    with dg.build_resources(build_resources()) as local:
        assert isinstance(local.file_store.get_store(), LocalFileStore)
        warehouse = local.warehouse.get_warehouse()
        assert isinstance(warehouse, DuckDBWarehouse) and warehouse.path == tmp_path / "data" / "warehouse.duckdb"
        assert warehouse.temp_directory == tmp_path / "data" / "duckdb_temp" and warehouse.memory_limit == "1.5GB"
    # a later step reads the settings again: the resources were built before they changed
    resources = build_resources()
    monkeypatch.setenv("SPOTIFY_CHARTS_S3_BUCKET", "charts")
    monkeypatch.setenv("SPOTIFY_CHARTS_S3_PREFIX", "prod")
    monkeypatch.setenv("SPOTIFY_CHARTS_WAREHOUSE", "postgres")
    monkeypatch.setenv("SPOTIFY_CHARTS_PG_HOST", "db")
    monkeypatch.setenv("SPOTIFY_CHARTS_PG_PASSWORD", "pw-SECRET")
    with dg.build_resources(resources) as remote:
        store = remote.file_store.get_store()
        assert isinstance(store, S3FileStore) and store.uri("k") == "s3://charts/prod/k"
        warehouse = remote.warehouse.get_warehouse()
        assert isinstance(warehouse, PostgresWarehouse) and (warehouse.host, warehouse.port) == ("db", 5432)
        assert "pw-SECRET" not in repr(warehouse) and "pw-SECRET" not in repr(remote.warehouse.settings_values())
        assert remote.warehouse.dbt_arguments({"min_date": "2025-06-01"}) == [
            "--target",
            "postgres",
            "--vars",
            '{"min_date": "2025-06-01"}',
        ]


def test_a_bad_setting_fails_the_step_at_its_start_with_one_line(tmp_path, monkeypatch):
    from spotify_charts.defs.assets.raw import raw_chart_snapshots

    monkeypatch.setenv("SPOTIFY_CHARTS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SPOTIFY_CHARTS_MAX_RPS", "abc")
    result = dg.materialize(
        [raw_chart_snapshots], resources=build_resources(), partition_key="2025-06-01", raise_on_error=False
    )
    assert not result.success
    # the step's resources fail to start, before its body runs; the innermost error is the one line
    (failure,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.RESOURCE_INIT_FAILURE]
    error = failure.event_specific_data.error
    while error.cause is not None:
        error = error.cause
    one_line = "SPOTIFY_CHARTS_MAX_RPS='abc' is not valid: a number > 0"
    assert error.message.strip() == f"spotify_charts.settings.SettingError: {one_line}"
    assert not (tmp_path / "data").exists()  # nothing fetched or written


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


def test_a_dbt_step_starts_dbt_once_per_command(tmp_path):
    """The dbt resource runs the command it is given and nothing else: no `dbt --version` before
    it (dagster-dbt's way to learn the version, a whole dbt start), and no dbt adapter opened in the
    step's own process. The version it reports is the one the executable prints."""
    from spotify_charts.defs.dbt_project import dbt_executable, dbt_project
    from spotify_charts.defs.resources import ChartsDbtCliResource

    calls = tmp_path / "calls"
    wrapper = tmp_path / "dbt"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> "{calls}"\nexec "{dbt_executable()}" "$@"\n')
    wrapper.chmod(0o755)
    resource = build_resources()["dbt"]
    assert isinstance(resource, ChartsDbtCliResource)
    resource = ChartsDbtCliResource(project_dir=dbt_project, dbt_executable=str(wrapper))
    invocation = resource.cli(["parse", "--target-path", str(tmp_path / "target")])
    invocation.wait()
    assert invocation.is_successful() and invocation.adapter is None
    (called,) = calls.read_text().splitlines()
    assert called.startswith("parse ")
    printed = subprocess.run([dbt_executable(), "--version"], capture_output=True, text=True, check=True).stdout
    assert f"installed: {resource._cli_version}" in printed


@dg.op
def where_this_step_runs(context: dg.OpExecutionContext) -> None:
    context.add_output_metadata({"parent": os.getppid()})


@dg.job(executor_def=definitions_module.executor)
def two_steps():
    where_this_step_runs.alias("first")()
    where_this_step_runs.alias("second")()


def test_steps_are_forked_from_a_process_that_imported_the_code_location(tmp_path):
    """The default executor of every job: multiprocess, each step forked from one process per run
    that imported the code location once (a fresh Python per step took ~4 s to import it again),
    not started by the run's own process."""
    assert definitions_module.STEP_PRELOAD == {"forkserver": {"preload_modules": ["spotify_charts.definitions"]}}
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        with dg.execute_job(dg.reconstructable(two_steps), instance=instance) as result:
            assert result.success
            run_process = {e.pid for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_START}
            parents = {
                e.step_key: e.event_specific_data.metadata["parent"].value
                for e in result.all_events
                if e.event_type_value == "STEP_OUTPUT"
            }
    assert set(parents) == {"first", "second"} and run_process == {os.getpid()}
    assert parents["first"] == parents["second"] != os.getpid()  # both from the one fork server

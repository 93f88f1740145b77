"""End to end through Dagster: sample source -> raw snapshots -> staging -> dbt, on temporary files."""

import gzip
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from spotify_charts.definitions import defs
from spotify_charts.defs.assets.dbt import analytics_dbt_models
from spotify_charts.defs.automation.jobs import full_rebuild_job
from spotify_charts.defs.dbt_project import dbt_executable, dbt_project
from spotify_charts.defs.resources import ChartsDbtCliResource
from spotify_charts_tests.support.helpers import ENTRIES, RANGE, all_assets, materialize, table_rows

TOP_SONGS = "select * from marts.top_songs order by all"
FACT = "select * exclude (loaded_at, is_new_on_chart) from marts.fct_chart_entries order by all"


def test_range_twice_gives_identical_rows_and_the_weekly_rebuild_repairs_the_marts(
    pipeline_resources, pipeline_env, tmp_path
):
    db = pipeline_env["SPOTIFY_CHARTS_DUCKDB_PATH"]
    first = materialize(pipeline_resources, tags=RANGE, selection=dg.AssetSelection.all())
    assert first.success
    # both dbt steps ran, and their per-step target folders (dbt/target/<op>-<run>-<id>) are gone
    steps = {e.step_key for e in first.all_events if e.event_type_value == "STEP_SUCCESS"}
    assert {"daily_dbt_models", "analytics_dbt_models"} <= steps
    assert not [p.name for p in dbt_project.project_dir.joinpath("target").glob(f"*-{first.run_id[:7]}-*")]
    raw = first.asset_materializations_for_node("raw_chart_snapshots")[0].metadata
    assert raw["charts"].value == 6 and raw["charts_fetched"].value == 6 and raw["entries"].value == 3 * 250
    assert raw["bytes"].value > 0
    entries, fact = table_rows(db, ENTRIES), table_rows(db, FACT)
    assert len(entries) == 750 and fact == entries  # the fact mirrors staging for these dates
    assert table_rows(
        db, "select count(*) from marts.fct_chart_entries where is_new_on_chart <> (previous_rank is null)"
    ) == [(0,)]
    files = sorted(
        p.relative_to(pipeline_env["SPOTIFY_CHARTS_DATA_DIR"]).as_posix()
        for p in Path(pipeline_env["SPOTIFY_CHARTS_DATA_DIR"], "raw").rglob("*.json.gz")
    )
    assert files[0] == "raw/spotify-charts/regional-ee-daily/2025-06-01.json.gz" and len(files) == 6

    # the contract tables are built in the same run, from the fact
    assert table_rows(db, "select count(*), count(distinct chart_id) from marts.top_songs")[0][1] == 2
    assert table_rows(db, "select count(*) from marts.song_longevity") == [(12,)]  # 6 buckets x 2 charts
    assert table_rows(db, "select sum(days_at_number_one) from marts.artist_days_at_number_one")[0][0] >= 6
    top_songs = table_rows(db, TOP_SONGS)

    second = materialize(pipeline_resources, tags=RANGE, selection=dg.AssetSelection.all())
    assert second.success
    again = second.asset_materializations_for_node("raw_chart_snapshots")[0].metadata
    assert again["charts_fetched"].value == 0 and again["charts_reused"].value == 6
    assert table_rows(db, ENTRIES) == entries
    assert table_rows(db, FACT) == fact
    assert table_rows(db, TOP_SONGS) == top_songs

    # The incremental analytics keep the per-song rows of dates that did not change, even wrong
    # ones; the weekly full rebuild's job builds them again from all history.
    with duckdb.connect(db) as con:
        con.execute("update intermediate.int_chart_songs set total_streams = 1")
    analytics = dg.AssetSelection.assets(analytics_dbt_models)
    # (dbt through a wrapper that notes each command and its output: a pipeline build runs no dbt
    # unit test, whose inputs are hand-written and the same every day, and no `dbt --version`
    # before it; and it parses only what changed since the step's last build, which kept its state)
    calls, output, wrapper = tmp_path / "dbt-calls", tmp_path / "dbt-output", tmp_path / "dbt"
    wrapper.write_text(
        f'#!/bin/bash\necho "$@" >> "{calls}"\n"{dbt_executable()}" "$@" | tee -a "{output}"\nexit ${{PIPESTATUS[0]}}\n'
    )
    wrapper.chmod(0o755)
    noted = {**pipeline_resources, "dbt": ChartsDbtCliResource(project_dir=dbt_project, dbt_executable=str(wrapper))}
    assert materialize(noted, selection=analytics).success  # nothing changed: kept as is
    (command,) = calls.read_text().splitlines()
    assert command.startswith("build ") and "--exclude-resource-type unit_test" in command
    assert "Completed successfully" in output.read_text() and "Unable to do partial parsing" not in output.read_text()
    assert table_rows(db, "select distinct total_streams from marts.top_songs") == [(1,)]
    assert materialize(pipeline_resources, selection=analytics, run_config=full_rebuild_job.config).success
    assert table_rows(db, TOP_SONGS) == top_songs

    # one more day next to it: the earlier dates are untouched
    assert materialize(pipeline_resources, partition_key="2025-06-04").success
    assert table_rows(db, "select count(*), count(distinct chart_date) from marts.fct_chart_entries") == [(1000, 4)]
    checks = [e for e in second.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert checks and all(e.event_specific_data.passed for e in checks)


STAGING = dg.AssetSelection.assets(
    dg.AssetKey(["staging", "chart_entries"]), dg.AssetKey(["staging", "chart_entry_artists"])
)
BAD_SNAPSHOT = "raw/spotify-charts/regional-global-daily/2025-06-02.json.gz"


def test_corrupt_snapshot_fails_staging_alone_and_keeps_rows(pipeline_resources, pipeline_env):
    """Staging run without the raw step (as automation may): it fails naming the file and the cure."""
    db = pipeline_env["SPOTIFY_CHARTS_DUCKDB_PATH"]
    assert materialize(pipeline_resources, tags=RANGE).success
    before = table_rows(db, ENTRIES)
    bad = Path(pipeline_env["SPOTIFY_CHARTS_DATA_DIR"], BAD_SNAPSHOT)
    bad.write_bytes(gzip.compress(b'{"entries": "oops"}'))
    result = materialize(pipeline_resources, tags=RANGE, raise_on_error=False, selection=STAGING)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert failure.step_key == "staging_chart_tables"
    error = failure.event_specific_data.error.to_string()
    assert str(bad) in error and "Materialise raw_chart_snapshots for that date again" in error
    assert table_rows(db, ENTRIES) == before


def test_a_corrupt_snapshot_heals_in_the_next_run(pipeline_resources, pipeline_env):
    db = pipeline_env["SPOTIFY_CHARTS_DUCKDB_PATH"]
    data = Path(pipeline_env["SPOTIFY_CHARTS_DATA_DIR"])
    assert materialize(pipeline_resources, tags=RANGE).success
    before = table_rows(db, ENTRIES)
    good = (data / BAD_SNAPSHOT).read_bytes()
    (data / BAD_SNAPSHOT).write_bytes(b"")  # a disk that filled up, a copy cut short

    result = materialize(pipeline_resources, tags=RANGE)
    assert result.success
    raw = result.asset_materializations_for_node("raw_chart_snapshots")[0].metadata
    assert (raw["charts_fetched"].value, raw["charts_reused"].value, raw["charts_healed"].value) == (1, 5, 1)
    (entry,) = raw["quarantined"].value
    kept = Path(entry["kept_at"])
    assert entry["snapshot"] == str(data / BAD_SNAPSHOT) and entry["problem"] == "empty file (0 bytes)"
    assert kept.read_bytes() == b"" and kept.relative_to(data).parts[0] == "quarantine"
    assert (data / BAD_SNAPSHOT).read_bytes() == good
    assert table_rows(db, ENTRIES) == before  # staging has the right rows again


def test_unknown_region_fails_before_anything_is_written(pipeline_env, monkeypatch):
    monkeypatch.setenv("SPOTIFY_CHARTS_REGIONS", "global,xx")
    for name in ("SPOTIFY_CHARTS_DATA_DIR", "SPOTIFY_CHARTS_DUCKDB_PATH"):
        monkeypatch.setenv(name, pipeline_env[name])
    from spotify_charts.defs.resources import build_resources

    result = dg.materialize(all_assets(), resources=build_resources(), partition_key="2025-06-01", raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "RESOURCE_INIT_FAILURE")
    assert "SPOTIFY_CHARTS_REGIONS='global,xx' is not valid: unknown region code(s) 'xx'" in (
        failure.event_specific_data.error.to_string()
    )
    assert not Path(pipeline_env["SPOTIFY_CHARTS_DATA_DIR"]).exists()


def test_refresh_config_fetches_again(pipeline_resources):
    config = dg.RunConfig(ops={"raw_chart_snapshots": {"config": {"refresh": True}}})
    raw = next(a for a in defs.assets if getattr(a, "key", None) == dg.AssetKey("raw_chart_snapshots"))
    for _ in range(2):
        result = dg.materialize([raw], resources=pipeline_resources, partition_key="2025-06-01", run_config=config)
        assert result.asset_materializations_for_node("raw_chart_snapshots")[0].metadata["charts_fetched"].value == 2


@pytest.mark.parametrize("date", ["2016-12-31"])
def test_dates_outside_the_partitions_are_refused(pipeline_resources, date):
    with pytest.raises(Exception, match=f"Could not find a partition with key `{date}`"):
        materialize(pipeline_resources, partition_key=date)

"""The history import through Dagster: the job stores the snapshots of a history CSV, the ordinary
partitioned run loads them (staging rows with source = history) and every model and blocking
check passes on them; a bad row fails the job naming file and line, after the good charts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from spotify_charts_tests.support.history import FIRST_ROWS, URL, write_history

ROWS = [
    *FIRST_ROWS,
    f"Reggaetón Lento,3,2017-01-01,CNCO,{URL}3AEZUABDXNtecAOSC1qTfo,Global,top200,NEW_ENTRY,",
    f"Chantaje,1,2017-01-01,Shakira,{URL}6mICuAdrwEjh6Y6lroV2Kg,Global,viral50,MOVE_UP,",
    f"Somewhere,1,2017-01-01,Nobody,{URL}1aaaaaaaaaaaaaaaaaaaaa,Atlantis,top200,NEW_ENTRY,10",
    f"Shape of You,1,2017-01-02,Ed Sheeran,{URL}7qiZfU4dY1lWllzX7mPBI3,Estonia,top200,MOVE_UP,1300",
    f"Песня,1,2017-01-01,АНТИВСЕЛЕННАЯ,{URL}5ww2BF9slyYgNOk37BlC4u,Estonia,top200,NEW_ENTRY,1200",
    f"Chantaje,1,2017-01-02,Shakira,{URL}6mICuAdrwEjh6Y6lroV2Kg,Global,top200,SAME_POSITION,260000",
    f"Shape of You,2,2017-01-02,Ed Sheeran,{URL}7qiZfU4dY1lWllzX7mPBI3,Global,top200,NEW_ENTRY,250000",
]


def run_import(path: Path, resources: dict) -> dg.ExecuteInProcessResult:
    from spotify_charts.defs.automation.history import import_history_job

    return import_history_job.execute_in_process(
        run_config={"ops": {"import_chart_history": {"config": {"path": str(path)}}}},
        resources=resources,
        raise_on_error=False,
    )


def test_the_job_imports_and_the_partitioned_run_loads_history_through_every_model(
    tmp_path, pipeline_env, pipeline_resources
):
    from spotify_charts.definitions import defs
    from spotify_charts.defs.assets.raw import raw_chart_snapshots

    result = run_import(write_history(tmp_path / "history.csv.gz", ROWS, compress=True), pipeline_resources)
    assert result.success
    (output,) = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    metadata = {k: v.value for k, v in output.event_specific_data.metadata.items()}
    assert (metadata["charts_stored"], metadata["entries_stored"]) == (4, 7)
    assert (metadata["first_date"], metadata["last_date"], metadata["regions"]) == (
        "2017-01-01",
        "2017-01-02",
        "ee,global",
    )
    assert metadata["unknown_regions"] == {"Atlantis": 1} and metadata["viral50_rows_skipped"] == 1
    assert "--partition-range 2017-01-01...2017-01-02" in metadata["next_step"]

    # The next step as the job says: staging and everything downstream for that range, one run.
    tags = {ASSET_PARTITION_RANGE_START_TAG: "2017-01-01", ASSET_PARTITION_RANGE_END_TAG: "2017-01-02"}
    selection = dg.AssetSelection.all() - dg.AssetSelection.assets(raw_chart_snapshots)
    loaded = dg.materialize(list(defs.assets), resources=pipeline_resources, selection=selection, tags=tags)
    assert loaded.success
    checks = [e.event_specific_data for e in loaded.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert checks and all(c.passed for c in checks if c.severity == dg.AssetCheckSeverity.ERROR)
    with duckdb.connect(pipeline_env["SPOTIFY_CHARTS_DUCKDB_PATH"], read_only=True) as con:
        rows = con.execute(
            "select chart_id, chart_date::varchar, rank, track_id, track_name, artist_names, streams, entry_status, "
            "source from staging.chart_entries order by all"
        ).fetchall()
        facts = con.execute("select count(*) from marts.fct_chart_entries").fetchone()[0]
    assert {row[-1] for row in rows} == {"history"}
    assert len(rows) == 7 and facts == 7
    assert rows[2] == (
        "regional-global-daily", "2017-01-01", 1, "6mICuAdrwEjh6Y6lroV2Kg", "Chantaje (feat. Maluma)",
        "Shakira, Maluma", 253019, "NO_CHANGE", "history",
    )  # fmt: skip
    assert rows[4][4:8] == ("Reggaetón Lento", "CNCO", None, "NEW_ENTRY")


def test_a_bad_row_fails_the_job_naming_file_and_line_after_storing_the_good_charts(
    tmp_path, pipeline_env, pipeline_resources
):
    from spotify_charts.storage import snapshot_key
    from spotify_charts.storage.local import LocalFileStore

    bad = f"Bad,x,2017-01-02,X,{URL}0aaaaaaaaaaaaaaaaaaaaa,Global,top200,NEW_ENTRY,1"
    path = write_history(tmp_path / "history.csv.gz", [*ROWS, bad], compress=True)
    result = run_import(path, pipeline_resources)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.event_specific_data.error.to_string()
    assert f"{path}: 1 bad row(s), 1 chart(s) not stored; first: line 11: rank 'x' is not a number" in message
    store = LocalFileStore(pipeline_env["SPOTIFY_CHARTS_DATA_DIR"])
    assert not store.exists(snapshot_key("regional-global-daily", dt.date(2017, 1, 2)))
    assert store.exists(snapshot_key("regional-global-daily", dt.date(2017, 1, 1)))


@pytest.mark.parametrize("job", ["import_history_job"])
def test_the_job_is_in_the_code_location(job):
    from spotify_charts.definitions import defs

    assert defs.get_job_def(job).description.startswith("Import a public chart history CSV")

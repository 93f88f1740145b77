"""Chart CSV downloads: a real-format file (BOM, quoted names, Unicode) becomes a raw snapshot and
staging rows with source=csv; malformed files are reported with file and line and store nothing;
the sensor requests exactly the dates of new or changed files, once."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import time
from pathlib import Path

import dagster as dg
import duckdb
import orjson
import pytest

from spotify_charts.defs.automation import sensors
from spotify_charts.defs.resources import ChartSourceResource
from spotify_charts.sources import csv_export
from spotify_charts.sources.csv_export import CsvExportError, CsvExportSource, convert_export
from spotify_charts.sources.csv_folder import scan_folder
from spotify_charts.storage import snapshot_key
from spotify_charts_tests.support.helpers import sample_warehouse

HEADER = "rank,uri,artist_names,track_name,source,peak_rank,previous_rank,days_on_chart,streams"
# As charts.spotify.com writes it: a byte-order mark, fields quoted only where they must be.
REAL_FORMAT = (
    "\ufeff" + HEADER + "\n"
    "1,spotify:track:6AI3ezQ4o3HUoP6Dhudph3,Bad Bunny,Monaco,Rimas Entertainment LLC,1,-1,1,6126963\n"
    '2,spotify:track:2KslE17cAJNHTsI2MI0jb2,"Bizarrap, Quevedo","Quevedo: Bzrp Music Sessions, Vol. 52",'
    "Dale Play Records,1,2,235,5100214\n"
    '3,spotify:track:1Qrg8KqiBpW07V7PNxwwwL,Arcángel,"Muñecas ""Remix"" (feat. Tini)",'
    "Sony Music Latin,3,5,12,4000000\n"
    "4,spotify:track:5ww2BF9slyYgNOk37BlC4u,АНТИВСЕЛЕННАЯ,Песня,,2,4,30,3900000\n"
)
NAME = "regional-global-daily-2023-05-01.csv"
DAY = dt.date(2023, 5, 1)


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_a_real_format_download_becomes_a_payload_in_the_services_shape(tmp_path):
    path = write(tmp_path, NAME, REAL_FORMAT)
    chart = convert_export(path, path.read_bytes())
    payload = orjson.loads(chart.body)
    assert chart.entries == 4
    assert payload["displayChart"]["date"] == "2023-05-01"
    assert payload["displayChart"]["chartMetadata"]["alias"] == "regional-global-daily"
    assert payload["csvExport"]["fileName"] == NAME
    second, third, fourth = payload["entries"][1:]
    assert second["trackMetadata"] == {
        "trackName": "Quevedo: Bzrp Music Sessions, Vol. 52",
        "trackUri": "spotify:track:2KslE17cAJNHTsI2MI0jb2",
        "artists": [{"name": "Bizarrap"}, {"name": "Quevedo"}],
        "labels": [{"name": "Dale Play Records"}],
    }
    assert second["chartEntryData"] == {
        "currentRank": 2,
        "previousRank": 2,
        "peakRank": 1,
        "appearancesOnChart": 235,
        "rankingMetric": {"value": "5100214", "type": "STREAMS"},
    }
    assert third["trackMetadata"]["trackName"] == 'Muñecas "Remix" (feat. Tini)'
    assert fourth["trackMetadata"]["artists"] == [{"name": "АНТИВСЕЛЕННАЯ"}] and fourth["trackMetadata"]["labels"] == []
    # Windows line endings and no BOM read the same
    crlf = write(tmp_path / "crlf", NAME, REAL_FORMAT.removeprefix("\ufeff").replace("\n", "\r\n"))
    assert orjson.loads(convert_export(crlf, crlf.read_bytes()).body)["entries"] == payload["entries"]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("regional-global-weekly-2023-05-01.csv", REAL_FORMAT, "is not regional-{code}-daily-{YYYY-MM-DD}.csv"),
        ("regional-zz-daily-2023-05-01.csv", REAL_FORMAT, "'zz' is not a region code"),
        ("regional-global-daily-2023-02-30.csv", REAL_FORMAT, "'2023-02-30' in the file name is not a date"),
        ("regional-global-daily-2016-12-31.csv", REAL_FORMAT, "before the first Spotify chart"),
        (NAME, REAL_FORMAT.replace("days_on_chart", "weeks_on_chart"), "line 1: header is"),
        (NAME, "\ufeffpos,uri\n1,spotify:track:x\n", "line 1: header is 'pos,uri', expected 'rank,uri,"),
        (NAME, REAL_FORMAT.replace("\n3,spotify", "\nthree,spotify"), "line 4: rank 'three' is not a number"),
        (
            NAME,
            REAL_FORMAT.replace("\n3,spotify", "\n2,spotify"),
            "line 4: rank 2 appears more than once (first on line 3)",
        ),
        (NAME, REAL_FORMAT.replace("235,5100214", "235,5.1M"), "line 3: streams '5.1M' is not a number"),
        (NAME, REAL_FORMAT.replace(",1,-1,1,6126963", ",1,-1,6126963"), "line 2: 8 columns, expected 9"),
        (NAME, REAL_FORMAT.replace("spotify:track:6AI3", "spotify:album:6AI3"), "line 2: uri 'spotify:album:"),
        (NAME, "\ufeff" + HEADER + "\n", "a header but no chart entries"),
        (NAME, "", "the file is empty"),
    ],
)
def test_a_malformed_download_is_refused_naming_file_and_line(tmp_path, name, text, expected):
    path = write(tmp_path, name, text)
    with pytest.raises(CsvExportError) as error:
        convert_export(path, path.read_bytes())
    assert str(error.value).startswith(str(path))
    assert expected in str(error.value)


def test_a_file_that_is_not_utf8_names_the_line(tmp_path):
    path = tmp_path / NAME
    path.write_bytes(REAL_FORMAT.encode("utf-8").replace("Arcángel".encode(), "Arcángel".encode("latin-1")))
    with pytest.raises(CsvExportError, match=r"line 4: not UTF-8 text"):
        convert_export(path, path.read_bytes())


def test_the_csv_source_has_a_chart_when_its_file_is_there(tmp_path):
    write(tmp_path, NAME, REAL_FORMAT)
    write(tmp_path, "regional-global-daily-2023-05-03.csv", REAL_FORMAT)
    write(tmp_path, "notes.txt", "not a chart")
    source = CsvExportSource(tmp_path)
    assert source.fetch("regional-global-daily", DAY).entries == 4
    assert source.fetch("regional-global-daily", DAY + dt.timedelta(days=1)) is None
    assert source.latest_date("regional-global-daily") == dt.date(2023, 5, 3)
    assert source.latest_date("regional-us-daily") is None


def test_the_scan_sees_each_new_or_changed_file_once_and_waits_for_files_being_written(tmp_path, monkeypatch):
    first = write(tmp_path, NAME, REAL_FORMAT)
    write(tmp_path, "regional-ee-daily-2023-05-02.csv", REAL_FORMAT)
    write(tmp_path, "regional-ee-daily-2023-05-03.csv", "broken")
    now = os.stat(first).st_mtime_ns + 10**9
    monkeypatch.setattr(csv_export, "SETTLE_SECONDS", 0.0)
    scan = scan_folder(tmp_path, None, now)
    assert sorted(e.name for e in scan.ready) == ["regional-ee-daily-2023-05-02.csv", NAME]
    assert [e.path for e in scan.malformed] == [str(tmp_path / "regional-ee-daily-2023-05-03.csv")]
    assert [[e.chart_date for e in group] for group in scan.date_ranges()] == [[DAY, dt.date(2023, 5, 2)]]

    again = scan_folder(tmp_path, scan.cursor, now)
    assert again.ready == [] and again.malformed == [] and again.cursor == scan.cursor

    changed = REAL_FORMAT.replace("6126963", "6126964")
    later = now + 5 * 10**9
    write(tmp_path, NAME, changed)
    os.utime(tmp_path / NAME, ns=(later, later))
    monkeypatch.setattr(csv_export, "SETTLE_SECONDS", 2.0)
    waiting = scan_folder(tmp_path, scan.cursor, later + 10**9)
    assert waiting.ready == [] and waiting.unsettled == 1 and waiting.cursor == scan.cursor
    settled = scan_folder(tmp_path, scan.cursor, later + 3 * 10**9)
    assert [e.name for e in settled.ready] == [NAME]
    before = next(e for e in scan.ready if e.name == NAME)
    assert settled.ready[0].sha256 != before.sha256


def sensor_tick(instance, folder: Path, cursor=None, regions="global,ee"):
    with pytest.MonkeyPatch.context() as env:  # the settings a tick reads when it starts
        env.setenv("SPOTIFY_CHARTS_REGIONS", regions)
        env.setenv("SPOTIFY_CHARTS_CSV_DIR", str(folder))
        context = dg.build_sensor_context(
            instance=instance, cursor=cursor, resources={"chart_source": ChartSourceResource()}
        )
        result = sensors.csv_exports(context)
    return result, context.cursor


@pytest.fixture(autouse=True)
def settled_at_once(monkeypatch):
    """Files count as settled as soon as written (the tests that wait for them set their own time)."""
    monkeypatch.setattr(csv_export, "SETTLE_SECONDS", 0.0)


def test_the_sensor_requests_exactly_the_dates_of_new_files_once_and_changed_files_again(tmp_path, settled_at_once):
    folder = tmp_path / "csv"
    for day in ("2023-05-01", "2023-05-02", "2023-05-05"):
        write(folder, f"regional-global-daily-{day}.csv", REAL_FORMAT)
    write(folder, "regional-ee-daily-2023-05-02.csv", REAL_FORMAT)
    instance = dg.DagsterInstance.ephemeral()

    requests, cursor = sensor_tick(instance, folder)
    assert [
        (r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"]) for r in requests
    ] == [
        ("2023-05-01", "2023-05-02"),
        ("2023-05-05", "2023-05-05"),
    ]
    assert requests[0].run_config == {
        "ops": {
            "raw_chart_snapshots": {
                "config": {
                    "csv_files": [
                        "regional-global-daily-2023-05-01.csv",
                        "regional-ee-daily-2023-05-02.csv",
                        "regional-global-daily-2023-05-02.csv",
                    ]
                }
            }
        }
    }
    assert requests[0].run_key.startswith("csv-exports:2023-05-01..2023-05-02:")

    nothing, same_cursor = sensor_tick(instance, folder, cursor)
    assert isinstance(nothing, dg.SkipReason) and same_cursor == cursor

    # The same content saved again (a new mtime) asks for the same run key: Dagster runs it once.
    path = folder / "regional-global-daily-2023-05-05.csv"
    time.sleep(0.02)  # past the file system's timestamp granularity
    path.write_text(REAL_FORMAT, encoding="utf-8")
    (resaved,), cursor = sensor_tick(instance, folder, cursor)
    assert resaved.run_key == requests[1].run_key
    # Changed content is a new run key: imported again.
    time.sleep(0.02)
    path.write_text(REAL_FORMAT.replace("6126963", "6126999"), encoding="utf-8")
    (changed,), _ = sensor_tick(instance, folder, cursor)
    assert changed.tags["dagster/asset_partition_range_start"] == "2023-05-05"
    assert changed.run_key != requests[1].run_key


def test_the_sensor_reports_a_malformed_file_with_file_and_line_and_requests_nothing_for_it(
    tmp_path, settled_at_once, capfd
):
    folder = tmp_path / "csv"
    write(folder, NAME, REAL_FORMAT.replace("\n3,spotify", "\nthree,spotify"))
    result, cursor = sensor_tick(dg.DagsterInstance.ephemeral(), folder)
    assert isinstance(result, dg.SkipReason)
    expected = f"{folder / NAME}, line 4: rank 'three' is not a number"
    assert expected in result.skip_message
    assert f"ERROR - not imported: {expected}" in capfd.readouterr().err  # the tick's log
    again, _ = sensor_tick(dg.DagsterInstance.ephemeral(), folder, cursor)
    assert "no new or changed chart CSV" in again.skip_message  # reported once, until it changes


def test_the_sensor_skips_without_a_folder(tmp_path):
    context = dg.build_sensor_context(resources={"chart_source": ChartSourceResource()})
    assert "SPOTIFY_CHARTS_CSV_DIR is not set" in sensors.csv_exports(context).skip_message
    missing, _ = sensor_tick(dg.DagsterInstance.ephemeral(), tmp_path / "nowhere")
    assert "is not a folder" in missing.skip_message


def materialize_request(request: dg.RunRequest, **kwargs):
    from spotify_charts.defs.assets.raw import raw_chart_snapshots
    from spotify_charts.defs.assets.staging import staging_chart_tables
    from spotify_charts.defs.resources import build_resources

    return dg.materialize(
        [raw_chart_snapshots, staging_chart_tables],
        resources=build_resources(),
        run_config=request.run_config,
        tags=request.tags,
        **kwargs,
    )


def staging_rows(path: str) -> list[tuple]:
    with duckdb.connect(path, read_only=True) as con:
        return con.execute(
            "select chart_id, chart_date, rank, track_id, track_name, artist_names, streams, previous_rank, "
            "peak_rank, appearances_on_chart, release_date, label_names, source from staging.chart_entries order by all"
        ).fetchall()


def test_a_requested_import_stores_the_snapshot_and_loads_staging_once(
    tmp_path, settled_at_once, pipeline_env, monkeypatch
):
    folder = tmp_path / "csv"
    write(folder, NAME, REAL_FORMAT)
    write(folder, "regional-br-daily-2023-05-01.csv", REAL_FORMAT)  # a region not configured
    for name, value in {**pipeline_env, "SPOTIFY_CHARTS_CSV_DIR": str(folder)}.items():
        monkeypatch.setenv(name, value)
    (request,), cursor = sensor_tick(dg.DagsterInstance.ephemeral(), folder)

    for _ in range(2):  # a second run of the same request changes nothing
        result = materialize_request(request)
        assert result.success
        rows = staging_rows(pipeline_env["SPOTIFY_CHARTS_DUCKDB_PATH"])
        assert len(rows) == 4
    assert rows[1] == (
        "regional-global-daily",
        DAY,
        2,
        "2KslE17cAJNHTsI2MI0jb2",
        "Quevedo: Bzrp Music Sessions, Vol. 52",
        "Bizarrap, Quevedo",
        5100214,
        2,
        1,
        235,
        None,
        "Dale Play Records",
        "csv",
    )
    assert rows[0][7] is None  # previous_rank -1: a new entry, as from the service
    raw = Path(pipeline_env["SPOTIFY_CHARTS_DATA_DIR"]) / "raw" / "spotify-charts"
    snapshot = raw / "regional-global-daily" / "2023-05-01.json.gz"
    assert orjson.loads(gzip.decompress(snapshot.read_bytes()))["csvExport"]["fileName"] == NAME
    assert (raw / "regional-br-daily" / "2023-05-01.json.gz").exists()  # kept raw, not loaded
    metadata = result.asset_materializations_for_node("raw_chart_snapshots")[0].metadata
    assert metadata["source"].value == "csv" and metadata["charts_fetched"].value == 2


def test_an_import_run_with_a_file_broken_since_the_scan_stores_nothing(
    tmp_path, settled_at_once, pipeline_env, monkeypatch
):
    folder = tmp_path / "csv"
    write(folder, NAME, REAL_FORMAT)
    write(folder, "regional-ee-daily-2023-05-01.csv", REAL_FORMAT)
    for name, value in {**pipeline_env, "SPOTIFY_CHARTS_CSV_DIR": str(folder)}.items():
        monkeypatch.setenv(name, value)
    (request,), _ = sensor_tick(dg.DagsterInstance.ephemeral(), folder)
    write(folder, "regional-ee-daily-2023-05-01.csv", REAL_FORMAT.replace("235,5100214", "235,lots"))

    result = materialize_request(request, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert f"{folder / 'regional-ee-daily-2023-05-01.csv'}, line 3: streams 'lots' is not a number" in str(
        failure.event_specific_data.error
    )
    assert not (Path(pipeline_env["SPOTIFY_CHARTS_DATA_DIR"]) / "raw").exists()  # not even the good file


def csv_source_env(tmp_path: Path, pipeline_env: dict[str, str], monkeypatch) -> dict[str, str]:
    """SPOTIFY_CHARTS_SOURCE=csv on a folder holding the real-format file of 2023-05-01."""
    write(tmp_path / "csv", NAME, REAL_FORMAT)
    env = {**pipeline_env, "SPOTIFY_CHARTS_CSV_DIR": str(tmp_path / "csv"), "SPOTIFY_CHARTS_SOURCE": "csv"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def range_request(first: str, last: str) -> dg.RunRequest:
    """A run of the dates first..last, as the UI's materialisation of a partition range asks it."""
    return dg.RunRequest(tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last})


def test_the_csv_folder_as_the_source_of_a_plain_backfill(tmp_path, pipeline_env, monkeypatch):
    """SPOTIFY_CHARTS_SOURCE=csv: a UI materialisation reads the folder's files; a chart without a
    file is missing (like a 404), not fetched from anywhere else."""
    env = csv_source_env(tmp_path, pipeline_env, monkeypatch)
    result = materialize_request(range_request("2023-05-01", "2023-05-02"))
    metadata = result.asset_materializations_for_node("raw_chart_snapshots")[0].metadata
    assert metadata["charts_fetched"].value == 1
    assert sorted(metadata["charts_missing"].value) == [
        "regional-ee-daily/2023-05-01",
        "regional-ee-daily/2023-05-02",
        "regional-global-daily/2023-05-02",
    ]
    assert {row[-1] for row in staging_rows(env["SPOTIFY_CHARTS_DUCKDB_PATH"])} == {"csv"}


def sample_as_csv(alias: str, day: dt.date) -> str:
    """The sample chart written as charts.spotify.com writes its CSV download."""
    import csv
    import io

    from spotify_charts.sources.sample import sample_chart

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER.split(","))
    for entry in sample_chart(alias, day)["entries"]:
        data, track = entry["chartEntryData"], entry["trackMetadata"]
        writer.writerow(
            [
                data["currentRank"],
                track["trackUri"],
                ", ".join(a["name"] for a in track["artists"]),
                track["trackName"],
                ", ".join(label["name"] for label in track["labels"]),
                data["peakRank"],
                data["previousRank"],
                data["appearancesOnChart"],
                data["rankingMetric"]["value"],
            ]
        )
    return "\ufeff" + out.getvalue()


def test_csv_charts_go_through_every_model_and_check_like_the_services(tmp_path, pipeline_env, monkeypatch):
    """Two days of two charts from CSV downloads: every asset, dbt test and blocking check passes,
    and staging holds what the sample source gives for the columns a CSV carries."""
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from spotify_charts.definitions import defs
    from spotify_charts.defs.resources import build_resources

    folder = tmp_path / "csv"
    days = [dt.date(2025, 6, 1), dt.date(2025, 6, 2)]
    for alias in ("regional-global-daily", "regional-ee-daily"):
        for day in days:
            write(folder, f"{alias}-{day}.csv", sample_as_csv(alias, day))
    env = {**pipeline_env, "SPOTIFY_CHARTS_CSV_DIR": str(folder), "SPOTIFY_CHARTS_SOURCE": "csv"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    tags = {ASSET_PARTITION_RANGE_START_TAG: "2025-06-01", ASSET_PARTITION_RANGE_END_TAG: "2025-06-02"}
    result = dg.materialize(list(defs.assets), resources=build_resources(), tags=tags)
    assert result.success
    checks = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert len(checks) > 100 and all(c.passed for c in checks if c.severity == dg.AssetCheckSeverity.ERROR)

    columns = "chart_id, chart_date, rank, track_id, track_name, artist_names, streams, previous_rank, peak_rank"
    csv_rows = staging_rows_of(env["SPOTIFY_CHARTS_DUCKDB_PATH"], columns)
    sample = sample_warehouse(tmp_path / "sample", ["regional-global-daily", "regional-ee-daily"], days)
    assert len(csv_rows) == 500 and csv_rows == staging_rows_of(str(sample.path), columns)
    with duckdb.connect(env["SPOTIFY_CHARTS_DUCKDB_PATH"], read_only=True) as con:
        songs = con.execute("select count(*), count(distinct song_id) from marts.dim_tracks").fetchone()
        top = con.execute("select count(*) from marts.top_songs").fetchone()
    assert songs[1] > 0 and top[0] > 0


def staging_rows_of(path: str, columns: str) -> list[tuple]:
    with duckdb.connect(path, read_only=True) as con:
        return con.execute(f"select {columns} from staging.chart_entries order by all").fetchall()


def test_the_csv_source_waits_for_a_file_still_being_written(tmp_path, monkeypatch):
    """Half a download in the folder when the run starts, the rest appended a moment later: the
    source stores the whole file, never the half (issue 23, finding 2)."""
    import threading

    from spotify_charts.ingest import fetch_snapshots
    from spotify_charts.storage.local import LocalFileStore

    monkeypatch.setattr(csv_export, "SETTLE_SECONDS", 5.0)  # (the append below comes well within it, even under load)
    whole = sample_as_csv("regional-global-daily", DAY)
    lines = whole.splitlines(keepends=True)
    path = write(tmp_path / "csv", NAME, "".join(lines[:26]))  # the header and 25 rows
    store = LocalFileStore(tmp_path / "data")
    done = {}
    fetching = threading.Thread(
        target=lambda: done.update(
            report=fetch_snapshots(CsvExportSource(tmp_path / "csv"), store, ["regional-global-daily"], [DAY])
        )
    )
    fetching.start()
    time.sleep(0.5)
    with path.open("a", encoding="utf-8") as rest:
        rest.write("".join(lines[26:]))
    fetching.join(timeout=60)
    assert done["report"].fetched == 1
    assert done["report"].entries == len(lines) - 1 == 200
    stored = orjson.loads(
        gzip.decompress((tmp_path / "data" / snapshot_key("regional-global-daily", DAY)).read_bytes())
    )
    assert len(stored["entries"]) == 200


def test_a_file_that_never_settles_is_refused_naming_it(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_export, "SETTLE_SECONDS", 3600.0)
    monkeypatch.setattr(csv_export, "MAX_WAIT_SECONDS", 0.2)
    write(tmp_path, NAME, REAL_FORMAT)
    with pytest.raises(CsvExportError, match=f"{tmp_path / NAME}: still changing after 0 s: is it still being written"):
        CsvExportSource(tmp_path).fetch("regional-global-daily", DAY)


def test_a_csv_changed_after_its_chart_was_stored_is_imported_again(tmp_path, pipeline_env, monkeypatch):
    """SPOTIFY_CHARTS_SOURCE=csv: the file is stored, then rewritten (a corrected download); the
    next run notices its new SHA-256, imports it again and staging holds the new numbers."""
    env = csv_source_env(tmp_path, pipeline_env, monkeypatch)
    folder = tmp_path / "csv"
    request = range_request("2023-05-01", "2023-05-01")
    first = materialize_request(request).asset_materializations_for_node("raw_chart_snapshots")[0].metadata
    assert (first["charts_fetched"].value, first["charts_changed_at_source"].value) == (1, 0)

    unchanged = materialize_request(request).asset_materializations_for_node("raw_chart_snapshots")[0].metadata
    assert (unchanged["charts_fetched"].value, unchanged["charts_reused"].value) == (0, 1)

    write(folder, NAME, REAL_FORMAT.replace("6126963", "7000001"))
    again = materialize_request(request).asset_materializations_for_node("raw_chart_snapshots")[0].metadata
    assert (again["charts_fetched"].value, again["charts_changed_at_source"].value) == (1, 1)
    ranks_streams = staging_rows_of(env["SPOTIFY_CHARTS_DUCKDB_PATH"], "rank, streams")
    assert ranks_streams[0] == (1, 7000001) and len(ranks_streams) == 4


def test_a_csv_dated_after_tomorrow_is_refused_by_the_sensor_and_the_source(tmp_path, capfd):
    folder = tmp_path / "csv"
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    write(folder, "regional-global-daily-2099-01-01.csv", REAL_FORMAT)
    write(folder, f"regional-ee-daily-{tomorrow}.csv", REAL_FORMAT)  # (a day's tolerance for time zones)
    result, _ = sensor_tick(dg.DagsterInstance.ephemeral(), folder)
    assert [r.tags["dagster/asset_partition_range_start"] for r in result] == [str(tomorrow)]
    expected = f"{folder / 'regional-global-daily-2099-01-01.csv'}: 2099-01-01 in the file name is in the future"
    assert expected in capfd.readouterr().err
    source = CsvExportSource(folder)
    assert source.latest_date("regional-global-daily") is None  # new_chart_dates asks for nothing up to 2099
    assert source.latest_date("regional-ee-daily") == tomorrow
    with pytest.raises(CsvExportError, match="in the future"):
        csv_export.read_exports(folder, ["regional-global-daily-2099-01-01.csv"])

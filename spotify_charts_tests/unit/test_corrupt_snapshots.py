"""A corrupt stored snapshot heals: the fetch step finds it (as the loader would refuse it), keeps
its bytes under quarantine/, fetches the chart again and reports both; when the source cannot give
it again, the error says which file to replace. (The same on S3: integration/test_s3_store.py.)"""

from __future__ import annotations

import datetime as dt

import pytest

from spotify_charts.ingest import fetch_snapshots, load_staging
from spotify_charts.snapshots import Snapshot, SnapshotError
from spotify_charts.snapshots.files import decompress, encode_snapshot
from spotify_charts.sources.csv_export import CsvExportSource
from spotify_charts.storage import QUARANTINE_PREFIX, snapshot_key
from spotify_charts.storage.local import LocalFileStore
from spotify_charts.warehouses.duckdb import DuckDBWarehouse
from spotify_charts_tests.support.corrupt import CORRUPTIONS, CountingSource, corrupt_bytes
from spotify_charts_tests.support.helpers import ENTRIES

ALIASES = ["regional-global-daily", "regional-ee-daily"]
DATES = [dt.date(2017, 1, 2), dt.date(2017, 1, 3)]
BAD = ("regional-ee-daily", dt.date(2017, 1, 3))


def quarantined(root) -> list:
    return sorted(p for p in (root / QUARANTINE_PREFIX).rglob("*") if p.is_file())


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_a_corrupt_snapshot_is_kept_aside_and_fetched_again(tmp_path, kind):
    store = LocalFileStore(tmp_path)
    fetch_snapshots(CountingSource(), store, ALIASES, DATES)
    key = snapshot_key(*BAD)
    good = store.read(key)
    bad = corrupt_bytes(kind, good)
    (tmp_path / key).write_bytes(bad)

    source = CountingSource()
    report = fetch_snapshots(source, store, ALIASES, DATES)
    assert source.fetched == [BAD]  # only the corrupt one; the three good ones are reused
    assert (report.fetched, report.reused, report.missing) == (1, 3, [])
    assert store.read(key) == good  # the same chart, byte for byte
    (kept,) = quarantined(tmp_path)
    assert kept.read_bytes() == bad and kept.as_posix().endswith(key)
    assert kept.relative_to(tmp_path).parts[1].endswith("Z")  # quarantine/{UTC time}/{key}
    (entry,) = report.quarantined
    assert entry["snapshot"] == store.uri(key) and entry["kept_at"] == str(kept)
    assert CORRUPTIONS[kind][1] in entry["problem"]
    # and it loads
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    assert load_staging(store, warehouse, ALIASES, DATES, "api").snapshots == 4

    again = fetch_snapshots(CountingSource(), store, ALIASES, DATES)
    assert (again.fetched, again.reused, again.quarantined) == (0, 4, [])


def test_an_empty_file_is_called_empty():
    snapshot = Snapshot("regional-ee-daily", DATES[0], "api", "/data/raw/x.json.gz", b"")
    with pytest.raises(SnapshotError, match=r"^/data/raw/x.json.gz: empty file \(0 bytes\)$"):
        decompress(snapshot)


def test_a_corrupt_csv_import_is_left_in_place_with_the_file_to_replace(tmp_path):
    """The sample or API source must not replace a chart that came from a CSV import."""
    store = LocalFileStore(tmp_path / "data")
    key = snapshot_key(*BAD)
    imported = encode_snapshot(b'{"entries": [}', "csv")  # an import, damaged since
    store.write(key, imported)
    source = CountingSource()
    with pytest.raises(SnapshotError) as failure:
        fetch_snapshots(source, store, [BAD[0]], [BAD[1]])
    message = str(failure.value)
    assert message.startswith(f"{store.uri(key)}: not valid JSON")
    assert "came from the 'csv' source" in message and f"replace {store.uri(key)}" in message
    assert "regional-ee-daily-2017-01-03.csv into the CSV folder (SPOTIFY_CHARTS_CSV_DIR)" in message
    assert "csv_files: ['regional-ee-daily-2017-01-03.csv']" in message
    assert source.fetched == [] and store.read(key) == imported and not (tmp_path / "data" / QUARANTINE_PREFIX).exists()


def test_when_the_csv_folder_lacks_the_chart_the_error_names_the_file(tmp_path):
    store = LocalFileStore(tmp_path / "data")
    key = snapshot_key(*BAD)
    store.write(key, b"")
    (tmp_path / "csv").mkdir()
    with pytest.raises(SnapshotError) as failure:
        fetch_snapshots(CsvExportSource(tmp_path / "csv"), store, [BAD[0]], [BAD[1]])
    message = str(failure.value)
    assert message.startswith(f"{store.uri(key)}: empty file (0 bytes); the 'csv' source has no chart for it")
    assert f"put {tmp_path / 'csv'}/regional-ee-daily-2017-01-03.csv and materialise raw_chart_snapshots" in message
    assert store.read(key) == b""  # nothing to replace it with: left where it is


def test_the_loader_names_the_corrupt_file_and_how_to_heal_it(tmp_path):
    store = LocalFileStore(tmp_path)
    fetch_snapshots(CountingSource(), store, ALIASES, DATES)
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    load_staging(store, warehouse, ALIASES, DATES, "api")
    before = warehouse.query(ENTRIES)
    (tmp_path / snapshot_key(*BAD)).write_bytes(b"")
    with pytest.raises(SnapshotError) as failure:
        load_staging(store, warehouse, ALIASES, DATES, "api")
    message = str(failure.value)
    assert message.startswith(f"{store.uri(snapshot_key(*BAD))}: empty file (0 bytes). Nothing was loaded.")
    assert "Materialise raw_chart_snapshots for that date again" in message
    assert warehouse.query(ENTRIES) == before

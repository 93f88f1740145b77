"""Loading staging: replace exactly the given charts and dates, in one transaction."""

import datetime as dt
import gzip

import duckdb
import pyarrow as pa
import pytest

from spotify_charts.ingest import fetch_snapshots, load_staging, read_snapshots
from spotify_charts.snapshots import SnapshotError
from spotify_charts.snapshots.arrow import ChartTables, concat_tables, parse_snapshots
from spotify_charts.snapshots.files import encode_snapshot
from spotify_charts.sources.sample import SampleSource
from spotify_charts.storage import snapshot_key
from spotify_charts.storage.local import LocalFileStore
from spotify_charts.warehouses import duckdb as duckdb_warehouse
from spotify_charts.warehouses.base import DUCKDB_ROW_GROUP_ROWS
from spotify_charts.warehouses.duckdb import DuckDBWarehouse
from spotify_charts_tests.support.helpers import fail_while_producing_batches, gz

ALIASES = ["regional-global-daily", "regional-ee-daily"]
DATES = [dt.date(2025, 3, 1) + dt.timedelta(days=i) for i in range(4)]


def rows(path, table="chart_entries"):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            f"select * exclude (loaded_at) from staging.{table} order by all"
            if table == "chart_entries"
            else f"select * from staging.{table} order by all"
        ).fetchall()


@pytest.fixture(params=["one transaction", "incoming tables"])
def loaded(request, tmp_path, monkeypatch):
    """Four dates of two charts loaded, by either of DuckDB's load paths (a small scope's, a large one's)."""
    if request.param == "incoming tables":
        monkeypatch.setattr(duckdb_warehouse, "LARGE_LOAD_ENTRIES", 0)
    store, warehouse = LocalFileStore(tmp_path / "data"), DuckDBWarehouse(tmp_path / "w.duckdb")
    report = fetch_snapshots(SampleSource(), store, ALIASES, DATES)
    assert (report.fetched, report.reused, report.entries) == (8, 0, 4 * 250)
    report = load_staging(store, warehouse, ALIASES, DATES, "sample")
    assert (report.snapshots, report.entry_rows, report.charts) == (8, 1000, set(ALIASES))
    return store, warehouse


def test_load_twice_gives_the_same_rows(loaded):
    store, warehouse = loaded
    first, first_artists = rows(warehouse.path), rows(warehouse.path, "chart_entry_artists")
    assert len(first) == 1000 and len(first_artists) > 1000
    again = fetch_snapshots(SampleSource(), store, ALIASES, DATES)
    assert (again.fetched, again.reused) == (0, 8)  # nothing fetched twice
    load_staging(store, warehouse, ALIASES, DATES, "sample")
    assert rows(warehouse.path) == first
    assert rows(warehouse.path, "chart_entry_artists") == first_artists


def test_loading_some_dates_leaves_other_dates_and_charts_alone(loaded):
    store, warehouse = loaded
    before = rows(warehouse.path)
    load_staging(store, warehouse, ["regional-ee-daily"], DATES[1:2], "sample")
    assert rows(warehouse.path) == before


def test_corrupt_snapshot_fails_the_load_and_keeps_previous_rows(loaded):
    store, warehouse = loaded
    before = rows(warehouse.path)
    bad_key = snapshot_key("regional-ee-daily", DATES[2])
    store.write(bad_key, gz(b'{"entries": [{"chartEntryData": {"currentRank": 1}}]}'))
    with pytest.raises(SnapshotError) as err:
        load_staging(store, warehouse, ALIASES, DATES, "sample")
    assert err.value.location == store.uri(bad_key) and "track URI" in err.value.problem
    assert rows(warehouse.path) == before


def test_failure_inside_the_transaction_rolls_back(loaded):
    _, warehouse = loaded
    before = rows(warehouse.path)
    good = ChartTables(
        pa.table({"chart_id": ["regional-ee-daily"], "chart_date": [DATES[0]]}),
        pa.table({"chart_id": ["regional-ee-daily"], "chart_date": [DATES[0]], "nonsense": [1]}),
    )
    with pytest.raises(duckdb.Error):
        warehouse.replace_charts(["regional-ee-daily"], DATES[0], DATES[0], [good])
    assert rows(warehouse.path) == before


def test_failure_while_producing_batches_rolls_back(loaded):
    store, warehouse = loaded
    before = rows(warehouse.path)
    fail_while_producing_batches(store, warehouse, ALIASES, DATES)
    assert rows(warehouse.path) == before


def test_a_failed_loads_incoming_rows_never_reach_staging_and_the_next_load_clears_them(loaded):
    store, warehouse = loaded
    before = rows(warehouse.path)
    # More than a DuckDB row group (2,500 batches of 50 entries), so some rows are appended before the failure.
    fail_while_producing_batches(store, warehouse, ALIASES, DATES, good=2_500)
    assert rows(warehouse.path) == before
    load_staging(store, warehouse, ALIASES, DATES, "sample")
    assert rows(warehouse.path) == before
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        tables = con.execute("select table_name from duckdb_tables() where schema_name = 'staging' order by 1")
        assert [name for (name,) in tables.fetchall()] == ["chart_entries", "chart_entry_artists"]


def test_rows_outside_the_replaced_scope_are_refused(loaded):
    store, warehouse = loaded
    tables = parse_snapshots(read_snapshots(store, [(a, d) for a in ALIASES for d in DATES], "sample"))
    with pytest.raises(ValueError, match="outside the replaced scope"):
        warehouse.replace_charts(["regional-ee-daily"], DATES[0], DATES[-1], [tables])
    with pytest.raises(ValueError, match="outside the replaced scope"):
        warehouse.replace_charts(ALIASES, DATES[1], DATES[-1], [tables])


def test_refresh_fetches_again(loaded):
    store, _ = loaded
    report = fetch_snapshots(SampleSource(), store, ALIASES, DATES[:1], refresh=True)
    assert (report.fetched, report.reused) == (2, 0)


def test_source_recorded_with_the_snapshot_reaches_staging(loaded):
    store, warehouse = loaded
    key = snapshot_key("regional-ee-daily", DATES[0])
    store.write(key, encode_snapshot(gzip.decompress(store.read(key)), "csv"))
    load_staging(store, warehouse, ALIASES, DATES, "sample")
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        sources = con.execute(
            "select chart_id, chart_date, source, count(*) from staging.chart_entries group by all order by all"
        ).fetchall()
    assert ("regional-ee-daily", DATES[0], "csv", 50) in sources
    assert sum(1 for s in sources if s[2] == "sample") == 7


def test_a_large_load_leaves_full_row_groups(tmp_path, monkeypatch):
    """A backfill's copy fills DuckDB's row groups (one part-filled group per insert thread at most).
    Part-filled groups are merged again by every later checkpoint that touches the table: after a
    backfill of 26 M entries, each daily load spent 11 s and 1.5 GB on that, for its first dozen days."""
    monkeypatch.setattr(duckdb_warehouse, "LARGE_LOAD_ENTRIES", 0)
    store, warehouse = LocalFileStore(tmp_path / "data"), DuckDBWarehouse(tmp_path / "w.duckdb", threads=2)
    fetch_snapshots(SampleSource(), store, ["regional-ee-daily"], DATES[:1])
    first = parse_snapshots(read_snapshots(store, [("regional-ee-daily", DATES[0])], "sample"))
    batch = concat_tables([first] * 600)  # 30,000 entries, as a parser's batches arrive
    warehouse.replace_charts(["regional-ee-daily"], DATES[0], DATES[0], [batch] * 40)
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        for table in ("chart_entries", "chart_entry_artists"):
            count, groups = con.execute(
                f"select (select count(*) from staging.{table}), count(distinct row_group_id) "
                f"from pragma_storage_info('staging.{table}')"
            ).fetchone()
            full = -(-count // DUCKDB_ROW_GROUP_ROWS)
            assert count >= 1_200_000 and groups <= full + 1, (table, count, groups)

"""Bounded memory wherever the pipeline opens DuckDB: every connection of the warehouse has the
configured memory limit, threads and spill folder, and a query bigger than the limit spills there
instead of failing (or taking the machine's memory)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from spotify_charts import settings, warehouses
from spotify_charts.settings.parsers import memory_bytes
from spotify_charts.warehouses.base import dbt_arguments
from spotify_charts.warehouses.duckdb import DBT_DUCKDB_SETTINGS, DuckDBWarehouse

SHOW = (
    "select current_setting('memory_limit') as memory_limit, current_setting('threads') as threads, "
    "current_setting('temp_directory') as temp_directory"
)
# A sort of ~100 MB of rows: far more than the 16 MB allowed below.
BIG_SORT = (
    "select count(*) as n, sum(h) as total "
    "from (select hash(i) as h, i::varchar as s from range(1500000) t(i) order by s)"
)


def duckdb_shows(limit: str) -> str:
    """How this DuckDB reports a memory limit once set (it shows 2GB as 1.8 GiB)."""
    with duckdb.connect() as con:
        con.execute(f"set memory_limit = '{limit}'")
        return con.execute("select current_setting('memory_limit')").fetchone()[0]


def test_the_warehouse_from_settings_bounds_every_connection(tmp_path):
    values = settings.load(
        {
            "SPOTIFY_CHARTS_DATA_DIR": str(tmp_path / "data"),
            "SPOTIFY_CHARTS_DUCKDB_MEMORY_LIMIT": "300MB",
            "SPOTIFY_CHARTS_DUCKDB_THREADS": "3",
        }
    )
    warehouse = warehouses.from_settings(values)
    assert isinstance(warehouse, DuckDBWarehouse)
    with warehouse.connect() as con:  # the loader's connection
        assert con.execute(SHOW).fetchone() == (duckdb_shows("300MB"), 3, str(tmp_path / "data" / "duckdb_temp"))
    # the checks' and the dashboard's (read-only) connections
    assert warehouse.query(SHOW) == [
        {"memory_limit": duckdb_shows("300MB"), "threads": 3, "temp_directory": str(tmp_path / "data" / "duckdb_temp")}
    ]
    # and dbt's: the same values travel as --vars that dbt/profiles.yml applies to its connections
    target, vars_ = dbt_arguments(warehouse)[1], dbt_arguments(warehouse)[3]
    assert target == "duckdb"
    assert vars_ == (
        f'{{"duckdb_path": "{tmp_path / "data" / "warehouse.duckdb"}", "duckdb_settings": '
        f'{{"memory_limit": "300MB", "threads": 3, "temp_directory": "{tmp_path / "data" / "duckdb_temp"}", '
        '"preserve_insertion_order": false}}'
    )


def test_the_default_limit_is_1_5gb_and_threads_are_duckdbs_own(tmp_path):
    warehouse = warehouses.from_settings(settings.load({"SPOTIFY_CHARTS_DATA_DIR": str(tmp_path)}))
    warehouse.connect().close()  # query() answers nothing before the file exists
    (row,) = warehouse.query(SHOW)
    assert row["memory_limit"] == duckdb_shows("1.5GB")
    with duckdb.connect() as plain:
        assert row["threads"] == plain.execute("select current_setting('threads')").fetchone()[0]


def test_a_query_bigger_than_the_limit_spills_to_the_temp_folder_instead_of_failing(tmp_path):
    spill = tmp_path / "spill"
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb", memory_limit="16MB", threads=1, temp_directory=spill)
    with warehouse.connect() as con:
        assert not spill.exists()
        assert con.execute(BIG_SORT).fetchone()[0] == 1_500_000
        assert spill.is_dir()  # DuckDB made the spill folder to finish the sort (and removes it on close)
    # the limit is real: without a spill folder the same query runs out of memory
    with duckdb.connect(config={"memory_limit": "16MB", "threads": 1, "temp_directory": ""}) as con:
        with pytest.raises(duckdb.OutOfMemoryException):
            con.execute(BIG_SORT).fetchall()


def test_dbt_run_by_hand_leaves_row_order_to_duckdb_as_the_pipelines_dbt_does():
    """The profile's fallback for `dbt build` run by hand carries the settings only dbt's
    connections get from the pipeline (DBT_DUCKDB_SETTINGS), written out in profiles.yml."""
    profile = (Path(__file__).resolve().parents[2] / "dbt" / "profiles.yml").read_text()
    assert DBT_DUCKDB_SETTINGS
    for name, value in DBT_DUCKDB_SETTINGS.items():
        assert f"'{name}': {str(value).lower()}" in profile, name


@pytest.mark.parametrize(("limit", "loader"), [("300MB", "240MB"), ("1GiB", f"{int(0.8 * 2**30)}B")])
def test_the_loader_gives_duckdb_a_share_of_the_limit_for_its_own_batches(tmp_path, limit, loader):
    """The loading process also holds its parsers' batches: DuckDB gets 80% of the limit while a
    load runs (seen from a second connection to the same database), and the whole limit after."""
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb", memory_limit=limit, threads=1)
    seen = []

    def batches():
        with warehouse.connect() as con:  # the same database in this process: its settings are shared
            seen.append(con.execute("select current_setting('memory_limit')").fetchone()[0])
        yield from ()

    warehouse.replace_charts(["regional-ee-daily"], dt.date(2025, 6, 1), dt.date(2025, 6, 1), batches())
    assert seen == [duckdb_shows(loader)]
    assert warehouse.query("select current_setting('memory_limit') as m") == [{"m": duckdb_shows(limit)}]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1.5GB", 1_500_000_000), ("512 mb", 512_000_000), ("2GiB", 2 << 30), ("100B", 100), ("50%", None)],
)
def test_memory_settings_in_bytes(text, expected):
    import os

    half = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    assert memory_bytes(text) == (expected if expected is not None else half)

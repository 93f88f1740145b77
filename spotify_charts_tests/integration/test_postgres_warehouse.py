"""The PostgreSQL warehouse on a real server: the loader replaces exactly its scope in one
transaction (re-runs never duplicate, failures leave the previous rows), the checks give the same
answers as on DuckDB, and the whole pipeline runs through Dagster with SPOTIFY_CHARTS_WAREHOUSE=postgres."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import dagster as dg
import pytest

from spotify_charts import quality
from spotify_charts.dashboard.data import CONTRACT_TABLES
from spotify_charts.ingest import fetch_snapshots, load_staging, read_snapshots
from spotify_charts.snapshots.arrow import parse_snapshots
from spotify_charts.sources.sample import SampleSource
from spotify_charts.storage.local import LocalFileStore
from spotify_charts.warehouses.duckdb import DuckDBWarehouse
from spotify_charts_tests.support.helpers import RANGE, all_assets, fail_while_producing_batches
from spotify_charts_tests.support.postgres import running_postgres

ALIASES = ["regional-global-daily", "regional-ee-daily"]
DATES = [dt.date(2025, 6, 1) + dt.timedelta(days=i) for i in range(4)]
ENTRIES = "select * from staging.chart_entries order by chart_id, chart_date, rank"
ARTISTS = "select * from staging.chart_entry_artists order by chart_id, chart_date, rank, artist_position"


def plain(rows: list[dict]) -> list[tuple]:
    """Rows without the load time, numbers as floats: comparable across the two warehouses."""
    return [
        tuple(float(v) if isinstance(v, Decimal) else v for k, v in row.items() if k != "loaded_at") for row in rows
    ]


@pytest.fixture
def raw(tmp_path) -> LocalFileStore:
    store = LocalFileStore(tmp_path / "raw")
    fetch_snapshots(SampleSource(), store, ALIASES, DATES)
    return store


def test_a_load_gives_duckdbs_rows_and_a_reload_replaces_them(raw, postgres_db, tmp_path):
    postgres, duck = postgres_db.warehouse(), DuckDBWarehouse(tmp_path / "w.duckdb")
    for warehouse in (postgres, duck):
        report = load_staging(raw, warehouse, ALIASES, DATES, "sample")
        assert report.entry_rows == 4 * 250
    assert plain(postgres.query(ENTRIES)) == plain(duck.query(ENTRIES)) and len(postgres.query(ENTRIES)) == 1000
    assert plain(postgres.query(ARTISTS)) == plain(duck.query(ARTISTS))
    # empty strings and nulls stay apart through COPY
    nulls = "select count(*) as n from staging.chart_entries where previous_rank is null and entry_status is not null"
    assert postgres.query(nulls) == duck.query(nulls)

    load_staging(raw, postgres, ALIASES, DATES, "sample")  # again: replaced, not added
    load_staging(raw, postgres, ["regional-ee-daily"], DATES[1:2], "sample")  # a narrower scope
    assert plain(postgres.query(ENTRIES)) == plain(duck.query(ENTRIES))
    assert postgres.table_names("staging") == {"chart_entries", "chart_entry_artists"}


def test_names_come_back_as_written_from_a_database_that_is_not_utf8(raw, tmp_path):
    """A server initialised SQL_ASCII (its clients' encoding by default too): the warehouse's
    connection speaks UTF-8, so non-ASCII artist names load and read back unchanged."""
    with running_postgres(tmp_path / "ascii", encoding="SQL_ASCII") as server:
        warehouse = server.warehouse()
        assert warehouse.query("show server_encoding") == [{"server_encoding": "SQL_ASCII"}]
        duck = DuckDBWarehouse(tmp_path / "w.duckdb")
        for each in (warehouse, duck):
            load_staging(raw, each, ALIASES, DATES, "sample")
        artists = warehouse.query(ARTISTS)
        assert any(not row["artist_name"].isascii() for row in artists)  # the case that used to fail
        assert plain(artists) == plain(duck.query(ARTISTS))
        assert plain(warehouse.query(ENTRIES)) == plain(duck.query(ENTRIES))


def test_a_failure_during_the_load_leaves_the_previous_rows(raw, postgres_db):
    warehouse = postgres_db.warehouse()
    load_staging(raw, warehouse, ALIASES, DATES, "sample")
    before = warehouse.query(ENTRIES)
    fail_while_producing_batches(raw, warehouse, ALIASES, DATES)
    assert warehouse.query(ENTRIES) == before

    stray = parse_snapshots(read_snapshots(raw, [("regional-global-daily", DATES[0])], "sample"))
    with pytest.raises(ValueError, match="outside the replaced scope"):
        warehouse.replace_charts(["regional-ee-daily"], DATES[0], DATES[-1], [stray])
    assert warehouse.query(ENTRIES) == before


def test_the_checks_give_the_same_answers_on_postgres_and_duckdb(raw, postgres_db, tmp_path):
    postgres, duck = postgres_db.warehouse(), DuckDBWarehouse(tmp_path / "w.duckdb")
    for warehouse in (postgres, duck):
        load_staging(raw, warehouse, ALIASES, DATES, "sample")
    broken = "delete from staging.chart_entries where chart_id = 'regional-ee-daily' and rank = 2"
    with duck.connect() as con:
        con.execute(broken)
    con = postgres.connect()
    with con, con.cursor() as cur:
        cur.execute(broken)
    con.close()
    for rule in (*quality.BLOCKING_RULES, *quality.WARNING_RULES):
        on_postgres = rule(postgres.query, ALIASES, DATES[0], DATES[-1])
        on_duckdb = rule(duck.query, ALIASES, DATES[0], DATES[-1])
        assert (on_postgres.offending, on_postgres.examples) == (on_duckdb.offending, on_duckdb.examples), rule
    assert quality.chart_size_as_expected(postgres.query, ALIASES, DATES[0], DATES[-1]).offending == 4
    assert quality.latest_chart_date(postgres.query) == DATES[-1]


def test_a_wrong_password_is_said_without_the_password(postgres_db):
    from spotify_charts.warehouses.postgres import PostgresWarehouse

    wrong = PostgresWarehouse(
        postgres_db.host, postgres_db.port, postgres_db.user, "hunter2-wrong", postgres_db.database
    )
    with pytest.raises(ConnectionError) as failure:
        wrong.query("select 1")
    message = str(failure.value)
    assert f"{postgres_db.host}:{postgres_db.port}/{postgres_db.database}" in message
    assert "password authentication failed" in message and "hunter2-wrong" not in message


def contracts(warehouse) -> dict[str, list[tuple]]:
    def value(v):
        return round(float(v), 4) if isinstance(v, Decimal | float) else v

    return {
        name: sorted(tuple(value(v) for v in row.values()) for row in warehouse.query(f"select * from marts.{name}"))
        for name in CONTRACT_TABLES
    }


def test_the_pipeline_on_postgres_through_dagster(postgres_db, tmp_path, monkeypatch, capfd):
    """SPOTIFY_CHARTS_WAREHOUSE=postgres: staging, the checks, every dbt model and test, and the
    dashboard run on PostgreSQL, with the contract tables a DuckDB run builds; a second run
    changes nothing; the password is never shown."""
    from spotify_charts.defs.resources import build_resources

    def run(env: dict[str, str]) -> dg.ExecuteInProcessResult:
        env = {**env, "SPOTIFY_CHARTS_REGIONS": "global,ee", "SPOTIFY_CHARTS_DATA_DIR": str(tmp_path / "data")}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        result = dg.materialize(all_assets(), resources=build_resources(), tags=RANGE)
        assert result.success
        failed = [c.check_name for c in result.get_asset_check_evaluations() if not c.passed]
        assert result.get_asset_check_evaluations() and not failed, failed
        return result

    duck = DuckDBWarehouse(tmp_path / "w.duckdb")
    run({"SPOTIFY_CHARTS_DUCKDB_PATH": str(duck.path)})
    on_duckdb = contracts(duck)
    monkeypatch.delenv("SPOTIFY_CHARTS_DUCKDB_PATH")

    postgres = postgres_db.warehouse()
    results = [run(postgres_db.dbt_env()) for _ in range(2)]
    assert postgres.query("select count(*) as n from staging.chart_entries") == [{"n": 750}]
    assert postgres.query("select count(*) as n from marts.fct_chart_entries") == [{"n": 750}]
    assert contracts(postgres) == on_duckdb and on_duckdb["song_longevity"] and on_duckdb["top_songs"]
    assert plain(postgres.query(ENTRIES))[0][:4] == plain(duck.query(ENTRIES))[0][:4]
    assert results[-1].asset_materializations_for_node("dashboard")[0].metadata["charts"].value == 2

    shown = capfd.readouterr()
    events = "\n".join(str(event) for result in results for event in result.all_events)
    assert postgres_db.password not in events and postgres_db.password not in shown.out + shown.err


def test_postgres_creates_exactly_the_staging_schemas_columns(postgres_db):
    from spotify_charts.warehouses.schema import TABLES, TYPES

    warehouse = postgres_db.warehouse()
    warehouse.replace_charts(["regional-ee-daily"], dt.date(2025, 6, 1), dt.date(2025, 6, 1), [])
    for table, columns in TABLES.items():
        rows = warehouse.query(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'staging' and table_name = ? order by ordinal_position",
            [table],
        )
        expected = [(c.name, TYPES[c.type]["postgres"]) for c in columns]
        assert [(r["column_name"], r["data_type"]) for r in rows] == expected


def test_the_warehouse_follows_libpqs_tls_settings_from_the_environment(postgres_db, monkeypatch):
    """On ECS the tasks set PGSSLMODE=verify-full and PGSSLROOTCERT to RDS's CA bundle
    (terraform/dagster.tf); the warehouse sets no sslmode of its own, so libpq's applies. This
    server has no TLS: with those variables it is refused, as a server RDS's CAs did not sign
    would be; without them libpq's default connects."""
    from spotify_charts_tests.support.helpers import REPO

    warehouse = postgres_db.warehouse()
    warehouse.query("select 1")
    monkeypatch.setenv("PGSSLMODE", "verify-full")
    monkeypatch.setenv("PGSSLROOTCERT", str(REPO / "deploy" / "ecs" / "rds-ca-bundle.pem"))
    with pytest.raises(ConnectionError, match="SSL"):
        warehouse.query("select 1")

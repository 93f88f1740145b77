"""The same dbt project on every warehouse: built and tested on DuckDB and on a real PostgreSQL
server, with identical contract tables; compiled for Redshift, and the SQL parses as Redshift's."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

import psycopg2
import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from spotify_charts.dashboard.data import CONTRACT_TABLES
from spotify_charts.snapshots.arrow import ChartTables
from spotify_charts_tests.support.helpers import dbt, sample_warehouse
from spotify_charts_tests.support.postgres import PostgresServer, running_postgres

REPO = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).with_name("dbt")
ALIASES = ["regional-global-daily", "regional-ee-daily"]
# Two months and a half: a first month (left out of new_songs_by_month) and two more.
DATES = [dt.date(2025, 1, 20) + dt.timedelta(days=i) for i in range(60)]


@pytest.fixture(scope="module")
def staging_duckdb(tmp_path_factory) -> Path:
    """A DuckDB warehouse whose staging holds 2 charts x 60 days of sample charts."""
    return sample_warehouse(tmp_path_factory.mktemp("duckdb"), ALIASES, DATES).path


@pytest.fixture(scope="module")
def postgres(tmp_path_factory) -> PostgresServer:
    with running_postgres(tmp_path_factory.mktemp("postgres")) as server:
        yield server


def connect(server: PostgresServer):
    return psycopg2.connect(
        host=server.host, port=server.port, user=server.user, password=server.password, dbname=server.database
    )


def copy_staging_to_postgres(duckdb_path: Path, server: PostgresServer) -> None:
    """Postgres staging gets exactly DuckDB's staging rows, through the product's Postgres loader."""
    import duckdb

    with duckdb.connect(str(duckdb_path), read_only=True) as source:
        tables = ChartTables(
            source.sql("select * from staging.chart_entries").to_arrow_table(),
            source.sql("select * from staging.chart_entry_artists").to_arrow_table(),
        )
    server.warehouse().replace_charts(ALIASES, DATES[0], DATES[-1], [tables])


def normalise(value):
    if isinstance(value, float | Decimal):
        return round(float(value), 4)
    return value


def contract_rows(fetch) -> dict[str, list[tuple]]:
    return {
        name: sorted(tuple(normalise(v) for v in row) for row in fetch(f"select * from marts.{name}"))
        for name in CONTRACT_TABLES
    }


def test_duckdb_and_postgres_build_the_same_contract_tables(staging_duckdb, postgres, tmp_path):
    import duckdb

    built = dbt(["build"], {"SPOTIFY_CHARTS_DUCKDB_PATH": str(staging_duckdb)}, tmp_path / "duckdb")
    assert built.returncode == 0, built.stdout[-3000:]
    assert "ERROR=0" in built.stdout and "unit tests" in built.stdout
    with duckdb.connect(str(staging_duckdb), read_only=True) as con:
        on_duckdb = contract_rows(lambda sql: con.execute(sql).fetchall())

    copy_staging_to_postgres(staging_duckdb, postgres)
    built = dbt(["build"], postgres.dbt_env(), tmp_path / "postgres")
    assert built.returncode == 0, built.stdout[-3000:]
    assert "target='postgres'" in built.stdout and "ERROR=0" in built.stdout
    with connect(postgres) as con, con.cursor() as cur:

        def fetch(sql):
            cur.execute(sql)
            return cur.fetchall()

        on_postgres = contract_rows(fetch)
        # the contract holds on Postgres too: the columns have the declared types
        cur.execute(
            "select data_type from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'song_longevity' order by ordinal_position"
        )
        assert [r[0] for r in cur.fetchall()] == ["character varying", "character varying", "integer", "numeric"]

    for name in CONTRACT_TABLES:
        assert on_duckdb[name], f"{name} is empty"
        assert on_postgres[name] == on_duckdb[name], name

    # A date loaded again (same rows, new load time), then a build: on Postgres too, the analytics
    # recompute that date's songs in place (DELETE ... USING, then insert) to the same tables.
    reloaded = DATES[10].isoformat()
    with connect(postgres) as con, con.cursor() as cur:
        cur.execute("update staging.chart_entries set loaded_at = now() where chart_date = %s", (reloaded,))
    dates = f'{{"min_date": "{reloaded}", "max_date": "{reloaded}"}}'
    built = dbt(["build", "--vars", dates], postgres.dbt_env(), tmp_path / "postgres-again")
    assert built.returncode == 0, built.stdout[-3000:]
    with connect(postgres) as con, con.cursor() as cur:

        def fetch(sql):
            cur.execute(sql)
            return cur.fetchall()

        assert fetch(
            "select chart_id, cast(chart_date as varchar) from intermediate.int_analytics__chart_dates where is_changed"
        ) == [(alias, reloaded) for alias in sorted(ALIASES)]
        assert fetch("select count(*) from intermediate.int_analytics__changed_songs") == [(0,)]
        assert contract_rows(fetch) == on_duckdb
    assert {row[0] for row in on_duckdb["song_longevity"]} == set(ALIASES)
    assert len(on_duckdb["new_songs_by_month"]) == 2 * 2  # February and March, for both charts


def test_a_failing_data_test_fails_the_build_on_postgres(postgres, tmp_path):
    """The data tests run and can fail: a duplicated staging row breaks the fact's key test."""
    with connect(postgres) as con, con.cursor() as cur:
        cur.execute("create schema if not exists staging")
        cur.execute("create table if not exists staging.chart_entries as select * from staging.chart_entries limit 0")
        cur.execute("select count(*) from staging.chart_entries")
        if not cur.fetchone()[0]:
            pytest.fail("runs after the parity test, which fills Postgres staging")
        cur.execute("insert into staging.chart_entries select * from staging.chart_entries limit 1")
    try:
        built = dbt(["build", "--select", "+fct_chart_entries"], postgres.dbt_env(), tmp_path)
        assert built.returncode != 0
        assert "unique_combination_fct_chart_entries_chart_id__chart_date__rank" in built.stdout
        assert "FAIL 1" in built.stdout
    finally:
        with connect(postgres) as con, con.cursor() as cur:
            cur.execute(
                "delete from staging.chart_entries a using staging.chart_entries b "
                "where a.ctid > b.ctid and a.chart_id = b.chart_id and a.chart_date = b.chart_date and a.rank = b.rank"
            )


def test_redshift_sql_compiles_and_parses_as_redshift(tmp_path):
    """No Redshift cluster here: compile every model for the redshift target (no connection) and
    parse the SQL with sqlglot's redshift dialect. The warehouse-specific macros must have chosen
    Redshift's forms."""
    compiled = dbt(
        ["compile", "--no-introspect", "--no-populate-cache"],
        {"SPOTIFY_CHARTS_WAREHOUSE": "redshift"},
        tmp_path,
    )
    assert compiled.returncode == 0, compiled.stdout[-3000:]
    files = list((tmp_path / "target" / "compiled").rglob("*.sql"))
    models = {p.stem: p.read_text() for p in files if p.parent.suffix != ".yml"}  # data tests sit in *.yml/
    assert len(models) == 34 and len(files) > 150
    for path in files:  # models and data tests alike
        statements = sqlglot.parse(path.read_text(), read="redshift", error_level=ErrorLevel.RAISE)
        assert statements and all(s is not None for s in statements), path.name
    assert "median(" in models["release_day_performance"] and "percentile_cont" not in models["song_lifecycle"]
    assert "extract(dow from" in models["release_day_performance"] and "isodow" not in models["release_day_performance"]
    assert "listagg(" in models["dim_tracks"] and "within group (order by credit_key)" in models["dim_tracks"]
    assert "datediff(" in models["int_chart_song_days"]
    # The incremental analytics compile as a daily build runs them (compile assumes a saved state).
    assert "where is_changed" in models["int_chart_song_days"]
    assert "int_analytics__state_dates" in models["int_chart_dates__loaded"]
    assert "int_analytics__state_tracks" in models["int_analytics__chart_dates"]
    assert "int_tracks__changed" in models["int_tracks__latest_entry"]
    assert "int_analytics__changed_song_days" in models["int_chart_songs"]


def test_the_incremental_models_delete_statement_parses_as_redshift(tmp_path):
    """The pre-hook an incremental analytics model runs before it inserts what changed (hooks are
    not in compiled files): rendered for Redshift, it is one DELETE ... USING that sqlglot parses."""
    hook = (
        "-- depends_on: {{ ref('int_analytics__chart_dates') }}\n"
        "{{ delete_changed('int_analytics__chart_dates', ['chart_id', 'chart_date'], 'is_changed') }}"
    )
    compiled = dbt(
        ["compile", "--no-introspect", "--no-populate-cache", "--quiet", "--inline", hook],
        {"SPOTIFY_CHARTS_WAREHOUSE": "redshift"},
        tmp_path,
    )
    assert compiled.returncode == 0, compiled.stdout[-3000:]
    (delete,) = sqlglot.parse(compiled.stdout, read="redshift", error_level=ErrorLevel.RAISE)
    assert isinstance(delete, sqlglot.exp.Delete)
    sql = delete.sql(dialect="redshift")
    assert 'USING "spotify_charts"."intermediate"."int_analytics__chart_dates"' in sql
    assert "inline_query.chart_date = int_analytics__chart_dates.chart_date" in sql
    assert sql.endswith("AND int_analytics__chart_dates.is_changed")


def test_dbt_connections_get_the_pipelines_duckdb_bounds(tmp_path):
    """The profile applies the memory limit, threads and spill folder the pipeline passes (as
    dbt_arguments, exactly what the dbt assets pass) to the connection dbt opens."""
    import json

    from spotify_charts.warehouses.base import dbt_arguments
    from spotify_charts.warehouses.duckdb import DuckDBWarehouse

    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb", memory_limit="300MB", threads=3, temp_directory=tmp_path / "t")
    shown = dbt(
        [
            "show",
            "--inline",
            "select current_setting('memory_limit') as memory_limit, current_setting('threads') as threads, "
            "current_setting('temp_directory') as temp_directory",
            "--output",
            "json",
            "--log-format",
            "json",
            *dbt_arguments(warehouse),
        ],
        {},
        tmp_path,
    )
    assert shown.returncode == 0, shown.stdout[-3000:]
    previews = [
        json.loads(event["data"]["preview"])
        for event in map(json.loads, shown.stdout.splitlines())
        if "preview" in event.get("data", {})
    ]
    with warehouse.connect() as con:  # what the pipeline's own connection reports
        own = con.execute("select current_setting('memory_limit'), current_setting('threads')").fetchone()
    assert previews == [[{"memory_limit": own[0], "threads": own[1], "temp_directory": str(tmp_path / "t")}]]


def test_dbt_keeps_working_after_a_query_spills_to_disk(tmp_path):
    """At full scale dbt's queries spill to the temp folder. A model that spills, then a model and a
    test after it (each on a new dbt cursor), all pass with the project's profile. (Given as
    `settings`, dbt-duckdb SET temp_directory on every cursor, and DuckDB refuses that once a query
    has spilled: every later node of the build failed.)"""
    from spotify_charts.warehouses.base import dbt_arguments
    from spotify_charts.warehouses.duckdb import DuckDBWarehouse

    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        "name: spill_check\nversion: '1.0.0'\nconfig-version: 2\nprofile: spotify_charts\n"
        "models:\n  spill_check:\n    +materialized: table\n"
    )
    # A sort of ~100 MB of rows: far more than the 16 MB allowed below, so it must spill.
    (project / "models" / "spilled.sql").write_text(
        "select count(*) as n from (select hash(i) as h, i::varchar as s from range(1500000) t(i) order by s)"
    )
    (project / "models" / "after_the_spill.sql").write_text("select n from {{ ref('spilled') }}")
    (project / "models" / "schema.yml").write_text(
        "models:\n  - name: after_the_spill\n    columns:\n      - name: n\n"
        "        data_tests: [not_null, accepted_values: {arguments: {values: [1500000]}}]\n"
    )
    spill = tmp_path / "spill"
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb", memory_limit="16MB", threads=1, temp_directory=spill)
    warehouse.connect().close()
    built = dbt(
        ["build", "--project-dir", str(project), "--profiles-dir", str(REPO / "dbt"), *dbt_arguments(warehouse)],
        {},
        tmp_path,
    )
    assert built.returncode == 0, built.stdout[-3000:]
    assert "PASS=4 " in built.stdout and "ERROR=0" in built.stdout
    with warehouse.connect() as con:
        assert con.execute("select n from main.after_the_spill").fetchall() == [(1_500_000,)]


@pytest.mark.parametrize(
    ("dbt_vars", "message"),
    [
        ('{"signals_fading_pct": 101}', "var signals_fading_pct must be a whole number from 1 to 100, got 101"),
        ('{"signals_reentry_days": -7}', "var signals_reentry_days must be a whole number from 1 to 3650, got -7"),
        ('{"signals_climbing_places": "ten"}', "var signals_climbing_places must be a whole number from 1 to 199"),
    ],
)
def test_a_signal_threshold_that_makes_no_sense_stops_the_build_naming_the_var(tmp_path, dbt_vars, message):
    compiled = dbt(
        ["compile", "--no-introspect", "--no-populate-cache", "--select", "song_signals", "--vars", dbt_vars],
        {"SPOTIFY_CHARTS_WAREHOUSE": "redshift"},
        tmp_path,
    )
    assert compiled.returncode != 0
    assert message in compiled.stdout, compiled.stdout[-3000:]

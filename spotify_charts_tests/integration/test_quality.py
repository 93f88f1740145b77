"""Data-quality checks: each rule passes on good charts and fails, counting the offenders, on a
crafted bad partition; a payload that would corrupt the marts is refused by the loader, so the dbt
models of that run are not built on it."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from spotify_charts import quality
from spotify_charts.ingest import fetch_snapshots
from spotify_charts.snapshots.files import encode_snapshot
from spotify_charts.sources.sample import SampleSource
from spotify_charts.storage import snapshot_key
from spotify_charts.storage.local import LocalFileStore
from spotify_charts.warehouses.duckdb import DuckDBWarehouse
from spotify_charts_tests.support.helpers import sample_warehouse

ALIASES = ["regional-global-daily", "regional-ee-daily"]
DATES = [dt.date(2025, 6, 1) + dt.timedelta(days=i) for i in range(4)]
RULES = (*quality.BLOCKING_RULES, *quality.WARNING_RULES)


@pytest.fixture(scope="module")
def good_warehouse(tmp_path_factory) -> Path:
    return sample_warehouse(tmp_path_factory.mktemp("quality"), ALIASES, DATES).path


@pytest.fixture
def warehouse(good_warehouse, tmp_path) -> DuckDBWarehouse:
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(good_warehouse.read_bytes())
    return DuckDBWarehouse(copy)


def run_rule(warehouse: DuckDBWarehouse, rule) -> quality.RuleResult:
    return rule(warehouse.query, ALIASES, DATES[0], DATES[-1])


def execute(warehouse: DuckDBWarehouse, sql: str) -> None:
    with duckdb.connect(str(warehouse.path)) as con:
        con.execute(sql)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_every_rule_passes_on_good_charts(warehouse, rule):
    result = run_rule(warehouse, rule)
    assert result.passed and result.offending == 0 and result.examples == []


WHERE = "chart_id = 'regional-global-daily' and chart_date = '2025-06-03'"


@pytest.mark.parametrize(
    ("rule", "damage", "offending", "example"),
    [
        (quality.streams_non_increasing, f"update staging.chart_entries set streams = 1 where {WHERE} and rank = 5",
         1, {"rank": 5, "streams": 1}),
        (quality.history_consistent,
         f"update staging.chart_entries set previous_rank = 199 where {WHERE} and rank in (1, 2)", 2,
         {"rank": 1, "previous_rank": 199}),
        (quality.chart_size_as_expected, f"delete from staging.chart_entries where {WHERE} and rank > 150", 1,
         {"entries": 150, "expected": 200}),
    ],
    ids=lambda v: v.__name__ if callable(v) else None,
)  # fmt: skip
def test_every_rule_fails_on_a_crafted_bad_partition(warehouse, rule, damage, offending, example):
    execute(warehouse, damage)
    result = run_rule(warehouse, rule)
    assert not result.passed and result.offending == offending
    assert result.examples[0]["chart_id"] == "regional-global-daily"
    assert example.items() <= result.examples[0].items()
    # only the damaged chart-day is named
    assert {e["chart_date"] for e in result.examples} == {"2025-06-03"}


@pytest.mark.parametrize(
    ("rule", "damage", "offending"),
    [
        # every entry but the top one of each chart-day: 4 days of the global top 200 and Estonia's 50
        (quality.streams_non_increasing, "update staging.chart_entries set streams = rank", 4 * (199 + 49)),
        # every entry of the 3 days whose day before is loaded
        (quality.history_consistent, "update staging.chart_entries set previous_rank = 999", 3 * (200 + 50)),
    ],
    ids=lambda v: v.__name__ if callable(v) else None,
)
def test_a_partition_where_every_row_breaks_a_rule_is_counted_in_the_warehouse(warehouse, rule, damage, offending):
    """The count comes from the warehouse and only the examples are fetched: at 26 million entries
    fetching every offending row took the staging step to 15 GB."""
    execute(warehouse, damage)
    fetched = []

    def query(sql, params):
        rows = warehouse.query(sql, params)
        fetched.append(len(rows))
        return rows

    result = rule(query, ALIASES, DATES[0], DATES[-1])
    assert result.offending == offending and len(result.examples) == quality.EXAMPLES
    assert fetched == [quality.EXAMPLES]
    # the first few in the rule's order: Estonia's top 5 on the first day the rule can judge
    first_day = "2025-06-02" if rule is quality.history_consistent else "2025-06-01"
    assert [(e["chart_id"], e["chart_date"], e["rank"]) for e in result.examples] == [
        ("regional-ee-daily", first_day, rank) for rank in range(1, 6)
    ]


def test_rules_only_look_at_the_runs_charts_and_dates(warehouse):
    execute(warehouse, f"delete from staging.chart_entries where {WHERE} and rank = 17")
    other_dates = quality.chart_size_as_expected(warehouse.query, ALIASES, DATES[0], DATES[1])
    other_chart = quality.chart_size_as_expected(warehouse.query, ALIASES[1:], DATES[0], DATES[-1])
    assert other_dates.passed and other_chart.passed


def test_freshness():
    today = dt.date(2026, 11, 24)
    assert not quality.is_stale(dt.date(2026, 11, 23), today)
    assert not quality.is_stale(dt.date(2026, 11, 22), today)
    assert quality.is_stale(dt.date(2026, 11, 21), today)
    assert quality.is_stale(None, today)


def test_a_stored_payload_listing_a_track_twice_is_set_aside_and_fetched_again(pipeline_resources, pipeline_env):
    """A stored snapshot listing one track at two ranks (valid JSON, unique ranks) would count a
    song twice: the payload rules refuse it, so the raw step sets it aside and fetches the chart
    again (the source can provide it), and staging then holds each track once."""
    from spotify_charts.defs.assets.raw import raw_chart_snapshots
    from spotify_charts.defs.assets.staging import staging_chart_tables

    day = dt.date(2025, 6, 2)
    store = LocalFileStore(pipeline_env["SPOTIFY_CHARTS_DATA_DIR"])
    fetch_snapshots(SampleSource(), store, ALIASES, [day])
    key = snapshot_key("regional-ee-daily", day)
    good = store.read(key)
    payload = json.loads(gzip.decompress(good))
    payload["entries"][1]["trackMetadata"]["trackUri"] = payload["entries"][0]["trackMetadata"]["trackUri"]
    store.write(key, encode_snapshot(json.dumps(payload).encode(), "sample"))

    result = dg.materialize(
        [raw_chart_snapshots, staging_chart_tables],
        resources=pipeline_resources,
        tags={ASSET_PARTITION_RANGE_START_TAG: day.isoformat(), ASSET_PARTITION_RANGE_END_TAG: day.isoformat()},
    )
    raw = result.asset_materializations_for_node("raw_chart_snapshots")[0].metadata
    assert raw["charts_healed"].value == 1 and len(raw["quarantined"].value) == 1
    assert gzip.decompress(store.read(key)) == gzip.decompress(good)  # the chart as the source serves it
    with duckdb.connect(pipeline_env["SPOTIFY_CHARTS_DUCKDB_PATH"], read_only=True) as con:
        twice = con.execute(
            "select count(*) from (select chart_id, track_id from staging.chart_entries"
            " group by all having count(*) > 1)"
        ).fetchone()[0]
    assert twice == 0


def test_the_freshness_check_warns_on_old_data_and_passes_on_yesterdays(warehouse, tmp_path, monkeypatch):
    from spotify_charts import sources
    from spotify_charts.defs.assets.staging import latest_chart_date_is_recent
    from spotify_charts.defs.resources import WarehouseResource

    monkeypatch.setenv("SPOTIFY_CHARTS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SPOTIFY_CHARTS_DUCKDB_PATH", str(warehouse.path))
    resource = WarehouseResource()
    old = latest_chart_date_is_recent(warehouse=resource)  # loaded through 2025-06-04, checked today
    assert not old.passed and old.severity == dg.AssetCheckSeverity.WARN
    assert old.metadata["latest_chart_date"].value == "2025-06-04"

    yesterday = sources.utc_today() - dt.timedelta(days=1)
    execute(
        warehouse, f"update staging.chart_entries set chart_date = DATE '{yesterday}' where chart_date = '2025-06-04'"
    )
    assert latest_chart_date_is_recent(warehouse=resource).passed

    monkeypatch.setenv("SPOTIFY_CHARTS_DUCKDB_PATH", str(tmp_path / "none.duckdb"))
    empty = latest_chart_date_is_recent(warehouse=WarehouseResource())
    assert not empty.passed and empty.metadata["latest_chart_date"].value == "none loaded"


def test_the_staging_steps_checks_give_duckdb_a_share_of_the_memory_limit(pipeline_env, monkeypatch):
    """The checks run in the process that has just loaded (its leftovers are still there): their
    DuckDB connections get 80% of SPOTIFY_CHARTS_DUCKDB_MEMORY_LIMIT, as the loader's does."""
    from spotify_charts.defs.assets.raw import raw_chart_snapshots
    from spotify_charts.defs.assets.staging import staging_chart_tables
    from spotify_charts.defs.resources import build_resources

    for name, value in {**pipeline_env, "SPOTIFY_CHARTS_DUCKDB_MEMORY_LIMIT": "300MB"}.items():
        monkeypatch.setenv(name, value)
    limits = []
    query = DuckDBWarehouse.query

    def seen(self, sql, params=None):
        limits.append(query(self, "select current_setting('memory_limit') as m")[0]["m"])
        return query(self, sql, params)

    monkeypatch.setattr(DuckDBWarehouse, "query", seen)
    day = dt.date(2025, 6, 2).isoformat()
    result = dg.materialize(
        [raw_chart_snapshots, staging_chart_tables],
        resources=build_resources(),
        tags={ASSET_PARTITION_RANGE_START_TAG: day, ASSET_PARTITION_RANGE_END_TAG: day},
    )
    checks = [
        c for c in result.get_asset_check_evaluations() if c.asset_key == dg.AssetKey(["staging", "chart_entries"])
    ]
    assert result.success and len(checks) == len(RULES)
    with duckdb.connect() as con:
        con.execute("set memory_limit = '240MB'")
        (share,) = con.execute("select current_setting('memory_limit')").fetchone()
    assert limits and set(limits) == {share}

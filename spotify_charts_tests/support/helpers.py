"""Helpers the tests share (no test module imports another): payload files, sample warehouses,
a load that fails midway, the pipeline's assets, dbt on a temporary target."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dagster import AssetSelection
from dagster import materialize as dagster_materialize

REPO = Path(__file__).resolve().parents[2]
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"
DBT = Path(sys.executable).with_name("dbt")

# A run's partition range as tags (the form the CLI and the sensors use).
RANGE = {"dagster/asset_partition_range_start": "2025-06-01", "dagster/asset_partition_range_end": "2025-06-03"}
ENTRIES = "select * exclude (loaded_at) from staging.chart_entries order by all"

# Track and artist names a CSV import or a hostile service could deliver (issue 13): long and
# unbreakable, a right-to-left override, Markdown, HTML, SQL, emoji, a spreadsheet formula, links.
HOSTILE_NAMES = [
    "x" * 10_000,
    "\u202eevil\u202c.exe",
    "![px](http://127.0.0.1:18999/md-image.png)",
    "<script>alert('script')</script>",
    '<img src="http://127.0.0.1:18999/img.png" onerror="alert(\'img\')">',
    "Robert'); DROP TABLE marts.top_songs; --",
    "🎵🔥 👩‍👩‍👧‍👦 ﷽ " * 4,
    '=HYPERLINK("http://127.0.0.1:18999/formula","click me")',
    "a | b | c",
    "[link](http://127.0.0.1:18999/md-link) `code` **bold** www.example.com fan@example.com <b>x</b>",
]


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def sample_warehouse(work: Path, aliases: list[str], dates: list[dt.date], name: str = "warehouse.duckdb"):
    """A DuckDB warehouse under `work` whose staging holds these sample charts (raw files beside it)."""
    from spotify_charts.ingest import fetch_snapshots, load_staging
    from spotify_charts.sources.sample import SampleSource
    from spotify_charts.storage.local import LocalFileStore
    from spotify_charts.warehouses.duckdb import DuckDBWarehouse

    store = LocalFileStore(work / "raw")
    fetch_snapshots(SampleSource(), store, aliases, dates)
    warehouse = DuckDBWarehouse(work / name)
    load_staging(store, warehouse, aliases, dates, "sample")
    return warehouse


def fail_while_producing_batches(store, warehouse, aliases: list[str], dates: list[dt.date], good: int = 1) -> None:
    """`warehouse.replace_charts` over `aliases` and `dates`, whose batches (`good` of them, each
    regional-ee-daily's first snapshot: 50 entries) end in a parser dying; it must raise that error."""
    from spotify_charts.ingest import read_snapshots
    from spotify_charts.snapshots.arrow import parse_snapshots

    first = parse_snapshots(read_snapshots(store, [("regional-ee-daily", dates[0])], "sample"))

    def batches():
        for _ in range(good):
            yield first
        raise RuntimeError("parser died")

    with pytest.raises(RuntimeError, match="parser died"):
        warehouse.replace_charts(aliases, dates[0], dates[-1], batches())


def all_assets():
    from spotify_charts.definitions import defs

    return list(defs.resolve_all_asset_specs() and defs.assets)


def without_analytics() -> AssetSelection:
    """Every asset but the unpartitioned analytics models (~10 s of dbt from all history)."""
    from spotify_charts.defs.assets.dbt import analytics_dbt_models

    return AssetSelection.all() - AssetSelection.assets(analytics_dbt_models)


def materialize(resources, selection=None, **kwargs):
    return dagster_materialize(all_assets(), resources=resources, selection=selection or without_analytics(), **kwargs)


def table_rows(path: str, query: str) -> list[tuple]:
    with duckdb.connect(path, read_only=True) as con:
        return con.execute(query).fetchall()


def dbt(command: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    """dbt with its own target and log paths: the suite's prepared manifest in dbt/target stays as it is."""
    return subprocess.run(
        [str(DBT), *command, "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        cwd=REPO / "dbt",
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )

"""What every warehouse does: replace the staging rows of some charts and dates in one
transaction, answer read-only queries, and point dbt at itself. Plain module (no Dagster import).

Queries given to `Warehouse.query` use `?` placeholders and portable SQL (a list parameter with
`in ?`), so the checks and the dashboard run unchanged on any warehouse.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import pyarrow as pa
import pyarrow.compute as pc

from spotify_charts.snapshots.arrow import CHART_ENTRIES_SCHEMA, CHART_ENTRY_ARTISTS_SCHEMA, ChartTables

STAGING_SCHEMA = "staging"
DUCKDB_ROW_GROUP_ROWS = 122_880
TABLES = {"chart_entries": CHART_ENTRIES_SCHEMA, "chart_entry_artists": CHART_ENTRY_ARTISTS_SCHEMA}

DUCKDB_TYPES = {
    pa.string(): "varchar",
    pa.date32(): "date",
    pa.int32(): "integer",
    pa.int64(): "bigint",
    pa.timestamp("us", tz="UTC"): "timestamp with time zone",
}
POSTGRES_TYPES = {**DUCKDB_TYPES, pa.string(): "text"}
# Redshift's text is varchar(256); timestamps arrive from Parquet without a zone (values are UTC).
REDSHIFT_TYPES = {**DUCKDB_TYPES, pa.string(): "varchar(65535)", pa.timestamp("us", tz="UTC"): "timestamp"}


class Warehouse(ABC):
    @abstractmethod
    def replace_charts(
        self, chart_ids: Sequence[str], start: dt.date, end: dt.date, batches: Iterable[ChartTables]
    ) -> int:
        """Replace the staging rows of these charts from start to end (inclusive) with the rows of
        `batches`, in one transaction: if anything fails, even producing a batch, the previous rows
        stay. Returns the number of chart entries inserted."""

    @abstractmethod
    def dbt_env(self) -> dict[str, str]:
        """Environment variables that point the dbt profile at this warehouse."""

    @abstractmethod
    def query(self, sql: str, params: list | None = None) -> list[dict]:
        """Rows of a read-only query with bound parameters (the dashboard and the checks use it)."""

    @abstractmethod
    def table_names(self, schema: str) -> set[str]:
        """The tables and views in a schema (empty when the schema does not exist)."""


def ensure_schema(cur, name: str) -> None:
    """Create the schema unless it exists. Not CREATE SCHEMA IF NOT EXISTS: that needs the right to
    create schemas in the database even when the schema exists, and the pipeline's own database
    user (terraform/, the bootstrap task) owns its schemas but may create no others."""
    cur.execute("select 1 from pg_namespace where nspname = %s", [name])
    if not cur.fetchall():
        cur.execute(f"create schema {name}")


def create_table_sql(name: str, schema: pa.Schema, types: dict) -> str:
    columns = ",\n    ".join(f"{field.name} {types[field.type]}" for field in schema)
    return f"create table if not exists {STAGING_SCHEMA}.{name} (\n    {columns}\n)"


def check_rows_in_scope(chart_ids: Sequence[str], start: dt.date, end: dt.date, tables: ChartTables) -> None:
    """Refuse rows outside the charts and dates being replaced: they would survive a re-run twice."""
    for name, table in (("chart_entries", tables.entries), ("chart_entry_artists", tables.artists)):
        if table.num_rows == 0:
            continue
        charts = set(pc.unique(table.column("chart_id")).to_pylist())
        stray = charts - set(chart_ids)
        dates = pc.min_max(table.column("chart_date")).as_py()
        if stray or dates["min"] < start or dates["max"] > end:
            raise ValueError(
                f"{name} rows outside the replaced scope ({start}..{end}, {sorted(chart_ids)}): "
                f"charts {sorted(stray)}, dates {dates['min']}..{dates['max']}"
            )


@contextmanager
def committed(con) -> Iterator:
    """Commit what the block did, or roll all of it back whatever it raised; close either way."""
    try:
        yield con
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        con.close()

"""What every warehouse does: replace the staging rows of some charts and dates in one
transaction, answer read-only queries, and point dbt at itself. Plain module (no Dagster import).

Queries given to `Warehouse.query` use `?` placeholders and portable SQL (a list parameter with
`in ?`), so the checks and the dashboard run unchanged on any warehouse.
"""

from __future__ import annotations

import datetime as dt
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import pyarrow.compute as pc

from spotify_charts.snapshots.arrow import ChartTables
from spotify_charts.warehouses.schema import STAGING_SCHEMA, TABLES, create_table_sql

__all__ = ["STAGING_SCHEMA", "TABLES", "Warehouse", "create_table_sql", "dbt_arguments"]

DUCKDB_ROW_GROUP_ROWS = 122_880


class NoSpaceError(OSError):
    """The disk under the warehouse is full; the message leads with that and names the file."""

    def __str__(self) -> str:  # (no "[Errno 28]" before it)
        return str(self.args[0])


class Warehouse(ABC):
    @abstractmethod
    def replace_charts(
        self, chart_ids: Sequence[str], start: dt.date, end: dt.date, batches: Iterable[ChartTables]
    ) -> int:
        """Replace the staging rows of these charts from start to end (inclusive) with the rows of
        `batches`, in one transaction: if anything fails, even producing a batch, the previous rows
        stay. Returns the number of chart entries inserted."""

    TARGET: str  # the dbt target (dbt/profiles.yml) that builds in this warehouse

    def dbt_vars(self) -> dict[str, object]:
        """dbt `--vars` the profile's target reads (never a secret: a command line is logged).

        Passwords reach dbt as the variables the user set, which the dbt process inherits."""
        return {}

    def sharing_memory(self) -> Warehouse:
        """This warehouse for a process that holds much of its own besides the warehouse's client
        (the staging step, after its load): DuckDB, in the process, gets a share of its memory limit.
        A warehouse with its own server is itself."""
        return self

    @abstractmethod
    def query(self, sql: str, params: list | None = None) -> list[dict]:
        """Rows of a read-only query with bound parameters (the dashboard and the checks use it)."""

    @abstractmethod
    def table_names(self, schema: str) -> set[str]:
        """The tables and views in a schema (empty when the schema does not exist)."""


def dbt_arguments(warehouse: Warehouse, dbt_vars: dict[str, object] | None = None) -> list[str]:
    """dbt's `--target` and `--vars` that build in this warehouse, with `dbt_vars` (a run's dates) added."""
    return ["--target", warehouse.TARGET, "--vars", json.dumps({**(dbt_vars or {}), **warehouse.dbt_vars()})]


def ensure_schema(cur, name: str) -> None:
    """Create the schema unless it exists. Not CREATE SCHEMA IF NOT EXISTS: that needs the right to
    create schemas in the database even when the schema exists, and the pipeline's own database
    user (terraform/, the bootstrap task) owns its schemas but may create no others."""
    cur.execute("select 1 from pg_namespace where nspname = %s", [name])
    if not cur.fetchall():
        cur.execute(f"create schema {name}")


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

"""The DuckDB warehouse: the default, one file under the data folder. Plain module (no Dagster import)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb

from spotify_charts.settings.parsers import memory_bytes
from spotify_charts.snapshots.arrow import ChartTables, concat_tables
from spotify_charts.warehouses.base import (
    DUCKDB_ROW_GROUP_ROWS,
    STAGING_SCHEMA,
    TABLES,
    NoSpaceError,
    Warehouse,
    check_rows_in_scope,
    create_table_sql,
)

# A load whose scope could hold more entries than this (charts x days x 200) is appended to the
# `_incoming_` tables first (see `replace_charts`); a year of the 7 default charts is 511,000.
INCOMING = "_incoming_"
MAX_CHART_SIZE = 200
LARGE_LOAD_ENTRIES = 2_000_000
# dbt's connections also leave row order to DuckDB (no model depends on it; every order is an
# ORDER BY): a table built by a backfill then has full row groups, as the loader's large copy.
DBT_DUCKDB_SETTINGS = {"preserve_insertion_order": False}


LOADER_MEMORY_SHARE = 0.8
DUCKDB_DEFAULT_MEMORY = "80%"  # DuckDB's own memory limit when none is set


class DuckDBWarehouse(Warehouse):
    """Staging tables in one DuckDB file, loaded from Arrow tables in a single transaction.

    Every connection it opens (the loader's, the checks', the dashboard's) has the same bounds:
    `memory_limit` (beyond it DuckDB spills to `temp_directory` instead of growing) and `threads`
    (None: DuckDB's default, one per core); dbt's connections get them through `dbt_vars`."""

    TARGET = "duckdb"

    def __init__(
        self,
        path: str | os.PathLike[str],
        memory_limit: str | None = None,
        threads: int | None = None,
        temp_directory: str | os.PathLike[str] | None = None,
    ) -> None:
        self.path = Path(path).resolve()
        self.memory_limit = memory_limit
        self.threads = threads
        self.temp_directory = Path(temp_directory).resolve() if temp_directory else None

    def duckdb_settings(self) -> dict[str, str | int]:
        """DuckDB's settings for this warehouse's connections (only those given)."""
        configured = {"memory_limit": self.memory_limit, "threads": self.threads, "temp_directory": self.temp_directory}
        return {name: str(value) if isinstance(value, Path) else value for name, value in configured.items() if value}

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(str(self.path), read_only=read_only, config=self.duckdb_settings())

    def ensure_tables(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute(f"create schema if not exists {STAGING_SCHEMA}")
        for name in TABLES:
            con.execute(create_table_sql(name, self.TARGET))

    def replace_charts(
        self, chart_ids: Sequence[str], start: dt.date, end: dt.date, batches: Iterable[ChartTables]
    ) -> int:
        """Delete the scope's rows and insert the batches', in one transaction: readers never see a
        half-load, and a load that fails leaves the staging tables as they were.

        DuckDB keeps the rows appended inside a transaction in memory, outside its memory limit
        (2 GB for a year of 73 charts, 9 GB for five), so a large scope (over LARGE_LOAD_ENTRIES
        possible entries) is appended to `staging._incoming_*` tables first, each insert committed
        on its own, and the transaction only copies them in (a few batches in memory; the copy
        costs ~15%). A failed large load's incoming tables are dropped by the next load."""
        days = (end - start).days + 1
        large = len(chart_ids) * days * MAX_CHART_SIZE > LARGE_LOAD_ENTRIES
        target = f"{STAGING_SCHEMA}.{INCOMING}" if large else f"{STAGING_SCHEMA}."
        con = self.connect()
        in_transaction = False
        try:
            self.ensure_tables(con)
            # One DuckDB thread: the load's two parser threads already keep both cores busy.
            con.execute("set threads to 1")
            # DuckDB fills its memory limit before writing a large load's blocks out, and this
            # process also holds the parsers' batches: DuckDB gets a share of the limit, so the
            # whole process stays near it (26 M entries at 1.5GB: 1.8 GiB with all of it, 1.5 GiB).
            con.execute(f"set memory_limit = '{self._shared_memory_limit()}'")
            if large:
                for name in TABLES:
                    con.execute(f"drop table if exists {target}{name}")
                    con.execute(create_table_sql(name, self.TARGET, name=f"{INCOMING}{name}"))
            else:
                con.begin()
                in_transaction = True
                self._delete_scope(con, chart_ids, start, end)
            # Batches arrive while later ones are still being parsed, so inserting overlaps parsing.
            # They are gathered to a full DuckDB row group before each insert: smaller inserts go
            # through the write-ahead log and are compressed again at checkpoint.
            inserted = 0
            pending: list[ChartTables] = []
            pending_rows = 0
            for tables in batches:
                check_rows_in_scope(chart_ids, start, end, tables)
                pending.append(tables)
                pending_rows += tables.entries.num_rows
                if pending_rows >= DUCKDB_ROW_GROUP_ROWS:
                    inserted += self._insert(con, target, concat_tables(pending))
                    pending, pending_rows = [], 0
            if pending:
                inserted += self._insert(con, target, concat_tables(pending))
            if large:
                con.execute("set threads to 2")
                # Row order means nothing in staging; keeping it makes DuckDB's two insert threads
                # leave part-filled row groups, and then every later checkpoint that touches the
                # table merges some of them again (11 s and 1.5 GB per daily load at 26 M entries).
                con.execute("set preserve_insertion_order = false")
                con.begin()
                in_transaction = True
                self._delete_scope(con, chart_ids, start, end)
                for name in TABLES:
                    con.execute(f"insert into {STAGING_SCHEMA}.{name} by name select * from {target}{name}")
                    con.execute(f"drop table {target}{name}")
            con.commit()
            return inserted
        except BaseException as exc:
            if in_transaction:
                try:
                    con.rollback()
                except duckdb.Error:  # DuckDB has ended it already (an I/O error at commit): nothing was kept
                    pass
            if isinstance(exc, duckdb.Error) and "no space left on device" in str(exc).lower():
                where = self.temp_directory or self.path.parent
                raise NoSpaceError(
                    f"no space left on device: cannot write the DuckDB warehouse {self.path} (or its spill folder "
                    f"{where}); nothing of this load was kept. DuckDB said: {exc}"
                ) from exc
            raise
        finally:
            con.close()

    @staticmethod
    def _delete_scope(con: duckdb.DuckDBPyConnection, chart_ids: Sequence[str], start: dt.date, end: dt.date) -> None:
        for name in TABLES:
            con.execute(
                f"delete from {STAGING_SCHEMA}.{name} where chart_date between ? and ? and chart_id in ?",
                [start, end, list(chart_ids)],
            )

    @staticmethod
    def _insert(con: duckdb.DuckDBPyConnection, target: str, tables: ChartTables) -> int:
        for name, table in (("chart_entries", tables.entries), ("chart_entry_artists", tables.artists)):
            con.register("incoming", table)
            con.execute(f"insert into {target}{name} by name select * from incoming")
            con.unregister("incoming")
        return tables.entries.num_rows

    def sharing_memory(self) -> DuckDBWarehouse:
        """The same file with LOADER_MEMORY_SHARE of the memory limit (the staging step's checks run
        in the process that loaded: in the replay, that step peaked at 1,893 MiB with the whole
        limit and 1,683 MiB with this)."""
        return DuckDBWarehouse(self.path, self._shared_memory_limit(), self.threads, self.temp_directory)

    def _shared_memory_limit(self) -> str:
        return f"{int(memory_bytes(self.memory_limit or DUCKDB_DEFAULT_MEMORY) * LOADER_MEMORY_SHARE)}B"

    def dbt_vars(self) -> dict[str, object]:
        # dbt-duckdb creates the file but not its folder (a fresh install's first run may be dbt's)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return {"duckdb_path": str(self.path), "duckdb_settings": {**self.duckdb_settings(), **DBT_DUCKDB_SETTINGS}}

    def query(self, sql: str, params: list | None = None) -> list[dict]:
        if not self.path.exists():
            return []
        with self.connect(read_only=True) as con:
            cursor = con.execute(sql, params or [])
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

    def table_names(self, schema: str) -> set[str]:
        rows = self.query(
            "select table_name from information_schema.tables where table_schema = "
            + "'"
            + schema.replace("'", "''")
            + "'"
        )
        return {r["table_name"] for r in rows}

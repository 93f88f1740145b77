"""The warehouse's staging tables: an interface, the DuckDB warehouse used by default,
PostgreSQL, and Redshift. Plain module (no Dagster import).

Queries given to `Warehouse.query` use `?` placeholders and portable SQL (a list parameter with
`in ?`), so the checks and the dashboard run unchanged on either warehouse.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from spotify_charts.payload import CHART_ENTRIES_SCHEMA, CHART_ENTRY_ARTISTS_SCHEMA, ChartTables, concat_tables
from spotify_charts.stores import S3RawStore

STAGING_SCHEMA = "staging"
DUCKDB_ROW_GROUP_ROWS = 122_880
TABLES = {"chart_entries": CHART_ENTRIES_SCHEMA, "chart_entry_artists": CHART_ENTRY_ARTISTS_SCHEMA}

_DUCKDB_TYPES = {
    pa.string(): "varchar",
    pa.date32(): "date",
    pa.int32(): "integer",
    pa.int64(): "bigint",
    pa.timestamp("us", tz="UTC"): "timestamp with time zone",
}
_POSTGRES_TYPES = {**_DUCKDB_TYPES, pa.string(): "text"}
# Redshift's text is varchar(256); timestamps arrive from Parquet without a zone (values are UTC).
_REDSHIFT_TYPES = {**_DUCKDB_TYPES, pa.string(): "varchar(65535)", pa.timestamp("us", tz="UTC"): "timestamp"}


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


def _create_table_sql(name: str, schema: pa.Schema, types: dict = _DUCKDB_TYPES) -> str:
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
def _committed(con) -> Iterator:
    """Commit what the block did, or roll all of it back whatever it raised; close either way."""
    try:
        yield con
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        con.close()


class DuckDBWarehouse(Warehouse):
    """Staging tables in one DuckDB file, loaded from Arrow tables in a single transaction."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).resolve()

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(str(self.path), read_only=read_only)

    def ensure_tables(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute(f"create schema if not exists {STAGING_SCHEMA}")
        for name, schema in TABLES.items():
            con.execute(_create_table_sql(name, schema))

    def replace_charts(
        self, chart_ids: Sequence[str], start: dt.date, end: dt.date, batches: Iterable[ChartTables]
    ) -> int:
        con = self.connect()
        inserted = 0
        with _committed(con):
            self.ensure_tables(con)
            # One DuckDB thread: the load's two parser threads already keep both cores busy.
            con.execute("set threads to 1")
            con.begin()
            for name in TABLES:
                con.execute(
                    f"delete from {STAGING_SCHEMA}.{name} where chart_date between ? and ? and chart_id in ?",
                    [start, end, list(chart_ids)],
                )
            # Batches arrive while later ones are still being parsed, so inserting overlaps parsing.
            # They are gathered to a full DuckDB row group before each insert: smaller inserts go
            # through the write-ahead log and are compressed again at checkpoint.
            pending: list[ChartTables] = []
            pending_rows = 0
            for tables in batches:
                check_rows_in_scope(chart_ids, start, end, tables)
                pending.append(tables)
                pending_rows += tables.entries.num_rows
                if pending_rows >= DUCKDB_ROW_GROUP_ROWS:
                    inserted += self._insert(con, concat_tables(pending))
                    pending, pending_rows = [], 0
            if pending:
                inserted += self._insert(con, concat_tables(pending))
        return inserted

    @staticmethod
    def _insert(con: duckdb.DuckDBPyConnection, tables: ChartTables) -> int:
        for name, table in (("chart_entries", tables.entries), ("chart_entry_artists", tables.artists)):
            con.register("incoming", table)
            con.execute(f"insert into {STAGING_SCHEMA}.{name} by name select * from incoming")
            con.unregister("incoming")
        return tables.entries.num_rows

    def dbt_env(self) -> dict[str, str]:
        # dbt-duckdb creates the file but not its folder (a fresh install's first run may be dbt's)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return {"SPOTIFY_CHARTS_WAREHOUSE": "duckdb", "SPOTIFY_CHARTS_DUCKDB_PATH": str(self.path)}

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


class PostgresWarehouse(Warehouse):
    """Staging tables in PostgreSQL, loaded with COPY inside one transaction.

    Loads take a table lock that only other loads wait for (readers do not), so two runs replacing
    the same charts and dates one after the other can never both keep their rows."""

    TARGET = "postgres"  # the dbt target, and the prefix of its settings (dbt/profiles.yml)
    SETTINGS = "SPOTIFY_CHARTS_PG_"

    def __init__(self, host: str, port: int, user: str, password: str, database: str, sslmode: str = "prefer"):
        self.host, self.port, self.user, self.database, self.sslmode = host, int(port), user, database, sslmode
        self._password = password

    def __repr__(self) -> str:  # never the password
        return f"{type(self).__name__}({self.user}@{self.host}:{self.port}/{self.database})"

    def connect(self):
        import psycopg2

        try:
            return psycopg2.connect(
                host=self.host,
                port=self.port,
                user=self.user,
                password=self._password,
                dbname=self.database,
                sslmode=self.sslmode,
                connect_timeout=15,
                application_name="spotify-charts",
            )
        except psycopg2.OperationalError as exc:
            # libpq's message names host, port and the reason; it never contains the password.
            raise ConnectionError(f"cannot connect to PostgreSQL {self!r}: {str(exc).strip()}") from None

    def replace_charts(
        self, chart_ids: Sequence[str], start: dt.date, end: dt.date, batches: Iterable[ChartTables]
    ) -> int:
        con = self.connect()
        inserted = 0
        with _committed(con), con.cursor() as cur:
            cur.execute(f"create schema if not exists {STAGING_SCHEMA}")
            for name, schema in TABLES.items():
                cur.execute(_create_table_sql(name, schema, _POSTGRES_TYPES))
            tables = ", ".join(f"{STAGING_SCHEMA}.{name}" for name in TABLES)
            cur.execute(f"lock table {tables} in share row exclusive mode")
            for name in TABLES:
                cur.execute(
                    f"delete from {STAGING_SCHEMA}.{name} where chart_date between %s and %s and chart_id in %s",
                    [start, end, tuple(chart_ids)],
                )
            for batch in batches:
                check_rows_in_scope(chart_ids, start, end, batch)
                self._copy(cur, "chart_entries", batch.entries)
                self._copy(cur, "chart_entry_artists", batch.artists)
                inserted += batch.entries.num_rows
        return inserted

    @staticmethod
    def _copy(cur, name: str, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        # Every value quoted, nulls left empty: COPY reads "" as an empty string and nothing as NULL.
        buffer = io.BytesIO()
        pa_csv.write_csv(table, buffer, pa_csv.WriteOptions(include_header=False, quoting_style="all_valid"))
        buffer.seek(0)
        columns = ", ".join(table.column_names)
        cur.copy_expert(f"copy {STAGING_SCHEMA}.{name} ({columns}) from stdin with (format csv)", buffer)

    def dbt_env(self) -> dict[str, str]:
        settings = {"HOST": self.host, "PORT": str(self.port), "USER": self.user, "DATABASE": self.database}
        env = {f"{self.SETTINGS}{name}": value for name, value in settings.items()}
        return {"SPOTIFY_CHARTS_WAREHOUSE": self.TARGET, **env, f"{self.SETTINGS}PASSWORD": self._password}

    def query(self, sql: str, params: list | None = None) -> list[dict]:
        if params:
            # psycopg2's placeholders; a list parameter becomes a tuple, which it renders for `in`.
            sql = sql.replace("%", "%%").replace("?", "%s")
            params = [tuple(p) if isinstance(p, list) else p for p in params]
        con = self.connect()
        try:
            with con.cursor() as cur:
                cur.execute(sql, params or None)
                names = [d[0] for d in cur.description]
                return [dict(zip(names, row)) for row in cur.fetchall()]
        finally:
            con.rollback()
            con.close()

    def table_names(self, schema: str) -> set[str]:
        rows = self.query("select table_name from information_schema.tables where table_schema = ?", [schema])
        return {r["table_name"] for r in rows}


class RedshiftWarehouse(PostgresWarehouse):
    """Staging tables in Amazon Redshift, which has no `COPY FROM STDIN`.

    A load writes its rows to the bucket as Parquet while the snapshots are parsed (one file per
    table and batch, under `staging-loads/{load id}/`), then, in one transaction, deletes the run's
    charts and dates and COPYs those files with the cluster's IAM role; the files are removed
    afterwards, whether the load succeeded or not. Queries go over the PostgreSQL protocol (TLS)."""

    TARGET = "redshift"
    SETTINGS = "SPOTIFY_CHARTS_REDSHIFT_"
    LOADS = "staging-loads"

    def __init__(self, host: str, port: int, user: str, password: str, database: str, store: S3RawStore, iam_role: str):
        super().__init__(host, port, user, password, database, sslmode="require")
        if not iam_role.startswith("arn:"):
            raise ValueError(f"Redshift COPY needs the ARN of an IAM role the cluster may assume, got {iam_role!r}")
        self.store, self.iam_role = store, iam_role

    def replace_charts(
        self, chart_ids: Sequence[str], start: dt.date, end: dt.date, batches: Iterable[ChartTables]
    ) -> int:
        folder = f"{self.LOADS}/{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        written: list[str] = []
        inserted = 0
        try:
            for number, batch in enumerate(batches):
                check_rows_in_scope(chart_ids, start, end, batch)
                for name, table in (("chart_entries", batch.entries), ("chart_entry_artists", batch.artists)):
                    if table.num_rows:
                        key = f"{folder}/{name}/{number:05d}.parquet"
                        self.store.write(key, _parquet(table))
                        written.append(key)
                inserted += batch.entries.num_rows
            con = self.connect()
            with _committed(con), con.cursor() as cur:
                cur.execute(f"create schema if not exists {STAGING_SCHEMA}")
                for name, schema in TABLES.items():
                    cur.execute(_create_table_sql(name, schema, _REDSHIFT_TYPES))
                # Redshift's LOCK is exclusive: a second load of the same tables waits for this one.
                cur.execute("lock " + ", ".join(f"{STAGING_SCHEMA}.{name}" for name in TABLES))
                for name in TABLES:
                    cur.execute(
                        f"delete from {STAGING_SCHEMA}.{name} where chart_date between %s and %s and chart_id in %s",
                        [start, end, tuple(chart_ids)],
                    )
                for name in TABLES:
                    if any(key.startswith(f"{folder}/{name}/") for key in written):
                        cur.execute(
                            f"copy {STAGING_SCHEMA}.{name} from %s iam_role %s format as parquet",
                            [self.store.uri(f"{folder}/{name}") + "/", self.iam_role],
                        )
            return inserted
        finally:
            self.store.delete(written)


def _parquet(table: pa.Table) -> bytes:
    """The table as Parquet in the staging table's column order; timestamps as INT96 (UTC, no
    zone), the form every Redshift COPY reads."""
    columns = [
        column.cast(pa.timestamp("us")) if pa.types.is_timestamp(column.type) else column for column in table.columns
    ]
    buffer = io.BytesIO()
    pq.write_table(
        pa.table(columns, names=table.column_names),
        buffer,
        compression="snappy",
        use_deprecated_int96_timestamps=True,
    )
    return buffer.getvalue()

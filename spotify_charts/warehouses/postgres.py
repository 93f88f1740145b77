"""The PostgreSQL warehouse: staging loaded with COPY in one transaction. Plain module (no Dagster import)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence

import pyarrow as pa
import pyarrow.csv as pa_csv

from spotify_charts.snapshots.arrow import ChartTables
from spotify_charts.warehouses.base import (
    STAGING_SCHEMA,
    TABLES,
    Warehouse,
    check_rows_in_scope,
    committed,
    create_table_sql,
    ensure_schema,
)

# The words that mark a refused connection; defs/failures.py counts it permanent (not retried).
REFUSED = "no server accepts connections"


def connect(
    host: str,
    port: int,
    user: str,
    password: str,
    database: str,
    sslmode: str | None,
    sslrootcert: str | None = None,
    application_name: str = "spotify-charts",
):
    """A psycopg2 connection as every part of the project opens one (the warehouses, the AWS
    bootstrap): at most 15 s to connect, named in the server's activity view, checked against
    `sslrootcert` when it is given, and speaking UTF-8 whatever the database's own encoding (a
    database initialised SQL_ASCII would otherwise hand names back in a codec Python reads as ASCII).
    Without `sslmode` libpq's own applies: $PGSSLMODE (the ECS tasks set verify-full and
    $PGSSLROOTCERT) or "prefer"."""
    import psycopg2

    return psycopg2.connect(
        host=host,
        port=port,
        user=user,
        password=password,
        dbname=database,
        **({"sslmode": sslmode} if sslmode else {}),
        **({"sslrootcert": sslrootcert} if sslrootcert else {}),
        connect_timeout=15,
        application_name=application_name,
        client_encoding="UTF8",
    )


class PostgresWarehouse(Warehouse):
    """Staging tables in PostgreSQL, loaded with COPY inside one transaction.

    Loads take a table lock that only other loads wait for (readers do not), so two runs replacing
    the same charts and dates one after the other can never both keep their rows."""

    TARGET = "postgres"

    def __init__(
        self,
        host: str,
        port: int,
        user: str,
        password: str,
        database: str,
        sslmode: str | None = None,
        sslrootcert: str | None = None,
    ):
        self.host, self.port, self.user, self.database, self.sslmode = host, int(port), user, database, sslmode
        self.sslrootcert = sslrootcert  # the CA bundle a `verify-full` connection checks the server against
        self._password = password

    def __repr__(self) -> str:  # never the password
        return f"{type(self).__name__}({self.user}@{self.host}:{self.port}/{self.database})"

    def connect(self):
        import psycopg2

        try:
            return connect(
                self.host, self.port, self.user, self._password, self.database, self.sslmode, self.sslrootcert
            )
        except psycopg2.OperationalError as exc:
            # libpq's message names host, port and the reason; it never contains the password.
            reason = " ".join(str(exc).split())
            if "connection refused" in reason.lower():  # nothing listens there: a retry soon would not help
                reason = (
                    f"{REFUSED} at {self.host}:{self.port} (connection refused): is the server running, and are the "
                    "host and port settings right?"
                )
            raise ConnectionError(f"cannot connect to PostgreSQL {self!r}: {reason}") from None

    def replace_charts(
        self, chart_ids: Sequence[str], start: dt.date, end: dt.date, batches: Iterable[ChartTables]
    ) -> int:
        con = self.connect()
        inserted = 0
        with committed(con), con.cursor() as cur:
            ensure_schema(cur, STAGING_SCHEMA)
            for name in TABLES:
                cur.execute(create_table_sql(name, self.TARGET))
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

"""The Redshift warehouse: staging loaded by COPY from Parquet files in the bucket. Plain module
(no Dagster import)."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from spotify_charts import settings
from spotify_charts.snapshots.arrow import ChartTables
from spotify_charts.storage.s3 import S3FileStore
from spotify_charts.warehouses.base import (
    STAGING_SCHEMA,
    TABLES,
    check_rows_in_scope,
    committed,
    create_table_sql,
    ensure_schema,
)
from spotify_charts.warehouses.postgres import PostgresWarehouse


class RedshiftWarehouse(PostgresWarehouse):
    """Staging tables in Amazon Redshift, which has no `COPY FROM STDIN`.

    A load writes its rows to the bucket as Parquet while the snapshots are parsed (one file per
    table and batch, under `staging-loads/{load id}/`), then, in one transaction, deletes the run's
    charts and dates and COPYs those files with the cluster's IAM role; the files are removed
    afterwards, whether the load succeeded or not (the pipeline's role needs `s3:DeleteObject` on
    `{prefix}/staging-loads/*`). Queries go over the PostgreSQL protocol with TLS that verifies the
    server's certificate and name (`verify-full`) against AWS's CA bundle."""

    TARGET = "redshift"
    LOADS = "staging-loads"

    def __init__(
        self,
        host: str,
        port: int,
        user: str,
        password: str,
        database: str,
        store: S3FileStore,
        iam_role: str,
        ca_bundle: str | None = None,
    ):
        ca_bundle = str(ca_bundle or aws_ca_bundle())
        if not Path(ca_bundle).is_file():
            raise ValueError(
                f"{settings.REDSHIFT_CA_BUNDLE.name}={ca_bundle!r} is not a file: Redshift connections verify the "
                "server's certificate against it (AWS's bundle: https://s3.amazonaws.com/redshift-downloads/amazon-trust-ca-bundle.crt)"
            )
        super().__init__(host, port, user, password, database, sslmode="verify-full", sslrootcert=ca_bundle)
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
            with committed(con), con.cursor() as cur:
                ensure_schema(cur, STAGING_SCHEMA)
                for name in TABLES:
                    cur.execute(create_table_sql(name, self.TARGET))
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


def aws_ca_bundle() -> str:
    """AWS's CA bundle for Redshift, as shipped with redshift_connector (the driver dbt-redshift
    uses, which verifies against the same file): the CA bundle setting's default."""
    import redshift_connector

    return str(Path(redshift_connector.__file__).parent / "files" / "redshift-ca-bundle.crt")


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

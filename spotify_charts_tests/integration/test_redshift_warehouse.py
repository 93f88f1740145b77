"""The Redshift loader. No Redshift cluster is reachable here, so the connection is a recording
stand-in (the one mock in the suite: nothing real can run); everything else is real: the Parquet
files go to moto's S3 server and are read back the way COPY would read them, and every statement
the loader sends parses as Redshift SQL with sqlglot."""

from __future__ import annotations

import datetime as dt
import io

import boto3
import pyarrow.parquet as pq
import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from spotify_charts import settings
from spotify_charts.ingest import fetch_snapshots, load_staging
from spotify_charts.settings import SettingError
from spotify_charts.sources.sample import SampleSource
from spotify_charts.storage.local import LocalFileStore
from spotify_charts.storage.s3 import S3FileStore
from spotify_charts.warehouses.base import dbt_arguments
from spotify_charts.warehouses.duckdb import DuckDBWarehouse
from spotify_charts.warehouses.redshift import RedshiftWarehouse

ALIASES = ["regional-global-daily", "regional-ee-daily"]
DATES = [dt.date(2025, 6, 1) + dt.timedelta(days=i) for i in range(3)]
ROLE = "arn:aws:iam::123456789012:role/redshift-copy"


def literal(value) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(literal(v) for v in value) + ")"
    return "'" + str(value).replace("'", "''") + "'"


class Cursor:
    """Records statements; a COPY reads the Parquet files under its S3 prefix, as Redshift would."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def execute(self, sql: str, params=None) -> None:
        statement = sql % tuple(literal(p) for p in params) if params else sql
        self.connection.statements.append(statement)
        if statement.startswith("copy") and self.connection.fail_copy:
            raise RuntimeError("COPY failed: S3ServiceException")
        if statement.startswith("copy"):
            table = statement.split()[1]
            bucket, _, prefix = params[0].removeprefix("s3://").partition("/")
            client = boto3.client("s3")
            for item in client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []):
                body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                self.connection.copied.setdefault(table, []).append(pq.read_table(io.BytesIO(body)))


class Connection:
    def __init__(self, fail_copy: bool = False) -> None:
        self.statements: list[str] = []
        self.copied: dict[str, list] = {}
        self.fail_copy = fail_copy
        self.ended: list[str] = []

    def cursor(self) -> Cursor:
        return Cursor(self)

    def commit(self) -> None:
        self.ended.append("commit")

    def rollback(self) -> None:
        self.ended.append("rollback")

    def close(self) -> None:
        self.ended.append("close")


class RecordedRedshift(RedshiftWarehouse):
    def __init__(self, store: S3FileStore, connection: Connection) -> None:
        super().__init__("cluster.example", 5439, "charts", "s3cret-pw", "spotify_charts", store, ROLE)
        self.connection = connection

    def connect(self):
        return self.connection


@pytest.fixture
def raw(tmp_path) -> LocalFileStore:
    store = LocalFileStore(tmp_path / "raw")
    fetch_snapshots(SampleSource(), store, ALIASES, DATES)
    return store


def loads(bucket: str) -> list[str]:
    return [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_a_load_copies_from_parquet_in_the_bucket_what_duckdb_gets(raw, s3_bucket, tmp_path):
    connection = Connection()
    store = S3FileStore(boto3.client("s3"), s3_bucket, prefix="prod")
    report = load_staging(raw, RecordedRedshift(store, connection), ALIASES, DATES, "sample")
    assert report.entry_rows == 750

    statements = connection.statements
    kinds = [s.split()[0] for s in statements]
    assert kinds == ["create", "create", "create", "lock", "delete", "delete", "copy", "copy"]
    assert "loaded_at timestamp" in statements[1] and "chart_id varchar(65535)" in statements[1]
    scope = "chart_date between '2025-06-01' and '2025-06-03' and chart_id in "
    assert statements[4].endswith(scope + "('regional-global-daily', 'regional-ee-daily')")
    assert statements[6].startswith(f"copy staging.chart_entries from 's3://{s3_bucket}/prod/staging-loads/")
    assert statements[6].endswith(f"/chart_entries/' iam_role '{ROLE}' format as parquet")
    for statement in statements:
        parsed = sqlglot.parse(statement, read="redshift", error_level=ErrorLevel.RAISE)
        assert parsed and parsed[0] is not None, statement
    assert connection.ended == ["commit", "close"]
    assert loads(s3_bucket) == []  # the temporary files are gone

    duck = DuckDBWarehouse(tmp_path / "w.duckdb")
    load_staging(raw, duck, ALIASES, DATES, "sample")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for table in ("chart_entries", "chart_entry_artists"):
        copied = [row for part in connection.copied[f"staging.{table}"] for row in part.to_pylist()]
        expected = duck.query(f"select * from staging.{table}")
        # COPY from Parquet maps columns by position: the files' order is the table's
        assert list(copied[0]) == list(expected[0])
        assert sorted(tuple(v for k, v in r.items() if k != "loaded_at") for r in copied) == sorted(
            tuple(v for k, v in r.items() if k != "loaded_at") for r in expected
        )
        # the load time arrives as a UTC timestamp without a zone, as the staging column is declared
        stamps = {r["loaded_at"] for r in copied if "loaded_at" in r}
        assert all(s.tzinfo is None and abs((now - s).total_seconds()) < 120 for s in stamps)


def test_a_failed_copy_rolls_back_and_leaves_no_files(raw, s3_bucket):
    connection = Connection(fail_copy=True)
    store = S3FileStore(boto3.client("s3"), s3_bucket)
    with pytest.raises(RuntimeError, match="COPY failed"):
        load_staging(raw, RecordedRedshift(store, connection), ALIASES, DATES, "sample")
    assert connection.ended == ["rollback", "close"] and loads(s3_bucket) == []


def test_a_failure_while_parsing_never_touches_the_tables(raw, s3_bucket):
    connection = Connection()
    warehouse = RecordedRedshift(S3FileStore(boto3.client("s3"), s3_bucket), connection)

    def batches():
        from spotify_charts.ingest import read_snapshots
        from spotify_charts.snapshots.arrow import parse_snapshots

        yield parse_snapshots(read_snapshots(raw, [(ALIASES[0], DATES[0])], "sample"))
        raise RuntimeError("parser died")

    with pytest.raises(RuntimeError, match="parser died"):
        warehouse.replace_charts(ALIASES, DATES[0], DATES[-1], batches())
    assert connection.statements == [] and loads(s3_bucket) == []


def test_redshift_needs_a_host_a_role_and_a_bucket_and_never_shows_the_password(s3_bucket):
    with pytest.raises(SettingError, match="needs SPOTIFY_CHARTS_REDSHIFT_HOST, SPOTIFY_CHARTS_REDSHIFT_IAM_ROLE"):
        settings.parse({"SPOTIFY_CHARTS_WAREHOUSE": "redshift"})
    with pytest.raises(ValueError, match="ARN of an IAM role"):
        RedshiftWarehouse("h", 5439, "u", "p", "d", S3FileStore(boto3.client("s3"), s3_bucket), "my-role")
    warehouse = RedshiftWarehouse("h", 5439, "u", "s3cret-pw", "d", S3FileStore(boto3.client("s3"), s3_bucket), ROLE)
    assert repr(warehouse) == "RedshiftWarehouse(u@h:5439/d)" and warehouse.sslmode == "require"
    # dbt gets the target and no value on its command line: it reads the password from the environment
    assert dbt_arguments(warehouse) == ["--target", "redshift", "--vars", "{}"]
    assert "s3cret-pw" not in repr(settings.parse({"SPOTIFY_CHARTS_REDSHIFT_PASSWORD": "s3cret-pw"}))

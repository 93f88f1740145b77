"""A recording stand-in for a Redshift connection (no Redshift is reachable here: the one mock in
the suite). It records every statement, answers the loader's catalogue query (no schema yet), and
makes a COPY read the Parquet files under its S3 prefix as Redshift would, through its own boto3
client: the calls of the role Redshift assumes, which tests can record and check."""

from __future__ import annotations

import io

import boto3
import pyarrow.parquet as pq

from spotify_charts.storage.s3 import S3FileStore
from spotify_charts.warehouses.redshift import RedshiftWarehouse

ROLE = "arn:aws:iam::123456789012:role/redshift-copy"


def literal(value) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(literal(v) for v in value) + ")"
    return "'" + str(value).replace("'", "''") + "'"


class Cursor:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.rows: list[tuple] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def fetchall(self) -> list[tuple]:
        return self.rows

    def execute(self, sql: str, params=None) -> None:
        statement = sql % tuple(literal(p) for p in params) if params else sql
        self.connection.statements.append(statement)
        self.rows = []  # the catalogue has no schema yet
        if statement.startswith("copy") and self.connection.fail_copy:
            raise RuntimeError("COPY failed: S3ServiceException")
        if statement.startswith("copy"):
            table = statement.split()[1]
            bucket, _, prefix = params[0].removeprefix("s3://").partition("/")
            client = self.connection.copy_client or boto3.client("s3")
            for item in client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []):
                body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                self.connection.copied.setdefault(table, []).append(pq.read_table(io.BytesIO(body)))


class Connection:
    def __init__(self, fail_copy: bool = False, copy_client=None) -> None:
        self.statements: list[str] = []
        self.copied: dict[str, list] = {}
        self.fail_copy = fail_copy
        self.copy_client = copy_client  # the S3 client "Redshift" reads with (its COPY role's)
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

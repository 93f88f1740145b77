"""The Redshift loader. No Redshift cluster is reachable here, so the connection is a recording
stand-in (support/redshift.py, the one mock in the suite: nothing real can run); everything else is
real: the Parquet files go to moto's S3 server and are read back the way COPY would read them, and
every statement the loader sends parses as Redshift SQL with sqlglot. The connection settings are
checked on a real psycopg2 connection attempt."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import ssl
import subprocess
import threading

import boto3
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
from spotify_charts.warehouses.redshift import RedshiftWarehouse, aws_ca_bundle
from spotify_charts_tests.support.redshift import ROLE, Connection, RecordedRedshift

ALIASES = ["regional-global-daily", "regional-ee-daily"]
DATES = [dt.date(2025, 6, 1) + dt.timedelta(days=i) for i in range(3)]


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
    assert kinds == ["select", "create", "create", "create", "lock", "delete", "delete", "copy", "copy"]
    # the schema is looked up first: the pipeline's user owns it but may not create schemas
    assert statements[0] == "select 1 from pg_namespace where nspname = 'staging'"
    assert statements[1] == "create schema staging"
    assert "loaded_at timestamp" in statements[2] and "chart_id varchar(65535)" in statements[2]
    scope = "chart_date between '2025-06-01' and '2025-06-03' and chart_id in "
    assert statements[5].endswith(scope + "('regional-global-daily', 'regional-ee-daily')")
    assert statements[7].startswith(f"copy staging.chart_entries from 's3://{s3_bucket}/prod/staging-loads/")
    assert statements[7].endswith(f"/chart_entries/' iam_role '{ROLE}' format as parquet")
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
    assert repr(warehouse) == "RedshiftWarehouse(u@h:5439/d)" and warehouse.sslmode == "verify-full"
    # dbt gets the target and no value on its command line: it reads the password from the environment
    assert dbt_arguments(warehouse) == ["--target", "redshift", "--vars", "{}"]
    assert "s3cret-pw" not in repr(settings.parse({"SPOTIFY_CHARTS_REDSHIFT_PASSWORD": "s3cret-pw"}))


def test_redshift_connections_verify_the_servers_certificate_against_awss_bundle(s3_bucket, tmp_path):
    """verify-full, not require: a server with a certificate AWS's bundle does not vouch for (here
    a self-signed one, as a man in the middle would show) is refused during the TLS handshake,
    before any password is sent."""
    store = S3FileStore(boto3.client("s3"), s3_bucket)
    warehouse = RedshiftWarehouse("127.0.0.1", 5439, "u", "p", "d", store, ROLE)
    assert warehouse.sslmode == "verify-full" and warehouse.sslrootcert == aws_ca_bundle()
    assert open(aws_ca_bundle()).read().count("BEGIN CERTIFICATE") >= 4  # Amazon's root CAs

    with tls_server(tmp_path) as (port, handshakes):
        with pytest.raises(ConnectionError, match="certificate verify failed"):
            RedshiftWarehouse("127.0.0.1", port, "u", "p", "d", store, ROLE).connect()
    assert handshakes == ["refused by the client"]

    with pytest.raises(ValueError, match="SPOTIFY_CHARTS_REDSHIFT_CA_BUNDLE=.*is not a file"):
        RedshiftWarehouse("h", 5439, "u", "p", "d", store, ROLE, ca_bundle=str(tmp_path / "missing.pem"))


@contextlib.contextmanager
def tls_server(folder):
    """A listener that accepts libpq's SSLRequest and shows a self-signed certificate for 127.0.0.1."""
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    handshakes: list[str] = []

    def serve() -> None:
        conn, _ = listener.accept()
        conn.recv(8)  # SSLRequest
        conn.sendall(b"S")
        try:
            context.wrap_socket(conn, server_side=True).close()
            handshakes.append("completed")
        except (ssl.SSLError, OSError):
            handshakes.append("refused by the client")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], handshakes
    finally:
        thread.join(timeout=10)
        listener.close()


def test_dbts_redshift_target_verifies_the_certificate_too():
    import yaml

    from spotify_charts_tests.support.helpers import REPO

    profile = yaml.safe_load((REPO / "dbt" / "profiles.yml").read_text())
    assert profile["spotify_charts"]["outputs"]["redshift"]["sslmode"] == "verify-full"

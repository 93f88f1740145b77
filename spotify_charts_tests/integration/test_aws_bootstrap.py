"""The deployment's bootstrap and secrets commands (spotify_charts/cli/aws.py). The PostgreSQL
users are created for real on the embedded server as its admin, and then used: the pipeline's user
loads staging but may create nothing else, Dagster's user owns its database, a second bootstrap
sets new passwords. No Redshift is reachable here: its statements are checked as Redshift SQL
with sqlglot and, being PostgreSQL-compatible, run on the embedded server too. The secrets command
writes to moto's Secrets Manager."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid

import boto3
import psycopg2
import pytest
import sqlglot

from spotify_charts.cli import aws
from spotify_charts.ingest import fetch_snapshots, load_staging
from spotify_charts.sources.sample import SampleSource
from spotify_charts.storage.local import LocalFileStore
from spotify_charts.warehouses.postgres import PostgresWarehouse

ALIASES = ["regional-ee-daily"]
DATES = [dt.date(2025, 6, 1)]


def admin(server, database: str) -> aws.Database:
    return aws.Database(server.host, server.port, database, server.user, server.password, "disable")


def connect(server, database: str, user: str, password: str):
    return psycopg2.connect(host=server.host, port=server.port, dbname=database, user=user, password=password)


def test_the_pipelines_postgres_user_owns_its_schemas_and_nothing_else(postgres_server, tmp_path):
    suffix = uuid.uuid4().hex[:8]
    database, user = f"warehouse_{suffix}", f"pipeline_{suffix}"
    stored: list[tuple[str, str]] = []
    aws.bootstrap_postgres_user(
        admin(postgres_server, postgres_server.database),
        user,
        database,
        lambda u, p: stored.append((u, p)),
        schemas=True,
    )
    ((stored_user, password),) = stored
    assert stored_user == user and len(password) == 40

    raw = LocalFileStore(tmp_path / "raw")
    fetch_snapshots(SampleSource(), raw, ALIASES, DATES)
    warehouse = PostgresWarehouse(postgres_server.host, postgres_server.port, user, password, database)
    assert load_staging(raw, warehouse, ALIASES, DATES, "sample").entry_rows == 50
    assert load_staging(raw, warehouse, ALIASES, DATES, "sample").entry_rows == 50  # again: replaces
    assert warehouse.query("select count(*) as n from staging.chart_entries") == [{"n": 50}]

    con = connect(postgres_server, database, user, password)
    try:
        with con.cursor() as cur:
            cur.execute(
                "select nspname, pg_get_userbyid(nspowner) from pg_namespace where nspname = any(%s)",
                [list(aws.WAREHOUSE_SCHEMAS)],
            )
            assert dict(cur.fetchall()) == dict.fromkeys(aws.WAREHOUSE_SCHEMAS, user)
            cur.execute("select rolsuper, rolcreaterole, rolcreatedb from pg_roles where rolname = %s", [user])
            assert cur.fetchall() == [(False, False, False)]
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("create schema elsewhere")
    finally:
        con.close()


def test_dagsters_user_owns_its_database_and_a_second_bootstrap_sets_new_passwords(postgres_server):
    suffix = uuid.uuid4().hex[:8]
    database, user = f"dagster_{suffix}", f"dagster_{suffix}"
    postgres_server.create_database(database)  # as RDS creates it (db_name)
    stored: list[tuple[str, str]] = []
    for _ in range(2):
        aws.bootstrap_postgres_user(
            admin(postgres_server, database), user, database, lambda u, p: stored.append((u, p)), schemas=False
        )
    (_, first), (_, second) = stored
    assert first != second
    con = connect(postgres_server, database, user, second)
    try:
        with con.cursor() as cur:
            cur.execute("select pg_get_userbyid(datdba) from pg_database where datname = %s", [database])
            assert cur.fetchall() == [(user,)]
            cur.execute("create table runs (id int)")  # Dagster creates its tables in public
        con.commit()
    finally:
        con.close()
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        connect(postgres_server, database, user, first)
    # the statements carry a SCRAM verifier, never the password (RDS logs DDL statements)
    statements = aws.postgres_role_statements(user, second, exists=True)
    assert second not in json.dumps(statements) and statements[0][1][0].startswith("SCRAM-SHA-256$4096:")


def test_the_redshift_user_is_never_the_admin_and_its_password_never_in_a_statement(postgres_server):
    statements = aws.redshift_user_statements("spotify_charts", "Secret1Password", exists=False)
    sql, params = statements[0]
    assert sql == "create user spotify_charts password %s"
    assert params == ["md5" + hashlib.md5(b"Secret1Passwordspotify_charts").hexdigest()]
    assert "Secret1Password" not in json.dumps(statements)
    created = {sql.split()[5] for sql, _ in statements if sql.startswith("create schema")}
    assert created == set(aws.WAREHOUSE_SCHEMAS)
    for sql, params in statements:
        rendered = sql % tuple(f"'{p}'" for p in params) if params else sql
        assert sqlglot.parse_one(rendered, read="redshift") is not None, rendered

    with pytest.raises(ValueError, match="must not be the admin"):
        aws.bootstrap_redshift(aws.Database("h", 5439, "d", "charts_admin", "pw", "verify-full"), "charts_admin", print)
    with pytest.raises(ValueError, match="not a plain lowercase SQL identifier"):
        aws.redshift_user_statements("x; drop table y", "pw", exists=False)

    # Redshift's statements are PostgreSQL too: they give a user its schemas on the real server
    suffix = uuid.uuid4().hex[:8]
    database, user = f"redshiftlike_{suffix}", f"rs_{suffix}"
    postgres_server.create_database(database)
    con = admin(postgres_server, database).connect()
    try:
        with con.cursor() as cur:
            for sql, params in aws.redshift_user_statements(user, "Secret1Password", exists=False):
                cur.execute(sql, params or None)
            cur.execute("select count(*) from pg_namespace where pg_get_userbyid(nspowner) = %s", [user])
            assert cur.fetchall() == [(len(aws.WAREHOUSE_SCHEMAS),)]
        con.commit()
    finally:
        con.close()


def test_the_secrets_command_writes_the_spotify_credentials_and_never_prints_them(
    s3_endpoint, s3_bucket, monkeypatch, capsys, tmp_path
):
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    client = boto3.client("secretsmanager")
    arns = {
        name: client.create_secret(Name=f"test-{uuid.uuid4().hex[:6]}/{name}")["ARN"]
        for name in ("spotify", "alert_webhook")
    }
    outputs = {"secret_arns": {"value": {**arns, "warehouse_user": "x", "dagster_user": "y"}}}
    env = {
        "SPOTIFY_CLIENT_ID": "client-id-1",
        "SPOTIFY_CLIENT_SECRET": "client-secret-2",
        "SPOTIFY_REFRESH_TOKEN": "refresh-3",
    }
    path = tmp_path / "outputs.json"  # what `terraform output -json` prints
    path.write_text(json.dumps(outputs))
    assert aws.main(["secrets", "--outputs", str(path)], env) == 0
    printed = capsys.readouterr().out
    assert arns["spotify"] in printed and not any(value in printed for value in env.values())
    assert json.loads(client.get_secret_value(SecretId=arns["spotify"])["SecretString"]) == env
    assert json.loads(client.get_secret_value(SecretId=arns["alert_webhook"])["SecretString"]) == {
        "SPOTIFY_CHARTS_ALERT_WEBHOOK": ""
    }

    assert aws.main(["secrets", "--outputs", str(path)], {"SPOTIFY_CLIENT_ID": "x"}) == 2
    assert "SPOTIFY_CLIENT_SECRET, SPOTIFY_REFRESH_TOKEN not set" in capsys.readouterr().err


def test_the_bootstrap_creates_dagsters_tables_as_dagsters_user(postgres_server, tmp_path):
    """`bootstrap --migrate-dagster` (the ECS bootstrap task): after creating Dagster's user, the
    image's `migrate` role creates Dagster's tables with that user's new password, so the tables
    are its own and the services find a current schema at their first start. It runs the instance
    the bootstrap task and the daemon task's "migrate" container get (deploy/ecs/migrate, with only
    the environment Terraform gives them: no DAGSTER_ECS_RUN_TASK_DEFINITION, no ECS), which keeps
    the services' storage."""
    import yaml

    from spotify_charts_tests.support.helpers import REPO

    suffix = uuid.uuid4().hex[:8]
    database, user = f"dagster_{suffix}", f"dagster_{suffix}"
    postgres_server.create_database(database)
    stored: list[str] = []
    aws.bootstrap_postgres_user(
        admin(postgres_server, database), user, database, lambda u, p: stored.append(p), schemas=False
    )
    services = yaml.safe_load((REPO / "deploy" / "ecs" / "dagster.yaml").read_text())
    config = yaml.safe_load((REPO / "deploy" / "ecs" / "migrate" / "dagster.yaml").read_text())
    assert config["storage"] == services["storage"], "the migration must upgrade the services' storage"
    # The shipped file as it is, but for TLS: this server has none.
    config["storage"]["postgres"]["postgres_db"]["params"] = {"sslmode": "disable"}
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    env = {
        "PATH": "/usr/bin:/bin",
        "DAGSTER_HOME": str(tmp_path),
        "DAGSTER_PG_HOST": postgres_server.host,
        "DAGSTER_PG_PORT": str(postgres_server.port),
        "DAGSTER_PG_DB": database,
        "DAGSTER_PG_USER": user,
        # As on Fargate, whose agent sets both; no AWS call is made.
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    aws.migrate_dagster_storage(stored[-1], env)

    con = connect(postgres_server, database, user, stored[-1])
    try:
        with con.cursor() as cur:
            cur.execute("select tablename, tableowner from pg_tables where schemaname = 'public'")
            tables = dict(cur.fetchall())
    finally:
        con.close()
    assert {"runs", "event_logs", "alembic_version"} <= set(tables)
    assert set(tables.values()) == {user}

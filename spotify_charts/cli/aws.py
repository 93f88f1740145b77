"""Operating the AWS deployment (terraform/), two commands:

`secrets`: writes the Spotify credentials and the alert webhook from your environment (`.env`)
into the deployment's Secrets Manager secrets, so they never pass through Terraform's state.
`make aws-secrets` runs it with `terraform output -json` on stdin.

`bootstrap`: creates the database users the deployment runs as and writes their passwords to
their secrets: the pipeline's own warehouse user (Redshift or PostgreSQL), which owns the
pipeline's schemas and may create nothing else, and Dagster's own user, which owns Dagster's
database. It runs inside the VPC as the one-off ECS task `make aws-bootstrap` starts, with the
admin passwords injected by ECS (REDSHIFT_ADMIN_PASSWORD, RDS_ADMIN_PASSWORD); nothing else ever
gets them. Running it again sets new passwords (restart the services afterwards). With
`--migrate-dagster` it then creates or upgrades Dagster's tables as Dagster's own user (the
image's `migrate` role, which the daemon's task also runs before every start).

Passwords are sent to the server hashed (Redshift's md5 form, PostgreSQL's SCRAM-SHA-256
verifier), so statement logs never hold one. Plain module (no Dagster import).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import string
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from spotify_charts import settings

# Every schema the pipeline writes: the staging loader's, and dbt's (dbt_project.yml: +schema of
# each folder and the seeds; generate_schema_name uses them as they are). A test checks this
# against the dbt manifest.
WAREHOUSE_SCHEMAS = ("staging", "dbt_staging", "intermediate", "marts", "reference")
API_SECRET_KEYS = (settings.CLIENT_ID.name, settings.CLIENT_SECRET.name, settings.REFRESH_TOKEN.name)
WEBHOOK_SECRET_KEY = settings.ALERT_WEBHOOK.name
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

Statement = tuple[str, list]


def identifier(name: str) -> str:
    """A user, database or schema name safe to write into SQL (they cannot be bound parameters)."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not a plain lowercase SQL identifier (letters, digits, _)")
    return name


def new_password(length: int = 40) -> str:
    """A password Redshift and PostgreSQL both accept: letters of both cases and digits (Redshift
    requires each), nothing that needs quoting."""
    alphabet = string.ascii_letters + string.digits
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if (
            any(c.islower() for c in password)
            and any(c.isupper() for c in password)
            and any(c.isdigit() for c in password)
        ):
            return password


def redshift_md5(user: str, password: str) -> str:
    """Redshift's hashed form of a password (`md5` + md5(password + user)), accepted by CREATE USER."""
    return "md5" + hashlib.md5((password + user).encode(), usedforsecurity=False).hexdigest()


def scram_verifier(password: str, salt: bytes | None = None, iterations: int = 4096) -> str:
    """PostgreSQL's SCRAM-SHA-256 verifier of a password (RFC 5802), accepted by CREATE ROLE."""
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    stored_key = hashlib.sha256(hmac.new(salted, b"Client Key", "sha256").digest()).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    b64 = base64.b64encode
    return f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}${b64(stored_key).decode()}:{b64(server_key).decode()}"


def redshift_user_statements(user: str, password: str, exists: bool) -> list[Statement]:
    """The pipeline's Redshift user: it owns the pipeline's schemas (the loader's and dbt's) and has
    no other right: not the admin's, not CREATE on the database."""
    user = identifier(user)
    hashed = redshift_md5(user, password)
    verb = "alter" if exists else "create"
    statements: list[Statement] = [(f"{verb} user {user} password %s", [hashed])]
    for schema in WAREHOUSE_SCHEMAS:
        statements.append((f"create schema if not exists {identifier(schema)} authorization {user}", []))
        statements.append((f"alter schema {schema} owner to {user}", []))
    return statements


def postgres_role_statements(user: str, password: str, exists: bool) -> list[Statement]:
    user = identifier(user)
    verb = "alter" if exists else "create"
    return [(f"{verb} role {user} with login password %s", [scram_verifier(password)])]


def postgres_warehouse_statements(user: str) -> list[Statement]:
    """Inside the warehouse database: the pipeline's schemas, owned by its user."""
    user = identifier(user)
    statements: list[Statement] = []
    for schema in WAREHOUSE_SCHEMAS:
        statements.append((f"create schema if not exists {identifier(schema)} authorization {user}", []))
        statements.append((f"alter schema {schema} owner to {user}", []))
    return statements


def database_for(database: str, user: str) -> list[Statement]:
    """A database the pipeline's user may connect to, and nobody else but the admin; it may not
    create schemas there (its own are made for it)."""
    database, user = identifier(database), identifier(user)
    return [
        (f"revoke all on database {database} from public", []),
        (f"grant connect on database {database} to {user}", []),
    ]


def database_owned_by(database: str, owner: str, admin: str) -> list[Statement]:
    """A database only `owner` (and the admin) may connect to; the admin must be a member of the
    owner to hand it over (RDS's admin is no superuser)."""
    database, owner, admin = identifier(database), identifier(owner), identifier(admin)
    return [
        (f"grant {owner} to {admin}", []),
        (f"alter database {database} owner to {owner}", []),
        (f"revoke all on database {database} from public", []),
    ]


@dataclass
class Database:
    """Where a bootstrap step connects, as the admin."""

    host: str
    port: int
    database: str
    admin: str
    admin_password: str
    sslmode: str
    sslrootcert: str | None = None

    def connect(self):
        from spotify_charts.warehouses.postgres import connect

        return connect(
            self.host,
            self.port,
            self.admin,
            self.admin_password,
            self.database,
            self.sslmode,
            self.sslrootcert,
            application_name="spotify-charts-bootstrap",
        )


def _role_exists(cur, user: str, redshift: bool) -> bool:
    cur.execute(
        "select 1 from pg_user where usename = %s" if redshift else "select 1 from pg_roles where rolname = %s", [user]
    )
    return bool(cur.fetchall())


def _run(cur, statements: Sequence[Statement]) -> None:
    for sql, params in statements:
        cur.execute(sql, params or None)


def bootstrap_redshift(db: Database, user: str, store_password: Callable[[str, str], None]) -> None:
    """Create (or set a new password for) the pipeline's Redshift user and its schemas."""
    if identifier(user) == db.admin:
        raise ValueError(f"the pipeline's Redshift user {user!r} must not be the admin")
    password = new_password()
    con = db.connect()
    try:
        with con.cursor() as cur:
            _run(cur, redshift_user_statements(user, password, _role_exists(cur, user, redshift=True)))
        store_password(user, password)  # before commit: a failure here leaves the old password working
        con.commit()
    finally:
        con.close()


def bootstrap_postgres_user(
    db: Database, user: str, database: str, store_password: Callable[[str, str], None], schemas: bool
) -> None:
    """Create (or set a new password for) a PostgreSQL user and `database` (created when missing):
    Dagster's user owns its database; with `schemas`, the pipeline's user only connects to it and
    owns the pipeline's schemas inside it."""
    if identifier(user) == db.admin:
        raise ValueError(f"the user {user!r} must not be the admin")
    password = new_password()
    con = db.connect()
    try:
        con.autocommit = True  # CREATE DATABASE cannot run in a transaction
        with con.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", [database])
            if not cur.fetchall():
                cur.execute(f"create database {identifier(database)}")
        con.autocommit = False
        with con.cursor() as cur:
            _run(cur, postgres_role_statements(user, password, _role_exists(cur, user, redshift=False)))
            _run(cur, database_for(database, user) if schemas else database_owned_by(database, user, db.admin))
        con.commit()
    finally:
        con.close()
    if schemas:
        inside = Database(db.host, db.port, database, db.admin, db.admin_password, db.sslmode, db.sslrootcert)
        con = inside.connect()
        try:
            with con.cursor() as cur:
                _run(cur, postgres_warehouse_statements(user))
            con.commit()
        finally:
            con.close()
    store_password(user, password)


def migrate_dagster_storage(password: str, env: Mapping[str, str]) -> None:
    """Create or upgrade Dagster's tables in the instance of $DAGSTER_HOME (on ECS
    deploy/ecs/migrate/dagster.yaml: the services' storage, no run launcher) as Dagster's own
    user, whose new password goes to the child's environment only. CalledProcessError when the
    migration fails (its output says why)."""
    command = [sys.executable, "-m", "spotify_charts.cli.stack", "migrate"]
    subprocess.run(command, env={**env, "DAGSTER_PG_PASSWORD": password}, check=True, timeout=600)


def secret_writer(client: Any, secret_arn: str) -> Callable[[str, str], None]:
    def store(user: str, password: str) -> None:
        client.put_secret_value(SecretId=secret_arn, SecretString=json.dumps({"username": user, "password": password}))

    return store


def spotify_secret_values(env: Mapping[str, str] | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """The values `secrets` writes, from the environment; ValueError naming what is missing."""
    values = {name: settings.get(name, env) for name in API_SECRET_KEYS}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise ValueError(f"{', '.join(missing)} not set (in .env or the environment; README, Using real Spotify data)")
    webhook = settings.get(WEBHOOK_SECRET_KEY, env) or ""
    return values, {WEBHOOK_SECRET_KEY: webhook}


def write_spotify_secrets(client: Any, outputs: Mapping[str, Any], env: Mapping[str, str] | None = None) -> list[str]:
    """Put the values into the deployment's secrets; returns the secrets' names written (never values)."""
    spotify, webhook = spotify_secret_values(env)
    arns = outputs["secret_arns"]["value"]
    client.put_secret_value(SecretId=arns["spotify"], SecretString=json.dumps(spotify))
    client.put_secret_value(SecretId=arns["alert_webhook"], SecretString=json.dumps(webhook))
    return [arns["spotify"], arns["alert_webhook"]]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m spotify_charts.cli.aws", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    secrets_cmd = commands.add_parser("secrets", help="write Spotify credentials and the webhook into Secrets Manager")
    secrets_cmd.add_argument("--outputs", default="-", help="`terraform output -json` (a file, or - for stdin)")
    boot = commands.add_parser("bootstrap", help="create the warehouse's and Dagster's own database users")
    boot.add_argument("--rds-host", required=True)
    boot.add_argument("--rds-admin", required=True)
    boot.add_argument("--dagster-database", required=True)
    boot.add_argument("--dagster-user", required=True)
    boot.add_argument("--dagster-secret", required=True)
    boot.add_argument("--warehouse", choices=("redshift", "postgres"), required=True)
    boot.add_argument("--warehouse-user", required=True)
    boot.add_argument("--warehouse-secret", required=True)
    boot.add_argument("--warehouse-database", help="with --warehouse postgres")
    boot.add_argument("--redshift-host")
    boot.add_argument("--redshift-database")
    boot.add_argument("--redshift-admin")
    boot.add_argument(
        "--migrate-dagster", action="store_true", help="then create or upgrade Dagster's tables ($DAGSTER_HOME)"
    )
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    import boto3

    args = _parser().parse_args(argv)
    env = os.environ if env is None else env
    client = boto3.client("secretsmanager")
    try:
        if args.command == "secrets":
            text = sys.stdin.read() if args.outputs == "-" else open(args.outputs).read()
            for arn in write_spotify_secrets(client, json.loads(text), env):
                print(f"wrote {arn}")
            return 0
        from spotify_charts.warehouses.redshift import aws_ca_bundle

        # Both servers are verified (verify-full): RDS against its root CAs, which the image carries
        # (deploy/ecs/rds-ca-bundle.pem; the task sets PGSSLROOTCERT to it), Redshift against
        # AWS's bundle shipped with redshift_connector.
        rds = Database(
            args.rds_host, 5432, args.dagster_database, args.rds_admin, env["RDS_ADMIN_PASSWORD"],
            "verify-full", env.get("PGSSLROOTCERT") or None,
        )  # fmt: skip
        dagster_passwords: list[str] = []
        write_dagster_secret = secret_writer(client, args.dagster_secret)

        def store_dagster_password(user: str, password: str) -> None:
            write_dagster_secret(user, password)
            dagster_passwords.append(password)

        bootstrap_postgres_user(rds, args.dagster_user, args.dagster_database, store_dagster_password, schemas=False)
        print(f"Dagster's user {args.dagster_user} owns database {args.dagster_database}")
        if args.migrate_dagster:
            migrate_dagster_storage(dagster_passwords[-1], env)
            print("Dagster's tables are created or upgraded")
        if args.warehouse == "redshift":
            redshift = Database(
                args.redshift_host, 5439, args.redshift_database, args.redshift_admin,
                env["REDSHIFT_ADMIN_PASSWORD"], "verify-full", aws_ca_bundle(),
            )  # fmt: skip
            bootstrap_redshift(redshift, args.warehouse_user, secret_writer(client, args.warehouse_secret))
        else:
            bootstrap_postgres_user(
                rds,
                args.warehouse_user,
                args.warehouse_database,
                secret_writer(client, args.warehouse_secret),
                schemas=True,
            )
        print(f"the pipeline's {args.warehouse} user {args.warehouse_user} owns schemas {', '.join(WAREHOUSE_SCHEMAS)}")
        return 0
    except (ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(f"error: Dagster's migration failed (exit {exc.returncode}; its output is above)", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())

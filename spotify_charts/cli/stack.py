"""The full stack's processes, one command each: `python -m spotify_charts.cli.stack ROLE`.

Roles: `migrate` (create or upgrade the instance's tables; run it before the others), `code-server`
(the code location over gRPC), `webserver` (the UI and its GraphQL API), `daemon` (schedules,
sensors, backfills, the run queue, run monitoring and retries), and `healthcheck` (the image's
HEALTHCHECK). The Docker image's entrypoint is this module and compose.yaml picks the role by
command; without Docker the same commands run the same processes (README, "Running the full stack").

Before starting Dagster, every role checks that the instance's PostgreSQL database (from
$DAGSTER_HOME/dagster.yaml and its environment variables) answers: a wrong host, database, user or
password stops the process at once with one line naming host, port, database and user (never the
password), instead of Dagster's retries and a traceback. Then the process *becomes* the Dagster
command (exec), so signals and exit codes are Dagster's own.

Plain module (no Dagster import).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

CODE_LOCATION = "spotify_charts"
MODULE = "spotify_charts.definitions"
DEFAULT_WORKSPACE = "deploy/workspace.yaml"
EXIT_INSTANCE_UNREACHABLE = 3
ROLES = ("migrate", "code-server", "webserver", "daemon")


class InstanceConfigError(Exception):
    """The instance's storage settings are missing or its database cannot be reached (one line, no secret)."""


def _resolve(value: Any, env: Mapping[str, str], field: str) -> Any:
    """A dagster.yaml value, with `{env: NAME}` read from the environment as Dagster reads it."""
    if isinstance(value, dict) and set(value) == {"env"}:
        name = value["env"]
        if not env.get(name):
            raise InstanceConfigError(f"the instance's {field} comes from ${name}, which is not set")
        return env[name]
    return value


def instance_database(home: Path, env: Mapping[str, str]) -> dict[str, Any] | None:
    """The PostgreSQL settings of the instance in `home` (None when it does not use PostgreSQL)."""
    path = home / "dagster.yaml"
    if not path.exists():
        raise InstanceConfigError(f"no instance configuration at {path} (set DAGSTER_HOME to the folder holding it)")
    config = yaml.safe_load(path.read_text()) or {}
    postgres = (config.get("storage") or {}).get("postgres")
    if not postgres:
        return None
    if "postgres_url" in postgres:
        from urllib.parse import unquote, urlsplit

        url = urlsplit(str(_resolve(postgres["postgres_url"], env, "postgres_url")))
        return {
            "host": url.hostname or "",
            "port": url.port or 5432,
            "user": unquote(url.username or ""),
            "password": unquote(url.password or ""),
            "dbname": url.path.lstrip("/"),
        }
    db = postgres.get("postgres_db") or {}
    return {
        "host": _resolve(db.get("hostname", ""), env, "hostname"),
        "port": int(_resolve(db.get("port", 5432), env, "port")),
        "user": _resolve(db.get("username", ""), env, "username"),
        "password": _resolve(db.get("password", ""), env, "password") if "password" in db else "",
        "dbname": _resolve(db.get("db_name", ""), env, "db_name"),
    }


def describe(db: Mapping[str, Any]) -> str:
    """Where the instance database is, for messages: never the password."""
    return f"database {db['dbname']!r} on {db['host']}:{db['port']} as user {db['user']!r}"


def check_instance(home: Path, env: Mapping[str, str], timeout_seconds: int = 10) -> str | None:
    """Connect once to the instance's database; InstanceConfigError naming it when that fails."""
    db = instance_database(home, env)
    if db is None:
        return None
    import psycopg2

    try:
        con = psycopg2.connect(**db, connect_timeout=timeout_seconds, application_name="spotify-charts-check")
    except psycopg2.OperationalError as exc:
        # libpq's reason (refused, unknown host, authentication failed, no such database) never
        # contains the password; its lines (reason, then a hint) joined into one.
        reason = " ".join(line.strip() for line in str(exc).strip().splitlines()) or type(exc).__name__
        raise InstanceConfigError(f"cannot reach the Dagster instance's {describe(db)}: {reason}") from None
    con.close()
    return describe(db)


def dagster_command(role: str, args: argparse.Namespace) -> list[str]:
    """The Dagster command line of a role."""
    bin_dir = Path(sys.executable).parent  # the environment's scripts, whether or not it is on PATH

    def tool(name: str) -> str:
        beside = bin_dir / name
        return str(beside) if beside.exists() else (shutil.which(name) or name)

    if role == "migrate":
        return [tool("dagster"), "instance", "migrate"]
    if role == "code-server":
        return [
            tool("dagster"), "code-server", "start", "--host", args.host, "--port", str(args.port or 4000),
            "--module-name", MODULE, "--location-name", CODE_LOCATION,
        ]  # fmt: skip
    if role == "webserver":
        return [tool("dagster-webserver"), "--host", args.host, "--port", str(args.port or 3000), "-w", args.workspace]
    if role == "daemon":
        return [tool("dagster-daemon"), "run", "-w", args.workspace]
    raise ValueError(f"unknown role {role!r}")


def _role_of_pid1() -> str | None:
    """Which role this container runs, from PID 1's command line (the exec'd Dagster command)."""
    try:
        cmdline = Path("/proc/1/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return None
    markers = {"dagster-webserver": "webserver", "dagster-daemon": "daemon", "code-server": "code-server"}
    for marker, role in markers.items():
        if marker in cmdline:
            return role
    return None


def healthcheck(role: str | None, port: int | None) -> int:
    """0 when the role's process answers: the code server's gRPC ping, the webserver's
    /server_info, the daemon's heartbeat in the instance."""
    role = role or _role_of_pid1() or "code-server"
    if role == "webserver":
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port or 3000}/server_info", timeout=5) as answer:
                json.load(answer)
        except Exception as exc:  # noqa: BLE001 - any failure is "unhealthy", said in one line
            print(f"webserver unhealthy: {exc}", file=sys.stderr)
            return 1
        return 0
    bin_dir = Path(sys.executable).parent
    if role == "daemon":
        command = [str(bin_dir / "dagster-daemon"), "liveness-check"]
    else:
        command = [str(bin_dir / "dagster"), "api", "grpc-health-check", "--port", str(port or 4000)]
    return subprocess.run(command, check=False, timeout=60).returncode


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] not in (*ROLES, "healthcheck", "check") and not argv[0].startswith("-"):
        # Any other command runs as given (the image's entrypoint is this module): the ECS task
        # definitions' own `dagster ...` commands and EcsRunLauncher's run commands.
        os.execvp(argv[0], argv)
    parser = argparse.ArgumentParser(prog="python -m spotify_charts.cli.stack", description=__doc__.split("\n\n")[0])
    parser.add_argument("role", choices=[*ROLES, "healthcheck", "check"])
    parser.add_argument("check_role", nargs="?", help="for healthcheck: the role to check (default: this container's)")
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (code server, webserver)")
    parser.add_argument("--port", type=int, help="port (code server 4000, webserver 3000)")
    parser.add_argument("--workspace", default=DEFAULT_WORKSPACE, help="workspace file of the webserver and daemon")
    args = parser.parse_args(argv)
    if args.role == "healthcheck":
        return healthcheck(args.check_role, args.port)
    home = Path(os.environ.get("DAGSTER_HOME") or ".")
    try:
        where = check_instance(home, os.environ)
    except InstanceConfigError as exc:
        print(f"spotify-charts {args.role}: {exc}", file=sys.stderr, flush=True)
        return EXIT_INSTANCE_UNREACHABLE
    if args.role == "check":
        print(f"instance storage reachable: {where or 'not PostgreSQL (local files)'}")
        return 0
    command = dagster_command(args.role, args)
    print(f"spotify-charts {args.role}: instance {where or 'in local files'}; starting {' '.join(command)}", flush=True)
    os.execvp(command[0], command)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())

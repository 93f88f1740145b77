"""The full stack as processes on 127.0.0.1, as compose.yaml runs it in containers: the instance in
PostgreSQL (deploy/dagster.yaml, unchanged), the code server over gRPC, the webserver and the
daemon, each started by `python -m spotify_charts.cli.stack ROLE` (the image's entrypoint).

`ProcessStack` starts and kills them; `graphql` talks to the webserver as the UI does. Every
process gets a new session, so a kill reaches the processes it started (the code server's gRPC
child and its run workers), and `close` kills whatever is left.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from spotify_charts_tests.support.helpers import REPO

ROLE_COMMAND = [sys.executable, "-m", "spotify_charts.cli.stack"]
# Seconds a backfill may take: ~2 minutes for 3 dates of 2 charts on an idle 2-core machine, but
# the machine running the suite may be shared and many times slower.
BACKFILL_TIMEOUT = 1200

WORKSPACE = "{ workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError { __typename } } } } }"
DAEMON_HEALTH = "{ instance { daemonHealth { allDaemonStatuses { daemonType healthy required } } } }"

LAUNCH_BACKFILL = """
mutation LaunchPartitionBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on InvalidSubsetError { message }
    ... on UnauthorizedError { message }
  }
}"""
BACKFILL = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status error { message } runs(limit: 100) { runId status } }
  }
}"""
RUN_ERRORS = """
query RunErrors($runId: ID!) {
  logsForRun(runId: $runId, limit: 1000) {
    ... on EventConnection {
      events {
        __typename
        ... on MessageEvent { message stepKey }
        ... on ErrorEvent { error { message stack } }
      }
    }
  }
}"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stack_environment(server, instance_db: str, data_dir: Path, regions: str = "global,ee") -> dict[str, str]:
    """This environment plus the stack's settings: the instance in `instance_db` and the `postgres`
    warehouse in `server`'s own database (a support.postgres.PostgresServer), raw files in `data_dir`."""
    return {
        **os.environ,
        "DAGSTER_PG_HOST": server.host,
        "DAGSTER_PG_PORT": str(server.port),
        "DAGSTER_PG_USER": server.user,
        "DAGSTER_PG_PASSWORD": server.password,
        "DAGSTER_PG_DB": instance_db,
        **server.dbt_env(),  # SPOTIFY_CHARTS_WAREHOUSE=postgres and its SPOTIFY_CHARTS_PG_* settings
        "SPOTIFY_CHARTS_REGIONS": regions,
        "SPOTIFY_CHARTS_DATA_DIR": str(data_dir),
    }


def wait_for(what: str, check: Callable[[], Any], timeout: float, interval: float = 2.0, log: Path | None = None):
    """check()'s first truthy answer; AssertionError naming `what` (and the log's tail) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            answer = check()
        except AssertionError:
            raise  # a verdict (a process died, a backfill failed), not a server still starting
        except Exception as exc:  # noqa: BLE001 - a server still starting refuses connections
            last_error, answer = exc, None
        if answer:
            return answer
        time.sleep(interval)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last error: {last_error})\n{tail}")


class ProcessStack:
    """Code server, webserver and daemon on 127.0.0.1 over one PostgreSQL-backed instance."""

    def __init__(self, work: Path, env: dict[str, str]) -> None:
        self.work = work
        self.home = work / "dagster_home"
        self.home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / "deploy" / "dagster.yaml", self.home / "dagster.yaml")  # the production file as is
        self.logs = work / "logs"
        self.logs.mkdir(exist_ok=True)
        self.code_port, self.web_port = free_port(), free_port()
        self.env = {
            **env,
            "DAGSTER_HOME": str(self.home),
            "DAGSTER_CODE_SERVER_HOST": "127.0.0.1",
            "DAGSTER_CODE_SERVER_PORT": str(self.code_port),
        }
        self.processes: dict[str, subprocess.Popen] = {}
        self._starts: dict[str, int] = {}
        self.backfill_timeout = BACKFILL_TIMEOUT
        self.came_up_seconds = 0.0  # from starting the code server to every process answering
        self.warehouse = None  # the `postgres` warehouse the runs load (set by whoever starts the stack)

    def log(self, role: str) -> Path:
        return self.logs / f"{role}.log"

    def run_role(self, role: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """A role that runs to its end (migrate), as its own process."""
        return subprocess.run(
            [*ROLE_COMMAND, role], cwd=REPO, env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )

    def up(self) -> None:
        """Migrate, then the code server, then the webserver and the daemon, each answering."""
        # The instance's tables first: three processes creating them on an empty database would race.
        migrated = self.run_role("migrate")
        assert migrated.returncode == 0, migrated.stdout[-3000:] + migrated.stderr[-3000:]
        started = time.monotonic()
        self.start("code-server")
        self.wait_code_server()
        self.start("webserver")
        self.start("daemon")
        self.wait_webserver()
        self.wait_daemon()
        self.came_up_seconds = time.monotonic() - started

    def start(self, role: str) -> subprocess.Popen:
        args = {"code-server": ["--host", "127.0.0.1", "--port", str(self.code_port)],
                "webserver": ["--host", "127.0.0.1", "--port", str(self.web_port)]}.get(role, [])  # fmt: skip
        self._starts[role] = self._starts.get(role, 0) + 1
        log = self.log(role).open("a")
        log.write(f"\n===== start {self._starts[role]} of {role} =====\n")
        log.flush()
        process = subprocess.Popen(
            [*ROLE_COMMAND, role, *args], cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.processes[role] = process
        return process

    def wait_code_server(self, timeout: float = 240) -> None:
        dagster = str(Path(sys.executable).with_name("dagster"))

        def healthy() -> bool:
            self._check_alive("code-server")
            probe = [dagster, "api", "grpc-health-check", "--port", str(self.code_port)]
            return subprocess.run(probe, capture_output=True, timeout=30, check=False).returncode == 0

        wait_for("the code server's gRPC health check", healthy, timeout, log=self.log("code-server"))

    def wait_webserver(self, timeout: float = 240) -> None:
        def loaded(data: dict) -> bool:
            entries = data["workspaceOrError"]["locationEntries"]
            return [(e["name"], e["locationOrLoadError"]["__typename"]) for e in entries] == [
                ("spotify_charts", "RepositoryLocation")
            ]

        self._poll_graphql("webserver", "the webserver to serve the code location", WORKSPACE, loaded, timeout)

    def wait_daemon(self, timeout: float = 240) -> None:
        def healthy(data: dict) -> bool:
            statuses = data["instance"]["daemonHealth"]["allDaemonStatuses"]
            return all(s["healthy"] for s in statuses if s["required"])

        self._poll_graphql("daemon", "every daemon to report healthy", DAEMON_HEALTH, healthy, timeout)

    def _poll_graphql(self, role: str, what: str, query: str, ready: Callable[[dict], bool], timeout: float) -> None:
        """Ask `query` until `ready` holds for the answer, while the role's process lives; a timeout
        names `what` and shows the role's log."""

        def answered() -> bool:
            self._check_alive(role)
            return ready(self.graphql(query))

        wait_for(what, answered, timeout, log=self.log(role))

    def _check_alive(self, role: str) -> None:
        code = self.processes[role].poll()
        if code is not None:
            tail = self.log(role).read_text(errors="replace")[-3000:]
            raise AssertionError(f"the {role} exited with {code}:\n{tail}")

    def kill(self, role: str) -> None:
        """SIGKILL the role's process and everything it started: no cleanup, as a crashed container."""
        process = self.processes.pop(role)
        victims = [process.pid]
        try:
            victims += [child.pid for child in psutil.Process(process.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait(timeout=30)

    def close(self) -> None:
        for role in list(self.processes):
            self.kill(role)

    def graphql(self, query: str, variables: dict | None = None, timeout: float = 60) -> dict:
        """The webserver's GraphQL API, as the UI calls it; AssertionError on a GraphQL error."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.web_port}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            result = json.load(answer)
        assert not result.get("errors"), result["errors"]
        return result["data"]

    def launch_backfill(self, first: str, last: str) -> str:
        """A backfill of every asset for the chart dates first..last, launched as the UI's
        Materialize button launches it: the partitioned assets with the range, the others whole."""
        nodes = self.graphql("{ assetNodes { assetKey { path } isPartitioned isExecutable } }")["assetNodes"]
        selection = [
            {
                "assetKey": {"path": node["assetKey"]["path"]},
                "partitions": {"range": {"start": first, "end": last}} if node["isPartitioned"] else None,
            }
            for node in nodes
            if node["isExecutable"]
        ]
        assert len(selection) > 20 and any(s["partitions"] for s in selection), selection
        params = {"partitionsByAssets": selection, "title": f"charts {first}..{last}"}
        answer = self.graphql(LAUNCH_BACKFILL, {"backfillParams": params})["launchPartitionBackfill"]
        assert answer["__typename"] == "LaunchBackfillSuccess", answer
        return answer["backfillId"]

    def backfill(self, backfill_id: str) -> dict:
        answer = self.graphql(BACKFILL, {"id": backfill_id})["partitionBackfillOrError"]
        assert answer["__typename"] == "PartitionBackfill", answer
        return answer

    def run_errors(self, run_id: str) -> str:
        """The run's error events and failure messages, for a failing test's message."""
        events = self.graphql(RUN_ERRORS, {"runId": run_id})["logsForRun"].get("events", [])
        lines = [f"--- run {run_id} ---"]
        for event in events:
            if "FAIL" in event["__typename"].upper() or event.get("error"):
                error = event.get("error") or {}
                lines.append(
                    f"{event['__typename']} {event.get('stepKey')}: {event.get('message')} "
                    f"{error.get('message', '')} {(error.get('stack') or [''])[-1:]}"
                )
        return "\n".join(lines)

    def wait_backfill_done(self, backfill_id: str) -> dict:
        """The backfill once it has completed; AssertionError when it fails or times out."""

        def done() -> dict | None:
            state = self.backfill(backfill_id)
            if state["status"] in ("FAILED", "COMPLETED_FAILED", "CANCELED", "CANCELING"):
                failed = [run["runId"] for run in state["runs"] if run["status"] != "SUCCESS"]
                why = "\n".join(self.run_errors(run_id) for run_id in failed)
                daemon = self.log("daemon").read_text(errors="replace")[-4000:]
                raise AssertionError(
                    f"backfill {backfill_id} ended {state['status']}: {state}\n{why}\n--- daemon log ---\n{daemon}"
                )
            return state if state["status"] in ("COMPLETED", "COMPLETED_SUCCESS") else None

        return wait_for(
            f"backfill {backfill_id} to finish", done, self.backfill_timeout, interval=5, log=self.log("daemon")
        )

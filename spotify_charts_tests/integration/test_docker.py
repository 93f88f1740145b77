"""The real image and the real compose.yaml, run as the README tells a user (Running the full stack).

In a copy of the repository (so the developer's own .env and volumes are untouched): `make build`,
a `.env` with DAGSTER_PG_PASSWORD, `make up` on a port and under a compose project name of the
test's own; then a backfill of every asset over 3 dates launched through the webserver's GraphQL
API with the UI's Materialize mutation, the daemon crashed and the webserver `docker kill`ed while
a run of it is in flight; `make down` and `make up` keep the runs, a sensor's cursor and the
warehouse; a wrong DAGSTER_PG_PASSWORD stops the roles with one line. The engine and the base
images come from support/docker.py (an engine that answers, else a dockerd of the test's own; the
official base images, else stand-ins built from Debian's packages). One test runs the steps in
order on one stack, first in its lane (conftest.py); the stack is removed at the end, volumes
included.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import signal
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import psutil
import pytest

from spotify_charts.dashboard.data import CONTRACT_TABLES
from spotify_charts_tests.support.docker import PROJECT_PREFIX, DockerUnavailable, base_images, docker_engine
from spotify_charts_tests.support.helpers import REPO
from spotify_charts_tests.support.stack import BACKFILL_TIMEOUT, ProcessStack, free_port, wait_for

IMAGE = "spotify-charts:make-test"  # kept between runs: its layers are `make build`'s cache
CHARTS = {"regional-global-daily": 200, "regional-ee-daily": 50}
DATES = ["2025-06-01", "2025-06-02", "2025-06-03"]
ROLES = ("code-server", "webserver", "daemon")
CSV_SENSOR = {
    "repositoryLocationName": "spotify_charts",
    "repositoryName": "__repository__",
    "sensorName": "csv_exports",
}
RUNS = "{ runsOrError(limit: 500) { ... on Runs { results { runId status tags { key value } } } } }"
SENSOR = """
query Sensor($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    ... on Sensor { sensorState { status typeSpecificData { ... on SensorData { lastCursor } } } }
  }
}"""
SET_CURSOR = """
mutation SetCursor($selector: SensorSelector!, $cursor: String) {
  setSensorCursor(sensorSelector: $selector, cursor: $cursor) { __typename }
}"""
# `make up` waits for every service's health check (start period 120 s, every 30 s); bounded, generous.
UP_TIMEOUT = 900
BUILD_TIMEOUT = 2400
TIMINGS = REPO / "test-artifacts" / "docker-timings.json"


class ComposeStack(ProcessStack):
    """The compose project in a copy of the repository, driven with make and docker compose; the
    GraphQL helpers (launch_backfill, wait_backfill_done, ...) are the process-level stack's."""

    def __init__(self, engine, repo: Path, work: Path, images: dict[str, str]) -> None:
        self.engine, self.repo, self.work = engine, repo, work
        self.project = f"{PROJECT_PREFIX}{uuid.uuid4().hex[:8]}"
        self.web_port = free_port()
        self.password = secrets.token_hex(12)
        self.images = images
        self.backfill_timeout = BACKFILL_TIMEOUT
        self.logs = work / "logs"
        self.logs.mkdir(exist_ok=True)
        # make's own variables from an outer `make test` would reach this make otherwise.
        outer = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")
        self.env = {
            **{k: v for k, v in engine.env.items() if k not in outer},
            "COMPOSE_PROJECT_NAME": self.project,
            "POSTGRES_IMAGE": images["POSTGRES_IMAGE"],
        }
        self.timings: dict[str, object] = {}
        self.write_env(self.password)

    def write_env(self, password: str) -> None:
        """The .env the README asks for: the instance's password, plus two charts to keep it small."""
        (self.repo / ".env").write_text(f"DAGSTER_PG_PASSWORD={password}\nSPOTIFY_CHARTS_REGIONS=global,ee\n")

    def make(self, target: str, timeout: float = UP_TIMEOUT, check: bool = True) -> subprocess.CompletedProcess:
        started = time.monotonic()
        variables = [f"IMAGE={IMAGE}", f"WEB_PORT={self.web_port}", f"PYTHON_IMAGE={self.images['PYTHON_IMAGE']}"]
        result = self.engine.run("make", "--no-print-directory", target, *variables, cwd=self.repo, env=self.env,
                                 timeout=timeout, check=False)  # fmt: skip
        self.timings.setdefault(f"make_{target}_seconds", []).append(round(time.monotonic() - started, 1))
        if check and result.returncode:
            raise AssertionError(
                f"make {target} exited {result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
                f"\n{self.logs_tail()}"
            )
        return result

    def compose(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        return self.engine.run("docker", "compose", *args, cwd=self.repo, env=self.env, check=check, timeout=timeout)

    def container(self, service: str) -> str:
        ids = self.compose("ps", "--all", "--quiet", service).stdout.split()
        assert len(ids) == 1, f"{service}: containers {ids}"
        return ids[0]

    def inspect(self, service: str, template: str) -> str:
        return self.engine.docker("inspect", "--format", template, self.container(service)).stdout.strip()

    def logs_tail(self, service: str = "", lines: int = 60) -> str:
        services = [service] if service else []
        found = self.compose("logs", "--no-color", "--tail", str(lines), *services, check=False, timeout=120)
        return f"--- docker compose logs --tail {lines} {service} ---\n{found.stdout[-12000:]}{found.stderr[-2000:]}"

    def log(self, role: str) -> Path:
        """The role's log (for the process-level stack's failure messages): docker compose logs."""
        path = self.logs / f"{role}.log"
        path.write_text(self.logs_tail(role, 200))
        return path

    def _check_alive(self, role: str) -> None:
        """Containers restart by their policy: a wait rides over a restart instead of failing."""

    def sql(self, database: str, query: str) -> list[tuple[str, ...]]:
        """Rows from the stack's PostgreSQL, through psql in its container (its port is not published)."""
        answer = self.compose("exec", "-T", "postgres", "psql", "-U", "dagster", "-d", database, "-AtF", "\t",
                              "-v", "ON_ERROR_STOP=1", "-c", query)  # fmt: skip
        return [tuple(line.split("\t")) for line in answer.stdout.splitlines() if line]

    def runs(self) -> dict[str, dict]:
        found = self.graphql(RUNS)["runsOrError"]["results"]
        for run in found:
            run["tags"] = {tag["key"]: tag["value"] for tag in run["tags"]}
        return {run["runId"]: run for run in found}

    def sensor(self) -> dict:
        return self.graphql(SENSOR, {"selector": CSV_SENSOR})["sensorOrError"]["sensorState"]

    def wait_ready(self) -> None:
        self.wait_webserver(timeout=600)
        self.wait_daemon(timeout=600)

    @contextlib.contextmanager
    def explained(self, step: str):
        """A failure's message names the step and ends with the services' recent logs."""
        try:
            yield
        except AssertionError as exc:
            raise AssertionError(f"step '{step}': {exc}\n{self.logs_tail()}") from None


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    work = tmp_path_factory.mktemp("docker")
    with contextlib.ExitStack() as cleanup:
        started = time.monotonic()
        try:
            engine = cleanup.enter_context(docker_engine(work))
            images = base_images(engine)
        except DockerUnavailable as exc:
            pytest.skip(f"no Docker here: {exc}")
        prepared = time.monotonic() - started
        repo = work / "repo"
        files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                               capture_output=True, check=True).stdout.decode().split("\0")  # fmt: skip
        for name in filter(None, files):
            if (REPO / name).is_file():
                (repo / name).parent.mkdir(parents=True, exist_ok=True)
                (repo / name).write_bytes((REPO / name).read_bytes())
                (repo / name).chmod((REPO / name).stat().st_mode)
        compose = ComposeStack(engine, repo, work, images)
        compose.timings["engine_and_base_images_seconds"] = round(prepared, 1)
        compose.timings["own_engine"] = engine.own
        cleanup.callback(_tear_down, compose)
        compose.make("build", timeout=BUILD_TIMEOUT)
        compose.make("up")
        yield compose


def _tear_down(stack: ComposeStack) -> None:
    (stack.work / "compose.log").write_text(stack.logs_tail(lines=2000))
    stack.compose("down", "--volumes", "--remove-orphans", "--timeout", "20", check=False, timeout=600)
    TIMINGS.parent.mkdir(exist_ok=True)
    TIMINGS.write_text(json.dumps(stack.timings, indent=1) + "\n")


def test_the_full_stack_in_docker_as_the_readme_tells_a_user(stack):
    """One test, its steps in order on one stack: no scheduler can split them across lanes (and two
    engines on one data root cannot run)."""
    for step in (
        _the_ui_answers_on_the_published_port_and_the_roles_are_not_root,
        _a_backfill_through_the_webserver_survives_a_crashed_daemon_and_a_killed_webserver,
        _make_down_and_up_keep_runs_sensor_cursors_and_the_warehouse,
        _a_wrong_password_after_make_down_stops_the_roles_with_one_line,
    ):
        with stack.explained(step.__name__.strip("_").replace("_", " ")):
            step(stack)


def _the_ui_answers_on_the_published_port_and_the_roles_are_not_root(stack: ComposeStack) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{stack.web_port}/server_info", timeout=30) as answer:
        assert "dagster_webserver_version" in json.load(answer)
    stack.wait_ready()  # the code location loaded from the code server; every daemon healthy
    for role in ROLES:
        uid = stack.compose("exec", "-T", role, "id", "-u").stdout.strip()
        assert uid == "10001", f"{role} runs as uid {uid}"
        assert stack.inspect(role, "{{.Config.User}}") == "10001"
        assert stack.inspect(role, "{{.State.Health.Status}}") == "healthy", role
    size = stack.engine.docker("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout
    stack.timings["image_bytes"] = int(size)


def _a_backfill_through_the_webserver_survives_a_crashed_daemon_and_a_killed_webserver(stack: ComposeStack) -> None:
    started = time.monotonic()
    backfill_id = stack.launch_backfill(DATES[0], DATES[-1])
    in_flight = wait_for(
        "a run of the backfill to start",
        lambda: [run for run in stack.runs().values()
                 if run["tags"].get("dagster/backfill") == backfill_id and run["status"] == "STARTED"],
        stack.backfill_timeout, interval=2, log=stack.log("daemon"),
    )  # fmt: skip
    restarts = int(stack.inspect("daemon", "{{.RestartCount}}"))
    # The daemon crashes (its main process SIGKILLed, as the kernel's OOM killer would): the
    # compose file's restart policy starts it again. `docker kill` is a stop the user asked
    # for, to which Docker applies no restart policy: `make up` starts the webserver again.
    crashed = _crash(stack, "daemon")
    stack.engine.docker("kill", stack.container("webserver"))
    if crashed:
        wait_for("the restart policy to start the crashed daemon again",
                 lambda: int(stack.inspect("daemon", "{{.RestartCount}}")) > restarts
                 and stack.inspect("daemon", "{{.State.Running}}") == "true", 300)  # fmt: skip
    else:
        stack.engine.docker("kill", stack.container("daemon"))
    wait_for("the killed webserver to stop", lambda: stack.inspect("webserver", "{{.State.Running}}") == "false", 60)
    stack.make("up")
    stack.wait_ready()
    state = stack.wait_backfill_done(backfill_id)
    stack.timings["backfill_3_dates_seconds"] = round(time.monotonic() - started, 1)

    runs = [run for run in stack.runs().values() if run["tags"].get("dagster/backfill") == backfill_id]
    assert runs and all(run["status"] == "SUCCESS" for run in runs), runs
    assert {run["runId"] for run in state["runs"]} == {run["runId"] for run in runs}
    for run in in_flight:  # the run in flight during the kills finished, once
        assert any(r["runId"] == run["runId"] and r["status"] == "SUCCESS" for r in runs), run
    ranged = [(r["tags"]["dagster/asset_partition_range_start"], r["tags"]["dagster/asset_partition_range_end"])
              for r in runs if r["tags"].get("dagster/asset_partition_range_start")]  # fmt: skip
    assert ranged == [(DATES[0], DATES[-1])], f"the partitioned assets ran other than once: {ranged}"
    _check_warehouse(stack)


def _make_down_and_up_keep_runs_sensor_cursors_and_the_warehouse(stack: ComposeStack) -> None:
    cursor = json.dumps({"changed_ns": 1748736000000000000, "names": ["regional-global-daily-2025-06-01.csv"]})
    stack.graphql(SET_CURSOR, {"selector": CSV_SENSOR, "cursor": cursor})
    runs = {run_id: run["status"] for run_id, run in stack.runs().items()}
    assert runs and set(runs.values()) == {"SUCCESS"}, runs
    rows = stack.sql("spotify_charts", "select count(*) from marts.fct_chart_entries")

    stack.make("down")
    assert stack.compose("ps", "--all", "--quiet").stdout.strip() == "", "make down left containers"
    stack.make("up")
    stack.wait_ready()

    assert {run_id: run["status"] for run_id, run in stack.runs().items()} == runs
    sensor = stack.sensor()
    assert sensor["status"] == "RUNNING" and sensor["typeSpecificData"]["lastCursor"] == cursor, sensor
    assert stack.sql("spotify_charts", "select count(*) from marts.fct_chart_entries") == rows
    _check_warehouse(stack)


def _a_wrong_password_after_make_down_stops_the_roles_with_one_line(stack: ComposeStack) -> None:
    stack.make("down")
    stack.write_env("not-the-password-xyzzy")
    try:
        failed = stack.make("up", check=False)
        assert failed.returncode != 0, failed.stdout[-2000:]
        assert stack.inspect("migrate", "{{.State.ExitCode}}") == "3"
        # One line (README, "Running the full stack"): the database, host, port and user, then libpq's reason.
        logged = stack.compose("logs", "--no-color", "--no-log-prefix", "migrate").stdout.strip().splitlines()
        assert len(logged) == 1, logged
        prefix = (
            "spotify-charts migrate: cannot reach the Dagster instance's database 'dagster' on postgres:5432 "
            "as user 'dagster': "
        )
        assert logged[0].startswith(prefix), logged
        assert logged[0].endswith('FATAL:  password authentication failed for user "dagster"'), logged
        for role in ROLES:  # nothing after migrate was started
            assert stack.compose("ps", "--quiet", role).stdout.strip() == "", f"{role} is running"
        everything = stack.logs_tail(lines=5000) + failed.stdout + failed.stderr
        assert "not-the-password-xyzzy" not in everything and stack.password not in everything
    finally:
        stack.write_env(stack.password)


def _crash(stack: ComposeStack, service: str) -> bool:
    """SIGKILL the container's main process from the host. False, and nothing signalled, where the
    engine's pid of it is not that process here (an engine in a VM or another pid namespace)."""
    pid = int(stack.inspect(service, "{{.State.Pid}}"))
    try:
        process = psutil.Process(pid)
        if not any("spotify_charts.cli.stack" in part or "dagster" in part for part in process.cmdline()):
            return False
        process.send_signal(signal.SIGKILL)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    return True


def _check_warehouse(stack: ComposeStack) -> None:
    """Every chart on every date in staging and in the fact table, each rank once; the contract
    tables built; the dashboard written, naming both charts."""
    expected = sorted((chart, day, str(size), str(size)) for chart, size in CHARTS.items() for day in DATES)
    for table in ("staging.chart_entries", "marts.fct_chart_entries"):
        rows = stack.sql("spotify_charts", f"select chart_id, chart_date, count(*), count(distinct rank) "
                                           f"from {table} group by 1, 2 order by 1, 2")  # fmt: skip
        assert rows == expected, f"{table}: {rows}"
    tables = {row[0] for row in stack.sql("spotify_charts", "select table_name from information_schema.tables "
                                                            "where table_schema = 'marts'")}  # fmt: skip
    assert set(CONTRACT_TABLES) <= tables, sorted(set(CONTRACT_TABLES) - tables)
    page = stack.compose("exec", "-T", "webserver", "cat", "/opt/spotify-charts/data/dashboard/index.html").stdout
    assert "dashboard-data" in page and all(chart in page for chart in CHARTS), page[:2000]

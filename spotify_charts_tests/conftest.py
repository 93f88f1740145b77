"""Shared fixtures: the dbt manifest (prepared once), and a pipeline on temporary files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from spotify_charts_tests.support.helpers import SHARED_FIXTURES


def pytest_sessionstart(session: pytest.Session) -> None:
    """Hermetic settings, and dbt's manifest (the definitions module needs it at import time).

    The developer's own settings (`.env`, which make exports, or the shell) must not reach the
    tests: a SPOTIFY_CHARTS_SOURCE=api there would send them to the real service."""
    for name in [n for n in os.environ if n.startswith(("SPOTIFY_CHARTS_", "SPOTIFY_CLIENT_", "SPOTIFY_REFRESH"))]:
        del os.environ[name]
    os.environ.pop("SPOTIFY_ACCOUNTS_URL", None)

    from dagster_dbt import DbtCliResource

    from spotify_charts.defs.dbt_project import dbt_executable, dbt_project

    if not dbt_project.manifest_path.exists():
        DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()).cli(["parse"]).wait()


# `make test` runs the suite in two lanes (pytest-xdist, `-n 2 --dist loadgroup`): the tests that
# start Dagster's long-lived processes (the full stack, `dagster dev`, the daemon's dead-run tests)
# spend most of their time waiting on them, so they run beside the rest instead of after it. The
# lanes share nothing: each has its own PostgreSQL server, instances and folders, and only this
# lane's `dagster dev` rewrites dbt/target/manifest.json. Run alone (plain `pytest`), they are one.
PROCESS_LANE = {"test_stack.py", "test_definitions.py", "test_dead_runs.py"}
# The test of the Docker image and compose stack (test_docker.py) waits on builds and containers
# for minutes: it goes first, so one lane starts on it at once while the other takes the rest
# (xdist tops a lane up only when at most 2 of its tests are left). It is one test, so no scheduler
# splits it: with pytest 9.2 and pytest-xdist 3.8 the groups below do not reach the scheduler
# (xdist writes the group into `item._nodeid`, which pytest 9 no longer reads), so tests are
# handed out one by one, as with `--dist load`.
DOCKER_LANE = {"test_docker.py"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.path.name not in DOCKER_LANE)  # stable: the rest keep their order
    for item in items:
        lane = "processes" if item.path.name in PROCESS_LANE else "main"
        item.add_marker(pytest.mark.xdist_group(lane))


@pytest.fixture
def real_payload_bytes() -> bytes:
    return (SHARED_FIXTURES / "real-weekly-global-2023-01-26-top12.json").read_bytes()


@pytest.fixture
def pipeline_env(tmp_path: Path) -> dict[str, str]:
    """Settings for a pipeline on temporary files, two charts (one large, one small market)."""
    return {
        "SPOTIFY_CHARTS_DATA_DIR": str(tmp_path / "data"),
        "SPOTIFY_CHARTS_DUCKDB_PATH": str(tmp_path / "data" / "warehouse.duckdb"),
        "SPOTIFY_CHARTS_REGIONS": "global,ee",
    }


@pytest.fixture
def pipeline_resources(pipeline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict:
    for name, value in pipeline_env.items():
        monkeypatch.setenv(name, value)
    from spotify_charts.defs.resources import build_resources

    return build_resources()


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    """moto's S3 server for the session (spotify_charts_tests/s3.py)."""
    from spotify_charts_tests.support.s3 import moto_s3

    with moto_s3() as endpoint:
        yield endpoint


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty bucket of its own for the test, with boto3 pointed at the moto server by the
    environment, as a user points it at S3 (no AWS account or profile of the developer is used)."""
    import uuid

    import boto3

    from spotify_charts_tests.support.s3 import CREDENTIALS

    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in {**CREDENTIALS, "AWS_ENDPOINT_URL_S3": s3_endpoint}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    bucket = f"charts-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": CREDENTIALS["AWS_DEFAULT_REGION"]}
    )
    return bucket


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server for the session (spotify_charts_tests/postgres.py).

    Its folder is not under pytest's temporary folders: another pytest session of the same user
    prunes those while this server still runs."""
    import shutil
    import tempfile

    from spotify_charts_tests.support.postgres import running_postgres

    folder = Path(tempfile.mkdtemp(prefix="spotify-charts-postgres-"))
    try:
        with running_postgres(folder) as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_db(postgres_server):
    """An empty database of the test's own on the session's server."""
    import dataclasses
    import uuid

    name = f"charts_{uuid.uuid4().hex[:10]}"
    postgres_server.create_database(name)
    return dataclasses.replace(postgres_server, database=name)

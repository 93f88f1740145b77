"""The deployment's files agree with each other: compose.yaml is valid Compose (checked against the
Compose specification's JSON schema; no Docker engine here), gives every variable the production
dagster.yaml and workspace read, runs only roles the image's entrypoint knows, in the right order;
the Dockerfile builds the image those roles run in."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from spotify_charts.cli import stack

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "compose.yaml").read_text())
INSTANCE = yaml.safe_load((REPO / "deploy" / "dagster.yaml").read_text())
CHARTS_SERVICES = ["migrate", "code-server", "webserver", "daemon"]


def _env_names(node) -> set[str]:
    """Every `{env: NAME}` in a Dagster configuration."""
    if isinstance(node, dict):
        if set(node) == {"env"}:
            return {node["env"]}
        return set().union(*(_env_names(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(_env_names(v) for v in node)) if node else set()
    return set()


def test_compose_file_is_valid_against_the_compose_specification():
    schema_file = resources.files("check_jsonschema") / "builtin_schemas" / "vendor" / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(COMPOSE), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    broken = {**COMPOSE, "services": {**COMPOSE["services"], "daemon": {**COMPOSE["services"]["daemon"], "restrat": 1}}}
    assert list(validator.iter_errors(broken)), "the schema check accepts anything"


def test_every_variable_the_instance_and_workspace_read_is_set_for_every_dagster_service():
    workspace = yaml.safe_load((REPO / "deploy" / "workspace.yaml").read_text())
    needed = _env_names(INSTANCE) | _env_names(workspace)
    assert needed >= {"DAGSTER_PG_HOST", "DAGSTER_PG_PASSWORD", "DAGSTER_CODE_SERVER_HOST"}
    for name in CHARTS_SERVICES:
        service = COMPOSE["services"][name]
        assert needed <= set(service["environment"]), (name, needed - set(service["environment"]))
        assert service["image"] == COMPOSE["services"]["webserver"]["image"]  # one image, every role


def test_services_run_the_entrypoints_roles_in_order():
    services = COMPOSE["services"]
    roles = {name: services[name]["command"][0] for name in CHARTS_SERVICES}
    assert roles == {name: name for name in CHARTS_SERVICES}
    assert set(roles.values()) == set(stack.ROLES)
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["code-server"]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    for name in ("webserver", "daemon"):
        assert services[name]["depends_on"] == {"code-server": {"condition": "service_healthy"}}
    assert services["webserver"]["ports"] == ["${DAGSTER_WEBSERVER_PORT:-3000}:3000"]
    # The instance, the warehouse and the raw snapshots survive `down`/`up`.
    assert set(COMPOSE["volumes"]) == {"postgres-data", "charts-data", "dagster-storage"}
    # The raw store is chosen by the same variables as outside Docker.
    env = services["code-server"]["environment"]
    assert env["SPOTIFY_CHARTS_S3_BUCKET"] == "${SPOTIFY_CHARTS_S3_BUCKET:-}"


def test_production_instance_settings():
    postgres = INSTANCE["storage"]["postgres"]["postgres_db"]
    # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3, which is not installed.
    assert postgres["scheme"] == "postgresql+psycopg2"
    assert INSTANCE["run_retries"] == {"enabled": True, "max_retries": 2, "retry_on_asset_or_op_failure": False}
    assert INSTANCE["run_monitoring"]["enabled"] is True
    assert {"start_timeout_seconds", "cancel_timeout_seconds", "max_runtime_seconds"} <= set(INSTANCE["run_monitoring"])
    local = yaml.safe_load((REPO / "dagster.yaml").read_text())
    assert INSTANCE["concurrency"]["pools"] == local["concurrency"]["pools"]  # the warehouse pool, one slot


def test_dockerfile_builds_one_non_root_image_without_test_tools():
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "requirements.lock" in dockerfile and "requirements-dev.lock" not in dockerfile
    assert "prepare-and-package" in dockerfile  # the dbt manifest is baked in
    assert re.search(r"^USER 10001$", dockerfile, re.M)
    assert re.search(r"^HEALTHCHECK ", dockerfile, re.M)
    assert 'ENTRYPOINT ["python", "-m", "spotify_charts.cli.stack"]' in dockerfile
    assert "cp deploy/dagster.yaml" in dockerfile


def test_the_official_base_images_stay_the_defaults():
    """The Debian-built stand-ins (deploy/standin) are chosen by PYTHON_IMAGE / POSTGRES_IMAGE only."""
    dockerfile = (REPO / "Dockerfile").read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim-bookworm\nFROM \$\{PYTHON_IMAGE\}$", dockerfile, re.M)
    assert COMPOSE["services"]["postgres"]["image"] == "${POSTGRES_IMAGE:-postgres:17-bookworm}"


def test_instance_settings_are_read_from_the_production_file(tmp_path):
    (tmp_path / "dagster.yaml").write_text((REPO / "deploy" / "dagster.yaml").read_text())
    env = {"DAGSTER_PG_HOST": "db", "DAGSTER_PG_PORT": "5433", "DAGSTER_PG_USER": "u", "DAGSTER_PG_PASSWORD": "s3cret",
           "DAGSTER_PG_DB": "dagster"}  # fmt: skip
    db = stack.instance_database(tmp_path, env)
    assert db == {"host": "db", "port": 5433, "user": "u", "password": "s3cret", "dbname": "dagster"}
    assert "s3cret" not in stack.describe(db) and "'dagster' on db:5433" in stack.describe(db)
    with pytest.raises(stack.InstanceConfigError, match=r"\$DAGSTER_PG_PASSWORD, which is not set"):
        stack.instance_database(tmp_path, {k: v for k, v in env.items() if k != "DAGSTER_PG_PASSWORD"})
    (tmp_path / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
    assert stack.instance_database(tmp_path, env) is None  # the local instance: files, nothing to check

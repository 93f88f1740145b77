"""terraform/ read with python-hcl2 (no provider can be downloaded and no AWS account reached
here; checkov and `terraform fmt -check` run in `make lint`): secure by default, every variable
described and typed, no password anywhere Terraform keeps, and the wiring: every secret a task
injects exists and its execution role may read exactly those, every role a service uses exists
with a policy, the pipeline connects as its own user, and the ECS instance config reads what the
task definitions provide. The recorded API calls are checked against the policies in
test_aws_calls.py."""

from __future__ import annotations

import re

import pytest
import yaml

from spotify_charts import settings
from spotify_charts.cli.aws import WAREHOUSE_SCHEMAS
from spotify_charts_tests.support.helpers import REPO
from spotify_charts_tests.support.terraform import load_terraform, policy

README = REPO / "README.md"
SERVICE_TASKS = ("webserver", "daemon", "code", "run")


@pytest.fixture(scope="module")
def tf() -> dict[str, dict]:
    return load_terraform()


def refs(text: str, kind: str) -> set[str]:
    """Names of the `kind` resources an expression refers to: `local.x` -> x, and for a resource made
    with for_each its key (aws_secretsmanager_secret.this["spotify"] -> spotify)."""
    return {key or name for name, key in re.findall(rf'{kind}\.(\w+)(?:\["(\w+)"\])?', str(text))}


def container(tf: dict, name: str) -> str:
    """A task definition's container_definitions expression (jsonencode([...]) as text)."""
    return tf["resource"][f"aws_ecs_task_definition.{name}"]["container_definitions"]


def test_versions_are_pinned_and_every_variable_is_described_and_typed(tf):
    assert tf["terraform"]["required_version"] == ">= 1.6.0, < 2.0.0"
    (providers,) = tf["terraform"]["required_providers"]
    assert providers["aws"] == {"source": "hashicorp/aws", "version": "~> 6.0"}
    assert len(tf["variable"]) >= 25
    for name, body in tf["variable"].items():
        assert body.get("description") and body.get("type"), name
    assert tf["variable"]["warehouse"]["default"] == "redshift"


def test_the_bucket_is_private_encrypted_versioned_and_tls_only(tf):
    resources = tf["resource"]
    block = resources["aws_s3_bucket_public_access_block.charts"]
    assert all(
        block[k] is True
        for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    assert resources["aws_s3_bucket_ownership_controls.charts"]["rule"][0]["object_ownership"] == "BucketOwnerEnforced"
    sse = resources["aws_s3_bucket_server_side_encryption_configuration.charts"]["rule"][0]
    assert sse["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == "aws:kms"
    assert resources["aws_s3_bucket_versioning.charts"]["versioning_configuration"][0]["status"] == "Enabled"
    assert resources["aws_kms_key.data"]["enable_key_rotation"] is True
    (deny,) = tf["data"]["aws_iam_policy_document.bucket"]["statement"]
    assert deny["effect"] == "Deny" and deny["condition"][0]["variable"] == "aws:SecureTransport"
    assert deny["condition"][0]["values"] == ["false"]


def test_the_databases_are_private_encrypted_and_no_password_is_terraforms(tf):
    resources = tf["resource"]
    db = resources["aws_db_instance.instance"]
    assert db["manage_master_user_password"] is True and "password" not in db
    assert db["storage_encrypted"] is True and db["publicly_accessible"] is False
    assert db["backup_retention_period"] >= 7
    params = {p["name"]: p["value"] for p in resources["aws_db_parameter_group.instance"]["parameter"]}
    assert params["rds.force_ssl"] == "1"

    namespace = resources["aws_redshiftserverless_namespace.warehouse"]
    assert namespace["manage_admin_password"] is True and "admin_user_password" not in namespace
    assert namespace["kms_key_id"] == namespace["admin_password_secret_kms_key_id"] == "${aws_kms_key.data.arn}"
    workgroup = resources["aws_redshiftserverless_workgroup.warehouse"]
    assert workgroup["publicly_accessible"] is False and workgroup["enhanced_vpc_routing"] is True
    config = {p["parameter_key"]: p["parameter_value"] for p in workgroup["config_parameter"]}
    assert config["require_ssl"] == "true"

    # Both databases (and the interface endpoints) admit the tasks alone, each on its own port.
    reachable = tf["locals"]["reachable_from_tasks"]
    for name, port in (("instance", 5432), ("redshift", 5439), ("endpoints", 443)):
        assert re.search(rf"\b{name} = \{{port = {port}, ", reachable), name
    group, ingress = (
        resources[f"{kind}.from_tasks"] for kind in ("aws_security_group", "aws_vpc_security_group_ingress_rule")
    )
    assert group["for_each"] == ingress["for_each"] == "${local.reachable_from_tasks}"
    assert ingress["from_port"] == ingress["to_port"] == "${each.value.port}" and ingress["ip_protocol"] == "tcp"
    assert ingress["referenced_security_group_id"] == "${aws_security_group.tasks.id}" and "cidr_ipv4" not in ingress
    assert db["vpc_security_group_ids"] == ['${aws_security_group.from_tasks["instance"].id}']
    assert workgroup["security_group_ids"] == ['${aws_security_group.from_tasks["redshift"].id}']

    # Values never enter the state: no secret version, no generated password, no secret variable.
    kinds = {key.split(".")[0] for key in resources}
    assert not kinds & {"aws_secretsmanager_secret_version", "random_password", "random_string"}
    for name, body in tf["variable"].items():
        assert not re.search(r"password|secret|token|webhook", name) and not body.get("sensitive"), name
    for name, body in tf["output"].items():
        value = str(body.get("value"))
        assert "secret_string" not in value and ".password" not in value and not body.get("sensitive"), name
    for secret in [k for k in resources if k.startswith("aws_secretsmanager_secret.")]:
        assert resources[secret]["kms_key_id"] == "${aws_kms_key.data.arn}", secret


def test_data_protection_is_one_variable_on_by_default(tf):
    resources = tf["resource"]
    assert tf["variable"]["data_protection"]["default"] is True
    assert resources["aws_db_instance.instance"]["deletion_protection"] == "${var.data_protection}"
    assert resources["aws_db_instance.instance"]["skip_final_snapshot"] == "${!var.data_protection}"
    assert resources["aws_s3_bucket.charts"]["force_destroy"] == "${!var.data_protection}"
    assert resources["aws_ecr_repository.dagster"]["force_delete"] == "${!var.data_protection}"
    assert resources["aws_lb.webserver"]["enable_deletion_protection"] == "${var.data_protection}"
    assert tf["locals"]["secret_window"] == "${var.data_protection ? 30 : 0}"


def test_every_secret_a_task_injects_exists_and_only_its_execution_role_reads_it(tf):
    resources = tf["resource"]
    assert resources["aws_secretsmanager_secret.this"]["for_each"] == "${local.secrets}"
    secrets = set(tf["locals"]["secrets"])
    injected: set[str] = set()
    for task in SERVICE_TASKS:
        used = refs(container(tf, task), "local") & {"instance_secrets", "pipeline_secrets"}
        assert used, f"{task} injects no secrets"
        for local in used:
            injected |= refs(tf["locals"][local], "aws_secretsmanager_secret")
        assert resources[f"aws_ecs_task_definition.{task}"]["execution_role_arn"] == "${aws_iam_role.execution.arn}"
    assert injected <= secrets
    # the execution role reads exactly these: the list it is given is the union of the maps
    assert refs(tf["locals"]["injected_secret_arns"], "aws_secretsmanager_secret") == injected
    statement = [s for s in policy(tf, "execution") if s["actions"] == ["secretsmanager:GetSecretValue"]]
    assert [s["resources"] for s in statement] == ["${local.injected_secret_arns}"]
    # the runs and the code server get the Spotify credentials, the webhook, both users' passwords
    pipeline = tf["locals"]["pipeline_secrets"]
    assert set(pipeline) >= {"SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "SPOTIFY_REFRESH_TOKEN"}
    assert {"SPOTIFY_CHARTS_ALERT_WEBHOOK", "SPOTIFY_CHARTS_REDSHIFT_PASSWORD", "DAGSTER_PG_PASSWORD"} <= set(pipeline)
    for name in pipeline:
        assert name.startswith("DAGSTER_") or name in settings.BY_NAME, f"{name} is not a setting"
        assert name.startswith("DAGSTER_") or settings.BY_NAME[name].secret or name == "SPOTIFY_CLIENT_ID", name

    # The admin secrets reach the bootstrap task only, through an execution role of its own.
    bootstrap = tf["locals"]["bootstrap_secrets"]
    assert "master_user_secret" in bootstrap and "admin_password_secret_arn" in bootstrap
    for task in SERVICE_TASKS:
        assert "bootstrap_secrets" not in container(tf, task) and "admin" not in container(tf, task).lower()
    assert "local.bootstrap_secrets" in container(tf, "bootstrap")
    boot = resources["aws_ecs_task_definition.bootstrap"]
    assert boot["execution_role_arn"] == "${aws_iam_role.bootstrap_execution.arn}"
    (reads,) = [s for s in policy(tf, "bootstrap_execution") if "secretsmanager:GetSecretValue" in s["actions"]]
    assert reads["resources"] == "${local.bootstrap_secret_arns}"
    assert "master_user_secret" in tf["locals"]["bootstrap_secret_arns"]
    (writes,) = policy(tf, "bootstrap")[:1]
    assert writes["actions"] == ["secretsmanager:PutSecretValue"]
    assert refs(writes["resources"], "aws_secretsmanager_secret") == {"warehouse_user", "dagster_user"}


def test_every_role_a_service_uses_exists_trusts_ecs_and_has_its_policy(tf):
    resources = tf["resource"]
    expected = {
        "webserver": "dagster",
        "daemon": "dagster",
        "code": "pipeline",
        "run": "pipeline",
        "bootstrap": "bootstrap",
    }
    for task, role in expected.items():
        definition = resources[f"aws_ecs_task_definition.{task}"]
        assert definition["task_role_arn"] == f"${{aws_iam_role.{role}.arn}}", task
        assert definition["requires_compatibilities"] == ["FARGATE"] and definition["network_mode"] == "awsvpc"
    for role in set(expected.values()) | {"execution", "bootstrap_execution"}:
        assert (
            resources[f"aws_iam_role.{role}"]["assume_role_policy"]
            == "${data.aws_iam_policy_document.tasks_assume.json}"
        )
        attached = resources[f"aws_iam_role_policy.{role}"]
        assert attached["role"] == f"${{aws_iam_role.{role}.id}}"
        assert attached["policy"] == f"${{data.aws_iam_policy_document.{role}.json}}"
    # The task execution role is not a task role, and no task role is the execution role.
    for task in expected:
        assert (
            resources[f"aws_ecs_task_definition.{task}"]["task_role_arn"]
            != resources[f"aws_ecs_task_definition.{task}"]["execution_role_arn"]
        )

    for service, task in (("webserver", "webserver"), ("daemon", "daemon"), ("code", "code")):
        body = resources[f"aws_ecs_service.{service}"]
        assert body["task_definition"] == f"${{aws_ecs_task_definition.{task}.arn}}"
        (network,) = body["network_configuration"]
        assert network["assign_public_ip"] is False and network["security_groups"] == ["${aws_security_group.tasks.id}"]
    # the code server is found by name; the webserver and the daemon are told that name
    assert (
        resources["aws_ecs_service.code"]["service_registries"][0]["registry_arn"]
        == "${aws_service_discovery_service.code.arn}"
    )
    for task in ("webserver", "daemon"):
        assert "local.code_host" in container(tf, task)
        assert "DAGSTER_ECS_RUN_TASK_DEFINITION = aws_ecs_task_definition.run.arn" in container(tf, task)
    assert resources["aws_ecs_service.daemon"]["deployment_maximum_percent"] == 100  # never two daemons


def test_the_pipeline_connects_as_its_own_user_never_the_admin(tf):
    locals_ = tf["locals"]
    environment = locals_["redshift_environment"]
    assert environment["SPOTIFY_CHARTS_REDSHIFT_USER"] == "${local.redshift_user}"
    assert locals_["redshift_user"] != locals_["redshift_admin"]
    assert tf["resource"]["aws_redshiftserverless_namespace.warehouse"]["admin_username"] == "${local.redshift_admin}"
    assert locals_["postgres_environment"]["SPOTIFY_CHARTS_PG_USER"] == "${local.postgres_user}"
    assert locals_["instance_environment"]["DAGSTER_PG_USER"] == "${local.dagster_user}"
    assert tf["resource"]["aws_db_instance.instance"]["username"] == "${local.rds_admin}"
    assert locals_["rds_admin"] not in (locals_["postgres_user"], locals_["dagster_user"])
    # their passwords are the bootstrap's, not the admins'
    assert locals_["pipeline_secrets"]["SPOTIFY_CHARTS_REDSHIFT_PASSWORD"].startswith(
        '${aws_secretsmanager_secret.this["warehouse_user"].arn}'
    )
    assert locals_["pipeline_secrets"]["DAGSTER_PG_PASSWORD"].startswith(
        '${aws_secretsmanager_secret.this["dagster_user"].arn}'
    )


def test_the_ecs_instance_config_reads_what_the_task_definitions_provide(tf):
    config = yaml.safe_load((REPO / "deploy" / "ecs" / "dagster.yaml").read_text())
    wanted: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            if set(node) == {"env"}:
                wanted.add(node["env"])
            for value in node.values():
                walk(value)

    walk(config)
    provided = set(tf["locals"]["instance_environment"]) | set(tf["locals"]["instance_secrets"])
    provided.add("DAGSTER_ECS_RUN_TASK_DEFINITION")
    assert wanted <= provided, f"dagster.yaml reads {wanted - provided}, which no task definition sets"
    assert tf["locals"]["instance_environment"]["DAGSTER_HOME"] == "${local.dagster_home}"
    assert tf["locals"]["dagster_home"].endswith("/deploy/ecs")
    assert config["run_launcher"]["class"] == "EcsRunLauncher"
    assert config["compute_logs"]["class"] == "S3ComputeLogManager"
    assert "postgres" in config["storage"]


def test_the_pipelines_environment_is_documented_settings(tf):
    documented = README.read_text()
    for local in ("redshift_environment", "postgres_environment"):
        for name in tf["locals"][local]:
            assert name in settings.BY_NAME and f"`{name}`" in documented, name
    assert tf["output"]["pipeline_environment"]["value"] == "${local.pipeline_environment}"
    for name in ("SPOTIFY_CHARTS_SOURCE", "SPOTIFY_CHARTS_S3_BUCKET", "SPOTIFY_CHARTS_WAREHOUSE"):
        assert name in tf["locals"]["pipeline_environment"]


def test_the_bootstrap_owns_every_schema_dbt_builds_into():
    """The pipeline's user may create nothing outside its schemas, so the bootstrap must give it
    every schema dbt writes (from the manifest) and the loader's."""
    import json

    manifest = json.loads((REPO / "dbt" / "target" / "manifest.json").read_text())
    schemas = {
        node["schema"] for node in manifest["nodes"].values() if node["resource_type"] in ("model", "seed", "snapshot")
    }
    schemas |= {source["schema"] for source in manifest["sources"].values()}
    assert schemas <= set(WAREHOUSE_SCHEMAS), f"dbt writes {schemas - set(WAREHOUSE_SCHEMAS)}"


def test_the_images_logs_and_network_are_locked_down(tf):
    resources = tf["resource"]
    repo = resources["aws_ecr_repository.dagster"]
    assert (
        repo["image_tag_mutability"] == "IMMUTABLE" and repo["image_scanning_configuration"][0]["scan_on_push"] is True
    )
    assert "aws_ecr_lifecycle_policy.dagster" in resources
    logs = resources["aws_cloudwatch_log_group.dagster"]
    assert logs["kms_key_id"] == "${aws_kms_key.data.arn}" and logs["retention_in_days"] == "${var.log_retention_days}"
    assert tf["variable"]["webserver_access"]["default"] == "private"
    assert resources["aws_lb.webserver"]["internal"] == "${!local.public_ui}"
    https = resources["aws_lb_listener.webserver_https"]
    assert https["protocol"] == "HTTPS" and https["default_action"][0]["type"] == "authenticate-cognito"
    assert resources["aws_vpc_endpoint.s3"]["vpc_endpoint_type"] == "Gateway"
    assert tf["locals"]["interface_endpoint_services"].count("ecr.api") == 1

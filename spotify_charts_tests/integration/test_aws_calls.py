"""The IAM policies in terraform/ against the AWS calls the code really makes: each test runs the
real code against moto's server (S3, ECS, EC2, CloudWatch Logs), records every API call with its
parameters, and checks each against the policy of the role that would make it in the deployment
(support/terraform.py resolves the policy's ARNs and evaluates it). A call the policy does not
allow would fail in AWS with AccessDenied; a grant no call needs is flagged too."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
import yaml

from spotify_charts.ingest import fetch_snapshots, load_staging
from spotify_charts.sources.sample import SampleSource
from spotify_charts.storage import snapshot_key
from spotify_charts.storage.local import LocalFileStore
from spotify_charts.storage.s3 import S3FileStore
from spotify_charts_tests.support.helpers import REPO
from spotify_charts_tests.support.redshift import Connection, RecordedRedshift
from spotify_charts_tests.support.terraform import (
    ACCOUNT,
    NAME,
    PREFIX,
    REGION,
    Call,
    Resolver,
    allowed,
    arns,
    load_terraform,
    policy,
)

ALIASES = ["regional-global-daily", "regional-ee-daily"]
DATES = [dt.date(2025, 6, 1) + dt.timedelta(days=i) for i in range(2)]


@pytest.fixture(scope="module")
def tf() -> dict[str, dict]:
    return load_terraform()


def s3_recorder(client) -> list[Call]:
    """Record each S3 call the client makes as the IAM action and resource that authorise it
    (AWS's "Actions, resources, and condition keys for Amazon S3": HeadObject is authorised by
    s3:GetObject, HeadBucket and ListObjectsV2 by s3:ListBucket, DeleteObjects by s3:DeleteObject
    on each key)."""
    calls: list[Call] = []

    def record(params, model, **_) -> None:
        bucket = f"arn:aws:s3:::{params['Bucket']}"
        name = model.name
        if name in ("PutObject", "GetObject", "HeadObject"):
            action = "s3:PutObject" if name == "PutObject" else "s3:GetObject"
            calls.append(Call(action, f"{bucket}/{params['Key']}"))
        elif name == "ListObjectsV2":
            calls.append(Call("s3:ListBucket", bucket, (("s3:prefix", params.get("Prefix", "")),)))
        elif name == "HeadBucket":
            calls.append(Call("s3:ListBucket", bucket))
        elif name == "DeleteObjects":
            calls.extend(Call("s3:DeleteObject", f"{bucket}/{o['Key']}") for o in params["Delete"]["Objects"])
        else:
            calls.append(Call(f"s3:UNMAPPED:{name}", bucket))

    client.meta.events.register("provide-client-params.s3.*", record)
    return calls


def test_the_pipeline_role_allows_what_the_s3_store_calls(tf, s3_bucket):
    """Every S3 operation S3FileStore makes in a run (write, look up what is stored, read, miss)
    is allowed by the role's policy, and the role grants no S3 action the pipeline never uses."""
    client = boto3.client("s3")
    calls = s3_recorder(client)
    store = S3FileStore(client, s3_bucket, prefix=PREFIX)
    keys = [snapshot_key("regional-ee-daily", dt.date(2025, 6, d)) for d in (1, 2)]
    store.write(keys[0], b"snapshot")
    assert store.existing(keys) == {keys[0]} and not store.exists(keys[1])
    assert store.read_many(keys) == [b"snapshot", None]

    statements, resolve = policy(tf, "pipeline"), Resolver(tf, arns(s3_bucket))
    assert {c.action for c in calls} == {"s3:PutObject", "s3:GetObject", "s3:ListBucket"}
    for call in calls:
        assert allowed(statements, call, resolve), call
    # Objects only under the prefix; listing unconditioned, or S3 would answer a missing key with
    # 403 instead of 404 and the store could not tell "not stored yet" from "denied".
    assert not allowed(statements, Call("s3:GetObject", f"arn:aws:s3:::{s3_bucket}/other/x"), resolve)
    (listing,) = [s for s in statements if s["actions"] == ["s3:ListBucket"]]
    assert "condition" not in listing
    granted = {a for s in statements for a in s["actions"] if a.startswith("s3:")}
    assert granted == {"s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"}


def test_a_redshift_load_is_allowed_to_delete_its_files_and_nothing_else(tf, s3_bucket, tmp_path):
    """The defect this fixes: the loader deletes its Parquet files after COPY, which the role did
    not allow, so every load would commit and then fail. The recorded calls of a real load (the
    pipeline's: write, delete; Redshift's COPY role's: list, read) are each allowed, DeleteObject
    exactly on {prefix}/staging-loads/ and nowhere else, and the COPY role reads nothing else."""
    raw = LocalFileStore(tmp_path / "raw")
    fetch_snapshots(SampleSource(), raw, ALIASES, DATES)
    pipeline_client, copy_client = boto3.client("s3"), boto3.client("s3")
    pipeline_calls, copy_calls = s3_recorder(pipeline_client), s3_recorder(copy_client)
    connection = Connection(copy_client=copy_client)
    store = S3FileStore(pipeline_client, s3_bucket, prefix=PREFIX)
    assert load_staging(raw, RecordedRedshift(store, connection), ALIASES, DATES, "sample").entry_rows == 500
    assert sum(t.num_rows for t in connection.copied["staging.chart_entries"]) == 500

    resolve = Resolver(tf, arns(s3_bucket))
    loads = f"arn:aws:s3:::{s3_bucket}/{PREFIX}/staging-loads/"
    deletes = [c for c in pipeline_calls if c.action == "s3:DeleteObject"]
    assert deletes and all(c.resource.startswith(loads) for c in deletes)
    for call in pipeline_calls:
        assert allowed(policy(tf, "pipeline"), call, resolve), call
    assert {c.action for c in copy_calls} == {"s3:ListBucket", "s3:GetObject"}
    for call in copy_calls:
        assert allowed(policy(tf, "redshift_copy"), call, resolve), call

    raw_snapshot = f"arn:aws:s3:::{s3_bucket}/{PREFIX}/raw/spotify-charts/regional-ee-daily/2025-06-01.json.gz"
    for role in ("pipeline", "redshift_copy", "dagster"):
        assert not allowed(policy(tf, role), Call("s3:DeleteObject", raw_snapshot), resolve), role
        assert not allowed(
            policy(tf, role), Call("s3:DeleteObject", f"arn:aws:s3:::{s3_bucket}/staging-loads/x"), resolve
        )
    assert not allowed(policy(tf, "redshift_copy"), Call("s3:GetObject", raw_snapshot), resolve)
    listing_raw = Call("s3:ListBucket", f"arn:aws:s3:::{s3_bucket}", (("s3:prefix", f"{PREFIX}/raw/"),))
    assert not allowed(policy(tf, "redshift_copy"), listing_raw, resolve)
    (decrypt,) = [s for s in policy(tf, "redshift_copy") if s["actions"] == ["kms:Decrypt"]]
    assert decrypt["resources"] == ["${aws_kms_key.data.arn}"]


# --- EcsRunLauncher, from deploy/ecs/dagster.yaml, against moto's ECS


class _TaskMetadata(BaseHTTPRequestHandler):
    """The ECS agent's task metadata endpoint (v4) as the daemon's task sees it."""

    answer: dict = {}

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        body = json.dumps(self.answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def task_metadata(cluster: str, task_arn: str) -> Iterator[str]:
    handler = type(
        "Metadata", (_TaskMetadata,), {"answer": {"Cluster": cluster, "TaskARN": task_arn, "Name": "daemon"}}
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@pytest.fixture
def ecs_deployment(s3_bucket, s3_endpoint, monkeypatch):
    """moto's ECS, EC2 and Logs with what Terraform creates for runs: the cluster, the run task
    definition (its roles, secrets, log group) and the daemon's own running task in a private
    subnet and the tasks' security group."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)  # every service, not only S3
    monkeypatch.setenv("AWS_REGION", REGION)
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # as network.tf
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.0.0/20")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=f"{NAME}-tasks", Description="tasks", VpcId=vpc)["GroupId"]
    boto3.client("logs").create_log_group(logGroupName=f"/{NAME}/run")
    ecs = boto3.client("ecs")
    cluster = ecs.create_cluster(clusterName=NAME)["cluster"]["clusterArn"]
    role = f"arn:aws:iam::{ACCOUNT}:role/{NAME}"

    def register(family: str, container: str) -> str:
        return ecs.register_task_definition(
            family=family,
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="1024",
            memory="4096",
            taskRoleArn=f"{role}-pipeline" if container == "run" else f"{role}-dagster",
            executionRoleArn=f"{role}-execution",
            containerDefinitions=[{
                "name": container,
                "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{NAME}:test",
                "essential": True,
                "memory": 4096,  # moto sums the containers' memory (Fargate reads the task's)
                "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": f"/{NAME}/{container}", "awslogs-region": REGION,
                    "awslogs-stream-prefix": container}},
            }],
        )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip

    run_definition = register(f"{NAME}-run", "run")
    daemon_definition = register(f"{NAME}-daemon", "daemon")
    network = {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group], "assignPublicIp": "DISABLED"}}
    daemon = ecs.run_task(
        cluster=cluster, taskDefinition=daemon_definition, launchType="FARGATE", networkConfiguration=network
    )
    return {"cluster": cluster, "run_definition": run_definition, "daemon_task": daemon["tasks"][0]["taskArn"],
            "subnet": subnet, "group": group, "bucket": s3_bucket}  # fmt: skip


def ecs_recorder() -> list[tuple[str, dict]]:
    """Record the ECS, EC2 and Logs calls of every client created from now on (the launcher makes
    its clients, and its first call, when the instance first builds it)."""
    calls: list[tuple[str, dict]] = []

    def record(params, model, **_) -> None:
        prefix = model.service_model.endpoint_prefix
        if prefix in ("ecs", "ec2", "logs"):
            calls.append((f"{prefix}:{model.name}", dict(params)))

    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("provide-client-params.*", record)
    return calls


def iam_calls(calls: list[tuple[str, dict]], registered: dict[str, dict]) -> list[Call]:
    """Each API call as what IAM authorises, including what RunTask implies: ecs:TagResource on
    the task when it carries tags, and iam:PassRole for the task definition's two roles."""
    tasks = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{NAME}/"
    out: list[Call] = []
    for name, params in calls:
        service, operation = name.split(":")
        action = f"{service}:{operation}"
        if operation == "RunTask":
            definition = registered[params["taskDefinition"]]
            out.append(Call(action, params["taskDefinition"], (("ecs:cluster", params["cluster"]),)))
            if params.get("tags"):
                out.append(Call("ecs:TagResource", tasks + "new", (("ecs:CreateAction", "RunTask"),)))
            out.extend(
                Call("iam:PassRole", definition[k], (("iam:PassedToService", "ecs-tasks.amazonaws.com"),))
                for k in ("taskRoleArn", "executionRoleArn")
            )
        elif operation in ("DescribeTasks", "StopTask"):
            for task in params.get("tasks", [params.get("task")]):
                out.append(Call(action, task))
        elif operation == "GetLogEvents":
            out.append(
                Call(
                    action,
                    f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{params['logGroupName']}:log-stream:{params['logStreamName']}",
                )
            )
        else:  # DescribeTaskDefinition, DescribeNetworkInterfaces: no resource-level permission
            out.append(Call(action, "*"))
    return out


def test_the_dagster_role_allows_what_ecs_run_launcher_calls(tf, ecs_deployment, postgres_db, tmp_path, monkeypatch):
    """A real EcsRunLauncher, configured by deploy/ecs/dagster.yaml with the environment Terraform
    gives the daemon, launches a run of the project's code location as a Fargate task sized by the
    run's tags, checks on it and terminates it, all against moto. Every call it makes is allowed by
    the daemon's task role ("dagster"; the webserver's has the same less starting runs)."""
    import dagster as dg
    from dagster._core.launcher import LaunchRunContext
    from dagster._core.test_utils import create_run_for_test, in_process_test_workspace
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    deployment = ecs_deployment
    config = yaml.safe_load((REPO / "deploy" / "ecs" / "dagster.yaml").read_text())
    # The only change: the embedded test server speaks no TLS (RDS forces it).
    config["storage"]["postgres"]["postgres_db"]["params"]["sslmode"] = "disable"
    config["compute_logs"]["config"]["local_dir"] = str(tmp_path / "compute-logs")
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    environment = {
        "DAGSTER_PG_HOST": postgres_db.host, "DAGSTER_PG_PORT": str(postgres_db.port),
        "DAGSTER_PG_DB": postgres_db.database, "DAGSTER_PG_USER": postgres_db.user,
        "DAGSTER_PG_PASSWORD": postgres_db.password,
        "DAGSTER_COMPUTE_LOGS_BUCKET": deployment["bucket"], "DAGSTER_COMPUTE_LOGS_PREFIX": f"{PREFIX}/compute-logs",
        "DAGSTER_ECS_RUN_TASK_DEFINITION": deployment["run_definition"],
    }  # fmt: skip
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    with task_metadata(deployment["cluster"], deployment["daemon_task"]) as metadata_uri:
        monkeypatch.setenv("ECS_CONTAINER_METADATA_URI_V4", metadata_uri)
        calls = ecs_recorder()
        with dg.DagsterInstance.from_config(str(home)) as instance:
            launcher = instance.run_launcher
            assert type(launcher).__name__ == "EcsRunLauncher"
            origin = LoadableTargetOrigin(module_name="spotify_charts.definitions", working_directory=str(REPO))
            with in_process_test_workspace(instance, origin) as workspace:
                location = workspace.code_locations[0]
                repository = next(iter(location.get_repositories().values()))
                job = repository.get_full_job(sorted(j.name for j in repository.get_all_jobs())[0])
                run = create_run_for_test(
                    instance, job_name=job.name, remote_job_origin=job.get_remote_origin(),
                    job_code_origin=job.get_python_origin(), tags={"ecs/cpu": "2048", "ecs/memory": "8192"},
                )  # fmt: skip
                launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=workspace))
                run = instance.get_run_by_id(run.run_id)
                assert launcher.check_run_worker_health(run).status.value == "RUNNING"
                assert launcher.terminate(run.run_id) is True
                # a task that stopped: the launcher reads its last log lines for the failure message
                launcher.check_run_worker_health(instance.get_run_by_id(run.run_id))

    names = [name for name, _ in calls]
    assert set(names) == {"ecs:DescribeTaskDefinition", "ecs:RunTask", "ecs:DescribeTasks", "ecs:StopTask",
                          "ec2:DescribeNetworkInterfaces"}  # fmt: skip
    (run_task,) = [params for name, params in calls if name == "ecs:RunTask"]
    # the run's task: the run task definition, the daemon's network, sized by the run's tags
    assert run_task["taskDefinition"] == deployment["run_definition"] and run_task["cluster"] == deployment["cluster"]
    vpc = run_task["networkConfiguration"]["awsvpcConfiguration"]
    assert vpc["subnets"] == [deployment["subnet"]] and vpc["securityGroups"] == [deployment["group"]]
    assert run_task["overrides"]["cpu"] == "2048" and run_task["overrides"]["memory"] == "8192"
    assert run_task["overrides"]["containerOverrides"][0]["name"] == "run"
    assert {"key": "dagster/run_id", "value": run.run_id} in run_task["tags"]

    ecs = boto3.client("ecs")
    registered = {
        deployment["run_definition"]: ecs.describe_task_definition(taskDefinition=deployment["run_definition"])[
            "taskDefinition"
        ]
    }
    known = arns(deployment["bucket"])
    resolve = Resolver(tf, known)
    statements = policy(tf, "dagster")
    for call in iam_calls(calls, registered):
        assert allowed(statements, call, resolve), call
    # One call moto cannot provoke (its stopped tasks report no failed container): for a run
    # whose task failed, dagster_aws.ecs.utils.get_task_logs reads the task's log stream,
    # "{awslogs-stream-prefix}/{container}/{task id}" in the run task definition's log group.
    stream = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/{NAME}/run:log-stream:run/run/0123456789abcdef"
    assert allowed(statements, Call("logs:GetLogEvents", stream), resolve)
    assert tf["locals"]["log_configuration"].count("awslogs-stream-prefix = role") == 1

    # and what it may not do: start another task definition, or pass another role
    other = Call(
        "ecs:RunTask",
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{NAME}-bootstrap:1",
        (("ecs:cluster", deployment["cluster"]),),
    )
    assert not allowed(statements, other, resolve)
    assert not allowed(
        statements,
        Call(
            "iam:PassRole",
            f"arn:aws:iam::{ACCOUNT}:role/{NAME}-bootstrap",
            (("iam:PassedToService", "ecs-tasks.amazonaws.com"),),
        ),
        resolve,
    )
    assert os.environ["DAGSTER_ECS_RUN_TASK_DEFINITION"] == deployment["run_definition"]

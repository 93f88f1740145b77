"""`make test-aws`: one partition through a DEPLOYED stack (terraform/), for people with an AWS
account. Not part of `make test` (outside pytest's testpaths) and never run by CI.

It starts the run task definition as a one-off Fargate task in the deployment's cluster, on the
built-in sample source for one region few deployments collect (Iceland) and one early date, so
it touches no real chart data: raw snapshot to S3, staging by Redshift COPY, dbt on Redshift, the
dashboard to S3. Then it checks the rows through the Redshift Data API (as the pipeline's own
user) and the objects in S3, and removes what it created: the snapshot, the staging and fact rows
of that chart and date. Aggregate marts keep the test chart until the next full dbt build, and
the dashboard is rewritten by the test run (it is rebuilt by the next daily run).

Needs: AWS credentials allowed to run tasks in the cluster, pass its roles, read the pipeline
user's secret, use the Data API and read/delete in the bucket; and `terraform output -json` in
AWS_STACK_OUTPUTS (the Makefile writes it). Without them it is skipped, saying why.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

CHART = "regional-is-daily"
DATE = "2017-01-01"


def stack_outputs() -> dict:
    path = os.environ.get("AWS_STACK_OUTPUTS", "")
    if not path or not Path(path).is_file() or not Path(path).read_text().strip().startswith("{"):
        pytest.skip(
            "no deployed stack: AWS_STACK_OUTPUTS is not `terraform output -json` of one", allow_module_level=True
        )
    outputs = {name: body["value"] for name, body in json.loads(Path(path).read_text()).items()}
    if outputs.get("pipeline_environment", {}).get("SPOTIFY_CHARTS_WAREHOUSE") != "redshift":
        pytest.skip("the deployed stack's warehouse is not redshift")
    return outputs


@pytest.fixture(scope="module")
def outputs() -> dict:
    """The stack's outputs, or a skip that says why (no credentials, no stack)."""
    import boto3

    if boto3.Session().get_credentials() is None:
        pytest.skip("no AWS credentials (environment, profile or SSO session)")
    return stack_outputs()


def redshift_rows(outputs: dict, sql: str) -> list[list]:
    import boto3

    data = boto3.client("redshift-data", region_name=outputs["region"])
    env = outputs["pipeline_environment"]
    statement = data.execute_statement(
        WorkgroupName=outputs["ecs_cluster"],  # the workgroup is named after the deployment
        Database=env["SPOTIFY_CHARTS_REDSHIFT_DATABASE"],
        SecretArn=outputs["secret_arns"]["warehouse_user"],
        Sql=sql,
    )["Id"]
    while (status := data.describe_statement(Id=statement))["Status"] not in ("FINISHED", "FAILED", "ABORTED"):
        time.sleep(2)
    assert status["Status"] == "FINISHED", status.get("Error")
    if not status.get("HasResultSet"):
        return []
    return [[next(iter(v.values())) for v in row] for row in data.get_statement_result(Id=statement)["Records"]]


def test_one_partition_through_the_deployed_path(outputs):
    import boto3

    region, env = outputs["region"], outputs["pipeline_environment"]
    ecs, s3 = boto3.client("ecs", region_name=region), boto3.client("s3", region_name=region)
    cluster, boot = outputs["ecs_cluster"], outputs["bootstrap"]
    network = {"subnets": boot["subnets"], "securityGroups": [boot["security_group"]], "assignPublicIp": "DISABLED"}
    command = ["dagster", "asset", "materialize", "-m", "spotify_charts.definitions", "--select", "*"]
    sample = [{"name": "SPOTIFY_CHARTS_SOURCE", "value": "sample"}, {"name": "SPOTIFY_CHARTS_REGIONS", "value": "is"}]
    prefix = env["SPOTIFY_CHARTS_S3_PREFIX"]
    snapshot = f"{prefix}/raw/spotify-charts/{CHART}/{DATE}.json.gz".lstrip("/")
    task = ecs.run_task(
        cluster=cluster,
        taskDefinition=f"{cluster}-run",  # the family: its latest revision
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": network},
        overrides={
            "containerOverrides": [{"name": "run", "command": [*command, "--partition", DATE], "environment": sample}]
        },
    )["tasks"][0]["taskArn"]
    try:
        ecs.get_waiter("tasks_stopped").wait(
            cluster=cluster, tasks=[task], WaiterConfig={"Delay": 15, "MaxAttempts": 120}
        )
        (container,) = ecs.describe_tasks(cluster=cluster, tasks=[task])["tasks"][0]["containers"]
        assert container.get("exitCode") == 0, f"the run task failed: see the log group /{cluster}/run ({task})"

        assert s3.head_object(Bucket=env["SPOTIFY_CHARTS_S3_BUCKET"], Key=snapshot)["ContentLength"] > 0
        dashboard = f"{prefix}/dashboard/index.html".lstrip("/")
        assert s3.head_object(Bucket=env["SPOTIFY_CHARTS_S3_BUCKET"], Key=dashboard)["ContentLength"] > 0
        scope = f"chart_id = '{CHART}' and chart_date = '{DATE}'"
        assert redshift_rows(outputs, f"select count(*) from staging.chart_entries where {scope}") == [[50]]
        assert redshift_rows(outputs, f"select count(*) from marts.fct_chart_entries where {scope}") == [[50]]
        # the loader's Parquet files are gone (the role may delete them now)
        loads = s3.list_objects_v2(
            Bucket=env["SPOTIFY_CHARTS_S3_BUCKET"], Prefix=f"{prefix}/staging-loads/".lstrip("/")
        )
        assert loads.get("KeyCount", 0) == 0
    finally:
        ecs.stop_task(cluster=cluster, task=task, reason="test-aws cleanup")
        s3.delete_object(Bucket=env["SPOTIFY_CHARTS_S3_BUCKET"], Key=snapshot)
        for table in ("staging.chart_entry_artists", "staging.chart_entries", "marts.fct_chart_entries"):
            redshift_rows(outputs, f"delete from {table} where chart_id = '{CHART}' and chart_date = '{DATE}'")


def test_the_services_run_and_pass_their_health_checks(outputs):
    """What only Fargate shows: the image starts in each role, reaches RDS with its certificate
    verified (every role checks the instance database first), and its ECS health check passes."""
    import boto3

    if not outputs.get("services_running"):
        pytest.skip("no image pushed yet (make push)")
    ecs = boto3.client("ecs", region_name=outputs["region"])
    cluster = outputs["ecs_cluster"]
    services = ecs.describe_services(cluster=cluster, services=outputs["ecs_services"])["services"]
    for service in services:
        assert service["runningCount"] == service["desiredCount"] == 1, service["serviceName"]
        tasks = ecs.list_tasks(cluster=cluster, serviceName=service["serviceName"])["taskArns"]
        for task in ecs.describe_tasks(cluster=cluster, tasks=tasks)["tasks"]:
            assert task["healthStatus"] == "HEALTHY", (service["serviceName"], task["taskArn"])


def test_every_log_group_aws_writes_for_the_stack_expires_and_uses_the_key(outputs):
    """The log group names AWS services use (RDS, Redshift, Container Insights) are declared in
    terraform/dagster.tf from AWS's documented patterns; a group a service created by itself
    instead would have no retention and no key."""
    import boto3

    logs = boto3.client("logs", region_name=outputs["region"])
    name = outputs["ecs_cluster"]
    prefixes = [f"/aws/rds/instance/{name}-instance/", f"/aws/ecs/containerinsights/{name}/", "/aws/redshift/"]
    groups = [
        group
        for prefix in prefixes
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=prefix)
        for group in page["logGroups"]
        if name in group["logGroupName"]
    ]
    assert groups, "no log group of the stack's services found"
    for group in groups:
        assert group.get("retentionInDays") and group.get("kmsKeyId"), group["logGroupName"]

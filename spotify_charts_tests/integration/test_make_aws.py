"""The Makefile's AWS targets (docs/aws.md), run by `make` with stand-ins for `terraform`, `aws` and
`docker` on PATH that answer like a deployed stack and record every command line: the region
comes from the stack's state (never the caller's default), `make push` uses one image tag for
build, push and apply and a later `terraform_deploy` keeps it, and `terraform_destroy` refuses
while the applied stack protects its data."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from spotify_charts_tests.support.helpers import REPO

STACK_REGION = "ap-northeast-1"

# Answers `terraform -chdir=terraform output [-raw|-json] [NAME]` from $FAKE_OUTPUTS and records
# every call; `aws` and `docker` record and answer what the recipes read.
FAKE = r"""#!/usr/bin/env python3
import json, os, sys
name = os.path.basename(sys.argv[0])
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps([name, *args]) + "\n")
if name == "terraform":
    args = [a for a in args if not a.startswith("-chdir=")]
    if args[:1] == ["output"]:
        outputs = json.load(open(os.environ["FAKE_OUTPUTS"]))
        rest = args[1:]
        if rest and rest[0] == "-raw":
            print(outputs[rest[1]], end="")
        elif rest and rest[0] == "-json":
            print(json.dumps(outputs[rest[1]] if len(rest) > 1 else {k: {"value": v} for k, v in outputs.items()}))
elif name == "python":  # the project's interpreter (PY), for aws-secrets and test-aws
    with open(os.environ["FAKE_LOG"], "a") as log:
        log.write(json.dumps(["python-env", os.environ.get("AWS_REGION"), os.environ.get("AWS_STACK_OUTPUTS")]) + "\n")
    sys.stdin.read() if "--outputs" in args else None
elif name == "aws":
    if args[:2] == ["ecs", "run-task"]:
        print("arn:aws:ecs:ap-northeast-1:123456789012:task/spotify-charts/abc")
    elif args[:2] == ["ecs", "describe-tasks"]:
        print("0")
    elif args[:2] == ["ecs", "list-tasks"]:
        print("arn:aws:ecs:ap-northeast-1:123456789012:task/spotify-charts/abc")
    elif args[:2] == ["redshift-serverless", "get-snapshot"]:
        print("AVAILABLE")
    elif args[:2] == ["ecr", "get-login-password"]:
        print("password")
"""


@pytest.fixture
def stack(tmp_path: Path):
    """A fake deployed stack: the stand-ins on PATH, their outputs, a tfvars and backend file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("terraform", "aws", "docker", "python"):
        path = bin_dir / tool
        path.write_text(FAKE)
        path.chmod(0o755)
    outputs = {
        "region": STACK_REGION,
        "ecs_cluster": "spotify-charts",
        "ecs_services": ["spotify-charts-webserver", "spotify-charts-daemon", "spotify-charts-code"],
        "bootstrap": {"task_definition": "arn:td", "subnets": ["subnet-1"], "security_group": "sg-1"},
        "ecr_repository_url": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/spotify-charts",
        "cpu_architecture": "X86_64",
        "webserver_url": "https://dagster.example.com",
        "services_running": "true",
        "data_protection": "true",
        "warehouse": "redshift",
        "redshift_namespace": "spotify-charts",
        "rds_instance": "spotify-charts-instance",
        "kms_key_arn": "arn:aws:kms:ap-northeast-1:123456789012:key/0000-test",
        "image_tag": "0123456789ab-20261207230000",
    }
    (tmp_path / "outputs.json").write_text(json.dumps(outputs))
    (tmp_path / "terraform.tfvars").write_text('bucket_name = "x"\n')
    (tmp_path / "backend.hcl").write_text('bucket = "state"\n')
    log = tmp_path / "calls.jsonl"

    def make(target: str, outputs_update: dict | None = None) -> tuple[subprocess.CompletedProcess, list[list[str]]]:
        if outputs_update:
            outputs.update(outputs_update)
            (tmp_path / "outputs.json").write_text(json.dumps(outputs))
        log.write_text("")
        env = {
            **os.environ,
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "FAKE_LOG": str(log),
            "FAKE_OUTPUTS": str(tmp_path / "outputs.json"),
            "AWS_REGION": "us-east-1",  # the caller's default, which the targets must not use
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        result = subprocess.run(
            [
                "make", "--no-print-directory", "-C", str(REPO), target,
                f"TFVARS={tmp_path / 'terraform.tfvars'}", f"BACKEND={tmp_path / 'backend.hcl'}",
                f"TAG_FILE={tmp_path / 'image-tag'}", f"PY={bin_dir / 'python'}",
                f"AWS_OUTPUTS={tmp_path / 'aws-outputs.json'}",
            ],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        calls = [json.loads(line) for line in log.read_text().splitlines()]
        return result, calls

    make.tag_file = tmp_path / "image-tag"  # type: ignore[attr-defined]
    return make


def region_of(call: list[str]) -> str | None:
    return call[call.index("--region") + 1] if "--region" in call else None


def test_bootstrap_and_ui_call_aws_in_the_stacks_region(stack):
    for target in ("aws-bootstrap", "aws-ui"):
        result, calls = stack(target)
        assert result.returncode == 0, result.stdout + result.stderr
        aws_calls = [c for c in calls if c[0] == "aws"]
        assert aws_calls, target
        for call in aws_calls:
            assert region_of(call) == STACK_REGION, (target, shlex.join(call))
    bootstrap, calls = stack("aws-bootstrap")
    restarted = [c for c in calls if c[1:3] == ["ecs", "update-service"]]
    assert len(restarted) == 3 and all("--force-new-deployment" in c for c in restarted)


def test_push_uses_one_tag_and_a_later_deploy_keeps_it(stack):
    result, calls = stack("push")
    assert result.returncode == 0, result.stdout + result.stderr
    (build,) = [c for c in calls if c[:2] == ["docker", "build"]]
    (pushed,) = [c for c in calls if c[:2] == ["docker", "push"]]
    image = build[build.index("-t") + 1]
    tag = image.rsplit(":", 1)[1]
    assert pushed[2] == image and stack.tag_file.read_text().strip() == tag
    (apply,) = [c for c in calls if c[0] == "terraform" and "apply" in c]
    assert f"image_tag={tag}" in apply
    login = [c for c in calls if c[:3] == ["aws", "ecr", "get-login-password"]]
    assert login and region_of(login[0]) == STACK_REGION

    result, calls = stack("terraform_deploy")
    assert result.returncode == 0, result.stdout + result.stderr
    (plan,) = [c for c in calls if c[0] == "terraform" and "plan" in c]
    assert f"image_tag={tag}" in plan  # not rolled back to the tfvars' (or no) tag
    (init,) = [c for c in calls if c[0] == "terraform" and "init" in c]
    assert any(a.startswith("-backend-config=") and a.endswith("backend.hcl") for a in init)


def test_a_first_deploy_passes_no_image_tag(stack):
    result, calls = stack("terraform_deploy", {"services_running": "false", "image_tag": ""})
    assert result.returncode == 0, result.stdout + result.stderr
    (plan,) = [c for c in calls if c[0] == "terraform" and "plan" in c]
    assert not any(a.startswith("image_tag=") for a in plan)
    assert "make push" in result.stdout


def test_destroy_refuses_while_the_data_is_protected(stack):
    result, calls = stack("terraform_destroy")
    assert result.returncode != 0 and "data_protection is on" in result.stdout + result.stderr
    assert not [c for c in calls if c[0] == "terraform" and "destroy" in c]
    assert not [c for c in calls if c[0] == "aws"]


def test_destroy_snapshots_the_databases_and_keeps_their_key_when_protection_is_off(stack):
    result, calls = stack("terraform_destroy", {"data_protection": "false"})
    assert result.returncode == 0, result.stdout + result.stderr
    snapshot = next(i for i, c in enumerate(calls) if c[1:3] == ["redshift-serverless", "create-snapshot"])
    rds = next(i for i, c in enumerate(calls) if c[1:3] == ["rds", "create-db-snapshot"])
    destroy = next(i for i, c in enumerate(calls) if c[0] == "terraform" and "destroy" in c)
    assert snapshot < destroy and region_of(calls[snapshot]) == STACK_REGION
    assert calls[snapshot][calls[snapshot].index("--namespace-name") + 1] == "spotify-charts"
    assert rds < destroy and region_of(calls[rds]) == STACK_REGION
    assert calls[rds][calls[rds].index("--db-instance-identifier") + 1] == "spotify-charts-instance"
    # The key that encrypts the snapshots leaves the state before the destroy, which would
    # otherwise schedule its deletion; the output says which key to delete later.
    forget = next(i for i, c in enumerate(calls) if c[0] == "terraform" and c[2:4] == ["state", "rm"])
    assert calls[forget][4:] == ["aws_kms_key.data"] and forget < destroy
    assert "arn:aws:kms:ap-northeast-1:123456789012:key/0000-test" in result.stdout

    # PostgreSQL as the warehouse: the RDS snapshot holds it; there is no namespace.
    result, calls = stack("terraform_destroy", {"warehouse": "postgres"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert [c[1:3] for c in calls if c[0] == "aws" and "wait" not in c] == [["rds", "create-db-snapshot"]]


def test_a_deploy_from_a_clone_without_the_tag_file_keeps_the_running_tag(stack):
    """terraform/.image-tag is local and git-ignored: from another clone, terraform_deploy takes
    the tag from the applied stack instead of applying no tag (which stops every service)."""
    assert not stack.tag_file.exists()
    result, calls = stack("terraform_deploy")
    assert result.returncode == 0, result.stdout + result.stderr
    (plan,) = [c for c in calls if c[0] == "terraform" and "plan" in c]
    assert "image_tag=0123456789ab-20261207230000" in plan


def test_the_first_push_creates_the_database_users(stack):
    """The first image starts the services, which need the users the bootstrap task creates: that
    push runs aws-bootstrap after its apply; a later push does not."""
    result, calls = stack("push", {"services_running": "false"})
    assert result.returncode == 0, result.stdout + result.stderr
    apply = next(i for i, c in enumerate(calls) if c[0] == "terraform" and "apply" in c)
    run_task = next(i for i, c in enumerate(calls) if c[1:3] == ["ecs", "run-task"])
    assert apply < run_task and region_of(calls[run_task]) == STACK_REGION

    result, calls = stack("push", {"services_running": "true"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert not [c for c in calls if c[1:3] == ["ecs", "run-task"]]


def test_secrets_and_the_live_test_run_in_the_stacks_region(stack):
    for target in ("aws-secrets", "test-aws"):
        result, calls = stack(target)
        assert result.returncode == 0, result.stdout + result.stderr
        runs = [c for c in calls if c[0] == "python-env"]
        assert runs and all(region == STACK_REGION for _, region, _ in runs[-1:]), (target, runs)
    assert runs[-1][2].endswith("aws-outputs.json")

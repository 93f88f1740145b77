"""terraform/ read with python-hcl2 (for what `terraform test` cannot check: the policies against the
calls the code really makes, files beside terraform/), and a small IAM evaluator:
it resolves a policy document's `${...}` references to the ARNs a test deployment would have and
answers whether a statement allows an action on a resource (with the StringLike / StringEquals /
ArnEquals conditions the project's policies use). Enough to check recorded API calls against the
policies; not a full IAM simulator (no Deny statements, no permission boundaries)."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path

import hcl2

TERRAFORM = Path(__file__).resolve().parents[2] / "terraform"
ACCOUNT = "123456789012"
REGION = "eu-west-1"
NAME = "spotify-charts"
PREFIX = "prod"


def plain(value):
    """python-hcl2 keeps string quotes and adds block markers; drop both."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def load_terraform() -> dict[str, dict]:
    """{block kind: {"type.name" or name: body}} over every .tf file; locals merged into one dict."""
    blocks: dict[str, dict] = {}
    for path in sorted(TERRAFORM.glob("*.tf")):
        with path.open() as handle:
            parsed = plain(hcl2.load(handle))
        for kind, entries in parsed.items():
            for entry in entries:
                if kind == "locals":
                    blocks.setdefault("locals", {}).update(entry)
                    continue
                for key, body in entry.items():
                    if kind in ("resource", "data"):
                        for name, inner in body.items():
                            blocks.setdefault(kind, {})[f"{key}.{name}"] = inner
                    else:
                        blocks.setdefault(kind, {})[key] = body
    return blocks


def arns(bucket: str) -> dict[str, str]:
    """The attributes a test deployment's resources would have, by reference."""
    role = f"arn:aws:iam::{ACCOUNT}:role/{NAME}"
    ecs = f"arn:aws:ecs:{REGION}:{ACCOUNT}"
    log_group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/{NAME}"
    return {
        "aws_s3_bucket.charts.arn": f"arn:aws:s3:::{bucket}",
        "aws_s3_bucket.charts.bucket": bucket,
        "aws_kms_key.data.arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0000-test",
        "local.key_prefix": f"{PREFIX}/",
        "local.partition": "aws",
        "local.region": REGION,
        "local.account_id": ACCOUNT,
        "var.name": NAME,
        "aws_ecs_cluster.dagster.name": NAME,
        "aws_ecs_cluster.dagster.arn": f"{ecs}:cluster/{NAME}",
        "aws_ecs_task_definition.run.arn_without_revision": f"{ecs}:task-definition/{NAME}-run",
        **{f"aws_iam_role.{r}.arn": f"{role}-{r.replace('_', '-')}" for r in ("pipeline", "execution", "dagster")},
        **{
            f'aws_cloudwatch_log_group.dagster["{g}"].arn': f"{log_group}/{g}"
            for g in ("run", "webserver", "daemon", "code")
        },
    }


@dataclass
class Resolver:
    """Replaces `${reference}` with known values, following locals; an unknown reference fails."""

    tf: dict
    known: dict[str, str]
    seen: set[str] = field(default_factory=set)

    def __call__(self, text: str) -> str:
        return re.sub(r"\$\{([^{}]+)\}", lambda m: self.lookup(m.group(1).strip()), text)

    def lookup(self, reference: str) -> str:
        if reference in self.known:
            return self.known[reference]
        if reference.startswith("local.") and isinstance(self.tf["locals"].get(reference[6:]), str):
            return self(self.tf["locals"][reference[6:]])
        raise KeyError(f"the test does not know the value of ${{{reference}}}")


@dataclass(frozen=True)
class Call:
    """One authorised request: the IAM action, the resource ARN, and condition keys it carries."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


def _matches(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern)


def statement_allows(statement: dict, call: Call, resolve: Resolver) -> bool:
    if statement.get("effect", "Allow") != "Allow":
        return False
    if not any(_matches(a, call.action) for a in statement["actions"]):
        return False
    resources = statement["resources"]
    resources = [resources] if isinstance(resources, str) else resources
    if not any(_matches(resolve(r), call.resource) for r in resources):
        return False
    context = dict(call.context)
    for condition in statement.get("condition", []):
        value = context.get(condition["variable"])
        wanted = [resolve(v) for v in condition["values"]]
        if value is None:
            return False
        if condition["test"] == "StringLike" and not any(_matches(w, value) for w in wanted):
            return False
        if condition["test"] in ("StringEquals", "ArnEquals") and value not in wanted:
            return False
    return True


def allowed(statements: list[dict], call: Call, resolve: Resolver) -> bool:
    return any(statement_allows(s, call, resolve) for s in statements)


def policy(tf: dict, name: str) -> list[dict]:
    return tf["data"][f"aws_iam_policy_document.{name}"]["statement"]

"""terraform/ read with python-hcl2 (no provider can be downloaded and no AWS account reached
here; checkov runs in `make lint`): secure by default, every variable described and typed, no
password anywhere, and the pipeline's IAM policy grants exactly the S3 calls S3FileStore makes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import boto3
import hcl2
import pytest

from spotify_charts.storage import snapshot_key
from spotify_charts.storage.s3 import S3FileStore

TERRAFORM = Path(__file__).resolve().parents[2] / "terraform"
README = Path(__file__).resolve().parents[2] / "README.md"

# The IAM action that authorises each S3 API operation (AWS's "Actions, resources, and condition
# keys for Amazon S3": HeadObject is authorised by s3:GetObject, HeadBucket by s3:ListBucket).
IAM_ACTION = {
    "PutObject": "s3:PutObject",
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "ListObjectsV2": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
}


def plain(value):
    """python-hcl2 keeps string quotes and adds block markers; drop both."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


@pytest.fixture(scope="module")
def tf() -> dict[str, dict]:
    """{block kind: {"type.name" or name: body}} over every .tf file."""
    blocks: dict[str, dict] = {}
    for path in sorted(TERRAFORM.glob("*.tf")):
        with path.open() as handle:
            parsed = plain(hcl2.load(handle))
        for kind, entries in parsed.items():
            for entry in entries:
                for key, body in entry.items():
                    if kind in ("resource", "data"):
                        for name, inner in body.items():
                            blocks.setdefault(kind, {})[f"{key}.{name}"] = inner
                    else:
                        blocks.setdefault(kind, {})[key] = body
    return blocks


def test_versions_are_pinned_and_every_variable_is_described_and_typed(tf):
    assert tf["terraform"]["required_version"] == ">= 1.6.0, < 2.0.0"
    (providers,) = tf["terraform"]["required_providers"]
    assert providers["aws"] == {"source": "hashicorp/aws", "version": "~> 6.0"}
    assert len(tf["variable"]) >= 10
    for name, body in tf["variable"].items():
        assert body.get("description") and body.get("type"), name


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


def test_the_warehouse_is_private_encrypted_and_its_password_is_never_terraforms(tf):
    db = tf["resource"]["aws_db_instance.warehouse"]
    assert db["manage_master_user_password"] is True and "password" not in db
    assert db["storage_encrypted"] is True and db["publicly_accessible"] is False
    assert db["deletion_protection"] is True and db["backup_retention_period"] >= 7
    params = {p["name"]: p["value"] for p in tf["resource"]["aws_db_parameter_group.warehouse"]["parameter"]}
    assert params["rds.force_ssl"] == "1"
    ingress = tf["resource"]["aws_vpc_security_group_ingress_rule.warehouse_from_pipeline"]
    assert ingress["from_port"] == ingress["to_port"] == 5432 and "cidr_ipv4" not in ingress
    for name, body in tf["variable"].items():
        assert "password" not in name and not body.get("sensitive"), name
    for name, body in tf["output"].items():
        assert "password" not in str(body.get("value")).replace("password_secret", ""), name


def test_the_outputs_are_the_pipelines_documented_settings(tf):
    settings = tf["output"]["pipeline_environment"]["value"]
    documented = README.read_text()
    assert set(settings) >= {"SPOTIFY_CHARTS_S3_BUCKET", "SPOTIFY_CHARTS_WAREHOUSE", "SPOTIFY_CHARTS_PG_HOST"}
    for name in settings:
        assert f"`{name}`" in documented, f"{name} is not in README's Configuration"


def test_the_pipeline_role_allows_exactly_what_the_s3_store_calls(tf, s3_bucket):
    """Every S3 operation S3FileStore makes in a run (write, look up what is stored, read, miss)
    is allowed by the role's policy, and the policy allows nothing the store never calls."""
    statements = tf["data"]["aws_iam_policy_document.pipeline"]["statement"]
    allowed = {action for s in statements for action in s["actions"] if action.startswith("s3:")}

    client = boto3.client("s3")
    called: set[str] = set()
    client.meta.events.register("before-call.s3.*", lambda model, **_: called.add(model.name))
    store = S3FileStore(client, s3_bucket, prefix="prod")
    keys = [snapshot_key("regional-ee-daily", dt.date(2025, 6, d)) for d in (1, 2)]
    store.write(keys[0], b"snapshot")
    assert store.existing(keys) == {keys[0]} and not store.exists(keys[1])
    assert store.read_many(keys) == [b"snapshot", None]

    assert called <= set(IAM_ACTION), f"unmapped S3 operations: {called - set(IAM_ACTION)}"
    assert {IAM_ACTION[name] for name in called} == allowed
    # Objects only under the prefix; listing unconditioned, or S3 would answer a missing key with
    # 403 instead of 404 and the store could not tell "not stored yet" from "denied".
    (objects,) = [s for s in statements if "s3:GetObject" in s["actions"]]
    assert objects["resources"] == ["${aws_s3_bucket.charts.arn}/${local.key_prefix}*"]
    (listing,) = [s for s in statements if s["actions"] == ["s3:ListBucket"]]
    assert "condition" not in listing

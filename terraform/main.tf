# The AWS production path of spotify-charts: an S3 bucket for raw snapshots, the dashboard and
# Dagster's compute logs; the warehouse (Redshift Serverless, or PostgreSQL on RDS); Dagster on ECS
# Fargate (webserver, daemon, code server, one task per run) with its storage in RDS PostgreSQL.
# Secure by default: nothing public, everything encrypted with a key of the project's own, TLS
# required, every password created by Secrets Manager or by the bootstrap task (never a variable,
# an output or a value in state). Files: main.tf (key, bucket, the pipeline's role), network.tf,
# warehouse.tf, instance.tf, secrets.tf, dagster.tf (ECS), access.tf (the UI's load balancer).
# Checked by `make lint` (terraform validate, terraform test over tests/*.tftest.hcl, checkov,
# terraform fmt); see docs/aws.md.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  redshift   = var.warehouse == "redshift"
  # Keys the pipeline writes and reads: "{prefix}/raw/spotify-charts/...", "{prefix}/dashboard/...",
  # "{prefix}/staging-loads/..." (the Redshift loader's Parquet files), "{prefix}/compute-logs/...".
  key_prefix    = var.s3_prefix == "" ? "" : "${var.s3_prefix}/"
  loads_prefix  = "${local.key_prefix}staging-loads/"
  logs_prefix   = "${local.key_prefix}compute-logs/"
  objects_arn   = "${aws_s3_bucket.charts.arn}/${local.key_prefix}*"
  loads_arn     = "${aws_s3_bucket.charts.arn}/${local.loads_prefix}*"
  logs_arn      = "${aws_s3_bucket.charts.arn}/${local.logs_prefix}*"
  secret_window = var.data_protection ? 30 : 0
}

################################################################################
# Encryption key (bucket, database, its secret and Performance Insights)
################################################################################

data "aws_iam_policy_document" "key" {
  # In a key policy "*" is the key itself; the account's root delegates its use to IAM policies
  # (the roles below). This is the KMS default key policy, plus CloudWatch Logs, which encrypts
  # the project's log groups and has no IAM role to delegate to.
  #checkov:skip=CKV_AWS_109:key policy, resource "*" is this key
  #checkov:skip=CKV_AWS_111:key policy, resource "*" is this key
  #checkov:skip=CKV_AWS_356:key policy, resource "*" is this key
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogsEncryptsTheProjectsLogGroups"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values = concat(
        ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/${var.name}/*"],
        [for name in values(local.service_log_groups) : "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${name}"],
      )
    }
  }
}

resource "aws_kms_key" "data" {
  description             = "${var.name}: bucket, warehouse, Dagster's storage, secrets, logs and images"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.key.json
}

resource "aws_kms_alias" "data" {
  name          = "alias/${var.name}-data"
  target_key_id = aws_kms_key.data.key_id
}

################################################################################
# Bucket: raw snapshots and the dashboard
################################################################################

resource "aws_s3_bucket" "charts" {
  #checkov:skip=CKV_AWS_18:access logs need a second bucket; CloudTrail data events are the recommended audit trail
  #checkov:skip=CKV_AWS_144:cross-region replication is a disaster-recovery choice left to the operator
  #checkov:skip=CKV2_AWS_62:nothing consumes bucket events (sensors poll the charts service, not the bucket)
  bucket = var.bucket_name

  # With data_protection off (a deliberate teardown), destroy empties the bucket first.
  force_destroy = !var.data_protection
}

resource "aws_s3_bucket_public_access_block" "charts" {
  bucket                  = aws_s3_bucket.charts.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "charts" {
  bucket = aws_s3_bucket.charts.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "charts" {
  bucket = aws_s3_bucket.charts.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.data.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "charts" {
  bucket = aws_s3_bucket.charts.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "charts" {
  bucket = aws_s3_bucket.charts.id

  rule {
    id     = "expire-old-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  rule {
    id     = "expire-compute-logs"
    status = "Enabled"
    filter {
      prefix = local.logs_prefix
    }
    expiration {
      days = var.compute_log_days
    }
  }

  # A load's Parquet files are deleted when it ends; this catches a task killed in between.
  rule {
    id     = "expire-stray-staging-loads"
    status = "Enabled"
    filter {
      prefix = local.loads_prefix
    }
    expiration {
      days = 2
    }
  }

  depends_on = [aws_s3_bucket_versioning.charts]
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.charts.arn, "${aws_s3_bucket.charts.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "charts" {
  bucket = aws_s3_bucket.charts.id
  policy = data.aws_iam_policy_document.bucket.json

  depends_on = [aws_s3_bucket_public_access_block.charts]
}

################################################################################
# The pipeline's role: the code server's and every run's task role. Exactly what the code calls:
# S3FileStore (snapshots, dashboard, the Redshift loader's Parquet files), S3ComputeLogManager.
################################################################################

data "aws_iam_policy_document" "tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "pipeline" {
  name               = "${var.name}-pipeline"
  description        = "Dagster code server and runs of ${var.name}: chart snapshots, dashboard, staging loads, compute logs"
  assume_role_policy = data.aws_iam_policy_document.tasks_assume.json
}

data "aws_iam_policy_document" "pipeline" {
  # Listing is not limited to the prefix on purpose: S3 answers 404 for a missing key only to a
  # caller that may list the bucket (403 otherwise), and the store must tell "no snapshot yet"
  # from "access denied". A prefix condition would not apply to those HEAD/GET requests.
  statement {
    sid       = "ListTheBucket"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.charts.arn]
  }

  statement {
    sid       = "ReadAndWriteTheirObjects"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = [local.objects_arn]
  }

  # The Redshift loader removes its Parquet files after COPY (RedshiftWarehouse.replace_charts);
  # nothing else of the pipeline deletes, so DeleteObject is granted on that prefix only.
  statement {
    sid       = "DeleteTheirStagingLoads"
    actions   = ["s3:DeleteObject"]
    resources = [local.loads_arn]
  }

  statement {
    sid       = "UseTheDataKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.data.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "pipeline" {
  name   = "charts-bucket"
  role   = aws_iam_role.pipeline.id
  policy = data.aws_iam_policy_document.pipeline.json
}

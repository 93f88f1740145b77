# The AWS production path of spotify-charts: a bucket for raw snapshots and the dashboard, a
# PostgreSQL warehouse, and the IAM role the Dagster tasks run as. Secure by default: nothing
# public, everything encrypted with a key of the project's own, TLS required, the database password
# created and rotated by Secrets Manager (never a variable, an output or a value in state you
# commit). Checked statically by `make lint` (python-hcl2 in the tests, checkov); see README.md.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # Keys the pipeline writes and reads: "{prefix}/raw/spotify-charts/...", "{prefix}/dashboard/...".
  key_prefix = var.s3_prefix == "" ? "" : "${var.s3_prefix}/"
}

################################################################################
# Encryption key (bucket, database, its secret and Performance Insights)
################################################################################

data "aws_iam_policy_document" "key" {
  # In a key policy "*" is the key itself; the account's root delegates its use to IAM policies
  # (the pipeline's below). This is the KMS default key policy.
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
}

resource "aws_kms_key" "data" {
  description             = "${var.name}: raw snapshots, dashboard and warehouse"
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
# The pipeline's role (Dagster's tasks on ECS): exactly what S3RawStore calls
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
  description        = "Dagster tasks of ${var.name}: read and write chart snapshots and the dashboard"
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
    resources = ["${aws_s3_bucket.charts.arn}/${local.key_prefix}*"]
  }

  statement {
    sid       = "UseTheDataKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.data.arn]
  }
}

resource "aws_iam_role_policy" "pipeline" {
  name   = "charts-bucket"
  role   = aws_iam_role.pipeline.id
  policy = data.aws_iam_policy_document.pipeline.json
}

################################################################################
# Warehouse: PostgreSQL (SPOTIFY_CHARTS_WAREHOUSE=postgres)
################################################################################

resource "aws_db_subnet_group" "warehouse" {
  name       = "${var.name}-warehouse"
  subnet_ids = var.database_subnet_ids
}

resource "aws_security_group" "warehouse" {
  name        = "${var.name}-warehouse"
  description = "PostgreSQL warehouse of ${var.name}: reachable from the pipeline's tasks only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "warehouse_from_pipeline" {
  security_group_id            = aws_security_group.warehouse.id
  description                  = "PostgreSQL from the Dagster tasks"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = var.pipeline_security_group_id
}

resource "aws_db_parameter_group" "warehouse" {
  name   = "${var.name}-warehouse"
  family = "postgres17"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
  parameter {
    name  = "log_min_duration_statement"
    value = "5000"
  }
  parameter {
    name  = "log_statement"
    value = "ddl"
  }
}

data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  name               = "${var.name}-rds-monitoring"
  assume_role_policy = data.aws_iam_policy_document.monitoring_assume.json
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  role       = aws_iam_role.monitoring.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "warehouse" {
  identifier     = "${var.name}-warehouse"
  engine         = "postgres"
  engine_version = "17"
  instance_class = var.database_instance_class
  db_name        = "spotify_charts"
  username       = "spotify_charts"

  # The password is created, stored and rotated by Secrets Manager; it never passes through
  # Terraform's variables or outputs.
  manage_master_user_password   = true
  master_user_secret_kms_key_id = aws_kms_key.data.arn

  allocated_storage     = var.database_storage_gb
  max_allocated_storage = var.database_storage_gb * 4
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.data.arn

  db_subnet_group_name   = aws_db_subnet_group.warehouse.name
  vpc_security_group_ids = [aws_security_group.warehouse.id]
  publicly_accessible    = false
  multi_az               = true
  parameter_group_name   = aws_db_parameter_group.warehouse.name

  iam_database_authentication_enabled = true
  backup_retention_period             = 7
  copy_tags_to_snapshot               = true
  deletion_protection                 = true
  skip_final_snapshot                 = false
  final_snapshot_identifier           = "${var.name}-warehouse-final"
  auto_minor_version_upgrade          = true
  enabled_cloudwatch_logs_exports     = ["postgresql", "upgrade"]
  monitoring_interval                 = 60
  monitoring_role_arn                 = aws_iam_role.monitoring.arn
  performance_insights_enabled        = true
  performance_insights_kms_key_id     = aws_kms_key.data.arn
}

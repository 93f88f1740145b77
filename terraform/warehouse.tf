# The warehouse (warehouse = "redshift", the default): a Redshift Serverless namespace and
# workgroup, private, encrypted with the project's key, enhanced VPC routing (COPY reads the bucket
# through the VPC's S3 endpoint), TLS required, the admin password created and rotated by Secrets
# Manager. The pipeline never connects as the admin: the bootstrap task (dagster.tf) creates its
# own user with grants on its schemas only and stores that password in the secret below.

locals {
  redshift_database  = "spotify_charts"
  redshift_admin     = "charts_admin"
  redshift_user      = "spotify_charts"
  postgres_warehouse = "spotify_charts"
  postgres_user      = "spotify_charts"
  redshift_logs      = ["userlog", "connectionlog", "useractivitylog"]
}

################################################################################
# The role Redshift assumes for COPY: read the loader's Parquet files, nothing else
################################################################################

data "aws_iam_policy_document" "redshift_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "redshift_copy" {
  count              = local.redshift ? 1 : 0
  name               = "${var.name}-redshift-copy"
  description        = "Assumed by the ${var.name} Redshift workgroup to COPY the staging loader's Parquet files"
  assume_role_policy = data.aws_iam_policy_document.redshift_assume.json
}

data "aws_iam_policy_document" "redshift_copy" {
  statement {
    sid       = "ListTheStagingLoads"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.charts.arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.loads_prefix}*"]
    }
  }

  statement {
    sid       = "ReadTheStagingLoads"
    actions   = ["s3:GetObject"]
    resources = [local.loads_arn]
  }

  statement {
    sid       = "DecryptThem"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.data.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "redshift_copy" {
  count  = local.redshift ? 1 : 0
  name   = "staging-loads"
  role   = aws_iam_role.redshift_copy[0].id
  policy = data.aws_iam_policy_document.redshift_copy.json
}

################################################################################
# Redshift Serverless
################################################################################

resource "aws_redshiftserverless_namespace" "warehouse" {
  count          = local.redshift ? 1 : 0
  namespace_name = var.name
  db_name        = local.redshift_database
  admin_username = local.redshift_admin

  # The admin password is created, stored and rotated by Secrets Manager: never a variable, an
  # output or a value in state. Only the bootstrap task reads it.
  manage_admin_password            = true
  admin_password_secret_kms_key_id = aws_kms_key.data.arn
  kms_key_id                       = aws_kms_key.data.arn

  iam_roles            = [aws_iam_role.redshift_copy[0].arn]
  default_iam_role_arn = aws_iam_role.redshift_copy[0].arn
  log_exports          = local.redshift_logs

  depends_on = [aws_cloudwatch_log_group.services] # its log groups, with retention and the key
}

resource "aws_redshiftserverless_workgroup" "warehouse" {
  count          = local.redshift ? 1 : 0
  namespace_name = aws_redshiftserverless_namespace.warehouse[0].namespace_name
  workgroup_name = var.name
  base_capacity  = var.redshift_base_capacity
  max_capacity   = var.redshift_max_capacity

  publicly_accessible  = false
  enhanced_vpc_routing = true
  subnet_ids           = local.private_subnet_ids
  security_group_ids   = [aws_security_group.from_tasks["redshift"].id]

  # The provider reads back every parameter, also those not set here, so a plan may show a change
  # to config_parameter after each apply (terraform-provider-aws#33916; docs/aws.md). Not
  # ignored: that would hide a real change to require_ssl too.
  config_parameter {
    parameter_key   = "require_ssl"
    parameter_value = "true"
  }
  config_parameter {
    parameter_key   = "enable_user_activity_logging"
    parameter_value = "true"
  }
}

resource "aws_redshiftserverless_usage_limit" "rpu_hours" {
  count         = local.redshift && var.redshift_rpu_hours_per_day > 0 ? 1 : 0
  resource_arn  = aws_redshiftserverless_workgroup.warehouse[0].arn
  usage_type    = "serverless-compute"
  amount        = var.redshift_rpu_hours_per_day
  period        = "daily"
  breach_action = "deactivate"
}

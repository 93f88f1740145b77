# Dagster's instance storage (runs, events, schedules) in RDS PostgreSQL: database "dagster" and a
# user of its own, "dagster", created by the bootstrap task. With warehouse = "postgres" the same
# server also holds the warehouse, database "spotify_charts", owned by the pipeline's own user.
# The RDS admin password is managed by Secrets Manager and only the bootstrap task reads it.

locals {
  dagster_database = "dagster"
  dagster_user     = "dagster"
  rds_admin        = "charts_admin"
}

resource "aws_db_subnet_group" "instance" {
  name       = "${var.name}-instance"
  subnet_ids = local.private_subnet_ids
}

resource "aws_db_parameter_group" "instance" {
  name   = "${var.name}-instance"
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

resource "aws_db_instance" "instance" {
  #checkov:skip=CKV_AWS_161:no user logs in with IAM tokens; each has a password of its own in Secrets Manager (the bootstrap task's)
  #checkov:skip=CKV_AWS_157:Multi-AZ doubles the instance's cost; it is the variable instance_multi_az (Dagster's storage is restored from the daily backups)
  identifier     = "${var.name}-instance"
  engine         = "postgres"
  engine_version = "17"
  instance_class = var.instance_class
  db_name        = local.dagster_database
  username       = local.rds_admin

  # The admin password is created, stored and rotated by Secrets Manager; it never passes through
  # Terraform's variables or outputs. Only the bootstrap task uses it.
  manage_master_user_password   = true
  master_user_secret_kms_key_id = aws_kms_key.data.arn

  allocated_storage     = var.instance_storage_gb
  max_allocated_storage = var.instance_storage_gb * 4
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.data.arn

  db_subnet_group_name   = aws_db_subnet_group.instance.name
  vpc_security_group_ids = [aws_security_group.from_tasks["instance"].id]
  publicly_accessible    = false
  multi_az               = var.instance_multi_az
  parameter_group_name   = aws_db_parameter_group.instance.name

  iam_database_authentication_enabled = false # every user logs in with a password from Secrets Manager
  backup_retention_period             = 7
  copy_tags_to_snapshot               = true
  deletion_protection                 = var.data_protection
  skip_final_snapshot                 = !var.data_protection
  final_snapshot_identifier           = "${var.name}-instance-final"
  auto_minor_version_upgrade          = true
  enabled_cloudwatch_logs_exports     = ["postgresql", "upgrade"]
  monitoring_interval                 = 60
  monitoring_role_arn                 = aws_iam_role.monitoring.arn
  performance_insights_enabled        = true
  performance_insights_kms_key_id     = aws_kms_key.data.arn

  # Its log groups (retention, the key) before it writes; and the Redshift namespace: Terraform
  # destroys a resource's dependencies only after it, so a bare `terraform destroy` with
  # data_protection on stops at this instance's deletion protection before it reaches the
  # namespace (whose deletion the provider cannot protect or snapshot).
  depends_on = [aws_cloudwatch_log_group.services, aws_redshiftserverless_namespace.warehouse]
}

# RDS rotates its managed admin secret every 7 days unless told otherwise; only the bootstrap task
# reads it (at its start), so any period works.
resource "aws_secretsmanager_secret_rotation" "rds_admin" {
  secret_id = aws_db_instance.instance.master_user_secret[0].secret_arn
  rotation_rules {
    automatically_after_days = var.admin_rotation_days
  }
}

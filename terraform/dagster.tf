# Dagster on ECS Fargate, from one image in ECR with three roles chosen by command: the webserver
# (behind the load balancer, access.tf), the daemon (schedules, sensors, the run queue; it starts
# each run as a Fargate task of its own through EcsRunLauncher, deploy/ecs/dagster.yaml), and the
# code server (gRPC on port 4000, found through Cloud Map). The webserver and daemon run the
# image's roles as compose does (spotify_charts/cli/stack.py): they find the code server through
# deploy/workspace.yaml, so the code location is "spotify_charts" everywhere. Before every daemon
# start (a deployment, the restart after `make aws-bootstrap`) a "migrate" container upgrades
# Dagster's schema (with deploy/ecs/migrate/dagster.yaml, storage only); the daemon waits for it
# to succeed. A one-off bootstrap task creates the database users. Until an image is pushed
# (image_tag null) every service runs zero tasks. Task roles: "dagster" (the daemon: start, watch
# and stop runs, read step logs), "webserver" (the same less starting runs) and "pipeline" (code
# server and runs, main.tf); one execution role pulls the image,
# writes the logs and reads exactly the secrets the task definitions inject.

locals {
  image_pushed  = var.image_tag != null
  image         = "${aws_ecr_repository.dagster.repository_url}:${coalesce(var.image_tag, "not-pushed-yet")}"
  service_count = local.image_pushed ? 1 : 0
  app_dir       = "/opt/spotify-charts"
  dagster_home  = "${local.app_dir}/deploy/ecs"
  rds_ca_bundle = "${local.dagster_home}/rds-ca-bundle.pem" # deploy/ecs/dagster.yaml names it too
  code_host     = "code.${aws_service_discovery_private_dns_namespace.dagster.name}"
  code_port     = 4000
  ui_port       = 3000
  cluster_tasks = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${aws_ecs_cluster.dagster.name}/*"

  # Where Dagster keeps its runs and events, and its step logs (deploy/ecs/dagster.yaml reads these).
  instance_environment = {
    DAGSTER_HOME                = local.dagster_home
    DAGSTER_PG_HOST             = aws_db_instance.instance.address
    DAGSTER_PG_PORT             = tostring(aws_db_instance.instance.port)
    DAGSTER_PG_DB               = local.dagster_database
    DAGSTER_PG_USER             = local.dagster_user
    DAGSTER_COMPUTE_LOGS_BUCKET = aws_s3_bucket.charts.bucket
    DAGSTER_COMPUTE_LOGS_PREFIX = trimsuffix(local.logs_prefix, "/")
    AWS_REGION                  = local.region
    # deploy/workspace.yaml: where the webserver and the daemon find the code server.
    DAGSTER_CODE_SERVER_HOST = local.code_host
    DAGSTER_CODE_SERVER_PORT = tostring(local.code_port)
    # libpq verifies RDS's certificate for every PostgreSQL connection that sets no sslmode of its
    # own (dbt's postgres target, the pipeline's postgres warehouse): the bundle is in the image.
    PGSSLMODE     = "verify-full"
    PGSSLROOTCERT = local.rds_ca_bundle
  }
  # The schema migration (the daemon task's "migrate" container, the bootstrap task) reads
  # deploy/ecs/migrate/dagster.yaml: the same storage, and no run launcher, whose EcsRunLauncher
  # would need DAGSTER_ECS_RUN_TASK_DEFINITION and ecs:DescribeTaskDefinition just to print the
  # instance's description (`dagster instance migrate` does).
  migrate_environment = merge(local.instance_environment, { DAGSTER_HOME = "${local.dagster_home}/migrate" })
  # The webserver and the daemon build the run launcher (deploy/ecs/dagster.yaml).
  launcher_environment = merge(local.instance_environment, { DAGSTER_ECS_RUN_TASK_DEFINITION = aws_ecs_task_definition.run.arn })
  instance_secrets = {
    DAGSTER_PG_PASSWORD = "${aws_secretsmanager_secret.this["dagster_user"].arn}:password::"
  }

  # The pipeline's settings (README, Configuration) for the code server and the runs.
  redshift_environment = {
    SPOTIFY_CHARTS_REDSHIFT_HOST     = one(aws_redshiftserverless_workgroup.warehouse[*].endpoint[0].address)
    SPOTIFY_CHARTS_REDSHIFT_PORT     = "5439"
    SPOTIFY_CHARTS_REDSHIFT_USER     = local.redshift_user
    SPOTIFY_CHARTS_REDSHIFT_DATABASE = local.redshift_database
    SPOTIFY_CHARTS_REDSHIFT_IAM_ROLE = one(aws_iam_role.redshift_copy[*].arn)
  }
  postgres_environment = {
    SPOTIFY_CHARTS_PG_HOST     = aws_db_instance.instance.address
    SPOTIFY_CHARTS_PG_PORT     = "5432"
    SPOTIFY_CHARTS_PG_USER     = local.postgres_user
    SPOTIFY_CHARTS_PG_DATABASE = local.postgres_warehouse
  }
  pipeline_environment = merge({
    SPOTIFY_CHARTS_SOURCE    = "api"
    SPOTIFY_CHARTS_S3_BUCKET = aws_s3_bucket.charts.bucket
    SPOTIFY_CHARTS_S3_PREFIX = var.s3_prefix
    SPOTIFY_CHARTS_WAREHOUSE = var.warehouse
    AWS_REGION               = local.region
  }, local.redshift ? tomap(local.redshift_environment) : tomap(local.postgres_environment))
  # Both warehouse password names get the pipeline user's password; the warehouse not in use
  # ignores its own.
  pipeline_secrets = {
    DAGSTER_PG_PASSWORD              = "${aws_secretsmanager_secret.this["dagster_user"].arn}:password::"
    SPOTIFY_CLIENT_ID                = "${aws_secretsmanager_secret.this["spotify"].arn}:SPOTIFY_CLIENT_ID::"
    SPOTIFY_CLIENT_SECRET            = "${aws_secretsmanager_secret.this["spotify"].arn}:SPOTIFY_CLIENT_SECRET::"
    SPOTIFY_REFRESH_TOKEN            = "${aws_secretsmanager_secret.this["spotify"].arn}:SPOTIFY_REFRESH_TOKEN::"
    SPOTIFY_CHARTS_ALERT_WEBHOOK     = "${aws_secretsmanager_secret.this["alert_webhook"].arn}:SPOTIFY_CHARTS_ALERT_WEBHOOK::"
    SPOTIFY_CHARTS_REDSHIFT_PASSWORD = "${aws_secretsmanager_secret.this["warehouse_user"].arn}:password::"
    SPOTIFY_CHARTS_PG_PASSWORD       = "${aws_secretsmanager_secret.this["warehouse_user"].arn}:password::"
  }

  # The admin secrets, injected into the bootstrap task only.
  bootstrap_secrets = merge({
    RDS_ADMIN_PASSWORD = "${aws_db_instance.instance.master_user_secret[0].secret_arn}:password::"
    }, {
    for name, arn in { REDSHIFT_ADMIN_PASSWORD = one(aws_redshiftserverless_namespace.warehouse[*].admin_password_secret_arn) } :
    name => "${arn}:password::" if local.redshift
  })

  # Every secret the service and run task definitions inject (the secrets above): the execution
  # role may read these and no other. The tests check the two lists against the task definitions.
  injected_secret_arns = [
    aws_secretsmanager_secret.this["dagster_user"].arn,
    aws_secretsmanager_secret.this["spotify"].arn,
    aws_secretsmanager_secret.this["alert_webhook"].arn,
    aws_secretsmanager_secret.this["warehouse_user"].arn,
  ]
  bootstrap_secret_arns = compact([
    aws_db_instance.instance.master_user_secret[0].secret_arn,
    one(aws_redshiftserverless_namespace.warehouse[*].admin_password_secret_arn),
  ])

  log_configuration = {
    for role in ["webserver", "daemon", "migrate", "code", "run", "bootstrap"] : role => {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.dagster[role == "migrate" ? "daemon" : role].name
        awslogs-region        = local.region
        awslogs-stream-prefix = role
      }
    }
  }

  # ECS runs these instead of the image's HEALTHCHECK (which it ignores); the probe is the image's
  # own (python -m spotify_charts.cli.stack healthcheck ROLE).
  health_check = {
    for role in ["webserver", "daemon", "code-server"] : role => {
      command     = ["CMD", "python", "-m", "spotify_charts.cli.stack", "healthcheck", role]
      interval    = 30
      timeout     = 20
      retries     = 3
      startPeriod = 120
    }
  }
}

################################################################################
# Image repository
################################################################################

resource "aws_ecr_repository" "dagster" {
  name                 = var.name
  image_tag_mutability = "IMMUTABLE" # `make push` tags each build anew; a tag never changes meaning
  force_delete         = !var.data_protection

  image_scanning_configuration {
    scan_on_push = true
  }
  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.data.arn
  }
}

resource "aws_ecr_lifecycle_policy" "dagster" {
  repository = aws_ecr_repository.dagster.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the last 30 images (a rollback needs only recent ones)"
      selection = {
        tagStatus   = "any"
        countType   = "imageCountMoreThan"
        countNumber = 30
      }
      action = { type = "expire" }
    }]
  })
}

################################################################################
# Cluster, log groups, service discovery
################################################################################

resource "aws_cloudwatch_log_group" "dagster" {
  for_each          = toset(["webserver", "daemon", "code", "run", "bootstrap", "exec"])
  name              = "/${var.name}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.data.arn
}

# The groups AWS services write to on the deployment's behalf, declared so that they expire and
# are encrypted with the project's key like the tasks' own (a group a service creates by itself
# keeps its events forever, unencrypted by the project). RDS Enhanced Monitoring writes to the
# account's shared group RDSOSMetrics, which one deployment should not own: set its retention once
# per account (docs/aws.md).
locals {
  service_log_groups = merge(
    { for log in ["postgresql", "upgrade"] : "rds-${log}" => "/aws/rds/instance/${var.name}-instance/${log}" },
    { container-insights = "/aws/ecs/containerinsights/${var.name}/performance" },
    # "Audit logging for Amazon Redshift Serverless": /aws/redshift/<namespace>/<log_type>; the
    # namespace is named var.name (warehouse.tf; it depends on these groups, so no reference).
    local.redshift ? { for log in local.redshift_logs : "redshift-${log}" => "/aws/redshift/${var.name}/${log}" } : {},
  )
}

resource "aws_cloudwatch_log_group" "services" {
  for_each          = local.service_log_groups
  name              = each.value
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.data.arn
}

resource "aws_ecs_cluster" "dagster" {
  name = var.name

  depends_on = [aws_cloudwatch_log_group.services] # Container Insights' group, before it writes

  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  # ECS Exec (SSM port forwarding to the webserver, README) is encrypted and logged.
  configuration {
    execute_command_configuration {
      kms_key_id = aws_kms_key.data.arn
      logging    = "OVERRIDE"
      log_configuration {
        cloud_watch_encryption_enabled = true
        cloud_watch_log_group_name     = aws_cloudwatch_log_group.dagster["exec"].name
      }
    }
  }
}

resource "aws_ecs_cluster_capacity_providers" "dagster" {
  cluster_name       = aws_ecs_cluster.dagster.name
  capacity_providers = ["FARGATE"]
  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
  }
}

resource "aws_service_discovery_private_dns_namespace" "dagster" {
  name        = "${var.name}.internal"
  description = "Private names of the ${var.name} Dagster services"
  vpc         = local.vpc_id
}

resource "aws_service_discovery_service" "code" {
  name = "code"
  dns_config {
    namespace_id   = aws_service_discovery_private_dns_namespace.dagster.id
    routing_policy = "MULTIVALUE"
    dns_records {
      type = "A"
      ttl  = 10
    }
  }
  health_check_custom_config {
    failure_threshold = 1
  }
}

################################################################################
# Execution roles: pull the image, write the logs, read exactly the injected secrets
################################################################################

resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  description        = "ECS agent for the ${var.name} services and runs: image, logs, their secrets"
  assume_role_policy = data.aws_iam_policy_document.tasks_assume.json
}

# What every task's agent needs, whichever task it starts: log in to the registry, pull the image,
# decrypt the secrets it injects. Each execution role's policy adds its logs and its secrets.
data "aws_iam_policy_document" "task_agent" {
  # GetAuthorizationToken has no resource: it returns a token for the registry, and the
  # statement below limits which repository's layers it can read.
  #checkov:skip=CKV_AWS_356:ecr:GetAuthorizationToken supports no resource-level permission
  statement {
    sid       = "LogInToTheRegistry"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
  statement {
    sid       = "PullTheImage"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
    resources = [aws_ecr_repository.dagster.arn]
  }
  statement {
    sid       = "DecryptTheSecrets"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.data.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "execution" {
  source_policy_documents = [data.aws_iam_policy_document.task_agent.json]
  statement {
    sid     = "WriteTheLogs"
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [
      for role in ["webserver", "daemon", "code", "run"] : "${aws_cloudwatch_log_group.dagster[role].arn}:*"
    ]
  }
  statement {
    sid       = "ReadTheInjectedSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = local.injected_secret_arns
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "image-logs-secrets"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# The bootstrap task's agent is the only one that reads the admin secrets.
resource "aws_iam_role" "bootstrap_execution" {
  name               = "${var.name}-bootstrap-execution"
  description        = "ECS agent for the ${var.name} bootstrap task: image, logs, the admin secrets"
  assume_role_policy = data.aws_iam_policy_document.tasks_assume.json
}

data "aws_iam_policy_document" "bootstrap_execution" {
  source_policy_documents = [data.aws_iam_policy_document.task_agent.json]
  statement {
    sid       = "WriteTheLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.dagster["bootstrap"].arn}:*"]
  }
  statement {
    sid       = "ReadTheAdminSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = local.bootstrap_secret_arns
  }
}

resource "aws_iam_role_policy" "bootstrap_execution" {
  name   = "image-logs-admin-secrets"
  role   = aws_iam_role.bootstrap_execution.id
  policy = data.aws_iam_policy_document.bootstrap_execution.json
}

################################################################################
# Task roles: "dagster" (the daemon), "webserver" and "bootstrap"; "pipeline" is in main.tf
################################################################################

resource "aws_iam_role" "dagster" {
  name               = "${var.name}-dagster"
  description        = "Dagster daemon of ${var.name}: start, watch and stop run tasks, read step logs"
  assume_role_policy = data.aws_iam_policy_document.tasks_assume.json
}

# Exactly what EcsRunLauncher calls (launch_run, terminate, check_run_worker_health; see
# spotify_charts_tests/integration/test_terraform.py, which records them on moto) and what
# S3ComputeLogManager reads.
data "aws_iam_policy_document" "dagster" {
  #checkov:skip=CKV_AWS_356:ecs:DescribeTaskDefinition, ec2:DescribeNetworkInterfaces, logs:DescribeLogGroups and the ssmmessages channel actions support no resource-level permission
  #checkov:skip=CKV_AWS_111:ssmmessages:* channel actions support no resource-level permission
  statement {
    sid       = "StartRunTasks"
    actions   = ["ecs:RunTask"]
    resources = ["${aws_ecs_task_definition.run.arn_without_revision}:*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [aws_ecs_cluster.dagster.arn]
    }
  }
  statement {
    sid       = "TagThemWithTheirRun"
    actions   = ["ecs:TagResource"]
    resources = [local.cluster_tasks]
    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RunTask"]
    }
  }
  statement {
    sid       = "WatchAndStopThem"
    actions   = ["ecs:DescribeTasks", "ecs:StopTask"]
    resources = [local.cluster_tasks]
  }
  # The launcher copies the network of the task it runs in (use_current_ecs_task_config) and
  # reads the run task definition; neither call can be limited to a resource.
  statement {
    sid       = "ReadTaskDefinitionsAndNetwork"
    actions   = ["ecs:DescribeTaskDefinition", "ec2:DescribeNetworkInterfaces"]
    resources = ["*"]
  }
  statement {
    sid       = "PassTheRunRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.pipeline.arn, aws_iam_role.execution.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
  statement {
    sid       = "ReadARunsLastLogLinesWhenItDies"
    actions   = ["logs:GetLogEvents"]
    resources = ["${aws_cloudwatch_log_group.dagster["run"].arn}:*"]
  }
  statement {
    sid       = "ListStepLogs"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.charts.arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.logs_prefix}*"]
    }
  }
  statement {
    sid       = "ReadStepLogs"
    actions   = ["s3:GetObject"]
    resources = [local.logs_arn]
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
  # ECS Exec into the webserver (SSM port forwarding to the UI, docs/aws.md): the SSM agent in the
  # task opens the channels, decrypts the session with the project's key (a direct KMS call, so
  # no kms:ViaService) and writes the session log to the exec log group.
  statement {
    sid = "EcsExecChannels"
    actions = [
      "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
    ]
    resources = ["*"]
  }
  statement {
    sid       = "EcsExecSessionKey"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.data.arn]
  }
  statement {
    sid       = "EcsExecFindsItsLogGroup"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["*"]
  }
  statement {
    sid       = "EcsExecWritesItsLog"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.dagster["exec"].arn}:*"]
  }
}

resource "aws_iam_role_policy" "dagster" {
  name   = "launch-runs-read-logs"
  role   = aws_iam_role.dagster.id
  policy = data.aws_iam_policy_document.dagster.json
}

# The webserver: the daemon's permissions (it describes, watches and stops runs, reads their logs;
# ECS Exec lands in its task) less starting runs. With QueuedRunCoordinator the UI only queues a
# run and the daemon launches it, so the webserver's role may neither run a task nor pass a role:
# an explicit Deny, which no Allow overrides.
resource "aws_iam_role" "webserver" {
  name               = "${var.name}-webserver"
  description        = "Dagster webserver of ${var.name}: watch and stop run tasks, read step logs, ECS Exec; never start one"
  assume_role_policy = data.aws_iam_policy_document.tasks_assume.json
}

data "aws_iam_policy_document" "webserver" {
  source_policy_documents = [data.aws_iam_policy_document.dagster.json]
  statement {
    sid       = "NeverStartRuns"
    effect    = "Deny"
    actions   = ["ecs:RunTask", "ecs:StartTask", "ecs:TagResource", "iam:PassRole"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "webserver" {
  name   = "watch-runs-read-logs"
  role   = aws_iam_role.webserver.id
  policy = data.aws_iam_policy_document.webserver.json
}

resource "aws_iam_role" "bootstrap" {
  name               = "${var.name}-bootstrap"
  description        = "The ${var.name} bootstrap task: writes the passwords of the users it creates"
  assume_role_policy = data.aws_iam_policy_document.tasks_assume.json
}

data "aws_iam_policy_document" "bootstrap" {
  statement {
    sid       = "WriteTheUsersPasswords"
    actions   = ["secretsmanager:PutSecretValue"]
    resources = [aws_secretsmanager_secret.this["warehouse_user"].arn, aws_secretsmanager_secret.this["dagster_user"].arn]
  }
  statement {
    sid       = "EncryptThem"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [aws_kms_key.data.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "bootstrap" {
  name   = "write-user-secrets"
  role   = aws_iam_role.bootstrap.id
  policy = data.aws_iam_policy_document.bootstrap.json
}

################################################################################
# Task definitions: one image, the role chosen by command
################################################################################

resource "aws_ecs_task_definition" "webserver" {
  family                   = "${var.name}-webserver"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 512
  memory                   = 1024
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.webserver.arn
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }
  container_definitions = jsonencode([{
    name                   = "webserver"
    image                  = local.image
    essential              = true
    readonlyRootFilesystem = false # the webserver writes temporary files under DAGSTER_HOME
    command                = ["webserver", "--port", tostring(local.ui_port)]
    healthCheck            = local.health_check["webserver"]
    portMappings           = [{ containerPort = local.ui_port, protocol = "tcp" }]
    environment            = [for k, v in local.launcher_environment : { name = k, value = v }]
    secrets                = [for k, v in local.instance_secrets : { name = k, valueFrom = v }]
    logConfiguration       = local.log_configuration["webserver"]
  }])
}

resource "aws_ecs_task_definition" "daemon" {
  family                   = "${var.name}-daemon"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 512
  memory                   = 1024
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.dagster.arn
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }
  container_definitions = jsonencode([
    {
      # Dagster's schema, created or upgraded before the daemon starts (compose's `migrate`).
      name             = "migrate"
      image            = local.image
      essential        = false
      command          = ["migrate"]
      environment      = [for k, v in local.migrate_environment : { name = k, value = v }]
      secrets          = [for k, v in local.instance_secrets : { name = k, valueFrom = v }]
      logConfiguration = local.log_configuration["migrate"]
    },
    {
      name             = "daemon"
      image            = local.image
      essential        = true
      command          = ["daemon"]
      dependsOn        = [{ containerName = "migrate", condition = "SUCCESS" }]
      healthCheck      = local.health_check["daemon"]
      environment      = [for k, v in local.launcher_environment : { name = k, value = v }]
      secrets          = [for k, v in local.instance_secrets : { name = k, valueFrom = v }]
      logConfiguration = local.log_configuration["daemon"]
    },
  ])
}

resource "aws_ecs_task_definition" "code" {
  family                   = "${var.name}-code"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 1024
  memory                   = 2048
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.pipeline.arn
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }
  container_definitions = jsonencode([{
    name             = "code"
    image            = local.image
    essential        = true
    command          = ["code-server", "--port", tostring(local.code_port)]
    healthCheck      = local.health_check["code-server"]
    portMappings     = [{ containerPort = local.code_port, protocol = "tcp" }]
    environment      = [for k, v in merge(local.instance_environment, local.pipeline_environment) : { name = k, value = v }]
    secrets          = [for k, v in local.pipeline_secrets : { name = k, valueFrom = v }]
    logConfiguration = local.log_configuration["code"]
  }])
}

# What EcsRunLauncher starts for each run (the command is the run's; cpu and memory default here
# and are overridden per run with the tags ecs/cpu and ecs/memory). A deployment registers a new
# revision and keeps the old one: runs started from it a moment before may still be starting.
resource "aws_ecs_task_definition" "run" {
  family                   = "${var.name}-run"
  skip_destroy             = true
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.run_cpu
  memory                   = var.run_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.pipeline.arn
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }
  container_definitions = jsonencode([{
    name             = "run"
    image            = local.image
    essential        = true
    environment      = [for k, v in merge(local.instance_environment, local.pipeline_environment) : { name = k, value = v }]
    secrets          = [for k, v in local.pipeline_secrets : { name = k, valueFrom = v }]
    logConfiguration = local.log_configuration["run"]
  }])
}

# `make aws-bootstrap` runs this once after the first deploy (and again to set new passwords):
# it creates the warehouse's and Dagster's own database users, writes their passwords, and
# creates or upgrades Dagster's tables as Dagster's user.
resource "aws_ecs_task_definition" "bootstrap" {
  family                   = "${var.name}-bootstrap"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = aws_iam_role.bootstrap_execution.arn
  task_role_arn            = aws_iam_role.bootstrap.arn
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }
  container_definitions = jsonencode([{
    name      = "bootstrap"
    image     = local.image
    essential = true
    command = concat(
      ["python", "-m", "spotify_charts.cli.aws", "bootstrap",
        "--rds-host", aws_db_instance.instance.address, "--rds-admin", local.rds_admin,
        "--dagster-database", local.dagster_database, "--dagster-user", local.dagster_user,
        "--dagster-secret", aws_secretsmanager_secret.this["dagster_user"].arn, "--migrate-dagster",
      "--warehouse", var.warehouse, "--warehouse-secret", aws_secretsmanager_secret.this["warehouse_user"].arn],
      local.redshift ? [
        "--redshift-host", aws_redshiftserverless_workgroup.warehouse[0].endpoint[0].address,
        "--redshift-database", local.redshift_database, "--redshift-admin", local.redshift_admin,
        "--warehouse-user", local.redshift_user,
        ] : [
        "--warehouse-database", local.postgres_warehouse, "--warehouse-user", local.postgres_user,
      ],
    )
    environment      = [for k, v in local.migrate_environment : { name = k, value = v }] # the instance it migrates
    secrets          = [for k, v in local.bootstrap_secrets : { name = k, valueFrom = v }]
    logConfiguration = local.log_configuration["bootstrap"]
  }])
}

################################################################################
# Services
################################################################################

resource "aws_ecs_service" "webserver" {
  name                   = "${var.name}-webserver"
  cluster                = aws_ecs_cluster.dagster.id
  task_definition        = aws_ecs_task_definition.webserver.arn
  desired_count          = local.service_count
  launch_type            = "FARGATE"
  enable_execute_command = true # SSM port forwarding to the UI (docs/aws.md)
  propagate_tags         = "SERVICE"
  # The load balancer's health checks count only once the webserver has loaded the workspace.
  health_check_grace_period_seconds = 180

  network_configuration {
    subnets          = local.private_subnet_ids
    security_groups  = [aws_security_group.tasks["webserver"].id]
    assign_public_ip = false
  }
  load_balancer {
    target_group_arn = aws_lb_target_group.webserver.arn
    container_name   = "webserver"
    container_port   = local.ui_port
  }
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  # The listener that attaches the target group (the HTTP one only redirects).
  depends_on = [aws_lb_listener.webserver_https]
}

# One daemon at a time: a deployment stops the old one before starting the new.
resource "aws_ecs_service" "daemon" {
  name                               = "${var.name}-daemon"
  cluster                            = aws_ecs_cluster.dagster.id
  task_definition                    = aws_ecs_task_definition.daemon.arn
  desired_count                      = local.service_count
  launch_type                        = "FARGATE"
  deployment_minimum_healthy_percent = 0
  deployment_maximum_percent         = 100
  propagate_tags                     = "SERVICE"

  network_configuration {
    subnets          = local.private_subnet_ids
    security_groups  = [aws_security_group.tasks["runs"].id]
    assign_public_ip = false
  }
}

resource "aws_ecs_service" "code" {
  name            = "${var.name}-code"
  cluster         = aws_ecs_cluster.dagster.id
  task_definition = aws_ecs_task_definition.code.arn
  desired_count   = local.service_count
  launch_type     = "FARGATE"
  propagate_tags  = "SERVICE"

  network_configuration {
    subnets          = local.private_subnet_ids
    security_groups  = [aws_security_group.tasks["code"].id]
    assign_public_ip = false
  }
  service_registries {
    registry_arn = aws_service_discovery_service.code.arn
  }
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
}

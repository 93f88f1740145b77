# Secure by default, and who may read what: the bucket, the databases, the secrets each task
# injects and the roles that read them, applied against the mocked provider. (What no resource
# can show, such as that no password is a variable or an output, is checked in
# spotify_charts_tests/integration/test_terraform.py.)

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  bucket_name               = "test-spotify-charts"
  webserver_domain_name     = "dagster.example.com"
  webserver_certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0000-test"
  cognito_domain_prefix     = "test-dagster"
  image_tag                 = "0123456789ab-20261207230000"
}

override_resource {
  target = aws_iam_role.dagster
  values = { arn = "arn:aws:iam::123456789012:role/spotify-charts-dagster" }
}
override_resource {
  target = aws_iam_role.webserver
  values = { arn = "arn:aws:iam::123456789012:role/spotify-charts-webserver" }
}
override_resource {
  target = aws_iam_role.pipeline
  values = { arn = "arn:aws:iam::123456789012:role/spotify-charts-pipeline" }
}
override_resource {
  target = aws_iam_role.bootstrap
  values = { arn = "arn:aws:iam::123456789012:role/spotify-charts-bootstrap" }
}
override_resource {
  target = aws_iam_role.execution
  values = { arn = "arn:aws:iam::123456789012:role/spotify-charts-execution" }
}
override_resource {
  target = aws_iam_role.bootstrap_execution
  values = { arn = "arn:aws:iam::123456789012:role/spotify-charts-bootstrap-execution" }
}

# Each policy document renders a json of its own (the mock gives them all one), so that "this role
# carries that document" can fail when two policies are swapped.
override_data {
  target = data.aws_iam_policy_document.tasks_assume
  values = { json = "{\"Version\":\"2012-10-17\",\"Id\":\"tasks_assume\",\"Statement\":[]}" }
}
override_data {
  target = data.aws_iam_policy_document.dagster
  values = { json = "{\"Version\":\"2012-10-17\",\"Id\":\"dagster\",\"Statement\":[]}" }
}
override_data {
  target = data.aws_iam_policy_document.webserver
  values = { json = "{\"Version\":\"2012-10-17\",\"Id\":\"webserver\",\"Statement\":[]}" }
}
override_data {
  target = data.aws_iam_policy_document.pipeline
  values = { json = "{\"Version\":\"2012-10-17\",\"Id\":\"pipeline\",\"Statement\":[]}" }
}
override_data {
  target = data.aws_iam_policy_document.bootstrap
  values = { json = "{\"Version\":\"2012-10-17\",\"Id\":\"bootstrap\",\"Statement\":[]}" }
}
override_data {
  target = data.aws_iam_policy_document.execution
  values = { json = "{\"Version\":\"2012-10-17\",\"Id\":\"execution\",\"Statement\":[]}" }
}
override_data {
  target = data.aws_iam_policy_document.bootstrap_execution
  values = { json = "{\"Version\":\"2012-10-17\",\"Id\":\"bootstrap_execution\",\"Statement\":[]}" }
}

run "the_bucket_is_private_encrypted_versioned_and_tls_only" {
  command = apply

  assert {
    condition     = aws_s3_bucket_public_access_block.charts.block_public_acls && aws_s3_bucket_public_access_block.charts.block_public_policy && aws_s3_bucket_public_access_block.charts.ignore_public_acls && aws_s3_bucket_public_access_block.charts.restrict_public_buckets
    error_message = "all four public access blocks"
  }
  assert {
    condition     = aws_s3_bucket_ownership_controls.charts.rule[0].object_ownership == "BucketOwnerEnforced"
    error_message = "no ACLs"
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.charts.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms" && one(aws_s3_bucket_server_side_encryption_configuration.charts.rule).apply_server_side_encryption_by_default[0].kms_master_key_id == aws_kms_key.data.arn
    error_message = "SSE-KMS with the project's key"
  }
  assert {
    condition     = aws_s3_bucket_versioning.charts.versioning_configuration[0].status == "Enabled" && aws_kms_key.data.enable_key_rotation
    error_message = "versioned; the key rotates"
  }
  assert {
    condition     = one(data.aws_iam_policy_document.bucket.statement).effect == "Deny" && one(one(data.aws_iam_policy_document.bucket.statement).condition).variable == "aws:SecureTransport" && one(one(one(data.aws_iam_policy_document.bucket.statement).condition).values) == "false"
    error_message = "the bucket denies requests without TLS"
  }
}

run "the_databases_are_private_encrypted_and_their_admins_passwords_aws_s" {
  command = apply

  assert {
    condition     = aws_db_instance.instance.manage_master_user_password && aws_db_instance.instance.storage_encrypted && !aws_db_instance.instance.publicly_accessible && aws_db_instance.instance.backup_retention_period >= 7
    error_message = "RDS: managed admin password, encrypted, private, a week of backups"
  }
  assert {
    condition     = one([for p in aws_db_parameter_group.instance.parameter : p.value if p.name == "rds.force_ssl"]) == "1"
    error_message = "RDS forces TLS"
  }
  assert {
    condition     = one(aws_db_instance.instance.vpc_security_group_ids) == aws_security_group.from_tasks["instance"].id
    error_message = "RDS is behind its own group"
  }
  assert {
    condition     = aws_redshiftserverless_namespace.warehouse[0].manage_admin_password && aws_redshiftserverless_namespace.warehouse[0].kms_key_id == aws_kms_key.data.arn && aws_redshiftserverless_namespace.warehouse[0].admin_password_secret_kms_key_id == aws_kms_key.data.arn
    error_message = "Redshift: managed admin password, the project's key"
  }
  assert {
    condition     = !aws_redshiftserverless_workgroup.warehouse[0].publicly_accessible && one([for p in aws_redshiftserverless_workgroup.warehouse[0].config_parameter : p.parameter_value if p.parameter_key == "require_ssl"]) == "true"
    error_message = "Redshift: private, TLS required"
  }
  assert {
    condition     = aws_redshiftserverless_namespace.warehouse[0].admin_username != output.pipeline_environment["SPOTIFY_CHARTS_REDSHIFT_USER"] && aws_db_instance.instance.username != output.pipeline_environment["SPOTIFY_CHARTS_REDSHIFT_USER"]
    error_message = "the pipeline connects as its own user, never an admin"
  }
  assert {
    condition     = alltrue([for secret in aws_secretsmanager_secret.this : secret.kms_key_id == aws_kms_key.data.arn && secret.recovery_window_in_days == 30])
    error_message = "the secrets: the project's key, 30 days to recover"
  }
}

run "each_task_reads_exactly_its_secrets_with_its_roles" {
  command = apply

  # The services and runs inject only the deployment's own secrets, through the shared execution
  # role, which may read those and no other; no admin secret reaches them.
  assert {
    condition = alltrue(flatten([
      for definition in [aws_ecs_task_definition.webserver, aws_ecs_task_definition.daemon, aws_ecs_task_definition.code, aws_ecs_task_definition.run] : [
        for c in jsondecode(definition.container_definitions) : [
          for s in c.secrets : contains(local.injected_secret_arns, regex("^(.*):[A-Za-z_]+::$", s.valueFrom)[0])
        ]
      ]
    ]))
    error_message = "a service or run injects a secret its execution role does not list"
  }
  assert {
    condition     = one([for s in data.aws_iam_policy_document.execution.statement : s.resources if contains(s.actions, "secretsmanager:GetSecretValue")]) == toset(local.injected_secret_arns)
    error_message = "the execution role reads exactly the injected secrets"
  }
  assert {
    condition     = toset(local.injected_secret_arns) == toset([for name in ["dagster_user", "spotify", "alert_webhook", "warehouse_user"] : aws_secretsmanager_secret.this[name].arn])
    error_message = "the injected secrets are the deployment's own four"
  }
  assert {
    condition     = alltrue([for definition in [aws_ecs_task_definition.webserver, aws_ecs_task_definition.daemon, aws_ecs_task_definition.code, aws_ecs_task_definition.run] : !strcontains(definition.container_definitions, aws_db_instance.instance.master_user_secret[0].secret_arn) && !strcontains(definition.container_definitions, aws_redshiftserverless_namespace.warehouse[0].admin_password_secret_arn) && definition.execution_role_arn == aws_iam_role.execution.arn])
    error_message = "no admin secret reaches a service or a run"
  }
  assert {
    condition     = { for s in jsondecode(aws_ecs_task_definition.bootstrap.container_definitions)[0].secrets : s.name => s.valueFrom } == { RDS_ADMIN_PASSWORD = "${aws_db_instance.instance.master_user_secret[0].secret_arn}:password::", REDSHIFT_ADMIN_PASSWORD = "${aws_redshiftserverless_namespace.warehouse[0].admin_password_secret_arn}:password::" }
    error_message = "the bootstrap task gets the admin secrets"
  }
  assert {
    condition     = aws_ecs_task_definition.bootstrap.execution_role_arn == aws_iam_role.bootstrap_execution.arn && one([for s in data.aws_iam_policy_document.bootstrap_execution.statement : s.resources if contains(s.actions, "secretsmanager:GetSecretValue")]) == toset(local.bootstrap_secret_arns)
    error_message = "only the bootstrap task's own execution role reads the admin secrets"
  }
  assert {
    condition     = one([for s in data.aws_iam_policy_document.bootstrap.statement : s.resources if contains(s.actions, "secretsmanager:PutSecretValue")]) == toset([aws_secretsmanager_secret.this["warehouse_user"].arn, aws_secretsmanager_secret.this["dagster_user"].arn])
    error_message = "the bootstrap task writes the two users' secrets and no other"
  }

  # Task roles: the daemon launches runs, the webserver only watches them; the code server and runs are the pipeline.
  assert {
    condition     = [aws_ecs_task_definition.webserver.task_role_arn, aws_ecs_task_definition.daemon.task_role_arn, aws_ecs_task_definition.code.task_role_arn, aws_ecs_task_definition.run.task_role_arn, aws_ecs_task_definition.bootstrap.task_role_arn] == [aws_iam_role.webserver.arn, aws_iam_role.dagster.arn, aws_iam_role.pipeline.arn, aws_iam_role.pipeline.arn, aws_iam_role.bootstrap.arn]
    error_message = "each task runs with its role"
  }
  # Only the daemon launches runs (QueuedRunCoordinator): the webserver's role has the daemon's
  # permissions less starting a task or passing a role (review S4).
  assert {
    condition     = aws_iam_role_policy.webserver.role == aws_iam_role.webserver.id && aws_iam_role_policy.webserver.policy == data.aws_iam_policy_document.webserver.json && data.aws_iam_policy_document.webserver.source_policy_documents == tolist([data.aws_iam_policy_document.dagster.json])
    error_message = "the webserver's role carries the daemon's policy and its own restriction"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.webserver.statement : [s.effect, s.actions, s.resources]] == [["Deny", toset(["ecs:RunTask", "ecs:StartTask", "ecs:TagResource", "iam:PassRole"]), toset(["*"])]]
    error_message = "the webserver's role may never start a task or pass a role"
  }
  assert {
    condition     = alltrue([for role in [aws_iam_role.dagster, aws_iam_role.webserver, aws_iam_role.pipeline, aws_iam_role.bootstrap, aws_iam_role.execution, aws_iam_role.bootstrap_execution] : role.assume_role_policy == data.aws_iam_policy_document.tasks_assume.json])
    error_message = "every task role trusts the tasks_assume document"
  }
  assert {
    condition     = one(data.aws_iam_policy_document.tasks_assume.statement).actions == toset(["sts:AssumeRole"]) && [for p in one(data.aws_iam_policy_document.tasks_assume.statement).principals : [p.type, p.identifiers]] == [["Service", toset(["ecs-tasks.amazonaws.com"])]] && [for c in one(data.aws_iam_policy_document.tasks_assume.statement).condition : [c.test, c.variable, c.values]] == [["StringEquals", "aws:SourceAccount", tolist(["123456789012"])]]
    error_message = "tasks_assume trusts ECS tasks of this account alone"
  }
  assert {
    condition     = [for policy in [aws_iam_role_policy.dagster, aws_iam_role_policy.pipeline, aws_iam_role_policy.bootstrap, aws_iam_role_policy.execution, aws_iam_role_policy.bootstrap_execution] : policy.policy] == [data.aws_iam_policy_document.dagster.json, data.aws_iam_policy_document.pipeline.json, data.aws_iam_policy_document.bootstrap.json, data.aws_iam_policy_document.execution.json, data.aws_iam_policy_document.bootstrap_execution.json]
    error_message = "each role has its policy"
  }
  assert {
    condition     = aws_ecs_service.code.service_registries[0].registry_arn == aws_service_discovery_service.code.arn && aws_ecs_service.daemon.deployment_maximum_percent == 100
    error_message = "the code server is found by name; never two daemons"
  }
  assert {
    condition     = aws_ecr_repository.dagster.image_tag_mutability == "IMMUTABLE" && aws_ecr_repository.dagster.image_scanning_configuration[0].scan_on_push
    error_message = "image tags never change meaning; images are scanned"
  }
}

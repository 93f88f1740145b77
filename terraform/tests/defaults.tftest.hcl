# The default stack (Redshift Serverless, a VPC of its own, the private UI), applied against a
# mocked AWS provider (tests/mocks): no account, no network. Each run asserts wiring; several
# assert a defect a review found once stays fixed (issue 24).

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  bucket_name               = "test-spotify-charts"
  webserver_domain_name     = "dagster.example.com"
  webserver_certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0000-test"
  cognito_domain_prefix     = "test-dagster"
}

run "before_the_first_push_nothing_runs" {
  command = apply

  # Services start at zero until an image exists (they used to crash-loop on a tag never pushed).
  assert {
    condition     = aws_ecs_service.webserver.desired_count == 0 && aws_ecs_service.daemon.desired_count == 0 && aws_ecs_service.code.desired_count == 0
    error_message = "with no image_tag every service must run zero tasks"
  }
  assert {
    condition     = output.services_running == false && output.image_tag == ""
    error_message = "services_running must say the services are stopped"
  }
}

run "the_network" {
  command = apply

  variables {
    image_tag = "0123456789ab-20261207230000"
  }

  # Zones come from the region's list of available zones, not from letters a, b, c.
  assert {
    condition     = aws_subnet.private[*].availability_zone == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    error_message = "the private subnets must be in the region's three available zones"
  }
  assert {
    condition     = length(toset(aws_subnet.public[*].availability_zone)) == 3
    error_message = "the public subnets must span three zones"
  }

  # Redshift's group lets COPY reach S3 (enhanced VPC routing): 443 to the S3 prefix list.
  assert {
    condition     = aws_vpc_security_group_egress_rule.redshift_to_s3[0].security_group_id == aws_security_group.from_tasks["redshift"].id
    error_message = "the S3 egress rule must belong to the Redshift workgroup's group"
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.redshift_to_s3[0].prefix_list_id == data.aws_prefix_list.s3.id && aws_vpc_security_group_egress_rule.redshift_to_s3[0].from_port == 443 && aws_vpc_security_group_egress_rule.redshift_to_s3[0].to_port == 443
    error_message = "the Redshift group must allow HTTPS to the S3 prefix list"
  }
  assert {
    condition     = data.aws_prefix_list.s3.name == "com.amazonaws.eu-west-1.s3"
    error_message = "the prefix list must be the region's S3"
  }
  assert {
    condition     = one(aws_redshiftserverless_workgroup.warehouse[0].security_group_ids) == aws_security_group.from_tasks["redshift"].id && aws_redshiftserverless_workgroup.warehouse[0].enhanced_vpc_routing
    error_message = "the workgroup must use that group, with enhanced VPC routing"
  }
  assert {
    condition     = aws_vpc_endpoint.s3[0].vpc_endpoint_type == "Gateway" && one(aws_vpc_endpoint.s3[0].route_table_ids) == aws_route_table.private[0].id
    error_message = "the S3 gateway endpoint must be on the private route table"
  }
  assert {
    condition     = length(aws_vpc_endpoint.interface) == 0
    error_message = "interface endpoints are opt-in"
  }

  # Three task groups; egress HTTPS anywhere and, inside the VPC, each database port only to the
  # database's own group, and only from the groups that use it.
  assert {
    condition     = toset(keys(aws_security_group.tasks)) == toset(["webserver", "code", "runs"])
    error_message = "the webserver, the code server and the runs need groups of their own"
  }
  assert {
    condition     = alltrue([for rule in aws_vpc_security_group_egress_rule.tasks_https : rule.ip_protocol == "tcp" && rule.from_port == 443 && rule.to_port == 443])
    error_message = "the tasks' only egress to anywhere is HTTPS"
  }
  assert {
    condition     = toset(keys(aws_vpc_security_group_egress_rule.to_reachable)) == toset(["webserver-instance", "code-instance", "runs-instance", "code-redshift", "runs-redshift"])
    error_message = "who reaches which database: the webserver only Dagster's storage"
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.to_reachable["runs-redshift"].referenced_security_group_id == aws_security_group.from_tasks["redshift"].id && aws_vpc_security_group_egress_rule.to_reachable["runs-redshift"].from_port == 5439
    error_message = "the runs reach Redshift's group on 5439"
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.from_tasks["code-instance"].referenced_security_group_id == aws_security_group.tasks["code"].id && aws_vpc_security_group_ingress_rule.from_tasks["code-instance"].security_group_id == aws_security_group.from_tasks["instance"].id && aws_vpc_security_group_ingress_rule.from_tasks["code-instance"].from_port == 5432
    error_message = "the instance's group admits the code server on 5432"
  }
  assert {
    condition     = toset(keys(aws_vpc_security_group_ingress_rule.code_server_from_tasks)) == toset(["webserver", "runs"]) && aws_vpc_security_group_ingress_rule.code_server_from_tasks["runs"].from_port == 4000
    error_message = "the code server's gRPC port admits the webserver and the daemon's group"
  }
  assert {
    condition     = one(aws_ecs_service.webserver.network_configuration[0].security_groups) == aws_security_group.tasks["webserver"].id && one(aws_ecs_service.daemon.network_configuration[0].security_groups) == aws_security_group.tasks["runs"].id && one(aws_ecs_service.code.network_configuration[0].security_groups) == aws_security_group.tasks["code"].id
    error_message = "each service in its own group (the daemon in the runs', which EcsRunLauncher copies)"
  }
  assert {
    condition     = output.bootstrap.security_group == aws_security_group.tasks["runs"].id
    error_message = "the bootstrap task runs in the runs' group (it reaches both databases)"
  }
}

run "the_ui_signs_every_request_in" {
  command = apply

  variables {
    image_tag = "0123456789ab-20261207230000"
  }

  assert {
    condition     = aws_lb.webserver.internal && aws_lb_listener.webserver_https.protocol == "HTTPS" && aws_lb_listener.webserver_https.port == 443
    error_message = "the private UI is an internal load balancer on HTTPS"
  }
  assert {
    condition     = aws_lb_listener.webserver_https.certificate_arn == var.webserver_certificate_arn && aws_lb_listener.webserver_https.ssl_policy == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    error_message = "the HTTPS listener uses the given certificate and TLS 1.2+"
  }
  assert {
    condition     = [for action in aws_lb_listener.webserver_https.default_action : action.type] == ["authenticate-cognito", "forward"]
    error_message = "the HTTPS listener signs in with Cognito before it forwards"
  }
  assert {
    condition     = aws_lb_listener.webserver_https.default_action[0].authenticate_cognito[0].user_pool_arn == aws_cognito_user_pool.ui.arn
    error_message = "sign-in goes to the deployment's user pool"
  }
  assert {
    condition     = aws_lb_listener.webserver.default_action[0].type == "redirect" && aws_lb_listener.webserver.default_action[0].redirect[0].protocol == "HTTPS"
    error_message = "HTTP only redirects to HTTPS"
  }
  assert {
    condition     = toset(keys(aws_vpc_security_group_ingress_rule.load_balancer)) == toset(["10.40.0.0/16 80", "10.40.0.0/16 443"])
    error_message = "the private load balancer admits the VPC alone (no allowed_cidrs given)"
  }
  assert {
    condition     = one(aws_cognito_user_pool_client.ui.callback_urls) == "https://dagster.example.com/oauth2/idpresponse" && aws_cognito_user_pool.ui.mfa_configuration == "ON"
    error_message = "Cognito returns to the UI's name; MFA is required"
  }
  assert {
    condition     = output.webserver_url == "https://dagster.example.com"
    error_message = "the UI's address is HTTPS on its name"
  }
}

run "the_services" {
  command = apply

  variables {
    image_tag = "0123456789ab-20261207230000"
  }

  assert {
    condition     = aws_ecs_service.webserver.desired_count == 1 && aws_ecs_service.daemon.desired_count == 1 && aws_ecs_service.code.desired_count == 1
    error_message = "with an image tag every service runs one task"
  }
  # `make terraform_deploy` from a clone without terraform/.image-tag keeps this tag (review M2).
  assert {
    condition     = output.image_tag == "0123456789ab-20261207230000"
    error_message = "the applied stack tells which tag it runs"
  }
  assert {
    condition     = aws_ecs_service.webserver.health_check_grace_period_seconds >= 120
    error_message = "the webserver gets time to start before the load balancer's checks count"
  }
  assert {
    condition     = alltrue([for definition in [aws_ecs_task_definition.webserver, aws_ecs_task_definition.daemon, aws_ecs_task_definition.code, aws_ecs_task_definition.run] : alltrue([for c in jsondecode(definition.container_definitions) : c.image == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/spotify-charts:0123456789ab-20261207230000"])])
    error_message = "every container runs the pushed tag"
  }

  # The webserver and the daemon find the code server through deploy/workspace.yaml (location
  # "spotify_charts"), as compose does, not through --grpc-host.
  assert {
    condition     = jsondecode(aws_ecs_task_definition.webserver.container_definitions)[0].command == ["webserver", "--port", "3000"]
    error_message = "the webserver runs the image's webserver role"
  }
  assert {
    condition     = [for c in jsondecode(aws_ecs_task_definition.daemon.container_definitions) : c.command] == [["migrate"], ["daemon"]]
    error_message = "the daemon task migrates, then runs the daemon role"
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.code.container_definitions)[0].command == ["code-server", "--port", "4000"]
    error_message = "the code server runs the image's code-server role (location name spotify_charts)"
  }
  assert {
    condition     = !strcontains(join(" ", [aws_ecs_task_definition.webserver.container_definitions, aws_ecs_task_definition.daemon.container_definitions]), "--grpc-host")
    error_message = "no --grpc-host: it names the location after the host"
  }
  assert {
    condition     = { for e in jsondecode(aws_ecs_task_definition.webserver.container_definitions)[0].environment : e.name => e.value if startswith(e.name, "DAGSTER_CODE_SERVER_") } == { DAGSTER_CODE_SERVER_HOST = "code.spotify-charts.internal", DAGSTER_CODE_SERVER_PORT = "4000" }
    error_message = "the workspace file's variables point at the code server's Cloud Map name"
  }

  # Dagster's schema is migrated before the daemon starts, on every deployment.
  assert {
    condition     = jsondecode(aws_ecs_task_definition.daemon.container_definitions)[0].essential == false && jsondecode(aws_ecs_task_definition.daemon.container_definitions)[1].dependsOn == [{ containerName = "migrate", condition = "SUCCESS" }]
    error_message = "the daemon waits for the migration to succeed"
  }

  # The bootstrap task creates Dagster's tables too (as Dagster's user, the instance of DAGSTER_HOME).
  assert {
    condition     = contains(jsondecode(aws_ecs_task_definition.bootstrap.container_definitions)[0].command, "--migrate-dagster") && contains([for e in jsondecode(aws_ecs_task_definition.bootstrap.container_definitions)[0].environment : e.name], "DAGSTER_HOME")
    error_message = "the bootstrap task migrates Dagster's storage"
  }

  # ECS ignores the image's HEALTHCHECK: each service container has its own.
  assert {
    condition     = jsondecode(aws_ecs_task_definition.webserver.container_definitions)[0].healthCheck.command == ["CMD", "python", "-m", "spotify_charts.cli.stack", "healthcheck", "webserver"] && jsondecode(aws_ecs_task_definition.daemon.container_definitions)[1].healthCheck.command[5] == "daemon" && jsondecode(aws_ecs_task_definition.code.container_definitions)[0].healthCheck.command[5] == "code-server"
    error_message = "every service container has an ECS health check"
  }

  # Runs in flight during a deployment keep their task definition revision.
  assert {
    condition     = aws_ecs_task_definition.run.skip_destroy
    error_message = "the run task definition's old revisions must survive a deployment"
  }

  # PostgreSQL connections verify RDS's certificate against the bundle in the image.
  assert {
    condition     = { for e in jsondecode(aws_ecs_task_definition.run.container_definitions)[0].environment : e.name => e.value if startswith(e.name, "PGSSL") } == { PGSSLMODE = "verify-full", PGSSLROOTCERT = "/opt/spotify-charts/deploy/ecs/rds-ca-bundle.pem" }
    error_message = "runs must verify RDS's certificate"
  }
}

run "logs_and_permissions" {
  command = apply

  # Every log group AWS services write for the deployment is declared, expires and is encrypted.
  assert {
    condition     = toset(values(local.service_log_groups)) == toset(["/aws/rds/instance/spotify-charts-instance/postgresql", "/aws/rds/instance/spotify-charts-instance/upgrade", "/aws/ecs/containerinsights/spotify-charts/performance", "/aws/redshift/spotify-charts/userlog", "/aws/redshift/spotify-charts/connectionlog", "/aws/redshift/spotify-charts/useractivitylog"])
    error_message = "the services' log groups"
  }
  # Redshift Serverless writes to /aws/redshift/<namespace>/<log_type> (AWS, "Audit logging for
  # Amazon Redshift Serverless"), and CloudWatch Logs may encrypt exactly those with the key.
  assert {
    condition     = alltrue([for log in aws_redshiftserverless_namespace.warehouse[0].log_exports : aws_cloudwatch_log_group.services["redshift-${log}"].name == "/aws/redshift/${aws_redshiftserverless_namespace.warehouse[0].namespace_name}/${log}"])
    error_message = "Redshift's log groups must be named after its namespace as AWS names them"
  }
  assert {
    condition     = contains(one([for s in data.aws_iam_policy_document.key.statement : one(s.condition).values if s.sid == "CloudWatchLogsEncryptsTheProjectsLogGroups"]), "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/redshift/spotify-charts/connectionlog")
    error_message = "the key lets CloudWatch Logs encrypt Redshift's groups"
  }
  assert {
    condition     = alltrue([for group in concat(values(aws_cloudwatch_log_group.services), values(aws_cloudwatch_log_group.dagster)) : group.retention_in_days == 365 && group.kms_key_id == aws_kms_key.data.arn])
    error_message = "every log group expires and is encrypted with the project's key"
  }

  # ECS Exec's session log: the webserver's task role may write it.
  assert {
    condition     = contains([for s in data.aws_iam_policy_document.dagster.statement : s.sid if contains(s.actions, "logs:PutLogEvents") && contains(s.actions, "logs:CreateLogStream") && contains(s.actions, "logs:DescribeLogStreams") && contains(s.resources, "${aws_cloudwatch_log_group.dagster["exec"].arn}:*")], "EcsExecWritesItsLog")
    error_message = "the dagster role must write the ECS Exec log group"
  }
  assert {
    condition     = length([for s in data.aws_iam_policy_document.dagster.statement : s if contains(s.actions, "logs:DescribeLogGroups")]) == 1
    error_message = "ECS Exec's agent checks its log group exists"
  }

  # kms:Decrypt through the service that uses the key, except the ECS Exec session's own.
  assert {
    condition = alltrue(flatten([
      for document in [data.aws_iam_policy_document.pipeline, data.aws_iam_policy_document.task_agent, data.aws_iam_policy_document.bootstrap, data.aws_iam_policy_document.redshift_copy, data.aws_iam_policy_document.dagster] : [
        for s in document.statement : anytrue([for c in s.condition : c.variable == "kms:ViaService"]) if contains(s.actions, "kms:Decrypt") && s.sid != "EcsExecSessionKey"
      ]
    ]))
    error_message = "every kms:Decrypt grant names the service it goes through"
  }
  assert {
    condition     = aws_db_instance.instance.iam_database_authentication_enabled == false
    error_message = "IAM database authentication is unused"
  }
  assert {
    condition     = aws_db_instance.instance.deletion_protection && !aws_s3_bucket.charts.force_destroy && !aws_ecr_repository.dagster.force_delete && aws_lb.webserver.enable_deletion_protection && output.data_protection
    error_message = "data protection is on by default"
  }
  assert {
    condition     = aws_redshiftserverless_workgroup.warehouse[0].base_capacity == 4
    error_message = "4 RPU, the smallest base capacity, by default"
  }
}

run "zones_with_letters_that_skip" {
  command = plan

  # ap-northeast-1 has zones a, c and d: the subnets follow the list, never "b".
  variables {
    region = "ap-northeast-1"
  }
  override_data {
    target = data.aws_availability_zones.available
    values = {
      names    = ["ap-northeast-1d", "ap-northeast-1a", "ap-northeast-1c"]
      zone_ids = ["apne1-az2", "apne1-az4", "apne1-az1"]
    }
  }

  assert {
    condition     = aws_subnet.private[*].availability_zone == ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]
    error_message = "the subnets must be in the zones AWS lists"
  }
}

# Each container gets every variable the dagster.yaml of its DAGSTER_HOME reads (the file in this
# repository the image carries). The migration (the daemon task's "migrate" container, the
# bootstrap task) reads deploy/ecs/migrate/dagster.yaml, storage only: the services' file builds
# EcsRunLauncher, which `dagster instance migrate` would construct and which needs
# DAGSTER_ECS_RUN_TASK_DEFINITION and ecs:DescribeTaskDefinition (issue 24 review, B1). The code
# server and the runs never launch runs and Dagster builds the launcher only when it is used, so
# they need no launcher variable; the bootstrap task sets DAGSTER_PG_PASSWORD itself, to the
# password it has just created.
run "every_container_gets_what_its_dagster_yaml_reads" {
  command = apply

  variables {
    image_tag = "0123456789ab-20261207230000"
  }

  assert {
    condition = alltrue(flatten([
      for definition in [aws_ecs_task_definition.webserver, aws_ecs_task_definition.daemon, aws_ecs_task_definition.code, aws_ecs_task_definition.run, aws_ecs_task_definition.bootstrap] : [
        for c in jsondecode(definition.container_definitions) : [
          for name in flatten(regexall("env: ([A-Z_0-9]+)", file("${replace(one([for e in c.environment : e.value if e.name == "DAGSTER_HOME"]), local.app_dir, "..")}/dagster.yaml"))) :
          contains(concat([for e in c.environment : e.name], [for s in c.secrets : s.name], c.name == "bootstrap" ? ["DAGSTER_PG_PASSWORD"] : [], contains(["code", "run"], c.name) ? ["DAGSTER_ECS_RUN_TASK_DEFINITION"] : []), name)
        ]
      ]
    ]))
    error_message = "a container lacks a variable its dagster.yaml reads"
  }
  assert {
    condition     = [for c in concat(jsondecode(aws_ecs_task_definition.daemon.container_definitions), jsondecode(aws_ecs_task_definition.bootstrap.container_definitions)) : one([for e in c.environment : e.value if e.name == "DAGSTER_HOME"])] == ["/opt/spotify-charts/deploy/ecs/migrate", "/opt/spotify-charts/deploy/ecs", "/opt/spotify-charts/deploy/ecs/migrate"]
    error_message = "the migration runs the storage-only instance (deploy/ecs/migrate), the daemon the services' one"
  }
  assert {
    condition     = !strcontains(file("${replace(one([for e in jsondecode(aws_ecs_task_definition.daemon.container_definitions)[0].environment : e.value if e.name == "DAGSTER_HOME"]), local.app_dir, "..")}/dagster.yaml"), "run_launcher")
    error_message = "the migration's instance has no run launcher"
  }
}

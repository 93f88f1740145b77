# The other combinations docs/aws.md offers, applied against the mocked provider: the postgres
# warehouse with the public UI, a VPC of your own (with and without its own S3 endpoint), the
# interface endpoints, and data protection off for a teardown.

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

run "postgres_public_own_vpc_endpoints_unprotected" {
  command = apply

  variables {
    warehouse           = "postgres"
    webserver_access    = "public"
    allowed_cidrs       = ["0.0.0.0/0"]
    vpc_id              = "vpc-0123456789abcdef0"
    private_subnet_ids  = ["subnet-0000000000000000a", "subnet-0000000000000000b", "subnet-0000000000000000c"]
    public_subnet_ids   = ["subnet-0000000000000000d", "subnet-0000000000000000e"]
    s3_gateway_endpoint = false
    interface_endpoints = true
    data_protection     = false
  }

  # No Redshift anywhere: no workgroup, role, group or S3 rule; the pipeline gets PostgreSQL.
  assert {
    condition     = length(aws_redshiftserverless_workgroup.warehouse) == 0 && length(aws_iam_role.redshift_copy) == 0 && length(aws_vpc_security_group_egress_rule.redshift_to_s3) == 0 && !contains(keys(aws_security_group.from_tasks), "redshift")
    error_message = "the postgres warehouse creates nothing of Redshift"
  }
  assert {
    condition     = output.pipeline_environment["SPOTIFY_CHARTS_WAREHOUSE"] == "postgres" && output.pipeline_environment["SPOTIFY_CHARTS_PG_HOST"] == aws_db_instance.instance.address
    error_message = "the pipeline's warehouse is the RDS instance"
  }
  assert {
    condition     = output.warehouse_host == aws_db_instance.instance.address
    error_message = "warehouse_host is the instance"
  }
  assert {
    condition     = !contains(jsondecode(aws_ecs_task_definition.bootstrap.container_definitions)[0].command, "--redshift-host") && contains(jsondecode(aws_ecs_task_definition.bootstrap.container_definitions)[0].command, "--warehouse-database")
    error_message = "the bootstrap creates the postgres warehouse's database"
  }

  # Your VPC: no VPC, subnet or NAT of the module's, your subnets, and no second S3 endpoint.
  assert {
    condition     = length(aws_vpc.this) == 0 && length(aws_subnet.private) == 0 && length(aws_nat_gateway.this) == 0 && length(aws_vpc_endpoint.s3) == 0
    error_message = "an existing VPC gets no network of the module's and, when asked, no S3 endpoint"
  }
  assert {
    condition     = toset(aws_db_subnet_group.instance.subnet_ids) == toset(var.private_subnet_ids) && toset(aws_ecs_service.code.network_configuration[0].subnets) == toset(var.private_subnet_ids)
    error_message = "the instance and the tasks are in the given private subnets"
  }

  # Public UI: internet-facing in the public subnets, HTTPS with Cognito, allowed_cidrs only.
  assert {
    condition     = !aws_lb.webserver.internal && toset(aws_lb.webserver.subnets) == toset(var.public_subnet_ids)
    error_message = "the public load balancer faces the internet from the public subnets"
  }
  assert {
    condition     = [for action in aws_lb_listener.webserver_https.default_action : action.type] == ["authenticate-cognito", "forward"]
    error_message = "the public UI signs every request in"
  }
  assert {
    condition     = toset(keys(aws_vpc_security_group_ingress_rule.load_balancer)) == toset(["0.0.0.0/0 80", "0.0.0.0/0 443"])
    error_message = "the public load balancer admits allowed_cidrs alone"
  }

  # The interface endpoints Fargate uses, no EC2-only agent endpoints, behind the endpoints' group.
  assert {
    condition     = toset(keys(aws_vpc_endpoint.interface)) == toset(["ecr.api", "ecr.dkr", "logs", "secretsmanager", "ecs", "ssmmessages"])
    error_message = "interface endpoints: what Fargate tasks call (ecs-agent and ecs-telemetry serve EC2 only)"
  }
  assert {
    condition     = alltrue([for endpoint in aws_vpc_endpoint.interface : one(endpoint.security_group_ids) == aws_security_group.from_tasks["endpoints"].id && endpoint.private_dns_enabled])
    error_message = "the endpoints are behind their group, with private DNS"
  }
  assert {
    condition     = toset([for key, rule in aws_vpc_security_group_ingress_rule.from_tasks : key if rule.security_group_id == aws_security_group.from_tasks["endpoints"].id]) == toset(["webserver-endpoints", "code-endpoints", "runs-endpoints"])
    error_message = "every task group reaches the endpoints"
  }

  # Data protection off: everything can go.
  assert {
    condition     = !aws_db_instance.instance.deletion_protection && aws_db_instance.instance.skip_final_snapshot && aws_s3_bucket.charts.force_destroy && aws_ecr_repository.dagster.force_delete && !aws_lb.webserver.enable_deletion_protection && aws_cognito_user_pool.ui.deletion_protection == "INACTIVE" && !output.data_protection
    error_message = "data_protection = false lifts every protection"
  }
  assert {
    condition     = alltrue([for secret in aws_secretsmanager_secret.this : secret.recovery_window_in_days == 0])
    error_message = "secrets are deleted at once"
  }
}

# Your VPC: by default no second S3 gateway endpoint (its route tables usually have one).
run "redshift_in_your_vpc" {
  command = apply

  variables {
    vpc_id             = "vpc-0123456789abcdef0"
    private_subnet_ids = ["subnet-0000000000000000a", "subnet-0000000000000000b", "subnet-0000000000000000c"]
  }

  assert {
    condition     = length(aws_vpc_endpoint.s3) == 0
    error_message = "with vpc_id the S3 endpoint is created only when asked for"
  }
}

run "redshift_in_your_vpc_with_the_module_s_s3_endpoint" {
  command = apply

  variables {
    vpc_id              = "vpc-0123456789abcdef0"
    private_subnet_ids  = ["subnet-0000000000000000a", "subnet-0000000000000000b", "subnet-0000000000000000c"]
    s3_gateway_endpoint = true
  }
  # Two of the subnets share a route table; the VPC has others (not looked up, not touched).
  override_data {
    target = data.aws_route_table.given["subnet-0000000000000000c"]
    values = { id = "rtb-00000000000000002" }
  }

  assert {
    condition     = aws_vpc_endpoint.s3[0].route_table_ids == toset(["rtb-00000000000000001", "rtb-00000000000000002"])
    error_message = "the S3 endpoint goes on the route tables of the given private subnets, each once"
  }
  assert {
    condition     = toset(aws_redshiftserverless_workgroup.warehouse[0].subnet_ids) == toset(var.private_subnet_ids)
    error_message = "the workgroup is in the given subnets"
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.redshift_to_s3[0].prefix_list_id == data.aws_prefix_list.s3.id
    error_message = "COPY reaches S3 in your VPC too"
  }
  assert {
    condition     = toset(keys(aws_vpc_security_group_ingress_rule.load_balancer)) == toset(["10.99.0.0/16 80", "10.99.0.0/16 443"])
    error_message = "the private load balancer admits your VPC's range"
  }
}

run "private_ui_with_a_vpn" {
  command = plan

  variables {
    allowed_cidrs = ["10.8.0.0/16"]
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.load_balancer) == 4 && aws_vpc_security_group_ingress_rule.load_balancer["10.8.0.0/16 443"].cidr_ipv4 == "10.8.0.0/16"
    error_message = "the VPN's range reaches the private load balancer beside the VPC"
  }
}

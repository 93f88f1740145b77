# The network: a VPC of the module's own (three private subnets for the tasks and databases, public
# subnets for the NAT gateway and, when enabled, the public load balancer), or the user's (vpc_id
# and subnet ids). Tasks reach S3 through a gateway endpoint, the Spotify API and alert webhooks
# through NAT, and AWS APIs through NAT or, with interface_endpoints, privately.

################################################################################
# VPC (created unless vpc_id is given)
################################################################################

# The region's first three zones by name, less those Redshift Serverless does not support
# (excluded_zone_ids). Letters are no guide: ap-northeast-1 has a, c and d; us-west-1 has two
# zones. No state filter, so a zone that is briefly impaired does not move the subnets.
data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:the stack takes the first three names in sorted order; a zone AWS adds later sorts after them (AWS names new zones with later letters), so the subnets never move; pinning letters broke regions without a, b and c
  exclude_zone_ids = var.excluded_zone_ids
  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

locals {
  create_vpc              = var.vpc_id == null
  azs                     = slice(sort(data.aws_availability_zones.available.names), 0, min(3, length(data.aws_availability_zones.available.names)))
  vpc_id                  = local.create_vpc ? aws_vpc.this[0].id : var.vpc_id
  vpc_cidr                = local.create_vpc ? aws_vpc.this[0].cidr_block : data.aws_vpc.given[0].cidr_block
  private_subnet_ids      = local.create_vpc ? aws_subnet.private[*].id : var.private_subnet_ids
  public_subnet_ids       = local.create_vpc ? aws_subnet.public[*].id : var.public_subnet_ids
  private_route_table_ids = local.create_vpc ? [aws_route_table.private[0].id] : distinct([for subnet in var.private_subnet_ids : data.aws_route_table.given[subnet].id])
  # With the module's VPC the endpoint is its own; a VPC of yours usually has one already (a route
  # table takes one gateway endpoint per service), so there it is created only when asked for.
  s3_gateway_endpoint = coalesce(var.s3_gateway_endpoint, local.create_vpc)
}

data "aws_vpc" "given" {
  count = local.create_vpc ? 0 : 1
  id    = var.vpc_id
}

# The route tables of the given private subnets (each needs an explicit association), not every
# table of the VPC: the S3 endpoint goes where the stack's tasks and Redshift route, nowhere else.
data "aws_route_table" "given" {
  for_each  = local.create_vpc ? toset([]) : toset(var.private_subnet_ids)
  subnet_id = each.key
}

resource "aws_vpc" "this" {
  #checkov:skip=CKV2_AWS_11:VPC flow logs are an account-level audit choice (they cost per GB); enable them with the organisation's log archive
  count                = local.create_vpc ? 1 : 0
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true # interface endpoints and Cloud Map answer through private DNS
  tags                 = { Name = var.name }

  lifecycle {
    precondition {
      condition     = length(local.azs) == 3
      error_message = "region: ${var.region} has ${length(local.azs)} Availability Zones that Redshift Serverless supports (excluded_zone_ids: ${jsonencode(var.excluded_zone_ids)}); the VPC needs three. Choose another region, or give vpc_id and private_subnet_ids."
    }
  }
}

# The default security group of a new VPC allows traffic between its members: close it.
resource "aws_default_security_group" "this" {
  count  = local.create_vpc ? 1 : 0
  vpc_id = aws_vpc.this[0].id
}

resource "aws_subnet" "private" {
  count             = local.create_vpc ? 3 : 0
  vpc_id            = aws_vpc.this[0].id
  availability_zone = try(local.azs[count.index], null) # the VPC's precondition names a short region
  cidr_block        = cidrsubnet(var.vpc_cidr, 4, count.index)
  tags              = { Name = "${var.name}-private-${try(local.azs[count.index], count.index)}" }
}

resource "aws_subnet" "public" {
  count             = local.create_vpc ? 3 : 0
  vpc_id            = aws_vpc.this[0].id
  availability_zone = try(local.azs[count.index], null)
  cidr_block        = cidrsubnet(var.vpc_cidr, 8, 200 + count.index)
  tags              = { Name = "${var.name}-public-${try(local.azs[count.index], count.index)}" }
}

resource "aws_internet_gateway" "this" {
  count  = local.create_vpc ? 1 : 0
  vpc_id = aws_vpc.this[0].id
}

resource "aws_eip" "nat" {
  count  = local.create_vpc ? 1 : 0
  domain = "vpc"
}

# One NAT gateway (not one per AZ): the pipeline tolerates an AZ outage by retrying the next day,
# and a second gateway would double the network's fixed cost.
resource "aws_nat_gateway" "this" {
  count         = local.create_vpc ? 1 : 0
  allocation_id = aws_eip.nat[0].id
  subnet_id     = aws_subnet.public[0].id
  depends_on    = [aws_internet_gateway.this]
}

resource "aws_route_table" "public" {
  count  = local.create_vpc ? 1 : 0
  vpc_id = aws_vpc.this[0].id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this[0].id
  }
}

resource "aws_route_table_association" "public" {
  count          = local.create_vpc ? 3 : 0
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public[0].id
}

resource "aws_route_table" "private" {
  count  = local.create_vpc ? 1 : 0
  vpc_id = aws_vpc.this[0].id
  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.this[0].id
  }
}

resource "aws_route_table_association" "private" {
  count          = local.create_vpc ? 3 : 0
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[0].id
}

################################################################################
# Security groups: three for the tasks, one for each thing they reach inside the VPC
################################################################################

# The webserver; the code server; the daemon with the runs and the bootstrap task. The daemon
# shares the runs' group because EcsRunLauncher gives each run the network of the task it runs in
# (use_current_ecs_task_config in deploy/ecs/dagster.yaml, which is in the image and cannot name
# this deployment's groups). Each group may send HTTPS anywhere (AWS APIs through NAT or the
# endpoints, the Spotify API, webhooks, Cognito) and reach, on its one port, only what it uses.
locals {
  task_groups = {
    webserver = "Dagster webserver of ${var.name}"
    code      = "Dagster code server of ${var.name}"
    runs      = "Dagster daemon, runs and bootstrap task of ${var.name}"
  }

  # What the tasks reach inside the VPC, each behind a group of its own that admits only the task
  # groups listed, on its one port: Dagster's RDS instance (instance.tf), the Redshift workgroup
  # (warehouse.tf), the interface endpoints (below).
  reachable_from_tasks = merge(
    { instance = { port = 5432, protocol = "PostgreSQL", what = "RDS PostgreSQL of ${var.name} (Dagster's storage)", from = ["webserver", "code", "runs"] } },
    local.redshift ? { redshift = { port = 5439, protocol = "Redshift", what = "Redshift warehouse of ${var.name}", from = ["code", "runs"] } } : {},
    var.interface_endpoints ? { endpoints = { port = 443, protocol = "HTTPS", what = "VPC interface endpoints of ${var.name}", from = ["webserver", "code", "runs"] } } : {},
  )
  task_connections = merge([
    for target, reached in local.reachable_from_tasks : {
      for group in reached.from : "${group}-${target}" => { group = group, target = target, port = reached.port, protocol = reached.protocol }
    }
  ]...)
  # The code server's gRPC port, from the webserver and the daemon (runs load the code themselves).
  code_clients = toset(["webserver", "runs"])
}

resource "aws_security_group" "tasks" {
  for_each    = local.task_groups
  name        = "${var.name}-${each.key}"
  description = each.value
  vpc_id      = local.vpc_id
}

resource "aws_vpc_security_group_egress_rule" "tasks_https" {
  #checkov:skip=CKV_AWS_382:HTTPS only: AWS APIs through NAT, the Spotify API and alert webhooks are on the internet
  for_each          = local.task_groups
  security_group_id = aws_security_group.tasks[each.key].id
  description       = "HTTPS anywhere: AWS APIs, the Spotify API, webhooks"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "tasks_to_code_server" {
  for_each                     = local.code_clients
  security_group_id            = aws_security_group.tasks[each.key].id
  description                  = "The code server's gRPC port"
  ip_protocol                  = "tcp"
  from_port                    = local.code_port
  to_port                      = local.code_port
  referenced_security_group_id = aws_security_group.tasks["code"].id
}

resource "aws_vpc_security_group_ingress_rule" "code_server_from_tasks" {
  for_each                     = local.code_clients
  security_group_id            = aws_security_group.tasks["code"].id
  description                  = "gRPC from the ${each.key} group"
  ip_protocol                  = "tcp"
  from_port                    = local.code_port
  to_port                      = local.code_port
  referenced_security_group_id = aws_security_group.tasks[each.key].id
}

resource "aws_vpc_security_group_ingress_rule" "webserver_from_load_balancer" {
  security_group_id            = aws_security_group.tasks["webserver"].id
  description                  = "The webserver's port, from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = local.ui_port
  to_port                      = local.ui_port
  referenced_security_group_id = aws_security_group.load_balancer.id
}

resource "aws_security_group" "from_tasks" {
  #checkov:skip=CKV2_AWS_5:checkov cannot follow for_each keys; each group is attached by its key: the RDS instance (instance.tf), the Redshift workgroup (warehouse.tf), the interface endpoints (below)
  for_each    = local.reachable_from_tasks
  name        = "${var.name}-${each.key}"
  description = "${each.value.what}: reachable from the Dagster tasks only"
  vpc_id      = local.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "from_tasks" {
  for_each                     = local.task_connections
  security_group_id            = aws_security_group.from_tasks[each.value.target].id
  description                  = "${each.value.protocol} from the ${each.value.group} group"
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = aws_security_group.tasks[each.value.group].id
}

resource "aws_vpc_security_group_egress_rule" "to_reachable" {
  for_each                     = local.task_connections
  security_group_id            = aws_security_group.tasks[each.value.group].id
  description                  = "${each.value.protocol} to the ${each.value.target} group"
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = aws_security_group.from_tasks[each.value.target].id
}

# Redshift's enhanced VPC routing sends COPY's reads of the bucket through the workgroup's own
# network interfaces, so its group must let them out to S3 (the gateway endpoint's prefix list).
# Terraform removes the default allow-all egress of the groups it creates.
data "aws_prefix_list" "s3" {
  name = "com.amazonaws.${local.region}.s3"
}

resource "aws_vpc_security_group_egress_rule" "redshift_to_s3" {
  count             = local.redshift ? 1 : 0
  security_group_id = aws_security_group.from_tasks["redshift"].id
  description       = "HTTPS to S3 through the gateway endpoint (COPY with enhanced VPC routing)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = data.aws_prefix_list.s3.id
}

################################################################################
# VPC endpoints: S3 (gateway, free; Redshift's enhanced VPC routing sends COPY through it) and,
# optionally, the interface endpoints Fargate and the daemon need without NAT
################################################################################

# A route table takes one gateway endpoint per service: in a VPC of your own it is created only
# with s3_gateway_endpoint = true (the subnets' route tables must not have one yet).
resource "aws_vpc_endpoint" "s3" {
  count             = local.s3_gateway_endpoint ? 1 : 0
  vpc_id            = local.vpc_id
  service_name      = "com.amazonaws.${local.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = local.private_route_table_ids
}

# What Fargate tasks call on AWS: the registry (ecr.api, ecr.dkr; layers come from S3 through the
# gateway), logs, secrets, ECS itself (the daemon's RunTask, DescribeTasks) and the ECS Exec
# channel (ssmmessages). ecs-agent and ecs-telemetry serve the EC2 launch type's agent only.
locals {
  interface_endpoint_services = var.interface_endpoints ? toset(
    ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "ecs", "ssmmessages"]
  ) : toset([])
}

resource "aws_vpc_endpoint" "interface" {
  for_each            = local.interface_endpoint_services
  vpc_id              = local.vpc_id
  service_name        = "com.amazonaws.${local.region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = local.private_subnet_ids
  security_group_ids  = [aws_security_group.from_tasks["endpoints"].id]
  private_dns_enabled = true
}

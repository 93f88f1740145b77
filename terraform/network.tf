# The network: a VPC of the module's own (three private subnets for the tasks and databases, public
# subnets for the NAT gateway and, when enabled, the public load balancer), or the user's (vpc_id
# and subnet ids). Tasks reach S3 through a gateway endpoint, the Spotify API and alert webhooks
# through NAT, and AWS APIs through NAT or, with interface_endpoints, privately.

################################################################################
# VPC (created unless vpc_id is given)
################################################################################

# Three zones named outright (Redshift Serverless needs subnets in three): the set never grows by
# itself when AWS adds a zone, which would move subnets.
data "aws_availability_zones" "available" {
  state = "available"
  filter {
    name   = "zone-name"
    values = [for suffix in ["a", "b", "c"] : "${var.region}${suffix}"]
  }
}

locals {
  create_vpc              = var.vpc_id == null
  azs                     = slice(data.aws_availability_zones.available.names, 0, 3)
  vpc_id                  = local.create_vpc ? aws_vpc.this[0].id : var.vpc_id
  vpc_cidr                = local.create_vpc ? aws_vpc.this[0].cidr_block : data.aws_vpc.given[0].cidr_block
  private_subnet_ids      = local.create_vpc ? aws_subnet.private[*].id : var.private_subnet_ids
  public_subnet_ids       = local.create_vpc ? aws_subnet.public[*].id : var.public_subnet_ids
  private_route_table_ids = local.create_vpc ? [aws_route_table.private[0].id] : data.aws_route_tables.given[0].ids
}

data "aws_vpc" "given" {
  count = local.create_vpc ? 0 : 1
  id    = var.vpc_id
}

data "aws_route_tables" "given" {
  count  = local.create_vpc ? 0 : 1
  vpc_id = var.vpc_id
}

resource "aws_vpc" "this" {
  #checkov:skip=CKV2_AWS_11:VPC flow logs are an account-level audit choice (they cost per GB); enable them with the organisation's log archive
  count                = local.create_vpc ? 1 : 0
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true # interface endpoints and Cloud Map answer through private DNS
  tags                 = { Name = var.name }
}

# The default security group of a new VPC allows traffic between its members: close it.
resource "aws_default_security_group" "this" {
  count  = local.create_vpc ? 1 : 0
  vpc_id = aws_vpc.this[0].id
}

resource "aws_subnet" "private" {
  count             = local.create_vpc ? 3 : 0
  vpc_id            = aws_vpc.this[0].id
  availability_zone = local.azs[count.index]
  cidr_block        = cidrsubnet(var.vpc_cidr, 4, count.index)
  tags              = { Name = "${var.name}-private-${local.azs[count.index]}" }
}

resource "aws_subnet" "public" {
  count             = local.create_vpc ? 3 : 0
  vpc_id            = aws_vpc.this[0].id
  availability_zone = local.azs[count.index]
  cidr_block        = cidrsubnet(var.vpc_cidr, 8, 200 + count.index)
  tags              = { Name = "${var.name}-public-${local.azs[count.index]}" }
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
# Security groups: the tasks, the databases, the endpoints
################################################################################

resource "aws_security_group" "tasks" {
  name        = "${var.name}-tasks"
  description = "Dagster tasks of ${var.name} (webserver, daemon, code server, runs)"
  vpc_id      = local.vpc_id
}

resource "aws_vpc_security_group_egress_rule" "tasks_out" {
  #checkov:skip=CKV_AWS_382:the runs call the Spotify API and alert webhooks on the internet (HTTPS); AWS APIs, the databases and the code server are reached inside the VPC
  security_group_id = aws_security_group.tasks.id
  description       = "Anywhere: Spotify API, webhooks, AWS APIs, the databases, the code server"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "tasks_code_server" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "The code server's gRPC port, from the webserver, the daemon and the runs"
  ip_protocol                  = "tcp"
  from_port                    = 4000
  to_port                      = 4000
  referenced_security_group_id = aws_security_group.tasks.id
}

resource "aws_vpc_security_group_ingress_rule" "tasks_webserver" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "The webserver's port, from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = 3000
  to_port                      = 3000
  referenced_security_group_id = aws_security_group.load_balancer.id
}

# What the tasks reach inside the VPC, each behind a group of its own that admits the tasks alone,
# on its one port: Dagster's RDS instance (instance.tf), the Redshift workgroup (warehouse.tf) and
# the interface endpoints (below).
locals {
  reachable_from_tasks = merge(
    { instance = { port = 5432, protocol = "PostgreSQL", what = "RDS PostgreSQL of ${var.name} (Dagster's storage)" } },
    local.redshift ? { redshift = { port = 5439, protocol = "Redshift", what = "Redshift warehouse of ${var.name}" } } : {},
    var.interface_endpoints ? { endpoints = { port = 443, protocol = "HTTPS", what = "VPC interface endpoints of ${var.name}" } } : {},
  )
}

resource "aws_security_group" "from_tasks" {
  #checkov:skip=CKV2_AWS_5:checkov cannot follow for_each keys; each group is attached by its key: the RDS instance (instance.tf), the Redshift workgroup (warehouse.tf), the interface endpoints (below)
  for_each    = local.reachable_from_tasks
  name        = "${var.name}-${each.key}"
  description = "${each.value.what}: reachable from the Dagster tasks only"
  vpc_id      = local.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "from_tasks" {
  for_each                     = local.reachable_from_tasks
  security_group_id            = aws_security_group.from_tasks[each.key].id
  description                  = "${each.value.protocol} from the Dagster tasks"
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  referenced_security_group_id = aws_security_group.tasks.id
}

################################################################################
# VPC endpoints: S3 (gateway, free; Redshift's enhanced VPC routing sends COPY through it) and,
# optionally, the interface endpoints Fargate and the daemon need without NAT
################################################################################

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = local.vpc_id
  service_name      = "com.amazonaws.${local.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = local.private_route_table_ids
}

locals {
  interface_endpoint_services = var.interface_endpoints ? toset(
    ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "ecs", "ecs-agent", "ecs-telemetry", "ssmmessages"]
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

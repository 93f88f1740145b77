# How people reach the Dagster UI. Dagster OSS has no login of its own, and anyone who reaches the
# UI can launch runs with the pipeline's role and secrets: so in both modes the load balancer
# serves HTTPS only (an ACM certificate for webserver_domain_name; a public certificate works on an
# internal load balancer too, only its DNS validation record must be public) and signs every
# request in with Cognito first (federate your own IdP into the user pool to use it instead).
# "private" (default): an internal load balancer, reachable from the VPC and allowed_cidrs (a
# VPN). "public": internet-facing, reachable from allowed_cidrs. `make aws-ui` (SSM port
# forwarding into the webserver's task) bypasses the load balancer and is authorised by IAM
# (ecs:ExecuteCommand) instead.

locals {
  public_ui = var.webserver_access == "public"
  # Who may reach the load balancer's ports: the VPC itself in private mode, and allowed_cidrs.
  load_balancer_sources = toset(concat(local.public_ui ? [] : [local.vpc_cidr], var.allowed_cidrs))
  load_balancer_ingress = merge([
    for cidr in local.load_balancer_sources : {
      for port in [80, 443] : "${cidr} ${port}" => { cidr = cidr, port = port }
    }
  ]...)
}

resource "aws_security_group" "load_balancer" {
  name        = "${var.name}-load-balancer"
  description = "Load balancer of the ${var.name} Dagster UI"
  vpc_id      = local.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "load_balancer" {
  for_each          = local.load_balancer_ingress
  security_group_id = aws_security_group.load_balancer.id
  description       = each.value.port == 443 ? "HTTPS from ${each.value.cidr}" : "HTTP (redirected to HTTPS) from ${each.value.cidr}"
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = each.value.cidr
}

resource "aws_vpc_security_group_egress_rule" "load_balancer_to_webserver" {
  security_group_id            = aws_security_group.load_balancer.id
  description                  = "The webserver's port"
  ip_protocol                  = "tcp"
  from_port                    = local.ui_port
  to_port                      = local.ui_port
  referenced_security_group_id = aws_security_group.tasks["webserver"].id
}

# Cognito's token and user-info endpoints, which the load balancer calls while signing a user in
# (an internal load balancer reaches them through the NAT gateway).
resource "aws_vpc_security_group_egress_rule" "load_balancer_to_cognito" {
  #checkov:skip=CKV_AWS_382:the load balancer reaches Cognito's public token endpoint over HTTPS
  security_group_id = aws_security_group.load_balancer.id
  description       = "HTTPS to Cognito"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_lb" "webserver" {
  #checkov:skip=CKV_AWS_91:access logs need a log bucket of their own with an ELB bucket policy; CloudTrail and Cognito record who signed in
  #checkov:skip=CKV2_AWS_28:a WAF costs per rule and month; in both modes no request reaches the webserver before Cognito has signed it in
  name                       = "${var.name}-ui"
  internal                   = !local.public_ui
  load_balancer_type         = "application"
  security_groups            = [aws_security_group.load_balancer.id]
  subnets                    = local.public_ui ? local.public_subnet_ids : local.private_subnet_ids
  drop_invalid_header_fields = true
  enable_deletion_protection = var.data_protection
}

resource "aws_lb_target_group" "webserver" {
  #checkov:skip=CKV_AWS_378:TLS ends at the load balancer; from there to the task the traffic stays inside the VPC
  name        = "${var.name}-ui"
  port        = local.ui_port
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = local.vpc_id

  health_check {
    path    = "/server_info"
    matcher = "200"
  }
}

# HTTP only redirects to HTTPS.
resource "aws_lb_listener" "webserver" {
  #checkov:skip=CKV_AWS_2:this listener only redirects to the HTTPS listener below
  #checkov:skip=CKV_AWS_103:as above, the TLS policy belongs to the HTTPS listener
  load_balancer_arn = aws_lb.webserver.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"
    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}

# Every request is signed in with Cognito before it reaches the webserver.
resource "aws_lb_listener" "webserver_https" {
  load_balancer_arn = aws_lb.webserver.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.webserver_certificate_arn

  default_action {
    type  = "authenticate-cognito"
    order = 1
    authenticate_cognito {
      user_pool_arn       = aws_cognito_user_pool.ui.arn
      user_pool_client_id = aws_cognito_user_pool_client.ui.id
      user_pool_domain    = aws_cognito_user_pool_domain.ui.domain
    }
  }
  default_action {
    type             = "forward"
    order            = 2
    target_group_arn = aws_lb_target_group.webserver.arn
  }
}

################################################################################
# Cognito: users are created by an administrator, MFA by authenticator app
################################################################################

resource "aws_cognito_user_pool" "ui" {
  name                     = "${var.name}-ui"
  deletion_protection      = var.data_protection ? "ACTIVE" : "INACTIVE"
  mfa_configuration        = "ON"
  auto_verified_attributes = ["email"]

  admin_create_user_config {
    allow_admin_create_user_only = true
  }
  software_token_mfa_configuration {
    enabled = true
  }
  password_policy {
    minimum_length    = 14
    require_lowercase = true
    require_uppercase = true
    require_numbers   = true
    require_symbols   = true
  }
}

resource "aws_cognito_user_pool_domain" "ui" {
  domain       = var.cognito_domain_prefix
  user_pool_id = aws_cognito_user_pool.ui.id
}

# The load balancer needs a client secret; Cognito generates it and it is stored in the state
# (it is an attribute of this resource), in both modes: keep the state in the encrypted S3 backend
# (versions.tf, backend.hcl.example).
resource "aws_cognito_user_pool_client" "ui" {
  name                                 = "${var.name}-load-balancer"
  user_pool_id                         = aws_cognito_user_pool.ui.id
  generate_secret                      = true
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = ["openid", "email"]
  supported_identity_providers         = ["COGNITO"]
  callback_urls                        = ["https://${var.webserver_domain_name}/oauth2/idpresponse"]
}

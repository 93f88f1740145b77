# How people reach the Dagster UI. Dagster OSS has no login, so by default the webserver sits behind
# an INTERNAL load balancer: reachable from the VPC and allowed_cidrs (a VPN), or from a laptop by
# SSM port forwarding into the webserver's task (README). With webserver_access = "public" the load
# balancer faces the internet on HTTPS only and signs every request in with Cognito first (federate
# your own IdP into the user pool to use it instead).

locals {
  public_ui = var.webserver_access == "public"
}

resource "aws_security_group" "load_balancer" {
  name        = "${var.name}-load-balancer"
  description = "Load balancer of the ${var.name} Dagster UI"
  vpc_id      = local.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "load_balancer_from_vpc" {
  count             = local.public_ui ? 0 : 1
  security_group_id = aws_security_group.load_balancer.id
  description       = "HTTP from inside the VPC (SSM port forwarding, peered networks)"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = local.vpc_cidr
}

resource "aws_vpc_security_group_ingress_rule" "load_balancer_from_allowed" {
  for_each          = toset(var.allowed_cidrs)
  security_group_id = aws_security_group.load_balancer.id
  description       = local.public_ui ? "HTTPS from an allowed network" : "HTTP from an allowed network (VPN)"
  ip_protocol       = "tcp"
  from_port         = local.public_ui ? 443 : 80
  to_port           = local.public_ui ? 443 : 80
  cidr_ipv4         = each.key
}

resource "aws_vpc_security_group_egress_rule" "load_balancer_to_webserver" {
  security_group_id            = aws_security_group.load_balancer.id
  description                  = "The webserver's port"
  ip_protocol                  = "tcp"
  from_port                    = local.ui_port
  to_port                      = local.ui_port
  referenced_security_group_id = aws_security_group.tasks.id
}

# Cognito's token endpoint, which the load balancer calls while signing a user in.
resource "aws_vpc_security_group_egress_rule" "load_balancer_to_cognito" {
  #checkov:skip=CKV_AWS_382:the load balancer reaches Cognito's public token endpoint over HTTPS
  count             = local.public_ui ? 1 : 0
  security_group_id = aws_security_group.load_balancer.id
  description       = "HTTPS to Cognito"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_lb" "webserver" {
  #checkov:skip=CKV_AWS_91:access logs need a log bucket of their own with an ELB bucket policy; CloudTrail and Cognito record who signed in
  #checkov:skip=CKV2_AWS_28:a WAF costs per rule and month; the public mode lets no request through unauthenticated
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

# Private mode: plain HTTP inside the VPC (a certificate for a private name needs a private CA,
# about USD 400 a month). Public mode: HTTP only redirects to HTTPS.
resource "aws_lb_listener" "webserver" {
  #checkov:skip=CKV_AWS_2:private mode serves HTTP inside the VPC only (internal load balancer); public mode uses the HTTPS listener below and this one redirects
  #checkov:skip=CKV_AWS_103:as above, the TLS policy belongs to the HTTPS listener
  #checkov:skip=CKV2_AWS_20:public mode redirects HTTP to HTTPS; private mode has no certificate to redirect to
  load_balancer_arn = aws_lb.webserver.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = local.public_ui ? "redirect" : "forward"
    target_group_arn = local.public_ui ? null : aws_lb_target_group.webserver.arn
    dynamic "redirect" {
      for_each = local.public_ui ? [1] : []
      content {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
  }
}

resource "aws_lb_listener" "webserver_https" {
  count             = local.public_ui ? 1 : 0
  load_balancer_arn = aws_lb.webserver.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.webserver_certificate_arn

  default_action {
    type  = "authenticate-cognito"
    order = 1
    authenticate_cognito {
      user_pool_arn       = aws_cognito_user_pool.ui[0].arn
      user_pool_client_id = aws_cognito_user_pool_client.ui[0].id
      user_pool_domain    = aws_cognito_user_pool_domain.ui[0].domain
    }
  }
  default_action {
    type             = "forward"
    order            = 2
    target_group_arn = aws_lb_target_group.webserver.arn
  }
}

################################################################################
# Cognito (public mode): users are created by an administrator, MFA by authenticator app
################################################################################

resource "aws_cognito_user_pool" "ui" {
  count                    = local.public_ui ? 1 : 0
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
  count        = local.public_ui ? 1 : 0
  domain       = var.cognito_domain_prefix
  user_pool_id = aws_cognito_user_pool.ui[0].id
}

# The load balancer needs a client secret; Cognito generates it and it is stored in the state
# (it is an attribute of this resource): keep the state in an encrypted backend (README).
resource "aws_cognito_user_pool_client" "ui" {
  count                                = local.public_ui ? 1 : 0
  name                                 = "${var.name}-load-balancer"
  user_pool_id                         = aws_cognito_user_pool.ui[0].id
  generate_secret                      = true
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = ["openid", "email"]
  supported_identity_providers         = ["COGNITO"]
  callback_urls                        = ["https://${coalesce(var.webserver_domain_name, "unset.invalid")}/oauth2/idpresponse"]
}

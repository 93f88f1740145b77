# What the mocked AWS provider answers for the data sources and computed attributes the stack
# reads (anything not listed here gets a generated value).

mock_data "aws_caller_identity" {
  defaults = {
    account_id = "123456789012"
  }
}

mock_data "aws_partition" {
  defaults = {
    partition = "aws"
  }
}

mock_data "aws_region" {
  defaults = {
    name = "eu-west-1"
  }
}

# eu-west-1 as AWS lists it (names shuffled per account; the IDs are fixed).
mock_data "aws_availability_zones" {
  defaults = {
    names    = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    zone_ids = ["euw1-az3", "euw1-az1", "euw1-az2"]
  }
}

mock_data "aws_prefix_list" {
  defaults = {
    id   = "pl-6da54004"
    name = "com.amazonaws.eu-west-1.s3"
  }
}

# Every policy document renders this one json (the provider checks that policies are JSON): a test
# that a role carries a given document's json must first give the documents jsons of their own
# (security.tftest.hcl does), or it could not fail.
mock_data "aws_iam_policy_document" {
  defaults = {
    json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
  }
}

mock_data "aws_vpc" {
  defaults = {
    cidr_block = "10.99.0.0/16"
  }
}

mock_data "aws_route_table" {
  defaults = {
    id = "rtb-00000000000000001"
  }
}

mock_resource "aws_db_instance" {
  defaults = {
    address = "spotify-charts-instance.abc.eu-west-1.rds.amazonaws.com"
    port    = 5432
    master_user_secret = [{
      kms_key_id    = "arn:aws:kms:eu-west-1:123456789012:key/0000-test"
      secret_arn    = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-0000-AbCdEf"
      secret_status = "active"
    }]
  }
}

mock_resource "aws_redshiftserverless_namespace" {
  defaults = {
    admin_password_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift!ns-0000-AbCdEf"
  }
}

mock_resource "aws_redshiftserverless_workgroup" {
  defaults = {
    arn = "arn:aws:redshift-serverless:eu-west-1:123456789012:workgroup/0000-test"
    endpoint = [{
      address      = "spotify-charts.123456789012.eu-west-1.redshift-serverless.amazonaws.com"
      port         = 5439
      vpc_endpoint = []
    }]
  }
}

mock_resource "aws_ecr_repository" {
  defaults = {
    arn            = "arn:aws:ecr:eu-west-1:123456789012:repository/spotify-charts"
    repository_url = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/spotify-charts"
  }
}

mock_resource "aws_kms_key" {
  defaults = {
    arn = "arn:aws:kms:eu-west-1:123456789012:key/0000-test"
  }
}

# One ARN for every role; tests that tell roles apart override theirs.
mock_resource "aws_iam_role" {
  defaults = {
    arn = "arn:aws:iam::123456789012:role/test"
  }
}

mock_resource "aws_cloudwatch_log_group" {
  defaults = {
    arn = "arn:aws:logs:eu-west-1:123456789012:log-group:test"
  }
}

mock_resource "aws_ecs_cluster" {
  defaults = {
    arn = "arn:aws:ecs:eu-west-1:123456789012:cluster/spotify-charts"
  }
}

mock_resource "aws_ecs_task_definition" {
  defaults = {
    arn                  = "arn:aws:ecs:eu-west-1:123456789012:task-definition/test:1"
    arn_without_revision = "arn:aws:ecs:eu-west-1:123456789012:task-definition/test"
  }
}

mock_resource "aws_s3_bucket" {
  defaults = {
    arn = "arn:aws:s3:::test-spotify-charts"
  }
}

mock_resource "aws_cognito_user_pool" {
  defaults = {
    arn = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_Test"
  }
}

mock_resource "aws_lb" {
  defaults = {
    arn      = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/spotify-charts-ui/0000"
    dns_name = "internal-spotify-charts-ui-0000.eu-west-1.elb.amazonaws.com"
  }
}

mock_resource "aws_lb_target_group" {
  defaults = {
    arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/spotify-charts-ui/0000"
  }
}

mock_resource "aws_service_discovery_service" {
  defaults = {
    arn = "arn:aws:servicediscovery:eu-west-1:123456789012:service/srv-0000"
  }
}

mock_resource "aws_vpc" {
  defaults = {
    cidr_block = "10.40.0.0/16"
  }
}

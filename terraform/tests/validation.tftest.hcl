# Bad settings stop `terraform plan` with a message naming the variable (or, for a region without
# three usable zones, the region), before anything is created.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  bucket_name               = "test-spotify-charts"
  webserver_domain_name     = "dagster.example.com"
  webserver_certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0000-test"
  cognito_domain_prefix     = "test-dagster"
}

run "a_region_with_two_zones" {
  command = plan

  variables {
    region = "us-west-1"
  }
  override_data {
    target = data.aws_availability_zones.available
    values = {
      names    = ["us-west-1a", "us-west-1c"]
      zone_ids = ["usw1-az1", "usw1-az3"]
    }
  }

  expect_failures = [aws_vpc.this]
}

run "zones_redshift_serverless_does_not_support_are_left_out" {
  command = plan

  variables {
    region            = "us-east-1"
    excluded_zone_ids = ["use1-az3"]
  }

  assert {
    condition     = one(data.aws_availability_zones.available.exclude_zone_ids) == "use1-az3"
    error_message = "the zone list must leave out the excluded zone IDs"
  }
}

run "a_name_too_long_for_the_load_balancer" {
  command = plan

  variables {
    name = "spotify-charts-production-eu12" # 30 characters: "<name>-ui" would have 33
  }

  expect_failures = [var.name]
}

run "a_name_ending_in_a_hyphen" {
  command = plan

  variables {
    name = "charts-"
  }

  expect_failures = [var.name]
}

run "the_longest_name_fits" {
  command = plan

  variables {
    name = "spotify-charts-production-eu1" # 29 characters
  }

  assert {
    condition     = length(aws_lb.webserver.name) == 32 && length(aws_lb_target_group.webserver.name) == 32
    error_message = "the load balancer's names have at most 32 characters"
  }
}

run "public_without_allowed_networks" {
  command = plan

  variables {
    webserver_access = "public"
  }

  expect_failures = [var.allowed_cidrs]
}

run "public_in_your_vpc_without_public_subnets" {
  command = plan

  variables {
    webserver_access   = "public"
    allowed_cidrs      = ["0.0.0.0/0"]
    vpc_id             = "vpc-0123456789abcdef0"
    private_subnet_ids = ["subnet-0000000000000000a", "subnet-0000000000000000b", "subnet-0000000000000000c"]
  }

  expect_failures = [var.public_subnet_ids]
}

run "your_vpc_with_two_subnets" {
  command = plan

  variables {
    vpc_id             = "vpc-0123456789abcdef0"
    private_subnet_ids = ["subnet-0000000000000000a", "subnet-0000000000000000b"]
  }

  expect_failures = [var.private_subnet_ids]
}

run "not_a_certificate" {
  command = plan

  variables {
    webserver_certificate_arn = "arn:aws:iam::123456789012:server-certificate/dagster"
  }

  expect_failures = [var.webserver_certificate_arn]
}

run "not_a_host_name" {
  command = plan

  variables {
    webserver_domain_name = "https://dagster.example.com/"
  }

  expect_failures = [var.webserver_domain_name]
}

run "a_cognito_prefix_cognito_refuses" {
  command = plan

  variables {
    cognito_domain_prefix = "my-aws-dagster"
  }

  expect_failures = [var.cognito_domain_prefix]
}

run "a_base_capacity_redshift_refuses" {
  command = plan

  variables {
    redshift_base_capacity = 12
  }

  expect_failures = [var.redshift_base_capacity]
}

run "a_ceiling_below_the_base" {
  command = plan

  variables {
    redshift_base_capacity = 16
    redshift_max_capacity  = 8
  }

  expect_failures = [var.redshift_max_capacity]
}

run "a_log_retention_cloudwatch_refuses" {
  command = plan

  variables {
    log_retention_days = 100
  }

  expect_failures = [var.log_retention_days]
}

run "an_image_tag_docker_refuses" {
  command = plan

  variables {
    image_tag = "v1:latest"
  }

  expect_failures = [var.image_tag]
}

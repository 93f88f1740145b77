################################################################################
# Naming and placement
################################################################################

variable "region" {
  description = "AWS region of everything (Redshift's COPY needs the bucket in the warehouse's region)."
  type        = string
  default     = "eu-west-1"
}

variable "name" {
  description = "Prefix of every resource's name."
  type        = string
  default     = "spotify-charts"

  # The longest name built from it, "<name>-ui" (load balancer and target group), may have 32.
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,27}[a-z0-9]$", var.name)) && !strcontains(var.name, "--")
    error_message = "name: 3 to 29 lowercase letters, digits or single hyphens, starting with a letter and ending with a letter or digit (the load balancer's name \"<name>-ui\" may have at most 32 characters)."
  }
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

################################################################################
# Data: bucket, warehouse, protection
################################################################################

variable "bucket_name" {
  description = "Name of the S3 bucket for raw snapshots, the dashboard and Dagster's compute logs (SPOTIFY_CHARTS_S3_BUCKET); globally unique."
  type        = string
}

variable "s3_prefix" {
  description = "Key prefix inside the bucket (SPOTIFY_CHARTS_S3_PREFIX); empty for none. The pipeline's role may touch only keys under it."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^([a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*)?$", var.s3_prefix))
    error_message = "s3_prefix: path segments of lowercase letters, digits, '.', '_' or '-', without leading or trailing '/'."
  }
}

variable "noncurrent_version_days" {
  description = "Days an overwritten or deleted object version is kept (a refresh overwrites snapshots)."
  type        = number
  default     = 30
}

variable "compute_log_days" {
  description = "Days Dagster's step logs (stdout/stderr under {prefix}/compute-logs/) are kept in the bucket."
  type        = number
  default     = 90
}

variable "warehouse" {
  description = "The pipeline's warehouse: \"redshift\" (Redshift Serverless) or \"postgres\" (a database on the RDS instance that also holds Dagster's storage; for small installs)."
  type        = string
  default     = "redshift"

  validation {
    condition     = contains(["redshift", "postgres"], var.warehouse)
    error_message = "warehouse: \"redshift\" or \"postgres\"."
  }
}

variable "redshift_base_capacity" {
  description = "Redshift Serverless base capacity in RPUs: 4 (the smallest, for warehouses under 32 TB) or a multiple of 8 from 8 to 512 (1024 in some regions); billed only while queries run, at least 60 s each time."
  type        = number
  default     = 4

  validation {
    condition     = var.redshift_base_capacity == 4 || (var.redshift_base_capacity >= 8 && var.redshift_base_capacity <= 1024 && var.redshift_base_capacity % 8 == 0)
    error_message = "redshift_base_capacity: 4, or a multiple of 8 from 8 to 1024."
  }
}

variable "redshift_max_capacity" {
  description = "Redshift Serverless maximum capacity in RPUs (the ceiling of a burst, and of its cost); at least redshift_base_capacity."
  type        = number
  default     = 32

  validation {
    condition     = var.redshift_max_capacity >= var.redshift_base_capacity && var.redshift_max_capacity <= 1024
    error_message = "redshift_max_capacity: from redshift_base_capacity to 1024."
  }
}

variable "redshift_rpu_hours_per_day" {
  description = "Daily limit of Redshift Serverless RPU-hours; past it queries are refused (a runaway backfill cannot run up the bill). 0 for no limit."
  type        = number
  default     = 48
}

variable "data_protection" {
  description = "Protect the data from `terraform destroy`: `make terraform_destroy` refuses (and takes no snapshot), deletion protection on the database, the load balancer and the Cognito pool, bucket and repository not emptied, 30-day secret recovery. Set false and apply (docs/aws.md, Teardown) before a deliberate teardown."
  type        = bool
  default     = true
}

################################################################################
# Network
################################################################################

variable "vpc_id" {
  description = "An existing VPC to use; null to create one (with private subnets, a NAT gateway and an S3 endpoint)."
  type        = string
  default     = null
}

variable "private_subnet_ids" {
  description = "With vpc_id: three or more private subnets in three Availability Zones (Redshift Serverless needs three, in zones it supports) that reach the internet through NAT or a proxy (the Spotify API)."
  type        = list(string)
  default     = []

  validation {
    condition     = var.vpc_id == null ? length(var.private_subnet_ids) == 0 : length(var.private_subnet_ids) >= 3
    error_message = "private_subnet_ids: three or more with vpc_id (Redshift Serverless needs three Availability Zones); none without it (the module makes its own)."
  }
}

variable "public_subnet_ids" {
  description = "With vpc_id and webserver_access = \"public\": public subnets (two or more Availability Zones) for the internet-facing load balancer."
  type        = list(string)
  default     = []

  validation {
    condition     = var.vpc_id == null || var.webserver_access == "private" || length(var.public_subnet_ids) >= 2
    error_message = "public_subnet_ids: two or more with vpc_id and webserver_access = \"public\" (the internet-facing load balancer lives there)."
  }
}

variable "excluded_zone_ids" {
  description = "Availability Zone IDs the module never puts its subnets in: zones where Redshift Serverless (or Fargate) is not offered. use1-az3 is one; check AWS's Redshift Serverless considerations for your region."
  type        = list(string)
  default     = ["use1-az3"]
}

variable "s3_gateway_endpoint" {
  description = "Create the S3 gateway endpoint on the private subnets' route tables (Redshift COPY and image layers use it). null (default): with the module's own VPC only. With vpc_id, true when those route tables have none yet (a route table takes one per service)."
  type        = bool
  default     = null
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC this module creates (ignored with vpc_id)."
  type        = string
  default     = "10.40.0.0/16"
}

variable "interface_endpoints" {
  description = "Create VPC interface endpoints (ECR API and registry, CloudWatch Logs, Secrets Manager, ECS, SSM messages) so AWS traffic stays off the NAT gateway; about USD 7.50 per endpoint and AZ per month."
  type        = bool
  default     = false
}

################################################################################
# Dagster on ECS
################################################################################

variable "image_tag" {
  description = "Tag of the image in the ECR repository the services and runs use. null (before the first `make push`) registers the task definitions but runs no task; `make push` records the tag it pushed in terraform/.image-tag, which `make terraform_deploy` passes on."
  type        = string
  default     = null

  validation {
    condition     = var.image_tag == null || can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag))
    error_message = "image_tag: a Docker tag (letters, digits, '_', '.', '-'; at most 128), or null before the first push."
  }
}

variable "cpu_architecture" {
  description = "CPU architecture of the image and the Fargate tasks: X86_64 or ARM64 (build the image for it)."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture: X86_64 or ARM64."
  }
}

variable "run_cpu" {
  description = "Default vCPU units of a run's Fargate task (1024 = 1 vCPU); a run overrides it with the tag ecs/cpu."
  type        = number
  default     = 1024
}

variable "run_memory" {
  description = "Default memory (MiB) of a run's Fargate task; a run overrides it with the tag ecs/memory."
  type        = number
  default     = 4096
}

variable "log_retention_days" {
  description = "Days every CloudWatch log group of the deployment keeps its events: the services', runs' and ECS Exec's, and those RDS, Enhanced Monitoring, Redshift and Container Insights write to."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days: one of CloudWatch's periods (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "instance_class" {
  description = "Instance class of the RDS PostgreSQL instance holding Dagster's run and event storage (and the warehouse with warehouse = \"postgres\")."
  type        = string
  default     = "db.t4g.small"
}

variable "instance_storage_gb" {
  description = "Allocated storage of that instance, in GiB (it grows up to 4x on demand)."
  type        = number
  default     = 20
}

variable "instance_multi_az" {
  description = "Run the RDS instance in two Availability Zones (doubles its cost)."
  type        = bool
  default     = false
}

variable "admin_rotation_days" {
  description = "Days between rotations of the RDS admin password Secrets Manager manages (only the bootstrap task uses it)."
  type        = number
  default     = 30
}

################################################################################
# Access to the Dagster UI
################################################################################

variable "webserver_access" {
  description = "\"private\": an internal load balancer (reach it over VPN, or by SSM port forwarding, docs/aws.md); \"public\": internet-facing. Both serve HTTPS only and sign users in with Cognito first (Dagster OSS has no login of its own)."
  type        = string
  default     = "private"

  validation {
    condition     = contains(["private", "public"], var.webserver_access)
    error_message = "webserver_access: \"private\" or \"public\"."
  }
}

variable "allowed_cidrs" {
  description = "Networks that may reach the load balancer: with \"private\" the VPN or peered ranges (the VPC itself always may), with \"public\" the offices or 0.0.0.0/0 (at least one)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.allowed_cidrs : can(cidrnetmask(cidr))])
    error_message = "allowed_cidrs: IPv4 CIDR blocks such as 10.8.0.0/16."
  }
  validation {
    condition     = var.webserver_access == "private" || length(var.allowed_cidrs) > 0
    error_message = "allowed_cidrs: webserver_access = \"public\" needs at least one network that may reach the load balancer (0.0.0.0/0 for anyone, who must still sign in)."
  }
}

variable "webserver_domain_name" {
  description = "The UI's host name, covered by webserver_certificate_arn; point it (a CNAME or alias) at the load balancer's DNS name (output load_balancer_dns_name). Cognito sends users back to https://<it>/oauth2/idpresponse."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.webserver_domain_name))
    error_message = "webserver_domain_name: a lowercase DNS name such as dagster.example.com."
  }
}

variable "webserver_certificate_arn" {
  description = "ARN of the ACM certificate for webserver_domain_name, in the deployment's region (a public ACM certificate works on the internal load balancer too)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$", var.webserver_certificate_arn))
    error_message = "webserver_certificate_arn: the ARN of an ACM certificate (arn:aws:acm:<region>:<account>:certificate/<id>)."
  }
}

variable "cognito_domain_prefix" {
  description = "Prefix of the Cognito sign-in domain (<prefix>.auth.<region>.amazoncognito.com), globally unique. Federate your own IdP into the user pool to use it instead of Cognito users."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", var.cognito_domain_prefix)) && !can(regex("aws|amazon|cognito", var.cognito_domain_prefix))
    error_message = "cognito_domain_prefix: lowercase letters, digits and hyphens (at most 63), without \"aws\", \"amazon\" or \"cognito\"."
  }
}

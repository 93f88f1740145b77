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

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "name: 3 to 31 lowercase letters, digits or hyphens, starting with a letter."
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
  description = "Redshift Serverless base capacity in RPUs (8 is the smallest; billed only while queries run)."
  type        = number
  default     = 8
}

variable "redshift_max_capacity" {
  description = "Redshift Serverless maximum capacity in RPUs (the ceiling of a burst, and of its cost)."
  type        = number
  default     = 32
}

variable "redshift_rpu_hours_per_day" {
  description = "Daily limit of Redshift Serverless RPU-hours; past it queries are refused (a runaway backfill cannot run up the bill). 0 for no limit."
  type        = number
  default     = 48
}

variable "data_protection" {
  description = "Protect the data from `terraform destroy`: deletion protection on the database and the load balancer, final snapshot, bucket and repository not emptied, 30-day secret recovery. Set false (README, Teardown) before a deliberate teardown."
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
  description = "With vpc_id: three or more private subnets in three Availability Zones (Redshift Serverless needs three) that reach the internet through NAT or a proxy (the Spotify API)."
  type        = list(string)
  default     = []
}

variable "public_subnet_ids" {
  description = "With vpc_id and webserver_access = \"public\": public subnets for the internet-facing load balancer."
  type        = list(string)
  default     = []
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC this module creates (ignored with vpc_id)."
  type        = string
  default     = "10.40.0.0/16"
}

variable "interface_endpoints" {
  description = "Create VPC interface endpoints (ECR, CloudWatch Logs, Secrets Manager, ECS, SSM messages) so AWS traffic stays off the NAT gateway; about USD 7.50 per endpoint and AZ per month."
  type        = bool
  default     = false
}

################################################################################
# Dagster on ECS
################################################################################

variable "image_tag" {
  description = "Tag of the image in the ECR repository the services and runs use (`make push` sets it)."
  type        = string
  default     = "initial"
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
  description = "Days the CloudWatch log groups of the services and runs keep their events."
  type        = number
  default     = 365
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
  description = "\"private\": an internal load balancer (reach it over VPN, or by SSM port forwarding, README); \"public\": an internet-facing HTTPS load balancer that signs users in with Cognito first (Dagster OSS has no login of its own)."
  type        = string
  default     = "private"

  validation {
    condition     = contains(["private", "public"], var.webserver_access)
    error_message = "webserver_access: \"private\" or \"public\"."
  }
}

variable "allowed_cidrs" {
  description = "Networks that may reach the load balancer: with \"private\" the VPN or peered ranges (the VPC itself always may), with \"public\" the offices or 0.0.0.0/0."
  type        = list(string)
  default     = []
}

variable "webserver_domain_name" {
  description = "With webserver_access = \"public\": the UI's host name (point it at the load balancer's DNS name)."
  type        = string
  default     = null
}

variable "webserver_certificate_arn" {
  description = "With webserver_access = \"public\": ARN of the ACM certificate for webserver_domain_name."
  type        = string
  default     = null
}

variable "cognito_domain_prefix" {
  description = "With webserver_access = \"public\": prefix of the Cognito sign-in domain (<prefix>.auth.<region>.amazoncognito.com), globally unique. Federate your own IdP into the user pool to use it instead of Cognito users."
  type        = string
  default     = null
}

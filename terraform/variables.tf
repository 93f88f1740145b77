variable "region" {
  description = "AWS region for the bucket, the database and the pipeline's role (Redshift's COPY needs the bucket in the warehouse's region)."
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

variable "bucket_name" {
  description = "Name of the S3 bucket for raw snapshots and the dashboard (SPOTIFY_CHARTS_S3_BUCKET); globally unique."
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

variable "vpc_id" {
  description = "VPC of the database and the pipeline's tasks."
  type        = string
}

variable "database_subnet_ids" {
  description = "Private subnets (two or more availability zones) for the PostgreSQL warehouse."
  type        = list(string)
}

variable "pipeline_security_group_id" {
  description = "Security group of the Dagster tasks; only it may reach the database."
  type        = string
}

variable "database_instance_class" {
  description = "Instance class of the PostgreSQL warehouse."
  type        = string
  default     = "db.t4g.medium"
}

variable "database_storage_gb" {
  description = "Allocated storage of the PostgreSQL warehouse, in GiB (it grows up to 4x on demand)."
  type        = number
  default     = 50
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

terraform {
  # 1.10: the S3 backend's own lock file (use_lockfile); 1.9: validations that name other variables.
  required_version = ">= 1.10.0, < 2.0.0"

  # The state holds resource ids and the Cognito app client's secret: keep it in S3, encrypted with
  # KMS and locked while a plan or apply runs. Its settings come from terraform/backend.hcl
  # (copy backend.hcl.example; `make terraform_deploy` passes it to `terraform init`).
  backend "s3" {}

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100.0, < 7.0.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = merge({ project = "spotify-charts" }, var.tags)
  }
}

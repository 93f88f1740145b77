# Copy to terraform/terraform.tfvars (git-ignored) and edit; `make terraform_deploy` reads it.
# No secret goes here: passwords are Secrets Manager's, Spotify credentials go in by `make aws-secrets`.
region      = "eu-west-1"
name        = "spotify-charts"        # 3 to 29 characters
bucket_name = "my-org-spotify-charts" # globally unique
s3_prefix   = "prod"
warehouse   = "redshift" # or "postgres" for a small install

# The UI: HTTPS with Cognito sign-in, whether private (default) or public.
webserver_domain_name     = "dagster.example.com" # point it at the output load_balancer_dns_name
webserver_certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
cognito_domain_prefix     = "my-org-dagster" # globally unique

# data_protection = false    # only before a deliberate `make terraform_destroy`
# vpc_id = "vpc-..."; private_subnet_ids = ["subnet-a", "subnet-b", "subnet-c"]   # an existing VPC
# s3_gateway_endpoint = true    # only if those subnets' route tables have no S3 gateway endpoint yet
# allowed_cidrs = ["10.8.0.0/16"]   # a VPN that may reach the internal load balancer
# webserver_access = "public"; allowed_cidrs = ["0.0.0.0/0"]; public_subnet_ids = [...] (with vpc_id)
# redshift_base_capacity = 4   # RPUs: 4, or a multiple of 8

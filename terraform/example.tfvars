# Copy to terraform/terraform.tfvars (git-ignored) and edit; `make terraform_deploy` reads it.
# No secret goes here: passwords are Secrets Manager's, Spotify credentials go in by `make aws-secrets`.
region      = "eu-west-1"
name        = "spotify-charts"
bucket_name = "my-org-spotify-charts" # globally unique
s3_prefix   = "prod"
warehouse   = "redshift" # or "postgres" for a small install

# image_tag = "..."          # `make push` prints the tag to keep here
# data_protection = false    # only before a deliberate `make terraform_destroy`
# vpc_id = "vpc-..."; private_subnet_ids = ["subnet-a", "subnet-b", "subnet-c"]   # an existing VPC
# allowed_cidrs = ["10.8.0.0/16"]   # a VPN that may reach the internal load balancer
# webserver_access = "public"; webserver_domain_name = "dagster.example.com"
# webserver_certificate_arn = "arn:aws:acm:..."; cognito_domain_prefix = "my-org-dagster"

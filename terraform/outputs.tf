output "bucket" {
  description = "SPOTIFY_CHARTS_S3_BUCKET for the pipeline."
  value       = aws_s3_bucket.charts.bucket
}

output "region" {
  description = "The region everything is in."
  value       = local.region
}

output "pipeline_role_arn" {
  description = "Task role of the code server and the runs."
  value       = aws_iam_role.pipeline.arn
}

output "pipeline_environment" {
  description = "The pipeline's settings (README, Configuration) as the code server and the runs get them, apart from the secrets (injected from Secrets Manager, see secret_arns)."
  value       = local.pipeline_environment
}

output "secret_arns" {
  description = "Secrets Manager secrets the tasks read: Spotify credentials and the alert webhook (written by make aws-secrets), the warehouse's and Dagster's own database users (written by the bootstrap task). ARNs only; no value is ever an output."
  value       = { for name, secret in aws_secretsmanager_secret.this : name => secret.arn }
}

output "warehouse_host" {
  description = "The warehouse's endpoint (Redshift Serverless workgroup, or the RDS instance with warehouse = \"postgres\")."
  value       = local.redshift ? aws_redshiftserverless_workgroup.warehouse[0].endpoint[0].address : aws_db_instance.instance.address
}

output "ecr_repository_url" {
  description = "Where `make push` pushes the image."
  value       = aws_ecr_repository.dagster.repository_url
}

output "ecs_cluster" {
  description = "The ECS cluster of the services and the runs."
  value       = aws_ecs_cluster.dagster.name
}

output "ecs_services" {
  description = "The services `make push` redeploys."
  value       = [aws_ecs_service.webserver.name, aws_ecs_service.daemon.name, aws_ecs_service.code.name]
}

output "bootstrap" {
  description = "What `make aws-bootstrap` runs: the task definition, and the network for `aws ecs run-task`."
  value = {
    task_definition = aws_ecs_task_definition.bootstrap.arn
    subnets         = local.private_subnet_ids
    security_group  = aws_security_group.tasks["runs"].id
  }
}

output "webserver_url" {
  description = "The Dagster UI, behind Cognito sign-in (private mode: from the VPC, allowed_cidrs or a VPN; `make aws-ui` reaches the webserver without the load balancer, docs/aws.md)."
  value       = "https://${var.webserver_domain_name}"
}

output "load_balancer_dns_name" {
  description = "DNS name of the UI's load balancer: point webserver_domain_name at it."
  value       = aws_lb.webserver.dns_name
}

output "cognito_user_pool_id" {
  description = "The user pool whose users may sign in to the UI (create them with `aws cognito-idp admin-create-user`)."
  value       = aws_cognito_user_pool.ui.id
}

output "data_protection" {
  description = "Whether the applied configuration protects the data; `make terraform_destroy` refuses while it is true."
  value       = var.data_protection
}

output "warehouse" {
  description = "The warehouse kind (\"redshift\" or \"postgres\")."
  value       = var.warehouse
}

output "services_running" {
  description = "Whether the services run (an image tag is set); false before the first `make push`."
  value       = local.image_pushed
}

output "redshift_namespace" {
  description = "The Redshift Serverless namespace (`make terraform_destroy` snapshots it); null with warehouse = \"postgres\"."
  value       = one(aws_redshiftserverless_namespace.warehouse[*].namespace_name)
}

output "cpu_architecture" {
  description = "The CPU architecture `make push` builds the image for."
  value       = var.cpu_architecture
}

output "image_tag" {
  description = "The image tag the services run (empty before the first `make push`); `make terraform_deploy` keeps it when terraform/.image-tag is absent (a fresh clone)."
  value       = var.image_tag == null ? "" : var.image_tag
}

output "rds_instance" {
  description = "Identifier of the RDS instance (`make terraform_destroy` snapshots it)."
  value       = aws_db_instance.instance.identifier
}

output "kms_key_arn" {
  description = "The project's KMS key; `make terraform_destroy` keeps it (it decrypts the final snapshots) and says how to delete it later."
  value       = aws_kms_key.data.arn
}

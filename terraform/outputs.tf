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
    security_group  = aws_security_group.tasks.id
  }
}

output "webserver_url" {
  description = "The Dagster UI: the public HTTPS name, or the internal load balancer (reach it over VPN or `make aws-ui`, README)."
  value       = local.public_ui ? "https://${var.webserver_domain_name}" : "http://${aws_lb.webserver.dns_name}"
}

output "load_balancer_dns_name" {
  description = "DNS name of the UI's load balancer (with webserver_access = \"public\", point webserver_domain_name at it)."
  value       = aws_lb.webserver.dns_name
}

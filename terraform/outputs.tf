output "bucket" {
  description = "SPOTIFY_CHARTS_S3_BUCKET for the pipeline."
  value       = aws_s3_bucket.charts.bucket
}

output "pipeline_role_arn" {
  description = "Task role of the Dagster tasks (ECS task definitions' taskRoleArn)."
  value       = aws_iam_role.pipeline.arn
}

output "warehouse_host" {
  description = "SPOTIFY_CHARTS_PG_HOST for the pipeline."
  value       = aws_db_instance.warehouse.address
}

output "warehouse_password_secret_arn" {
  description = "Secrets Manager secret holding the warehouse's user and password (JSON); give it to the task as SPOTIFY_CHARTS_PG_PASSWORD through the task definition's secrets (valueFrom: '<arn>:password::'). The password itself is never an output."
  value       = aws_db_instance.warehouse.master_user_secret[0].secret_arn
}

output "pipeline_environment" {
  description = "The pipeline's settings (README, Configuration), apart from the password."
  value = {
    SPOTIFY_CHARTS_S3_BUCKET   = aws_s3_bucket.charts.bucket
    SPOTIFY_CHARTS_S3_PREFIX   = var.s3_prefix
    SPOTIFY_CHARTS_WAREHOUSE   = "postgres"
    SPOTIFY_CHARTS_PG_HOST     = aws_db_instance.warehouse.address
    SPOTIFY_CHARTS_PG_PORT     = tostring(aws_db_instance.warehouse.port)
    SPOTIFY_CHARTS_PG_USER     = aws_db_instance.warehouse.username
    SPOTIFY_CHARTS_PG_DATABASE = aws_db_instance.warehouse.db_name
    AWS_REGION                 = var.region
  }
}

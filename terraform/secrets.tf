# The deployment's own secrets, in Secrets Manager. Terraform creates each WITHOUT a value, so no
# value ever passes through a variable, a plan or the state:
# - spotify ({"SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "SPOTIFY_REFRESH_TOKEN"}) and
#   alert_webhook ({"SPOTIFY_CHARTS_ALERT_WEBHOOK": "https://..." or ""}) are written by
#   `make aws-secrets` (spotify_charts/cli/aws.py, from your .env);
# - warehouse_user and dagster_user ({"username", "password"}) are written by the bootstrap task
#   (dagster.tf) when it creates those database users. The tasks get the first as
#   SPOTIFY_CHARTS_REDSHIFT_PASSWORD and SPOTIFY_CHARTS_PG_PASSWORD, the second as DAGSTER_PG_PASSWORD.
# The task definitions inject them as `secrets` (dagster.tf); the RDS and Redshift admin secrets are
# managed by those services (instance.tf, warehouse.tf).

locals {
  secrets = {
    spotify        = "Spotify developer app and refresh token of ${var.name} (written by make aws-secrets)"
    alert_webhook  = "URL run failures of ${var.name} are posted to (written by make aws-secrets)"
    warehouse_user = "The ${var.name} pipeline's own ${var.warehouse} user (written by the bootstrap task)"
    dagster_user   = "The ${var.name} Dagster instance's own PostgreSQL user (written by the bootstrap task)"
  }
}

resource "aws_secretsmanager_secret" "this" {
  #checkov:skip=CKV2_AWS_57:AWS rotates none of these without a Lambda of its own; `make token` then `make aws-secrets` replace the Spotify token and the webhook, `make aws-bootstrap` sets new database passwords (README, Operating on AWS)
  for_each                = local.secrets
  name                    = "${var.name}/${replace(each.key, "_", "-")}"
  description             = each.value
  kms_key_id              = aws_kms_key.data.arn
  recovery_window_in_days = local.secret_window
}

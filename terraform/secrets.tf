# The pipeline's credentials for outside services, in Secrets Manager and injected into the code
# server's and the runs' tasks as `secrets`. Terraform creates the secrets WITHOUT a value: the
# values are written by `make aws-secrets` (spotify_charts/cli/aws.py, from your .env), so they
# never pass through a variable, a plan or the state.

# {"SPOTIFY_CLIENT_ID": ..., "SPOTIFY_CLIENT_SECRET": ..., "SPOTIFY_REFRESH_TOKEN": ...}
resource "aws_secretsmanager_secret" "spotify" {
  #checkov:skip=CKV2_AWS_57:a Spotify refresh token cannot be rotated by AWS; `make token` then `make aws-secrets` replace it
  name                    = "${var.name}/spotify"
  description             = "Spotify developer app and refresh token of ${var.name} (written by make aws-secrets)"
  kms_key_id              = aws_kms_key.data.arn
  recovery_window_in_days = local.secret_window
}

# {"SPOTIFY_CHARTS_ALERT_WEBHOOK": "https://..." or ""}
resource "aws_secretsmanager_secret" "alert_webhook" {
  #checkov:skip=CKV2_AWS_57:a webhook URL is issued by the chat service, not rotatable by AWS; `make aws-secrets` replaces it
  name                    = "${var.name}/alert-webhook"
  description             = "URL run failures of ${var.name} are posted to (written by make aws-secrets)"
  kms_key_id              = aws_kms_key.data.arn
  recovery_window_in_days = local.secret_window
}

"""Sensors: a run-failure sensor that logs which assets and partitions failed, and why (and posts
it to a webhook when one is configured); the automation sensor that rebuilds the dashboard."""

import os

import dagster as dg

from spotify_charts.alerts import failure_message, post_alert

ALERT_WEBHOOK_ENV = "SPOTIFY_CHARTS_ALERT_WEBHOOK"


@dg.run_failure_sensor(default_status=dg.DefaultSensorStatus.RUNNING)
def log_run_failures(context: dg.RunFailureSensorContext) -> None:
    """Logs each failed run with its assets, partition and error; posts it to the alert webhook."""
    run = context.dagster_run
    partition = run.tags.get("dagster/partition") or "..".join(
        filter(
            None,
            [run.tags.get("dagster/asset_partition_range_start"), run.tags.get("dagster/asset_partition_range_end")],
        )
    )
    step_failures = context.instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    errors = [
        f"{entry.step_key}: {_root_cause(entry.dagster_event.event_specific_data.error)}"
        for entry in step_failures
        if entry.dagster_event and entry.dagster_event.event_specific_data.error
    ]
    assets = sorted(key.to_user_string() for key in (run.asset_selection or []))
    if not assets:  # a whole-job run: name the steps that failed
        assets = sorted({entry.step_key for entry in step_failures if entry.step_key})
    error = "; ".join(errors) or context.failure_event.message or "unknown error"
    message = failure_message(run.run_id, run.job_name, assets, partition or None, error)
    context.log.error(message["text"])
    webhook = os.environ.get(ALERT_WEBHOOK_ENV)  # read per failure, never logged: it may hold a token
    if webhook:
        problem = post_alert(webhook, message)
        if problem:
            context.log.warning(f"{problem}; the failure is in the log line above")


def _root_cause(error) -> str:
    """The innermost error's message (Dagster wraps the asset's own exception)."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


# Dagster's own default automation sensor ships stopped; this one runs. It evaluates the
# conditions of the dbt models and the dashboard (eager: they follow new staging partitions and
# each other) and of the hourly freshness check.
automation_conditions = dg.AutomationConditionSensorDefinition(
    "automation_conditions",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Materialises dbt models and the dashboard when what they stand on changes; runs hourly checks.",
)

"""Sensors: a run-failure sensor that logs which assets and partitions failed, and why."""

import dagster as dg


@dg.run_failure_sensor(default_status=dg.DefaultSensorStatus.RUNNING)
def log_run_failures(context: dg.RunFailureSensorContext) -> None:
    run = context.dagster_run
    partition = run.tags.get("dagster/partition") or "..".join(
        filter(
            None,
            [run.tags.get("dagster/asset_partition_range_start"), run.tags.get("dagster/asset_partition_range_end")],
        )
    )
    assets = ", ".join(key.to_user_string() for key in (run.asset_selection or []))
    context.log.error(
        f"run {run.run_id} failed: assets [{assets or run.job_name}] partition {partition or '-'}: "
        f"{context.failure_event.message}"
    )

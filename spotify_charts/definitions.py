"""The spotify-charts code location: every asset, schedule, sensor and resource."""

import multiprocessing

import dagster as dg

from spotify_charts.defs.assets.dashboard import dashboard_page
from spotify_charts.defs.assets.dbt import analytics_dbt_models, daily_dbt_models
from spotify_charts.defs.assets.raw import raw_chart_snapshots
from spotify_charts.defs.assets.staging import latest_chart_date_is_recent, staging_chart_tables
from spotify_charts.defs.automation.history import import_history_job
from spotify_charts.defs.automation.jobs import all_assets_job, full_rebuild_job, ingest_job
from spotify_charts.defs.automation.schedules import daily_charts_schedule, weekly_full_rebuild_schedule
from spotify_charts.defs.automation.sensors import (
    automation_conditions,
    csv_exports,
    dead_runs,
    log_run_failures,
    new_chart_dates,
    song_signals_webhook,
)
from spotify_charts.defs.resources import build_resources

# The multiprocess executor (Dagster's default) starts a fresh Python for every step, and each one
# imported the code location again before doing anything: ~4 s a step, most of a daily update's
# Dagster overhead. Forked from a process that has imported it once per run, a step starts in well
# under a second. Run config can still choose `in_process` (the demo does) or other options.
STEP_PRELOAD = {"forkserver": {"preload_modules": ["spotify_charts.definitions"]}}


def steps_forked_from_a_preloaded_process(config: dict) -> dict:
    if "multiprocess" not in config or "forkserver" not in multiprocessing.get_all_start_methods():  # (Windows)
        return config
    return {"multiprocess": {"start_method": STEP_PRELOAD, **config["multiprocess"]}}


executor = dg.multi_or_in_process_executor.configured(
    steps_forked_from_a_preloaded_process, config_schema=dg.multi_or_in_process_executor.config_schema.as_field()
)

defs = dg.Definitions(
    assets=[raw_chart_snapshots, staging_chart_tables, daily_dbt_models, analytics_dbt_models, dashboard_page],
    asset_checks=[latest_chart_date_is_recent],
    jobs=[ingest_job, all_assets_job, import_history_job, full_rebuild_job],
    schedules=[daily_charts_schedule, weekly_full_rebuild_schedule],
    sensors=[new_chart_dates, csv_exports, automation_conditions, log_run_failures, dead_runs, song_signals_webhook],
    resources=build_resources(),
    executor=executor,
)

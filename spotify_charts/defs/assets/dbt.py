"""dbt layer: the models in `dbt/`.

Two sets: the date-partitioned models (staging views, incremental facts; tag `daily`) run with the
partition range's dates, once per backfill; everything else (seeds, intermediate models,
dimensions and the contract marts) is unpartitioned and rebuilds from all history downstream.
"""

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from pydantic import Field

from spotify_charts.defs.dbt_project import dbt_project
from spotify_charts.defs.partitions import WAREHOUSE_POOL, chart_date_partitions, partition_dates
from spotify_charts.defs.resources import WarehouseResource
from spotify_charts.defs.retries import TRANSIENT_RETRY_POLICY, permanent_failures_not_retried

# A run builds a subset of the models (one asset set, or what automation requested): only the
# tests whose every parent is in it run, not a test that also reads a model built elsewhere.
CAUTIOUS = ["--indirect-selection", "cautious"]
# dbt's unit tests check the models' SQL on hand-written inputs: the same answer every run, so they
# run in `make test` and CI, not in every daily build (dbt's own advice for production).
NO_UNIT_TESTS = ["--exclude-resource-type", "unit_test"]
DAILY_TAG = "daily"
DBT_TARGET = dbt_project.manifest_path.parent  # dbt/target
PARSE_STATE = "parse_state"
PARTIAL_PARSE = "partial_parse.msgpack"
KEPT_PARSE_STATES = 16  # ~1 MB each
REGIONS_SEED = dg.AssetKey(["reference", "regions"])
DAILY_SELECTION = f"tag:{DAILY_TAG}"
CORE_GROUP = "core"


class ChartsDbtTranslator(DagsterDbtTranslator):
    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> dg.AutomationCondition | None:
        """New staging partitions flow on through dbt by themselves (the automation sensor runs it).

        Partitioned models: eager for any date, not only the latest, so a catch-up range or a
        backfill flows too. The rest stand on every date of the facts, most of which are never
        loaded (history starts in 2017): they follow any update, missing dates or not."""
        if dbt_resource_props["resource_type"] == "seed":  # reference data: once, and when the CSV changes
            return (
                dg.AutomationCondition.missing() | dg.AutomationCondition.code_version_changed()
            ) & ~dg.AutomationCondition.in_progress()
        if DAILY_TAG in dbt_resource_props.get("tags", []):
            return dg.AutomationCondition.eager().without(dg.AutomationCondition.in_latest_time_window())
        # (The regions seed is built once on its own; its first build must not start the marts
        # before any chart is loaded.)
        updated = dg.AutomationCondition.any_deps_updated().ignore(dg.AssetSelection.assets(REGIONS_SEED))
        return (
            updated.since_last_handled()
            & ~dg.AutomationCondition.any_deps_in_progress()
            & ~dg.AutomationCondition.in_progress()
        ).with_label("eager, any loaded dates")

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """The layer, named by the model's folder under dbt/models: staging, core or analytics. The
        regions seed is reference data the dimensions use: core."""
        if dbt_resource_props["resource_type"] == "seed":
            return CORE_GROUP
        return dbt_resource_props["fqn"][1]


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed meanwhile by another step
        return 0.0


def run_dbt(
    dbt: DbtCliResource, args: list[str], context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[Any]:
    """`dbt.cli(args)`'s events, in a target folder of its own (`dbt/target/<op>-<run>-<id>`:
    compiled SQL, run results, a copy of the manifest), removed afterwards so `dbt/target` does not
    grow with every run. dbt's errors are in the run's log.

    What dbt parsed is kept for the step's next command on the same warehouse
    (`dbt/target/parse_state/<op>-<warehouse>.msgpack`, replaced atomically; the newest
    KEPT_PARSE_STATES stay), which dbt reads unless the project, the profile or the vars changed:
    the analytics step's vars do not, so its builds parse only what changed (~3 s less; the daily
    step's dates change every day). dbt checks the state against the project's files itself; a
    failed command drops it, so a state that dbt cannot use does not outlast one failure."""
    name = context.op_execution_context.op.name
    target = DBT_TARGET / f"{name}-{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}"
    where = hashlib.sha256(json.dumps(warehouse.dbt_arguments()).encode()).hexdigest()[:12]
    kept = DBT_TARGET / PARSE_STATE / f"{name}-{where}.msgpack"
    if kept.exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kept, target / PARTIAL_PARSE)  # (dagster-dbt copies dbt/target's only if none is there)
    try:
        invocation = dbt.cli(args, context=context, target_path=target)
        yield from invocation.stream()
        parsed = target / PARTIAL_PARSE
        if parsed.exists():
            kept.parent.mkdir(parents=True, exist_ok=True)
            incoming = kept.with_name(f"{kept.name}.{uuid.uuid4().hex[:7]}")
            shutil.copyfile(parsed, incoming)
            os.replace(incoming, kept)
            for old in sorted(kept.parent.glob("*.msgpack"), key=_modified)[:-KEPT_PARSE_STATES]:
                old.unlink(missing_ok=True)
    except BaseException:
        kept.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(target, ignore_errors=True)


# What both dbt steps share: one project, one translator, the warehouse pool, the retry policy, and
# the single-run backfill policy (a range is one `dbt build`; the unpartitioned step has it too, so
# one CLI run can take a partition range and these assets together).
DBT_STEP = dict(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=ChartsDbtTranslator(),
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WAREHOUSE_POOL,
    retry_policy=TRANSIENT_RETRY_POLICY,
)


@dbt_assets(select=DAILY_SELECTION, partitions_def=chart_date_partitions, **DBT_STEP)
def daily_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """The staging views and the incremental fact table, built for the run's chart dates."""
    dates = partition_dates(context)
    dates_vars = {"min_date": dates[0].isoformat(), "max_date": dates[-1].isoformat()}
    with permanent_failures_not_retried():  # a failed dbt test fails once; a dropped connection is retried
        yield from run_dbt(
            dbt, ["build", *CAUTIOUS, *NO_UNIT_TESTS, *warehouse.dbt_arguments(dates_vars)], context, warehouse
        )


class AnalyticsConfig(dg.Config):
    full_refresh: bool = Field(
        default=False,
        description="Rebuild every incremental analytics model from all history (dbt --full-refresh), "
        "as the weekly full rebuild does; otherwise only what changed since the last build.",
    )


@dbt_assets(exclude=DAILY_SELECTION, **DBT_STEP)
def analytics_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource, config: AnalyticsConfig
):
    """Dimensions and the contract marts that answer the dashboard's questions, from all loaded
    history. The per-song models are incremental: a build recomputes the songs of the chart dates
    that changed since the last build (README, "How the marts stay incremental")."""
    full_refresh = ["--full-refresh"] if config.full_refresh else []
    with permanent_failures_not_retried():
        yield from run_dbt(
            dbt, ["build", *CAUTIOUS, *NO_UNIT_TESTS, *full_refresh, *warehouse.dbt_arguments()], context, warehouse
        )

"""Dashboard layer: the HTML page that answers the three questions, rebuilt from the contract tables."""

import datetime as dt

import dagster as dg
from dagster_dbt import build_dbt_asset_selection

from spotify_charts.dashboard.data import load
from spotify_charts.dashboard.page import PAGE_KEY, latest_signals, render, summary_markdown
from spotify_charts.defs.assets.dbt import analytics_dbt_models
from spotify_charts.defs.partitions import WAREHOUSE_POOL
from spotify_charts.defs.resources import FileStoreResource, WarehouseResource
from spotify_charts.defs.retries import TRANSIENT_RETRY_POLICY, permanent_failures_not_retried

# The page stands on the contract tables as dbt itself marks them (models whose contract is
# enforced), not on a list kept by hand: the set follows the dbt project whatever its folders,
# groups or schemas are called.
CONTRACT_SELECTION = build_dbt_asset_selection([analytics_dbt_models], dbt_select="config.contract.enforced:true")
CONTRACT_TABLE_KEYS = sorted(CONTRACT_SELECTION.resolve([analytics_dbt_models]))


@dg.asset(
    name="dashboard",
    deps=CONTRACT_TABLE_KEYS,
    group_name="dashboard",
    kinds={"html"},
    backfill_policy=dg.BackfillPolicy.single_run(),
    automation_condition=dg.AutomationCondition.eager(),
    pool=WAREHOUSE_POOL,
    retry_policy=TRANSIENT_RETRY_POLICY,
)
def dashboard_page(
    context: dg.AssetExecutionContext, file_store: FileStoreResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """One self-contained HTML page (no request to any other host) with every loaded chart's answers,
    opening with the songs to act on; its metadata counts the latest loaded date's signals."""
    with permanent_failures_not_retried():
        source = warehouse.get_warehouse()
        data = load(source.query, source.table_names("marts"))
        page = render(data, dt.datetime.now(dt.UTC))
        store = file_store.get_store()
        store.write(PAGE_KEY, page.encode())
        location = store.uri(PAGE_KEY)
    context.log.info(f"dashboard written to {location}")
    signals_date, signal_counts, signals_table = latest_signals(data)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(location),
            "summary": dg.MetadataValue.md(summary_markdown(data)),
            "charts": len(data.charts),
            "bytes": len(page.encode()),
            # the latest loaded date's signals (marts.song_signals): a count per rule, and the rows
            "signals_date": dg.MetadataValue.text(str(signals_date or "-")),
            **{f"signals_{rule}": dg.MetadataValue.int(count) for rule, count in signal_counts.items()},
            "signals": dg.MetadataValue.md(signals_table),
        }
    )

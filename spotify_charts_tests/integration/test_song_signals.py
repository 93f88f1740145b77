"""What `make demo` gives on the built-in sample charts: signals of at least four rules over the last
seven loaded dates, and the dashboard opening with them."""

from __future__ import annotations

import datetime as dt
import re

from spotify_charts.cli.demo import demo_window
from spotify_charts.dashboard import data as dashboard_data
from spotify_charts.dashboard import page as dashboard
from spotify_charts.regions import DEFAULT_REGIONS, daily_alias
from spotify_charts.warehouses.base import dbt_arguments
from spotify_charts_tests.support.helpers import dbt, sample_warehouse

DAYS = 30  # the end of the demo's window: what the signals of its last week look back on


def test_the_demo_charts_give_signals_of_four_rules_in_their_last_week(tmp_path):
    _, last = demo_window(None, None)  # the demo's default window ends yesterday
    dates = [last - dt.timedelta(days=n) for n in reversed(range(DAYS))]
    aliases = [daily_alias(code) for code in DEFAULT_REGIONS]  # the demo's charts
    warehouse = sample_warehouse(tmp_path, aliases, dates)
    built = dbt(["build", "--exclude", "test_type:unit", *dbt_arguments(warehouse)], {}, tmp_path)
    assert built.returncode == 0, built.stdout[-3000:]

    week = warehouse.query(
        "select signal, count(*) as n from marts.song_signals where chart_date > ? group by signal",
        [last - dt.timedelta(days=7)],
    )
    assert len(week) >= 4, week

    data = dashboard_data.load(warehouse.query, warehouse.table_names("marts"))
    html = dashboard.render(data, dt.datetime.now(dt.UTC))
    assert html.count(f"<h3>Act now: signals on {last}</h3>") == len(aliases)
    shown = set(re.findall(r'data-table="signals-([a-z_0-9]+)"', html))
    assert len(shown) >= 2 and shown <= set(dashboard_data.SIGNAL_RULES)

"""What the dashboard shows, read from the warehouse: every contract table, grouped by chart.

Plain module (no Dagster import).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

CONTRACT_TABLES = (
    "new_songs_by_month",
    "song_longevity",
    "chart_reentries",
    "artist_days_at_number_one",
    "longest_top10_runs",
    "release_day_performance",
    "song_lifecycle",
    "top_songs",
    "top_artists",
    "song_signals",
)
SIGNALS = "song_signals"
# The signal rules (marts.song_signals), in the order the page and the messages list them, with
# their labels (docs/signals.md says what each means).
SIGNAL_RULES = {
    "top_10_entry": "Into the top 10",
    "top_10_exit": "Out of the top 10",
    "climbing": "Climbing after the debut",
    "fading_early": "Fading early: time to push",
    "reentry": "Back on the chart",
    "spreading": "Spreading from other charts",
}
LONGEVITY_BUCKETS = ("1 week", "2-3 weeks", "4-6 weeks", "7-9 weeks", "10-15 weeks", "16+ weeks")
MIN_DAYS = 2  # a chart with fewer loaded dates has nothing to compare yet
TOP_N = 10
# The tables the page shows the first TOP_N rows of, by this order (page.py sorts them the same
# way): only the rows that can be among them are read, not every song of every chart (a million
# rows at 73 charts x 5 years). The last text column of each page order is left out here, so rows
# tied on the rest all come (databases' text collations differ; Python breaks the tie).
RANKED = {
    "top_songs": "streams_rank",
    "longest_top10_runs": "run_days desc, run_start_date",
    "chart_reentries": "reentries desc, peak_rank",
    "artist_days_at_number_one": "days_at_number_one desc",
    "top_artists": "streams_rank",
}
LIFECYCLE_MIN_SONGS = 10

Query = Callable[[str], list[dict]]


@dataclass
class ChartData:
    chart_id: str
    region_name: str
    first_date: dt.date
    last_date: dt.date
    days_loaded: int
    tables: dict[str, list[dict]] = field(default_factory=dict)

    @property
    def enough(self) -> bool:
        return self.days_loaded >= MIN_DAYS


@dataclass
class DashboardData:
    charts: list[ChartData]
    sources: list[str]

    @property
    def is_sample(self) -> bool:
        return "sample" in self.sources


def load(query: Query, existing_tables: set[str]) -> DashboardData:
    """Read every contract table, grouped by chart (global first). Missing tables read as empty."""
    if not {"dim_charts", "fct_chart_entries", *CONTRACT_TABLES} <= existing_tables:
        return DashboardData([], [])
    charts = [
        ChartData(
            r["chart_id"], r["region_name"] or r["chart_id"], r["first_chart_date"], r["last_chart_date"],
            r["days_loaded"],
        )
        for r in query(
            "select chart_id, region_name, first_chart_date, last_chart_date, days_loaded from marts.dim_charts "
            "order by case when chart_id = 'regional-global-daily' then 0 else 1 end, chart_id"
        )
    ]  # fmt: skip
    by_id = {chart.chart_id: chart for chart in charts}
    for table in CONTRACT_TABLES:
        for chart in charts:
            chart.tables[table] = []
        for row in query(_rows_of(table)):
            row.pop("dashboard_rank", None)
            if row["chart_id"] in by_id:
                by_id[row["chart_id"]].tables[table].append(row)
    sources = [r["data_source"] for r in query("select distinct data_source from marts.fct_chart_entries order by 1")]
    return DashboardData(charts, sources)


def _rows_of(table: str) -> str:
    """The query for the rows of a contract table the page can show (all, RANKED's first, or the
    signals of each chart's latest loaded date with the songs' names)."""
    if table == SIGNALS:
        return SIGNALS_OF_LATEST_DATES
    if table not in RANKED:
        return f"select * from marts.{table}"
    return (
        f"select * from (select ranked.*, rank() over (partition by chart_id order by {RANKED[table]}) "
        f"as dashboard_rank from marts.{table} as ranked) as firsts where dashboard_rank <= {TOP_N}"
    )


# Each chart's signals on its latest loaded date, with the song's name and artists.
SIGNALS_OF_LATEST_DATES = (
    "select signals.*, songs.track_name, songs.artist_names from marts.song_signals as signals "
    "inner join marts.dim_charts as charts "
    "on signals.chart_id = charts.chart_id and signals.chart_date = charts.last_chart_date "
    "left join marts.dim_songs as songs on signals.song_id = songs.song_id"
)

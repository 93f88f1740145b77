"""Data-quality rules for the staging rows of a run's charts and dates: what one payload cannot
show (history across days, the chart's size, streams down the chart); what one payload shows is
refused earlier by the payload rules (snapshots/rules.py).

Each rule counts what breaks it and keeps a few examples, so a failing check in the Dagster UI
says how much is wrong and where. Plain module (no Dagster import); the SQL reads the warehouse's
staging schema through `Warehouse.query` with bound parameters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from spotify_charts.regions import chart_size, region_of_alias

Query = Callable[[str, list], list[dict]]
EXAMPLES = 5
STALE_AFTER_DAYS = 2


@dataclass(frozen=True)
class RuleResult:
    name: str
    description: str
    offending: int  # rows (or chart-days) that break the rule
    examples: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.offending == 0


_SCOPE = "chart_date between ? and ? and chart_id in ?"


def _scope(charts: Sequence[str], start: dt.date, end: dt.date) -> list:
    return [start, end, list(charts)]


def _result(name: str, description: str, rows: list[dict], offending: int | None = None) -> RuleResult:
    examples = [
        {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in r.items() if k != "offending"}
        for r in rows[:EXAMPLES]
    ]
    return RuleResult(name, description, len(rows) if offending is None else offending, examples)


def _offending(query: Query, name: str, description: str, rows_sql: str, order: str, params: list) -> RuleResult:
    """How many rows `rows_sql` finds, counted in the warehouse, and the first few by `order` as
    examples: a run whose every row breaks a rule (years of a faulty source) fetches no more than a
    clean one (fetching every offending row took 15 GB at 26 million entries)."""
    rows = query(
        f"select *, count(*) over () as offending from ({rows_sql}) as found order by {order} limit {EXAMPLES}",
        params,
    )
    return _result(name, description, rows, rows[0]["offending"] if rows else 0)


def streams_non_increasing(query: Query, charts: Sequence[str], start: dt.date, end: dt.date) -> RuleResult:
    """Streams never increase going down the chart (warns)."""
    return _offending(
        query,
        "streams_non_increasing",
        "entries with fewer streams than the entry ranked below",
        f"""
        select chart_id, chart_date, rank, streams, next_streams
        from (
            select chart_id, chart_date, rank, streams,
                lead(streams) over (partition by chart_id, chart_date order by rank, streams desc) as next_streams
            from staging.chart_entries where {_SCOPE}
        ) as ranked
        where next_streams > streams
        """,
        "chart_id, chart_date, rank, streams desc",
        _scope(charts, start, end),
    )


def history_consistent(query: Query, charts: Sequence[str], start: dt.date, end: dt.date) -> RuleResult:
    """previous_rank agrees with the previous day's chart, where that day is loaded (warns)."""
    day_before = _scope(charts, start - dt.timedelta(days=1), end - dt.timedelta(days=1))
    return _offending(
        query,
        "history_consistent",
        "entries whose previous_rank disagrees with the day before",
        f"""
        with today as (
            select chart_id, chart_date, rank, track_id, previous_rank
            from staging.chart_entries where {_SCOPE}
        ),
        before as (
            select chart_id, chart_date, rank, track_id
            from staging.chart_entries where {_SCOPE}
        ),
        loaded as (select distinct chart_id, chart_date from before)
        select today.chart_id, today.chart_date, today.rank, today.track_id, today.previous_rank,
            before.rank as rank_the_day_before
        from today
        inner join loaded
            on loaded.chart_id = today.chart_id and loaded.chart_date = today.chart_date - 1
        left join before
            on before.chart_id = today.chart_id and before.chart_date = today.chart_date - 1
            and before.track_id = today.track_id
        where coalesce(today.previous_rank, -1) <> coalesce(before.rank, -1)
        """,
        "chart_id, chart_date, rank, track_id",
        [*_scope(charts, start, end), *day_before],
    )


def chart_size_as_expected(query: Query, charts: Sequence[str], start: dt.date, end: dt.date) -> RuleResult:
    """Each chart-day has the region's chart size, 200 or 50 entries (warns)."""
    counts = query(
        f"""
        select chart_id, chart_date, count(*) as entries
        from staging.chart_entries where {_SCOPE}
        group by chart_id, chart_date order by chart_id, chart_date
        """,
        _scope(charts, start, end),
    )
    rows = [
        {**r, "expected": chart_size(region_of_alias(r["chart_id"]))}
        for r in counts
        if r["entries"] != chart_size(region_of_alias(r["chart_id"]))
    ]
    return _result("chart_size_as_expected", "chart-days with another number of entries than the region's size", rows)


# What would corrupt the marts (a rank twice or missing, a track twice on one chart-day) is a
# property of one payload: the payload rules (snapshots/rules.py) refuse such a payload before it is
# stored or loaded, and staging rows of a chart-day come from exactly one payload, so no staging
# check could catch more; none blocks. These need more than one payload, or are advice, and warn.
BLOCKING_RULES: tuple = ()
WARNING_RULES = (streams_non_increasing, history_consistent, chart_size_as_expected)


def latest_chart_date(query: Query) -> dt.date | None:
    rows = query("select max(chart_date) as latest from staging.chart_entries", [])
    return rows[0]["latest"] if rows else None


def is_stale(latest: dt.date | None, today: dt.date) -> bool:
    """More than STALE_AFTER_DAYS behind: yesterday's chart is normal, the day before is tolerated."""
    return latest is None or (today - latest).days > STALE_AFTER_DAYS

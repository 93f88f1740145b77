"""Which chart dates to request next, for the sensor that keeps charts current and the daily
schedule that backs it up. Plain module (no Dagster import).

Both instigators name a request by its dates (`chart-dates:{first}..{last}`), skip dates that are
already loaded or in a run that has not failed, so the two never both run a date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

DEFAULT_WINDOW_DAYS = 30  # how far back a fresh installation starts, unless configured


def window_start(latest: dt.date, configured: dt.date | None) -> dt.date:
    """The first date to keep loaded: the start date setting, else the last 30 days."""
    if configured:
        return configured
    return latest - dt.timedelta(days=DEFAULT_WINDOW_DAYS - 1)


def missing_dates(start: dt.date, latest: dt.date, done: Iterable[dt.date]) -> list[dt.date]:
    """Dates from start to latest (inclusive) that are neither loaded nor being loaded."""
    done = set(done)
    days = (latest - start).days + 1
    return [start + dt.timedelta(days=i) for i in range(max(days, 0)) if start + dt.timedelta(days=i) not in done]


def ranges(dates: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive runs of dates, each one request (a single-run backfill of its range)."""
    out: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(dates)):
        if out and day == out[-1][1] + dt.timedelta(days=1):
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def run_key(first: dt.date, last: dt.date) -> str:
    return f"chart-dates:{first.isoformat()}..{last.isoformat()}"


def dates_of_tag(value: str) -> list[dt.date]:
    """The dates a run covers, from its `spotify_charts/chart_dates` tag ("first..last")."""
    first, _, last = value.partition("..")
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last or first)
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]

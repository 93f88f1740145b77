"""The song signals pushed to chat: which chart dates are due, and each date's message.

One message per chart date, POSTed once (by the `song_signals_webhook` sensor): the dates posted
are kept in the sensor's cursor, so a re-run of a date, a restart of the daemon or a backfill
(whose dates are older than the horizon) posts nothing again. Plain module (no Dagster import).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from spotify_charts.dashboard.data import SIGNAL_RULES

Query = Callable[[str, list], list[dict]]

# The signals from a date on, with the songs' names (the rows a message carries).
SIGNALS_SINCE = (
    "select signals.chart_id, signals.chart_date, signals.song_id, songs.track_name, songs.artist_names, "
    "signals.signal, signals.rank, signals.previous_rank, signals.streams, signals.days_since_debut, "
    "signals.reason from marts.song_signals as signals "
    "left join marts.dim_songs as songs on signals.song_id = songs.song_id "
    "where signals.chart_date >= ? "
    "order by signals.chart_date, signals.chart_id, signals.signal, signals.rank, signals.song_id"
)


@dataclass
class SignalsCursor:
    """What the sensor has done: the chart dates posted (within the horizon; older ones can never
    be due again) and the storage id of the song_signals materialisation it last handled fully."""

    posted: set[dt.date] = field(default_factory=set)
    handled: int | None = None

    @classmethod
    def parse(cls, cursor: str | None) -> SignalsCursor:
        if not cursor:
            return cls()
        saved = json.loads(cursor)
        return cls({dt.date.fromisoformat(d) for d in saved["posted"]}, saved["handled"])

    def dump(self, oldest: dt.date) -> str:
        posted = sorted(d.isoformat() for d in self.posted if d >= oldest)
        return json.dumps({"posted": posted, "handled": self.handled})


def due_signals(
    query: Query, oldest: dt.date, charts: Iterable[str] | None, posted: set[dt.date]
) -> dict[dt.date, list[dict]]:
    """The signals of each chart date from `oldest` on that has not been posted, on `charts` (all
    when None), oldest date first. A date with no signal on those charts has no message."""
    wanted = None if charts is None else set(charts)
    due: dict[dt.date, list[dict]] = {}
    for row in query(SIGNALS_SINCE, [oldest]):
        if row["chart_date"] in posted or (wanted is not None and row["chart_id"] not in wanted):
            continue
        due.setdefault(row["chart_date"], []).append(row)
    return dict(sorted(due.items()))


def signals_message(chart_date: dt.date, rows: list[dict]) -> dict:
    """The date's message: `text` (what chat tools show) counts the signals per rule and chart, and
    holds no name from the data (a name could be chat markup); the rows carry the names as data."""
    by_rule = Counter(row["signal"] for row in rows)
    charts = sorted({row["chart_id"] for row in rows})
    counts = ", ".join(f"{label.lower()} {by_rule[rule]}" for rule, label in SIGNAL_RULES.items() if by_rule[rule])
    text = f"Song signals for {chart_date}: {len(rows)} on {len(charts)} chart(s) ({counts})."
    signals = [
        {key: (value.isoformat() if isinstance(value, dt.date) else value) for key, value in row.items()}
        for row in rows
    ]
    return {"text": text, "chart_date": chart_date.isoformat(), "charts": charts, "signals": signals}

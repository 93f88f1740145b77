"""The sample charts as the API's JSON bytes: a simulated chart day (`simulation`) rendered with
pre-built pieces (each song's trackMetadata serialised once, every small number and date
pre-rendered), so a chart costs a table look-up per field and one join.

Plain module (no Dagster import).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

import numpy as np
import orjson

from spotify_charts.regions import region_names
from spotify_charts.sources.sample.catalog import CHART_EPOCH, ORD_EPOCH, RICH_PAYLOADS_FROM, STATUS
from spotify_charts.sources.sample.simulation import ChartSimulation, simulation


class _Pieces:
    """Every field of an entry pre-rendered with the JSON text before it, so a chart's entries are
    one b"".join over table look-ups (orjson on dicts, or %-formatting, is several times slower)."""

    def __init__(self) -> None:
        days = range(ORD_EPOCH, dt.date(2100, 1, 1).toordinal())
        counts = range(len(days) + 1)

        def table(template: bytes, values: Iterable[object]) -> np.ndarray:
            return np.array([template % value for value in values], dtype=object)

        ranks = range(-1, 201)  # -1: not on yesterday's chart
        self.rank = table(b',{"chartEntryData":{"currentRank":%d', ranks)
        self.rank[2] = self.rank[2][1:]  # the first entry has no comma before it
        self.previous = table(b',"previousRank":%d', ranks)
        self.peak = table(b',"peakRank":%d', ranks)
        self.peak_day = table(b',"peakDate":"%s"', (dt.date.fromordinal(o).isoformat().encode() for o in days))
        self.appearances = table(b',"appearancesOnChart":%d', counts)
        self.consecutive = table(b',"consecutiveAppearancesOnChart":%d', counts)
        self.status = table(b'","type":"STREAMS"},"entryStatus":"%s"', (s.encode() for s in STATUS))
        self.entry_rank = table(b',"entryRank":%d', ranks)
        self.entry_day = table(b',"entryDate":"%s', (dt.date.fromordinal(o).isoformat().encode() for o in days))


@functools.cache
def _pieces() -> _Pieces:
    return _Pieces()


def sample_payload(alias: str, chart_date: dt.date) -> tuple[bytes, int]:
    """The sample chart for one daily alias and date as the API's JSON bytes, and its entry count."""
    if chart_date < CHART_EPOCH:
        raise ValueError(f"no sample chart before {CHART_EPOCH}: {alias} {chart_date}")
    sim = simulation(alias)
    ordinal = chart_date.toordinal()
    block = sim.block(ordinal)
    at = (ordinal - block.first) * block.size
    rows = slice(at, at + block.size)
    rich = chart_date >= RICH_PAYLOADS_FROM
    songs = block.song[rows]
    pieces = _pieces()
    previous, peak, peak_day, appearances, consecutive, status, entry_rank, entry_day = block.fields[:, block.row[rows]]
    parts = np.empty((len(songs), 11), dtype=object)
    parts[:, 0] = pieces.rank[2 : len(songs) + 2]
    parts[:, 1] = pieces.previous[previous + 1]
    parts[:, 2] = pieces.peak[peak + 1]
    parts[:, 3] = pieces.peak_day[peak_day - ORD_EPOCH]
    parts[:, 4] = pieces.appearances[appearances]
    parts[:, 5] = pieces.consecutive[consecutive]
    parts[:, 6] = [b',"rankingMetric":{"value":"%d' % value for value in block.streams[rows].tolist()]
    parts[:, 7] = pieces.status[status]
    parts[:, 8] = pieces.entry_rank[entry_rank + 1]
    parts[:, 9] = pieces.entry_day[entry_day - ORD_EPOCH]
    parts[:, 10] = sim.suffixes_of(songs, rich)
    return _header(sim, chart_date) + b"".join(parts.ravel().tolist()) + b"]}", len(songs)


def _header(sim: ChartSimulation, chart_date: dt.date) -> bytes:
    readable = region_names()[sim.region]
    display = {
        "date": chart_date.isoformat(),
        "description": f"Your daily update of the most played tracks right now - {readable}.",
        "chartMetadata": {
            "uri": f"spotify:chart:{sim.alias}",
            "alias": sim.alias,
            "entityType": "TRACK",
            "readableTitle": f"Top Songs - {readable}" if sim.region != "global" else "Top Songs - Global",
            "dimensions": {
                "country": sim.region.upper(),
                "chartType": "TOP",
                "recurrence": "DAILY",
                # The sample's "latest" is the requested day, so the payload never depends
                # on when it was generated.
                "latestDate": chart_date.isoformat(),
                "earliestDate": CHART_EPOCH.isoformat(),
            },
        },
    }
    return b'{"displayChart":' + orjson.dumps(display) + b',"entries":['


def sample_chart(alias: str, chart_date: dt.date) -> dict:
    """The sample chart for one daily alias and date, as the API's JSON object."""
    return orjson.loads(sample_payload(alias, chart_date)[0])

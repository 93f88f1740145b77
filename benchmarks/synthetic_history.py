"""A synthetic chart history CSV in the public history's layout, written fast and deterministically.

`title,rank,date,artist,url,region,chart,trend,streams`, one top200 chart of 200 rows per region
and day (as the public history has for every region), plus the global viral50 chart (skipped by
the importer). Songs enter at the top and move down four places a day, so a song charts for ~50
days and each region sees ~7,500 songs in 5 years out of a shared catalogue of 60,000; some titles
have commas (quoted) and some songs two artists. Rows are grouped by date, then region, then rank.

Plain module (no Dagster import); vectorised with numpy and Arrow, ~1 million rows/s.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from zlib_ng import gzip_ng

from spotify_charts.regions import region_names

CATALOGUE = 60_000
SIZE = 200
DAYS_PER_BATCH = 8


def _strings(prefix: str, numbers: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pc.cast(pa.array(numbers), pa.string()), "")


def history_batch(codes: Sequence[str], days: Sequence[dt.date], first: dt.date) -> pa.Table:
    names = region_names()
    n_regions, n_days = len(codes), len(days)
    day_index = np.array([(day - first).days for day in days], np.int64)
    rank = np.tile(np.arange(1, SIZE + 1, dtype=np.int64), n_regions * n_days)
    region = np.tile(np.repeat(np.arange(n_regions, dtype=np.int64), SIZE), n_days)
    day = np.repeat(day_index, n_regions * SIZE)
    # Entering at ranks 1-4 and falling 4 places a day: rank r on day d is the song of rank r-4 on d-1.
    song = (region * 1237 + (rank - 1) - 4 * day) % CATALOGUE
    title = _strings("Song ", song)
    comma = pa.array(song % 10 == 0)
    title = pc.if_else(comma, pc.binary_join_element_wise(title, ", Pt. 2", ""), title)
    artist_no = song // 3
    artist = _strings("Artist ", artist_no)
    duet = pa.array(song % 5 == 0)
    artist = pc.if_else(duet, pc.binary_join_element_wise(artist, _strings("Artist ", artist_no + 1), ", "), artist)
    url = _strings("https://open.spotify.com/track/5syntheticTrack", song + 1_000_000)
    trend = np.where(rank <= 4, "NEW_ENTRY", np.where(rank % 7 == 0, "SAME_POSITION", "MOVE_DOWN"))
    streams = (5_000_000 // rank) // (1 + region % 5) + day
    date_text = pa.array([d.isoformat() for d in days]).take(pa.array(np.repeat(np.arange(n_days), n_regions * SIZE)))
    region_text = pa.array([names[c] for c in codes]).take(pa.array(region))
    top = pa.table(
        {
            "title": title,
            "rank": pa.array(rank),
            "date": date_text,
            "artist": artist,
            "url": url,
            "region": region_text,
            "chart": pa.array(np.full(len(rank), "top200")),
            "trend": pa.array(trend),
            "streams": pc.cast(pa.array(streams), pa.string()),
        }
    )
    if "global" not in codes:
        return top
    # The global viral50 of each day, right after the day's charts (no streams, as in the public file)
    viral_rank = np.tile(np.arange(1, 51, dtype=np.int64), n_days)
    viral_day = np.repeat(day_index, 50)
    viral_song = (viral_rank * 17 + viral_day) % CATALOGUE
    viral = pa.table(
        {
            "title": _strings("Viral ", viral_song),
            "rank": pa.array(viral_rank),
            "date": pa.array([d.isoformat() for d in days]).take(pa.array(np.repeat(np.arange(n_days), 50))),
            "artist": _strings("Artist ", viral_song),
            "url": _strings("https://open.spotify.com/track/5syntheticTrack", viral_song + 1_000_000),
            "region": pa.array(np.full(len(viral_rank), "Global")),
            "chart": pa.array(np.full(len(viral_rank), "viral50")),
            "trend": pa.array(np.full(len(viral_rank), "MOVE_UP")),
            "streams": pa.nulls(len(viral_rank), pa.string()),
        }
    )
    return pa.concat_tables([top, viral])


def write_history(
    path: str | os.PathLike[str], codes: Sequence[str], first: dt.date, days: int, compress: bool = True
) -> int:
    """Write the history of `codes` for `days` days from `first`; return the number of data rows."""
    options = pa_csv.WriteOptions(include_header=True, quoting_style="needed")
    rows = 0
    opener = gzip_ng.open(path, "wb", compresslevel=1) if compress else open(path, "wb")  # noqa: SIM115
    with opener as out:
        writer = None
        for start in range(0, days, DAYS_PER_BATCH):
            batch_days = [first + dt.timedelta(days=i) for i in range(start, min(days, start + DAYS_PER_BATCH))]
            table = history_batch(codes, batch_days, first)
            if writer is None:
                writer = pa_csv.CSVWriter(out, table.schema, write_options=options)
            writer.write_table(table)
            rows += table.num_rows
        if writer is not None:
            writer.close()
    return rows

"""Bulk import of a public chart history CSV: every region's daily top chart becomes a raw snapshot.

The largest public Spotify chart history (a Kaggle data set, 2017-2021: ~26 million rows, 3.5 GB)
is one CSV with the header `title,rank,date,artist,url,region,chart,trend,streams`: `region` is a
country's English name or `Global`, `chart` is `top200` or `viral50`, `url` is
`https://open.spotify.com/track/{id}`, `trend` one of SAME_POSITION, MOVE_UP, MOVE_DOWN, NEW_ENTRY,
`streams` empty for viral50. `import_history` turns each region's `top200` chart of each date into
the raw snapshot of `regional-{code}-daily` for that date, in the charts service's payload shape
(as the CSV downloads are, `sources/csv_export.py`), recorded with `source = history`:
- `trend` becomes `entryStatus` (NO_CHANGE, MOVED_UP, MOVED_DOWN, NEW_ENTRY); `streams` becomes
  `rankingMetric` (an integral float such as `1234.0`, as pandas writes a column with gaps, is
  read as 1234; an empty one is left out); `artist` is split on ", " into credits without URIs.
  What the history does not carry (previous and peak rank, labels, release date) is left out.
- region names are matched to `data/regions.csv` ignoring case; rows of other regions are skipped
  and each unknown name is reported once, with its row count. `viral50` rows are counted and skipped.
- a bad row (a column missing, a rank or number that is not one, a URL that is not a track's, a
  rank twice in a chart) is reported with the file and line, and its whole chart is not stored. A
  row whose region or date cannot be read counts against the chart of the rows around it.

It streams: plain or gzipped input (detected by its first bytes), read once in blocks of whole
lines (~8 MB), rows never all in memory. A block is read column by column with Arrow's CSV reader
and checked and turned into the entries' JSON without a Python step per row (`columns.py`); a
block with anything unusual in it (a bad row, a line end inside a quoted title, a blank line) is
read row by row instead, with the same result (a test compares both ways byte for byte).
Charts are stored as their rows end, which needs each chart's rows to be close together
(the public file keeps them together; charts may come in any order, rows of a chart in any rank
order). Up to `window_rows` rows of recent charts stay open, so rows a little out of place still
join their chart. A row of a chart that was already stored (a file in no useful order) is spilled
to one of 64 bucket files on disk; at the end each bucket is read back (about 1/64 of the late rows
in memory at once), merged with the stored snapshot and the chart stored again, or removed if a
late row was bad. Until then such a chart's snapshot is partial: load staging after the import.

Plain module (no Dagster import).
"""

from spotify_charts.sources.history.importer import WINDOW_ROWS, import_history
from spotify_charts.sources.history.lines import open_binary
from spotify_charts.sources.history.report import BadRow, HistoryImportError, ImportReport, check_report

__all__ = [
    "WINDOW_ROWS",
    "BadRow",
    "HistoryImportError",
    "ImportReport",
    "check_report",
    "import_history",
    "open_binary",
]

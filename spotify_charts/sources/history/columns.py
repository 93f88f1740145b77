"""The fast path of a history import: a block of whole lines parsed by Arrow's CSV reader, checked
column by column, and turned into the entries' JSON without a Python step per row.

`parse_block` returns None when anything in the block needs the row-by-row reader (`importer.py`): a
row that is bad in any way, a line end inside a quoted value, a blank line, a bare carriage return,
an empty title (a warning), an unusual but valid spelling (a rank written `07`, a date that is not
`YYYY-MM-DD`). That reader then reads the whole block and reports or accepts each row as it always
did, so the fast path changes speed only: for every block it takes, the rows, charts and snapshot
bytes are those the row-by-row reader gives (a test imports the same files both ways and compares
them byte for byte).

Each entry's JSON is built in the key order and with the escapes orjson writes for the entry
`importer.py` builds, so a payload is byte for byte what `orjson.dumps` gives for it. Titles and
artist credits with a quote, a backslash or a control character (and credits with an empty name,
which the row-by-row reader drops) are written by orjson itself.

Plain module (no Dagster import).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from spotify_charts.snapshots import TRACK_PREFIX

HEADER = ("title", "rank", "date", "artist", "url", "region", "chart", "trend", "streams")
TRACK_URL = "https://open.spotify.com/track/"
TRENDS = {"SAME_POSITION": "NO_CHANGE", "MOVE_UP": "MOVED_UP", "MOVE_DOWN": "MOVED_DOWN", "NEW_ENTRY": "NEW_ENTRY"}
MAX_RANK = 200

_READ = pa_csv.ReadOptions(column_names=list(HEADER), block_size=4 << 20)
_PARSE = pa_csv.ParseOptions(newlines_in_values=False, ignore_empty_lines=True)
_CONVERT = pa_csv.ConvertOptions(
    column_types=dict.fromkeys(HEADER, pa.string()), strings_can_be_null=False, quoted_strings_can_be_null=False
)
_TREND_KEYS = pa.array([*TRENDS, ""])
_STATUS_JSON = pa.array([f',"entryStatus":"{status}"' for status in TRENDS.values()] + [""])
_NEEDS_ORJSON = r'["\\\x00-\x1f]'  # what orjson escapes in a string
_EMPTY_CREDIT = r"^, |, $|, , |^$"  # credits `", "`-split into an empty name (dropped), or none at all
_RANK = r"^[1-9][0-9]{0,2}$"
_STREAMS = r"^(?:[0-9]+(?:\.0)?)?$"


@dataclass
class Run:
    """Consecutive top200 rows of one chart in a block (rows `start` to `end` of the kept rows)."""

    alias: str
    day: dt.date
    start: int
    end: int
    repeats_a_track: bool


@dataclass
class Block:
    rows: int  # data rows in the block (its lines)
    viral_rows: int
    unknown_regions: dict[str, int]
    runs: list[Run]
    ranks: np.ndarray  # of the kept rows (top200 rows of a known region)
    lines: np.ndarray  # each kept row's line within the block, from 0
    data: memoryview  # the kept rows' entries as JSON, each followed by ","
    offsets: np.ndarray  # of each kept row's entry in `data` (one more than the rows)
    last_region: str  # the raw region and date text of the last kept row
    last_date: str

    def entries_json(self, start: int, end: int) -> bytes:
        """Rows `start` to `end` of the kept rows as the comma-separated entries of a JSON array."""
        return bytes(self.data[self.offsets[start] : self.offsets[end] - 1])


def _orjson_where(json: pa.Array, special: pa.Array, values: pa.Array, make: Callable[[str], object]) -> pa.Array:
    """`json`, where `special` is true replaced by orjson's JSON of `make(value)`."""
    where = np.flatnonzero(special.to_numpy(zero_copy_only=False))
    if not len(where):
        return json
    written = [orjson.dumps(make(value)).decode() for value in values.take(pa.array(where)).to_pylist()]
    return pc.replace_with_mask(json, special, pa.array(written, pa.string()))


def credits(artist: str) -> list[dict[str, str]]:
    """The artists of a row's `artist` text, as the row-by-row reader builds them."""
    if ", " in artist:
        return [{"name": name} for name in artist.split(", ") if name]
    return [{"name": artist}] if artist else []


# ranks, lines, data and offsets of a block with no row to store
_NO_ROWS = (np.zeros(0, np.int64), np.zeros(0, np.int64), memoryview(b""), np.zeros(1, np.int32))


def _all(mask: pa.Array) -> bool:
    return bool(pc.all(mask).as_py())  # (every mask here has a row: an empty one gives null)


def parse_block(
    block: bytes,
    codes: dict[str, str],
    chart_date: Callable[[str], dt.date | None],
    alias_of: Callable[[str], str],
) -> Block | None:
    """The block's rows, checked and as entry JSON; None when the row-by-row reader must read it.

    `block` holds whole lines (each ending with a line end); `codes` maps casefolded region names to
    codes; `chart_date` reads a date or gives None; `alias_of` makes a chart alias of a code."""
    if b"\r" in block and block.count(b"\r") != block.count(b"\r\n"):
        return None  # a bare carriage return: the row-by-row reader counts lines with it
    if block.startswith(codecs.BOM_UTF8):
        return None  # Arrow drops a byte-order mark at the start of its input; Python's csv keeps it
    try:
        table = pa_csv.read_csv(pa.py_buffer(block), _READ, _PARSE, _CONVERT)
    except (pa.ArrowInvalid, pa.ArrowException):
        return None  # a column missing or extra, a line end in a quoted value, not UTF-8
    rows = table.num_rows
    if not rows or rows != block.count(b"\n"):
        return None  # a blank line (Arrow skips it)
    table = table.combine_chunks()
    limit = csv.field_size_limit()
    for values in table.columns:
        # A quote left open at the very end of Arrow's input keeps the line end in the value, where
        # Python's csv reads on into the next line; a value over the csv module's limit is an error there.
        if pc.any(pc.match_substring(values, "\n")).as_py() or pc.max(pc.binary_length(values)).as_py() > limit:
            return None
    chart = table.column("chart").chunk(0)
    top = pc.equal(chart, "top200")
    if not _all(pc.or_(top, pc.equal(chart, "viral50"))):
        return None
    top_rows = np.flatnonzero(top.to_numpy(zero_copy_only=False))

    def column(name: str) -> pa.Array:
        return table.column(name).chunk(0).take(pa.array(top_rows))

    region = pc.dictionary_encode(column("region"))
    names = region.dictionary.to_pylist()
    code_of = [codes.get(name.strip().casefold()) for name in names]
    unknown: dict[str, int] = {}
    region_index = region.indices.to_numpy().astype(np.int64)
    if None in code_of:
        counts = np.bincount(region_index, minlength=len(names))
        unknown = {name: int(counts[i]) for i, name in enumerate(names) if code_of[i] is None and counts[i]}
    known_codes = sorted({code for code in code_of if code is not None})
    code_number = np.array([known_codes.index(c) if c is not None else -1 for c in code_of], np.int64)
    kept_numbers = code_number[region_index]
    kept = np.flatnonzero(kept_numbers >= 0)
    if not len(kept):  # viral50 rows and rows of unknown regions only: nothing to check or store
        return Block(rows, rows - len(top_rows), unknown, [], *_NO_ROWS, last_region="", last_date="")
    keep = pa.array(kept)
    kept_numbers = kept_numbers[kept]

    title = column("title").take(keep)
    if not _all(pc.not_equal(title, "")):
        return None  # an empty title: the row-by-row reader warns with its line
    rank_text = column("rank").take(keep)
    url = column("url").take(keep)
    trend = column("trend").take(keep)
    streams = column("streams").take(keep)
    if not (
        _all(pc.match_substring_regex(rank_text, _RANK))
        and _all(pc.starts_with(url, TRACK_URL))
        and _all(pc.is_in(trend, value_set=_TREND_KEYS))
        and _all(pc.match_substring_regex(streams, _STREAMS))
    ):
        return None
    ranks = pc.cast(rank_text, pa.int64()).to_numpy()
    if ranks.max() > MAX_RANK:
        return None
    track = pc.utf8_slice_codeunits(url, len(TRACK_URL))
    if not _all(pc.ascii_is_alnum(track)):
        return None
    dates = pc.dictionary_encode(column("date").take(keep))
    days = [chart_date(text) for text in dates.dictionary.to_pylist()]
    if None in days:
        return None
    ordinals = np.array([day.toordinal() for day in days], np.int64)  # (two spellings, one day: one chart)
    date_index = dates.indices.to_numpy().astype(np.int64)
    chart_key = kept_numbers * (1 << 32) + ordinals[date_index]

    starts = np.flatnonzero(np.diff(chart_key, prepend=-1) != 0)
    ends = np.append(starts[1:], len(chart_key))
    run_of = np.repeat(np.arange(len(starts), dtype=np.int64), ends - starts)
    track_ids = pc.dictionary_encode(track).indices.to_numpy().astype(np.int64)
    pairs = np.sort(run_of * (1 << 32) + track_ids)
    repeated = set((pairs[1:][pairs[1:] == pairs[:-1]] >> 32).tolist())
    runs = []
    for n, (start, end) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        key = int(chart_key[start])
        code = known_codes[key >> 32]
        runs.append(Run(alias_of(code), dt.date.fromordinal(key & 0xFFFFFFFF), start, end, n in repeated))

    artist = column("artist").take(keep)
    title_json = _orjson_where(
        pc.binary_join_element_wise('"', title, '"', ""), pc.match_substring_regex(title, _NEEDS_ORJSON), title, str
    )
    credits_json = _orjson_where(
        pc.binary_join_element_wise('[{"name":"', pc.replace_substring(artist, ", ", '"},{"name":"'), '"}]', ""),
        pc.or_(pc.match_substring_regex(artist, _NEEDS_ORJSON), pc.match_substring_regex(artist, _EMPTY_CREDIT)),
        artist,
        credits,
    )
    status = _STATUS_JSON.take(pc.index_in(trend, value_set=_TREND_KEYS))
    counted = pc.replace_substring_regex(streams, r"\.0$", "")
    metric = pc.if_else(
        pc.equal(streams, ""),
        "",
        pc.binary_join_element_wise(',"rankingMetric":{"value":"', counted, '","type":"STREAMS"}', ""),
    )
    entries = pc.binary_join_element_wise(
        '{"chartEntryData":{"currentRank":',
        rank_text,
        status,
        metric,
        '},"trackMetadata":{"trackName":',
        title_json,
        f',"trackUri":"{TRACK_PREFIX}',
        track,
        '","artists":',
        credits_json,
        "}},",
        "",
    )
    _, offsets, data = entries.buffers()
    lines = top_rows[kept]
    return Block(
        rows=rows,
        viral_rows=rows - len(top_rows),
        unknown_regions=unknown,
        runs=runs,
        ranks=ranks,
        lines=lines,
        data=memoryview(data),
        offsets=np.frombuffer(offsets, np.int32)[entries.offset : entries.offset + len(entries) + 1],
        last_region=table.column("region")[int(lines[-1])].as_py(),
        last_date=table.column("date")[int(lines[-1])].as_py(),
    )

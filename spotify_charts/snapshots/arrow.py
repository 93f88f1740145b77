"""Parse raw chart snapshots (gzipped API payloads) into the two staging tables, as Arrow tables.

The hot path hands every payload of a load to Arrow's multithreaded JSON reader at once and
flattens the nested entries with Arrow compute: no Python loop per entry. Anything the fast path
rejects is parsed again one payload at a time, so the error names the snapshot and the problem.

Plain module (no Dagster import).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json
from zlib_ng import zlib_ng

from spotify_charts.snapshots import ARTIST_PREFIX, SOURCES, TRACK_PREFIX, Snapshot, SnapshotError
from spotify_charts.snapshots.arrow_buffers import (
    ZERO,
    dates,
    epoch_micros,
    first_true,
    from_numpy,
    numpy_view,
    strings,
)
from spotify_charts.snapshots.files import decompress, load_json
from spotify_charts.snapshots.rules import check_entries, check_payload
from spotify_charts.warehouses.schema import arrow_schema

_ARTIST = pa.struct([("name", pa.string()), ("spotifyUri", pa.string())])
_ENTRY = pa.struct(
    [
        (
            "chartEntryData",
            pa.struct(
                [
                    ("currentRank", pa.int64()),
                    ("previousRank", pa.int64()),
                    ("peakRank", pa.int64()),
                    ("peakDate", pa.string()),
                    ("appearancesOnChart", pa.int64()),
                    ("consecutiveAppearancesOnChart", pa.int64()),
                    ("rankingMetric", pa.struct([("value", pa.string()), ("type", pa.string())])),
                    ("entryStatus", pa.string()),
                    ("entryRank", pa.int64()),
                    ("entryDate", pa.string()),
                ]
            ),
        ),
        (
            "trackMetadata",
            pa.struct(
                [
                    ("trackName", pa.string()),
                    ("trackUri", pa.string()),
                    ("displayImageUri", pa.string()),
                    ("artists", pa.list_(_ARTIST)),
                    ("labels", pa.list_(pa.struct([("name", pa.string())]))),
                    ("releaseDate", pa.string()),
                ]
            ),
        ),
    ]
)
# Only what staging needs; everything else the service sends stays in the raw snapshot.
PAYLOAD_SCHEMA = pa.schema([("entries", pa.list_(_ENTRY))])

# The staging tables' columns are defined once, in warehouses/schema.py.
CHART_ENTRIES_SCHEMA = arrow_schema("chart_entries")
CHART_ENTRY_ARTISTS_SCHEMA = arrow_schema("chart_entry_artists")


@dataclass(frozen=True)
class ChartTables:
    entries: pa.Table  # CHART_ENTRIES_SCHEMA
    artists: pa.Table  # CHART_ENTRY_ARTISTS_SCHEMA


_PARSE_OPTIONS = pa_json.ParseOptions(explicit_schema=PAYLOAD_SCHEMA, unexpected_field_behavior="ignore")
_READ_OPTIONS = pa_json.ReadOptions(block_size=4 << 20, use_threads=False)
CHUNK_SIZE = 128  # snapshots per parallel task: small enough to keep both cores busy


def _read_fast(chunk: Sequence[Snapshot]) -> pa.Table:
    """Decompress a chunk (zlib-ng, which releases the GIL) and parse it as one NDJSON buffer."""
    text = b"\n".join(zlib_ng.decompress(s.data, wbits=31) for s in chunk)
    return pa_json.read_json(io.BytesIO(text), read_options=_READ_OPTIONS, parse_options=_PARSE_OPTIONS)


def _read_checked(chunk: Sequence[Snapshot]) -> pa.Table:
    """The slow path, one snapshot at a time, so that an error names its snapshot."""
    texts = [decompress(snapshot) for snapshot in chunk]
    for snapshot, text in zip(chunk, texts):
        check_payload(snapshot.location, load_json(snapshot, text))
        try:
            pa_json.read_json(io.BytesIO(text), parse_options=_PARSE_OPTIONS)
        except pa.ArrowInvalid as exc:
            raise SnapshotError(snapshot.location, f"a field has an unexpected type ({exc})") from None
    return pa_json.read_json(io.BytesIO(b"\n".join(texts)), read_options=_READ_OPTIONS, parse_options=_PARSE_OPTIONS)


def _read_chunk(chunk: Sequence[Snapshot]) -> pa.Table:
    try:
        table = _read_fast(chunk)
        if table.num_rows == len(chunk):
            return table
    except (pa.ArrowInvalid, zlib_ng.error):
        pass
    # Corrupt gzip, invalid JSON or a pretty-printed payload: find out which, and say so.
    return _read_checked(chunk)


def _strip_prefix(uris: pa.Array, prefix: str) -> pa.Array:
    return pc.if_else(
        pc.starts_with(uris, prefix), pc.utf8_slice_codeunits(uris, len(prefix)), pa.nulls(len(uris), pa.string())
    )


def _join_names(lists: pa.ListArray, field: str) -> pa.Array:
    names = pa.ListArray.from_arrays(lists.offsets, lists.values.field(field), mask=lists.is_null())
    return pc.binary_join(names, COMMA)


def _to_date(strings: pa.Array) -> pa.Array:
    """ISO dates; anything unparsable (a year alone, an empty string) becomes null.

    Arrow's strptime rolls an impossible day over (2023-02-30 is 2023-03-02), as C's does.
    """
    return pc.cast(pc.strptime(strings, format="%Y-%m-%d", unit="s", error_is_null=True), pa.date32())


def parse_snapshots(snapshots: Sequence[Snapshot], loaded_at: dt.datetime | None = None) -> ChartTables:
    """Parse snapshots into staging rows; SnapshotError names the first bad one."""
    loaded_at = loaded_at or dt.datetime.now(dt.UTC)
    chunks = [snapshots[i : i + CHUNK_SIZE] for i in range(0, len(snapshots), CHUNK_SIZE)]
    # Arrow and zlib-ng release the GIL: two threads keep both cores busy.
    with ThreadPoolExecutor(max_workers=2) as pool:
        parts = list(pool.map(lambda chunk: parse_chunk(chunk, loaded_at), chunks))
    return concat_tables(parts)


def concat_tables(parts: Sequence[ChartTables]) -> ChartTables:
    if not parts:
        return ChartTables(CHART_ENTRIES_SCHEMA.empty_table(), CHART_ENTRY_ARTISTS_SCHEMA.empty_table())
    return ChartTables(
        pa.concat_tables([p.entries for p in parts]),
        pa.concat_tables([p.artists for p in parts]),
    )


def parse_chunk(snapshots: Sequence[Snapshot], loaded_at: dt.datetime) -> ChartTables:
    """Parse a few dozen snapshots at once (the unit of work of a parallel load)."""
    for snapshot in snapshots:
        if snapshot.source not in SOURCES:
            raise SnapshotError(snapshot.location, f"unknown source {snapshot.source!r}")
    if not snapshots:
        return concat_tables([])
    return _flatten(snapshots, _read_chunk(snapshots), loaded_at)


def _flatten(snapshots: Sequence[Snapshot], table: pa.Table, loaded_at: dt.datetime) -> ChartTables:
    """Turn parsed payloads (one row each, nested entries) into the two staging tables."""
    docs = table.column("entries").combine_chunks()
    missing = first_true(docs.is_null())
    if missing >= 0:
        raise SnapshotError(snapshots[missing].location, "payload has no 'entries' list")
    entries = docs.flatten()
    parent = pc.list_parent_indices(docs)
    data = entries.field("chartEntryData")
    meta = entries.field("trackMetadata")
    rank = data.field("currentRank")
    uri = meta.field("trackUri")
    check_entries([s.location for s in snapshots], parent, rank, uri)  # the payload rules, on all at once

    track_id = _strip_prefix(uri, TRACK_PREFIX)
    metric = data.field("rankingMetric")
    try:
        streams = pc.cast(metric.field("value"), pa.int64())
    except pa.ArrowInvalid:
        _read_checked(snapshots)  # names the snapshot with the non-numeric value
        raise
    streams = pc.if_else(pc.equal(metric.field("type"), STREAMS), streams, pa.nulls(len(streams), pa.int64()))
    previous = data.field("previousRank")
    chart_ids = strings([s.chart_id for s in snapshots]).take(parent)
    chart_dates = dates([s.chart_date for s in snapshots]).take(parent)
    n = len(entries)
    entry_table = pa.Table.from_arrays(
        [
            chart_ids,
            chart_dates,
            pc.cast(rank, pa.int32()),
            track_id,
            meta.field("trackName"),
            _join_names(meta.field("artists"), "name"),
            streams,
            pc.cast(pc.if_else(pc.greater(previous, ZERO), previous, pa.nulls(n, pa.int64())), pa.int32()),
            pc.cast(data.field("peakRank"), pa.int32()),
            _to_date(data.field("peakDate")),
            pc.cast(data.field("appearancesOnChart"), pa.int32()),
            pc.cast(data.field("consecutiveAppearancesOnChart"), pa.int32()),
            data.field("entryStatus"),
            pc.cast(data.field("entryRank"), pa.int32()),
            _to_date(data.field("entryDate")),
            _to_date(meta.field("releaseDate")),
            _join_names(meta.field("labels"), "name"),
            meta.field("displayImageUri"),
            strings([s.source for s in snapshots]).take(parent),
            from_numpy(pa.timestamp("us", tz="UTC"), np.full(n, epoch_micros(loaded_at), np.int64)),
        ],
        schema=CHART_ENTRIES_SCHEMA,
    )

    artists = meta.field("artists")
    flat = artists.flatten()
    owner = pc.list_parent_indices(artists)
    offsets = numpy_view(artists.offsets)
    position = np.arange(len(flat), dtype=np.int64) - (offsets[numpy_view(owner)] - offsets[0]) + 1
    artist_table = pa.Table.from_arrays(
        [
            chart_ids.take(owner),
            chart_dates.take(owner),
            entry_table.column("rank").take(owner),
            track_id.take(owner),
            from_numpy(pa.int32(), position.astype(np.int32)),
            _strip_prefix(flat.field("spotifyUri"), ARTIST_PREFIX),
            flat.field("name"),
        ],
        schema=CHART_ENTRY_ARTISTS_SCHEMA,
    )
    return ChartTables(entry_table, artist_table)


STREAMS = strings(["STREAMS"])[0]
COMMA = strings([", "])[0]

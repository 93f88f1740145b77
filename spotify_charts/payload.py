"""Parse raw chart snapshots (gzipped API payloads) into the two staging tables, as Arrow tables.

The hot path hands every payload of a load to Arrow's multithreaded JSON reader at once and
flattens the nested entries with Arrow compute: no Python loop per entry. Anything the fast path
rejects is parsed again one payload at a time, so the error names the snapshot and the problem.

Plain module (no Dagster import).
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json
from zlib_ng import zlib_ng

SOURCES = ("sample", "api", "csv")
_TRACK_PREFIX = "spotify:track:"
_ARTIST_PREFIX = "spotify:artist:"

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

CHART_ENTRIES_SCHEMA = pa.schema(
    [
        ("chart_id", pa.string()),
        ("chart_date", pa.date32()),
        ("rank", pa.int32()),
        ("track_id", pa.string()),
        ("track_name", pa.string()),
        ("artist_names", pa.string()),
        ("streams", pa.int64()),
        ("previous_rank", pa.int32()),
        ("peak_rank", pa.int32()),
        ("peak_date", pa.date32()),
        ("appearances_on_chart", pa.int32()),
        ("consecutive_appearances_on_chart", pa.int32()),
        ("entry_status", pa.string()),
        ("entry_rank", pa.int32()),
        ("entry_date", pa.date32()),
        ("release_date", pa.date32()),
        ("label_names", pa.string()),
        ("image_url", pa.string()),
        ("source", pa.string()),
        ("loaded_at", pa.timestamp("us", tz="UTC")),
    ]
)
CHART_ENTRY_ARTISTS_SCHEMA = pa.schema(
    [
        ("chart_id", pa.string()),
        ("chart_date", pa.date32()),
        ("rank", pa.int32()),
        ("track_id", pa.string()),
        ("artist_position", pa.int32()),
        ("artist_id", pa.string()),
        ("artist_name", pa.string()),
    ]
)


class SnapshotError(ValueError):
    """A raw snapshot that cannot be loaded; the message names the snapshot and the problem."""

    def __init__(self, location: str, problem: str) -> None:
        super().__init__(f"{location}: {problem}")
        self.location = location
        self.problem = problem


@dataclass(frozen=True)
class Snapshot:
    """One stored payload: which chart and date it is, where it came from, and its gzipped bytes."""

    chart_id: str
    chart_date: dt.date
    source: str
    location: str  # the store's URI of the file, for error messages
    data: bytes


@dataclass(frozen=True)
class ChartTables:
    entries: pa.Table  # CHART_ENTRIES_SCHEMA
    artists: pa.Table  # CHART_ENTRY_ARTISTS_SCHEMA


_GZIP_MAGIC = b"\x1f\x8b\x08"
_FEXTRA, _FNAME, _FCOMMENT = 0x04, 0x08, 0x10
_SOURCE_TAG = b"spotify-charts source="


def encode_snapshot(body: bytes, source: str) -> bytes:
    """Gzip a payload, recording its source in the gzip header's comment field.

    The payload itself stays byte for byte as the source sent it (`zcat` shows it); the comment
    makes each snapshot one self-describing file. mtime is 0, so the same payload always gives the
    same bytes.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    header = (
        _GZIP_MAGIC + bytes([_FCOMMENT]) + b"\x00\x00\x00\x00" + b"\x00\xff" + _SOURCE_TAG + source.encode() + b"\x00"
    )
    trailer = zlib.crc32(body).to_bytes(4, "little") + (len(body) & 0xFFFFFFFF).to_bytes(4, "little")
    return header + compressor.compress(body) + compressor.flush() + trailer


def snapshot_source(data: bytes) -> str | None:
    """The source recorded by `encode_snapshot`, or None (not gzip, or no such comment)."""
    if len(data) < 10 or data[:3] != _GZIP_MAGIC:
        return None
    flags, position = data[3], 10
    if flags & _FEXTRA:
        position += 2 + int.from_bytes(data[position : position + 2], "little")
    if flags & _FNAME:
        position = data.find(b"\x00", position) + 1
    if not flags & _FCOMMENT or position <= 0:
        return None
    end = data.find(b"\x00", position)
    comment = data[position:end] if end > 0 else b""
    return comment[len(_SOURCE_TAG) :].decode() if comment.startswith(_SOURCE_TAG) else None


def _decompress(snapshot: Snapshot) -> bytes:
    try:
        text = gzip.decompress(snapshot.data)
    except (OSError, EOFError, zlib.error) as exc:
        raise SnapshotError(snapshot.location, f"not a gzip file ({exc})") from None
    text = text.strip()
    if b"\n" in text:  # pretty-printed: the batch reader wants one document per line
        text = orjson.dumps(_load_json(snapshot, text))
    return text


def _load_json(snapshot: Snapshot, text: bytes) -> object:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise SnapshotError(snapshot.location, f"not valid JSON ({exc})") from None


def check_payload(location: str, payload: object) -> int:
    """Validate one decoded payload's structure; return its number of entries.

    Checks what staging relies on: an `entries` list whose items have an integer rank and a track
    URI, with no rank twice. Extra and optional fields are not checked.
    """
    if not isinstance(payload, dict) or "entries" not in payload:
        raise SnapshotError(location, "payload has no 'entries' field")
    entries = payload["entries"]
    if not isinstance(entries, list):
        raise SnapshotError(location, f"'entries' is a {type(entries).__name__}, not a list")
    seen: set[int] = set()
    for position, entry in enumerate(entries):
        rank = (entry.get("chartEntryData") or {}).get("currentRank") if isinstance(entry, dict) else None
        if not isinstance(rank, int) or isinstance(rank, bool) or rank < 1:
            raise SnapshotError(location, f"entry {position} has no valid chartEntryData.currentRank ({rank!r})")
        uri = (entry.get("trackMetadata") or {}).get("trackUri")
        if not isinstance(uri, str) or not uri.startswith(_TRACK_PREFIX) or len(uri) == len(_TRACK_PREFIX):
            raise SnapshotError(location, f"entry {position} (rank {rank}) has no track URI ({uri!r})")
        value = (entry["chartEntryData"].get("rankingMetric") or {}).get("value")
        if value is not None and not str(value).isdigit():
            raise SnapshotError(
                location, f"entry {position} (rank {rank}) has a non-numeric rankingMetric.value {value!r}"
            )
        if rank in seen:
            raise SnapshotError(location, f"rank {rank} appears more than once")
        seen.add(rank)
    return len(entries)


_PARSE_OPTIONS = pa_json.ParseOptions(explicit_schema=PAYLOAD_SCHEMA, unexpected_field_behavior="ignore")
_READ_OPTIONS = pa_json.ReadOptions(block_size=4 << 20, use_threads=False)
CHUNK_SIZE = 128  # snapshots per parallel task: small enough to keep both cores busy


def _read_fast(chunk: Sequence[Snapshot]) -> pa.Table:
    """Decompress a chunk (zlib-ng, which releases the GIL) and parse it as one NDJSON buffer."""
    text = b"\n".join(zlib_ng.decompress(s.data, wbits=31) for s in chunk)
    return pa_json.read_json(io.BytesIO(text), read_options=_READ_OPTIONS, parse_options=_PARSE_OPTIONS)


def _read_checked(chunk: Sequence[Snapshot]) -> pa.Table:
    """The slow path, one snapshot at a time, so that an error names its snapshot."""
    texts = [_decompress(snapshot) for snapshot in chunk]
    for snapshot, text in zip(chunk, texts):
        check_payload(snapshot.location, _load_json(snapshot, text))
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
    return pc.binary_join(names, _COMMA)


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
    missing = _first_true(docs.is_null())
    if missing >= 0:
        raise SnapshotError(snapshots[missing].location, "payload has no 'entries' list")
    entries = docs.flatten()
    parent = pc.list_parent_indices(docs)
    data = entries.field("chartEntryData")
    meta = entries.field("trackMetadata")
    rank = data.field("currentRank")
    uri = meta.field("trackUri")
    _check_entries(snapshots, parent, rank, uri)

    track_id = _strip_prefix(uri, _TRACK_PREFIX)
    metric = data.field("rankingMetric")
    try:
        streams = pc.cast(metric.field("value"), pa.int64())
    except pa.ArrowInvalid:
        _read_checked(snapshots)  # names the snapshot with the non-numeric value
        raise
    streams = pc.if_else(pc.equal(metric.field("type"), _STREAMS), streams, pa.nulls(len(streams), pa.int64()))
    previous = data.field("previousRank")
    chart_ids = _strings([s.chart_id for s in snapshots]).take(parent)
    chart_dates = _dates([s.chart_date for s in snapshots]).take(parent)
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
            pc.cast(pc.if_else(pc.greater(previous, _ZERO), previous, pa.nulls(n, pa.int64())), pa.int32()),
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
            _strings([s.source for s in snapshots]).take(parent),
            _from_numpy(pa.timestamp("us", tz="UTC"), np.full(n, _epoch_micros(loaded_at), np.int64)),
        ],
        schema=CHART_ENTRIES_SCHEMA,
    )

    artists = meta.field("artists")
    flat = artists.flatten()
    owner = pc.list_parent_indices(artists)
    offsets = _numpy(artists.offsets)
    position = np.arange(len(flat), dtype=np.int64) - (offsets[_numpy(owner)] - offsets[0]) + 1
    artist_table = pa.Table.from_arrays(
        [
            chart_ids.take(owner),
            chart_dates.take(owner),
            entry_table.column("rank").take(owner),
            track_id.take(owner),
            _from_numpy(pa.int32(), position.astype(np.int32)),
            _strip_prefix(flat.field("spotifyUri"), _ARTIST_PREFIX),
            flat.field("name"),
        ],
        schema=CHART_ENTRY_ARTISTS_SCHEMA,
    )
    return ChartTables(entry_table, artist_table)


def _check_entries(snapshots: Sequence[Snapshot], parent: pa.Array, rank: pa.Array, uri: pa.Array) -> None:
    """Every entry has a rank and a track URI; no snapshot has a rank twice."""
    bad_rank = _first_true(pc.invert(pc.fill_null(pc.greater_equal(rank, _ONE), _FALSE)))
    if bad_rank >= 0:
        raise SnapshotError(
            snapshots[parent[bad_rank].as_py()].location,
            f"an entry has no valid chartEntryData.currentRank ({rank[bad_rank].as_py()!r})",
        )
    valid_uri = pc.and_(pc.starts_with(uri, _TRACK_PREFIX), pc.greater(pc.utf8_length(uri), _TRACK_PREFIX_LENGTH))
    bad_uri = _first_true(pc.invert(pc.fill_null(valid_uri, _FALSE)))
    if bad_uri >= 0:
        raise SnapshotError(
            snapshots[parent[bad_uri].as_py()].location,
            f"the entry ranked {rank[bad_uri].as_py()} has no track URI ({uri[bad_uri].as_py()!r})",
        )
    key = _numpy(parent) * (1 << 32) + _numpy(rank)
    ordered = np.sort(key)
    dupes = np.flatnonzero(ordered[1:] == ordered[:-1])
    if len(dupes):
        k = int(ordered[dupes[0]])
        raise SnapshotError(snapshots[k >> 32].location, f"rank {k & 0xFFFFFFFF} appears more than once")


# Arrow <-> NumPy and Python without `pa.array()` or `Array.to_numpy()`: both make pyarrow import
# pandas, 0.2 s of CPU in every process that loads staging (see BENCHMARKS.md).
_NUMPY_TYPES = {pa.int8(): np.int8, pa.int32(): np.int32, pa.int64(): np.int64}


def _numpy(array: pa.Array) -> np.ndarray:
    """A view of a null-free int32/int64 Arrow array."""
    if array.null_count:
        raise ValueError("array has nulls")
    values = np.frombuffer(array.buffers()[1], dtype=_NUMPY_TYPES[array.type])
    return values[array.offset : array.offset + len(array)]


def _first_true(mask: pa.Array) -> int:
    """Position of the first true value of a null-free boolean array, or -1."""
    flags = _numpy(pc.cast(mask, pa.int8()))
    first = int(np.argmax(flags)) if len(flags) else 0
    return first if len(flags) and flags[first] else -1


def _from_numpy(type_: pa.DataType, values: np.ndarray) -> pa.Array:
    return pa.Array.from_buffers(type_, len(values), [None, pa.py_buffer(np.ascontiguousarray(values))])


def _strings(values: Sequence[str]) -> pa.Array:
    encoded = [value.encode() for value in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return pa.Array.from_buffers(
        pa.string(), len(encoded), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    )


_EPOCH = dt.date(1970, 1, 1)
# Compute functions turn Python operands into scalars with pa.scalar(), which imports pandas too.
_ZERO = _from_numpy(pa.int64(), np.array([0]))[0]
_ONE = _from_numpy(pa.int64(), np.array([1]))[0]
_TRACK_PREFIX_LENGTH = _from_numpy(pa.int32(), np.array([len(_TRACK_PREFIX)], np.int32))[0]
_FALSE = pa.Array.from_buffers(pa.bool_(), 1, [None, pa.py_buffer(b"\x00")])[0]
_STREAMS = _strings(["STREAMS"])[0]
_COMMA = _strings([", "])[0]


def _dates(values: Sequence[dt.date]) -> pa.Array:
    return _from_numpy(pa.date32(), np.array([(d - _EPOCH).days for d in values], dtype=np.int32))


def _epoch_micros(moment: dt.datetime) -> int:
    delta = moment.astimezone(dt.UTC) - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds

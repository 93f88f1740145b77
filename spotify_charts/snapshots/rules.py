"""The one rule set a chart payload must pass before it is stored or loaded.

The rules, in the order they are checked (the first broken one is reported):

1. the payload is an object with an `entries` list;
2. every entry has a whole-number `chartEntryData.currentRank` of at least 1;
3. every entry has a track URI, `spotify:track:{id}`;
4. `chartEntryData.rankingMetric.value`, where present, is a whole number (streams);
5. no rank appears twice;
6. the ranks are exactly 1..N (N entries, none missing);
7. no track appears twice.

What staging builds on (one row per chart, date and rank; a song counted once per chart-day) is
thus settled by each payload alone; the staging checks (`quality.py`) keep what needs more than
one payload. Two implementations, one verdict: `check_payload` (one decoded payload; the charts
service client, the CSV import and the loader's slow path) and `check_entries` (the loader's fast
path, on Arrow arrays of many payloads at once: no Python loop per entry). Both report the same
problem text for the same payload, which a test checks payload by payload. Rule 4 has no Arrow
form: a non-numeric value fails Arrow's cast and the loader reruns `check_payload` to name it.
`valid_rank`, `valid_track_uri` and `valid_streams` are rules 2-4 for one value, which the CSV
import applies line by line.

Plain module (no Dagster import).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from spotify_charts.snapshots import TRACK_PREFIX, SnapshotError
from spotify_charts.snapshots.arrow_buffers import FALSE, ONE, first_true, from_numpy, numpy_view


def valid_rank(rank: object) -> bool:
    return isinstance(rank, int) and not isinstance(rank, bool) and rank >= 1


def valid_track_uri(uri: object) -> bool:
    return isinstance(uri, str) and uri.startswith(TRACK_PREFIX) and len(uri) > len(TRACK_PREFIX)


def valid_streams(value: object) -> bool:
    return value is None or str(value).isdigit()


def _bad_rank(rank: object) -> str:
    return f"an entry has no valid chartEntryData.currentRank ({rank!r})"


def _no_uri(rank: object, uri: object) -> str:
    return f"the entry ranked {rank} has no track URI ({uri!r})"


def _twice(rank: int) -> str:
    return f"rank {rank} appears more than once"


def _gap(entries: int, highest: int) -> str:
    return f"the ranks are not exactly 1..{entries}: the highest is {highest}"


def _track_twice(uri: str) -> str:
    return f"track {uri} appears more than once"


def check_payload(location: str, payload: object) -> int:
    """Validate one decoded payload against the rules; return its number of entries.

    SnapshotError names `location` and the first broken rule. Extra and optional fields are not checked."""
    if not isinstance(payload, dict) or "entries" not in payload:
        raise SnapshotError(location, "payload has no 'entries' field")
    entries = payload["entries"]
    if not isinstance(entries, list):
        raise SnapshotError(location, f"'entries' is a {type(entries).__name__}, not a list")
    data = [(e.get("chartEntryData") or {}) if isinstance(e, dict) else {} for e in entries]
    meta = [(e.get("trackMetadata") or {}) if isinstance(e, dict) else {} for e in entries]
    ranks = [d.get("currentRank") for d in data]
    for rank in ranks:
        if not valid_rank(rank):
            raise SnapshotError(location, _bad_rank(rank))
    uris = [m.get("trackUri") for m in meta]
    for rank, uri in zip(ranks, uris):
        if not valid_track_uri(uri):
            raise SnapshotError(location, _no_uri(rank, uri))
    for rank, entry_data in zip(ranks, data):
        value = (entry_data.get("rankingMetric") or {}).get("value")
        if not valid_streams(value):
            raise SnapshotError(location, f"the entry ranked {rank} has a non-numeric rankingMetric.value {value!r}")
    ordered = sorted(ranks)
    twice = [a for a, b in zip(ordered, ordered[1:]) if a == b]
    if twice:
        raise SnapshotError(location, _twice(twice[0]))
    if ordered and ordered[-1] != len(ordered):
        raise SnapshotError(location, _gap(len(ordered), ordered[-1]))
    seen: set[str] = set()
    repeated = [uri for uri in uris if uri in seen or seen.add(uri)]
    if repeated:  # the earliest listed of the repeated tracks, as check_entries reports it
        first = min(repeated, key=uris.index)
        raise SnapshotError(location, _track_twice(first))
    return len(entries)


def check_entries(locations: Sequence[str], parent: pa.Array, rank: pa.Array, uri: pa.Array) -> None:
    """Rules 2, 3 and 5-7 over the entries of many payloads at once (Arrow arrays, one item per
    entry; `parent` is the index into `locations` of each entry's payload). SnapshotError names the
    first payload, in `locations` order, that breaks the first rule broken, as `check_payload` would."""
    bad_rank = first_true(pc.invert(pc.fill_null(pc.greater_equal(rank, ONE), FALSE)))
    if bad_rank >= 0:
        raise SnapshotError(locations[parent[bad_rank].as_py()], _bad_rank(rank[bad_rank].as_py()))
    valid_uri = pc.and_(pc.starts_with(uri, TRACK_PREFIX), pc.greater(pc.utf8_length(uri), _TRACK_PREFIX_LENGTH))
    bad_uri = first_true(pc.invert(pc.fill_null(valid_uri, FALSE)))
    if bad_uri >= 0:
        raise SnapshotError(locations[parent[bad_uri].as_py()], _no_uri(rank[bad_uri].as_py(), uri[bad_uri].as_py()))
    owners = numpy_view(parent)
    ranks = numpy_view(rank)
    key = owners * (1 << 32) + ranks
    ordered = np.sort(key)
    dupes = np.flatnonzero(ordered[1:] == ordered[:-1])
    if len(dupes):
        k = int(ordered[dupes[0]])
        raise SnapshotError(locations[k >> 32], _twice(k & 0xFFFFFFFF))
    if len(owners):
        count = np.bincount(owners, minlength=len(locations))
        highest = np.zeros(len(locations), dtype=np.int64)
        np.maximum.at(highest, owners, ranks)
        gaps = np.flatnonzero(highest != count)
        if len(gaps):
            where = int(gaps[0])
            raise SnapshotError(locations[where], _gap(int(count[where]), int(highest[where])))
        # Tracks as dictionary indices: a repeat within one payload is two equal (payload, track) keys.
        ids = numpy_view(pc.dictionary_encode(uri).indices).astype(np.int64)
        pairs = np.sort(owners * (1 << 32) + ids)
        repeats = np.flatnonzero(pairs[1:] == pairs[:-1])
        if len(repeats):
            where = int(pairs[repeats[0]]) >> 32
            # Name the track as check_payload does: that payload's earliest listed repeated track.
            mine = np.flatnonzero(owners == where)
            uris = uri[int(mine[0]) : int(mine[-1]) + 1].to_pylist()
            seen: set[str] = set()
            repeated = [u for u in uris if u in seen or seen.add(u)]
            raise SnapshotError(locations[where], _track_twice(min(repeated, key=uris.index)))


_TRACK_PREFIX_LENGTH = from_numpy(pa.int32(), np.array([len(TRACK_PREFIX)], np.int32))[0]

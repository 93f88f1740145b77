"""The one rule set a chart payload must pass before it is stored or loaded.

Plain module (no Dagster import).
"""

from __future__ import annotations

from spotify_charts.snapshots import TRACK_PREFIX, SnapshotError


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
        if not isinstance(uri, str) or not uri.startswith(TRACK_PREFIX) or len(uri) == len(TRACK_PREFIX):
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

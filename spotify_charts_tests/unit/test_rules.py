"""One payload rule set, two implementations: the same bad payloads fed to `check_payload` (the API
client, the CSV import, the loader's slow path) and to the loader's Arrow fast path get the same
verdict, naming the same file and the same problem."""

from __future__ import annotations

import copy
import datetime as dt
import gzip
import json

import pytest

from spotify_charts.snapshots import Snapshot, SnapshotError, arrow
from spotify_charts.snapshots.rules import check_payload
from spotify_charts_tests.support.helpers import SHARED_FIXTURES

REAL = json.loads((SHARED_FIXTURES / "real-weekly-global-2023-01-26-top12.json").read_text())
BAD = "data/raw/spotify-charts/regional-ee-daily/2025-06-02.json.gz"


def _set(entry: int, part: str, field: str, value):
    def change(entries):
        if value is KeyError:
            entries[entry][part].pop(field)
        else:
            entries[entry][part][field] = value

    return change


def _same_uri(*pairs: tuple[int, int]):
    def change(entries):
        for target, source in pairs:
            entries[target]["trackMetadata"]["trackUri"] = entries[source]["trackMetadata"]["trackUri"]

    return change


def _renumber(entries):  # drop the 6th entry and close the gap: a valid, shorter chart
    del entries[5]
    for rank, entry in enumerate(entries, 1):
        entry["chartEntryData"]["currentRank"] = rank


CHANGES = {
    "good": lambda entries: None,
    "good, shorter": _renumber,
    "rank 0": _set(2, "chartEntryData", "currentRank", 0),
    "rank -1": _set(2, "chartEntryData", "currentRank", -1),
    "rank null": _set(2, "chartEntryData", "currentRank", None),
    "no rank": _set(4, "chartEntryData", "currentRank", KeyError),
    "no track URI": _set(5, "trackMetadata", "trackUri", KeyError),
    "empty track id": _set(5, "trackMetadata", "trackUri", "spotify:track:"),
    "an artist URI": _set(5, "trackMetadata", "trackUri", "spotify:artist:0du5cEVh5yTK9QJze8zA0C"),
    "a rank twice": _set(3, "chartEntryData", "currentRank", 1),
    "a rank missing": _set(11, "chartEntryData", "currentRank", 13),
    "an entry missing": lambda entries: entries.pop(4),
    "a track twice": _same_uri((1, 0)),
    "two tracks twice": _same_uri((7, 2), (3, 1)),
    "a rank twice and a track twice": lambda entries: (
        _same_uri((1, 0))(entries),
        _set(9, "chartEntryData", "currentRank", 3)(entries),
    ),
}


def payload_with(change) -> dict:
    payload = copy.deepcopy(REAL)
    change(payload["entries"])
    return payload


def snapshot(location: str, payload: dict) -> Snapshot:
    return Snapshot(
        "regional-ee-daily", dt.date(2025, 6, 2), "api", location, gzip.compress(json.dumps(payload).encode())
    )


def python_verdict(payload: dict) -> tuple[str, str] | None:
    try:
        check_payload(BAD, payload)
    except SnapshotError as exc:
        return exc.location, exc.problem
    return None


def arrow_verdict(payload: dict) -> tuple[str, str] | None:
    """The loader's fast path alone, on a chunk holding a good snapshot before the bad one."""
    chunk = [snapshot("data/raw/good.json.gz", REAL), snapshot(BAD, payload)]
    try:
        arrow.parse_chunk(chunk, dt.datetime(2025, 6, 3, tzinfo=dt.UTC))
    except SnapshotError as exc:
        return exc.location, exc.problem
    return None


@pytest.mark.parametrize("name", CHANGES)
def test_both_implementations_give_the_same_verdict(name, monkeypatch):
    monkeypatch.setattr(arrow, "_read_checked", lambda chunk: pytest.fail("the fast path handed over to check_payload"))
    payload = payload_with(CHANGES[name])
    expected = python_verdict(payload)
    assert arrow_verdict(payload) == expected
    assert (expected is None) == name.startswith("good")


def test_the_verdicts_name_the_problem():
    verdicts = {name: python_verdict(payload_with(change)) for name, change in CHANGES.items()}
    uris = [e["trackMetadata"]["trackUri"] for e in REAL["entries"]]
    assert verdicts["rank 0"] == (BAD, "an entry has no valid chartEntryData.currentRank (0)")
    assert verdicts["no track URI"] == (BAD, "the entry ranked 6 has no track URI (None)")
    assert verdicts["a rank twice"] == (BAD, "rank 1 appears more than once")
    assert verdicts["a rank missing"] == (BAD, "the ranks are not exactly 1..12: the highest is 13")
    assert verdicts["an entry missing"] == (BAD, "the ranks are not exactly 1..11: the highest is 12")
    assert verdicts["a track twice"] == (BAD, f"track {uris[0]} appears more than once")
    assert verdicts["two tracks twice"] == (BAD, f"track {uris[1]} appears more than once")  # the earliest listed
    assert verdicts["a rank twice and a track twice"] == (BAD, "rank 3 appears more than once")  # rules in order


def test_a_non_numeric_stream_count_is_named_through_the_slow_path():
    """Rule 4 has no Arrow form: the cast fails and check_payload names the snapshot."""
    payload = payload_with(_set(5, "chartEntryData", "rankingMetric", {"value": "12k", "type": "STREAMS"}))
    expected = (BAD, "the entry ranked 6 has a non-numeric rankingMetric.value '12k'")
    assert python_verdict(payload) == expected == arrow_verdict(payload)

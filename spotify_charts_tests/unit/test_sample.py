"""The sample source: API shape, determinism across processes, history that agrees with itself."""

import collections
import datetime as dt
import hashlib

import numpy as np
import orjson
import pytest

from spotify_charts.sources.sample import SampleSource, sample_chart, simulation
from spotify_charts.sources.sample.catalog import CHART_EPOCH

ALIAS = "regional-ee-daily"


def _digest(alias: str, day: dt.date) -> str:
    return hashlib.sha256(SampleSource().fetch(alias, day).body).hexdigest()


def test_payload_has_the_api_shape_and_quirks():
    payload = orjson.loads(SampleSource().fetch(ALIAS, dt.date(2024, 5, 3)).body)
    meta = payload["displayChart"]["chartMetadata"]
    assert payload["displayChart"]["date"] == "2024-05-03"
    assert meta["alias"] == ALIAS and meta["dimensions"]["recurrence"] == "DAILY"
    entries = payload["entries"]
    assert [e["chartEntryData"]["currentRank"] for e in entries] == list(range(1, 51))  # a small market
    streams = [e["chartEntryData"]["rankingMetric"]["value"] for e in entries]
    assert all(isinstance(s, str) and s.isdigit() for s in streams)
    assert [int(s) for s in streams] == sorted((int(s) for s in streams), reverse=True)
    for entry in entries:
        track = entry["trackMetadata"]
        assert track["trackUri"].startswith("spotify:track:") and len(track["trackUri"]) == 36
        assert track["artists"] and all(a["spotifyUri"].startswith("spotify:artist:") for a in track["artists"])
        assert set(entry) == {"chartEntryData", "missingRequiredFields", "trackMetadata"}
    assert any(len(e["trackMetadata"]["artists"]) > 1 for e in entries)


def test_older_payloads_lack_the_fields_older_captures_lack():
    entry = sample_chart(ALIAS, dt.date(2018, 5, 3))["entries"][0]
    assert "missingRequiredFields" not in entry
    assert "producers" not in entry["trackMetadata"] and "songWriters" not in entry["trackMetadata"]
    assert set(entry["trackMetadata"]["labels"][0]) == {"name"}


def test_chart_sizes_and_power_law_streams():
    chart = sample_chart("regional-global-daily", dt.date(2024, 8, 2))
    assert len(chart["entries"]) == 200
    top = int(chart["entries"][0]["chartEntryData"]["rankingMetric"]["value"])
    last = int(chart["entries"][-1]["chartEntryData"]["rankingMetric"]["value"])
    assert top > 1_000_000 and top > 8 * last


def test_history_fields_agree_with_the_previous_day():
    days = [dt.date(2023, 12, 20) + dt.timedelta(days=i) for i in range(12)]
    charts = [sample_chart(ALIAS, d)["entries"] for d in days]
    for yesterday, today in zip(charts, charts[1:]):
        before = {e["trackMetadata"]["trackUri"]: e["chartEntryData"] for e in yesterday}
        for entry in today:
            now = entry["chartEntryData"]
            was = before.get(entry["trackMetadata"]["trackUri"])
            if was is None:
                assert now["previousRank"] == -1
                assert now["consecutiveAppearancesOnChart"] == 1
                assert now["entryStatus"] in ("NEW_ENTRY", "RE_ENTRY")
                assert (now["entryStatus"] == "NEW_ENTRY") == (now["appearancesOnChart"] == 1)
            else:
                assert now["previousRank"] == was["currentRank"]
                assert now["appearancesOnChart"] == was["appearancesOnChart"] + 1
                assert now["consecutiveAppearancesOnChart"] == was["consecutiveAppearancesOnChart"] + 1
                assert now["peakRank"] == min(was["peakRank"], now["currentRank"])
                assert (now["entryRank"], now["entryDate"]) == (was["entryRank"], was["entryDate"])
                expected = {True: "MOVED_UP", False: "MOVED_DOWN"}.get(
                    now["currentRank"] < was["currentRank"] if now["currentRank"] != was["currentRank"] else None,
                    "NO_CHANGE",
                )
                assert now["entryStatus"] == expected
            assert now["peakRank"] <= now["currentRank"]


def test_first_day_of_history_is_all_new_entries():
    entries = sample_chart(ALIAS, CHART_EPOCH)["entries"]
    assert {e["chartEntryData"]["entryStatus"] for e in entries} == {"NEW_ENTRY"}
    with pytest.raises(ValueError):
        sample_chart(ALIAS, CHART_EPOCH - dt.timedelta(days=1))


@pytest.fixture(scope="module")
def year_of_global():
    start = dt.date(2023, 1, 1)
    return [
        (start + dt.timedelta(days=i), sample_chart("regional-global-daily", start + dt.timedelta(days=i))["entries"])
        for i in range(365)
    ]


def test_most_releases_are_on_fridays(year_of_global):
    debuts = {}
    for _, entries in year_of_global:
        for e in entries:
            release = e["trackMetadata"].get("releaseDate", "")
            if e["chartEntryData"]["entryStatus"] == "NEW_ENTRY" and len(release) == 10 and release >= "2023":
                debuts[e["trackMetadata"]["trackUri"]] = dt.date.fromisoformat(release).weekday()
    weekdays = collections.Counter(debuts.values())
    assert len(debuts) > 100
    assert weekdays[4] > 0.6 * len(debuts)  # Friday


def test_album_drops_december_classics_and_reissues(year_of_global):
    most_by_one_artist = max(
        collections.Counter(e["trackMetadata"]["artists"][0]["spotifyUri"] for e in entries).most_common(1)[0][1]
        for _, entries in year_of_global
    )
    assert most_by_one_artist >= 6  # an album drop fills the chart with one artist's songs

    december_reentries = {
        e["trackMetadata"]["trackName"]
        for day, entries in year_of_global
        if day.month == 12
        for e in entries
        if e["chartEntryData"]["entryStatus"] == "RE_ENTRY"
        and e["trackMetadata"].get("releaseDate", "2000")[:4] < "2015"
    }
    assert december_reentries  # classics come back every December

    uris_per_song = collections.defaultdict(set)
    for _, entries in year_of_global:
        for e in entries:
            song = (e["trackMetadata"]["trackName"], tuple(a["spotifyUri"] for a in e["trackMetadata"]["artists"]))
            uris_per_song[song].add(e["trackMetadata"]["trackUri"])
    assert any(len(uris) > 1 for uris in uris_per_song.values())  # a re-issue under a new URI


def test_names_are_unicode_with_punctuation(year_of_global):
    names = {e["trackMetadata"]["trackName"] for _, entries in year_of_global for e in entries}
    names |= {a["name"] for _, entries in year_of_global for e in entries for a in e["trackMetadata"]["artists"]}
    text = "".join(names)
    assert any(ord(ch) > 127 for ch in text)
    for ch in "\"'&,[(":
        assert ch in text


def test_home_artists_lead_their_home_chart():
    entries = sample_chart("regional-jp-daily", dt.date(2024, 9, 1))["entries"]
    global_uris = {
        a["spotifyUri"]
        for e in sample_chart("regional-global-daily", dt.date(2024, 9, 1))["entries"]
        for a in e["trackMetadata"]["artists"]
    }
    local = [e for e in entries[:50] if not any(a["spotifyUri"] in global_uris for a in e["trackMetadata"]["artists"])]
    assert len(local) >= 10
    assert any(any("\u30a0" <= ch <= "\u30ff" for ch in e["trackMetadata"]["artists"][0]["name"]) for e in local)


@pytest.mark.parametrize("alias", ["regional-global-daily", "regional-ee-daily"])
def test_ranking_only_the_likely_songs_gives_the_exact_top_of_every_song(alias):
    """The simulation ranks only songs whose noise-free streams reach a floor, for speed; the charts
    must be those of ranking every released song (here recomputed the slow way for a few days)."""
    sim = simulation.simulation(alias)
    for day in (dt.date(2017, 1, 1), dt.date(2019, 12, 24), dt.date(2024, 5, 3), dt.date(2025, 12, 31)):
        ordinal = np.array([day.toordinal()])
        song, days, base = sim._everything(ordinal)
        assert len(song) > 10 * sim.size  # every released song competes
        top_song, _, top_streams = sim._rank(song, days, sim._streams(song, days, base), day.toordinal(), 1)
        entries = sample_chart(alias, day)["entries"]
        uris = [e["trackMetadata"]["trackUri"] for e in entries]
        assert uris == [sim.meta(int(s))["trackUri"] for s in top_song]
        assert [int(e["chartEntryData"]["rankingMetric"]["value"]) for e in entries] == top_streams.tolist()

"""The history CSV import: files in the public history's layout, with its quirks, become raw
snapshots in the service's payload shape (source = history); bad rows are reported by file and line
and keep their chart out; gzipped and unsorted input give the same snapshots."""

from __future__ import annotations

import datetime as dt
import gzip
import random
from pathlib import Path

import orjson
import pytest

from spotify_charts.cli import history as cli
from spotify_charts.snapshots.files import snapshot_source
from spotify_charts.snapshots.rules import check_payload
from spotify_charts.sources.history import HistoryImportError, import_history
from spotify_charts.storage import snapshot_key
from spotify_charts.storage.local import LocalFileStore
from spotify_charts_tests.support.history import FIRST_ROWS, URL, write_history

# Two dates of two regions, as the public file has them: names quoted where they hold a comma,
# a viral50 chart with empty streams, a region we have no charts for, streams written as floats.
ROWS = [
    *FIRST_ROWS,
    f"Reggaetón Lento (Bailemos),3,2017-01-01,CNCO,{URL}3AEZUABDXNtecAOSC1qTfo,Global,top200,NEW_ENTRY,",
    f"Chantaje,1,2017-01-01,Shakira,{URL}6mICuAdrwEjh6Y6lroV2Kg,Global,viral50,MOVE_UP,",
    f"Otra Vez,2,2017-01-01,Zion & Lennox,{URL}3QwBODjSEzelZyVjxPOHdq,Global,viral50,MOVE_DOWN,",
    f"Песня,1,2017-01-01,АНТИВСЕЛЕННАЯ,{URL}5ww2BF9slyYgNOk37BlC4u,Estonia,top200,NEW_ENTRY,1200",
    f"Shape of You,2,2017-01-01,Ed Sheeran,{URL}7qiZfU4dY1lWllzX7mPBI3,Estonia,top200,MOVE_DOWN,1100",
    f"Somewhere,1,2017-01-01,Nobody,{URL}1aaaaaaaaaaaaaaaaaaaaa,Atlantis,top200,NEW_ENTRY,10",
    f"Elsewhere,2,2017-01-01,Nobody,{URL}1bbbbbbbbbbbbbbbbbbbbb,Atlantis,top200,NEW_ENTRY,9",
    f"Chantaje,1,2017-01-02,Shakira,{URL}6mICuAdrwEjh6Y6lroV2Kg,Global,top200,SAME_POSITION,260000",
    f"Shape of You,2,2017-01-02,Ed Sheeran,{URL}7qiZfU4dY1lWllzX7mPBI3,Global,top200,NEW_ENTRY,250000",
    f"Shape of You,1,2017-01-02,Ed Sheeran,{URL}7qiZfU4dY1lWllzX7mPBI3,Estonia,top200,MOVE_UP,1300",
]
GLOBAL_1 = ("regional-global-daily", dt.date(2017, 1, 1))
KEYS = [
    GLOBAL_1,
    ("regional-ee-daily", dt.date(2017, 1, 1)),
    ("regional-global-daily", dt.date(2017, 1, 2)),
    ("regional-ee-daily", dt.date(2017, 1, 2)),
]


def payload(store: LocalFileStore, key: tuple[str, dt.date]) -> dict:
    return orjson.loads(gzip.decompress(store.read(snapshot_key(*key))))


def stored(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.json.gz"))


def test_each_regions_daily_chart_becomes_a_snapshot_in_the_services_shape(tmp_path):
    store = LocalFileStore(tmp_path / "raw")
    report = import_history(write_history(tmp_path / "charts.csv", ROWS), store)
    assert [store.exists(snapshot_key(*key)) for key in KEYS] == [True] * 4
    assert len(stored(tmp_path / "raw")) == 4
    assert (report.rows, report.charts_stored, report.entries_stored) == (12, 4, 8)
    assert report.viral_rows == 2 and report.unknown_regions == {"Atlantis": 2}
    assert (report.first_date, report.last_date, report.regions) == (
        dt.date(2017, 1, 1),
        dt.date(2017, 1, 2),
        {"global", "ee"},
    )
    assert report.bad_row_count == 0 and report.charts_rejected == []
    assert "unknown region 'Atlantis': 2 rows skipped" in report.summary()

    data = store.read(snapshot_key(*GLOBAL_1))
    assert snapshot_source(data) == "history"
    body = payload(store, GLOBAL_1)
    assert check_payload("here", body) == 3
    assert body["displayChart"] == {"date": "2017-01-01", "chartMetadata": {"alias": "regional-global-daily"}}
    assert body["historyImport"] == {"fileName": "charts.csv", "lines": [2, 4]}
    first, second, third = body["entries"]
    assert first == {
        "chartEntryData": {
            "currentRank": 1,
            "entryStatus": "NO_CHANGE",
            "rankingMetric": {"value": "253019", "type": "STREAMS"},
        },
        "trackMetadata": {
            "trackName": "Chantaje (feat. Maluma)",
            "trackUri": "spotify:track:6mICuAdrwEjh6Y6lroV2Kg",
            "artists": [{"name": "Shakira"}, {"name": "Maluma"}],
        },
    }
    assert second["trackMetadata"]["trackName"] == "Vente Pa' Ca, Remix"
    assert second["chartEntryData"]["rankingMetric"]["value"] == "223988"  # pandas' float form, read as a count
    assert second["chartEntryData"]["entryStatus"] == "MOVED_UP"
    assert third["chartEntryData"] == {"currentRank": 3, "entryStatus": "NEW_ENTRY"}  # streams missing: left out
    assert payload(store, KEYS[1])["entries"][0]["trackMetadata"]["artists"] == [{"name": "АНТИВСЕЛЕННАЯ"}]


def test_a_gzipped_file_gives_the_same_snapshots(tmp_path):
    plain, packed = LocalFileStore(tmp_path / "plain"), LocalFileStore(tmp_path / "packed")
    import_history(write_history(tmp_path / "charts.csv", ROWS), plain)
    report = import_history(write_history(tmp_path / "charts.csv.gz", ROWS, compress=True), packed)
    assert report.charts_stored == 4
    for key in KEYS:
        assert payload(packed, key)["entries"] == payload(plain, key)["entries"]


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (f"Bad,two,2017-01-01,X,{URL}0aaaaaaaaaaaaaaaaaaaaa,Global,top200,NEW_ENTRY,1", "rank 'two' is not a number"),
        (
            "Bad,3,2017-01-01,X,https://example.com/track/0abc,Global,top200,NEW_ENTRY,1",
            "is not https://open.spotify.com/track/{id}",
        ),
        (
            f"Bad,1,2017-01-01,X,{URL}0aaaaaaaaaaaaaaaaaaaaa,Global,top200,NEW_ENTRY,1",
            "rank 1 appears more than once (first on line 2)",
        ),
        (
            f"Bad,3,2017-01-01,X,{URL}0aaaaaaaaaaaaaaaaaaaaa,Global,top200,NEW_ENTRY,lots",
            "streams 'lots' is not a number",
        ),
        (f"Bad,3,2017-01-01,X,{URL}0aaaaaaaaaaaaaaaaaaaaa,Global,top200,SIDEWAYS,1", "trend 'SIDEWAYS' is not one of"),
        (f"Bad,3,2017-01-01,X,{URL}0aaaaaaaaaaaaaaaaaaaaa,Global", "6 columns, expected 9"),
        (
            f"Bad,3,2017-13-01,X,{URL}0aaaaaaaaaaaaaaaaaaaaa,Global,top200,NEW_ENTRY,1",
            "date '2017-13-01' is not a chart date",
        ),
    ],
)
def test_a_bad_row_is_reported_by_file_and_line_and_keeps_its_chart_out(tmp_path, row, problem):
    rows = [*ROWS[:2], row, *ROWS[2:]]  # line 4, inside the global chart of 2017-01-01
    store = LocalFileStore(tmp_path / "raw")
    path = write_history(tmp_path / "charts.csv", rows)
    report = import_history(path, store)
    assert not store.exists(snapshot_key(*GLOBAL_1))  # no half chart
    assert [store.exists(snapshot_key(*key)) for key in KEYS[1:]] == [True] * 3  # the others are stored
    assert report.charts_rejected == ["regional-global-daily/2017-01-01"]
    assert report.bad_row_count == 1
    (bad,) = report.bad_rows
    assert bad.line == 4 and problem in bad.problem
    assert bad.describe(str(path)).startswith(f"{path}, line 4: ")
    assert "regional-global-daily/2017-01-01 not stored" in report.summary()


def test_unsorted_rows_give_the_same_charts_as_sorted_ones(tmp_path):
    sorted_store, shuffled_store = LocalFileStore(tmp_path / "sorted"), LocalFileStore(tmp_path / "shuffled")
    import_history(write_history(tmp_path / "sorted.csv", ROWS), sorted_store)
    shuffled = ROWS[:]
    random.Random(7).shuffle(shuffled)
    # A window of one row: every chart is stored as soon as another chart's row comes, so nearly
    # every later row of it takes the spill-and-merge path.
    report = import_history(write_history(tmp_path / "shuffled.csv", shuffled), shuffled_store, window_rows=1)
    assert report.late_rows > 0
    assert report.charts_stored == 4 and report.entries_stored == 8
    assert stored(tmp_path / "shuffled") == stored(tmp_path / "sorted")
    for key in KEYS:
        assert payload(shuffled_store, key)["entries"] == payload(sorted_store, key)["entries"]


def test_a_bad_row_that_comes_after_its_chart_was_stored_removes_the_chart(tmp_path):
    late = f"Late,1,2017-01-01,X,{URL}0aaaaaaaaaaaaaaaaaaaaa,Global,top200,NEW_ENTRY,1"  # rank 1 again
    store = LocalFileStore(tmp_path / "raw")
    report = import_history(write_history(tmp_path / "charts.csv", [*ROWS, late]), store, window_rows=1)
    assert not store.exists(snapshot_key(*GLOBAL_1))
    assert report.charts_rejected == ["regional-global-daily/2017-01-01"]
    assert report.charts_stored == 3 and report.entries_stored == 5
    assert report.bad_rows[0].line == 14 and "rank 1 appears more than once" in report.bad_rows[0].problem


def test_rows_of_a_chart_a_little_out_of_place_join_it_without_spilling(tmp_path):
    rows = [ROWS[0], ROWS[5], ROWS[1], ROWS[6], ROWS[2]]  # two charts interleaved, ranks in order
    store = LocalFileStore(tmp_path / "raw")
    report = import_history(write_history(tmp_path / "charts.csv", rows), store)
    assert report.late_rows == 0 and report.charts_stored == 2
    assert [e["chartEntryData"]["currentRank"] for e in payload(store, GLOBAL_1)["entries"]] == [1, 2, 3]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("rank,uri,artist_names\n1,2,3\n", "header is 'rank,uri,artist_names', expected 'title,rank,date"),
        ("", "the file is empty"),
    ],
)
def test_a_file_that_is_not_a_history_is_refused_whole(tmp_path, text, problem):
    path = tmp_path / "other.csv"
    path.write_text(text)
    with pytest.raises(HistoryImportError, match="other.csv") as caught:
        import_history(path, LocalFileStore(tmp_path / "raw"))
    assert problem in str(caught.value)
    assert not (tmp_path / "raw").exists()
    with pytest.raises(HistoryImportError, match="no such file"):
        import_history(tmp_path / "missing.csv", LocalFileStore(tmp_path / "raw"))


def test_the_command_line_stores_reports_and_shows_progress(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SPOTIFY_CHARTS_DATA_DIR", str(tmp_path / "data"))
    assert cli.main([str(write_history(tmp_path / "charts.csv.gz", ROWS, compress=True))]) == 0
    out, err = capsys.readouterr()
    assert "4 charts stored (8 entries, 2 regions, 2017-01-01 .. 2017-01-02)" in out
    assert "--partition-range 2017-01-01...2017-01-02" in out and "SPOTIFY_CHARTS_REGIONS=ee,global" in out
    assert "100.0%" in err and "rows/s" in err
    assert len(stored(tmp_path / "data")) == 4
    bad = write_history(tmp_path / "bad.csv", [*ROWS, f"X,x,2017-01-02,X,{URL}0a,Global,top200,NEW_ENTRY,1"])
    assert cli.main(["--quiet", str(bad)]) == 1
    assert f"{bad}, line 14: rank 'x' is not a number" in capsys.readouterr().out
    assert cli.main([str(tmp_path / "missing.csv")]) == 2


def test_a_chart_with_a_rank_missing_is_left_out_and_reported(tmp_path):
    rows = [r for r in ROWS if ",2,2017-01-01," not in r or "Estonia" in r]  # global 2017-01-01 loses rank 2
    store = LocalFileStore(tmp_path / "raw")
    report = import_history(write_history(tmp_path / "charts.csv", rows), store)
    assert not store.exists(snapshot_key(*GLOBAL_1))
    assert report.charts_rejected == ["regional-global-daily/2017-01-01"] and report.charts_stored == 3
    assert report.bad_rows[0].line == 2 and "ranks are not exactly 1..2" in report.bad_rows[0].problem

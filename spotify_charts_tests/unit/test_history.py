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
from spotify_charts_tests.support.history import FIRST_ROWS, HEADER, URL, write_history

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


def quirky_rows(seed: int) -> list[str]:
    """Charts of three regions and four days in the public layout, with every quirk the reader
    meets: quoted titles with commas, quotes and line ends; backslashes and tabs; credits that
    split into empty names; region names in other cases, viral50 rows, an unknown region, streams
    as floats or missing, charts interleaved, ranks out of order, a track twice in a chart."""
    rng = random.Random(seed)
    titles = ["Plain", '"Comma, Title"', '"Say ""Hi"""', "Back\\slash", '"Tab\there"', "Ünïcödé 歌"]
    artists = ["Solo", '"A, B"', '", Lead"', '"Lead, "', '"X, , Y"', '""', '"Q\\"']
    rows = []
    for day in ("2017-01-01", "2017-01-02", "2017-01-03", "2017-01-04"):
        for region in ("Global", "Estonia", "Atlantis", "Sweden"):
            size = rng.randint(1, 12)
            ranks = list(range(1, size + 1))
            if rng.random() < 0.3:
                rng.shuffle(ranks)
            tracks = [f"{URL}{rng.choice('abc')}{day[-1]}{region[:2]}{n}" for n in ranks]
            if rng.random() < 0.15 and size > 2:
                tracks[-1] = tracks[0]  # a track twice in one chart: the chart is left out
            for rank, track in zip(ranks, tracks, strict=True):
                streams = rng.choice(["", "1200", "1300.0", "7"])
                trend = rng.choice(["", "MOVE_UP", "NEW_ENTRY", "SAME_POSITION", "MOVE_DOWN"])
                name = rng.choice([region, region.upper(), region.lower()])  # one chart, however spelled
                title, artist = rng.choice(titles), rng.choice(artists)
                rows.append(f"{title},{rank},{day},{artist},{track},{name},top200,{trend},{streams}")
                if rng.random() < 0.1:
                    rows.append(f"{title},{rank},{day},{artist},{track},{name},viral50,{trend},")
    for _ in range(len(rows) // 8):  # rows a little out of place
        i = rng.randrange(len(rows) - 1)
        rows[i], rows[i + 1] = rows[i + 1], rows[i]
    if seed % 2:  # a line end in a quoted title: that block is read row by row, and on into the next
        rows.insert(len(rows) // 2, f'"Two\nLines",1,2017-01-02,Solo,{URL}0zz,Atlantis,top200,,')
    return rows


def everything(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.json.gz"))}


def same_report(fast, slow) -> None:
    for name in ("rows", "charts_stored", "entries_stored", "bytes_stored", "charts_rejected", "bad_rows"):
        assert getattr(fast, name) == getattr(slow, name), name
    for name in ("bad_row_count", "viral_rows", "unknown_regions", "late_rows", "regions", "first_date", "last_date"):
        assert getattr(fast, name) == getattr(slow, name), name


@pytest.mark.parametrize("seed", range(12))
def test_the_fast_path_stores_what_the_row_by_row_reader_stores_byte_for_byte(tmp_path, monkeypatch, seed):
    """Arrow's column-by-column reading of a block gives the same snapshots (bytes), bad rows,
    skipped rows and late rows as reading the same file row by row; small blocks split charts,
    quoted line ends and CRLF endings at every place."""
    from spotify_charts.sources.history import importer, lines

    rows = quirky_rows(seed)
    text = "\n".join([HEADER, *rows]) + "\n"
    if seed % 3 == 1:
        text = text.replace("\n", "\r\n")
    path = tmp_path / "charts.csv"
    path.write_bytes(("\ufeff" if seed % 4 == 0 else "").encode() + text.encode())
    if seed % 2:
        monkeypatch.setattr(lines, "CHUNK", 200 + 37 * seed)  # blocks of a few rows
    window = 5 if seed % 3 == 0 else importer.WINDOW_ROWS  # charts closed (and rows late) early
    slow = import_history(path, LocalFileStore(tmp_path / "slow"), window_rows=window, fast=False)
    fast_blocks = []
    add_block = importer.Importer.add_block
    monkeypatch.setattr(
        importer.Importer, "add_block", lambda self, block: [fast_blocks.append(block), add_block(self, block)]
    )
    fast = import_history(path, LocalFileStore(tmp_path / "fast"), window_rows=window)
    same_report(fast, slow)
    assert everything(tmp_path / "fast") == everything(tmp_path / "slow")
    assert slow.charts_stored > 0 and sum(len(block.runs) for block in fast_blocks) > 0


def test_a_clean_file_is_read_column_by_column(tmp_path, monkeypatch):
    """The fast path, not the row-by-row reader, reads a file with no bad row."""
    from spotify_charts.sources.history import importer

    rows = [r for r in ROWS if "Atlantis" not in r]
    monkeypatch.setattr(importer.Importer, "read_rows", lambda self, block: pytest.fail(f"read row by row: {block!r}"))
    report = import_history(write_history(tmp_path / "charts.csv.gz", rows, compress=True), LocalFileStore(tmp_path))
    assert (report.rows, report.charts_stored, report.viral_rows) == (10, 4, 2)


def test_a_track_twice_in_a_chart_split_between_blocks_keeps_the_chart_out(tmp_path, monkeypatch):
    from spotify_charts.sources.history import lines

    rows = [
        f"A,{rank},2017-01-01,X,{URL}{'0aa' if rank in (1, 6) else f'1b{rank}'},Global,top200,,{rank}"
        for rank in range(1, 7)
    ]
    monkeypatch.setattr(lines, "CHUNK", 150)  # about two rows a block
    report = import_history(write_history(tmp_path / "charts.csv", rows), LocalFileStore(tmp_path / "raw"))
    assert report.charts_stored == 0 and report.charts_rejected == ["regional-global-daily/2017-01-01"]
    assert "track spotify:track:0aa appears more than once" in report.bad_rows[0].problem


def test_a_file_without_line_ends_is_refused(tmp_path, monkeypatch):
    from spotify_charts.sources.history import lines

    monkeypatch.setattr(lines, "MAX_LINE", 1000)
    path = tmp_path / "blob.csv"
    path.write_bytes(b"x" * 5000)
    with pytest.raises(HistoryImportError, match="blob.csv: no line end in"):
        import_history(path, LocalFileStore(tmp_path / "raw"))


def test_carriage_returns_alone_end_lines_too(tmp_path):
    """A file saved with old Mac line ends (CR alone) gives the same charts as one with LF."""
    lf, cr = LocalFileStore(tmp_path / "lf"), LocalFileStore(tmp_path / "cr")
    import_history(write_history(tmp_path / "lf.csv", ROWS), lf)
    path = tmp_path / "cr.csv"
    path.write_bytes((tmp_path / "lf.csv").read_bytes().replace(b"\n", b"\r"))
    report = import_history(path, cr)
    assert (report.rows, report.charts_stored, report.entries_stored) == (12, 4, 8)
    for key in KEYS:
        assert payload(cr, key)["entries"] == payload(lf, key)["entries"]


def _row(title: str, rank: int, chart: str = "top200", streams: str = "10") -> str:
    return f"{title},{rank},2017-01-01,A,{URL}t{rank},Global,{chart},,{streams}\n"


def imported_both_ways(tmp_path: Path, name: str, text: str, monkeypatch, chunk: int | None = None):
    """The report and snapshots of one file read row by row and with the fast path; equal, or the
    same HistoryImportError."""
    from spotify_charts.sources.history import lines

    path = tmp_path / f"{name}.csv"
    path.write_text(HEADER + "\n" + text)
    if chunk:
        monkeypatch.setattr(lines, "CHUNK", chunk)
    results = []
    for fast in (False, True):
        try:
            report = import_history(path, LocalFileStore(tmp_path / f"{name}-{fast}"), fast=fast)
            results.append((report, everything(tmp_path / f"{name}-{fast}")))
        except HistoryImportError as exc:
            results.append(str(exc))
    (slow, fast) = results
    if isinstance(slow, str):
        assert fast == slow
        return slow
    same_report(fast[0], slow[0])
    assert fast[1] == slow[1]
    return slow[0]


def test_edges_of_a_block_read_as_the_row_by_row_reader_reads_them(tmp_path, monkeypatch):
    """A byte-order mark starting a block (Arrow drops it, Python's csv keeps it); a quote left
    open at the end of a block (Python's csv reads on into the next lines); a value longer than the
    csv module allows (an error naming the file, not a stored chart)."""
    bom = imported_both_ways(tmp_path, "bom", "\ufeff" + _row('"A, B"', 1) + _row("B", 2), monkeypatch)
    assert bom.bad_rows[0].line == 2 and "10 columns" in bom.bad_rows[0].problem
    first = _row("V", 1, chart="viral50", streams='"')
    text = first + _row("X", 1) + _row("Y", 2, chart="viral50", streams='"')
    open_quote = imported_both_ways(tmp_path, "open", text, monkeypatch, chunk=len(HEADER) + 1 + len(first) + 3)
    assert open_quote.rows == 1 and open_quote.charts_stored == 0  # lines 2-4 are one quoted viral50 row
    problem = imported_both_ways(tmp_path, "big", _row("x" * 140_000, 1), monkeypatch)
    assert "big.csv, line 2: not a CSV file in the history's layout (field larger than field limit" in problem


def test_a_large_file_with_carriage_returns_alone_is_read_in_blocks_too(tmp_path, monkeypatch):
    """Blocks end at a CR alone when the file has no LF (not at a CR that may be half of a CRLF)."""
    from spotify_charts.sources.history import lines

    monkeypatch.setattr(lines, "MAX_LINE", 400)
    monkeypatch.setattr(lines, "CHUNK", 150)
    lf, cr = LocalFileStore(tmp_path / "lf"), LocalFileStore(tmp_path / "cr")
    import_history(write_history(tmp_path / "lf.csv", ROWS), lf)
    path = tmp_path / "cr.csv"
    path.write_bytes((tmp_path / "lf.csv").read_bytes().replace(b"\n", b"\r"))
    assert path.stat().st_size > 400
    report = import_history(path, cr)
    assert (report.rows, report.charts_stored, report.entries_stored, report.bad_row_count) == (12, 4, 8, 0)
    for key in KEYS:
        assert payload(cr, key)["entries"] == payload(lf, key)["entries"]
        assert payload(cr, key)["historyImport"]["lines"] == payload(lf, key)["historyImport"]["lines"]


def test_a_first_block_that_holds_the_header_alone_is_followed_by_the_rest(tmp_path, monkeypatch):
    from spotify_charts.sources.history import lines

    monkeypatch.setattr(lines, "CHUNK", len(HEADER) + 1)
    report = import_history(write_history(tmp_path / "charts.csv", ROWS), LocalFileStore(tmp_path / "raw"))
    assert (report.rows, report.charts_stored, report.entries_stored) == (12, 4, 8)

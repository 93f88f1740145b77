"""A history import never leaves a chart worse than it found it (issue 23): a re-import that meets a
bad late row keeps the snapshot stored before it, a file cut short or a full disk is named, and the
summary names exactly the dates stored."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from pathlib import Path

import pytest

from spotify_charts.cli import history as cli
from spotify_charts.sources.history import HistoryImportError, import_history
from spotify_charts.storage import snapshot_key
from spotify_charts.storage.local import LocalFileStore
from spotify_charts_tests.support.history import HEADER, URL, write_history

FIRST = dt.date(2021, 1, 1)
GLOBAL_FIRST = ("regional-global-daily", FIRST)


def chart_rows(region: str, day: dt.date, size: int = 200, tag: str = "") -> list[str]:
    code = "gl" if region == "Global" else region[:2].lower()
    return [
        f"Song {rank}{tag},{rank},{day},Artist {rank % 7},{URL}{code}{day:%m%d}{rank:03d}{tag},{region},top200,"
        f"MOVE_UP,{1_000_000 - rank * 1000}"
        for rank in range(1, size + 1)
    ]


def history_rows(days: int, size: int = 200) -> list[str]:
    """Global and Estonia top charts of `days` days from 2021-01-01, in the public file's order."""
    rows = []
    for n in range(days):
        day = FIRST + dt.timedelta(days=n)
        rows += chart_rows("Global", day, size) + chart_rows("Estonia", day, size)
    return rows


# Rank 3 of Global 2021-01-01 again, with another track: the file's last line.
LATE_DUPLICATE = f"Other,3,{FIRST},Someone,{URL}zz0000000000000000000z,Global,top200,NEW_ENTRY,5"


def snapshots(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.json.gz"))}


@pytest.mark.parametrize("window_rows", [None, 500])
def test_a_reimport_with_a_bad_late_row_keeps_the_snapshot_stored_before(tmp_path, monkeypatch, capsys, window_rows):
    """124,000 rows: the duplicate comes long after its chart was stored (past the default window of
    100,000 rows, and far past a small one)."""
    monkeypatch.setenv("SPOTIFY_CHARTS_DATA_DIR", str(tmp_path / "data"))
    rows = history_rows(310)
    window = [] if window_rows is None else ["--window-rows", str(window_rows)]
    assert cli.main(["--quiet", *window, str(write_history(tmp_path / "charts.csv", rows))]) == 0
    before = snapshots(tmp_path / "data")
    assert len(before) == 620
    capsys.readouterr()

    again = write_history(tmp_path / "charts-again.csv", [*rows, LATE_DUPLICATE])
    assert cli.main(["--quiet", *window, str(again)]) == 1

    out = capsys.readouterr().out
    after = snapshots(tmp_path / "data")
    key = snapshot_key(*GLOBAL_FIRST)
    assert after[key] == before[key], "the snapshot stored by the first import was replaced"
    assert set(after) == set(before)
    assert f"{again}, line {len(rows) + 2}: rank 3 appears more than once" in out
    assert "kept as stored before this import (this file's version is not whole or not valid): " in out
    assert "regional-global-daily/2021-01-01" in out.split("kept as stored before this import")[1].splitlines()[0]
    assert "619 charts stored" in out
    assert "were merged into their chart" in out and "0 were merged" in out


def test_a_chart_spoiled_by_a_late_row_with_nothing_before_is_removed_and_its_date_not_named(tmp_path):
    """Global 2021-01-01 is the only chart of its date; a late duplicate removes it, so the dates
    stored, the summary and the next command start on 2021-01-02."""
    rows = chart_rows("Global", FIRST) + history_rows(3)[400:] + [LATE_DUPLICATE]
    store = LocalFileStore(tmp_path / "raw")
    report = import_history(write_history(tmp_path / "charts.csv", rows), store, window_rows=50)

    assert not store.exists(snapshot_key(*GLOBAL_FIRST))
    assert report.charts_rejected == ["regional-global-daily/2021-01-01"] and report.charts_kept == []
    assert report.dates == [dt.date(2021, 1, 2), dt.date(2021, 1, 3)]
    assert (report.first_date, report.last_date) == (dt.date(2021, 1, 2), dt.date(2021, 1, 3))
    assert report.charts_stored == 4 and report.entries_stored == 800
    assert "dates stored: 2021-01-02 .. 2021-01-03" in report.summary()
    assert "--partition-range 2021-01-02...2021-01-03" in report.next_step()
    assert "2021-01-01" not in report.next_step()


def test_the_next_command_names_each_range_of_dates_stored(tmp_path):
    rows = [*chart_rows("Global", FIRST, 3), *chart_rows("Global", FIRST + dt.timedelta(days=2), 3)]
    report = import_history(write_history(tmp_path / "charts.csv", rows), LocalFileStore(tmp_path / "raw"))
    assert "dates stored: 2021-01-01, 2021-01-03" in report.summary()
    step = report.next_step()
    assert "each of these 2 partition ranges" in step
    assert "--partition-range 2021-01-01...2021-01-01" in step and "--partition-range 2021-01-03...2021-01-03" in step


def test_an_import_that_stops_part_way_puts_back_charts_still_waiting_for_rows(tmp_path, capsys, monkeypatch):
    """Global 2021-01-01's rows come in two parts, far apart; the file turns to non-UTF-8 bytes
    after the second part, before the late rows are merged at the end. The part stored first must
    not stay in place of the whole chart stored before."""
    from spotify_charts.sources.history import lines

    monkeypatch.setattr(lines, "CHUNK", 4096)  # blocks of a few dozen rows: charts are stored before the error
    monkeypatch.setenv("SPOTIFY_CHARTS_DATA_DIR", str(tmp_path / "data"))
    first_part, second_part = chart_rows("Global", FIRST)[:100], chart_rows("Global", FIRST)[100:]
    others = history_rows(3)[400:]
    assert cli.main(["--quiet", str(write_history(tmp_path / "whole.csv", chart_rows("Global", FIRST)))]) == 0
    before = (tmp_path / "data" / snapshot_key(*GLOBAL_FIRST)).read_bytes()
    capsys.readouterr()

    path = tmp_path / "broken.csv"
    text = "\n".join([HEADER, *first_part, *others, *second_part]) + "\n"
    path.write_bytes(text.encode() + b"Caf\xe9,1,2021-01-04,X,url,Global,top200,,1\n")
    assert cli.main(["--quiet", "--window-rows", "50", str(path)]) == 2

    err = capsys.readouterr().err
    assert f"error: {path}, line {len(first_part) + len(others) + len(second_part) + 2}: not UTF-8 text" in err
    assert "The import stopped after storing 4 charts (2021-01-02 .. 2021-01-03); 1 charts still waiting" in err
    assert "--partition-range 2021-01-02...2021-01-03" in err
    assert (tmp_path / "data" / snapshot_key(*GLOBAL_FIRST)).read_bytes() == before


@pytest.mark.parametrize("fast", [True, False])
def test_a_last_line_without_a_line_end_is_named_and_keeps_its_chart_out(tmp_path, fast):
    rows = history_rows(2, size=3)
    cut = rows[-1][: rows[-1].rindex(",") + 5]  # streams cut short: 9410 for 997000
    path = tmp_path / "cut.csv"
    path.write_text("\n".join([HEADER, *rows[:-1], cut]))  # no final line end
    store = LocalFileStore(tmp_path / "raw")
    report = import_history(path, store, fast=fast)
    assert report.bad_row_count == 1
    (bad,) = report.bad_rows
    assert bad.line == len(rows) + 1 and "no line end: the file may be cut short" in bad.problem
    assert report.charts_rejected == ["regional-ee-daily/2021-01-02"]
    assert not store.exists(snapshot_key("regional-ee-daily", dt.date(2021, 1, 2)))
    assert report.charts_stored == 3

    whole = tmp_path / "whole.csv"
    whole.write_text("\n".join([HEADER, *rows]) + "\n")
    assert import_history(whole, LocalFileStore(tmp_path / "whole"), fast=fast).charts_stored == 4
    header_only = tmp_path / "header.csv"
    header_only.write_text(HEADER)  # nothing cut: no row at all
    assert import_history(header_only, LocalFileStore(tmp_path / "none")).bad_row_count == 0


def test_a_folder_or_a_path_that_cannot_be_opened_is_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    for path, problem in [
        (tmp_path, "is a folder, not a file (give the CSV file itself)"),
        (tmp_path / "afile" / "below.csv", "cannot be opened (Not a directory)"),
    ]:
        assert cli.main(["--quiet", str(path)]) == 2
        out, err = capsys.readouterr()
        assert err == f"error: {path}: {problem}\n" and out == ""
        with pytest.raises(HistoryImportError, match=re.escape(problem)):
            import_history(path, LocalFileStore(tmp_path / "raw"))


@pytest.mark.parametrize("fast", [True, False])
def test_an_empty_title_is_stored_with_a_warning_naming_its_line(tmp_path, fast):
    rows = chart_rows("Global", FIRST, 3)
    rows[1] = "," + rows[1].split(",", 1)[1]
    report = import_history(write_history(tmp_path / "c.csv", rows), LocalFileStore(tmp_path / "raw"), fast=fast)
    assert report.charts_stored == 1 and report.bad_row_count == 0
    assert report.warning_count == 1 and report.warnings[0].line == 3
    assert f"warning: {tmp_path / 'c.csv'}, line 3: the track title is empty (stored as it is)" in report.summary()


@pytest.fixture
def small_disk(tmp_path):
    """A real 1 MB file system (tmpfs), which fills up."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_stops_the_import_naming_the_cause_the_file_and_what_was_stored(
    tmp_path, small_disk, capsys, monkeypatch
):
    monkeypatch.setenv("SPOTIFY_CHARTS_DATA_DIR", str(small_disk))
    path = write_history(tmp_path / "charts.csv", history_rows(200))
    assert cli.main(["--quiet", str(path)]) == 2
    err = capsys.readouterr().err
    first = err.splitlines()[0]
    assert first.startswith(f"error: {path}, line ") and ": stopped: no space left on device: cannot write " in first
    assert str(small_disk / "raw" / "spotify-charts") in first
    stored = len(list(small_disk.rglob("*.json.gz")))
    assert 0 < stored < 400
    assert f"The import stopped after storing {stored} charts (" in err

"""The marts stay incremental and exact (issue 16): after a sequence of daily updates, corrections
of earlier dates, re-issues, a renamed track, a date gone from the facts and a build that stopped
midway, every table the analytics build keeps equals what a full rebuild makes from the same
facts. The daily update itself only recomputes the songs the new date touches."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb

from spotify_charts_tests.support.helpers import dbt, sample_warehouse

ALIASES = ["regional-global-daily", "regional-ee-daily"]
DATES = [dt.date(2025, 3, 1) + dt.timedelta(days=i) for i in range(34)]
FIRST_BUILD = DATES[:31]  # the history the first build has; the other days come one at a time
# What the analytics build keeps: the contract tables and dimensions, and the per-song models the
# daily build updates in place.
KEPT = [
    "marts.top_songs",
    "marts.chart_reentries",
    "marts.new_songs_by_month",
    "marts.longest_top10_runs",
    "marts.song_longevity",
    "marts.song_lifecycle",
    "marts.release_day_performance",
    "marts.top_artists",
    "marts.artist_days_at_number_one",
    "marts.song_signals",
    "marts.dim_songs",
    "marts.dim_tracks",
    "intermediate.int_chart_song_days",
    "intermediate.int_chart_songs",
    "intermediate.int_chart_song_runs",
    "intermediate.int_chart_song_months",
    "intermediate.int_chart_song_debut_days",
    "intermediate.int_chart_song_debuts",
]


class Warehouse:
    """A DuckDB warehouse, and dbt on it as the pipeline runs it: the partitioned facts for a
    range of dates, then the analytics models from all loaded history."""

    def __init__(self, path: Path, work: Path):
        self.path, self.work, self.builds = path, work, 0

    def dbt(self, *args: str) -> str:
        """`dbt build`; the unit tests (hand-built inputs, the same every time) run in the first only."""
        self.builds += 1
        unit_tests = [] if self.builds == 1 else ["--exclude", "test_type:unit"]
        done = dbt(
            ["build", *args, *unit_tests], {"SPOTIFY_CHARTS_DUCKDB_PATH": str(self.path)}, self.work / f"b{self.builds}"
        )
        assert done.returncode == 0, done.stdout[-4000:]
        return done.stdout

    def facts(self, first: dt.date, last: dt.date) -> None:
        dates = json.dumps({"min_date": first.isoformat(), "max_date": last.isoformat()})
        self.dbt("--select", "tag:daily", "--vars", dates)

    def analytics(self, *args: str) -> str:
        return self.dbt("--exclude", "tag:daily", *args)

    def count(self, query: str, *params) -> int:
        return self.sql(query, *params)[0][0]

    def sql(self, statement: str, *params) -> list[tuple]:
        with duckdb.connect(str(self.path)) as con:
            return con.execute(statement, params).fetchall()

    def rows(self, table: str) -> list[tuple]:
        return sorted(self.sql(f"select * from {table}"), key=repr)


def changed_dates(warehouse: Warehouse) -> list[tuple]:
    return warehouse.sql(
        "select chart_id, chart_date from intermediate.int_analytics__chart_dates where is_changed order by all"
    )


def test_the_marts_after_daily_updates_and_corrections_equal_a_full_rebuild(tmp_path):
    warehouse = Warehouse(sample_warehouse(tmp_path, ALIASES, DATES).path, tmp_path)
    warehouse.facts(FIRST_BUILD[0], FIRST_BUILD[-1])
    warehouse.analytics()
    before = {table: warehouse.rows(table) for table in KEPT}
    global_chart, ee_chart = ALIASES
    new_days = DATES[len(FIRST_BUILD) :]

    # An analytics build with nothing new recomputes nothing.
    warehouse.analytics()
    assert changed_dates(warehouse) == []
    assert warehouse.count("select count(*) from intermediate.int_analytics__changed_song_days") == 0
    assert warehouse.rows("marts.top_songs") == before["marts.top_songs"]

    # A daily update: one new date, for both charts. Only it counts as changed, and the per-song
    # models recompute only the (chart, song) pairs on it, from their own history: what keeps
    # the daily cost flat.
    last_built = FIRST_BUILD[-1]
    warehouse.sql("update marts.song_signals set reason = 'marked' where chart_date = ?", last_built)
    marked = warehouse.count("select count(*) from marts.song_signals where chart_date = ?", last_built)
    assert marked > 0
    warehouse.facts(new_days[0], new_days[0])
    warehouse.analytics()
    assert changed_dates(warehouse) == [(ee_chart, new_days[0]), (global_chart, new_days[0])]
    pairs = "select count(distinct (chart_id, song_id)) from intermediate.{} where {}"
    recomputed = warehouse.count(pairs.format("int_analytics__changed_song_days", "true"))
    assert recomputed == warehouse.count(pairs.format("int_chart_song_days", "chart_date = ?"), new_days[0])
    assert 0 < recomputed < warehouse.count("select count(*) from intermediate.int_chart_songs")
    assert warehouse.count("select count(*) from intermediate.int_analytics__changed_songs") == 0  # handled
    # The signals too: the new date's are computed, no earlier date's. (The previous date's rows
    # were marked before the update and keep the mark; the correction below recomputes them.)
    assert warehouse.count("select count(*) from marts.song_signals where chart_date = ?", new_days[0]) > 0
    assert warehouse.sql("select count(*), min(reason) from marts.song_signals where chart_date = ?", last_built) == [
        (marked, "marked")
    ]

    # Then, in one build: the next date, a correction of an old date, a re-issue and a rename.
    day = new_days[1]
    # The correction: on an old date, a song that first charted that day drops out of it (it
    # charts again later), so its track's first chart date changes too.
    old_day, rank, dropped = warehouse.sql(
        "select chart_date, rank, track_id from staging.chart_entries as e "
        "where chart_id = ? and chart_date between ? and ? "
        "and chart_date = (select min(chart_date) from staging.chart_entries where track_id = e.track_id) "
        "and (select count(*) from staging.chart_entries where track_id = e.track_id) > 3 "
        "and (select count(*) from staging.chart_entries where track_id = e.track_id and chart_date = e.chart_date) = 1"
        " "
        "order by all limit 1",
        global_chart,
        DATES[5],
        DATES[15],
    )[0]
    for table in ("chart_entry_artists", "chart_entries"):
        warehouse.sql(
            f"delete from staging.{table} where chart_id = ? and chart_date = ? and rank = ?",
            global_chart,
            old_day,
            rank,
        )
    # The re-issue: the day's number 1 on one chart comes under a new URI that sorts first (same
    # name, same credited artists), so it names the song now. The song's id changes for every
    # track of it, so every date of those tracks is computed again.
    original = warehouse.sql(
        "select track_id from staging.chart_entries where chart_id = ? and chart_date = ? and rank = 1", ee_chart, day
    )[0][0]
    warehouse.sql(
        "update staging.chart_entries set track_id = '0000reissue' where chart_id = ? and chart_date = ? and rank = 1",
        ee_chart,
        day,
    )
    # The rename: the other chart's best-placed other track gets a new name, so it moves to a song of its own.
    renamed = warehouse.sql(
        "select track_id from staging.chart_entries where chart_id = ? and chart_date = ? and track_id <> ? "
        "order by rank limit 1",
        global_chart,
        day,
        original,
    )[0][0]
    warehouse.sql(
        "update staging.chart_entries set track_name = track_name || ' (Remastered)' "
        "where chart_date = ? and track_id = ?",
        day,
        renamed,
    )
    warehouse.sql("update staging.chart_entries set loaded_at = now() where chart_date in (?, ?)", old_day, day)
    warehouse.facts(old_day, day)  # dates whose staging did not change keep their load time
    warehouse.analytics()
    assert warehouse.sql("select song_id from marts.dim_tracks where track_id = '0000reissue'") == [("0000reissue",)]
    assert warehouse.sql("select song_id from marts.dim_tracks where track_id = ?", original) == [("0000reissue",)]
    assert warehouse.sql("select track_name from marts.dim_tracks where track_id = ?", renamed)[0][0].endswith(
        "(Remastered)"
    )
    assert warehouse.sql("select first_chart_date from marts.dim_tracks where track_id = ?", dropped)[0][0] > old_day
    changed = changed_dates(warehouse)
    earlier_days_of_the_reissue = warehouse.sql(
        "select distinct chart_id, chart_date from marts.fct_chart_entries where track_id = ? order by all", original
    )
    assert (global_chart, old_day) in changed and set(earlier_days_of_the_reissue) <= set(changed)
    assert len(earlier_days_of_the_reissue) > 1 and len(changed) < len(DATES)

    # A chart date gone from the facts (deleted by hand): its rows go from the marts too, and a
    # track whose latest entry it held gets an earlier one.
    gone, leaving = warehouse.sql(
        "select chart_date, track_id from staging.chart_entries as e where chart_id = ? and chart_date between ? and ? "
        "and chart_date = (select max(chart_date) from staging.chart_entries where track_id = e.track_id) "
        "and (select count(*) from staging.chart_entries where track_id = e.track_id) > 1 order by all limit 1",
        ee_chart,
        DATES[10],
        DATES[30],
    )[0]
    warehouse.sql("delete from marts.fct_chart_entry_artists where chart_id = ? and chart_date = ?", ee_chart, gone)
    warehouse.sql("delete from marts.fct_chart_entries where chart_id = ? and chart_date = ?", ee_chart, gone)
    # ... and a build stopped midway: the song days are updated, the per-song models are not.
    warehouse.facts(new_days[2], new_days[2])
    warehouse.analytics("--select", "int_analytics__chart_dates", "int_analytics__changed_songs", "int_chart_song_days")
    assert warehouse.sql("select count(*) from intermediate.int_analytics__changed_songs")[0][0] > 0
    warehouse.analytics()
    assert warehouse.sql("select count(*) from intermediate.int_analytics__changed_songs") == [(0,)]
    assert not warehouse.sql(
        "select 1 from intermediate.int_chart_song_days where chart_id = ? and chart_date = ?", ee_chart, gone
    )
    assert warehouse.sql("select last_chart_date from marts.dim_tracks where track_id = ?", leaving)[0][0] < gone

    # The same facts, rebuilt from scratch.
    full = Warehouse(tmp_path / "full.duckdb", tmp_path)
    shutil.copy(warehouse.path, full.path)
    full.analytics("--full-refresh")
    for table in KEPT:
        incremental_rows = warehouse.rows(table)
        assert incremental_rows, f"{table} is empty"
        assert incremental_rows == full.rows(table), table
    # and the sequence did change them
    assert warehouse.rows("marts.top_songs") != before["marts.top_songs"]
    assert warehouse.rows("intermediate.int_chart_song_days") != before["intermediate.int_chart_song_days"]

    # The tests of int_chart_song_days read the chart dates the last build recomputed (all of them
    # on a full refresh), not the whole table: a row there twice fails the key test.
    key_test = ["test", "--select", "int_chart_song_days", "--exclude", "test_type:unit"]
    env = {"SPOTIFY_CHARTS_DUCKDB_PATH": str(warehouse.path)}  # (every build above ran it and passed)
    warehouse.sql(
        "insert into intermediate.int_chart_song_days select * from intermediate.int_chart_song_days where "
        "chart_date = (select max(chart_date) from intermediate.int_analytics__chart_dates where is_changed) limit 1"
    )
    failed = dbt(key_test, env, tmp_path / "t2")
    assert failed.returncode != 0 and "FAIL 1 unique_combination_int_chart_song_days" in failed.stdout, failed.stdout

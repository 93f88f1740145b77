"""Names from outside (a CSV can hold anything) cannot break the dashboard or the Dagster UI: the
UI's Markdown summary renders to plain text in its own cells (no link, image or HTML), and the
page shows names cleaned of bidirectional controls, shortened, whole in a tooltip."""

from __future__ import annotations

import datetime as dt
import re

from markdown_it import MarkdownIt

from spotify_charts.dashboard import page, svg
from spotify_charts.dashboard.data import CONTRACT_TABLES, ChartData, DashboardData
from spotify_charts_tests.support.helpers import HOSTILE_NAMES

RTL = "\u202eevil\u202c.exe"


def chart_named(chart_id: str, song: str, artist: str) -> ChartData:
    """A chart whose headline answers are `song` and `artist` (the rows `headlines` reads)."""
    chart = ChartData(chart_id, chart_id, dt.date(2025, 1, 1), dt.date(2025, 3, 1), 60)
    chart.tables = {table: [] for table in CONTRACT_TABLES}
    chart.tables["artist_days_at_number_one"] = [{"artist_name": artist, "days_at_number_one": 9}]
    chart.tables["longest_top10_runs"] = [
        {"track_name": song, "artist_names": artist, "song_id": "s", "run_days": 5,
         "run_start_date": dt.date(2025, 1, 2), "run_end_date": dt.date(2025, 1, 6)}
    ]  # fmt: skip
    chart.tables["top_songs"] = [{"track_name": song, "streams_rank": 1}]
    chart.tables["release_day_performance"] = [{"songs": 3, "release_weekday": 5, "release_weekday_name": "Friday"}]
    return chart


def hostile_summary() -> str:
    charts = [
        chart_named(f"regional-x{i}-daily", song, HOSTILE_NAMES[(i + 1) % len(HOSTILE_NAMES)])
        for i, song in enumerate(HOSTILE_NAMES)
    ]
    return page.summary_markdown(DashboardData(charts, ["csv"]))


def test_the_ui_summary_renders_with_no_live_link_image_or_html():
    summary = hostile_summary()
    rendered = MarkdownIt("commonmark").enable("table").render(summary)
    assert "<table>" in rendered
    # the only elements are the table's own: no link, image, script, code, emphasis or raw HTML
    assert set(re.findall(r"<([a-z0-9]+)", rendered)) == {"table", "thead", "tbody", "tr", "th", "td"}
    # one row per chart, each with exactly the header's five cells: a | in a name is text
    rows = re.findall(r"<tr>(.*?)</tr>", rendered, re.S)
    assert len(rows) == 1 + len(HOSTILE_NAMES)
    assert all(row.count("<td>") == 5 for row in rows[1:])
    # a bare URL or www. address is autolinked by GitHub-flavoured renderers: none is left unescaped
    assert not re.search(r"https?:|www\.|(?<!\\)@", summary)
    # what a reader sees is the name itself (shortened)
    assert "![px](http://127.0.0.1:18999/md-image.png)" in rendered
    assert "evil.exe" in rendered and "\u202e" not in summary


def test_markdown_escapes_every_special_character():
    for char in "|[]()!`<>*_\\#":
        assert page.md(f"a{char}b") == f"a\\{char}b"
    assert page.md("x" * 10_000) == "x" * 59 + "…"
    assert page.md("two\nlines") == "two lines"  # a line break would end the table row


def test_names_lose_bidi_controls_and_long_ones_are_cut_with_the_whole_name_in_the_tooltip():
    assert svg.clean(RTL) == "evil.exe"
    assert svg.clean("a\u2066b\u2069c\u200fd\x00e") == "abcde"
    assert svg.short("x" * 10_000, 30) == "x" * 29 + "…"
    html = svg.name("y" * 10_000)
    assert re.fullmatch(r'<bdi title="y{10000}">y{59}…</bdi>', html)
    assert svg.name("<img src=x onerror=alert(1)>") == (
        '<bdi title="&lt;img src=x onerror=alert(1)&gt;">&lt;img src=x onerror=alert(1)&gt;</bdi>'
    )
    # a name that fits is shown whole; legitimate right-to-left text stays (isolated by <bdi>)
    assert svg.name("مرحبا") == '<bdi title="مرحبا">مرحبا</bdi>'


def test_the_runs_table_has_fixed_column_widths_and_shortened_names():
    html = svg.table(
        "longest_top10_runs", "Longest runs", ["song", "artists", "days"],
        [("z" * 10_000, RTL, 5)], widths=[45, 45, 10], names=[0, 1],
    )  # fmt: skip
    assert '<colgroup><col style="width:45%"><col style="width:45%"><col style="width:10%"></colgroup>' in html
    cells = re.findall(r"<td>(.*?)</td>", html)
    assert cells[0].endswith(">" + "z" * 59 + "…</bdi>")
    assert cells[1] == '<bdi title="evil.exe">evil.exe</bdi>' and cells[2] == "5"


def test_the_ui_signals_table_renders_with_no_live_link_image_or_html():
    """The dashboard asset's `signals` metadata: one row per signal of the latest date, every name
    (and the reason) escaped, so none can become a link, an image or a column."""
    charts = []
    for i, song in enumerate(HOSTILE_NAMES):
        chart = chart_named(f"regional-x{i}-daily", song, "a")
        chart.tables["song_signals"] = [
            {"chart_date": chart.last_date, "signal": "top_10_entry", "song_id": "s", "track_name": song,
             "artist_names": HOSTILE_NAMES[(i + 1) % len(HOSTILE_NAMES)], "rank": 3, "previous_rank": 12,
             "reason": "into the top 10 at #3 (from #12)"},
            {"chart_date": chart.last_date - dt.timedelta(days=1), "signal": "climbing", "song_id": "s",
             "track_name": song, "artist_names": "", "rank": 9, "previous_rank": 12, "reason": "older"},
        ]  # fmt: skip
        charts.append(chart)
    date, counts, table = page.latest_signals(DashboardData(charts, ["csv"]))
    assert date == dt.date(2025, 3, 1)
    assert counts == {**dict.fromkeys(counts, 0), "top_10_entry": len(HOSTILE_NAMES)}
    rendered = MarkdownIt("commonmark").enable("table").render(table)
    assert set(re.findall(r"<([a-z0-9]+)", rendered)) == {"table", "thead", "tbody", "tr", "th", "td"}
    rows = re.findall(r"<tr>(.*?)</tr>", rendered, re.S)
    assert len(rows) == 1 + len(HOSTILE_NAMES)
    assert all(row.count("<td>") == 6 for row in rows[1:])
    assert not re.search(r"https?:|www\.|(?<!\\)@", table)
    assert "into the top 10 at #3 (from #12)" in rendered and "evil.exe" in rendered and "\u202e" not in table

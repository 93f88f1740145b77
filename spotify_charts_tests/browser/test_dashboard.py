"""The dashboard page: its numbers equal the contract tables', it renders in a real headless
Chromium with no errors and no request to any host, and empty marts give a page, not a crash."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from spotify_charts.dashboard import data as dashboard_data
from spotify_charts.dashboard import page as dashboard
from spotify_charts.dashboard import svg
from spotify_charts.ingest import fetch_snapshots, load_staging
from spotify_charts.regions import daily_alias, region_names
from spotify_charts.sources.sample import SampleSource
from spotify_charts.storage.local import LocalFileStore
from spotify_charts.warehouses.base import dbt_arguments
from spotify_charts.warehouses.duckdb import DuckDBWarehouse
from spotify_charts_tests.support.helpers import HOSTILE_NAMES, dbt, sample_warehouse

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
ALIASES = ["regional-global-daily", "regional-ee-daily"]
DATES = [dt.date(2025, 1, 20) + dt.timedelta(days=i) for i in range(60)]
NOW = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="module")
def marts_warehouse(tmp_path_factory) -> DuckDBWarehouse:
    """A DuckDB warehouse with 2 charts x 60 days of sample charts and every dbt model built."""
    work = tmp_path_factory.mktemp("dashboard")
    warehouse = sample_warehouse(work, ALIASES, DATES)
    built = dbt(["build", *dbt_arguments(warehouse)], {}, work)
    assert built.returncode == 0, built.stdout[-3000:]
    return warehouse


@pytest.fixture(scope="module")
def page(marts_warehouse, tmp_path_factory) -> Path:
    data = dashboard_data.load(marts_warehouse.query, marts_warehouse.table_names("marts"))
    path = tmp_path_factory.mktemp("page") / "index.html"
    path.write_text(dashboard.render(data, NOW))
    return path


def one(warehouse: DuckDBWarehouse, sql: str):
    return next(iter(warehouse.query(sql)[0].values()))


def section(html: str, chart_id: str) -> str:
    start = html.index(f'data-chart="{chart_id}"')
    end = html.find("<section", start)
    return html[start : end if end > 0 else len(html)]


def test_the_numbers_on_the_page_are_the_contract_tables(marts_warehouse, page):
    html = page.read_text()
    chart = section(html, "regional-global-daily")
    top_artist = marts_warehouse.query(
        "select artist_name, days_at_number_one from marts.artist_days_at_number_one "
        "where chart_id = 'regional-global-daily' order by days_at_number_one desc, artist_name limit 1"
    )[0]
    bars = re.findall(
        r'data-label="([^"]*)" data-value="([^"]*)"', chart.split('data-plot="artist_days_at_number_one"')[1]
    )
    assert bars[0] == (svg.esc(top_artist["artist_name"]), str(top_artist["days_at_number_one"]))
    longest = marts_warehouse.query(
        "select track_name, run_start_date, run_end_date, run_days from marts.longest_top10_runs "
        "where chart_id = 'regional-global-daily' order by run_days desc, run_start_date, song_id limit 1"
    )[0]
    runs_table = chart.split('data-table="longest_top10_runs"')[1]
    first_row = re.search(r"<tbody><tr>(.*?)</tr>", runs_table).group(1)
    cells = re.findall(r"<td>(.*?)</td>", first_row)
    assert re.fullmatch(r'<bdi title="([^"]*)">.*</bdi>', cells[0]).group(1) == svg.esc(longest["track_name"])
    assert cells[2:] == [str(longest["run_start_date"]), str(longest["run_end_date"]), str(longest["run_days"])]
    # every longevity bucket, with the table's share
    share = one(
        marts_warehouse,
        "select run_pct from marts.song_longevity where chart_id = 'regional-global-daily' "
        "and longevity_bucket = '1 week'",
    )
    assert f'data-label="1 week" data-value="{float(share)}"' in chart
    # the loaded range and the sample banner
    assert "Chart dates loaded: 2025-01-20 to 2025-03-20" in html
    assert "Sample data." in html and "not real" in html


def test_each_chart_opens_with_the_signals_of_its_latest_date(marts_warehouse, page):
    html = page.read_text()
    for alias in ALIASES:
        chart = section(html, alias)
        # "Act now" comes first, before the headline answers
        assert chart.index("<h3>Act now: signals on 2025-03-20</h3>") < chart.index("class='headlines'")
        expected = marts_warehouse.query(
            "select signal, count(*) as n from marts.song_signals "
            f"where chart_id = '{alias}' and chart_date = '2025-03-20' group by signal"
        )
        assert expected
        shown = {
            rule: len(re.findall(r"<tr><td>", chart.split(f'data-table="signals-{rule}"')[1].split("</figure>")[0]))
            for rule in re.findall(r'data-table="signals-([a-z_0-9]+)"', chart)
        }
        assert shown == {r["signal"]: r["n"] for r in expected}
        # each row: the song's name and artists, its rank and the reason
        song = marts_warehouse.query(
            "select songs.track_name, signals.rank, signals.reason from marts.song_signals as signals "
            "inner join marts.dim_songs as songs on signals.song_id = songs.song_id "
            f"where chart_id = '{alias}' and chart_date = '2025-03-20' and signal = 'top_10_entry' "
            "order by signals.rank limit 1"
        )
        if song:
            table = chart.split('data-table="signals-top_10_entry"')[1]
            cells = re.findall(r"<td>(.*?)</td>", re.search(r"<tbody><tr>(.*?)</tr>", table).group(1))
            assert svg.esc(svg.clean(song[0]["track_name"])) in cells[0]
            assert cells[2:] == [f"#{song[0]['rank']}", svg.esc(song[0]["reason"])]


def test_a_day_without_signals_says_so(marts_warehouse):
    data = dashboard_data.load(marts_warehouse.query, marts_warehouse.table_names("marts"))
    for chart in data.charts:
        chart.tables["song_signals"] = []
    html = dashboard.render(data, NOW)
    assert "No signal on 2025-03-20: no song on this chart crossed a threshold that day." in section(
        html, "regional-ee-daily"
    )
    assert 'data-table="signals-' not in html
    assert dashboard.latest_signals(data)[1:] == (
        dict.fromkeys(dashboard_data.SIGNAL_RULES, 0),
        "No signal on 2025-03-20.",
    )


def test_the_page_reads_only_the_rows_it_can_show_and_is_the_page_of_every_row(marts_warehouse):
    """The ranked tables are read to their first TOP_N rows per chart (ties included), not whole: at
    73 charts x 5 years that was a million rows and 1.1 GB in the dashboard's step."""
    read = dashboard_data.load(marts_warehouse.query, marts_warehouse.table_names("marts"))
    every_row = dashboard_data.DashboardData([dataclasses.replace(c, tables={}) for c in read.charts], read.sources)
    for chart in every_row.charts:
        for table in dashboard_data.CONTRACT_TABLES:
            chart.tables[table] = marts_warehouse.query(
                f"select * from marts.{table} where chart_id = '{chart.chart_id}'"
                if table != dashboard_data.SIGNALS
                else "select signals.*, songs.track_name, songs.artist_names from marts.song_signals as signals "
                "left join marts.dim_songs as songs on signals.song_id = songs.song_id "
                f"where signals.chart_id = '{chart.chart_id}'"
            )
    assert dashboard.render(read, NOW) == dashboard.render(every_row, NOW)
    for chart, whole in zip(read.charts, every_row.charts, strict=True):
        assert 0 < len(chart.tables["top_songs"]) == dashboard_data.TOP_N < len(whole.tables["top_songs"])
        # the signals of the chart's latest loaded date alone
        assert 0 < len(chart.tables["song_signals"]) < len(whole.tables["song_signals"])
        assert {r["chart_date"] for r in chart.tables["song_signals"]} == {chart.last_date}
        assert dashboard.headlines(chart) == dashboard.headlines(whole)


def test_the_summary_names_the_headline_answers(marts_warehouse):
    data = dashboard_data.load(marts_warehouse.query, marts_warehouse.table_names("marts"))
    summary = dashboard.summary_markdown(data)
    top = one(
        marts_warehouse,
        "select artist_name from marts.artist_days_at_number_one where chart_id = 'regional-ee-daily' "
        "order by days_at_number_one desc, artist_name limit 1",
    )
    assert summary.splitlines()[0].startswith("| chart |")
    assert any(
        line.startswith(r"| regional\-ee\-daily |") and dashboard.md(top) in line for line in summary.splitlines()
    )
    assert "Sample data" in summary


def test_a_fresh_warehouse_gives_a_page_that_says_so(tmp_path):
    warehouse = DuckDBWarehouse(tmp_path / "empty.duckdb")
    data = dashboard_data.load(warehouse.query, warehouse.table_names("marts"))
    html = dashboard.render(data, NOW)
    assert "Not enough data yet" in html and "<section" not in html
    assert dashboard.summary_markdown(data).startswith("Not enough data yet")


def test_a_chart_with_one_day_gives_a_page_that_says_so(tmp_path):
    store = LocalFileStore(tmp_path / "raw")
    day = [dt.date(2025, 3, 1)]
    fetch_snapshots(SampleSource(), store, ALIASES[:1], day)
    warehouse = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    load_staging(store, warehouse, ALIASES[:1], day, "sample")
    built = dbt(["build", *dbt_arguments(warehouse)], {}, tmp_path)
    assert built.returncode == 0, built.stdout[-3000:]
    data = dashboard_data.load(warehouse.query, warehouse.table_names("marts"))
    html = dashboard.render(data, NOW)
    assert "Not enough data yet: this chart has fewer than two loaded chart dates." in html
    assert 'class="plot"' not in html


# --- in a real browser -------------------------------------------------------------------------


def chromium() -> str:
    """Debian's Chromium, installed when missing (the test setup's job, as root)."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0:
        pytest.fail("Chromium is missing: apt-get install chromium (needs root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env, capture_output=True)
    return shutil.which("chromium") or pytest.fail("apt-get installed chromium but it is not on PATH")


def test_the_page_renders_in_headless_chromium(page):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    errors, requests, failed = [], [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1366, "height": 900})
        tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.on("request", lambda r: requests.append(r.url))
        tab.on("requestfailed", lambda r: failed.append(r.url))
        tab.goto(page.as_uri())
        tab.wait_for_load_state("load")

        visible = tab.locator("section.chart:not([hidden])")
        assert visible.count() == 1 and visible.get_attribute("data-chart") == "regional-global-daily"
        plots = visible.locator("figure.plot")
        assert plots.count() == 7
        for i in range(plots.count()):
            plot = plots.nth(i)
            name = plot.get_attribute("data-plot")
            assert plot.locator("svg .mark").count() > 0, f"{name} has nothing drawn"
            box = plot.locator("svg").bounding_box()
            assert box and box["width"] > 300 and box["height"] > 150, name
        global_bars = visible.locator('[data-plot="artist_days_at_number_one"] .mark').evaluate_all(
            "els => els.map(e => e.dataset.label)"
        )
        tab.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

        tab.select_option("#chart", "regional-ee-daily")
        visible = tab.locator("section.chart:not([hidden])")
        assert visible.get_attribute("data-chart") == "regional-ee-daily"
        assert visible.locator("figure.plot svg .mark").count() > 0
        ee_bars = visible.locator('[data-plot="artist_days_at_number_one"] .mark').evaluate_all(
            "els => els.map(e => e.dataset.label)"
        )
        assert ee_bars and ee_bars != global_bars
        tab.screenshot(path=str(ARTIFACTS / "dashboard-ee.png"), full_page=True)
        browser.close()

    assert errors == []
    assert failed == []
    assert requests == [page.as_uri()]  # the page itself, nothing else


# --- hostile names -------------------------------------------------------------------------------

NAME_FIELDS = ("track_name", "artist_name", "artist_names")


@pytest.fixture(scope="module")
def hostile_page(marts_warehouse, tmp_path_factory) -> Path:
    """The same charts with every track and artist name replaced by one of HOSTILE_NAMES."""
    data = dashboard_data.load(marts_warehouse.query, marts_warehouse.table_names("marts"))
    turn = 0
    for chart in data.charts:
        for rows in chart.tables.values():
            # The tables come in the warehouse's own order, which may differ from run to run: put
            # them in one order first, so each name lands in the same place every time.
            rows.sort(key=lambda row: json.dumps(row, sort_keys=True, default=str))
            for row in rows:
                for field in NAME_FIELDS:
                    if field in row:
                        row[field] = HOSTILE_NAMES[turn % len(HOSTILE_NAMES)]
                        turn += 1
    path = tmp_path_factory.mktemp("hostile") / "index.html"
    path.write_text(dashboard.render(data, NOW))
    return path


def layout(tab, chart_id: str) -> dict:
    """Show one chart; the page's and the runs table's widths, and what the visible chart displays."""
    tab.select_option("#chart", chart_id)
    # Measured once it is shown: the innerText of a hidden section is its textContent, tooltips included.
    tab.wait_for_selector(f'section.chart[data-chart="{chart_id}"]:not([hidden])', state="visible")
    return tab.evaluate(
        """id => {
          const section = document.querySelector(`section.chart[data-chart="${id}"]`);
          const runs = section.querySelector('[data-table="longest_top10_runs"]');
          return {
            page: document.documentElement.scrollWidth, viewport: window.innerWidth,
            widest: Math.max(...[...section.querySelectorAll('figure, ul, h2, table')]
                                 .map(e => e.getBoundingClientRect().right)),
            runs: runs ? runs.querySelector('table').getBoundingClientRect().width : null,
            runsFigure: runs ? runs.clientWidth : null,
            text: section.innerText,
            tooltips: [...section.querySelectorAll('bdi[title]')].map(b => b.title),
            actNow: [...section.querySelectorAll('.act-now bdi[title]')].map(b => b.title),
            actNowWidest: Math.max(...[...section.querySelectorAll('.act-now table')]
                                       .map(t => t.getBoundingClientRect().width - t.parentElement.clientWidth)),
          };
        }""",
        chart_id,
    )


def test_hostile_names_break_nothing_in_chromium(page, hostile_page):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    dialogs, requests, errors = [], [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1366, "height": 900})
        tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        tab.on("request", lambda r: requests.append(r.url))
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(page.as_uri())
        plain = {alias: layout(tab, alias) for alias in ALIASES}
        tab.goto(hostile_page.as_uri())
        tab.wait_for_load_state("load")
        tab.wait_for_timeout(300)  # time for an onerror handler or a lazy image, were there any
        for alias in ALIASES:
            shown = layout(tab, alias)
            assert shown["page"] <= shown["viewport"], f"{alias}: the page scrolls sideways"
            assert shown["widest"] <= shown["viewport"], alias
            # the runs table is exactly as wide as with ordinary names, and fits its box
            assert shown["runs"] == pytest.approx(plain[alias]["runs"], abs=1)
            assert shown["runs"] <= shown["runsFigure"]
            # no bidi control reaches the screen: the override shows as "evil.exe", not "exe.live"
            assert "evil.exe" in shown["text"] and "exe.live" not in shown["text"]
            assert not any(c in shown["text"] for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
            # the long name is cut on screen and whole in its tooltip
            i = shown["text"].find("x" * 100)
            assert i < 0, repr(shown["text"][max(0, i - 400) : i + 40])
            assert "x" * 10_000 in shown["tooltips"]
            assert "<script>" in shown["text"] or "![px]" in shown["text"]  # shown as text, not run
            # the "Act now" tables show hostile names too, as text, each table within its box
            assert set(shown["actNow"]) & {svg.clean(n) for n in HOSTILE_NAMES}
            assert shown["actNowWidest"] <= 0
        tab.screenshot(path=str(ARTIFACTS / "dashboard-hostile.png"), full_page=True)
        counts = tab.evaluate("() => [document.images.length, document.scripts.length, document.links.length]")
        browser.close()
    assert counts == [0, 2, 0]  # no image, no script but the page's own two, no link
    assert dialogs == [] and errors == []
    assert set(requests) == {page.as_uri(), hostile_page.as_uri()}  # the pages themselves, nothing else


# --- all 73 charts ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page_of_73(marts_warehouse, tmp_path_factory) -> Path:
    """Every region's chart: the two built charts' tables under each of the 73 regions' aliases."""
    built = dashboard_data.load(marts_warehouse.query, marts_warehouse.table_names("marts"))
    charts = []
    for i, (code, region_name) in enumerate(region_names().items()):
        template = built.charts[i % len(built.charts)]
        charts.append(dataclasses.replace(template, chart_id=daily_alias(code), region_name=region_name))
    path = tmp_path_factory.mktemp("all") / "index.html"
    path.write_text(dashboard.render(dashboard_data.DashboardData(charts, built.sources), NOW))
    return path


def visible_chart(tab) -> str:
    return tab.locator("section.chart:not([hidden])").get_attribute("data-chart")


def test_the_selector_at_73_charts_groups_filters_and_switches(page_of_73):
    from playwright.sync_api import sync_playwright

    assert page_of_73.stat().st_size < 5_000_000
    requests, errors = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1366, "height": 900})
        tab.on("request", lambda r: requests.append(r.url))
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(page_of_73.as_uri())
        groups = tab.locator("#chart optgroup").evaluate_all(
            "gs => gs.map(g => [g.label, g.querySelectorAll('option').length])"
        )
        assert groups == [["Global (1)", 1], ["Top 200 markets (22)", 22], ["Top 50 markets (50)", 50]]
        first_large = tab.locator("#chart optgroup").nth(1).locator("option").first.text_content()
        assert first_large == "Argentina (regional-ar-daily)"  # alphabetical within a group
        assert visible_chart(tab) == "regional-global-daily"
        assert tab.locator("section.chart").count() == 73

        tab.select_option("#chart", "regional-jp-daily")  # switching
        assert visible_chart(tab) == "regional-jp-daily"
        assert tab.locator("section.chart:not([hidden]) figure.plot svg .mark").count() > 0

        tab.fill("#chart-filter", "eston")  # finding: the only match is shown at once
        assert tab.locator("#chart option:not([hidden])").all_text_contents() == ["Estonia (regional-ee-daily)"]
        assert visible_chart(tab) == "regional-ee-daily" and tab.input_value("#chart") == "regional-ee-daily"
        assert tab.locator("#chart optgroup:not([hidden])").count() == 1
        tab.fill("#chart-filter", "united")
        assert tab.locator("#chart option:not([hidden])").all_text_contents() == [
            "United Kingdom (regional-gb-daily)",
            "United States (regional-us-daily)",
            "United Arab Emirates (regional-ae-daily)",
        ]
        assert visible_chart(tab) == "regional-gb-daily"
        tab.select_option("#chart", "regional-ae-daily")
        assert visible_chart(tab) == "regional-ae-daily"
        tab.fill("#chart-filter", "-br-")  # by chart code too
        assert visible_chart(tab) == "regional-br-daily"
        tab.fill("#chart-filter", "atlantis")  # nothing matches: says so, and keeps the chart shown
        assert tab.text_content("#chart-matches") == "No chart matches."
        assert visible_chart(tab) == "regional-br-daily"
        tab.fill("#chart-filter", "")
        assert tab.locator("#chart option:not([hidden])").count() == 73
        assert tab.evaluate("location.hash") == "#regional-br-daily"

        tab.goto(page_of_73.as_uri() + "#regional-mx-daily")  # a link to one chart opens it
        tab.reload()
        assert visible_chart(tab) == "regional-mx-daily"
        browser.close()
    assert errors == []
    assert {url.split("#")[0] for url in requests} == {page_of_73.as_uri()}

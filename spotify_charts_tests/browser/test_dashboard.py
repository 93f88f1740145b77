"""The dashboard page: its numbers equal the contract tables', it renders in a real headless
Chromium with no errors and no request to any host, and empty marts give a page, not a crash."""

from __future__ import annotations

import datetime as dt
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
from spotify_charts.sources.sample import SampleSource
from spotify_charts.storage.local import LocalFileStore
from spotify_charts.warehouses.base import dbt_arguments
from spotify_charts.warehouses.duckdb import DuckDBWarehouse
from spotify_charts_tests.support.helpers import dbt, sample_warehouse

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
ALIASES = ["regional-global-daily", "regional-ee-daily"]
DATES = [dt.date(2025, 1, 20) + dt.timedelta(days=i) for i in range(60)]
NOW = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)


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
    assert cells[0] == svg.esc(longest["track_name"])
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


def test_the_summary_names_the_headline_answers(marts_warehouse):
    data = dashboard_data.load(marts_warehouse.query, marts_warehouse.table_names("marts"))
    summary = dashboard.summary_markdown(data)
    top = one(
        marts_warehouse,
        "select artist_name from marts.artist_days_at_number_one where chart_id = 'regional-ee-daily' "
        "order by days_at_number_one desc, artist_name limit 1",
    )
    assert summary.splitlines()[0].startswith("| chart |")
    assert any(line.startswith("| regional-ee-daily |") and top in line for line in summary.splitlines())
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
        browser = pw.chromium.launch(
            executable_path=chromium(),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
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

"""The dashboard: one self-contained HTML page answering the three questions from the contract tables.

Plots are SVG drawn here, with no charting library, script or font from any other host: the page
makes no request when opened. Every loaded chart gets its section; a selector shows one at a time.
Plain module (no Dagster import).
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Callable

from spotify_charts.dashboard.data import (
    LIFECYCLE_MIN_SONGS,
    LONGEVITY_BUCKETS,
    SIGNAL_RULES,
    SIGNALS,
    TOP_N,
    ChartData,
    DashboardData,
)
from spotify_charts.dashboard.svg import (
    NAME_LIMIT,
    column_chart,
    donut_chart,
    esc,
    fmt,
    hbar_chart,
    line_chart,
    name,
    short,
    table,
)
from spotify_charts.regions import LARGE_MARKETS, region_of_alias

PAGE_KEY = "dashboard/index.html"  # where the page is written in the file store


def _top(rows: list[dict], key: Callable[[dict], tuple], n: int = TOP_N) -> list[dict]:
    return sorted(rows, key=key)[:n]


def headlines(chart: ChartData) -> dict[str, object]:
    """The headline answers for one chart (also the materialisation's Markdown summary)."""
    t = chart.tables
    release = [r for r in t["release_day_performance"] if r["songs"]]
    best_day = max(release, key=lambda r: (r["songs"], -r["release_weekday"]), default=None)
    number_one = _top(t["artist_days_at_number_one"], lambda r: (-r["days_at_number_one"], r["artist_name"]), 1)
    longest = _top(t["longest_top10_runs"], lambda r: (-r["run_days"], r["run_start_date"], r["song_id"]), 1)
    top_song = _top(t["top_songs"], lambda r: (r["streams_rank"],), 1)
    half_life = next(
        (r["days_since_debut"] for r in sorted(t["song_lifecycle"], key=lambda r: r["days_since_debut"])
         if r["pct_still_charting"] is not None and float(r["pct_still_charting"]) < 50),
        None,
    )  # fmt: skip
    return {
        "release_weekday": best_day["release_weekday_name"] if best_day else None,
        "release_weekday_songs": best_day["songs"] if best_day else None,
        "top_artist": number_one[0]["artist_name"] if number_one else None,
        "top_artist_days": number_one[0]["days_at_number_one"] if number_one else None,
        "longest_run_song": longest[0]["track_name"] if longest else None,
        "longest_run_days": longest[0]["run_days"] if longest else None,
        "top_song": top_song[0]["track_name"] if top_song else None,
        "half_off_chart_day": half_life,
    }


# Every ASCII punctuation character may be backslash-escaped in (GitHub-flavoured) Markdown, and
# then stands for itself: no link, image, HTML, emphasis, code, autolinked URL or table cell border.
_MARKDOWN_ESCAPES = {ord(c): "\\" + c for c in "\\!\"#$%&'()*+,-./:;<=>?@[]^_`{|}~"}


def md(value: object, limit: int = NAME_LIMIT) -> str:
    """Text (a track or artist name) for Markdown shown in the Dagster UI: cleaned of control and
    bidirectional characters, shortened, every punctuation character escaped."""
    return short(value, limit).translate(_MARKDOWN_ESCAPES)


def summary_markdown(data: DashboardData) -> str:
    """A table of each chart's headline answers, for the Dagster UI. Names are data from outside
    (a CSV can hold anything): each is escaped, so none can become a link, an image or a column."""
    if not data.charts or not any(c.enough for c in data.charts):
        return "Not enough data yet: load at least two chart dates."
    lines = ["| chart | most debuts released on | most days at #1 | longest top-10 run | most streamed |",
             "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for chart in data.charts:
        if not chart.enough:
            lines.append(f"| {md(chart.chart_id)} | not enough data yet | | | |")
            continue
        h = headlines(chart)
        lines.append(
            f"| {md(chart.chart_id)} | {md(h['release_weekday'] or '–')} | "
            f"{md(h['top_artist'] or '–')} ({h['top_artist_days'] or 0} days) | "
            f"{md(h['longest_run_song'] or '–')} ({h['longest_run_days'] or 0} days) | {md(h['top_song'] or '–')} |"
        )
    if data.is_sample:
        lines.append("\nSample data (the built-in simulated charts), not real Spotify charts.")
    return "\n".join(lines)


def signals_by_rule(chart: ChartData) -> dict[str, list[dict]]:
    """The chart's signals on its latest loaded date, by rule (SIGNAL_RULES' order; rules with
    none left out), best rank first (a song gone from the chart last)."""
    rows = [r for r in chart.tables.get(SIGNALS, []) if r["chart_date"] == chart.last_date]
    grouped = {rule: [r for r in rows if r["signal"] == rule] for rule in SIGNAL_RULES}
    return {
        rule: sorted(found, key=lambda r: (r["rank"] is None, r["rank"] or 0, r["previous_rank"] or 0, r["song_id"]))
        for rule, found in grouped.items()
        if found
    }


def _act_now(chart: ChartData) -> str:
    """The section a chart opens with: its songs at a decision point on its latest loaded date."""
    by_rule = signals_by_rule(chart)
    title = f"<h3>Act now: signals on {esc(chart.last_date)}</h3>"
    if not by_rule:
        return (
            f"{title}<p class='empty' data-signals='none'>No signal on {esc(chart.last_date)}: no song on this "
            "chart crossed a threshold that day.</p>"
        )
    tables = [
        table(
            f"signals-{rule}", f"{SIGNAL_RULES[rule]} ({len(rows)})", ["song", "artists", "rank", "reason"],
            [(r["track_name"] or r["song_id"], r["artist_names"] or "", f"#{r['rank']}" if r["rank"] else "–",
              r["reason"]) for r in rows],
            widths=[26, 24, 8, 42], names=[0, 1],
        )
        for rule, rows in by_rule.items()
    ]  # fmt: skip
    return f"{title}<div class='act-now'>{''.join(tables)}</div>"


SIGNALS_SHOWN_IN_UI = 50  # rows of the UI's signals table; the counts cover them all


def latest_signals(data: DashboardData) -> tuple[dt.date | None, dict[str, int], str]:
    """The latest loaded date, its signal count per rule over the charts loaded to it, and a
    Markdown table of those signals for the Dagster UI, every name and reason escaped."""
    latest = max((c.last_date for c in data.charts), default=None)
    charts = [c for c in data.charts if c.last_date == latest]
    rows = [(c, rule, r) for c in charts for rule, found in signals_by_rule(c).items() for r in found]
    counts = {rule: sum(1 for _, found, _ in rows if found == rule) for rule in SIGNAL_RULES}
    if not rows:
        return latest, counts, f"No signal on {latest or 'any date'}."
    lines = ["| chart | signal | song | artists | rank | reason |", "| --- | --- | --- | --- | --- | --- |"]
    for chart, rule, r in rows[:SIGNALS_SHOWN_IN_UI]:
        lines.append(
            f"| {md(chart.chart_id)} | {md(SIGNAL_RULES[rule])} | {md(r['track_name'] or r['song_id'])} | "
            f"{md(r['artist_names'] or '')} | {r['rank'] or '–'} | {md(r['reason'], 256)} |"
        )
    if len(rows) > SIGNALS_SHOWN_IN_UI:
        lines.append(f"\n{len(rows) - SIGNALS_SHOWN_IN_UI} more on the dashboard.")
    return latest, counts, "\n".join(lines)


def _chart_section(chart: ChartData, hidden: bool) -> str:
    t = chart.tables
    header = (
        f"<h2>{esc(chart.region_name)} <span class='alias'>{esc(chart.chart_id)}</span></h2>"
        f"<p class='range'>Chart dates loaded: {chart.first_date} to {chart.last_date} "
        f"({chart.days_loaded:,} days)</p>"
    )
    attrs = f'class="chart" data-chart="{esc(chart.chart_id)}"' + (" hidden" if hidden else "")
    if not chart.enough:
        body = "<p class='empty'>Not enough data yet: this chart has fewer than two loaded chart dates.</p>"
        return f"<section {attrs}>{header}{body}</section>"
    h = headlines(chart)

    months = sorted(t["new_songs_by_month"], key=lambda r: r["month_start"])
    weekdays = sorted(t["release_day_performance"], key=lambda r: r["release_weekday"])
    buckets = {r["longevity_bucket"]: r for r in t["song_longevity"]}
    # days that enough debuts reach: medians over a handful of songs only add noise
    lifecycle = sorted(
        (r for r in t["song_lifecycle"] if r["songs_observed"] >= LIFECYCLE_MIN_SONGS),
        key=lambda r: r["days_since_debut"],
    )
    reentries = _top(t["chart_reentries"], lambda r: (-r["reentries"], r["peak_rank"], r["track_name"]))
    number_ones = _top(t["artist_days_at_number_one"], lambda r: (-r["days_at_number_one"], r["artist_name"]))
    songs = _top(t["top_songs"], lambda r: (r["streams_rank"],))
    runs = _top(t["longest_top10_runs"], lambda r: (-r["run_days"], r["run_start_date"], r["song_id"]))

    def song_label(r: dict) -> str:
        return f"{r['track_name']} – {r['artist_names'] or ''}".strip(" –")

    q1 = [
        column_chart(
            "new_songs_by_month", "Share of songs new to the chart, by month",
            [(r["month_start"].strftime("%b %y"), float(r["new_song_pct"])) for r in months],
            "month", "% of songs charted that were new", 0,
        ),
        column_chart(
            "release_weekday_songs", "Songs that debuted within 14 days of release, by release weekday",
            [(r["release_weekday_name"][:3], r["songs"]) for r in weekdays], "release weekday", "songs",
        ),
        table(
            "release_day_performance", "How those songs did, by release weekday",
            ["weekday", "songs", "median peak rank", "median days on chart (first 90)", "median first-week streams"],
            [(r["release_weekday_name"], r["songs"], fmt(r["median_peak_rank"], 1),
              fmt(r["median_days_on_chart_first_90"], 1), fmt(r["median_first_week_streams"]))
             for r in weekdays],
        ),
    ]  # fmt: skip
    q2 = [
        donut_chart(
            "song_longevity", "How long runs in the top 50 last",
            [(b, float(buckets[b]["run_pct"]), f"{fmt(buckets[b]['run_pct'], 1)}% ({buckets[b]['runs']} runs)")
             for b in LONGEVITY_BUCKETS if b in buckets],
        ),
        line_chart(
            "song_lifecycle", "After the debut: songs still charting, and their streams vs the debut day",
            {
                "% of debuted songs still on the chart": [
                    (r["days_since_debut"], float(r["pct_still_charting"])) for r in lifecycle],
                "median streams, % of debut day": [
                    (r["days_since_debut"],
                     None if r["median_stream_share"] is None else 100 * float(r["median_stream_share"]))
                    for r in lifecycle],
            },
            "days since debut", "percent", 180, 150,
            note=f"Days that at least {LIFECYCLE_MIN_SONGS} debuted songs reach within the loaded dates.",
        ),
        hbar_chart(
            "chart_reentries", "Songs that re-entered the chart most often",
            [(song_label(r), r["reentries"], f"{r['reentries']} (peak #{r['peak_rank']})") for r in reentries],
            "re-entries (back after more than 7 days away)",
        ),
    ]  # fmt: skip
    q3 = [
        hbar_chart(
            "artist_days_at_number_one", "Top artists by days at #1",
            [(r["artist_name"], r["days_at_number_one"], f"{r['days_at_number_one']} days") for r in number_ones],
            "days at #1 (lead or featured)",
        ),
        hbar_chart(
            "top_songs", "Most streamed songs",
            [(song_label(r), float(r["total_streams"] or 0), fmt(r["total_streams"])) for r in songs],
            "total streams on this chart",
        ),
        table(
            "longest_top10_runs", "Longest runs in the top 10",
            ["song", "artists", "from", "to", "days"],
            [(r["track_name"], r["artist_names"] or "", r["run_start_date"], r["run_end_date"], r["run_days"])
             for r in runs],
            widths=[31, 31, 15, 15, 8], names=[0, 1],
        ),
    ]  # fmt: skip
    answers = (
        f"<ul class='headlines'>"
        f"<li>Most debuts were released on <b>{esc(h['release_weekday'] or '–')}</b>.</li>"
        f"<li>Half of the debuted songs have left the chart by day <b>{esc(h['half_off_chart_day'] or '–')}</b>.</li>"
        f"<li>Most days at #1: <b>{name(h['top_artist'] or '–')}</b> ({esc(h['top_artist_days'] or 0)} days).</li>"
        f"<li>Longest top-10 run: <b>{name(h['longest_run_song'] or '–')}</b> ({esc(h['longest_run_days'] or 0)} "
        f"days).</li></ul>"
    )
    return (
        f"<section {attrs}>{header}{_act_now(chart)}{answers}"
        f"<h3>When to release</h3><div class='grid'>{''.join(q1)}</div>"
        f"<h3>How songs perform over time</h3><div class='grid'>{''.join(q2)}</div>"
        f"<h3>Who performs best</h3><div class='grid'>{''.join(q3)}</div></section>"
    )


_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1c1f23}
header{background:#121417;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;color:#c9ced6}main{max-width:1240px;margin:0 auto;padding:12px 28px 40px}
.banner{background:#fff3cd;border:1px solid #e0c26b;color:#5c4500;padding:10px 14px;border-radius:6px;margin:14px 0}
label{font-weight:600;margin-right:8px}select,input{font-size:15px;padding:4px 8px}
#chart-filter{width:14em}#chart-filter:invalid{outline:2px solid #c2456b}
h2{margin:22px 0 2px}.alias{font-size:14px;color:#68707c;font-weight:400}.range{margin:0;color:#48505c}
h3{margin:26px 0 8px;border-bottom:2px solid #1db954;padding-bottom:4px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px}.grid>*{min-width:0}
figure{background:#fff;border:1px solid #e1e4e8;border-radius:8px;margin:0;padding:12px 14px;overflow:hidden}
figcaption{font-weight:600;margin-bottom:6px}
table{border-collapse:collapse;width:100%;font-size:13.5px;table-layout:fixed}
th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eceef1;white-space:nowrap;overflow:hidden;
text-overflow:ellipsis}th{color:#48505c;font-weight:600}bdi,svg text{unicode-bidi:isolate}
.headlines li{overflow-wrap:anywhere}
svg text{font-size:12px;fill:#30363d}svg .axis-title{font-size:12.5px;fill:#48505c}svg .grid{stroke:#eceef1}
svg .axis{stroke:#9aa1ab}.empty{color:#68707c;font-style:italic}.note{color:#68707c;font-size:13px}
.headlines{background:#fff;border:1px solid #e1e4e8;border-radius:8px;padding:10px 10px 10px 30px}
.act-now figure{margin-bottom:12px}.act-now td:last-child{white-space:normal}
"""

_SCRIPT = """
const select = document.getElementById('chart');
const filter = document.getElementById('chart-filter');
function show(id) {
  for (const s of document.querySelectorAll('section.chart')) s.hidden = s.dataset.chart !== id;
  try { if (location.hash.slice(1) !== id) history.replaceState(null, '', '#' + id); } catch (e) {}  // a link to it
}
function choose(id) { select.value = id; show(id); }
// Typing narrows the list to the charts whose name or code contains the text; the first match is shown.
function narrow() {
  const words = filter.value.trim().toLowerCase();
  let first = null, current = false;
  for (const o of select.options) {
    o.hidden = o.disabled = words !== '' && !o.dataset.search.includes(words);
    if (!o.hidden) { first = first || o; current = current || o.selected; }
  }
  for (const g of select.querySelectorAll('optgroup')) g.hidden = ![...g.children].some(o => !o.hidden);
  filter.setCustomValidity(first ? '' : 'no chart matches');
  document.getElementById('chart-matches').textContent = words ? (first ? '' : 'No chart matches.') : '';
  if (first && !current) choose(first.value);
}
if (select) {
  select.addEventListener('change', () => show(select.value));
  filter.addEventListener('input', narrow);
  window.addEventListener('hashchange', () => {
    const id = location.hash.slice(1);
    if ([...select.options].some(o => o.value === id)) choose(id);
  });
  const wanted = location.hash.slice(1);
  choose([...select.options].some(o => o.value === wanted) ? wanted : select.value);
}
"""


def _chart_picker(charts: list[ChartData]) -> str:
    """The chart selector: one group per market size (global, 200-entry and 50-entry charts),
    alphabetical within, plus a filter box, so 73 charts stay quick to find. Works offline."""
    groups: dict[str, list[ChartData]] = {label: [] for label in _MARKET_GROUPS}
    for chart in charts:
        groups[_market_group(chart.chart_id)].append(chart)
    options = []
    for label, members in groups.items():
        if not members:
            continue
        items = "".join(
            f"<option value='{esc(c.chart_id)}' data-search='{esc(f'{c.region_name} {c.chart_id}'.lower())}'>"
            f"{esc(c.region_name)} ({esc(c.chart_id)})</option>"
            for c in sorted(members, key=lambda c: (c.region_name.lower(), c.chart_id))
        )
        options.append(f"<optgroup label='{esc(label)} ({len(members)})'>{items}</optgroup>")
    return (
        "<p class='picker'><label for='chart'>Chart</label>"
        f"<select id='chart'>{''.join(options)}</select> "
        f"<input type='search' id='chart-filter' placeholder='Find a chart ({len(charts)})' "
        "aria-label='Find a chart by country or code' autocomplete='off'> "
        "<span id='chart-matches' class='note' role='status'></span></p>"
    )


_MARKET_GROUPS = ("Global", "Top 200 markets", "Top 50 markets")  # by the size of the region's daily chart


def _market_group(chart_id: str) -> str:
    try:
        region = region_of_alias(chart_id)
    except ValueError:  # not a daily regional chart: with the small ones
        return _MARKET_GROUPS[2]
    if region == "global":
        return _MARKET_GROUPS[0]
    return _MARKET_GROUPS[1] if region in LARGE_MARKETS else _MARKET_GROUPS[2]


def render(data: DashboardData, generated_at: dt.datetime) -> str:
    """The whole page, self-contained."""
    banner = (
        "<div class='banner' role='note'><b>Sample data.</b> These are the built-in simulated charts, not real "
        "Spotify charts: artists, songs and streams are invented.</div>"
        if data.is_sample
        else ""
    )
    if data.charts:
        first, last = min(c.first_date for c in data.charts), max(c.last_date for c in data.charts)
        span = f"Chart dates loaded: {first} to {last}."
        picker = _chart_picker(data.charts)
        sections = "".join(_chart_section(c, i > 0) for i, c in enumerate(data.charts))
    else:
        span = "No chart dates loaded."
        picker = ""
        sections = (
            "<p class='empty'>Not enough data yet: the warehouse has no contract tables. Materialise a few chart "
            "dates (make demo, or a backfill in the Dagster UI) and this page fills in.</p>"
        )
    payload = json.dumps({"charts": [c.chart_id for c in data.charts], "sources": data.sources})
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>Spotify charts: when to release, how songs last, who leads</title>"
        f"<style>{_STYLE}</style></head><body>"
        "<header><h1>Spotify charts</h1>"
        f"<p>When to release music, how songs perform over time, which songs and artists perform best. {esc(span)} "
        f"Generated {generated_at:%Y-%m-%d %H:%M} UTC.</p></header><main>"
        f"{banner}{picker}{sections}</main>"
        f"<script type='application/json' id='dashboard-data'>{html.escape(payload, quote=False)}</script>"
        f"<script>{_SCRIPT}</script></body></html>"
    )

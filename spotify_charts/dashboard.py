"""The dashboard: one self-contained HTML page answering the three questions from the contract tables.

Plots are SVG drawn here, with no charting library, script or font from any other host: the page
makes no request when opened. Every loaded chart gets its section; a selector shows one at a time.
Plain module (no Dagster import).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

PAGE_KEY = "dashboard/index.html"  # where the page is written in the raw store

CONTRACT_TABLES = (
    "new_songs_by_month",
    "song_longevity",
    "chart_reentries",
    "artist_days_at_number_one",
    "longest_top10_runs",
    "release_day_performance",
    "song_lifecycle",
    "top_songs",
    "top_artists",
)
LONGEVITY_BUCKETS = ("1 week", "2-3 weeks", "4-6 weeks", "7-9 weeks", "10-15 weeks", "16+ weeks")
MIN_DAYS = 2  # a chart with fewer loaded dates has nothing to compare yet
TOP_N = 10
LIFECYCLE_MIN_SONGS = 10

Query = Callable[[str], list[dict]]


@dataclass
class ChartData:
    chart_id: str
    region_name: str
    first_date: dt.date
    last_date: dt.date
    days_loaded: int
    tables: dict[str, list[dict]] = field(default_factory=dict)

    @property
    def enough(self) -> bool:
        return self.days_loaded >= MIN_DAYS


@dataclass
class DashboardData:
    charts: list[ChartData]
    sources: list[str]

    @property
    def is_sample(self) -> bool:
        return "sample" in self.sources


def load(query: Query, existing_tables: set[str]) -> DashboardData:
    """Read every contract table, grouped by chart (global first). Missing tables read as empty."""
    if not {"dim_charts", "fct_chart_entries", *CONTRACT_TABLES} <= existing_tables:
        return DashboardData([], [])
    charts = [
        ChartData(
            r["chart_id"], r["region_name"] or r["chart_id"], r["first_chart_date"], r["last_chart_date"],
            r["days_loaded"],
        )
        for r in query(
            "select chart_id, region_name, first_chart_date, last_chart_date, days_loaded from marts.dim_charts "
            "order by case when chart_id = 'regional-global-daily' then 0 else 1 end, chart_id"
        )
    ]  # fmt: skip
    by_id = {chart.chart_id: chart for chart in charts}
    for table in CONTRACT_TABLES:
        for chart in charts:
            chart.tables[table] = []
        for row in query(f"select * from marts.{table}"):
            if row["chart_id"] in by_id:
                by_id[row["chart_id"]].tables[table].append(row)
    sources = [r["data_source"] for r in query("select distinct data_source from marts.fct_chart_entries order by 1")]
    return DashboardData(charts, sources)


# --- SVG plots ---------------------------------------------------------------------------------

W, H = 560, 300
PALETTE = ("#1db954", "#3d7bd9", "#e8a33d", "#c2456b", "#7a5cc9", "#2fa3a3")


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    if digits == 0:
        return f"{round(float(value)):,}"
    return f"{float(value):,.{digits}f}"


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _figure(name: str, title: str, body: str, note: str = "") -> str:
    caption = f"<figcaption>{_e(title)}</figcaption>"
    extra = f'<p class="note">{_e(note)}</p>' if note else ""
    return f'<figure class="plot" data-plot="{_e(name)}">{caption}{body}{extra}</figure>'


def _svg(inner: str, height: int = H) -> str:
    return (
        f'<svg viewBox="0 0 {W} {height}" width="100%" role="img" preserveAspectRatio="xMidYMid meet" '
        f'xmlns="http://www.w3.org/2000/svg">{inner}</svg>'
    )


def hbar_chart(name: str, title: str, rows: Sequence[tuple[str, float, str]], x_label: str) -> str:
    """Horizontal bars, largest first as given: (label, value, value shown)."""
    if not rows:
        return _figure(name, title, _empty_svg())
    left, right, top, bar = 240, 110, 10, 22
    height = top + len(rows) * (bar + 6) + 40
    top_value = _nice_max(max(value for _, value, _ in rows))
    span = W - left - right
    parts = []
    for i, (label, value, shown) in enumerate(rows):
        y = top + i * (bar + 6)
        width = max(1.0, span * value / top_value)
        parts.append(
            f'<text x="{left - 8}" y="{y + bar * 0.7:.1f}" text-anchor="end" class="label"><title>{_e(label)}</title>'
            f"{_e(_short(label))}</text>"
            f'<rect class="mark" x="{left}" y="{y}" width="{width:.1f}" height="{bar}" fill="{PALETTE[0]}" '
            f'data-label="{_e(label)}" data-value="{_e(value)}"/>'
            f'<text x="{left + width + 6:.1f}" y="{y + bar * 0.7:.1f}" class="value">{_e(shown)}</text>'
        )
    axis_y = top + len(rows) * (bar + 6) + 4
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top - 4}" y2="{axis_y}" class="axis"/>')
    parts.append(f'<text x="{left + span / 2:.0f}" y="{axis_y + 26}" text-anchor="middle" class="axis-title">')
    parts.append(f"{_e(x_label)}</text>")
    return _figure(name, title, _svg("".join(parts), height))


def column_chart(
    name: str, title: str, rows: Sequence[tuple[str, float | None]], x_label: str, y_label: str, digits: int = 0
) -> str:
    """Vertical columns in the order given; x labels thinned so they never overlap."""
    if not rows or all(v is None for _, v in rows):
        return _figure(name, title, _empty_svg())
    left, right, top, bottom = 60, 16, 16, 60
    span_x, span_y = W - left - right, H - top - bottom
    ticks = _ticks(max(v or 0 for _, v in rows))
    top_value = ticks[-1]
    slot = span_x / len(rows)
    every = max(1, math.ceil(len(rows) * 48 / span_x))  # labels at least ~48 px apart
    parts = _y_axis(left, top, span_x, span_y, ticks, y_label, digits)
    for i, (label, value) in enumerate(rows):
        x = left + i * slot
        height = span_y * (value or 0) / top_value
        parts.append(
            f'<rect class="mark" x="{x + slot * 0.15:.1f}" y="{top + span_y - height:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{height:.1f}" fill="{PALETTE[1]}" data-label="{_e(label)}" data-value="{_e(value)}">'
            f"<title>{_e(label)}: {_fmt(value, digits)}</title></rect>"
        )
        if i % every == 0:
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{top + span_y + 16}" text-anchor="middle" class="label">'
                f"{_e(label)}</text>"
            )
    parts.append(
        f'<text x="{left + span_x / 2:.0f}" y="{H - 14}" text-anchor="middle" class="axis-title">{_e(x_label)}</text>'
    )
    return _figure(name, title, _svg("".join(parts)))


def line_chart(
    name: str, title: str, series: dict[str, list[tuple[float, float | None]]], x_label: str, y_label: str,
    x_max: float, y_max: float | None = None, note: str = "",
) -> str:  # fmt: skip
    """Lines over a numeric x axis from 0 to x_max, with a legend."""
    points = [(x, y) for values in series.values() for x, y in values if y is not None]
    if not points:
        return _figure(name, title, _empty_svg(), note)
    left, right, top, bottom = 60, 16, 14 + 16 * len(series), 50
    span_x, span_y = W - left - right, H - top - bottom
    ticks = _ticks(y_max or max(y for _, y in points))
    top_value = ticks[-1]
    parts = _y_axis(left, top, span_x, span_y, ticks, y_label, 0)
    for tick in range(0, int(x_max) + 1, 30):
        x = left + span_x * tick / x_max
        parts.append(f'<text x="{x:.1f}" y="{top + span_y + 16}" text-anchor="middle" class="label">{tick}</text>')
    for i, (label, values) in enumerate(series.items()):
        coords = [
            f"{left + span_x * x / x_max:.1f},{top + span_y - span_y * min(y, top_value) / top_value:.1f}"
            for x, y in values
            if y is not None
        ]
        if coords:
            parts.append(
                f'<polyline class="mark" fill="none" stroke="{PALETTE[i]}" stroke-width="2.2" '
                f'points="{" ".join(coords)}" data-series="{_e(label)}"/>'
            )
        parts.append(  # one legend line per series: long labels never overlap
            f'<rect x="{left + 10}" y="{4 + i * 16}" width="14" height="4" fill="{PALETTE[i]}"/>'
            f'<text x="{left + 30}" y="{10 + i * 16}" class="label">{_e(label)}</text>'
        )
    parts.append(
        f'<text x="{left + span_x / 2:.0f}" y="{H - 12}" text-anchor="middle" class="axis-title">{_e(x_label)}</text>'
    )
    return _figure(name, title, _svg("".join(parts)), note)


def donut_chart(name: str, title: str, rows: Sequence[tuple[str, float, str]]) -> str:
    """Shares of a whole as a ring, with a legend: (label, share in percent, value shown)."""
    total = sum(value for _, value, _ in rows)
    if total <= 0:
        return _figure(name, title, _empty_svg())
    cx, cy, r_out, r_in = 150, H / 2, 120, 70
    parts, angle = [], -math.pi / 2
    for i, (label, value, shown) in enumerate(rows):
        sweep = 2 * math.pi * value / total
        legend_y = 40 + i * 36
        parts.append(
            f'<rect x="310" y="{legend_y - 11}" width="14" height="14" fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="332" y="{legend_y}" class="label">{_e(label)}: {_e(shown)}</text>'
        )
        if sweep <= 0:
            continue
        sweep = min(sweep, 2 * math.pi - 1e-4)
        end = angle + sweep
        large = 1 if sweep > math.pi else 0
        p = [
            (cx + r_out * math.cos(angle), cy + r_out * math.sin(angle)),
            (cx + r_out * math.cos(end), cy + r_out * math.sin(end)),
            (cx + r_in * math.cos(end), cy + r_in * math.sin(end)),
            (cx + r_in * math.cos(angle), cy + r_in * math.sin(angle)),
        ]
        path = (
            f"M{p[0][0]:.1f},{p[0][1]:.1f} A{r_out},{r_out} 0 {large} 1 {p[1][0]:.1f},{p[1][1]:.1f} "
            f"L{p[2][0]:.1f},{p[2][1]:.1f} A{r_in},{r_in} 0 {large} 0 {p[3][0]:.1f},{p[3][1]:.1f} Z"
        )
        parts.append(
            f'<path class="mark" d="{path}" fill="{PALETTE[i % len(PALETTE)]}" data-label="{_e(label)}" '
            f'data-value="{_e(value)}"><title>{_e(label)}: {_e(shown)}</title></path>'
        )
        angle = end
    return _figure(name, title, _svg("".join(parts)))


def _ticks(value: float) -> list[float]:
    """Round tick values from 0 to at least `value`: steps of 1, 2, 2.5 or 5 times a power of ten."""
    step = _nice_max(value / 4) if value > 0 else 1.0
    return [step * i for i in range(math.ceil(value / step - 1e-9) + 1)] if value > 0 else [0.0, 1.0]


def _y_axis(left: int, top: int, span_x: float, span_y: float, ticks: list[float], label: str, digits: int) -> list:
    parts = []
    for value in ticks:
        y = top + span_y - span_y * value / ticks[-1]
        parts.append(
            f'<line x1="{left}" x2="{left + span_x:.1f}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="label">{_fmt(value, digits)}</text>'
        )
    parts.append(
        f'<text transform="translate(14,{top + span_y / 2:.0f}) rotate(-90)" text-anchor="middle" '
        f'class="axis-title">{_e(label)}</text>'
    )
    return parts


def _empty_svg() -> str:
    return '<p class="empty">Not enough data yet for this plot.</p>'


def table(name: str, title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    if not rows:
        return _figure(name, title, _empty_svg())
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<figure class="table" data-table="{_e(name)}"><figcaption>{_e(title)}</figcaption>' + (
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></figure>"
    )


# --- the page ----------------------------------------------------------------------------------


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


def summary_markdown(data: DashboardData) -> str:
    if not data.charts or not any(c.enough for c in data.charts):
        return "Not enough data yet: load at least two chart dates."
    lines = ["| chart | most debuts released on | most days at #1 | longest top-10 run | most streamed |",
             "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for chart in data.charts:
        if not chart.enough:
            lines.append(f"| {chart.chart_id} | not enough data yet | | | |")
            continue
        h = headlines(chart)
        lines.append(
            f"| {chart.chart_id} | {h['release_weekday'] or '–'} | "
            f"{h['top_artist'] or '–'} ({h['top_artist_days'] or 0} days) | "
            f"{h['longest_run_song'] or '–'} ({h['longest_run_days'] or 0} days) | {h['top_song'] or '–'} |"
        )
    if data.is_sample:
        lines.append("\nSample data (the built-in simulated charts), not real Spotify charts.")
    return "\n".join(lines)


def _chart_section(chart: ChartData, hidden: bool) -> str:
    t = chart.tables
    header = (
        f"<h2>{_e(chart.region_name)} <span class='alias'>{_e(chart.chart_id)}</span></h2>"
        f"<p class='range'>Chart dates loaded: {chart.first_date} to {chart.last_date} "
        f"({chart.days_loaded:,} days)</p>"
    )
    attrs = f'class="chart" data-chart="{_e(chart.chart_id)}"' + (" hidden" if hidden else "")
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
            [(r["release_weekday_name"], r["songs"], _fmt(r["median_peak_rank"], 1),
              _fmt(r["median_days_on_chart_first_90"], 1), _fmt(r["median_first_week_streams"]))
             for r in weekdays],
        ),
    ]  # fmt: skip
    q2 = [
        donut_chart(
            "song_longevity", "How long runs in the top 50 last",
            [(b, float(buckets[b]["run_pct"]), f"{_fmt(buckets[b]['run_pct'], 1)}% ({buckets[b]['runs']} runs)")
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
            [(song_label(r), float(r["total_streams"] or 0), _fmt(r["total_streams"])) for r in songs],
            "total streams on this chart",
        ),
        table(
            "longest_top10_runs", "Longest runs in the top 10",
            ["song", "artists", "from", "to", "days"],
            [(r["track_name"], r["artist_names"] or "", r["run_start_date"], r["run_end_date"], r["run_days"])
             for r in runs],
        ),
    ]  # fmt: skip
    answers = (
        f"<ul class='headlines'>"
        f"<li>Most debuts were released on <b>{_e(h['release_weekday'] or '–')}</b>.</li>"
        f"<li>Half of the debuted songs have left the chart by day <b>{_e(h['half_off_chart_day'] or '–')}</b>.</li>"
        f"<li>Most days at #1: <b>{_e(h['top_artist'] or '–')}</b> ({_e(h['top_artist_days'] or 0)} days).</li>"
        f"<li>Longest top-10 run: <b>{_e(h['longest_run_song'] or '–')}</b> ({_e(h['longest_run_days'] or 0)} "
        f"days).</li></ul>"
    )
    return (
        f"<section {attrs}>{header}{answers}"
        f"<h3>When to release</h3><div class='grid'>{''.join(q1)}</div>"
        f"<h3>How songs perform over time</h3><div class='grid'>{''.join(q2)}</div>"
        f"<h3>Who performs best</h3><div class='grid'>{''.join(q3)}</div></section>"
    )


_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1c1f23}
header{background:#121417;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;color:#c9ced6}main{max-width:1240px;margin:0 auto;padding:12px 28px 40px}
.banner{background:#fff3cd;border:1px solid #e0c26b;color:#5c4500;padding:10px 14px;border-radius:6px;margin:14px 0}
label{font-weight:600;margin-right:8px}select{font-size:15px;padding:4px 8px}
h2{margin:22px 0 2px}.alias{font-size:14px;color:#68707c;font-weight:400}.range{margin:0;color:#48505c}
h3{margin:26px 0 8px;border-bottom:2px solid #1db954;padding-bottom:4px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px}
figure{background:#fff;border:1px solid #e1e4e8;border-radius:8px;margin:0;padding:12px 14px}
figcaption{font-weight:600;margin-bottom:6px}table{border-collapse:collapse;width:100%;font-size:13.5px}
th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eceef1}th{color:#48505c;font-weight:600}
svg text{font-size:12px;fill:#30363d}svg .axis-title{font-size:12.5px;fill:#48505c}svg .grid{stroke:#eceef1}
svg .axis{stroke:#9aa1ab}.empty{color:#68707c;font-style:italic}.note{color:#68707c;font-size:13px}
.headlines{background:#fff;border:1px solid #e1e4e8;border-radius:8px;padding:10px 10px 10px 30px}
"""

_SCRIPT = """
const select = document.getElementById('chart');
function show(id) {
  for (const s of document.querySelectorAll('section.chart')) s.hidden = s.dataset.chart !== id;
}
if (select) { select.addEventListener('change', () => show(select.value)); show(select.value); }
"""


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
        options = "".join(
            f"<option value='{_e(c.chart_id)}'>{_e(c.region_name)} ({_e(c.chart_id)})</option>" for c in data.charts
        )
        picker = f"<p><label for='chart'>Chart</label><select id='chart'>{options}</select></p>"
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
        f"<p>When to release music, how songs perform over time, which songs and artists perform best. {_e(span)} "
        f"Generated {generated_at:%Y-%m-%d %H:%M} UTC.</p></header><main>"
        f"{banner}{picker}{sections}</main>"
        f"<script type='application/json' id='dashboard-data'>{html.escape(payload, quote=False)}</script>"
        f"<script>{_SCRIPT}</script></body></html>"
    )

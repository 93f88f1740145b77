"""SVG plots and HTML tables drawn without any charting library, script or font from another host.

Plain module (no Dagster import).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

W, H = 560, 300
PALETTE = ("#1db954", "#3d7bd9", "#e8a33d", "#c2456b", "#7a5cc9", "#2fa3a3")


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


# Characters a name never needs and that change how the text around it displays: C0/C1 controls
# and the bidirectional embeddings, overrides, isolates and marks ("\u202eevil\u202c.exe" would
# show as "exe.live"). Removed for display; line breaks and tabs become spaces.
_INVISIBLE = {
    **dict.fromkeys([*range(0x00, 0x20), *range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F]),
    **dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)]),
    **dict.fromkeys([0x09, 0x0A, 0x0D], " "),
}
NAME_LIMIT = 60  # characters of a name shown in a table, a headline or the UI summary


def clean(text: object) -> str:
    """A name as displayed: without control or bidirectional formatting characters."""
    return str(text).translate(_INVISIBLE)


def short(text: object, limit: int = 30) -> str:
    """The cleaned name, cut to `limit` characters with an ellipsis."""
    text = clean(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def name(text: object, limit: int = NAME_LIMIT) -> str:
    """A name for HTML: isolated from the text around it (<bdi>), shortened, the whole name in its tooltip."""
    return f'<bdi title="{esc(clean(text))}">{esc(short(text, limit))}</bdi>'


def fmt(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    if digits == 0:
        return f"{round(float(value)):,}"
    return f"{float(value):,.{digits}f}"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _figure(name: str, title: str, body: str, note: str = "") -> str:
    caption = f"<figcaption>{esc(title)}</figcaption>"
    extra = f'<p class="note">{esc(note)}</p>' if note else ""
    return f'<figure class="plot" data-plot="{esc(name)}">{caption}{body}{extra}</figure>'


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
            f'<text x="{left - 8}" y="{y + bar * 0.7:.1f}" text-anchor="end" class="label">'
            f"<title>{esc(clean(label))}</title>{esc(short(label))}</text>"
            f'<rect class="mark" x="{left}" y="{y}" width="{width:.1f}" height="{bar}" fill="{PALETTE[0]}" '
            f'data-label="{esc(label)}" data-value="{esc(value)}"/>'
            f'<text x="{left + width + 6:.1f}" y="{y + bar * 0.7:.1f}" class="value">{esc(shown)}</text>'
        )
    axis_y = top + len(rows) * (bar + 6) + 4
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top - 4}" y2="{axis_y}" class="axis"/>')
    parts.append(f'<text x="{left + span / 2:.0f}" y="{axis_y + 26}" text-anchor="middle" class="axis-title">')
    parts.append(f"{esc(x_label)}</text>")
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
            f'height="{height:.1f}" fill="{PALETTE[1]}" data-label="{esc(label)}" data-value="{esc(value)}">'
            f"<title>{esc(label)}: {fmt(value, digits)}</title></rect>"
        )
        if i % every == 0:
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{top + span_y + 16}" text-anchor="middle" class="label">'
                f"{esc(label)}</text>"
            )
    parts.append(
        f'<text x="{left + span_x / 2:.0f}" y="{H - 14}" text-anchor="middle" class="axis-title">{esc(x_label)}</text>'
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
                f'points="{" ".join(coords)}" data-series="{esc(label)}"/>'
            )
        parts.append(  # one legend line per series: long labels never overlap
            f'<rect x="{left + 10}" y="{4 + i * 16}" width="14" height="4" fill="{PALETTE[i]}"/>'
            f'<text x="{left + 30}" y="{10 + i * 16}" class="label">{esc(label)}</text>'
        )
    parts.append(
        f'<text x="{left + span_x / 2:.0f}" y="{H - 12}" text-anchor="middle" class="axis-title">{esc(x_label)}</text>'
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
            f'<text x="332" y="{legend_y}" class="label">{esc(label)}: {esc(shown)}</text>'
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
            f'<path class="mark" d="{path}" fill="{PALETTE[i % len(PALETTE)]}" data-label="{esc(label)}" '
            f'data-value="{esc(value)}"><title>{esc(label)}: {esc(shown)}</title></path>'
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
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="label">{fmt(value, digits)}</text>'
        )
    parts.append(
        f'<text transform="translate(14,{top + span_y / 2:.0f}) rotate(-90)" text-anchor="middle" '
        f'class="axis-title">{esc(label)}</text>'
    )
    return parts


def _empty_svg() -> str:
    return '<p class="empty">Not enough data yet for this plot.</p>'


def table(
    key: str, title: str, headers: Sequence[str], rows: Sequence[Sequence[object]],
    widths: Sequence[int] | None = None, names: Sequence[int] = (),
) -> str:  # fmt: skip
    """An HTML table whose layout does not depend on the data: fixed column widths (`widths`, in
    percent), one line per cell; the columns in `names` hold names (isolated, shortened, tooltip)."""
    if not rows:
        return _figure(key, title, _empty_svg())
    cols = "<colgroup>" + "".join(f'<col style="width:{w}%">' for w in widths) + "</colgroup>" if widths else ""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{name(c) if i in names else esc(c)}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f'<figure class="table" data-table="{esc(key)}"><figcaption>{esc(title)}</figcaption>' + (
        f"<table>{cols}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></figure>"
    )


# --- the page ----------------------------------------------------------------------------------

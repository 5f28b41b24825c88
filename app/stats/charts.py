"""Charts drawn as SVG on the server: no script, no library, no CDN. Each chart scales to its container (a
``viewBox`` and no fixed width) and is described for screen readers by its title; the same numbers follow it as
a table on the page."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

BAR_COLOR = "#b3261e"
LINE_COLORS = ("#b3261e", "#1d3f7a")
INK = "#1f1a24"
GRID = "#d9d3de"
WIDTH = 400


@dataclass
class Point:
    label: str
    value: int
    text: str  # what to print (may be "<5" when the value is suppressed)


def _nice_max(value: int) -> int:
    """A round axis maximum at or above ``value`` whose half is a whole number."""
    if value <= 4:
        return 4
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 4, 6, 8, 10):
        if step * magnitude >= value:
            return step * magnitude
    return value + value % 2


def bar_chart(chart_id: str, title: str, points: list[Point]) -> Markup:
    """Horizontal bars, one per point, labelled on the left with the value printed after the bar."""
    label_w, value_w, row_h, top = 88, 64, 26, 8
    height = top * 2 + row_h * max(len(points), 1)
    span = WIDTH - label_w - value_w
    peak = max((p.value for p in points), default=0) or 1
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title" xmlns="http://www.w3.org/2000/svg" '
        f'preserveAspectRatio="xMinYMin meet">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
    ]
    for index, point in enumerate(points):
        y = top + index * row_h
        width = round(span * point.value / peak, 1) if point.value > 0 else 0
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" font-size="13" fill="{INK}">'
            f"{escape(point.label)}</text>"
        )
        parts.append(f'<rect x="{label_w}" y="{y + 5}" width="{width}" height="{row_h - 10}" fill="{BAR_COLOR}"/>')
        parts.append(
            f'<text x="{label_w + width + 4}" y="{y + 17}" font-size="12" fill="{INK}">{escape(point.text)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text piece above is escaped)


def line_chart(chart_id: str, title: str, labels: list[str], series: list[tuple[str, list[int]]]) -> Markup:
    """One line per series over the labels (months), with a legend; the second series is dashed so the lines
    differ by more than colour."""
    left, right, top, bottom = 44, 10, 26, 28
    height = 220
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    peak = _nice_max(max((v for _name, values in series for v in values), default=0))
    count = max(len(labels), 1)
    step = plot_w / max(count - 1, 1)
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title" xmlns="http://www.w3.org/2000/svg" '
        f'preserveAspectRatio="xMinYMin meet">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
    ]
    for fraction in (0, 0.5, 1):
        y = round(top + plot_h * (1 - fraction), 1)
        parts.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{y}" y2="{y}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{left - 4}" y="{y + 4}" text-anchor="end" font-size="11" fill="{INK}">'
            f"{int(peak * fraction):,}</text>"
        )
    every = max(1, round(count / 12 + 0.49))
    for index, label in enumerate(labels):
        if index % every == 0:
            x = round(left + step * index, 1)
            parts.append(
                f'<text x="{x}" y="{height - 8}" text-anchor="middle" font-size="11" fill="{INK}">'
                f"{escape(label)}</text>"
            )
    for number, (name, values) in enumerate(series):
        color = LINE_COLORS[number % len(LINE_COLORS)]
        coords = " ".join(
            f"{round(left + step * i, 1)},{round(top + plot_h * (1 - v / peak), 1)}" for i, v in enumerate(values)
        )
        dash = ' stroke-dasharray="6 4"' if number % 2 else ""
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2.5"{dash}/>')
        legend_x = left + number * 130
        parts.append(
            f'<line x1="{legend_x}" x2="{legend_x + 22}" y1="10" y2="10" stroke="{color}" stroke-width="2.5"{dash}/>'
        )
        parts.append(f'<text x="{legend_x + 26}" y="14" font-size="12" fill="{INK}">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text piece above is escaped)

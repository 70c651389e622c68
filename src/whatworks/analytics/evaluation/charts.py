"""The evaluation report's two diagnostic charts, drawn once and rendered twice: as inline SVG
for HTML and as reportlab drawings for PDF.

* **Love plot**: the standardised mean difference of each covariate before (open circle) and
  after (filled circle) adjustment, with dashed lines at ±0.1 (the usual balance threshold).
* **Overlap plot**: the propensity-score distribution of the treated (bars above the axis) and
  the controls (bars below), as shares of each group, from ``EvaluationResult.overlap``.

Each chart is a list of primitive shapes in a top-down coordinate system (like SVG). The SVG
carries no ``style`` attribute (a strict Content-Security-Policy forbids them): each shape has
a class name for the page's stylesheet plus ``fill``/``stroke`` presentation attributes so the
chart also reads without any CSS. Every SVG has a ``<title>`` and a ``<desc>`` giving the text
alternative.
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

from whatworks.analytics.evaluation.result import BALANCE_THRESHOLD, BalanceRow
from whatworks.analytics.evaluation.text import texts

# Class name -> (fill, stroke); "none" means no paint.
PALETTE: dict[str, tuple[str, str]] = {
    "chart-frame": ("none", "#8c959f"),
    "chart-grid": ("none", "#eaeef2"),
    "chart-zero": ("none", "#57606a"),
    "chart-threshold": ("none", "#d4351c"),
    "chart-text": ("#1b1b1b", "none"),
    "chart-muted": ("#57606a", "none"),
    "dot-before": ("#ffffff", "#d4351c"),
    "dot-after": ("#1d70b8", "#1d70b8"),
    "bar-treated": ("#1d70b8", "none"),
    "bar-control": ("#f47738", "none"),
}


@dataclasses.dataclass(frozen=True)
class Shape:
    """One primitive: ``kind`` is line (x, y, x2, y2), circle (x, y, r), rect (x, y, w, h;
    y is the top edge) or text (x, y baseline, text, anchor start|middle|end)."""

    kind: str
    cls: str
    x: float
    y: float
    x2: float = 0.0
    y2: float = 0.0
    r: float = 0.0
    w: float = 0.0
    h: float = 0.0
    text: str = ""
    anchor: str = "start"
    size: float = 11.0
    dashed: bool = False
    tooltip: str = ""


@dataclasses.dataclass(frozen=True)
class Chart:
    width: float
    height: float
    title: str
    desc: str
    shapes: tuple[Shape, ...]
    css_class: str


def _line(cls: str, x: float, y: float, x2: float, y2: float, *, dashed: bool = False) -> Shape:
    return Shape("line", cls, x, y, x2=x2, y2=y2, dashed=dashed)


def _text(cls: str, x: float, y: float, text: str, anchor: str = "start", size: float = 11):
    return Shape("text", cls, x, y, text=text, anchor=anchor, size=size)


def love_plot(balance: Sequence[BalanceRow], *, threshold: float = BALANCE_THRESHOLD) -> Chart:
    """The love plot of ``balance`` (one row per covariate, in the given order)."""
    rows = list(balance)
    label_width, right, top, row_h, bottom = 170.0, 16.0, 34.0, 22.0, 44.0
    width = 640.0
    height = top + row_h * max(len(rows), 1) + bottom
    plot_left, plot_right = label_width, width - right
    finite = [abs(v) for r in rows for v in (r.smd_before, r.smd_after) if math.isfinite(v)]
    limit = max([threshold * 2.5, *finite]) * 1.1
    limit = math.ceil(limit * 10) / 10

    def x(value: float) -> float:
        value = max(-limit, min(limit, value))
        return plot_left + (plot_right - plot_left) * (value + limit) / (2 * limit)

    plot_bottom = top + row_h * max(len(rows), 1)
    shapes: list[Shape] = [
        Shape("circle", "dot-before", plot_left + 6, 14, r=4.5),
        _text("chart-text", plot_left + 16, 18, texts()["chart_legend_before"]),
        Shape("circle", "dot-after", plot_left + 156, 14, r=4.5),
        _text("chart-text", plot_left + 166, 18, texts()["chart_legend_after"]),
    ]
    for index, row in enumerate(rows):
        cy = top + row_h * (index + 0.5)
        shapes.append(_line("chart-grid", plot_left, cy, plot_right, cy))
        label = row.covariate if len(row.covariate) <= 26 else row.covariate[:25] + "…"
        shapes.append(_text("chart-text", plot_left - 8, cy + 4, label, "end"))
    ticks = _ticks(limit)
    for tick in ticks:
        shapes.append(_line("chart-grid", x(tick), top, x(tick), plot_bottom))
        shapes.append(_text("chart-muted", x(tick), plot_bottom + 16, f"{tick:g}", "middle"))
    shapes.append(_line("chart-zero", x(0), top, x(0), plot_bottom))
    for edge in (-threshold, threshold):
        shapes.append(_line("chart-threshold", x(edge), top, x(edge), plot_bottom, dashed=True))
    for index, row in enumerate(rows):
        cy = top + row_h * (index + 0.5)
        for cls, value, when in (
            ("dot-before", row.smd_before, texts()["chart_legend_before"]),
            ("dot-after", row.smd_after, texts()["chart_legend_after"]),
        ):
            if math.isfinite(value):
                tip = f"{row.covariate}, {when}: {value:.3f}"
                shapes.append(Shape("circle", cls, x(value), cy, r=4.5, tooltip=tip))
    shapes.append(
        Shape("rect", "chart-frame", plot_left, top, w=plot_right - plot_left, h=plot_bottom - top)
    )
    shapes.append(
        _text(
            "chart-text",
            (plot_left + plot_right) / 2,
            height - 8,
            texts()["chart_axis_smd"],
            "middle",
            12,
        )
    )
    flagged = sum(1 for r in rows if not abs(r.smd_after) <= threshold)
    desc = texts()["chart_love_desc"].format(
        threshold=f"{threshold:g}", flagged=flagged, total=len(rows)
    )
    return Chart(width, height, texts()["chart_love_title"], desc, tuple(shapes), "chart love-plot")


def _ticks(limit: float) -> list[float]:
    step = 0.1 if limit <= 0.5 else 0.25 if limit <= 1.25 else 0.5 if limit <= 2.5 else 1.0
    count = int(limit / step + 1e-9)
    return [round(step * i, 10) for i in range(-count, count + 1)]


def _shares(values: Sequence[Any]) -> list[float]:
    numbers = [float(v) if v is not None and math.isfinite(float(v)) else 0.0 for v in values]
    total = sum(numbers)
    return [v / total if total > 0 else 0.0 for v in numbers]


def _range_text(edges: Sequence[float], counts: Sequence[Any]) -> str:
    used = [i for i, c in enumerate(counts) if c]
    if not used:
        return texts()["chart_no_data"]
    return f"{edges[used[0]]:.2f} to {edges[used[-1] + 1]:.2f}"


def overlap_plot(overlap: Mapping[str, Any]) -> Chart:
    """Mirrored histograms of the propensity score from ``{"edges", "treated", "control"}``
    (bin edges and per-bin counts or densities; shown as shares of each group)."""
    edges = [float(e) for e in overlap.get("edges", [])]
    treated_raw = list(overlap.get("treated", []))
    control_raw = list(overlap.get("control", []))
    bins = max(len(edges) - 1, 0)
    treated = _shares(treated_raw[:bins])
    control = _shares(control_raw[:bins])
    width, height, left, right, top, bottom = 640.0, 300.0, 56.0, 16.0, 30.0, 44.0
    plot_w, plot_h = width - left - right, height - top - bottom
    middle = top + plot_h / 2
    peak = max([*treated, *control, 0.01])
    lo, hi = (edges[0], edges[-1]) if edges else (0.0, 1.0)
    span = (hi - lo) or 1.0

    def x(value: float) -> float:
        return left + plot_w * (value - lo) / span

    def bar(share: float) -> float:
        return (plot_h / 2) * share / peak

    shapes: list[Shape] = [
        Shape("rect", "bar-treated", left + 4, 8, w=12, h=12),
        _text("chart-text", left + 22, 18, texts()["chart_legend_treated"]),
        Shape("rect", "bar-control", left + 120, 8, w=12, h=12),
        _text("chart-text", left + 138, 18, texts()["chart_legend_control"]),
    ]
    for index in range(bins):
        x0, x1 = x(edges[index]), x(edges[index + 1])
        bin_text = f"{edges[index]:.2f}–{edges[index + 1]:.2f}"
        if treated[index] > 0:
            h = bar(treated[index])
            shapes.append(
                Shape(
                    "rect",
                    "bar-treated",
                    x0,
                    middle - h,
                    w=max(x1 - x0 - 1, 0.5),
                    h=h,
                    tooltip=_bar_tooltip("chart_legend_treated", bin_text, treated[index]),
                )
            )
        if control[index] > 0:
            h = bar(control[index])
            shapes.append(
                Shape(
                    "rect",
                    "bar-control",
                    x0,
                    middle,
                    w=max(x1 - x0 - 1, 0.5),
                    h=h,
                    tooltip=_bar_tooltip("chart_legend_control", bin_text, control[index]),
                )
            )
    for tick in range(6):
        value = lo + span * tick / 5
        shapes.append(
            _text("chart-muted", x(value), height - bottom + 16, f"{value:.1f}", "middle")
        )
    for share in (peak, peak / 2):
        label = f"{100 * share:.0f}%"
        shapes.append(_text("chart-muted", left - 6, middle - bar(share) + 4, label, "end"))
        shapes.append(_text("chart-muted", left - 6, middle + bar(share) + 4, label, "end"))
    shapes.append(_line("chart-zero", left, middle, width - right, middle))
    shapes.append(Shape("rect", "chart-frame", left, top, w=plot_w, h=plot_h))
    shapes.append(
        _text(
            "chart-text",
            left + plot_w / 2,
            height - 8,
            texts()["chart_axis_propensity"],
            "middle",
            12,
        )
    )
    desc = texts()["chart_overlap_desc"].format(
        treated_range=_range_text(edges, treated_raw[:bins]),
        control_range=_range_text(edges, control_raw[:bins]),
    )
    return Chart(
        width, height, texts()["chart_overlap_title"], desc, tuple(shapes), "chart overlap-plot"
    )


def _bar_tooltip(legend_key: str, bin_text: str, share: float) -> str:
    return f"{texts()[legend_key]} {bin_text}: {100 * share:.1f}%"


def to_svg(chart: Chart, *, chart_id: str) -> str:
    """Inline SVG: ``role="img"``, labelled by its ``<title>`` and ``<desc>``; classes and
    presentation attributes only (no ``style`` attribute)."""
    esc = html.escape
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{chart.css_class}" '
        f'viewBox="0 0 {chart.width:.0f} {chart.height:.0f}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">'
        f'<title id="{chart_id}-title">{esc(chart.title)}</title>'
        f'<desc id="{chart_id}-desc">{esc(chart.desc)}</desc>'
    ]
    for shape in chart.shapes:
        fill, stroke = PALETTE.get(shape.cls, ("none", "#000000"))
        paint = f'class="{shape.cls}" fill="{fill}" stroke="{stroke}"'
        tip = f"<title>{esc(shape.tooltip)}</title>" if shape.tooltip else ""
        if shape.kind == "line":
            dash = ' stroke-dasharray="4 3"' if shape.dashed else ""
            parts.append(
                f'<line {paint}{dash} x1="{shape.x:.1f}" y1="{shape.y:.1f}" '
                f'x2="{shape.x2:.1f}" y2="{shape.y2:.1f}"/>'
            )
        elif shape.kind == "circle":
            parts.append(
                f'<circle {paint} stroke-width="1.5" cx="{shape.x:.1f}" cy="{shape.y:.1f}" '
                f'r="{shape.r:.1f}">{tip}</circle>'
            )
        elif shape.kind == "rect":
            parts.append(
                f'<rect {paint} x="{shape.x:.1f}" y="{shape.y:.1f}" width="{shape.w:.1f}" '
                f'height="{shape.h:.1f}">{tip}</rect>'
            )
        elif shape.kind == "text":
            parts.append(
                f'<text class="{shape.cls}" fill="{fill}" x="{shape.x:.1f}" y="{shape.y:.1f}" '
                f'font-size="{shape.size:g}" text-anchor="{shape.anchor}">'
                f"{esc(shape.text)}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def to_drawing(chart: Chart, *, width: float) -> Any:
    """The same chart as a reportlab ``Drawing`` scaled to ``width`` points."""
    from reportlab.graphics.shapes import Circle, Drawing, Group, Line, Rect, String
    from reportlab.lib import colors

    scale = width / chart.width

    def colour(value: str) -> Any:
        return None if value == "none" else colors.HexColor(value)

    group = Group()
    for shape in chart.shapes:
        fill, stroke = PALETTE.get(shape.cls, ("none", "#000000"))
        y = chart.height - shape.y  # reportlab's y grows upwards
        if shape.kind == "line":
            line = Line(shape.x, y, shape.x2, chart.height - shape.y2)
            line.strokeColor = colour(stroke)
            if shape.dashed:
                line.strokeDashArray = [4, 3]
            group.add(line)
        elif shape.kind == "circle":
            group.add(
                Circle(shape.x, y, shape.r, fillColor=colour(fill), strokeColor=colour(stroke))
            )
        elif shape.kind == "rect":
            group.add(
                Rect(
                    shape.x,
                    y - shape.h,
                    shape.w,
                    shape.h,
                    fillColor=colour(fill),
                    strokeColor=colour(stroke),
                )
            )
        elif shape.kind == "text":
            group.add(
                String(
                    shape.x,
                    y,
                    shape.text,
                    fontName="Helvetica",
                    fontSize=shape.size,
                    fillColor=colour(fill),
                    textAnchor=shape.anchor,
                )
            )
    group.scale(scale, scale)
    drawing = Drawing(width, chart.height * scale)
    drawing.add(group)
    return drawing

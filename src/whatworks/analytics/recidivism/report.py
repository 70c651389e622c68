"""Renderings of a :class:`RecidivismResult`: a CSV window table and a self-contained HTML
report (inline CSS, inline SVG Kaplan-Meier chart, no external resources)."""

from __future__ import annotations

import csv
import html
import io
from typing import TYPE_CHECKING, Any

from whatworks.analytics.spreadsheets import safe_cell

if TYPE_CHECKING:
    from whatworks.analytics.recidivism.engine import RecidivismResult

WINDOW_FIELDS = ("years", "eligible", "recidivists", "rate", "ci_low", "ci_high", "suppressed")


def _title(result: RecidivismResult) -> str:
    definition = result.definition
    modified = f" (modified: {', '.join(definition.modified)})" if definition.modified else ""
    return f"{definition.name}, version {definition.version}{modified}"


def render_csv(result: RecidivismResult) -> str:
    """The window table, overall rows first then one row per group and window. The first
    line is a comment (``#``) naming the definition and stating it in one sentence."""
    event_based = result.definition.counting == "event"
    fields = [*WINDOW_FIELDS, *(("events", "events_per_release") if event_based else ())]
    buffer = io.StringIO()
    buffer.write(f"# {_title(result)}: {result.definition.sentence}\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["scope", *result.by, *fields])
    for window in result.windows:
        writer.writerow(["overall", *[""] * len(result.by), *[_cell(window[f]) for f in fields]])
    for group in result.groups:
        # Group values come from the input files (facility names...): never formulas.
        values = [safe_cell(_cell(group["by"][column])) for column in result.by]
        for window in group["windows"]:
            writer.writerow(["group", *values, *[_cell(window[f]) for f in fields]])
    return buffer.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6f}"
    return str(value)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _count(value: int | None) -> str:
    return "suppressed" if value is None else f"{value:,}"


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:60rem;
color:#1b1b1b;line-height:1.45;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.25rem}h2{font-size:1.15rem;margin-top:2rem}
.sentence{font-size:1.05rem;background:#f3f6f9;border-left:4px solid #1d70b8;padding:.6rem .9rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid #d0d7de;padding:.3rem .7rem;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f6f8fa}
.muted{color:#57606a;font-size:.9rem}.supp{color:#8c959f;font-style:italic}
svg{max-width:100%;height:auto}
"""


def _window_rows(windows: list[dict[str, Any]], event_based: bool) -> str:
    rows = []
    for w in windows:
        if w["suppressed"]:
            cells = f'<td colspan="{5 + (1 if event_based else 0)}" class="supp">suppressed</td>'
        else:
            cells = (
                f"<td>{_count(w['eligible'])}</td><td>{_count(w['recidivists'])}</td>"
                f"<td>{_percent(w['rate'])}</td>"
                f"<td>{_percent(w['ci_low'])} – {_percent(w['ci_high'])}</td>"
            )
            if event_based:
                cells += f"<td>{_count(w.get('events'))}</td>"
            cells += "<td></td>"
        rows.append(f"<tr><td>{w['years']} year{'s' if w['years'] != 1 else ''}</td>{cells}</tr>")
    return "\n".join(rows)


def _window_header(first: str, event_based: bool) -> str:
    events = "<th>events</th>" if event_based else ""
    return (
        f"<tr><th>{html.escape(first)}</th><th>eligible releases</th><th>recidivists</th>"
        f"<th>rate</th><th>95% CI (Wilson)</th>{events}<th></th></tr>"
    )


def _svg_chart(curves: list[tuple[str, str, Any]]) -> str:
    """Step curves of survival with their confidence bands, days on the x axis."""
    width, height, left, right, top, bottom = 720, 360, 56, 16, 16, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    max_t = max((c.times[-1] for _, _, c in curves if c.times), default=1.0) or 1.0
    low_values = [min(c.ci_low) for _, _, c in curves if c.ci_low]
    min_s = min([*low_values, 1.0])
    floor = max(0.0, (int(min_s * 10) / 10) - 0.1) if min_s < 1 else 0.0

    def x(t: float) -> float:
        return left + plot_w * t / max_t

    def y(s: float) -> float:
        return top + plot_h * (1 - (s - floor) / (1 - floor or 1))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="Kaplan–Meier curve: share of releases without a counted event by days '
        'since release">'
    ]
    for tick in range(6):
        s = floor + (1 - floor) * tick / 5
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(s):.1f}" y2="{y(s):.1f}" '
            f'stroke="#eaeef2"/><text x="{left - 6}" y="{y(s) + 4:.1f}" font-size="11" '
            f'text-anchor="end">{100 * s:.0f}%</text>'
        )
    for tick in range(6):
        t = max_t * tick / 5
        parts.append(
            f'<text x="{x(t):.1f}" y="{height - bottom + 16}" font-size="11" '
            f'text-anchor="middle">{t:.0f}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{height - 6}" font-size="12" text-anchor="middle">'
        "days since release</text>"
    )
    for label, colour, curve in curves:
        if not curve.times:
            continue
        upper, lower, line = [], [], []
        previous = None
        for t, s, lo, hi in zip(
            curve.times, curve.survival, curve.ci_low, curve.ci_high, strict=True
        ):
            if previous is not None:
                line.append(f"{x(t):.1f},{y(previous[0]):.1f}")
                upper.append(f"{x(t):.1f},{y(previous[2]):.1f}")
                lower.append(f"{x(t):.1f},{y(previous[1]):.1f}")
            line.append(f"{x(t):.1f},{y(s):.1f}")
            upper.append(f"{x(t):.1f},{y(hi):.1f}")
            lower.append(f"{x(t):.1f},{y(lo):.1f}")
            previous = (s, lo, hi)
        band = " ".join(upper + lower[::-1])
        parts.append(f'<polygon points="{band}" fill="{colour}" fill-opacity="0.15"/>')
        parts.append(
            f'<polyline points="{" ".join(line)}" fill="none" stroke="{colour}" '
            f'stroke-width="2"><title>{html.escape(label)}</title></polyline>'
        )
    for index, (label, colour, _) in enumerate(curves):
        ly = top + 14 + 16 * index
        parts.append(
            f'<rect x="{width - right - 260}" y="{ly - 9}" width="12" height="12" '
            f'fill="{colour}"/><text x="{width - right - 242}" y="{ly + 1}" font-size="12">'
            f"{html.escape(label)}</text>"
        )
    parts.append(
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
        'stroke="#8c959f"/></svg>'
    )
    return "".join(parts)


def render_html(
    result: RecidivismResult, variants: dict[str, RecidivismResult] | None = None
) -> str:
    """A self-contained HTML report: definition, window table, breakdowns, the Kaplan-Meier
    chart, excluded counts and, when ``variants`` is given (from
    :func:`measure_technical_violation_variants`), both variants side by side."""
    definition = result.definition
    event_based = definition.counting == "event"
    esc = html.escape
    body = [
        f"<h1>Recidivism: {esc(_title(result))}</h1>",
        f'<p class="sentence">{esc(definition.sentence)}</p>',
        f'<p class="muted">Source: {esc(definition.citation)}</p>',
        "<h2>Rates by follow-up window</h2>",
        "<table>",
        _window_header("window", event_based),
        _window_rows(result.windows, event_based),
        "</table>",
    ]
    if result.suppression is not None:
        rounding = (
            f" Published counts are rounded to the nearest {result.suppression.rounding}."
            if result.suppression.rounding
            else ""
        )
        body.append(
            f'<p class="muted">Counts from 1 to {result.suppression.min_count - 1} are '
            "suppressed, with a second group suppressed when only one in a breakdown would "
            f"be.{rounding} Only releases with complete follow-up enter a window.</p>"
        )
    if variants:
        body.append("<h2>With and without technical violations</h2><table>")
        body.append(
            "<tr><th>window</th><th>with technical violations</th>"
            "<th>without technical violations</th></tr>"
        )
        with_result = variants["with_technical_violations"]
        without_result = variants["without_technical_violations"]
        for w_with, w_without in zip(with_result.windows, without_result.windows, strict=True):
            body.append(
                f"<tr><td>{w_with['years']} years</td>"
                f"<td>{_percent(w_with['rate'])} ({_count(w_with['recidivists'])} of "
                f"{_count(w_with['eligible'])})</td>"
                f"<td>{_percent(w_without['rate'])} ({_count(w_without['recidivists'])} of "
                f"{_count(w_without['eligible'])})</td></tr>"
            )
        body.append("</table>")
    median = result.km.median_days
    curves = [("this definition", "#1d70b8", result.km)]
    if variants:
        curves = [
            ("with technical violations", "#d4351c", variants["with_technical_violations"].km),
            (
                "without technical violations",
                "#1d70b8",
                variants["without_technical_violations"].km,
            ),
        ]
    body += [
        "<h2>Time to first counted event (Kaplan–Meier)</h2>",
        _svg_chart(curves),
        f'<p class="muted">All {result.km.releases:,} counted releases, censored at the end of '
        f"follow-up; shaded: 95% confidence band. Median time to event: "
        f"{'not reached' if median is None else f'{median:.0f} days'}.</p>",
    ]
    for group_column_set in [result.by] if result.by else []:
        body.append(f"<h2>By {esc(', '.join(group_column_set))}</h2><table>")
        body.append(_window_header("group", event_based).replace("<th>group</th>", "<th></th>"))
        for group in result.groups:
            label = ", ".join(f"{k} = {v}" for k, v in group["by"].items())
            body.append(f'<tr><th colspan="{6 + (1 if event_based else 0)}">{esc(label)}</th></tr>')
            body.append(_window_rows(group["windows"], event_based))
        body.append("</table>")
    body.append("<h2>Excluded and not counted</h2><table><tr><th>reason</th><th>count</th></tr>")
    for reason, count in result.excluded.items():
        body.append(f"<tr><td>{esc(reason.replace('_', ' '))}</td><td>{count:,}</td></tr>")
    body.append("</table>")
    settings = definition.settings()
    body.append("<h2>Definition</h2><table>")
    for key, value in [
        ("slug", definition.slug),
        ("version", definition.version),
        *settings.items(),
    ]:
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        body.append(f"<tr><td>{esc(key)}</td><td>{esc(shown)}</td></tr>")
    body.append("</table>")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Recidivism: {esc(definition.name)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )

"""Geometry for the server-side SVG charts (the template only places elements; colours
come from the stylesheet because the content security policy forbids inline styles)."""

from __future__ import annotations

from typing import Any

from whatworks.analytics.instruments import Instrument, score

BAR_WIDTH = 320
BAR_HEIGHT = 22
LABEL_WIDTH = 280
HISTORY_WIDTH, HISTORY_HEIGHT = 560, 220
HISTORY_LEFT, HISTORY_RIGHT, HISTORY_TOP, HISTORY_BOTTOM = 44, 16, 12, 32


def _max_answer(item) -> Any:
    if item.type == "single_choice":
        return max(range(len(item.options)), key=lambda i: item.options[i].score)
    if item.type == "multiple_choice":
        return [i for i, option in enumerate(item.options) if option.score > 0]
    if item.type == "yes_no":
        return item.yes_score >= item.no_score
    if item.type == "number":
        return item.max
    return None


def maximum_scores(instrument: Instrument) -> tuple[dict[str, float | None], float | None]:
    """Highest possible score per domain, and the highest total (``None`` if unbounded)."""
    answers = {item.id: _max_answer(item) for item in instrument.items if item.scored}
    result = score(instrument, answers, require_complete=False)
    return {**result.domains, **result.strengths}, result.total


def needs_chart(instrument: Instrument, assessment, language: str) -> dict | None:
    """One horizontal bar per risk domain, with the need threshold marked."""
    maxima, _total = maximum_scores(instrument)
    bars = []
    for position, domain in enumerate(d for d in instrument.domains if d.kind == "risk"):
        value = assessment.domain_scores.get(domain.id)
        top = maxima.get(domain.id) or 0
        if value is None or not top:
            continue
        need = assessment.needs.get(domain.id) or {}
        threshold = domain.need_threshold
        y = 4 + position * (BAR_HEIGHT + 8)
        bars.append(
            {
                "label": instrument.text(domain, language),
                "value": value,
                "maximum": top,
                "y": y,
                "text_y": y + BAR_HEIGHT / 2,
                "x": LABEL_WIDTH,
                "width": round(BAR_WIDTH * min(value / top, 1), 1),
                "is_need": bool(need.get("is_need")),
                "threshold_x": round(LABEL_WIDTH + BAR_WIDTH * min(threshold / top, 1), 1)
                if threshold is not None
                else None,
                "value_x": LABEL_WIDTH + BAR_WIDTH + 8,
            }
        )
    if not bars:
        return None
    return {
        "bars": bars,
        "width": LABEL_WIDTH + BAR_WIDTH + 70,
        "height": len(bars) * (BAR_HEIGHT + 8) + 4,
        "bar_height": BAR_HEIGHT,
        "axis_x": LABEL_WIDTH,
        "has_thresholds": any(bar["threshold_x"] is not None for bar in bars),
    }


def history_chart(instrument: Instrument, assessments: list) -> dict | None:
    """The total of each completed assessment over time (oldest to newest)."""
    points = [a for a in sorted(assessments, key=lambda a: (a.assessed_on, a.pk))]
    if not points:
        return None
    _maxima, top = maximum_scores(instrument)
    top = top or max(a.total for a in points) or 1
    first, last = points[0].assessed_on, points[-1].assessed_on
    span = max((last - first).days, 1)
    left, right = HISTORY_LEFT, HISTORY_WIDTH - HISTORY_RIGHT
    baseline = HISTORY_HEIGHT - HISTORY_BOTTOM

    def x(day) -> float:
        if len(points) == 1:
            return round((left + right) / 2, 1)
        return round(left + (right - left) * (day - first).days / span, 1)

    def y(value: float) -> float:
        return round(baseline - (baseline - HISTORY_TOP) * min(value / top, 1), 1)

    placed = [
        {"x": x(a.assessed_on), "y": y(a.total), "total": a.total, "date": a.assessed_on}
        for a in points
    ]
    return {
        "width": HISTORY_WIDTH,
        "height": HISTORY_HEIGHT,
        "left": left,
        "right": right,
        "top": HISTORY_TOP,
        "baseline": baseline,
        "points": placed,
        "line": " ".join(f"{p['x']},{p['y']}" for p in placed),
        "y_ticks": [
            {"label": f"{round(top * share):g}", "position": y(top * share)}
            for share in (0, 0.5, 1)
        ],
        "first": first,
        "last": last,
    }

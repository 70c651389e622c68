"""The model card of a fitted risk instrument: one self-contained HTML page.

Sections: data and period, outcome definition, intended use and limits, items and points,
bands, validation metrics overall (AUC with interval, Brier, expected calibration error,
calibration by band and by score, calibration curve, band shares), benchmarks, metrics by
group and the fairness audit. One ``<style>`` element, an inline SVG chart, no scripts and
no external assets, so the page reads the same offline and printed.

See docs/riskmodel.md, section "Model card". Pure Python; never imports Django.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from whatworks.analytics.riskmodel.metrics import wilson_interval

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #111; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; border-bottom: 1px solid #999; margin-top: 2rem; }
h3 { font-size: 1.05rem; margin-top: 1.2rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #bbb; padding: .2rem .5rem; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #555; font-size: .9rem; }
.flag { font-weight: bold; }
.warn { border-left: 4px solid #b35900; padding-left: .6rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dt { font-weight: bold; }
dd { margin: 0; }
svg { max-width: 22rem; height: auto; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { break-after: avoid; }
  table, svg, .keep { break-inside: avoid; }
}
"""

NOT_GIVEN = "not given"


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return _e(value)


def _pct(value: Any) -> str:
    return "–" if value is None else f"{100 * float(value):.1f}%"


def _estimate(value: Any) -> str:
    """An Estimate dict as "0.712 (95% 0.680 to 0.744, DeLong)", a float as itself."""
    if isinstance(value, dict) and "value" in value:
        level = value.get("level", 0.95)
        method = f", {_e(value['method'])}" if value.get("method") else ""
        if value.get("low") is None or value.get("high") is None:
            return _num(value["value"])
        return (
            f"{_num(value['value'])} ({round(100 * float(level))}% {_num(value['low'])} "
            f"to {_num(value['high'])}{method})"
        )
    if value is None:
        return "–"
    return _num(value)


def _table(headers: list[str], rows: Iterable[list[str]], numeric: Iterable[int] = ()) -> str:
    """Cells are already-escaped HTML; ``numeric`` are the column indexes to right-align."""
    nums = set(numeric)
    head = "".join(
        f'<th class="num">{h}</th>' if i in nums else f"<th>{h}</th>" for i, h in enumerate(headers)
    )
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{c}</td>' if i in nums else f"<td>{c}</td>" for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    if not body:
        return '<p class="muted">No rows.</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _paragraph(value: Any) -> str:
    return f"<p>{_e(value)}</p>" if value else f'<p class="muted">{NOT_GIVEN}</p>'


# -- sections -------------------------------------------------------------------------------


def _data_section(card: dict[str, Any]) -> str:
    data = card.get("data") or {}
    n, events = data.get("n"), data.get("events")
    rate = _pct(events / n) if isinstance(n, int) and isinstance(events, int) and n else "–"
    return (
        "<h2>Data and period</h2><dl>"
        f"<dt>Data</dt><dd>{_e(data.get('description') or NOT_GIVEN)}</dd>"
        f"<dt>Period</dt><dd>{_e(data.get('period') or NOT_GIVEN)}</dd>"
        f"<dt>People</dt><dd>{_num(n)}</dd>"
        f"<dt>With the outcome</dt><dd>{_num(events)} ({rate})</dd></dl>"
        "<h2>Outcome</h2>" + _paragraph(card.get("outcome_definition"))
    )


def _use_section(card: dict[str, Any]) -> str:
    limits = [str(x) for x in card.get("limits") or []]
    items = "".join(f"<li>{_e(x)}</li>" for x in limits)
    return (
        "<h2>Intended use</h2>"
        + _paragraph(card.get("intended_use"))
        + "<h2>Limits</h2>"
        + (f"<ul>{items}</ul>" if items else f'<p class="muted">{NOT_GIVEN}</p>')
    )


def _items_section(card: dict[str, Any]) -> str:
    rows = []
    for item in card.get("items") or []:
        levels = item.get("points") or item.get("levels") or []
        label = item.get("label") or item.get("feature") or ""
        for i, level in enumerate(levels):
            rows.append(
                [
                    f"<strong>{_e(label)}</strong>" if i == 0 else "",
                    _e(level.get("condition")),
                    _num(level.get("points")),
                ]
            )
    out = "<h2>Items and points</h2>"
    out += '<p class="muted">Add the points of every item; the total falls in one band.</p>'
    out += _table(["Item", "Condition", "Points"], rows, numeric=[2])
    bands = card.get("bands") or []
    if bands:
        out += "<h3>Bands</h3>" + _table(
            ["Band", "Label", "Total from", "Total to", "Observed rate"],
            (
                [
                    _e(b.get("code")),
                    _e(b.get("label")),
                    _num(b.get("min")),
                    _num(b.get("max")),
                    _pct(b.get("observed_rate")),
                ]
                for b in bands
            ),
            numeric=[2, 3, 4],
        )
    return out


def _calibration_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    """Rows of ``calibration_table``; rows keyed by ``total`` without intervals (as the fit's
    ``calibration_by_total``) get their Wilson interval here."""
    out = []
    for r in rows:
        low, high = r.get("observed_low"), r.get("observed_high")
        n, events = r.get("n"), r.get("events")
        if (low is None or high is None) and isinstance(n, int) and isinstance(events, int) and n:
            low, high = wilson_interval(events, n)
        out.append(
            [
                _e(r.get("group", r.get("total"))),
                _num(n),
                _num(events),
                _pct(r.get("observed")),
                f"{_pct(low)} to {_pct(high)}",
                _pct(r.get("predicted")),
            ]
        )
    return out


CALIBRATION_HEADERS = ["", "People", "Events", "Observed", "Observed 95% (Wilson)", "Predicted"]


def _calibration_svg(curve: list[dict[str, Any]]) -> str:
    """Observed against mean predicted per probability bin, with the diagonal."""
    size, pad = 250, 38
    inner = size - 2 * pad

    def xy(p: float, o: float) -> tuple[float, float]:
        return pad + p * inner, size - pad - o * inner

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" role="img" '
        'aria-label="Calibration curve: observed rate against predicted probability">',
        f'<rect x="{pad}" y="{pad}" width="{inner}" height="{inner}" fill="none" stroke="#999"/>',
        f'<line x1="{pad}" y1="{size - pad}" x2="{size - pad}" y2="{pad}" stroke="#999" '
        'stroke-dasharray="4 3"/>',
    ]
    points = [
        xy(float(r["predicted"]), float(r["observed"]))
        for r in curve
        if r.get("predicted") is not None and r.get("observed") is not None
    ]
    if points:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#1f4e79"/>')
        for (x, y), r in zip(points, curve, strict=False):
            radius = 2 + min(4.0, (int(r.get("n") or 0)) ** 0.5 / 5)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="#1f4e79"/>')
    for tick in (0, 0.5, 1):
        x, y = xy(tick, tick)
        parts.append(
            f'<text x="{x:.1f}" y="{size - pad + 14}" font-size="10" '
            f'text-anchor="middle">{tick:g}</text>'
        )
        parts.append(
            f'<text x="{pad - 6}" y="{y + 3:.1f}" font-size="10" text-anchor="end">{tick:g}</text>'
        )
    parts.append(
        f'<text x="{size / 2}" y="{size - 4}" font-size="10" text-anchor="middle">predicted</text>'
    )
    parts.append(
        f'<text x="12" y="{size / 2}" font-size="10" text-anchor="middle" '
        f'transform="rotate(-90 12 {size / 2})">observed</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _metrics_section(metrics: dict[str, Any]) -> str:
    out = ["<h2>Validation metrics</h2>"]
    if metrics.get("out_of_fold"):
        out.append(
            f'<p class="muted">Out-of-fold: each person scored by a model fitted without them '
            f"({_num(metrics.get('folds'))} folds, seed {_num(metrics.get('seed'))}).</p>"
        )
    out.append("<dl>")
    out.append(f"<dt>People</dt><dd>{_num(metrics.get('n'))}</dd>")
    out.append(f"<dt>Events</dt><dd>{_num(metrics.get('events'))}</dd>")
    out.append(f"<dt>AUC</dt><dd>{_estimate(metrics.get('auc'))}</dd>")
    if "brier" in metrics:
        out.append(f"<dt>Brier score</dt><dd>{_num(metrics.get('brier'), 4)}</dd>")
    if "ece" in metrics:
        out.append(
            f"<dt>Expected calibration error</dt><dd>{_num(metrics.get('ece'), 4)} "
            '<span class="muted">(equal-width bins, weighted by size)</span></dd>'
        )
    out.append("</dl>")
    if metrics.get("calibration_by_band"):
        out.append("<h3>Calibration by band</h3>")
        headers = ["Band", *CALIBRATION_HEADERS[1:]]
        out.append(_table(headers, _calibration_rows(metrics["calibration_by_band"]), range(1, 6)))
    if metrics.get("band_shares"):
        out.append("<h3>Band shares</h3>")
        out.append(
            _table(
                ["Band", "People", "Share"],
                (
                    [_e(r.get("band")), _num(r.get("n")), _pct(r.get("share"))]
                    for r in metrics["band_shares"]
                ),
                numeric=[1, 2],
            )
        )
    by_score = metrics.get("calibration_by_total") or metrics.get("calibration_by_score")
    if by_score:
        out.append("<h3>Calibration by score</h3>")
        headers = ["Score", *CALIBRATION_HEADERS[1:]]
        out.append(_table(headers, _calibration_rows(by_score), range(1, 6)))
    if metrics.get("calibration_curve"):
        curve = metrics["calibration_curve"]
        out.append('<h3>Calibration curve</h3><div class="keep">')
        out.append(_calibration_svg(curve))
        out.append(
            _table(
                ["Predicted (mean)", "Observed", "People"],
                (
                    [_pct(r.get("predicted")), _pct(r.get("observed")), _num(r.get("n"))]
                    for r in curve
                ),
                numeric=[0, 1, 2],
            )
        )
        out.append("</div>")
    return "".join(out)


def _benchmarks_section(benchmarks: dict[str, Any]) -> str:
    if not benchmarks:
        return ""
    names = {
        "point_score_auc": "Point score",
        "logistic_auc": "Logistic regression",
        "logistic_linear_auc": "Logistic regression (linear terms)",
        "gradient_boosting_auc": "Gradient boosting",
    }
    rows = [
        [_e(names.get(key, key.removesuffix("_auc").replace("_", " "))), _estimate(value)]
        for key, value in benchmarks.items()
        if key.endswith("_auc")
    ]
    out = "<h2>Benchmarks</h2>"
    out += (
        '<p class="muted">The simple point score against richer models on the same data; '
        "a small difference means little is lost by keeping the score simple.</p>"
    )
    out += _table(["Model", "AUC"], rows)
    if benchmarks.get("note"):
        out += f'<p class="muted">{_e(benchmarks["note"])}</p>'
    return out


def _by_group_section(metrics: dict[str, Any]) -> str:
    by_group = metrics.get("by_group") or {}
    if not by_group:
        return ""
    out = ["<h2>Metrics by group</h2>"]
    min_size = metrics.get("min_group_size")
    if min_size:
        out.append(
            f'<p class="muted">Groups with fewer than {_num(min_size)} people are suppressed.</p>'
        )
    for column, groups in by_group.items():
        out.append(f"<h3>{_e(column)}</h3>")
        out.append(_group_table(groups))
    return "".join(out)


def _group_table(groups: dict[str, Any]) -> str:
    rows = []
    for value, m in groups.items():
        if m.get("suppressed"):
            rows.append([_e(value), _num(m.get("n")), "suppressed", "", "", ""])
            continue
        n, events = m.get("n"), m.get("events")
        rate = _pct(events / n) if n and events is not None else "–"
        auc = _estimate(m.get("auc")) if m.get("auc") else _e(m.get("auc_note") or "–")
        rows.append(
            [
                _e(value),
                _num(n),
                f"{_num(events)} ({rate})",
                auc,
                _num(m.get("brier"), 4),
                _num(m.get("ece"), 4),
            ]
        )
    return _table(["Group", "People", "Events", "AUC", "Brier", "ECE"], rows, numeric=[1, 2, 4, 5])


def _fairness_section(fairness: dict[str, Any] | None) -> str:
    out = ["<h2>Fairness</h2>"]
    if not fairness:
        out.append(
            '<p class="warn">No fairness audit was run: no group column (sex, age band, '
            "ethnicity) was given. Run one before use.</p>"
        )
        return "".join(out)
    for column, entry in fairness.items():
        out.append(f"<h3>By {_e(column)}</h3>")
        notes = entry.get("notes") or []
        if notes:
            out.append('<div class="warn">' + "".join(f"<p>{_e(n)}</p>" for n in notes) + "</div>")
        if entry.get("by_group"):
            out.append(_group_table(entry["by_group"]))
        rows = [
            [
                _num(r.get("threshold"), 2),
                _e(r.get("group")),
                _num(r.get("n")),
                "suppressed" if r.get("suppressed") else _pct(r.get("selection_rate")),
                _pct(r.get("fpr")),
                _pct(r.get("fnr")),
                _pct(r.get("ppv")),
            ]
            for r in entry.get("thresholds") or []
        ]
        if rows:
            out.append(
                '<p class="muted">At each band threshold a person counts as flagged when the '
                "score is at or above it. False-positive rate: flagged among those without the "
                "outcome; false-negative rate: not flagged among those with it; positive "
                "predictive value: with the outcome among those flagged.</p>"
            )
            out.append(
                _table(
                    ["Threshold", "Group", "People", "Flagged", "FPR", "FNR", "PPV"],
                    rows,
                    numeric=[0, 2, 3, 4, 5, 6],
                )
            )
        gaps = entry.get("gaps") or {}
        if gaps:
            labels = {
                "fpr_max_gap": "False-positive rate",
                "fnr_max_gap": "False-negative rate",
                "ppv_max_gap": "Positive predictive value",
                "selection_rate_max_gap": "Share flagged",
                "auc_max_gap": "AUC",
            }
            out.append(
                _table(
                    ["Largest gap between groups", "Difference"],
                    ([_e(labels.get(k, k)), _num(v)] for k, v in gaps.items()),
                    numeric=[1],
                )
            )
        proxies = entry.get("proxies") or []
        if proxies:
            out.append(
                f'<p class="muted">How well each feature alone predicts {_e(column)} '
                "(cross-validated AUC; 0.5 = not at all, 1 = perfectly).</p>"
            )
            out.append(
                _table(
                    ["Feature", "Strength", "Strong proxy"],
                    (
                        [
                            _e(p.get("feature")),
                            _num(p.get("strength")),
                            '<span class="flag">yes</span>' if p.get("flagged") else "no",
                        ]
                        for p in proxies
                    ),
                    numeric=[1],
                )
            )
    return "".join(out)


def model_card_html(card: dict[str, Any]) -> str:
    """A self-contained HTML model card (see the module docstring for the sections).

    ``card`` keys (all optional except that a card without ``metrics`` says so): title,
    data {description, period, n, events}, outcome_definition, intended_use, limits,
    items [{label, points: [{condition, points}]}], bands [{code, label, min, max,
    observed_rate}], metrics (``validation_report`` output), benchmarks, fairness
    (``fairness_report`` output or None), generated_by, seed. Every value is escaped.
    """
    if not isinstance(card, dict):
        raise TypeError("model_card_html expects a dict")
    title = str(card.get("title") or "Risk instrument")
    metrics = card.get("metrics") or {}
    footer = []
    if card.get("generated_by"):
        footer.append(f"Generated by {_e(card['generated_by'])}")
    if card.get("seed") is not None:
        footer.append(f"seed {_e(card['seed'])}")
    body = [
        f"<h1>Model card: {_e(title)}</h1>",
        '<p class="muted">' + ", ".join(footer) + "</p>" if footer else "",
        _data_section(card),
        _use_section(card),
        _items_section(card),
        _metrics_section(metrics)
        if metrics
        else '<h2>Validation metrics</h2><p class="warn">No validation metrics given.</p>',
        _benchmarks_section(card.get("benchmarks") or {}),
        _by_group_section(metrics),
        _fairness_section(card.get("fairness")),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Model card: {_e(title)}</title><style>{STYLE}</style></head><body>"
        + "".join(body)
        + "</body></html>\n"
    )

"""Reports of an :class:`EvaluationResult`: a standalone HTML page, the same body as an HTML
fragment for the web app, and a PDF (reportlab).

The report is built once as a list of sections of plain blocks (paragraphs, lists, tables,
charts) and rendered to HTML or PDF, so both say the same thing. Every sentence a reader sees
is a module-level template (``TEXT``), in English, so that it can be translated in one place.

The HTML body uses class names only: no ``style`` attribute and no script, so the fragment
can be embedded under a strict Content-Security-Policy. The standalone page adds one
``<style>`` block (``CSS``) in its head; the app serves the same rules from its stylesheet.
"""

from __future__ import annotations

import dataclasses
import html
import io
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from whatworks.analytics.evaluation import charts
from whatworks.analytics.evaluation.result import BALANCE_THRESHOLD, EvaluationResult
from whatworks.analytics.evaluation.text import TEXT as TEXT  # re-exported
from whatworks.analytics.evaluation.text import texts

if TYPE_CHECKING:
    from whatworks.analytics.evaluation.costbenefit import CostBenefitResult

MINUS = "−"


# ---------------------------------------------------------------------------------------------
# Blocks: what the report says, independent of HTML or PDF.


@dataclasses.dataclass(frozen=True)
class Block:
    """``kind``: paragraph (``text``), list (``items``), table (``header``, ``rows``) or
    chart (``chart``); ``role`` becomes the HTML class and picks the PDF style."""

    kind: str
    text: str = ""
    items: tuple[str, ...] = ()
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    chart: charts.Chart | None = None
    role: str = ""
    flagged_rows: tuple[int, ...] = ()


@dataclasses.dataclass(frozen=True)
class Section:
    key: str
    heading: str
    blocks: tuple[Block, ...]


def _p(text: str, role: str = "") -> Block:
    return Block("paragraph", text=text, role=role)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], role: str = "", flagged=()):
    return Block(
        "table",
        header=tuple(header),
        rows=tuple(tuple(r) for r in rows),
        role=role,
        flagged_rows=tuple(flagged),
    )


# ---------------------------------------------------------------------------------------------
# Numbers in words.


def _minus(text: str) -> str:
    return text.replace("-", MINUS)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _percent(value: float | None) -> str:
    return texts()["not_reported"] if not _finite(value) else _minus(f"{100 * value:.1f}%")


def _points(value: float) -> str:
    return _minus(f"{100 * value + 0.0:.1f}").replace(f"{MINUS}0.0", "0.0")


def _smd(value: float) -> str:
    text = _minus(f"{value:.3f}")
    return "0.000" if text == f"{MINUS}0.000" else text


def _plain(value: float) -> str:
    size = abs(value)
    digits = 0 if size >= 100 else 1 if size >= 10 else 2 if size >= 0.1 else 3
    return _minus(f"{value:,.{digits}f}")


def _ratio(value: float) -> str:
    return f"{value:.2f}"


def _effect(result: EvaluationResult, value: float) -> str:
    """The effect on its scale, for a table or a sentence."""
    if result.effect_measure == "risk_difference":
        return texts()["points"].format(value=_points(value))
    if result.effect_measure == "hazard_ratio":
        return _ratio(value)
    return _plain(value)


def _value(result: EvaluationResult, value: float | None) -> str:
    """An outcome level: a share for binary and time-to-event outcomes, a mean otherwise."""
    if not _finite(value):
        return texts()["not_reported"]
    return _plain(value) if result.outcome_type == "continuous" else _percent(value)


def _money(value: float | None, currency: str) -> str:
    return texts()["not_reported"] if not _finite(value) else _minus(f"{currency} {value:,.0f}")


def _null(result: EvaluationResult) -> float:
    return 1.0 if result.effect_measure == "hazard_ratio" else 0.0


def ci_includes_null(result: EvaluationResult) -> bool:
    null = _null(result)
    return result.ci_low <= null <= result.ci_high


# ---------------------------------------------------------------------------------------------
# Labels.


def _labels(result: EvaluationResult) -> dict[str, str]:
    spec = result.spec
    column = spec.outcome or spec.event or spec.duration or ""
    treatment = spec.treatment_label or texts()["no_label_treatment"].format(column=spec.treatment)
    label = spec.outcome_label
    return {
        "treatment": treatment,
        "outcome_past": (
            texts()["label_outcome_past"].format(label=label)
            if label
            else texts()["no_label_outcome_past"].format(column=column)
        ),
        "outcome_would": (
            texts()["label_outcome_would"].format(label=label)
            if label
            else texts()["no_label_outcome_would"].format(column=column)
        ),
        "outcome_bare": label or texts()["no_label_outcome_bare"].format(column=column),
        "outcome_noun": label or column,
        "event_past": label or texts()["no_label_event_past"].format(column=column),
        "treatment_short": spec.treatment_label or spec.treatment,
        "outcome_short": label or column,
    }


# ---------------------------------------------------------------------------------------------
# Sentences.


def survival_rows(result: EvaluationResult) -> list[dict[str, float | None]]:
    """``result.survival`` as rows ``{"horizon", "treated", "control", "difference"}``.

    Accepts the shapes an estimator may reasonably return: parallel lists (``horizons``,
    ``treated``, ``control``), a list of row mappings (under ``rows`` or ``horizons``) or a
    mapping from horizon to ``{"treated", "control"}``. Falls back on ``treated_value`` and
    ``control_value`` at the first of ``spec.horizons``."""
    survival = result.survival or {}
    rows: list[dict[str, Any]] = []
    horizons = survival.get("horizons")
    if isinstance(horizons, Sequence) and horizons and isinstance(horizons[0], Mapping):
        rows = [dict(r) for r in horizons]
    elif isinstance(survival.get("rows"), Sequence):
        rows = [dict(r) for r in survival["rows"]]
    elif isinstance(horizons, Sequence) and horizons:
        treated = list(survival.get("treated") or [None] * len(horizons))
        control = list(survival.get("control") or [None] * len(horizons))
        difference = list(survival.get("difference") or [None] * len(horizons))
        rows = [
            {"horizon": h, "treated": t, "control": c, "difference": d}
            for h, t, c, d in zip(horizons, treated, control, difference, strict=False)
        ]
    else:
        for key, value in survival.items():
            if isinstance(value, Mapping):
                try:
                    horizon = float(key)
                except (TypeError, ValueError):
                    continue
                rows.append({"horizon": horizon, **value})
    normalised = []
    for row in rows:
        horizon = row.get("horizon", row.get("days"))
        treated = row.get("treated", row.get("survival_treated"))
        control = row.get("control", row.get("survival_control"))
        difference = row.get("difference")
        if difference is None and _finite(treated) and _finite(control):
            difference = treated - control
        normalised.append(
            {"horizon": horizon, "treated": treated, "control": control, "difference": difference}
        )
    if not normalised and result.spec.horizons and _finite(result.treated_value):
        treated, control = result.treated_value, result.control_value
        normalised.append(
            {
                "horizon": result.spec.horizons[0],
                "treated": treated,
                "control": control,
                "difference": treated - control if _finite(control) else None,
            }
        )
    return normalised


def summary_sentences(result: EvaluationResult, *, time_unit: str = "days") -> list[str]:
    """The plain-language summary: the effect in words, then whether the CI includes no
    difference."""
    labels = _labels(result)
    estimand = result.spec.estimand
    has_values = _finite(result.treated_value) and _finite(result.control_value)
    sentences: list[str] = []
    if result.outcome_type == "time_to_event":
        sentences.append(
            texts()[f"summary_tte_{estimand}"].format(
                treatment=labels["treatment"],
                estimate=_ratio(result.estimate),
                low=_ratio(result.ci_low),
                high=_ratio(result.ci_high),
            )
        )
        rows = survival_rows(result)
        if rows and _finite(rows[0]["treated"]) and _finite(rows[0]["control"]):
            sentences.append(
                texts()[f"summary_tte_horizon_{estimand}"].format(
                    horizon=f"{float(rows[0]['horizon']):g}",
                    treated=_percent(rows[0]["treated"]),
                    control=_percent(rows[0]["control"]),
                    event_past=labels["event_past"],
                    unit=time_unit,
                )
            )
    else:
        kind = "binary" if result.outcome_type == "binary" else "continuous"
        fmt = _points if kind == "binary" else _plain
        values = {
            "treated": _value(result, result.treated_value),
            "control": _value(result, result.control_value),
            "difference": fmt(result.estimate),
            "low": fmt(result.ci_low),
            "high": fmt(result.ci_high),
            "comparison": texts()[f"comparison_{estimand}"],
            **labels,
        }
        key = f"summary_{kind}_{estimand}" if has_values else f"summary_{kind}_no_values"
        sentences.append(texts()[key].format(**values))
    null = (
        texts()["null_ratio"]
        if result.effect_measure == "hazard_ratio"
        else texts()["null_difference"]
    )
    key = "ci_includes_null" if ci_includes_null(result) else "ci_excludes_null"
    sentences.append(texts()[key].format(null=null))
    return sentences


def naive_sentences(result: EvaluationResult) -> list[str]:
    """The unadjusted comparison beside the adjusted one, and what adjustment changed."""
    naive = result.naive.get("estimate") if result.naive else None
    if not _finite(naive):
        return [texts()["naive_missing"]]
    sentences = [
        texts()["naive_sentence"].format(
            naive=_effect(result, naive), adjusted=_effect(result, result.estimate)
        )
    ]
    ratio = result.effect_measure == "hazard_ratio"
    to_scale = math.log if ratio else (lambda v: v)
    if ratio and not (naive > 0 and result.estimate > 0):
        return sentences
    adjusted_s, naive_s = to_scale(result.estimate), to_scale(naive)
    if result.outcome_type == "continuous":
        kind = texts()["kind_difference"]
    else:  # a lower rate of reoffending is the benefit
        kind = texts()["kind_benefit"] if adjusted_s < 0 else texts()["kind_harm"]
    if ratio:
        amount = f"{abs(naive - result.estimate):.2f} on the hazard-ratio scale"
    elif result.effect_measure == "risk_difference":
        amount = texts()["points"].format(value=_points(abs(naive - result.estimate)))
    else:
        amount = _plain(abs(naive - result.estimate))
    scale = max(abs(adjusted_s), abs(naive_s), 1e-12)
    if abs(naive_s - adjusted_s) <= 0.05 * scale:
        sentences.append(texts()["naive_same"])
    elif naive_s * adjusted_s < 0:
        sentences.append(texts()["naive_reverses"])
    elif abs(naive_s) > abs(adjusted_s):
        sentences.append(texts()["naive_overstates"].format(kind=kind, amount=amount))
    else:
        sentences.append(texts()["naive_understates"].format(kind=kind, amount=amount))
    return sentences


def evalue_sentence(result: EvaluationResult) -> str:
    evalue = result.evalue or {}
    point = evalue.get("point")
    if not _finite(point):
        return texts()["evalue_missing"]
    ci = evalue.get("ci")
    labels = _labels(result)
    ci_part = (
        texts()["evalue_ci_part"].format(ci=f"{ci:.2f}")
        if _finite(ci) and ci > 1
        else texts()["evalue_ci_null"]
    )
    return texts()["evalue_sentence"].format(
        treatment=labels["treatment_short"],
        outcome=labels["outcome_short"],
        point=f"{point:.2f}",
        ci_part=ci_part,
    )


def placebo_sentences(result: EvaluationResult) -> list[str]:
    placebo = result.placebo
    if not placebo or not _finite(placebo.get("estimate")):
        return []
    low, high = placebo.get("ci_low"), placebo.get("ci_high")
    outcome = placebo.get("outcome") or result.spec.placebo_outcome or "the placebo outcome"
    fmt = _plain
    if _finite(low) and _finite(high):
        sentences = [
            texts()["placebo_sentence"].format(
                outcome=outcome, estimate=fmt(placebo["estimate"]), low=fmt(low), high=fmt(high)
            )
        ]
        sentences.append(texts()["placebo_ok"] if low <= 0 <= high else texts()["placebo_flag"])
        return sentences
    return [
        texts()["placebo_sentence"].format(
            outcome=outcome, estimate=fmt(placebo["estimate"]), low="–", high="–"
        )
    ]


# ---------------------------------------------------------------------------------------------
# Sections.


def _ci_method_text(result: EvaluationResult) -> str:
    if result.ci_method == "bootstrap":
        return texts()["ci_method_bootstrap"].format(
            reps=result.spec.bootstrap_reps, seed=result.spec.seed
        )
    return texts().get(f"ci_method_{result.ci_method}", result.ci_method)


def _method_text(result: EvaluationResult) -> list[str]:
    spec = result.spec
    if spec.method == "psm":
        caliper = texts()["caliper"].format(caliper=f"{spec.caliper:g}") if spec.caliper else ""
        replacement = texts()["with_replacement" if spec.replacement else "without_replacement"]
        sentences = [texts()["method_psm"].format(caliper=caliper, replacement=replacement)]
    else:
        sentences = [texts()[f"method_{spec.method}"]]
    if spec.trim:
        sentences.append(texts()["trim"].format(trim=f"{spec.trim:g}", upper=f"{1 - spec.trim:g}"))
    return sentences


def _estimate_section(result: EvaluationResult) -> Section:
    naive = result.naive.get("estimate") if result.naive else None
    rows = [
        (texts()["row_effect_measure"], texts()[f"measure_{result.effect_measure}"]),
        (texts()["row_estimate"], _effect(result, result.estimate)),
        (
            texts()["row_ci"],
            f"{_effect(result, result.ci_low)} to {_effect(result, result.ci_high)}",
        ),
        (texts()["row_ci_method"], _ci_method_text(result)),
        (texts()["row_treated_value"], _value(result, result.treated_value)),
        (texts()["row_control_value"], _value(result, result.control_value)),
        (
            texts()["row_naive"],
            _effect(result, naive) if _finite(naive) else texts()["not_reported"],
        ),
    ]
    return Section(
        "estimate", texts()["heading_estimate"], (_table(("", ""), rows, role="key-table"),)
    )


def _cohort_section(
    result: EvaluationResult, definition_text: str | None, cohort_text: str | None
) -> Section:
    blocks = [_p(text) for text in (definition_text, cohort_text) if text]
    blocks.append(_p(texts()[f"estimand_{result.spec.estimand}"]))
    blocks += [_p(text) for text in _method_text(result)]
    rows = [
        (texts()["row_treated"], f"{result.n_treated:,}"),
        (texts()["row_control"], f"{result.n_control:,}"),
        (texts()["row_dropped"], f"{result.n_dropped_missing:,}"),
        (texts()["row_unmatched"], f"{result.n_unmatched:,}"),
        (texts()["row_trimmed"], f"{result.n_trimmed:,}"),
        (texts()["row_ess_treated"], f"{result.ess_treated:,.1f}"),
        (texts()["row_ess_control"], f"{result.ess_control:,.1f}"),
    ]
    blocks.append(_table(("", ""), rows, role="counts-table"))
    blocks.append(_p(texts()["ess_note"], "muted"))
    return Section("definition", texts()["heading_definition"], tuple(blocks))


def _assumptions_section(result: EvaluationResult) -> Section:
    covariates = ", ".join(result.spec.covariates) or texts()["not_reported"]
    items = (
        texts()["assumption_confounding"].format(covariates=covariates),
        texts()["assumption_overlap"],
        texts()["assumption_consistency"],
        texts()["assumption_interference"],
    )
    return Section(
        "assumptions",
        texts()["heading_assumptions"],
        (
            _p(texts()["assumptions_intro"]),
            Block("list", items=items),
            _p(texts()["assumption_limits"]),
        ),
    )


def _balance_section(result: EvaluationResult) -> Section:
    threshold = BALANCE_THRESHOLD
    if not result.balance:
        return Section("balance", texts()["heading_balance"], (_p(texts()["balance_empty"]),))
    rows, flagged, names = [], [], []
    for index, row in enumerate(result.balance):
        bad = not abs(row.smd_after) <= threshold
        if bad:
            flagged.append(index)
            names.append(row.covariate)
        rows.append(
            (
                row.covariate,
                _smd(row.smd_before),
                _smd(row.smd_after),
                texts()["balance_flag"].format(threshold=f"{threshold:g}")
                if bad
                else texts()["balance_ok"],
            )
        )
    summary = (
        texts()["balance_summary_flagged"].format(
            count=len(names), total=len(rows), threshold=f"{threshold:g}", names=", ".join(names)
        )
        if names
        else texts()["balance_summary_ok"].format(threshold=f"{threshold:g}")
    )
    header = (
        texts()["balance_header_covariate"],
        texts()["balance_header_before"],
        texts()["balance_header_after"],
        texts()["balance_header_flag"],
    )
    return Section(
        "balance",
        texts()["heading_balance"],
        (
            _p(summary, "flagged" if names else ""),
            _table(header, rows, role="balance-table", flagged=flagged),
            Block("chart", chart=charts.love_plot(result.balance, threshold=threshold)),
        ),
    )


def _overlap_section(result: EvaluationResult) -> Section:
    overlap = result.overlap or {}
    if len(overlap.get("edges", [])) < 2:
        return Section("overlap", texts()["heading_overlap"], (_p(texts()["overlap_empty"]),))
    return Section(
        "overlap",
        texts()["heading_overlap"],
        (Block("chart", chart=charts.overlap_plot(overlap)), _p(texts()["overlap_note"], "muted")),
    )


def _survival_section(result: EvaluationResult, time_unit: str) -> Section | None:
    rows = survival_rows(result)
    if result.outcome_type != "time_to_event" or not rows:
        return None
    header = (
        texts()["survival_header_horizon"].format(unit=time_unit),
        texts()["survival_header_treated"],
        texts()["survival_header_control"],
        texts()["survival_header_difference"],
    )
    table_rows = [
        (
            f"{float(r['horizon']):g}" if _finite(r["horizon"]) else str(r["horizon"]),
            _percent(r["treated"]),
            _percent(r["control"]),
            _points(r["difference"]) if _finite(r["difference"]) else texts()["not_reported"],
        )
        for r in rows
    ]
    return Section("survival", texts()["heading_survival"], (_table(header, table_rows),))


def _sensitivity_section(result: EvaluationResult) -> Section:
    blocks = [_p(evalue_sentence(result)), _p(texts()["evalue_note"], "muted")]
    scale = (result.evalue or {}).get("scale")
    if scale and scale != "risk ratio":
        blocks.append(_p(texts()["evalue_scale"].format(scale=scale), "muted"))
    blocks += [_p(text) for text in placebo_sentences(result)]
    return Section("sensitivity", texts()["heading_sensitivity"], tuple(blocks))


def _cost_benefit_section(cb: CostBenefitResult) -> Section:
    from whatworks.analytics.evaluation.costbenefit import EXAMPLE_AVOIDED_COST_PER_REOFFENCE

    inputs = cb.inputs
    currency = inputs.currency
    ratio = (
        f"{cb.benefit_cost_ratio:.2f}"
        if _finite(cb.benefit_cost_ratio)
        else texts()["cb_ratio_missing"]
    )
    blocks = []
    if dict(inputs.avoided_cost_per_reoffence) == dict(EXAMPLE_AVOIDED_COST_PER_REOFFENCE):
        blocks.append(_p(texts()["cb_example"], "warning"))
    blocks.append(
        _p(
            texts()["cb_intro"].format(
                participants=f"{cb.participants:,}",
                benefits=_money(cb.benefits, currency),
                costs=_money(cb.costs, currency),
                npv=_money(cb.net_present_value, currency),
                ratio=ratio,
                share=f"{100 * cb.probability_benefits_exceed_costs:.0f}%",
                reps=f"{cb.reps:,}",
            )
        )
    )
    npv = cb.percentiles.get("net_present_value", {})
    if _finite(npv.get("5")) and _finite(npv.get("95")):
        blocks.append(
            _p(
                texts()["cb_range"].format(
                    low=_money(npv["5"], currency), high=_money(npv["95"], currency)
                )
            )
        )
    rows = [
        (texts()["row_participants"], f"{cb.participants:,}"),
        (texts()["row_cost_per_participant"], _money(inputs.cost_per_participant, currency)),
        *(
            (texts()["row_avoided_cost"].format(name=name.replace("_", " ")), _money(v, currency))
            for name, v in inputs.avoided_cost_per_reoffence.items()
        ),
        (
            texts()["row_avoided"],
            f"{cb.avoided_reoffences_per_participant:.3f}".replace("-", MINUS),
        ),
        (texts()["row_benefits"], _money(cb.benefits, currency)),
        (texts()["row_costs"], _money(cb.costs, currency)),
        (texts()["row_npv"], _money(cb.net_present_value, currency)),
        (texts()["row_ratio"], ratio),
        (texts()["row_probability"], f"{100 * cb.probability_benefits_exceed_costs:.0f}%"),
    ]
    blocks.append(_table(("", ""), rows, role="key-table"))
    blocks.append(
        _p(
            texts()["cb_method"].format(
                rate=f"{100 * inputs.discount_rate:g}%", years=inputs.years
            ),
            "muted",
        )
    )
    return Section("cost-benefit", texts()["heading_cost_benefit"], tuple(blocks))


def report_sections(
    result: EvaluationResult,
    *,
    definition_text: str | None = None,
    cohort_text: str | None = None,
    cost_benefit: CostBenefitResult | None = None,
    time_unit: str = "days",
) -> list[Section]:
    """The report's content, in order, for any renderer."""
    sections: list[Section] = []
    if result.warnings:
        sections.append(
            Section(
                "warnings",
                texts()["heading_warnings"],
                (Block("list", items=tuple(w.message for w in result.warnings), role="warning"),),
            )
        )
    sections.append(
        Section(
            "summary",
            texts()["heading_summary"],
            tuple(_p(text, "summary") for text in summary_sentences(result, time_unit=time_unit)),
        )
    )
    sections.append(_estimate_section(result))
    sections.append(
        Section("naive", texts()["heading_naive"], tuple(_p(t) for t in naive_sentences(result)))
    )
    sections.append(_cohort_section(result, definition_text, cohort_text))
    sections.append(_assumptions_section(result))
    sections.append(_balance_section(result))
    sections.append(_overlap_section(result))
    survival = _survival_section(result, time_unit)
    if survival is not None:
        sections.append(survival)
    sections.append(_sensitivity_section(result))
    if cost_benefit is not None:
        sections.append(_cost_benefit_section(cost_benefit))
    caveats = (
        texts()["caveat_sampling"],
        texts()["caveat_population"],
        texts()["caveat_records"],
        *result.notes,
    )
    sections.append(Section("caveats", texts()["heading_caveats"], (Block("list", items=caveats),)))
    return sections


# ---------------------------------------------------------------------------------------------
# HTML.

CSS = """
.evaluation-report{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1b1b;
line-height:1.45}
.evaluation-report h1{font-size:1.5rem;margin-bottom:.25rem}
.evaluation-report h2{font-size:1.15rem;margin-top:2rem}
.evaluation-report .summary{font-size:1.05rem;background:#f3f6f9;border-left:4px solid #1d70b8;
padding:.6rem .9rem;margin:.4rem 0}
.evaluation-report .warnings{background:#fdf0ee;border:2px solid #d4351c;padding:.4rem 1rem}
.evaluation-report .warnings h2{margin-top:.4rem;color:#942514}
.evaluation-report p.warning{font-weight:600;color:#942514}
.evaluation-report p.flagged{color:#942514}
.evaluation-report table{border-collapse:collapse;margin:.5rem 0 1rem;
font-variant-numeric:tabular-nums}
.evaluation-report th,.evaluation-report td{border-bottom:1px solid #d0d7de;padding:.3rem .7rem;
text-align:right}
.evaluation-report th:first-child,.evaluation-report td:first-child{text-align:left}
.evaluation-report th{background:#f6f8fa}
.evaluation-report tr.flagged td{background:#fdf0ee;color:#942514}
.evaluation-report .muted{color:#57606a;font-size:.9rem}
.evaluation-report svg.chart{max-width:100%;height:auto;display:block;margin:.5rem 0}
"""

_PAGE_CSS = "body{margin:2rem auto;max-width:60rem;padding:0 1rem}"


def _html_block(block: Block, chart_id: str) -> str:
    esc = html.escape
    cls = f' class="{block.role}"' if block.role else ""
    if block.kind == "paragraph":
        return f"<p{cls}>{esc(block.text)}</p>"
    if block.kind == "list":
        return f"<ul{cls}>" + "".join(f"<li>{esc(i)}</li>" for i in block.items) + "</ul>"
    if block.kind == "chart" and block.chart is not None:
        return charts.to_svg(block.chart, chart_id=chart_id)
    if block.kind == "table":
        parts = [f"<table{cls}>"]
        if any(block.header):
            parts.append(
                "<thead><tr>"
                + "".join(f'<th scope="col">{esc(h)}</th>' for h in block.header)
                + "</tr></thead>"
            )
        parts.append("<tbody>")
        for index, row in enumerate(block.rows):
            row_cls = ' class="flagged"' if index in block.flagged_rows else ""
            first, *rest = row
            parts.append(
                f'<tr{row_cls}><th scope="row">{esc(first)}</th>'
                + "".join(f"<td>{esc(c)}</td>" for c in rest)
                + "</tr>"
            )
        parts.append("</tbody></table>")
        return "".join(parts)
    return ""


def render_html_fragment(
    result: EvaluationResult,
    *,
    title: str,
    definition_text: str | None = None,
    cohort_text: str | None = None,
    cost_benefit: CostBenefitResult | None = None,
    time_unit: str = "days",
) -> str:
    """The report body as an ``<article class="evaluation-report">``: class names only, no
    ``style`` attribute, no ``<style>`` and no script (safe under a strict CSP; the page's
    stylesheet must provide :data:`CSS`)."""
    sections = report_sections(
        result,
        definition_text=definition_text,
        cohort_text=cohort_text,
        cost_benefit=cost_benefit,
        time_unit=time_unit,
    )
    parts = [f'<article class="evaluation-report"><h1>{html.escape(title)}</h1>']
    for section in sections:
        cls = "warnings" if section.key == "warnings" else f"section-{section.key}"
        role = ' role="alert"' if section.key == "warnings" else ""
        parts.append(f'<section class="{cls}"{role}><h2>{html.escape(section.heading)}</h2>')
        for index, block in enumerate(section.blocks):
            parts.append(_html_block(block, f"evaluation-{section.key}-{index}"))
        parts.append("</section>")
    parts.append("</article>")
    return "\n".join(parts)


def render_html(
    result: EvaluationResult,
    *,
    title: str,
    definition_text: str | None = None,
    cohort_text: str | None = None,
    cost_benefit: CostBenefitResult | None = None,
    time_unit: str = "days",
) -> str:
    """A standalone HTML page: the fragment plus one ``<style>`` block in the head; no
    external resources, no script."""
    body = render_html_fragment(
        result,
        title=title,
        definition_text=definition_text,
        cohort_text=cohort_text,
        cost_benefit=cost_benefit,
        time_unit=time_unit,
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_PAGE_CSS}{CSS}</style></head><body>\n"
        + body
        + "\n</body></html>\n"
    )


# ---------------------------------------------------------------------------------------------
# PDF.


def render_pdf(
    result: EvaluationResult,
    *,
    title: str,
    definition_text: str | None = None,
    cohort_text: str | None = None,
    cost_benefit: CostBenefitResult | None = None,
    time_unit: str = "days",
) -> bytes:
    """The same report as a PDF (reportlab, built-in Helvetica, no network)."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        KeepTogether,
        ListFlowable,
        ListItem,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    styles = getSampleStyleSheet()
    summary_style = ParagraphStyle(
        "Summary",
        parent=styles["BodyText"],
        fontSize=11,
        leading=14,
        backColor=colors.HexColor("#f3f6f9"),
        borderPadding=4,
        spaceAfter=6,
    )
    warning_style = ParagraphStyle(
        "Warning", parent=styles["BodyText"], textColor=colors.HexColor("#942514")
    )
    muted_style = ParagraphStyle(
        "Muted", parent=styles["BodyText"], fontSize=8, textColor=colors.HexColor("#57606a")
    )
    cell_style = ParagraphStyle("Cell", parent=styles["BodyText"], fontSize=8, leading=10)
    paragraph_styles = {
        "summary": summary_style,
        "warning": warning_style,
        "flagged": warning_style,
        "muted": muted_style,
    }
    width = A4[0] - 36 * mm
    story: list[Any] = [Paragraph(escape(title), styles["Title"])]
    for section in report_sections(
        result,
        definition_text=definition_text,
        cohort_text=cohort_text,
        cost_benefit=cost_benefit,
        time_unit=time_unit,
    ):
        heading_style = styles["Heading2"]
        story.append(Paragraph(escape(section.heading), heading_style))
        for block in section.blocks:
            if block.kind == "paragraph":
                style = paragraph_styles.get(block.role, styles["BodyText"])
                story.append(Paragraph(escape(block.text), style))
            elif block.kind == "list":
                style = warning_style if block.role == "warning" else styles["BodyText"]
                story.append(
                    ListFlowable(
                        [ListItem(Paragraph(escape(i), style)) for i in block.items],
                        bulletType="bullet",
                        leftIndent=12,
                    )
                )
            elif block.kind == "table":
                rows = []
                if any(block.header):
                    rows.append(
                        [Paragraph(f"<b>{escape(h)}</b>", cell_style) for h in block.header]
                    )
                rows += [[Paragraph(escape(c), cell_style) for c in row] for row in block.rows]
                offset = 1 if any(block.header) else 0
                commands: list[tuple] = [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#d0d7de")),
                ]
                for index in block.flagged_rows:
                    commands.append(
                        (
                            "BACKGROUND",
                            (0, index + offset),
                            (-1, index + offset),
                            colors.HexColor("#fdf0ee"),
                        )
                    )
                columns = len(rows[0]) if rows else 1
                first = width * (0.45 if columns == 2 else 0.34)
                col_widths = [first] + [(width - first) / max(columns - 1, 1)] * (columns - 1)
                story.append(
                    Table(
                        rows,
                        colWidths=col_widths,
                        style=TableStyle(commands),
                        hAlign="LEFT",
                        repeatRows=offset,
                    )
                )
            elif block.kind == "chart" and block.chart is not None:
                drawing = charts.to_drawing(block.chart, width=width)
                story.append(
                    KeepTogether([drawing, Paragraph(escape(block.chart.desc), muted_style)])
                )
            story.append(Spacer(1, 2 * mm))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        author="What Works",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    document.build(story)
    return buffer.getvalue()

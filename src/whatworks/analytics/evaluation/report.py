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

if TYPE_CHECKING:
    from whatworks.analytics.evaluation.costbenefit import CostBenefitResult

MINUS = "−"

TEXT: dict[str, str] = {
    # Plain-language summary.
    "summary_binary_att": (
        "People who {treatment} {outcome_past} at {treated} against {control} for similar "
        "people who did not (difference {difference} points, 95% CI {low} to {high})."
    ),
    "summary_binary_ate": (
        "If everyone in the cohort {treatment}, an estimated {treated} {outcome_would}; if no "
        "one did, {control} (difference {difference} points, 95% CI {low} to {high})."
    ),
    "summary_binary_no_values": (
        "The adjusted difference in the share who {outcome_bare} between people who "
        "{treatment} and {comparison} is {difference} points (95% CI {low} to {high})."
    ),
    "summary_continuous_att": (
        "People who {treatment} had an average {outcome_noun} of {treated} against {control} "
        "for similar people who did not (difference {difference}, 95% CI {low} to {high})."
    ),
    "summary_continuous_ate": (
        "If everyone in the cohort {treatment}, the average {outcome_noun} would be {treated}; "
        "if no one did, {control} (difference {difference}, 95% CI {low} to {high})."
    ),
    "summary_continuous_no_values": (
        "The adjusted difference in average {outcome_noun} between people who {treatment} and "
        "{comparison} is {difference} (95% CI {low} to {high})."
    ),
    "summary_tte_att": (
        "People who {treatment}, compared with similar people who did not: hazard ratio "
        "{estimate} (95% CI {low} to {high}; below 1 means fewer or later events)."
    ),
    "summary_tte_ate": (
        "Everyone in the cohort taking part ({treatment}) compared with no one: hazard ratio "
        "{estimate} (95% CI {low} to {high}; below 1 means fewer or later events)."
    ),
    "summary_tte_horizon_att": (
        "At {horizon} {unit}, {treated} against {control} had not {event_past}."
    ),
    "summary_tte_horizon_ate": (
        "At {horizon} {unit}, an estimated {treated} would not have {event_past} if everyone "
        "took part, against {control} if no one did."
    ),
    "comparison_att": "similar people who did not",
    "comparison_ate": "no one taking part",
    "ci_includes_null": (
        "The 95% confidence interval includes no difference ({null}): these data cannot rule "
        "out that the programme made no difference to this outcome."
    ),
    "ci_excludes_null": ("The 95% confidence interval does not include no difference ({null})."),
    "null_difference": "0",
    "null_ratio": "a hazard ratio of 1",
    # Headings.
    "heading_warnings": "Warnings",
    "heading_summary": "Summary",
    "heading_estimate": "Estimate",
    "heading_naive": "Unadjusted and adjusted comparison",
    "heading_definition": "Definition and cohort",
    "heading_assumptions": "Assumptions",
    "heading_balance": "Covariate balance",
    "heading_overlap": "Overlap of propensity scores",
    "heading_survival": "Survival at each horizon",
    "heading_sensitivity": "Sensitivity to unmeasured confounding",
    "heading_cost_benefit": "Benefits and costs",
    "heading_caveats": "Caveats",
    # Estimate table.
    "row_effect_measure": "Effect measure",
    "row_estimate": "Adjusted estimate",
    "row_ci": "95% confidence interval",
    "row_ci_method": "Confidence interval method",
    "row_treated_value": "Treated group",
    "row_control_value": "Comparison group",
    "row_naive": "Unadjusted (naive) estimate",
    "measure_risk_difference": "difference in proportions (percentage points)",
    "measure_mean_difference": "difference in means",
    "measure_hazard_ratio": "hazard ratio",
    "ci_method_influence": "influence function (sandwich) standard errors",
    "ci_method_bootstrap": "bootstrap ({reps} resamples, seed {seed})",
    # Naive against adjusted.
    "naive_sentence": (
        "Without adjustment, the comparison gives {naive}; after adjustment, {adjusted}."
    ),
    "naive_overstates": "The naive comparison would overstate the {kind} by {amount}.",
    "naive_understates": "The naive comparison would understate the {kind} by {amount}.",
    "naive_reverses": (
        "The naive comparison points in the opposite direction: adjustment reversed it."
    ),
    "naive_same": "Adjustment changed the estimate very little.",
    "naive_missing": "The unadjusted comparison was not reported.",
    "kind_benefit": "benefit",
    "kind_harm": "harm",
    "kind_difference": "difference",
    "points": "{value} points",
    # Definition and cohort.
    "estimand_att": (
        "Estimand: the average effect on the treated (ATT), that is, for the people who took "
        "part, the difference between what happened and what would have happened to them "
        "without the programme, estimated from similar people who did not take part."
    ),
    "estimand_ate": (
        "Estimand: the average treatment effect (ATE), that is, the difference between "
        "everyone in the cohort taking part and no one taking part."
    ),
    "method_aipw": (
        "Method: augmented inverse-probability weighting (AIPW, doubly robust). A model of "
        "who takes part (the propensity score) and a model of the outcome are combined; the "
        "estimate is consistent if either model is right."
    ),
    "method_ipw": (
        "Method: inverse-probability weighting (IPW). People are weighted by their estimated "
        "probability of taking part so that the groups resemble each other on the covariates."
    ),
    "method_psm": (
        "Method: nearest-neighbour matching on the logit of the propensity score{caliper}, "
        "{replacement}. Each treated person is compared with the most similar control."
    ),
    "caliper": " within a caliper of {caliper} standard deviations",
    "with_replacement": "with replacement (a control may be used more than once)",
    "without_replacement": "without replacement",
    "trim": (
        "People with a propensity score below {trim} or above {upper} were left out (trimming)."
    ),
    "row_treated": "Treated",
    "row_control": "Controls",
    "row_dropped": "Left out: missing values",
    "row_unmatched": "Left out: no match within the caliper",
    "row_trimmed": "Left out: outside the trimming range",
    "row_ess_treated": "Effective sample size, treated",
    "row_ess_control": "Effective sample size, controls",
    "ess_note": (
        "The effective sample size is the number of equally weighted people that would carry "
        "the same information as the weighted or matched sample."
    ),
    # Assumptions.
    "assumptions_intro": "The estimate is a causal effect only if these hold:",
    "assumption_confounding": (
        "No unmeasured confounding: everything that affects both taking part and the outcome "
        "is among the covariates used ({covariates}). Anything else that matters and was not "
        "measured, such as motivation or a referrer's judgement, can bias the estimate."
    ),
    "assumption_overlap": (
        "Overlap (positivity): people of every profile had some chance both of taking part "
        "and of not taking part. The overlap plot shows where this fails."
    ),
    "assumption_consistency": (
        "Consistency: taking part means one well-defined thing; differences in dose, quality "
        "or completion are assumed not to change the effect."
    ),
    "assumption_interference": (
        "No interference: one person's participation does not change another person's outcome."
    ),
    "assumption_limits": (
        "A matched or weighted comparison can show the difference the programme made for "
        "people like those compared, if these assumptions hold. It cannot rule out bias from "
        "what was not measured, it is not a randomised trial, and it says nothing about people "
        "unlike those in the data."
    ),
    # Balance and overlap.
    "balance_header_covariate": "Covariate",
    "balance_header_before": "SMD before",
    "balance_header_after": "SMD after",
    "balance_header_flag": "Balanced?",
    "balance_ok": "yes",
    "balance_flag": "no: above {threshold}",
    "balance_summary_ok": (
        "After adjustment every covariate has an absolute standardised mean difference "
        "(SMD) of at most {threshold}."
    ),
    "balance_summary_flagged": (
        "After adjustment {count} of {total} covariates still have an absolute standardised "
        "mean difference (SMD) above {threshold}: {names}."
    ),
    "balance_empty": "No balance table was reported.",
    "overlap_note": (
        "Bars show shares of each group, not counts. Where one group has bars and the other "
        "none, the comparison rests on few or no similar people."
    ),
    "overlap_empty": "No propensity scores were reported.",
    # Survival.
    "survival_header_horizon": "Time ({unit})",
    "survival_header_treated": "Not yet an event, treated",
    "survival_header_control": "Not yet an event, comparison",
    "survival_header_difference": "Difference (points)",
    # Sensitivity.
    "evalue_sentence": (
        "An unmeasured confounder would need to be associated with both taking part "
        "({treatment}) and the outcome ({outcome}) by a risk ratio of {point} each, above and "
        "beyond the measured covariates, to explain away the estimate; {ci_part}."
    ),
    "evalue_ci_part": "{ci} to move the confidence interval to include no effect",
    "evalue_ci_null": "the confidence interval already includes no effect",
    "evalue_missing": "No E-value was reported.",
    "evalue_scale": "Scale of the E-value: {scale}.",
    "evalue_note": (
        "E-values (VanderWeele and Ding, 2017) measure how strong unmeasured confounding "
        "would have to be; a value close to 1 means weak confounding would suffice."
    ),
    "placebo_sentence": (
        "Placebo check: on {outcome}, which the programme should not have changed, the "
        "adjusted estimate is {estimate} (95% CI {low} to {high})."
    ),
    "placebo_ok": "Its interval includes no difference, as it should.",
    "placebo_flag": (
        "Its interval excludes no difference: this suggests confounding the covariates do "
        "not remove, and the main estimate should be read with caution."
    ),
    # Cost-benefit.
    "cb_intro": (
        "For {participants} participants, benefits of {benefits} against costs of {costs}: a "
        "net present value of {npv} and a benefit/cost ratio of {ratio}. In {share} of "
        "{reps} simulations the benefits exceeded the costs."
    ),
    "cb_ratio_missing": "no ratio (zero cost)",
    "cb_range": (
        "The net present value lies between {low} and {high} in 90% of the simulations "
        "(5th to 95th percentile)."
    ),
    "cb_example": (
        "These costs are the illustrative examples built into the software, not official "
        "figures: do not publish them as a result."
    ),
    "cb_method": (
        "Method after the Washington State Institute for Public Policy: avoided reoffences per "
        "participant times the avoided cost of each reoffence, discounted at {rate} a year "
        "over {years} years, against the programme's cost; the Monte Carlo draws the effect "
        "from its confidence interval and the costs from their uncertainty."
    ),
    "row_participants": "Participants",
    "row_cost_per_participant": "Cost per participant",
    "row_avoided": "Avoided reoffences per participant",
    "row_avoided_cost": "Avoided cost per reoffence: {name}",
    "row_benefits": "Benefits (present value)",
    "row_costs": "Costs",
    "row_npv": "Net present value",
    "row_ratio": "Benefit/cost ratio",
    "row_probability": "Chance that benefits exceed costs",
    # Caveats.
    "caveat_sampling": (
        "Confidence intervals reflect chance only, not bias from unmeasured confounding, "
        "errors in the records or the choice of outcome definition."
    ),
    "caveat_population": (
        "The estimate describes the people compared in this cohort; other people, places or "
        "times may differ."
    ),
    "caveat_records": (
        "Recorded reoffending depends on the definition used and on police and court practice, "
        "not only on behaviour."
    ),
    "no_label_treatment": "had {column} = 1",
    "no_label_outcome_past": "had {column} = 1",
    "no_label_outcome_would": "would have {column} = 1",
    "no_label_outcome_bare": "had {column} = 1",
    "no_label_event_past": "had the event ({column})",
    "label_outcome_past": "were {label}",
    "label_outcome_would": "would be {label}",
    "not_reported": "not reported",
}


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
    return TEXT["not_reported"] if not _finite(value) else _minus(f"{100 * value:.1f}%")


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
        return TEXT["points"].format(value=_points(value))
    if result.effect_measure == "hazard_ratio":
        return _ratio(value)
    return _plain(value)


def _value(result: EvaluationResult, value: float | None) -> str:
    """An outcome level: a share for binary and time-to-event outcomes, a mean otherwise."""
    if not _finite(value):
        return TEXT["not_reported"]
    return _plain(value) if result.outcome_type == "continuous" else _percent(value)


def _money(value: float | None, currency: str) -> str:
    return TEXT["not_reported"] if not _finite(value) else _minus(f"{currency} {value:,.0f}")


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
    treatment = spec.treatment_label or TEXT["no_label_treatment"].format(column=spec.treatment)
    label = spec.outcome_label
    return {
        "treatment": treatment,
        "outcome_past": (
            TEXT["label_outcome_past"].format(label=label)
            if label
            else TEXT["no_label_outcome_past"].format(column=column)
        ),
        "outcome_would": (
            TEXT["label_outcome_would"].format(label=label)
            if label
            else TEXT["no_label_outcome_would"].format(column=column)
        ),
        "outcome_bare": label or TEXT["no_label_outcome_bare"].format(column=column),
        "outcome_noun": label or column,
        "event_past": label or TEXT["no_label_event_past"].format(column=column),
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
            TEXT[f"summary_tte_{estimand}"].format(
                treatment=labels["treatment"],
                estimate=_ratio(result.estimate),
                low=_ratio(result.ci_low),
                high=_ratio(result.ci_high),
            )
        )
        rows = survival_rows(result)
        if rows and _finite(rows[0]["treated"]) and _finite(rows[0]["control"]):
            sentences.append(
                TEXT[f"summary_tte_horizon_{estimand}"].format(
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
            "comparison": TEXT[f"comparison_{estimand}"],
            **labels,
        }
        key = f"summary_{kind}_{estimand}" if has_values else f"summary_{kind}_no_values"
        sentences.append(TEXT[key].format(**values))
    null = (
        TEXT["null_ratio"] if result.effect_measure == "hazard_ratio" else TEXT["null_difference"]
    )
    key = "ci_includes_null" if ci_includes_null(result) else "ci_excludes_null"
    sentences.append(TEXT[key].format(null=null))
    return sentences


def naive_sentences(result: EvaluationResult) -> list[str]:
    """The unadjusted comparison beside the adjusted one, and what adjustment changed."""
    naive = result.naive.get("estimate") if result.naive else None
    if not _finite(naive):
        return [TEXT["naive_missing"]]
    sentences = [
        TEXT["naive_sentence"].format(
            naive=_effect(result, naive), adjusted=_effect(result, result.estimate)
        )
    ]
    ratio = result.effect_measure == "hazard_ratio"
    to_scale = math.log if ratio else (lambda v: v)
    if ratio and not (naive > 0 and result.estimate > 0):
        return sentences
    adjusted_s, naive_s = to_scale(result.estimate), to_scale(naive)
    if result.outcome_type == "continuous":
        kind = TEXT["kind_difference"]
    else:  # a lower rate of reoffending is the benefit
        kind = TEXT["kind_benefit"] if adjusted_s < 0 else TEXT["kind_harm"]
    if ratio:
        amount = f"{abs(naive - result.estimate):.2f} on the hazard-ratio scale"
    elif result.effect_measure == "risk_difference":
        amount = TEXT["points"].format(value=_points(abs(naive - result.estimate)))
    else:
        amount = _plain(abs(naive - result.estimate))
    scale = max(abs(adjusted_s), abs(naive_s), 1e-12)
    if abs(naive_s - adjusted_s) <= 0.05 * scale:
        sentences.append(TEXT["naive_same"])
    elif naive_s * adjusted_s < 0:
        sentences.append(TEXT["naive_reverses"])
    elif abs(naive_s) > abs(adjusted_s):
        sentences.append(TEXT["naive_overstates"].format(kind=kind, amount=amount))
    else:
        sentences.append(TEXT["naive_understates"].format(kind=kind, amount=amount))
    return sentences


def evalue_sentence(result: EvaluationResult) -> str:
    evalue = result.evalue or {}
    point = evalue.get("point")
    if not _finite(point):
        return TEXT["evalue_missing"]
    ci = evalue.get("ci")
    labels = _labels(result)
    ci_part = (
        TEXT["evalue_ci_part"].format(ci=f"{ci:.2f}")
        if _finite(ci) and ci > 1
        else TEXT["evalue_ci_null"]
    )
    return TEXT["evalue_sentence"].format(
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
            TEXT["placebo_sentence"].format(
                outcome=outcome, estimate=fmt(placebo["estimate"]), low=fmt(low), high=fmt(high)
            )
        ]
        sentences.append(TEXT["placebo_ok"] if low <= 0 <= high else TEXT["placebo_flag"])
        return sentences
    return [
        TEXT["placebo_sentence"].format(
            outcome=outcome, estimate=fmt(placebo["estimate"]), low="–", high="–"
        )
    ]


# ---------------------------------------------------------------------------------------------
# Sections.


def _ci_method_text(result: EvaluationResult) -> str:
    if result.ci_method == "bootstrap":
        return TEXT["ci_method_bootstrap"].format(
            reps=result.spec.bootstrap_reps, seed=result.spec.seed
        )
    return TEXT.get(f"ci_method_{result.ci_method}", result.ci_method)


def _method_text(result: EvaluationResult) -> list[str]:
    spec = result.spec
    if spec.method == "psm":
        caliper = TEXT["caliper"].format(caliper=f"{spec.caliper:g}") if spec.caliper else ""
        replacement = TEXT["with_replacement" if spec.replacement else "without_replacement"]
        texts = [TEXT["method_psm"].format(caliper=caliper, replacement=replacement)]
    else:
        texts = [TEXT[f"method_{spec.method}"]]
    if spec.trim:
        texts.append(TEXT["trim"].format(trim=f"{spec.trim:g}", upper=f"{1 - spec.trim:g}"))
    return texts


def _estimate_section(result: EvaluationResult) -> Section:
    naive = result.naive.get("estimate") if result.naive else None
    rows = [
        (TEXT["row_effect_measure"], TEXT[f"measure_{result.effect_measure}"]),
        (TEXT["row_estimate"], _effect(result, result.estimate)),
        (
            TEXT["row_ci"],
            f"{_effect(result, result.ci_low)} to {_effect(result, result.ci_high)}",
        ),
        (TEXT["row_ci_method"], _ci_method_text(result)),
        (TEXT["row_treated_value"], _value(result, result.treated_value)),
        (TEXT["row_control_value"], _value(result, result.control_value)),
        (
            TEXT["row_naive"],
            _effect(result, naive) if _finite(naive) else TEXT["not_reported"],
        ),
    ]
    return Section(
        "estimate", TEXT["heading_estimate"], (_table(("", ""), rows, role="key-table"),)
    )


def _cohort_section(
    result: EvaluationResult, definition_text: str | None, cohort_text: str | None
) -> Section:
    blocks = [_p(text) for text in (definition_text, cohort_text) if text]
    blocks.append(_p(TEXT[f"estimand_{result.spec.estimand}"]))
    blocks += [_p(text) for text in _method_text(result)]
    rows = [
        (TEXT["row_treated"], f"{result.n_treated:,}"),
        (TEXT["row_control"], f"{result.n_control:,}"),
        (TEXT["row_dropped"], f"{result.n_dropped_missing:,}"),
        (TEXT["row_unmatched"], f"{result.n_unmatched:,}"),
        (TEXT["row_trimmed"], f"{result.n_trimmed:,}"),
        (TEXT["row_ess_treated"], f"{result.ess_treated:,.1f}"),
        (TEXT["row_ess_control"], f"{result.ess_control:,.1f}"),
    ]
    blocks.append(_table(("", ""), rows, role="counts-table"))
    blocks.append(_p(TEXT["ess_note"], "muted"))
    return Section("definition", TEXT["heading_definition"], tuple(blocks))


def _assumptions_section(result: EvaluationResult) -> Section:
    covariates = ", ".join(result.spec.covariates) or TEXT["not_reported"]
    items = (
        TEXT["assumption_confounding"].format(covariates=covariates),
        TEXT["assumption_overlap"],
        TEXT["assumption_consistency"],
        TEXT["assumption_interference"],
    )
    return Section(
        "assumptions",
        TEXT["heading_assumptions"],
        (
            _p(TEXT["assumptions_intro"]),
            Block("list", items=items),
            _p(TEXT["assumption_limits"]),
        ),
    )


def _balance_section(result: EvaluationResult) -> Section:
    threshold = BALANCE_THRESHOLD
    if not result.balance:
        return Section("balance", TEXT["heading_balance"], (_p(TEXT["balance_empty"]),))
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
                TEXT["balance_flag"].format(threshold=f"{threshold:g}")
                if bad
                else TEXT["balance_ok"],
            )
        )
    summary = (
        TEXT["balance_summary_flagged"].format(
            count=len(names), total=len(rows), threshold=f"{threshold:g}", names=", ".join(names)
        )
        if names
        else TEXT["balance_summary_ok"].format(threshold=f"{threshold:g}")
    )
    header = (
        TEXT["balance_header_covariate"],
        TEXT["balance_header_before"],
        TEXT["balance_header_after"],
        TEXT["balance_header_flag"],
    )
    return Section(
        "balance",
        TEXT["heading_balance"],
        (
            _p(summary, "flagged" if names else ""),
            _table(header, rows, role="balance-table", flagged=flagged),
            Block("chart", chart=charts.love_plot(result.balance, threshold=threshold)),
        ),
    )


def _overlap_section(result: EvaluationResult) -> Section:
    overlap = result.overlap or {}
    if len(overlap.get("edges", [])) < 2:
        return Section("overlap", TEXT["heading_overlap"], (_p(TEXT["overlap_empty"]),))
    return Section(
        "overlap",
        TEXT["heading_overlap"],
        (Block("chart", chart=charts.overlap_plot(overlap)), _p(TEXT["overlap_note"], "muted")),
    )


def _survival_section(result: EvaluationResult, time_unit: str) -> Section | None:
    rows = survival_rows(result)
    if result.outcome_type != "time_to_event" or not rows:
        return None
    header = (
        TEXT["survival_header_horizon"].format(unit=time_unit),
        TEXT["survival_header_treated"],
        TEXT["survival_header_control"],
        TEXT["survival_header_difference"],
    )
    table_rows = [
        (
            f"{float(r['horizon']):g}" if _finite(r["horizon"]) else str(r["horizon"]),
            _percent(r["treated"]),
            _percent(r["control"]),
            _points(r["difference"]) if _finite(r["difference"]) else TEXT["not_reported"],
        )
        for r in rows
    ]
    return Section("survival", TEXT["heading_survival"], (_table(header, table_rows),))


def _sensitivity_section(result: EvaluationResult) -> Section:
    blocks = [_p(evalue_sentence(result)), _p(TEXT["evalue_note"], "muted")]
    scale = (result.evalue or {}).get("scale")
    if scale and scale != "risk ratio":
        blocks.append(_p(TEXT["evalue_scale"].format(scale=scale), "muted"))
    blocks += [_p(text) for text in placebo_sentences(result)]
    return Section("sensitivity", TEXT["heading_sensitivity"], tuple(blocks))


def _cost_benefit_section(cb: CostBenefitResult) -> Section:
    from whatworks.analytics.evaluation.costbenefit import EXAMPLE_AVOIDED_COST_PER_REOFFENCE

    inputs = cb.inputs
    currency = inputs.currency
    ratio = (
        f"{cb.benefit_cost_ratio:.2f}"
        if _finite(cb.benefit_cost_ratio)
        else TEXT["cb_ratio_missing"]
    )
    blocks = []
    if dict(inputs.avoided_cost_per_reoffence) == dict(EXAMPLE_AVOIDED_COST_PER_REOFFENCE):
        blocks.append(_p(TEXT["cb_example"], "warning"))
    blocks.append(
        _p(
            TEXT["cb_intro"].format(
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
                TEXT["cb_range"].format(
                    low=_money(npv["5"], currency), high=_money(npv["95"], currency)
                )
            )
        )
    rows = [
        (TEXT["row_participants"], f"{cb.participants:,}"),
        (TEXT["row_cost_per_participant"], _money(inputs.cost_per_participant, currency)),
        *(
            (TEXT["row_avoided_cost"].format(name=name.replace("_", " ")), _money(v, currency))
            for name, v in inputs.avoided_cost_per_reoffence.items()
        ),
        (TEXT["row_avoided"], f"{cb.avoided_reoffences_per_participant:.3f}".replace("-", MINUS)),
        (TEXT["row_benefits"], _money(cb.benefits, currency)),
        (TEXT["row_costs"], _money(cb.costs, currency)),
        (TEXT["row_npv"], _money(cb.net_present_value, currency)),
        (TEXT["row_ratio"], ratio),
        (TEXT["row_probability"], f"{100 * cb.probability_benefits_exceed_costs:.0f}%"),
    ]
    blocks.append(_table(("", ""), rows, role="key-table"))
    blocks.append(
        _p(
            TEXT["cb_method"].format(rate=f"{100 * inputs.discount_rate:g}%", years=inputs.years),
            "muted",
        )
    )
    return Section("cost-benefit", TEXT["heading_cost_benefit"], tuple(blocks))


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
                TEXT["heading_warnings"],
                (Block("list", items=tuple(w.message for w in result.warnings), role="warning"),),
            )
        )
    sections.append(
        Section(
            "summary",
            TEXT["heading_summary"],
            tuple(_p(text, "summary") for text in summary_sentences(result, time_unit=time_unit)),
        )
    )
    sections.append(_estimate_section(result))
    sections.append(
        Section("naive", TEXT["heading_naive"], tuple(_p(t) for t in naive_sentences(result)))
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
        TEXT["caveat_sampling"],
        TEXT["caveat_population"],
        TEXT["caveat_records"],
        *result.notes,
    )
    sections.append(Section("caveats", TEXT["heading_caveats"], (Block("list", items=caveats),)))
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

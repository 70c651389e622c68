"""Every sentence of the evaluation report and its charts, in English, keyed for
translation: the app renders the report in the user's language by passing translated
sentences with the same keys and ``{fields}`` (``report_texts``)."""

from __future__ import annotations

import contextlib
import contextvars
import string
from collections.abc import Iterator, Mapping

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
    # The two charts.
    "chart_love_title": "Love plot: covariate balance before and after adjustment",
    "chart_love_desc": (
        "Standardised mean difference between treated and controls for each covariate, before "
        "adjustment (open circles) and after (filled circles). Dashed lines mark ±{threshold}; "
        "after adjustment, {flagged} of {total} covariates lie outside them. The balance table "
        "gives the same numbers."
    ),
    "chart_overlap_title": "Overlap of propensity scores",
    "chart_overlap_desc": (
        "Histogram of the estimated probability of treatment: treated above the axis, controls "
        "below, each as a share of its group. Treated scores range over {treated_range}; "
        "controls over {control_range}."
    ),
    "chart_legend_before": "before adjustment",
    "chart_legend_after": "after adjustment",
    "chart_legend_treated": "treated",
    "chart_legend_control": "controls",
    "chart_axis_smd": "standardised mean difference",
    "chart_axis_propensity": "propensity score (estimated probability of treatment)",
    "chart_no_data": "no data",
}

_ACTIVE: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "evaluation_report_texts", default=None
)


def texts() -> Mapping[str, str]:
    """The sentences in force: the translated ones inside ``report_texts``, else English."""
    return _ACTIVE.get() or TEXT


def fields(sentence: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(sentence) if name}


@contextlib.contextmanager
def report_texts(translated: Mapping[str, str]) -> Iterator[None]:
    """Render with ``translated`` sentences. Keys must be those of ``TEXT`` and each must keep
    its ``{fields}``; a missing or broken one falls back to English rather than fail."""
    merged = dict(TEXT)
    for key, sentence in translated.items():
        if key in TEXT and fields(sentence) == fields(TEXT[key]):
            merged[key] = sentence
    token = _ACTIVE.set(merged)
    try:
        yield
    finally:
        _ACTIVE.reset(token)

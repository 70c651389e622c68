"""The evaluation report's sentences as translatable strings.

The report is written by the pure analytics package, which cannot use Django's
translations; it takes translated sentences with the same keys and ``{fields}``
(``whatworks.analytics.evaluation.text.report_texts``). These are the English originals of
``analytics/evaluation/text.py``, repeated so that ``makemessages`` finds them; a test keeps
the two identical. Translators keep every ``{field}`` as it is.
"""

from django.utils.translation import gettext_lazy as _

# Translators: sentences of the programme-evaluation report. Keep {fields} unchanged.
REPORT_TEXT = {
    "summary_binary_att": _(
        "People who {treatment} {outcome_past} at {treated} against {control} for "
        "similar people who did not (difference {difference} points, 95% CI {low} to "
        "{high})."
    ),
    "summary_binary_ate": _(
        "If everyone in the cohort {treatment}, an estimated {treated} "
        "{outcome_would}; if no one did, {control} (difference {difference} points, "
        "95% CI {low} to {high})."
    ),
    "summary_binary_no_values": _(
        "The adjusted difference in the share who {outcome_bare} between people who "
        "{treatment} and {comparison} is {difference} points (95% CI {low} to "
        "{high})."
    ),
    "summary_continuous_att": _(
        "People who {treatment} had an average {outcome_noun} of {treated} against "
        "{control} for similar people who did not (difference {difference}, 95% CI "
        "{low} to {high})."
    ),
    "summary_continuous_ate": _(
        "If everyone in the cohort {treatment}, the average {outcome_noun} would be "
        "{treated}; if no one did, {control} (difference {difference}, 95% CI {low} "
        "to {high})."
    ),
    "summary_continuous_no_values": _(
        "The adjusted difference in average {outcome_noun} between people who "
        "{treatment} and {comparison} is {difference} (95% CI {low} to {high})."
    ),
    "summary_tte_att": _(
        "People who {treatment}, compared with similar people who did not: hazard "
        "ratio {estimate} (95% CI {low} to {high}; below 1 means fewer or later "
        "events)."
    ),
    "summary_tte_ate": _(
        "Everyone in the cohort taking part ({treatment}) compared with no one: "
        "hazard ratio {estimate} (95% CI {low} to {high}; below 1 means fewer or "
        "later events)."
    ),
    "summary_tte_horizon_att": _(
        "At {horizon} {unit}, {treated} against {control} had not {event_past}."
    ),
    "summary_tte_horizon_ate": _(
        "At {horizon} {unit}, an estimated {treated} would not have {event_past} if "
        "everyone took part, against {control} if no one did."
    ),
    "comparison_att": _("similar people who did not"),
    "comparison_ate": _("no one taking part"),
    "ci_includes_null": _(
        "The 95% confidence interval includes no difference ({null}): these data "
        "cannot rule out that the programme made no difference to this outcome."
    ),
    "ci_excludes_null": _("The 95% confidence interval does not include no difference ({null})."),
    "null_difference": _("0"),
    "null_ratio": _("a hazard ratio of 1"),
    "heading_warnings": _("Warnings"),
    "heading_summary": _("Summary"),
    "heading_estimate": _("Estimate"),
    "heading_naive": _("Unadjusted and adjusted comparison"),
    "heading_definition": _("Definition and cohort"),
    "heading_assumptions": _("Assumptions"),
    "heading_balance": _("Covariate balance"),
    "heading_overlap": _("Overlap of propensity scores"),
    "heading_survival": _("Survival at each horizon"),
    "heading_sensitivity": _("Sensitivity to unmeasured confounding"),
    "heading_cost_benefit": _("Benefits and costs"),
    "heading_caveats": _("Caveats"),
    "row_effect_measure": _("Effect measure"),
    "row_estimate": _("Adjusted estimate"),
    "row_ci": _("95% confidence interval"),
    "row_ci_method": _("Confidence interval method"),
    "row_treated_value": _("Treated group"),
    "row_control_value": _("Comparison group"),
    "row_naive": _("Unadjusted (naive) estimate"),
    "measure_risk_difference": _("difference in proportions (percentage points)"),
    "measure_mean_difference": _("difference in means"),
    "measure_hazard_ratio": _("hazard ratio"),
    "ci_method_influence": _("influence function (sandwich) standard errors"),
    "ci_method_bootstrap": _("bootstrap ({reps} resamples, seed {seed})"),
    "naive_sentence": _(
        "Without adjustment, the comparison gives {naive}; after adjustment, {adjusted}."
    ),
    "naive_overstates": _("The naive comparison would overstate the {kind} by {amount}."),
    "naive_understates": _("The naive comparison would understate the {kind} by {amount}."),
    "naive_reverses": _(
        "The naive comparison points in the opposite direction: adjustment reversed it."
    ),
    "naive_same": _("Adjustment changed the estimate very little."),
    "naive_missing": _("The unadjusted comparison was not reported."),
    "kind_benefit": _("benefit"),
    "kind_harm": _("harm"),
    "kind_difference": _("difference"),
    "points": _("{value} points"),
    "estimand_att": _(
        "Estimand: the average effect on the treated (ATT), that is, for the people "
        "who took part, the difference between what happened and what would have "
        "happened to them without the programme, estimated from similar people who "
        "did not take part."
    ),
    "estimand_ate": _(
        "Estimand: the average treatment effect (ATE), that is, the difference "
        "between everyone in the cohort taking part and no one taking part."
    ),
    "method_aipw": _(
        "Method: augmented inverse-probability weighting (AIPW, doubly robust). A "
        "model of who takes part (the propensity score) and a model of the outcome "
        "are combined; the estimate is consistent if either model is right."
    ),
    "method_ipw": _(
        "Method: inverse-probability weighting (IPW). People are weighted by their "
        "estimated probability of taking part so that the groups resemble each other "
        "on the covariates."
    ),
    "method_psm": _(
        "Method: nearest-neighbour matching on the logit of the propensity "
        "score{caliper}, {replacement}. Each treated person is compared with the "
        "most similar control."
    ),
    "caliper": _(" within a caliper of {caliper} standard deviations"),
    "with_replacement": _("with replacement (a control may be used more than once)"),
    "without_replacement": _("without replacement"),
    "trim": _(
        "People with a propensity score below {trim} or above {upper} were left out (trimming)."
    ),
    "row_treated": _("Treated"),
    "row_control": _("Controls"),
    "row_dropped": _("Left out: missing values"),
    "row_unmatched": _("Left out: no match within the caliper"),
    "row_trimmed": _("Left out: outside the trimming range"),
    "row_ess_treated": _("Effective sample size, treated"),
    "row_ess_control": _("Effective sample size, controls"),
    "ess_note": _(
        "The effective sample size is the number of equally weighted people that "
        "would carry the same information as the weighted or matched sample."
    ),
    "assumptions_intro": _("The estimate is a causal effect only if these hold:"),
    "assumption_confounding": _(
        "No unmeasured confounding: everything that affects both taking part and the "
        "outcome is among the covariates used ({covariates}). Anything else that "
        "matters and was not measured, such as motivation or a referrer's judgement, "
        "can bias the estimate."
    ),
    "assumption_overlap": _(
        "Overlap (positivity): people of every profile had some chance both of "
        "taking part and of not taking part. The overlap plot shows where this fails."
    ),
    "assumption_consistency": _(
        "Consistency: taking part means one well-defined thing; differences in dose, "
        "quality or completion are assumed not to change the effect."
    ),
    "assumption_interference": _(
        "No interference: one person's participation does not change another person's outcome."
    ),
    "assumption_limits": _(
        "A matched or weighted comparison can show the difference the programme made "
        "for people like those compared, if these assumptions hold. It cannot rule "
        "out bias from what was not measured, it is not a randomised trial, and it "
        "says nothing about people unlike those in the data."
    ),
    "balance_header_covariate": _("Covariate"),
    "balance_header_before": _("SMD before"),
    "balance_header_after": _("SMD after"),
    "balance_header_flag": _("Balanced?"),
    "balance_ok": _("yes"),
    "balance_flag": _("no: above {threshold}"),
    "balance_summary_ok": _(
        "After adjustment every covariate has an absolute standardised mean "
        "difference (SMD) of at most {threshold}."
    ),
    "balance_summary_flagged": _(
        "After adjustment {count} of {total} covariates still have an absolute "
        "standardised mean difference (SMD) above {threshold}: {names}."
    ),
    "balance_empty": _("No balance table was reported."),
    "overlap_note": _(
        "Bars show shares of each group, not counts. Where one group has bars and "
        "the other none, the comparison rests on few or no similar people."
    ),
    "overlap_empty": _("No propensity scores were reported."),
    "survival_header_horizon": _("Time ({unit})"),
    "survival_header_treated": _("Not yet an event, treated"),
    "survival_header_control": _("Not yet an event, comparison"),
    "survival_header_difference": _("Difference (points)"),
    "evalue_sentence": _(
        "An unmeasured confounder would need to be associated with both taking part "
        "({treatment}) and the outcome ({outcome}) by a risk ratio of {point} each, "
        "above and beyond the measured covariates, to explain away the estimate; "
        "{ci_part}."
    ),
    "evalue_ci_part": _("{ci} to move the confidence interval to include no effect"),
    "evalue_ci_null": _("the confidence interval already includes no effect"),
    "evalue_missing": _("No E-value was reported."),
    "evalue_scale": _("Scale of the E-value: {scale}."),
    "evalue_note": _(
        "E-values (VanderWeele and Ding, 2017) measure how strong unmeasured "
        "confounding would have to be; a value close to 1 means weak confounding "
        "would suffice."
    ),
    "placebo_sentence": _(
        "Placebo check: on {outcome}, which the programme should not have changed, "
        "the adjusted estimate is {estimate} (95% CI {low} to {high})."
    ),
    "placebo_ok": _("Its interval includes no difference, as it should."),
    "placebo_flag": _(
        "Its interval excludes no difference: this suggests confounding the "
        "covariates do not remove, and the main estimate should be read with caution."
    ),
    "cb_intro": _(
        "For {participants} participants, benefits of {benefits} against costs of "
        "{costs}: a net present value of {npv} and a benefit/cost ratio of {ratio}. "
        "In {share} of {reps} simulations the benefits exceeded the costs."
    ),
    "cb_ratio_missing": _("no ratio (zero cost)"),
    "cb_range": _(
        "The net present value lies between {low} and {high} in 90% of the "
        "simulations (5th to 95th percentile)."
    ),
    "cb_example": _(
        "These costs are the illustrative examples built into the software, not "
        "official figures: do not publish them as a result."
    ),
    "cb_method": _(
        "Method after the Washington State Institute for Public Policy: avoided "
        "reoffences per participant times the avoided cost of each reoffence, "
        "discounted at {rate} a year over {years} years, against the programme's "
        "cost; the Monte Carlo draws the effect from its confidence interval and the "
        "costs from their uncertainty."
    ),
    "row_participants": _("Participants"),
    "row_cost_per_participant": _("Cost per participant"),
    "row_avoided": _("Avoided reoffences per participant"),
    "row_avoided_cost": _("Avoided cost per reoffence: {name}"),
    "row_benefits": _("Benefits (present value)"),
    "row_costs": _("Costs"),
    "row_npv": _("Net present value"),
    "row_ratio": _("Benefit/cost ratio"),
    "row_probability": _("Chance that benefits exceed costs"),
    "caveat_sampling": _(
        "Confidence intervals reflect chance only, not bias from unmeasured "
        "confounding, errors in the records or the choice of outcome definition."
    ),
    "caveat_population": _(
        "The estimate describes the people compared in this cohort; other people, "
        "places or times may differ."
    ),
    "caveat_records": _(
        "Recorded reoffending depends on the definition used and on police and court "
        "practice, not only on behaviour."
    ),
    "no_label_treatment": _("had {column} = 1"),
    "no_label_outcome_past": _("had {column} = 1"),
    "no_label_outcome_would": _("would have {column} = 1"),
    "no_label_outcome_bare": _("had {column} = 1"),
    "no_label_event_past": _("had the event ({column})"),
    "label_outcome_past": _("were {label}"),
    "label_outcome_would": _("would be {label}"),
    "not_reported": _("not reported"),
    "chart_love_title": _("Love plot: covariate balance before and after adjustment"),
    "chart_love_desc": _(
        "Standardised mean difference between treated and controls for each "
        "covariate, before adjustment (open circles) and after (filled circles). "
        "Dashed lines mark ±{threshold}; after adjustment, {flagged} of {total} "
        "covariates lie outside them. The balance table gives the same numbers."
    ),
    "chart_overlap_title": _("Overlap of propensity scores"),
    "chart_overlap_desc": _(
        "Histogram of the estimated probability of treatment: treated above the "
        "axis, controls below, each as a share of its group. Treated scores range "
        "over {treated_range}; controls over {control_range}."
    ),
    "chart_legend_before": _("before adjustment"),
    "chart_legend_after": _("after adjustment"),
    "chart_legend_treated": _("treated"),
    "chart_legend_control": _("controls"),
    "chart_axis_smd": _("standardised mean difference"),
    "chart_axis_propensity": _("propensity score (estimated probability of treatment)"),
    "chart_no_data": _("no data"),
}


def translated_report_texts() -> dict[str, str]:
    """The report's sentences in the active language."""
    return {key: str(sentence) for key, sentence in REPORT_TEXT.items()}

"""Sensitivity to unmeasured confounding: the E-value, and placebo outcomes.

E-value (VanderWeele & Ding 2017)
    The minimum strength of association, on the risk-ratio scale, that an unmeasured
    confounder would need with both the treatment and the outcome to explain away the
    estimate: E = RR + sqrt(RR (RR - 1)) for RR >= 1 (use 1/RR below 1). It is given for the
    point estimate and for the confidence bound nearer the null (1 when the interval
    crosses the null). Conversions to a risk ratio:

    - difference in proportions: RR = treated_value / control_value; the interval bounds
      are converted holding the control proportion fixed, (control + bound) / control;
    - difference in means: RR ~ exp(0.91 d), d the difference over the pooled standard
      deviation of the outcome (VanderWeele 2017), the bounds likewise;
    - hazard ratio: when the outcome is common (more than 15% have the event),
      RR ~ (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)) (VanderWeele 2020); otherwise the hazard
      ratio approximates the risk ratio.

Placebo outcome
    The same estimator applied to an outcome the programme cannot have affected (e.g. an
    offence before the programme started); an interval excluding 0 suggests confounding
    that the covariates do not remove.
"""

from __future__ import annotations

import math
from typing import Any

COMMON_OUTCOME = 0.15


def evalue_from_rr(rr: float) -> float:
    if rr <= 0 or not math.isfinite(rr):
        return math.nan
    if rr < 1:
        rr = 1 / rr
    return rr + math.sqrt(rr * (rr - 1))


def _hr_to_rr(hr: float) -> float:
    return (1 - 0.5 ** math.sqrt(hr)) / (1 - 0.5 ** math.sqrt(1 / hr))


def evalue(
    *,
    effect_measure: str,
    estimate: float,
    ci_low: float,
    ci_high: float,
    control_value: float | None,
    outcome_sd: float | None = None,
    event_share: float | None = None,
) -> dict[str, Any]:
    """E-values for the estimate and for the confidence bound nearer the null."""
    if effect_measure == "risk_difference":
        if not control_value or control_value <= 0:
            return {"point": None, "ci": None, "scale": "not available (control risk is 0)"}

        def to_rr(v: float) -> float:
            return max(control_value + v, 1e-12) / control_value

        scale = "risk ratio"
    elif effect_measure == "mean_difference":
        if not outcome_sd:
            return {"point": None, "ci": None, "scale": "not available (outcome SD is 0)"}

        def to_rr(v: float) -> float:
            return math.exp(0.91 * v / outcome_sd)

        scale = "risk ratio from the standardised mean difference, exp(0.91 d)"
    else:
        common = event_share is not None and event_share > COMMON_OUTCOME
        if common:
            to_rr = _hr_to_rr
            scale = "risk ratio from the hazard ratio (common outcome, sqrt(HR) conversion)"
        else:

            def to_rr(v: float) -> float:
                return v

            scale = "hazard ratio (rare outcome, taken as a risk ratio)"
    rr, low, high = to_rr(estimate), to_rr(ci_low), to_rr(ci_high)
    ci_value = 1.0 if low <= 1 <= high else evalue_from_rr(low if rr > 1 else high)
    return {"point": evalue_from_rr(rr), "ci": ci_value, "scale": scale}

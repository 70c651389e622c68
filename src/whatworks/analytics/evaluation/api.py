"""``evaluate(frame, spec)``: one programme evaluation, from a data frame to a result.

Examples
--------
>>> from lifelines.datasets import load_rossi
>>> from whatworks.analytics.evaluation import EvaluationSpec, evaluate
>>> spec = EvaluationSpec(
...     treatment="fin", duration="week", event="arrest",
...     covariates=("age", "race", "wexp", "mar", "paro", "prio"), min_treated=0,
... )
>>> round(evaluate(load_rossi(), spec).estimate, 2)
0.68
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from whatworks.analytics.evaluation import diagnostics, estimators
from whatworks.analytics.evaluation.data import PreparedData, prepare
from whatworks.analytics.evaluation.result import (
    EffectMeasure,
    EvaluationResult,
    EvaluationSpec,
    Warning_,
)
from whatworks.analytics.evaluation.sensitivity import evalue

Z95 = estimators.Z95


def _point(
    x: np.ndarray, t: np.ndarray, y: np.ndarray, spec: EvaluationSpec, binary: bool
) -> estimators.Fit:
    if spec.method == "psm":
        return estimators.fit_psm(x, t, y, spec.estimand, spec.caliper, spec.replacement)
    if spec.method == "ipw":
        return estimators.fit_ipw(x, t, y, spec.estimand, spec.trim)
    if spec.method == "aipw":
        return estimators.fit_aipw(x, t, y, spec.estimand, spec.trim, binary)
    raise ValueError(f"unknown method {spec.method!r}")


def _ci_method(spec: EvaluationSpec, notes: list[str]) -> str:
    if spec.method == "psm" and spec.outcome is not None:
        if spec.ci_method == "influence":
            notes.append(
                "Matching has no influence-function interval here; the bootstrap was used."
            )
        return "bootstrap"
    return spec.ci_method or "influence"


def _difference(
    data: PreparedData, y: np.ndarray, spec: EvaluationSpec, ci_method: str
) -> tuple[estimators.Fit, float, float, int]:
    """Point estimate and 95% interval for a binary or continuous outcome."""
    x, t = data.x, data.treatment
    binary = bool(set(np.unique(y).tolist()) <= {0.0, 1.0})
    fit = _point(x, t, y, spec, binary)
    if ci_method == "influence":
        assert fit.se is not None
        return fit, fit.estimate - Z95 * fit.se, fit.estimate + Z95 * fit.se, 0
    low, high, failed = estimators.bootstrap_ci(
        lambda idx: _point(x[idx], t[idx], y[idx], spec, binary).estimate,
        t,
        spec.bootstrap_reps,
        spec.seed,
    )
    return fit, low, high, failed


def _time_to_event(
    data: PreparedData, spec: EvaluationSpec, ci_method: str
) -> tuple[estimators.Fit, float, float, int]:
    assert data.duration is not None and data.event is not None
    x, t, d, e = data.x, data.treatment, data.duration, data.event
    horizons = spec.horizons or estimators.default_horizons(d, e)
    fit = estimators.fit_survival(x, t, d, e, spec.estimand, spec.trim, horizons)
    if ci_method == "influence":
        assert fit.se is not None
        log_hr = math.log(fit.estimate)
        return fit, math.exp(log_hr - Z95 * fit.se), math.exp(log_hr + Z95 * fit.se), 0
    low, high, failed = estimators.bootstrap_ci(
        lambda idx: (
            estimators.fit_survival(
                x[idx], t[idx], d[idx], e[idx], spec.estimand, spec.trim, horizons
            ).estimate
        ),
        t,
        spec.bootstrap_reps,
        spec.seed,
    )
    return fit, low, high, failed


def _pooled_sd(y: np.ndarray, t: np.ndarray) -> float:
    return float(math.sqrt((y[t == 1].var(ddof=1) + y[t == 0].var(ddof=1)) / 2))


def _placebo(
    data: PreparedData, spec: EvaluationSpec, ci_method: str, warnings: list[Warning_]
) -> dict[str, Any]:
    assert data.placebo is not None
    placebo_spec = spec
    if data.outcome_type == "time_to_event" and spec.method == "psm":
        ci_method = "bootstrap"
    fit, low, high, _ = _difference(data, data.placebo, placebo_spec, ci_method)
    if low > 0 or high < 0:
        warnings.append(
            Warning_(
                "placebo_effect",
                f"The programme appears to change {spec.placebo_outcome!r}, which it cannot "
                f"have affected ({fit.estimate:+.3f}, 95% CI {low:+.3f} to {high:+.3f}): "
                "a sign of confounding the covariates do not remove.",
                {"outcome": spec.placebo_outcome, "estimate": fit.estimate},
            )
        )
    return {
        "estimate": fit.estimate,
        "ci_low": low,
        "ci_high": high,
        "outcome": spec.placebo_outcome,
    }


def evaluate(frame: Any, spec: EvaluationSpec) -> EvaluationResult:
    """Estimate the effect of ``spec.treatment`` on the outcome, with diagnostics.

    ``frame`` is a polars or pandas DataFrame; bad data raise ``EvaluationInputError``
    naming the column. See ``estimators`` for the methods and ``diagnostics`` and
    ``sensitivity`` for what else is reported.
    """
    data = prepare(frame, spec)
    warnings = list(data.warnings)
    notes = list(data.notes)
    t = data.treatment
    ci_method = _ci_method(spec, notes)
    effect_measure: EffectMeasure
    if data.outcome_type == "time_to_event":
        assert data.duration is not None and data.event is not None
        fit, low, high, failed = _time_to_event(data, spec, ci_method)
        effect_measure = "hazard_ratio"
        naive = estimators.naive_hazard_ratio(t, data.duration, data.event)
        notes.append(
            "Time to event: whatever the method, the groups are balanced with propensity "
            f"weights ({spec.estimand.upper()}, as in IPW) and compared by a weighted Cox "
            "model with a robust variance and weighted Kaplan-Meier curves."
        )
        sensitivity = evalue(
            effect_measure=effect_measure,
            estimate=fit.estimate,
            ci_low=low,
            ci_high=high,
            control_value=fit.control_value,
            event_share=float(data.event.mean()),
        )
    else:
        assert data.outcome is not None
        fit, low, high, failed = _difference(data, data.outcome, spec, ci_method)
        effect_measure = "risk_difference" if data.outcome_type == "binary" else "mean_difference"
        naive = estimators.naive_difference(t, data.outcome)
        sensitivity = evalue(
            effect_measure=effect_measure,
            estimate=fit.estimate,
            ci_low=low,
            ci_high=high,
            control_value=fit.control_value,
            outcome_sd=_pooled_sd(data.outcome, t),
        )
    if spec.trim and spec.method == "psm" and data.outcome_type != "time_to_event":
        notes.append("Trimming applies to weighting only; it was not used for matching.")
    if failed:
        warnings.append(
            Warning_(
                "bootstrap_failures",
                f"{failed} of {spec.bootstrap_reps} bootstrap resamples could not be "
                "estimated and were left out of the interval.",
                {"failed": failed, "reps": spec.bootstrap_reps},
            )
        )
    if fit.n_unmatched:
        warnings.append(
            Warning_(
                "unmatched",
                f"{fit.n_unmatched} people had no match within the caliper and are not in "
                "the estimate, which then describes only those who could be matched.",
                {"n_unmatched": fit.n_unmatched},
            )
        )
    if fit.n_trimmed:
        warnings.append(
            Warning_(
                "trimmed",
                f"{fit.n_trimmed} people with a propensity outside [{spec.trim}, "
                f"{1 - (spec.trim or 0)}] were left out; the estimate describes the rest.",
                {"n_trimmed": fit.n_trimmed, "trim": spec.trim},
            )
        )

    rows = diagnostics.balance(data.x, t, fit.weights, data.covariates)
    for warning in (
        diagnostics.balance_warning(rows),
        diagnostics.overlap_warning(fit.ps, t, spec.estimand),
    ):
        if warning is not None:
            warnings.append(warning)
    placebo = None
    if data.placebo is not None:
        placebo = _placebo(data, spec, ci_method, warnings)

    return EvaluationResult(
        spec=spec,
        outcome_type=data.outcome_type,
        effect_measure=effect_measure,
        estimate=float(fit.estimate),
        ci_low=float(low),
        ci_high=float(high),
        ci_method=ci_method,
        treated_value=float(fit.treated_value),
        control_value=float(fit.control_value),
        n_treated=data.n_treated,
        n_control=data.n_control,
        n_dropped_missing=data.n_dropped_missing,
        n_unmatched=fit.n_unmatched,
        n_trimmed=fit.n_trimmed,
        ess_treated=diagnostics.effective_sample_size(fit.weights[t == 1]),
        ess_control=diagnostics.effective_sample_size(fit.weights[t == 0]),
        balance=rows,
        overlap=diagnostics.overlap_histogram(fit.ps, t),
        warnings=tuple(warnings),
        evalue=sensitivity,
        naive=naive,
        survival=fit.survival,
        placebo=placebo,
        notes=tuple(notes),
    )

"""Diagnostics: covariate balance, overlap of the propensity scores, effective sample size.

Standardised mean difference (SMD)
    (mean_treated - mean_control) / sqrt((var_treated + var_control) / 2). The denominator
    is always the pooled standard deviation of the *unweighted* groups, before and after
    adjustment, so that the two SMDs differ only by the change in the means (Austin 2009).
    After adjustment the means are weighted: by the estimand's weights for IPW, AIPW and
    time to event; by how many times each unit is used in the matched sample for PSM.

Poor overlap (rule)
    Flagged when (a) more than 5% of the treated have a propensity above 0.95 (no
    comparable untreated people; matters for the ATT and the ATE), (b) for the ATE, more
    than 5% of the controls have a propensity below 0.05, or (c) the two distributions
    barely overlap: the overlapping coefficient of the 20-bin histograms (sum over bins of
    the smaller of the two shares) is below 0.25.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from whatworks.analytics.evaluation.result import BALANCE_THRESHOLD, BalanceRow, Warning_

EXTREME_PS = 0.95
EXTREME_SHARE = 0.05
MIN_OVERLAP_COEFFICIENT = 0.25
BINS = 20


def standardised_differences(
    x: np.ndarray, t: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    treated = t == 1
    x1, x0 = x[treated], x[~treated]
    pooled = np.sqrt((x1.var(axis=0, ddof=1) + x0.var(axis=0, ddof=1)) / 2)
    if weights is None:
        diff = x1.mean(axis=0) - x0.mean(axis=0)
    else:
        diff = np.average(x1, axis=0, weights=weights[treated]) - np.average(
            x0, axis=0, weights=weights[~treated]
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        smd = np.where(pooled > 0, diff / pooled, np.where(diff == 0, 0.0, np.sign(diff) * 1e6))
    return smd


def balance(
    x: np.ndarray, t: np.ndarray, weights: np.ndarray, names: tuple[str, ...]
) -> tuple[BalanceRow, ...]:
    before = standardised_differences(x, t)
    after = standardised_differences(x, t, weights)
    return tuple(
        BalanceRow(name, float(b), float(a))
        for name, b, a in zip(names, before, after, strict=True)
    )


def balance_warning(rows: tuple[BalanceRow, ...]) -> Warning_ | None:
    failed = [r for r in rows if abs(r.smd_after) > BALANCE_THRESHOLD]
    if not failed:
        return None
    listing = ", ".join(f"{r.covariate} ({r.smd_after:+.2f})" for r in failed)
    return Warning_(
        "balance_failed",
        f"After adjustment {len(failed)} covariate(s) still differ by more than "
        f"{BALANCE_THRESHOLD} standard deviations: {listing}.",
        {"covariates": [r.covariate for r in failed], "threshold": BALANCE_THRESHOLD},
    )


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish: (sum w)^2 / sum w^2."""
    total = weights.sum()
    squares = (weights**2).sum()
    return float(total**2 / squares) if squares > 0 else 0.0


def overlap_histogram(ps: np.ndarray, t: np.ndarray) -> dict[str, Any]:
    edges = np.linspace(0.0, 1.0, BINS + 1)
    treated, _ = np.histogram(ps[t == 1], bins=edges)
    control, _ = np.histogram(ps[t == 0], bins=edges)
    return {
        "edges": [float(e) for e in edges],
        "treated": [int(c) for c in treated],
        "control": [int(c) for c in control],
    }


def overlap_warning(ps: np.ndarray, t: np.ndarray, estimand: str) -> Warning_ | None:
    hist = overlap_histogram(ps, t)
    share_t = np.array(hist["treated"]) / max(sum(hist["treated"]), 1)
    share_c = np.array(hist["control"]) / max(sum(hist["control"]), 1)
    coefficient = float(np.minimum(share_t, share_c).sum())
    high_treated = float((ps[t == 1] > EXTREME_PS).mean())
    low_control = float((ps[t == 0] < 1 - EXTREME_PS).mean())
    reasons = []
    if high_treated > EXTREME_SHARE:
        reasons.append(f"{high_treated:.0%} of the treated have a propensity above {EXTREME_PS}")
    if estimand == "ate" and low_control > EXTREME_SHARE:
        reasons.append(
            f"{low_control:.0%} of the comparison group have a propensity below "
            f"{1 - EXTREME_PS:.2f}"
        )
    if coefficient < MIN_OVERLAP_COEFFICIENT:
        reasons.append(f"the propensity distributions overlap by only {coefficient:.0%}")
    if not reasons:
        return None
    return Warning_(
        "poor_overlap",
        "Treated and comparison groups are hard to compare: " + "; ".join(reasons) + ".",
        {
            "share_treated_above": high_treated,
            "share_control_below": low_control,
            "overlap_coefficient": coefficient,
        },
    )

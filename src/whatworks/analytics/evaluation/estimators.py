"""Propensity-score estimators of a programme's effect: matching, weighting and AIPW.

All models are fitted by scikit-learn and lifelines; this module only combines them.

Propensity score
    ``LogisticRegression(C=1e4, solver="newton-cholesky")`` (scikit-learn) on standardised
    covariates: a ridge penalty so weak that it is negligible on well-behaved data (the fit
    is then the maximum-likelihood one for practical purposes) but keeps the coefficients
    finite, instead of failing, when a covariate separates the groups; that case is then
    reported by the overlap diagnostics rather than crashing the evaluation. The same
    settings fit the logistic outcome models of AIPW.

Estimands (``e`` the propensity, ``T`` treatment, ``Y`` outcome, ``mu_a`` the outcome model
fitted in arm ``a``)
    IPW, ATE   Hajek means with stabilised weights P(T)/e and (1 - P(T))/(1 - e).
    IPW, ATT   treated weight 1, controls e/(1 - e) normalised to the number treated.
    AIPW, ATE  mean of mu_1 + T(Y - mu_1)/e  minus mean of mu_0 + (1-T)(Y - mu_0)/(1-e).
    AIPW, ATT  (1/n_1) sum [T(Y - mu_0) - (1-T) e/(1-e) (Y - mu_0)]
               (the doubly robust ATT of Hahn 1998; Moodie et al. 2018, eq. 5).
    PSM        1:1 nearest neighbour on logit(e) within a caliper of ``caliper`` standard
               deviations of logit(e) (pooled over the two groups, Austin 2011), greedy in
               decreasing order of the propensity when without replacement. The ATE matches
               both ways (treated to controls and controls to treated).
    Time to event: propensity weights as in IPW (whatever the method), a weighted Cox model
    with the treatment as the only covariate and a robust (Lin-Wei sandwich) variance, and
    weighted Kaplan-Meier curves per arm.

Confidence intervals
    IPW: M-estimation sandwich stacking the propensity score equations with the two
    weighted means, so the uncertainty of the estimated propensity is accounted for
    (Lunceford & Davidian 2004). AIPW: the efficient influence function (the propensity
    estimate does not change it to first order). PSM: bootstrap. Bootstrap resamples units
    within each arm (so both arms keep their size), refits every model and takes the
    2.5% and 97.5% percentiles.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import NearestNeighbors

from whatworks.analytics.evaluation.data import EvaluationInputError

Z95 = float(stats.norm.ppf(0.975))
PS_CLIP = 1e-10
LOGIT_C = 1e4


@dataclasses.dataclass(frozen=True)
class Fit:
    """One point estimate with what the diagnostics need. ``weights`` covers every unit
    (0 for trimmed or unmatched units); ``se`` is the influence-function standard error
    (on the log scale for a hazard ratio) when the method has one."""

    estimate: float
    treated_value: float
    control_value: float
    se: float | None
    ps: np.ndarray
    weights: np.ndarray
    n_unmatched: int = 0
    n_trimmed: int = 0
    survival: dict[str, list[float]] | None = None


def _standardise(x: np.ndarray) -> np.ndarray:
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0
    return (x - x.mean(axis=0)) / sd


def _logistic() -> LogisticRegression:
    return LogisticRegression(C=LOGIT_C, solver="newton-cholesky", max_iter=200)


def propensity(x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Propensity score for every unit, and the design (intercept + standardised x) it used."""
    z = _standardise(x)
    model = _logistic().fit(z, t)
    ps = np.clip(model.predict_proba(z)[:, 1], PS_CLIP, 1 - PS_CLIP)
    return ps, np.column_stack([np.ones(len(z)), z])


def ipw_weights(ps: np.ndarray, t: np.ndarray, estimand: str) -> np.ndarray:
    """Stabilised weights: ATE P(T)/e and (1-P(T))/(1-e); ATT 1 and e/(1-e) normalised."""
    if estimand == "ate":
        p = t.mean()
        return np.where(t == 1, p / ps, (1 - p) / (1 - ps))
    odds = ps / (1 - ps)
    control = t == 0
    scale = t.sum() / odds[control].sum()
    return np.where(t == 1, 1.0, odds * scale)


def _trimmed(
    x: np.ndarray, t: np.ndarray, trim: float | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Propensity, design and kept mask after dropping units with e outside [trim, 1-trim];
    the propensity is refitted on the units kept."""
    ps, design = propensity(x, t)
    keep = np.ones(len(t), dtype=bool)
    if trim:
        keep = (ps >= trim) & (ps <= 1 - trim)
        if not keep.all():
            kept_t = t[keep]
            if kept_t.sum() == 0 or kept_t.sum() == len(kept_t):
                raise EvaluationInputError(
                    f"trimming at {trim} leaves no treated or no comparison units"
                )
            ps_kept, design = propensity(x[keep], kept_t)
            ps = ps.copy()
            ps[keep] = ps_kept
    return ps, design, keep, ps[keep]


def _sandwich_ipw(
    design: np.ndarray,
    t: np.ndarray,
    y: np.ndarray,
    ps: np.ndarray,
    mu1: float,
    mu0: float,
    estimand: str,
) -> float:
    """Standard error of mu1 - mu0 from the stacked estimating equations
    [X(T - e); w1 T (Y - mu1); w0 (1-T)(Y - mu0)], with the propensity's own equations."""
    n, k = design.shape
    r1, r0 = y - mu1, y - mu0
    if estimand == "ate":
        a1, a0 = t / ps, (1 - t) / (1 - ps)
        # d(1/e)/dbeta = -(1-e)/e X ; d(1/(1-e))/dbeta = e/(1-e) X
        d1 = -(t * r1 * (1 - ps) / ps)[:, None] * design
        d0 = ((1 - t) * r0 * ps / (1 - ps))[:, None] * design
    else:
        odds = ps / (1 - ps)
        a1, a0 = t.astype(float), (1 - t) * odds
        d1 = np.zeros_like(design)
        d0 = ((1 - t) * r0 * odds)[:, None] * design
    scores = np.column_stack([design * (t - ps)[:, None], a1 * r1, a0 * r0])
    jac = np.zeros((k + 2, k + 2))
    jac[:k, :k] = -(design * (ps * (1 - ps))[:, None]).T @ design / n
    jac[k, :k] = d1.mean(axis=0)
    jac[k, k] = -a1.mean()
    jac[k + 1, :k] = d0.mean(axis=0)
    jac[k + 1, k + 1] = -a0.mean()
    meat = scores.T @ scores / n
    inv = np.linalg.pinv(jac)
    cov = inv @ meat @ inv.T / n
    contrast = np.zeros(k + 2)
    contrast[k], contrast[k + 1] = 1.0, -1.0
    return float(math.sqrt(max(contrast @ cov @ contrast, 0.0)))


def fit_ipw(x: np.ndarray, t: np.ndarray, y: np.ndarray, estimand: str, trim: float | None) -> Fit:
    ps, design, keep, ps_k = _trimmed(x, t, trim)
    t_k, y_k = t[keep], y[keep]
    w = ipw_weights(ps_k, t_k, estimand)
    treated = t_k == 1
    mu1 = float(np.average(y_k[treated], weights=w[treated]))
    mu0 = float(np.average(y_k[~treated], weights=w[~treated]))
    se = _sandwich_ipw(design, t_k, y_k, ps_k, mu1, mu0, estimand)
    weights = np.zeros(len(t))
    weights[keep] = w
    return Fit(mu1 - mu0, mu1, mu0, se, ps, weights, n_trimmed=int((~keep).sum()))


def _outcome_prediction(z: np.ndarray, y: np.ndarray, arm: np.ndarray, binary: bool) -> np.ndarray:
    """Outcome model fitted in one arm, predicted for everyone: logistic or least squares."""
    if binary:
        if np.ptp(y[arm]) == 0:  # one class only: the model is that constant
            return np.full(len(y), float(y[arm][0]))
        return _logistic().fit(z[arm], y[arm]).predict_proba(z)[:, 1]
    return LinearRegression().fit(z[arm], y[arm]).predict(z)


def fit_aipw(
    x: np.ndarray, t: np.ndarray, y: np.ndarray, estimand: str, trim: float | None, binary: bool
) -> Fit:
    ps, _, keep, e = _trimmed(x, t, trim)
    t_k, y_k = t[keep], y[keep]
    z = _standardise(x[keep])
    treated = t_k == 1
    mu0 = _outcome_prediction(z, y_k, ~treated, binary)
    n = len(t_k)
    if estimand == "ate":
        mu1 = _outcome_prediction(z, y_k, treated, binary)
        psi1 = mu1 + t_k * (y_k - mu1) / e
        psi0 = mu0 + (1 - t_k) * (y_k - mu0) / (1 - e)
        v1, v0 = float(psi1.mean()), float(psi0.mean())
        tau = v1 - v0
        phi = psi1 - psi0 - tau
    else:
        p1 = treated.mean()
        odds = e / (1 - e)
        contrib = t_k * (y_k - mu0) - (1 - t_k) * odds * (y_k - mu0)
        tau = float(contrib.sum() / treated.sum())
        v1 = float(y_k[treated].mean())
        v0 = v1 - tau
        phi = (contrib - t_k * tau) / p1
    se = float(math.sqrt(np.mean(phi**2) / n))
    weights = np.zeros(len(t))
    weights[keep] = ipw_weights(e, t_k, estimand)
    return Fit(tau, v1, v0, se, ps, weights, n_trimmed=int((~keep).sum()))


def _match(source: np.ndarray, target: np.ndarray, width: float, replacement: bool) -> np.ndarray:
    """Index in ``target`` of each ``source`` unit's match on the logit scale, -1 if none
    within ``width``. Without replacement: greedy, highest propensity first."""
    nn = NearestNeighbors(n_neighbors=1).fit(target.reshape(-1, 1))
    if replacement:
        dist, idx = nn.kneighbors(source.reshape(-1, 1))
        return np.where(dist[:, 0] <= width, idx[:, 0], -1)
    k = min(len(target), 25)
    dist, idx = nn.kneighbors(source.reshape(-1, 1), n_neighbors=k)
    used = np.zeros(len(target), dtype=bool)
    matches = np.full(len(source), -1)
    for i in np.argsort(-source, kind="stable"):
        chosen = -1
        for d, j in zip(dist[i], idx[i], strict=True):
            if d > width:
                break
            if not used[j]:
                chosen = int(j)
                break
        else:  # all k nearest are taken: search every remaining target
            free = np.flatnonzero(~used)
            if len(free):
                gaps = np.abs(target[free] - source[i])
                best = int(np.argmin(gaps))
                if gaps[best] <= width:
                    chosen = int(free[best])
        if chosen >= 0:
            used[chosen] = True
            matches[i] = chosen
    return matches


def fit_psm(
    x: np.ndarray,
    t: np.ndarray,
    y: np.ndarray,
    estimand: str,
    caliper: float | None,
    replacement: bool,
) -> Fit:
    ps, _ = propensity(x, t)
    logit = np.log(ps / (1 - ps))
    treated_idx, control_idx = np.flatnonzero(t == 1), np.flatnonzero(t == 0)
    pooled_sd = math.sqrt((logit[treated_idx].var(ddof=1) + logit[control_idx].var(ddof=1)) / 2)
    width = caliper * pooled_sd if caliper is not None else math.inf
    weights = np.zeros(len(t))
    y1_parts: list[np.ndarray] = []
    y0_parts: list[np.ndarray] = []
    unmatched = 0
    directions = [(treated_idx, control_idx, True)]
    if estimand == "ate":
        directions.append((control_idx, treated_idx, False))
    for source, target, source_treated in directions:
        m = _match(logit[source], logit[target], width, replacement)
        ok = m >= 0
        unmatched += int((~ok).sum())
        src, tgt = source[ok], target[m[ok]]
        np.add.at(weights, src, 1.0)
        np.add.at(weights, tgt, 1.0)
        y1_parts.append(y[src] if source_treated else y[tgt])
        y0_parts.append(y[tgt] if source_treated else y[src])
    y1, y0 = np.concatenate(y1_parts), np.concatenate(y0_parts)
    if len(y1) == 0:
        raise EvaluationInputError(
            f"no treated unit has a match within the caliper ({caliper} SD of logit ps)"
        )
    v1, v0 = float(y1.mean()), float(y0.mean())
    return Fit(v1 - v0, v1, v0, None, ps, weights, n_unmatched=unmatched)


def default_horizons(duration: np.ndarray, event: np.ndarray) -> tuple[float, ...]:
    """Quartiles of the times at which events were observed (distinct values only)."""
    times = duration[event == 1]
    return tuple(sorted({float(q) for q in np.quantile(times, [0.25, 0.5, 0.75])}))


def _cox(
    t: np.ndarray, duration: np.ndarray, event: np.ndarray, weights: np.ndarray | None
) -> tuple[float, float]:
    """log hazard ratio of treatment and its standard error (robust when weighted)."""
    from lifelines import CoxPHFitter

    df = pd.DataFrame({"treated": t, "duration": duration, "event": event})
    kwargs: dict[str, object] = {}
    if weights is not None:
        df["w"] = weights
        kwargs = {"weights_col": "w", "robust": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph = CoxPHFitter().fit(df, "duration", "event", **kwargs)
    return float(cph.params_["treated"]), float(cph.standard_errors_["treated"])


def _km_at(
    duration: np.ndarray, event: np.ndarray, weights: np.ndarray, horizons: Sequence[float]
) -> list[float]:
    from lifelines import KaplanMeierFitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        km = KaplanMeierFitter().fit(duration, event, weights=weights)
    return [float(v) for v in km.survival_function_at_times(list(horizons)).to_numpy()]


def fit_survival(
    x: np.ndarray,
    t: np.ndarray,
    duration: np.ndarray,
    event: np.ndarray,
    estimand: str,
    trim: float | None,
    horizons: Sequence[float],
) -> Fit:
    ps, _, keep, e = _trimmed(x, t, trim)
    t_k, d_k, ev_k = t[keep], duration[keep], event[keep]
    w = ipw_weights(e, t_k, estimand)
    log_hr, se = _cox(t_k, d_k, ev_k, w)
    arm = t_k == 1
    s1 = _km_at(d_k[arm], ev_k[arm], w[arm], horizons)
    s0 = _km_at(d_k[~arm], ev_k[~arm], w[~arm], horizons)
    survival = {
        "horizons": [float(h) for h in horizons],
        "treated": s1,
        "control": s0,
        "difference": [a - b for a, b in zip(s1, s0, strict=True)],
    }
    weights = np.zeros(len(t))
    weights[keep] = w
    return Fit(
        math.exp(log_hr),
        s1[0],
        s0[0],
        se,
        ps,
        weights,
        n_trimmed=int((~keep).sum()),
        survival=survival,
    )


def naive_difference(t: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Unadjusted difference in means (proportions) with a Welch/Wald 95% interval."""
    y1, y0 = y[t == 1], y[t == 0]
    est = float(y1.mean() - y0.mean())
    var1 = y1.var(ddof=1) if len(y1) > 1 else 0.0
    var0 = y0.var(ddof=1) if len(y0) > 1 else 0.0
    se = math.sqrt(var1 / len(y1) + var0 / len(y0))
    return {"estimate": est, "ci_low": est - Z95 * se, "ci_high": est + Z95 * se}


def naive_hazard_ratio(t: np.ndarray, duration: np.ndarray, event: np.ndarray) -> dict[str, float]:
    log_hr, se = _cox(t, duration, event, None)
    return {
        "estimate": math.exp(log_hr),
        "ci_low": math.exp(log_hr - Z95 * se),
        "ci_high": math.exp(log_hr + Z95 * se),
    }


def bootstrap_ci(
    estimate_on: Callable[[np.ndarray], float], t: np.ndarray, reps: int, seed: int
) -> tuple[float, float, int]:
    """Percentile 95% interval of ``estimate_on(indices)`` over ``reps`` resamples drawn
    within each arm; also returns how many resamples could not be estimated."""
    rng = np.random.default_rng(seed)
    treated, control = np.flatnonzero(t == 1), np.flatnonzero(t == 0)
    values: list[float] = []
    failed = 0
    for _ in range(reps):
        idx = np.concatenate([rng.choice(treated, len(treated)), rng.choice(control, len(control))])
        try:
            values.append(estimate_on(idx))
        except (EvaluationInputError, np.linalg.LinAlgError, ValueError):
            failed += 1
    if len(values) < 2:
        raise EvaluationInputError("the bootstrap failed: too few resamples could be estimated")
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high), failed

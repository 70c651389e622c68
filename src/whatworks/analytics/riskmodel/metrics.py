"""Validation metrics for risk instruments on local outcomes (issue 9).

Discrimination (AUC with a DeLong interval), calibration (by band, by score, curve,
expected calibration error), Brier score and band shares, overall and by group.
See docs/riskmodel.md, section "Validation metrics".

Decisions, stated once:

* The outcome ``y`` must be 0 or 1 (booleans accepted); anything else, or a missing value,
  raises :class:`RiskModelInputError`. Scores and probabilities with missing or NaN values
  are refused (the rows are named); probabilities must lie in [0, 1].
* AUC is the Mann-Whitney estimate (ties count one half), identical to
  ``sklearn.metrics.roc_auc_score``. Its interval uses DeLong's variance (DeLong, DeLong and
  Clarke-Pearson 1988) computed with midranks (Sun and Xu 2014) and a normal interval on
  the AUC scale clipped to [0, 1], as pROC does. When the outcome has only one class, or
  fewer than two events or two non-events, the AUC (or its variance) is undefined:
  :func:`auc_with_ci` raises :class:`RiskModelInputError`; inside
  :func:`validation_report`'s groups the AUC is ``None`` with an ``auc_note`` saying why.
* Observed proportions carry Wilson score intervals.
* Groups smaller than ``min_group_size`` are suppressed: only their size is shown.

Pure Python (numpy); never imports Django. Every output is JSON-serialisable.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

import numpy as np

NOT_RECORDED = "not recorded"
# Above this many distinct score values, calibration by score uses ten quantile groups.
MAX_SCORE_LEVELS = 50


class RiskModelInputError(ValueError):
    """Input a risk-model computation cannot use; the message names the problem."""


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A point estimate with a two-sided interval."""

    value: float
    low: float
    high: float
    method: str
    level: float = 0.95
    se: float | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "value": float(self.value),
            "low": float(self.low),
            "high": float(self.high),
            "method": self.method,
            "level": float(self.level),
        }
        if self.se is not None:
            out["se"] = float(self.se)
        return out


# -- input checks ---------------------------------------------------------------------------


def _to_list_or_array(values: Any) -> Any:
    if hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):
        return values.to_numpy()  # polars or pandas Series
    return values


def _rows(mask: np.ndarray) -> str:
    idx = np.flatnonzero(mask)
    shown = ", ".join(str(int(i)) for i in idx[:5])
    more = f" and {len(idx) - 5} more" if len(idx) > 5 else ""
    return f"rows {shown}{more} (counting from 0)"


def as_outcome(y: Any, *, name: str = "outcome") -> np.ndarray:
    """The outcome as an int array of 0 and 1, or :class:`RiskModelInputError`."""
    raw = _to_list_or_array(y)
    if (
        isinstance(raw, np.ndarray)
        and raw.size
        and raw.dtype.kind in "biu"
        and np.isin(raw, (0, 1)).all()
    ):
        return raw.ravel().astype(np.int64)
    arr = np.asarray(raw, dtype=object).ravel()
    if arr.size == 0:
        raise RiskModelInputError(f"{name}: no rows")
    out = np.empty(arr.size, dtype=np.int64)
    bad: list[Any] = []
    for i, v in enumerate(arr):
        if isinstance(v, bool | np.bool_):
            out[i] = int(v)
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            bad.append(v)
            continue
        if f == 0.0 or f == 1.0:
            out[i] = int(f)
        else:
            bad.append(v)
    if bad:
        found = sorted({repr(b) for b in bad})[:5]
        raise RiskModelInputError(
            f"{name} must be 0 or 1; found {', '.join(found)} in {len(bad)} row(s)"
        )
    return out


def as_score(values: Any, *, name: str = "score", n: int | None = None) -> np.ndarray:
    """Numbers as a float array; missing or NaN values are refused, naming the rows."""
    raw = _to_list_or_array(values)
    try:
        if isinstance(raw, np.ndarray) and raw.dtype.kind in "biuf":
            arr = raw.astype(float).ravel()
        else:
            arr = np.asarray(
                [np.nan if v is None else v for v in np.asarray(raw, dtype=object).ravel()],
                dtype=float,
            )
    except (TypeError, ValueError) as exc:
        raise RiskModelInputError(f"{name} must be numeric ({exc})") from None
    if n is not None and arr.size != n:
        raise RiskModelInputError(f"{name} has {arr.size} values but the outcome has {n}")
    missing = ~np.isfinite(arr)
    if missing.any():
        raise RiskModelInputError(
            f"{name} has {int(missing.sum())} missing, NaN or infinite value(s) at "
            f"{_rows(missing)}; score every row or drop those rows first"
        )
    return arr


def as_probability(values: Any, *, name: str = "probability", n: int | None = None) -> np.ndarray:
    arr = as_score(values, name=name, n=n)
    outside = (arr < 0) | (arr > 1)
    if outside.any():
        raise RiskModelInputError(f"{name} must lie between 0 and 1; see {_rows(outside)}")
    return arr


def as_labels(values: Any, *, name: str, n: int | None = None) -> list[str]:
    """Group or band values as strings; missing values become ``"not recorded"``."""
    raw = _to_list_or_array(values)
    typed = np.asarray(raw)
    if n is not None and typed.size != n:
        raise RiskModelInputError(f"{name} has {typed.size} values but the outcome has {n}")
    if typed.dtype.kind in "USbiu":  # strings, booleans, integers: nothing can be missing
        return typed.astype(str).ravel().tolist()
    arr = list(np.asarray(raw, dtype=object).ravel())
    out = []
    for v in arr:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out.append(NOT_RECORDED)
        elif isinstance(v, float) and v.is_integer():
            out.append(str(int(v)))
        else:
            out.append(str(v))
    return out


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise RiskModelInputError(f"level must be between 0 and 1; got {level}")
    return NormalDist().inv_cdf(1 - (1 - level) / 2)


# -- intervals ------------------------------------------------------------------------------


def wilson_interval(events: int, n: int, *, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``events / n``.

    centre = (p + z²/2n) / (1 + z²/n); half = z / (1 + z²/n) · sqrt(p(1-p)/n + z²/4n²).
    """
    if n <= 0:
        raise RiskModelInputError("Wilson interval needs at least one row")
    z = _z(level)
    p = events / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    low = 0.0 if events == 0 else max(0.0, centre - half)  # exact bounds, not 1e-17
    high = 1.0 if events == n else min(1.0, centre + half)
    return (low, high)


def _midrank(x: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties sharing the mean of their ranks."""
    from scipy.stats import rankdata

    return rankdata(x, method="average")


def delong_components(y: np.ndarray, score: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """AUC and DeLong's structural components (placement values).

    ``v10[i]`` is the share of non-events scored below event ``i`` (ties one half),
    ``v01[j]`` the share of events scored above non-event ``j``.
    """
    pos = score[y == 1]
    neg = score[y == 0]
    m, n = pos.size, neg.size
    tx = _midrank(pos)
    ty = _midrank(neg)
    tz = _midrank(np.concatenate([pos, neg]))
    v10 = (tz[:m] - tx) / n
    v01 = 1.0 - (tz[m:] - ty) / m
    auc = float(v10.mean())
    return auc, v10, v01


def _auc_problem(y: np.ndarray) -> str | None:
    events = int(y.sum())
    non_events = int(y.size - events)
    if events == 0 or non_events == 0:
        which = "events" if events == 0 else "non-events"
        return f"AUC is undefined: the outcome has no {which} (all {y.size} rows are {int(y[0])})"
    if events < 2 or non_events < 2:
        return (
            "AUC interval is undefined: DeLong's variance needs at least 2 events and "
            f"2 non-events (found {events} and {non_events})"
        )
    return None


def auc_with_ci(y: Any, score: Any, *, level: float = 0.95) -> Estimate:
    """AUC (probability that an event scores above a non-event, ties one half) with a
    DeLong interval: var = S10/m + S01/n, normal interval clipped to [0, 1]."""
    yy = as_outcome(y)
    ss = as_score(score, n=yy.size)
    problem = _auc_problem(yy)
    if problem:
        raise RiskModelInputError(problem)
    auc, v10, v01 = delong_components(yy, ss)
    var = float(np.var(v10, ddof=1) / v10.size + np.var(v01, ddof=1) / v01.size)
    se = math.sqrt(max(var, 0.0))
    z = _z(level)
    return Estimate(
        value=auc,
        low=max(0.0, auc - z * se),
        high=min(1.0, auc + z * se),
        method="DeLong",
        level=level,
        se=se,
    )


# -- calibration ----------------------------------------------------------------------------


def brier_score(y: Any, probability: Any) -> float:
    """Mean squared difference between predicted probability and outcome (lower is better)."""
    yy = as_outcome(y)
    pp = as_probability(probability, n=yy.size)
    return float(np.mean((pp - yy) ** 2))


def _bin_index(pp: np.ndarray, bins: int) -> np.ndarray:
    if not isinstance(bins, int) or bins < 1:
        raise RiskModelInputError(f"bins must be a positive whole number; got {bins!r}")
    # Equal-width bins [k/bins, (k+1)/bins); the last bin includes 1.
    return np.minimum((pp * bins).astype(np.int64), bins - 1)


def expected_calibration_error(y: Any, probability: Any, *, bins: int = 10) -> float:
    """Σ_b (n_b / N) · |observed_b - mean predicted_b| over equal-width probability bins."""
    yy = as_outcome(y)
    pp = as_probability(probability, n=yy.size)
    idx = _bin_index(pp, bins)
    total = 0.0
    for b in np.unique(idx):
        mask = idx == b
        total += mask.sum() / yy.size * abs(yy[mask].mean() - pp[mask].mean())
    return float(total)


def calibration_curve(y: Any, probability: Any, *, bins: int = 10) -> list[dict[str, Any]]:
    """Mean predicted and observed rate in each non-empty equal-width probability bin."""
    yy = as_outcome(y)
    pp = as_probability(probability, n=yy.size)
    idx = _bin_index(pp, bins)
    rows = []
    for b in np.unique(idx):
        mask = idx == b
        n = int(mask.sum())
        events = int(yy[mask].sum())
        low, high = wilson_interval(events, n)
        rows.append(
            {
                "bin_low": b / bins,
                "bin_high": (b + 1) / bins,
                "predicted": float(pp[mask].mean()),
                "observed": events / n,
                "observed_low": low,
                "observed_high": high,
                "n": n,
            }
        )
    return rows


def _ordered_levels(labels: list[str], order: Sequence[Any] | None) -> list[str]:
    seen = list(dict.fromkeys(labels))
    if order is None:
        return seen
    wanted = [str(o) for o in order]
    unknown = [s for s in seen if s not in wanted]
    if unknown:
        raise RiskModelInputError(
            f"values {', '.join(unknown[:5])} are not in the given order {', '.join(wanted)}"
        )
    return [w for w in wanted if w in seen]


def _numeric_sort(levels: list[str]) -> list[str]:
    try:
        return sorted(levels, key=float)
    except ValueError:
        return levels


def calibration_table(
    y: Any,
    probability: Any | None,
    *,
    by: Any,
    order: Sequence[Any] | None = None,
) -> list[dict[str, Any]]:
    """One row per distinct value of ``by`` (a band or a score): size, events, observed rate
    with a Wilson 95% interval and mean predicted probability (``None`` without
    probabilities). Rows follow ``order`` when given, else numeric order when every value is
    a number, else first-seen order."""
    yy = as_outcome(y)
    pp = None if probability is None else as_probability(probability, n=yy.size)
    labels = as_labels(by, name="by", n=yy.size)
    levels = _ordered_levels(labels, order)
    if order is None:
        levels = _numeric_sort(levels)
    lab = np.asarray(labels, dtype=object)
    rows = []
    for level in levels:
        mask = lab == level
        n = int(mask.sum())
        events = int(yy[mask].sum())
        low, high = wilson_interval(events, n)
        rows.append(
            {
                "group": level,
                "n": n,
                "events": events,
                "observed": events / n,
                "observed_low": low,
                "observed_high": high,
                "predicted": None if pp is None else float(pp[mask].mean()),
            }
        )
    return rows


def _score_groups(score: np.ndarray) -> tuple[list[str], list[str]]:
    """Labels for calibration by score: the value itself for point totals, ten quantile
    groups ("low-high") when there are more than MAX_SCORE_LEVELS distinct values."""
    distinct = np.unique(score)
    if distinct.size <= MAX_SCORE_LEVELS:
        labels = as_labels(score, name="score")
        return labels, _numeric_sort(list(dict.fromkeys(labels)))
    edges = np.unique(np.quantile(score, np.linspace(0, 1, 11)))
    idx = np.clip(np.searchsorted(edges, score, side="right") - 1, 0, edges.size - 2)
    names = [f"{edges[k]:.4g}–{edges[k + 1]:.4g}" for k in range(edges.size - 1)]
    labels = [names[k] for k in idx]
    return labels, [nm for nm in names if nm in set(labels)]


def band_shares(band: Any, *, order: Sequence[Any] | None = None) -> list[dict[str, Any]]:
    """Count and share of rows in each band, in ``order`` when given, else first-seen."""
    labels = as_labels(band, name="band")
    levels = _ordered_levels(labels, order)
    total = len(labels)
    return [{"band": lv, "n": labels.count(lv), "share": labels.count(lv) / total} for lv in levels]


# -- the report -----------------------------------------------------------------------------


def _metrics(
    yy: np.ndarray,
    ss: np.ndarray,
    pp: np.ndarray | None,
    bands: list[str] | None,
    band_order: Sequence[Any] | None,
    *,
    level: float,
    bins: int,
    strict_auc: bool,
) -> dict[str, Any]:
    out: dict[str, Any] = {"n": int(yy.size), "events": int(yy.sum())}
    problem = _auc_problem(yy)
    if problem and strict_auc:
        raise RiskModelInputError(problem)
    if problem:
        out["auc"] = None
        out["auc_note"] = problem
    else:
        out["auc"] = auc_with_ci(yy, ss, level=level).as_dict()
    if pp is not None:
        out["brier"] = brier_score(yy, pp)
        out["ece"] = expected_calibration_error(yy, pp, bins=bins)
        out["calibration_curve"] = calibration_curve(yy, pp, bins=bins)
    if bands is not None:
        out["calibration_by_band"] = calibration_table(
            yy, pp, by=bands, order=band_order if band_order is not None else None
        )
        out["band_shares"] = band_shares(bands, order=band_order)
    labels, levels = _score_groups(ss)
    out["calibration_by_score"] = calibration_table(yy, pp, by=labels, order=levels)
    return out


def validation_report(
    y: Any,
    *,
    score: Any,
    probability: Any | None = None,
    band: Any | None = None,
    band_order: Sequence[Any] | None = None,
    groups: dict[str, Sequence[Any]] | None = None,
    min_group_size: int = 30,
    level: float = 0.95,
    bins: int = 10,
) -> dict[str, Any]:
    """Validation of a score against local outcomes, overall and by group.

    Returns ``{"n", "events", "auc", "brier"*, "ece"*, "calibration_curve"*,
    "calibration_by_band"†, "band_shares"†, "calibration_by_score", "by_group"}``
    (* with ``probability``, † with ``band``). ``by_group`` maps each group column to
    ``{value: metrics}``; a value with fewer than ``min_group_size`` rows shows only
    ``{"n", "suppressed": True}`` and ``None`` metrics. Missing group values form the group
    ``"not recorded"``. Raises :class:`RiskModelInputError` when the outcome has one class.
    """
    yy = as_outcome(y)
    n = yy.size
    ss = as_score(score, n=n)
    pp = None if probability is None else as_probability(probability, n=n)
    bands = None if band is None else as_labels(band, name="band", n=n)
    if bands is not None and band_order is not None:
        _ordered_levels(bands, band_order)  # refuse bands missing from the order up front
    if not isinstance(min_group_size, int) or min_group_size < 1:
        raise RiskModelInputError(f"min_group_size must be at least 1; got {min_group_size!r}")
    report = _metrics(yy, ss, pp, bands, band_order, level=level, bins=bins, strict_auc=True)
    report["min_group_size"] = min_group_size
    by_group: dict[str, dict[str, Any]] = {}
    for column, values in (groups or {}).items():
        labels = as_labels(values, name=f"group {column!r}", n=n)
        lab = np.asarray(labels, dtype=object)
        levels = list(dict.fromkeys(labels))
        if len(levels) < 2:
            raise RiskModelInputError(
                f"group {column!r} has only one value ({levels[0]}); nothing to compare"
            )
        per: dict[str, Any] = {}
        for value in sorted(levels, key=lambda v: (v == NOT_RECORDED, v)):
            mask = lab == value
            size = int(mask.sum())
            if size < min_group_size:
                per[value] = {
                    "n": size,
                    "suppressed": True,
                    "events": None,
                    "auc": None,
                    "brier": None,
                    "ece": None,
                    "note": f"fewer than {min_group_size} rows; metrics suppressed",
                }
                continue
            metrics = _metrics(
                yy[mask],
                ss[mask],
                None if pp is None else pp[mask],
                None if bands is None else [b for b, k in zip(bands, mask, strict=True) if k],
                band_order,
                level=level,
                bins=bins,
                strict_auc=False,
            )
            metrics["suppressed"] = False
            per[value] = metrics
        by_group[column] = per
    report["by_group"] = by_group
    return report

"""Fit a transparent point score on a service's own outcomes (issue 9).

The procedure, run once on all rows for the score that is exported and once inside each
cross-validation fold for the figures that are reported (so every reported metric is
out-of-fold, selection and rounding included):

1. **Encoding** (``features.py``): numeric features in quantile point bands, 0/1 features
   as yes/no, text categories as one level per value (rare values merged).
2. **Item selection**: when more features are offered than ``max_items``, an L1-penalised
   logistic regression path (liblinear, standardised one-hot columns, 40 penalties from
   the smallest that selects anything) orders the features by the penalty at which any of
   their columns first becomes non-zero; the first ``max_items`` are kept (ties: larger
   absolute coefficient first). Features that never enter are never kept.
3. **Coefficients**: L2-penalised logistic regression (C = 1) on the kept items' one-hot
   columns. Each item's level log-odds are shifted so that its lowest level is 0, so every
   item's points run from 0 up.
4. **Rounding**: the scale that maps the largest level log-odds to ``max_points`` is
   multiplied by 15 factors from 0.3 to 1.0; at each, points = round(log-odds x scale),
   clipped to 0..``max_points``; the scale whose integer total gives the highest
   log-likelihood (total -> probability by a two-parameter logistic fit) wins, the smaller
   scale on ties. Then a local search moves single levels by +-1 point (within
   0..``max_points``) while the log-likelihood improves (at most 3 passes). Items left
   with no points are dropped; adjacent numeric bands with equal points are merged.
5. **Calibration**: probability = 1 / (1 + exp(-(intercept + scale x total))).
6. **Bands**: ``band_cuts`` (the first total of each band after the first) when given;
   otherwise ``band_rates`` (default 0.2, 0.4, 0.6): the observed rate at each total, made
   non-decreasing by isotonic regression, and a band starts at the first total whose rate
   reaches each rate. Band k covers the rates between cut k-1 and cut k, so the codes mean
   the same in every fit (``low`` < 0.2 <= ``moderate`` < 0.4 <= ``high`` < 0.6 <=
   ``very_high``); a band no total reaches is left out.

Benchmarks use the same stratified folds (fixed seed): plain logistic regression on all
offered features with the same encoding, logistic regression with numeric features as
straight lines, and gradient boosting (``HistGradientBoostingClassifier``) on the raw
features. Pure Python; never imports Django.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from whatworks.analytics.riskmodel.features import (
    Encoding,
    check_frame,
    design,
    encode_feature,
    feature_kind,
    identifier,
    tidy_number,
)
from whatworks.analytics.riskmodel.metrics import (
    RiskModelInputError,
    auc_with_ci,
    validation_report,
)

BAND_CODES = {
    1: ["low", "high"],
    2: ["low", "moderate", "high"],
    3: ["low", "moderate", "high", "very_high"],
}
BAND_LABELS = {
    "low": {"en": "Low", "es": "Bajo", "pt-br": "Baixo"},
    "moderate": {"en": "Moderate", "es": "Moderado", "pt-br": "Moderado"},
    "high": {"en": "High", "es": "Alto", "pt-br": "Alto"},
    "very_high": {"en": "Very high", "es": "Muy alto", "pt-br": "Muito alto"},
}
DEFAULT_BAND_RATES = (0.2, 0.4, 0.6)
SCALE_FACTORS = np.linspace(0.3, 1.0, 15)
LOCAL_SEARCH_PASSES = 3
L2_C = 1.0
# Numeric point bands rise or fall steadily (isotonic regression of their log-odds).
MONOTONE_NUMERIC = True
SHRINK = True


@dataclasses.dataclass(frozen=True)
class PointScore:
    """A fitted point score: items with integer points per level, bands on the total, and
    a logistic calibration of the total. ``metrics`` are out-of-fold (see the module)."""

    items: list[dict[str, Any]]
    bands: list[dict[str, Any]]
    intercept: float
    scale: float
    metrics: dict[str, Any]
    benchmarks: dict[str, Any]
    outcome: str = ""
    features: list[str] = dataclasses.field(default_factory=list)
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)
    data: dict[str, Any] = dataclasses.field(default_factory=dict)
    # Out-of-fold predictions, row by row (not part of as_dict: they are data).
    oof: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    @property
    def max_total(self) -> int:
        return int(sum(max(lv["points"] for lv in item["levels"]) for item in self.items))

    def item_points(self, frame: pl.DataFrame) -> dict[str, np.ndarray]:
        """Points per item (``item["feature"]`` -> integer array)."""
        out = {}
        for item in self.items:
            name = item["feature"]
            if name not in frame.columns:
                raise RiskModelInputError(
                    f"feature column {name!r} is not in the data; "
                    f"columns: {', '.join(frame.columns)}"
                )
            series = frame[name]
            if series.null_count():
                raise RiskModelInputError(f"feature {name!r} has missing values")
            codes = _encoding_of(item).codes(series)
            points = np.asarray([lv["points"] for lv in item["levels"]], dtype=np.int64)
            out[name] = points[codes]
        return out

    def total(self, frame: pl.DataFrame) -> np.ndarray:
        """Integer points per row."""
        parts = self.item_points(frame)
        total = np.zeros(frame.height, dtype=np.int64)
        for points in parts.values():
            total += points
        return total

    def probability(self, frame: pl.DataFrame) -> np.ndarray:
        return _sigmoid(self.intercept + self.scale * self.total(frame))

    def band(self, frame: pl.DataFrame) -> list[str]:
        return band_of(self.bands, self.total(frame))

    def band_probabilities(self) -> list[dict[str, Any]]:
        """Each band with its calibrated probability at its lowest and highest total."""
        rows = []
        for band in self.bands:
            rows.append(
                {
                    **band,
                    "probability_min": float(_sigmoid(self.intercept + self.scale * band["min"])),
                    "probability_max": float(_sigmoid(self.intercept + self.scale * band["max"])),
                }
            )
        return rows

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "features": list(self.features),
            "settings": dict(self.settings),
            "data": dict(self.data),
            "items": [dict(item) for item in self.items],
            "bands": [dict(band) for band in self.bands],
            "max_total": self.max_total,
            "intercept": self.intercept,
            "scale": self.scale,
            "metrics": self.metrics,
            "benchmarks": self.benchmarks,
        }


def _encoding_of(item: dict[str, Any]) -> Encoding:
    levels = tuple(item["levels"])
    lower = levels[0]["min"] if item["kind"] == "numeric" else None
    return Encoding(item["feature"], item["kind"], levels, lower_bound=lower)


def band_of(bands: Sequence[dict[str, Any]], totals: np.ndarray) -> list[str]:
    """The band code of each total (as the instrument's bands: fractional totals fall low)."""
    starts = np.asarray([b["min"] for b in bands[1:]], dtype=float)
    index = np.searchsorted(starts, np.asarray(totals, dtype=float), side="right")
    return [bands[i]["code"] for i in index]


def _sigmoid(z: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))


# -- one fit ----------------------------------------------------------------------------------


@dataclasses.dataclass
class _Fitted:
    items: list[dict[str, Any]]
    bands: list[dict[str, Any]]
    intercept: float
    scale: float


def _calibrate(total: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Two-parameter logistic fit of y on the total by Newton's method on grouped counts:
    (intercept, slope, log-likelihood)."""
    values, inverse = np.unique(total, return_inverse=True)
    n = np.bincount(inverse).astype(float)
    e = np.bincount(inverse, weights=y).astype(float)
    x = values.astype(float)
    rate = e.sum() / n.sum()
    beta = np.array([math.log(rate / (1 - rate)), 0.0])
    for _ in range(50):
        p = _sigmoid(beta[0] + beta[1] * x)
        w = n * p * (1 - p)
        grad = np.array([np.sum(e - n * p), np.sum((e - n * p) * x)])
        hess = np.array([[w.sum(), (w * x).sum()], [(w * x).sum(), (w * x * x).sum()]])
        hess += np.eye(2) * 1e-9
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    p = np.clip(_sigmoid(beta[0] + beta[1] * x), 1e-12, 1 - 1e-12)
    loglik = float(np.sum(e * np.log(p) + (n - e) * np.log(1 - p)))
    return float(beta[0]), float(beta[1]), loglik


def _select(
    codes: dict[str, np.ndarray],
    encodings: dict[str, Encoding],
    features: list[str],
    y: np.ndarray,
    max_items: int,
    seed: int,
) -> list[str]:
    if len(features) <= max_items:
        return list(features)
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import l1_min_c

    matrix, owners = design(codes, encodings, features)
    sd = matrix.std(axis=0)
    sd[sd == 0] = 1
    z = (matrix - matrix.mean(axis=0)) / sd
    c_min = l1_min_c(z, y, loss="log")
    entered: dict[str, tuple[int, float]] = {}
    for step, c in enumerate(c_min * np.logspace(0, 3, 40)):
        model = LogisticRegression(
            penalty="l1", C=c, solver="liblinear", random_state=seed, max_iter=1000
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(z, y)
        coef = np.abs(model.coef_[0])
        size: dict[str, float] = {}
        for (feature, _level), value in zip(owners, coef, strict=True):
            size[feature] = size.get(feature, 0.0) + value
        for feature, value in size.items():
            if value > 0 and feature not in entered:
                entered[feature] = (step, -value)
        if len(entered) >= max_items:
            break
    order = sorted(entered, key=lambda f: (entered[f][0], entered[f][1], features.index(f)))
    chosen = order[:max_items]
    return [f for f in features if f in chosen]


def _round(
    log_odds: list[np.ndarray],
    level_codes: list[np.ndarray],
    y: np.ndarray,
    max_points: int,
    directions: list[int] | None = None,
) -> tuple[list[np.ndarray], float, float]:
    """Integer points per level (scale search, then +-1 local search); the calibration.

    ``directions[i]`` is +1 or -1 when item i's points must rise or fall with its levels
    (numeric bands), 0 otherwise; the local search keeps that order."""
    directions = directions or [0] * len(log_odds)
    largest = max(float(lo.max()) for lo in log_odds)
    if largest <= 0:
        raise RiskModelInputError("no feature separates the outcome; no score can be built")

    def totals(points: list[np.ndarray]) -> np.ndarray:
        total = np.zeros(y.size, dtype=np.int64)
        for pts, codes in zip(points, level_codes, strict=True):
            total += pts[codes]
        return total

    def loglik(points: list[np.ndarray]) -> float:
        return _calibrate(totals(points), y)[2]

    best, best_ll = None, -math.inf
    base = max_points / largest
    for factor in SCALE_FACTORS:
        points = [
            np.clip(np.round(lo * base * factor), 0, max_points).astype(np.int64) for lo in log_odds
        ]
        ll = loglik(points)
        if ll > best_ll + 1e-9:
            best, best_ll = points, ll
    assert best is not None
    for _ in range(LOCAL_SEARCH_PASSES):
        improved = False
        for item in range(len(best)):
            for level in range(best[item].size):
                for delta in (-1, 1):
                    value = best[item][level] + delta
                    if not 0 <= value <= max_points:
                        continue
                    trial = [p.copy() for p in best]
                    trial[item][level] = value
                    if directions[item] and np.any(np.diff(trial[item]) * directions[item] < 0):
                        continue
                    ll = loglik(trial)
                    if ll > best_ll + 1e-6:
                        best, best_ll, improved = trial, ll, True
        if not improved:
            break
    best = [p - p.min() for p in best]
    total = totals(best)
    intercept, slope, ll = _calibrate(total, y)
    if SHRINK:
        # Heuristic shrinkage (van Houwelingen and le Cessie 1990): the slope fitted on the
        # rows that chose the points is too steep on new rows; shrink it by
        # (chi2 - df) / chi2, df = the levels estimated, and refit the intercept.
        rate = y.mean()
        ll_null = float(y.sum() * math.log(rate) + (y.size - y.sum()) * math.log(1 - rate))
        chi2 = 2 * (ll - ll_null)
        df = sum(lo.size - 1 for lo in log_odds)
        factor = max(0.0, (chi2 - df) / chi2) if chi2 > 0 else 0.0
        slope *= factor
        intercept = _intercept_given_slope(total, y, slope)
    return best, intercept, slope


def _intercept_given_slope(total: np.ndarray, y: np.ndarray, slope: float) -> float:
    """The intercept that makes the mean probability equal the observed rate (Newton)."""
    offset = slope * total.astype(float)
    rate = y.mean()
    b = math.log(rate / (1 - rate)) - float(np.mean(offset)) * 0
    for _ in range(50):
        p = _sigmoid(b + offset)
        step = float(np.sum(y - p) / max(np.sum(p * (1 - p)), 1e-12))
        b += step
        if abs(step) < 1e-12:
            break
    return float(b)


def _bands(
    total: np.ndarray,
    y: np.ndarray,
    max_total: int,
    slope: float,
    band_rates: Sequence[float] | None,
    band_cuts: Sequence[int] | None,
) -> list[dict[str, Any]]:
    if band_cuts is not None:
        cuts = [int(c) for c in band_cuts]
        codes = BAND_CODES[len(cuts)]
        starts = [0, *cuts]
        present = [(codes[j], s) for j, s in enumerate(starts) if s <= max_total]
    else:
        rates = list(band_rates if band_rates is not None else DEFAULT_BAND_RATES)
        codes = BAND_CODES[len(rates)]
        from sklearn.isotonic import IsotonicRegression

        values, inverse = np.unique(total, return_inverse=True)
        n = np.bincount(inverse).astype(float)
        e = np.bincount(inverse, weights=y)
        iso = IsotonicRegression(increasing=slope >= 0).fit(values, e / n, sample_weight=n)
        observed = iso.predict(values)
        start_of: dict[int, int] = {0: 0}
        for k, rate in enumerate(rates, start=1):
            reached = values[observed >= rate]
            if reached.size:
                start_of[k] = int(reached.min()) if reached.min() > values.min() else 0
        by_start: dict[int, int] = {}
        for k, start in start_of.items():
            by_start[start] = max(k, by_start.get(start, -1))
        present = [(codes[k], s) for s, k in sorted(by_start.items())]
    bands = []
    for position, (code, start) in enumerate(present):
        end = present[position + 1][1] - 1 if position + 1 < len(present) else max_total
        bands.append({"code": code, "label": dict(BAND_LABELS[code]), "min": start, "max": end})
    return bands


def _fit_once(
    frame: pl.DataFrame,
    y: np.ndarray,
    features: list[str],
    *,
    max_items: int,
    max_points: int,
    seed: int,
    band_rates: Sequence[float] | None,
    band_cuts: Sequence[int] | None,
) -> _Fitted:
    from sklearn.linear_model import LogisticRegression

    encodings = {f: encode_feature(frame[f], y) for f in features}
    codes = {f: encodings[f].codes(frame[f]) for f in features}
    chosen = _select(codes, encodings, features, y, max_items, seed)
    chosen = [f for f in chosen if len(encodings[f].levels) > 1]
    matrix, owners = design(codes, encodings, chosen)
    model = LogisticRegression(C=L2_C, max_iter=2000)
    model.fit(matrix, y)
    log_odds, directions = [], []
    for feature in chosen:
        levels = np.zeros(len(encodings[feature].levels))
        for (owner, level), coef in zip(owners, model.coef_[0], strict=True):
            if owner == feature:
                levels[level] = coef
        direction = 0
        if MONOTONE_NUMERIC and encodings[feature].kind == "numeric":
            levels, direction = _monotone(
                levels, np.bincount(codes[feature], minlength=levels.size)
            )
        log_odds.append(levels - levels.min())
        directions.append(direction)
    points, intercept, slope = _round(
        log_odds, [codes[f] for f in chosen], y, max_points, directions
    )
    items = []
    for feature, pts in zip(chosen, points, strict=True):
        if pts.max() == 0:
            continue
        encoding = encodings[feature]
        levels = [dict(lv, points=int(p)) for lv, p in zip(encoding.levels, pts, strict=True)]
        if encoding.kind == "numeric":
            levels = _merge_equal(levels, feature)
        items.append(
            {
                "feature": feature,
                "id": identifier(feature),
                "kind": encoding.kind,
                "label": feature,
                "levels": levels,
            }
        )
    if not items:
        raise RiskModelInputError("no feature kept any points; no score can be built")
    fitted = _Fitted(items, [], intercept, slope)
    total = np.zeros(y.size, dtype=np.int64)
    for item in items:
        pts = np.asarray([lv["points"] for lv in item["levels"]])
        total += pts[_encoding_of(item).codes(frame[item["feature"]])]
    max_total = int(sum(max(lv["points"] for lv in item["levels"]) for item in items))
    fitted.bands = _bands(total, y, max_total, slope, band_rates, band_cuts)
    return fitted


def _monotone(levels: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, int]:
    """The closest (count-weighted least squares) monotone sequence to a numeric item's
    level log-odds, rising or falling as their weighted trend does."""
    from sklearn.isotonic import IsotonicRegression

    index = np.arange(levels.size, dtype=float)
    weights = counts.astype(float) + 1e-9
    trend = np.sum(weights * (index - np.average(index, weights=weights)) * levels)
    increasing = bool(trend >= 0)
    fitted = IsotonicRegression(increasing=increasing).fit(index, levels, sample_weight=weights)
    return fitted.predict(index), 1 if increasing else -1


def _merge_equal(levels: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    merged: list[dict[str, Any]] = []
    for level in levels:
        if merged and merged[-1]["points"] == level["points"]:
            merged[-1]["max"] = level["max"]
        else:
            merged.append(dict(level))
    for position, level in enumerate(merged):
        start = level["min"]
        end = merged[position + 1]["min"] if position + 1 < len(merged) else None
        if len(merged) == 1:
            level["condition"] = f"any {name}"
        elif start is None or position == 0:
            level["condition"] = f"{name} < {tidy_number(end)}"
        elif end is None:
            level["condition"] = f"{name} ≥ {tidy_number(start)}"
        else:
            level["condition"] = f"{tidy_number(start)} ≤ {name} < {tidy_number(end)}"
    return merged


# -- benchmarks -------------------------------------------------------------------------------


def _benchmark_predictions(
    train: pl.DataFrame,
    test: pl.DataFrame,
    y_train: np.ndarray,
    features: list[str],
    seed: int,
) -> dict[str, np.ndarray]:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    encodings = {f: encode_feature(train[f], y_train) for f in features}
    tr = {f: encodings[f].codes(train[f]) for f in features}
    te = {f: encodings[f].codes(test[f]) for f in features}
    x_train, _ = design(tr, encodings, features)
    x_test, _ = design(te, encodings, features)
    out = {}
    model = LogisticRegression(C=L2_C, max_iter=2000).fit(x_train, y_train)
    out["logistic"] = model.predict_proba(x_test)[:, 1]

    def raw(frame: pl.DataFrame, coded: dict[str, np.ndarray]) -> np.ndarray:
        cols = []
        for f in features:
            if encodings[f].kind == "categorical":
                cols.append(coded[f].astype(float))
            else:
                cols.append(frame[f].cast(pl.Float64).to_numpy())
        return np.column_stack(cols)

    def linear(frame: pl.DataFrame, coded: dict[str, np.ndarray]) -> np.ndarray:
        cols = []
        for f in features:
            if encodings[f].kind == "categorical":
                levels = len(encodings[f].levels)
                cols.extend((coded[f] == k).astype(float) for k in range(1, levels))
            else:
                cols.append(frame[f].cast(pl.Float64).to_numpy())
        return np.column_stack(cols)

    lin_train, lin_test = linear(train, tr), linear(test, te)
    mean, sd = lin_train.mean(axis=0), lin_train.std(axis=0)
    sd[sd == 0] = 1
    model = LogisticRegression(C=L2_C, max_iter=2000).fit((lin_train - mean) / sd, y_train)
    out["logistic_linear"] = model.predict_proba((lin_test - mean) / sd)[:, 1]
    categorical = [encodings[f].kind == "categorical" for f in features]
    booster = HistGradientBoostingClassifier(
        random_state=seed,
        categorical_features=np.asarray(categorical) if any(categorical) else None,
    )
    # One OpenMP thread: on small data (and a shared machine) threads cost more than they
    # save; the result is the same.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        booster.fit(raw(train, tr), y_train)
        out["gradient_boosting"] = booster.predict_proba(raw(test, te))[:, 1]
    return out


# -- the public entry point -------------------------------------------------------------------


def fit_point_score(
    frame: pl.DataFrame,
    *,
    outcome: str,
    features: list[str],
    group: str | None = None,
    max_items: int = 6,
    max_points: int = 5,
    folds: int = 5,
    seed: int = 0,
    band_rates: list[float] | None = None,
    band_cuts: list[int] | None = None,
    benchmarks: bool = True,
) -> PointScore:
    """Fit a point score (see the module docstring) and validate it out-of-fold.

    ``benchmarks=False`` skips the benchmark models (faster; ``benchmarks`` then holds only
    the point score's AUC).

    Raises :class:`RiskModelInputError` with a clear message for data that cannot support a
    score: an outcome that is not 0/1, a missing feature or group column, a group with one
    value, missing feature values, or fewer than 10 events (and non-events) per candidate
    feature.
    """
    features = list(features)
    _check_settings(max_items, max_points, folds, band_rates, band_cuts)
    y = check_frame(frame, outcome=outcome, features=features, group=group)
    events = int(y.sum())
    if min(events, y.size - events) < folds:
        raise RiskModelInputError(f"too few events for {folds} folds")
    settings = {
        "max_items": max_items,
        "max_points": max_points,
        "folds": folds,
        "seed": seed,
        "band_rates": None if band_cuts is not None else list(band_rates or DEFAULT_BAND_RATES),
        "band_cuts": None if band_cuts is None else list(band_cuts),
        "group": group,
    }
    options = {
        "max_items": max_items,
        "max_points": max_points,
        "seed": seed,
        "band_rates": band_rates,
        "band_cuts": band_cuts,
    }
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    oof_total = np.zeros(y.size, dtype=np.int64)
    oof_prob = np.zeros(y.size)
    oof_band: list[str] = [""] * y.size
    bench = {k: np.zeros(y.size) for k in ("logistic", "logistic_linear", "gradient_boosting")}
    fold_of = np.zeros(y.size, dtype=np.int64)
    indices = np.arange(y.size)
    for k, (train_idx, test_idx) in enumerate(splitter.split(indices, y)):
        train, test = frame[train_idx], frame[test_idx]
        fitted = _fit_once(train, y[train_idx], features, **options)
        fold_score = PointScore(fitted.items, fitted.bands, fitted.intercept, fitted.scale, {}, {})
        total = fold_score.total(test)
        oof_total[test_idx] = total
        oof_prob[test_idx] = _sigmoid(fitted.intercept + fitted.scale * total)
        for i, b in zip(test_idx, band_of(fitted.bands, total), strict=True):
            oof_band[i] = b
        if benchmarks:
            predictions = _benchmark_predictions(train, test, y[train_idx], features, seed)
            for name, pred in predictions.items():
                bench[name][test_idx] = pred
        fold_of[test_idx] = k
    final = _fit_once(frame, y, features, **options)
    band_order = [code for code in BAND_CODES[3] if code in set(oof_band)]
    groups = None
    if group is not None:
        groups = {group: frame[group].to_list()}
    metrics = validation_report(
        y, score=oof_prob, probability=oof_prob, band=oof_band, band_order=band_order, groups=groups
    )
    metrics["out_of_fold"] = True
    metrics["folds"] = folds
    metrics["seed"] = seed
    metrics["calibration_by_total"] = _by_total(y, oof_total, oof_prob)
    metrics["warnings"] = []
    if group is not None and group in {item["feature"] for item in final.items}:
        metrics["warnings"].append(
            f"the group column {group!r} is also an item: the score gives points for "
            "belonging to a group; consider fitting without it"
        )
    compared: dict[str, Any] = {"point_score_auc": metrics["auc"], "folds": folds, "seed": seed}
    if benchmarks:
        compared.update(
            {
                "logistic_auc": auc_with_ci(y, bench["logistic"]).as_dict(),
                "logistic_linear_auc": auc_with_ci(y, bench["logistic_linear"]).as_dict(),
                "gradient_boosting_auc": auc_with_ci(y, bench["gradient_boosting"]).as_dict(),
                "note": (
                    "out-of-fold on the same stratified folds; logistic: all offered features "
                    "with the point score's encoding (bands and indicators), unrounded; "
                    "logistic_linear: numeric features as straight lines; gradient_boosting: "
                    "HistGradientBoostingClassifier on the raw features"
                ),
            }
        )
    return PointScore(
        items=final.items,
        bands=final.bands,
        intercept=final.intercept,
        scale=final.scale,
        metrics=metrics,
        benchmarks=compared,
        outcome=outcome,
        features=features,
        settings=settings,
        data={"n": int(y.size), "events": events},
        oof={
            "total": oof_total,
            "probability": oof_prob,
            "band": oof_band,
            "fold": fold_of,
            "y": y,
            **({f"{name}_probability": p for name, p in bench.items()} if benchmarks else {}),
        },
    )


def _by_total(y: np.ndarray, total: np.ndarray, prob: np.ndarray) -> list[dict[str, Any]]:
    rows = []
    for value in np.unique(total):
        mask = total == value
        rows.append(
            {
                "total": int(value),
                "n": int(mask.sum()),
                "events": int(y[mask].sum()),
                "observed": float(y[mask].mean()),
                "predicted": float(prob[mask].mean()),
            }
        )
    return rows


def _check_settings(
    max_items: int,
    max_points: int,
    folds: int,
    band_rates: Sequence[float] | None,
    band_cuts: Sequence[int] | None,
) -> None:
    for name, value, low in (
        ("max_items", max_items, 1),
        ("max_points", max_points, 1),
        ("folds", folds, 2),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise RiskModelInputError(
                f"{name} must be a whole number of at least {low}; got {value!r}"
            )
    if band_rates is not None and band_cuts is not None:
        raise RiskModelInputError("give band_rates or band_cuts, not both")
    if band_rates is not None:
        rates = list(band_rates)
        if (
            not 1 <= len(rates) <= 3
            or any(not 0 < r < 1 for r in rates)
            or rates != sorted(set(rates))
        ):
            raise RiskModelInputError(
                f"band_rates must be 1 to 3 increasing rates between 0 and 1; got {rates}"
            )
    if band_cuts is not None:
        cuts = list(band_cuts)
        if (
            not 1 <= len(cuts) <= 3
            or any(not isinstance(c, int) or isinstance(c, bool) or c < 1 for c in cuts)
            or cuts != sorted(set(cuts))
        ):
            raise RiskModelInputError(
                f"band_cuts must be 1 to 3 increasing whole totals of at least 1; got {cuts}"
            )


__all__ = ["PointScore", "band_of", "feature_kind", "fit_point_score"]

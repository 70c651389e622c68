"""Fairness audit of a risk instrument by group (sex, age band, ethnicity when recorded).

* :func:`threshold_metrics`: at each band threshold ``t`` (a person is flagged when
  ``score >= t``), the false-positive rate, false-negative rate, positive predictive value
  and selection rate, overall and per group, with ``fairlearn.metrics.MetricFrame``.
  Rates whose denominator is zero are ``None`` (fairlearn's own rate functions return 0
  there, which would read as "no errors"); groups smaller than ``min_group_size`` are
  suppressed.
* :func:`proxy_features`: how well each feature alone predicts the group, so features that
  stand in for sex or ethnicity are visible.
* :func:`fairness_report`: both, plus AUC and calibration within groups
  (:func:`~whatworks.analytics.riskmodel.metrics.validation_report`), the largest gaps
  between groups and plain-language notes on the trade-offs.

See docs/riskmodel.md, section "Fairness". Pure Python; never imports Django.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from whatworks.analytics.riskmodel.metrics import (
    NOT_RECORDED,
    RiskModelInputError,
    as_labels,
    as_outcome,
    as_probability,
    as_score,
    validation_report,
)

OVERALL = "overall"


# -- threshold metrics ----------------------------------------------------------------------


def _confusion(y_true, y_pred) -> list[list[int]]:
    """Per threshold (a column of ``y_pred``): [TP, FP, FN, TN]."""
    truth = np.asarray(y_true).reshape(-1, 1) == 1
    flagged = np.asarray(y_pred).reshape(truth.shape[0], -1) == 1
    return np.stack(
        [
            (truth & flagged).sum(axis=0),
            (~truth & flagged).sum(axis=0),
            (truth & ~flagged).sum(axis=0),
            (~truth & ~flagged).sum(axis=0),
        ],
        axis=1,
    ).tolist()


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _rates(tp: int, fp: int, fn: int, tn: int) -> dict[str, Any]:
    n = tp + fp + fn + tn
    return {
        "n": n,
        "events": tp + fn,
        "fpr": _ratio(fp, fp + tn),
        "fnr": _ratio(fn, fn + tp),
        "ppv": _ratio(tp, tp + fp),
        "selection_rate": _ratio(tp + fp, n),
    }


def _group_column(groups: Any, n: int, name: str = "group") -> list[str]:
    labels = as_labels(groups, name=name, n=n)
    if len(set(labels)) < 2:
        raise RiskModelInputError(
            f"{name} has only one value ({labels[0]}); a fairness audit needs two or more groups"
        )
    return labels


def threshold_metrics(
    y: Any,
    score: Any,
    *,
    thresholds: Sequence[float],
    groups: Sequence[Any],
    min_group_size: int = 30,
    group_name: str = "group",
) -> list[dict[str, Any]]:
    """For each threshold ``t`` (flag when ``score >= t``) and each group value, then
    ``"overall"``: ``{"threshold", "group", "n", "events", "fpr", "fnr", "ppv",
    "selection_rate", "suppressed"}``.

    FPR = FP / (FP + TN), FNR = FN / (FN + TP), PPV = TP / (TP + FP), selection rate =
    (TP + FP) / n; ``None`` when the denominator is zero. Groups smaller than
    ``min_group_size`` keep only ``n`` (rates ``None``, ``suppressed`` true).
    """
    from fairlearn.metrics import MetricFrame  # imported here: fairlearn loads pandas

    yy = as_outcome(y)
    ss = as_score(score, n=yy.size)
    labels = _group_column(groups, yy.size, group_name)
    if not thresholds:
        raise RiskModelInputError("thresholds: give at least one band threshold")
    ts = [float(t) for t in as_score(list(thresholds), name="thresholds")]
    order = sorted(set(labels), key=lambda v: (v == NOT_RECORDED, v))
    # One MetricFrame for all thresholds: y_pred holds one column per threshold.
    flagged = (ss[:, None] >= np.asarray(ts)[None, :]).astype(np.int8)
    frame = MetricFrame(
        metrics={"confusion": _confusion},
        y_true=yy,
        y_pred=flagged,
        sensitive_features=labels,
    )
    by_group = frame.by_group["confusion"]
    overall = frame.overall["confusion"]
    rows: list[dict[str, Any]] = []
    for k, t in enumerate(ts):
        for value in order:
            tp, fp, fn, tn = by_group.loc[value][k]
            row = {"threshold": t, "group": value, **_rates(tp, fp, fn, tn), "suppressed": False}
            if row["n"] < min_group_size:
                row.update(
                    events=None, fpr=None, fnr=None, ppv=None, selection_rate=None, suppressed=True
                )
            rows.append(row)
        tp, fp, fn, tn = overall[k]
        rows.append(
            {"threshold": t, "group": OVERALL, **_rates(tp, fp, fn, tn), "suppressed": False}
        )
    return rows


# -- proxies --------------------------------------------------------------------------------


def _design(column: pl.Series) -> np.ndarray:
    """One-hot design of a feature: numeric features cut at their deciles (so a non-monotone
    link counts), other features by level; missing values are a level of their own."""
    if column.dtype.is_numeric() and column.n_unique() > 10:
        values = column.cast(pl.Float64).to_numpy()
        finite = np.isfinite(values)
        edges = np.unique(np.quantile(values[finite], np.linspace(0, 1, 11)[1:-1]))
        codes = np.where(finite, np.searchsorted(edges, values, side="right"), -1)
        keys = codes.astype(str)
    else:
        keys = np.asarray(as_labels(column, name=column.name), dtype=object)
    levels = sorted(set(keys.tolist()))
    return (keys[:, None] == np.asarray(levels, dtype=object)[None, :]).astype(float)


def proxy_features(
    frame: pl.DataFrame,
    *,
    features: list[str],
    group: str,
    threshold: float = 0.7,
    folds: int = 5,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """How well each feature alone predicts the group: ``{"feature", "strength",
    "flagged"}``, strongest first.

    ``strength`` is the cross-validated AUC of a one-feature logistic model for the group
    (``folds``-fold stratified, fixed ``seed``), macro-averaged one-versus-rest over the
    group's values: 0.5 means the feature says nothing about the group, 1 that it
    identifies it. The feature enters as indicators of its levels (numbers: of their
    deciles). A feature is flagged when ``strength >= threshold``. Rows whose group is not
    recorded, and group values with fewer than ``2 * folds`` rows, are left out.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    missing = [c for c in [*features, group] if c not in frame.columns]
    if missing:
        raise RiskModelInputError(f"columns not in the data: {', '.join(missing)}")
    labels = np.asarray(as_labels(frame[group], name=group), dtype=object)
    keep = labels != NOT_RECORDED
    values, counts = np.unique(labels[keep], return_counts=True)
    keep &= np.isin(labels, values[counts >= 2 * folds])
    target = labels[keep]
    kept_values = np.unique(target)
    if kept_values.size < 2:
        raise RiskModelInputError(
            f"group {group!r} needs two or more values with at least {2 * folds} rows each "
            "to look for proxy features"
        )
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    out = []
    for feature in features:
        x = _design(frame[feature].filter(pl.Series(keep)))
        model = LogisticRegression(max_iter=1000)
        prob = cross_val_predict(model, x, target, cv=cv, method="predict_proba")
        if kept_values.size == 2:
            strength = roc_auc_score(target == kept_values[1], prob[:, 1])
        else:
            strength = roc_auc_score(target, prob, multi_class="ovr", average="macro")
        out.append(
            {
                "feature": feature,
                "strength": float(strength),
                "flagged": bool(strength >= threshold),
            }
        )
    return sorted(out, key=lambda r: -r["strength"])


# -- the report -----------------------------------------------------------------------------


def _gap(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) - min(present) if len(present) >= 2 else None


def _max_or_none(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _notes(column: str, by_group: dict[str, Any], gaps_by_threshold: list[dict]) -> list[str]:
    shown = {k: v for k, v in by_group.items() if not v.get("suppressed") and k != NOT_RECORDED}
    notes = []
    rates = {k: v["events"] / v["n"] for k, v in shown.items() if v["n"]}
    low = min(rates, key=rates.get) if rates else None
    high = max(rates, key=rates.get) if rates else None
    if low is not None and high is not None and rates[high] > rates[low]:
        notes.append(
            f"Observed outcome rates differ by {column}: {low} {rates[low]:.2f}, "
            f"{high} {rates[high]:.2f}. When rates differ, a score that is equally "
            "calibrated in every group cannot also give every group the same false-positive "
            "and false-negative rates (Chouldechova 2017; Kleinberg, Mullainathan and "
            "Raghavan 2017): equalising error rates means using different thresholds, or "
            "probabilities that mean different things, for different groups."
        )
    for row in gaps_by_threshold:
        if row["fpr_gap"] is not None and row["fnr_gap"] is not None:
            notes.append(
                f"At threshold {row['threshold']:g}: false-positive rates differ by up to "
                f"{_fmt(row['fpr_gap'])}, false-negative rates by up to {_fmt(row['fnr_gap'])} "
                f"and positive predictive values by up to {_fmt(row['ppv_gap'])} between "
                f"{column} groups."
            )
    suppressed = [k for k, v in by_group.items() if v.get("suppressed")]
    if suppressed:
        notes.append(
            f"Groups too small to report ({', '.join(suppressed)}) are left out of the gaps."
        )
    return notes


def fairness_report(
    y: Any,
    score: Any,
    *,
    probability: Any | None,
    thresholds: Sequence[float],
    groups: dict[str, Sequence[Any]],
    frame: pl.DataFrame | None = None,
    features: list[str] | None = None,
    band: Any | None = None,
    band_order: Sequence[Any] | None = None,
    min_group_size: int = 30,
    proxy_threshold: float = 0.7,
    seed: int = 0,
) -> dict[str, Any]:
    """Fairness audit for each group column:

    ``{column: {"by_group": {value: {n, events, auc, ece, brier, calibration_by_band, ...}},
    "thresholds": threshold_metrics(...), "proxies": proxy_features(...) (with ``frame``),
    "gaps": {"fpr_max_gap", "fnr_max_gap", "ppv_max_gap", "selection_rate_max_gap",
    "auc_max_gap"}, "gaps_by_threshold": [...], "notes": [...]}}``

    A gap is the largest minus the smallest value among reported groups (suppressed groups
    and ``"not recorded"`` excluded); the ``*_max_gap`` values are the largest over the
    thresholds; ``None`` when fewer than two groups have the value.
    """
    if not groups:
        raise RiskModelInputError("groups: give at least one group column")
    yy = as_outcome(y)
    ss = as_score(score, n=yy.size)
    pp = None if probability is None else as_probability(probability, n=yy.size)
    if frame is not None and frame.height != yy.size:
        raise RiskModelInputError(f"frame has {frame.height} rows but the outcome has {yy.size}")
    report: dict[str, Any] = {}
    for column, values in groups.items():
        labels = _group_column(values, yy.size, f"group {column!r}")
        validation = validation_report(
            yy,
            score=ss,
            probability=pp,
            band=band,
            band_order=band_order,
            groups={column: labels},
            min_group_size=min_group_size,
        )
        by_group = validation["by_group"][column]
        rows = threshold_metrics(
            yy,
            ss,
            thresholds=thresholds,
            groups=labels,
            min_group_size=min_group_size,
            group_name=f"group {column!r}",
        )
        gaps_by_threshold = []
        for t in dict.fromkeys(r["threshold"] for r in rows):
            at = [
                r
                for r in rows
                if r["threshold"] == t
                and r["group"] not in (OVERALL, NOT_RECORDED)
                and not r["suppressed"]
            ]
            gaps_by_threshold.append(
                {
                    "threshold": t,
                    "fpr_gap": _gap([r["fpr"] for r in at]),
                    "fnr_gap": _gap([r["fnr"] for r in at]),
                    "ppv_gap": _gap([r["ppv"] for r in at]),
                    "selection_rate_gap": _gap([r["selection_rate"] for r in at]),
                }
            )
        aucs = [
            v["auc"]["value"]
            for k, v in by_group.items()
            if k != NOT_RECORDED and v.get("auc") is not None
        ]
        entry: dict[str, Any] = {
            "by_group": by_group,
            "thresholds": rows,
            "gaps": {
                "fpr_max_gap": _max_or_none([g["fpr_gap"] for g in gaps_by_threshold]),
                "fnr_max_gap": _max_or_none([g["fnr_gap"] for g in gaps_by_threshold]),
                "ppv_max_gap": _max_or_none([g["ppv_gap"] for g in gaps_by_threshold]),
                "selection_rate_max_gap": _max_or_none(
                    [g["selection_rate_gap"] for g in gaps_by_threshold]
                ),
                "auc_max_gap": _gap(aucs),
            },
            "gaps_by_threshold": gaps_by_threshold,
            "notes": _notes(column, by_group, gaps_by_threshold),
        }
        if frame is not None and features:
            data = frame.select(features).with_columns(
                pl.Series("__group__", labels, dtype=pl.Utf8)
            )
            entry["proxies"] = proxy_features(
                data, features=features, group="__group__", threshold=proxy_threshold, seed=seed
            )
            flagged = [p["feature"] for p in entry["proxies"] if p["flagged"]]
            if flagged:
                entry["notes"].append(
                    f"{', '.join(flagged)} predict{'s' if len(flagged) == 1 else ''} "
                    f"{column} strongly on {'its' if len(flagged) == 1 else 'their'} own "
                    f"(AUC >= {proxy_threshold:g}): such items can carry {column} into the "
                    "score even when it is not an item."
                )
        report[column] = entry
    return report

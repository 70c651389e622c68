"""Kaplan-Meier curves and Cox regression through lifelines.

Kaplan-Meier is fitted on the unique ``(duration, event)`` pairs with their counts as
weights, which gives exactly the estimate of the fit on every row (the product-limit
estimator and Greenwood's variance only use the numbers at risk and of events at each time)
while keeping a national cohort of a million releases fast.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import polars as pl


@dataclasses.dataclass(frozen=True)
class KaplanMeierCurve:
    """Survival (share not yet recidivated) by days since release, with a 95% CI."""

    times: list[float]
    survival: list[float]
    ci_low: list[float]
    ci_high: list[float]
    median_days: float | None
    releases: int
    events: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "times": self.times,
            "survival": self.survival,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "median_days": self.median_days,
        }


def kaplan_meier(durations: Any, events: Any, *, alpha: float = 0.05) -> KaplanMeierCurve:
    """Kaplan-Meier estimate of the time to the first counted event.

    S(t) = prod over event times t_i <= t of (1 - d_i / n_i), with d_i events and n_i at risk;
    the interval is lifelines' default (exponential Greenwood, "log(-log)").

    Parameters
    ----------
    durations : array-like of days from release to the event or to censoring
    events : array-like of bool, True when the event was observed

    Examples
    --------
    >>> from lifelines.datasets import load_rossi
    >>> rossi = load_rossi()
    >>> curve = kaplan_meier(rossi["week"], rossi["arrest"])
    >>> round(curve.survival[-1], 4)
    0.7361
    """
    from lifelines import KaplanMeierFitter

    frame = pl.DataFrame(
        {
            "duration": np.asarray(durations, dtype=np.float64),
            "event": np.asarray(events, dtype=bool),
        }
    )
    if frame.height == 0:
        return KaplanMeierCurve([], [], [], [], None, 0, 0)
    counts = frame.group_by("duration", "event").len().sort("duration", "event")
    fitter = KaplanMeierFitter(alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines warns about weights; ours are integers
        fitter.fit(
            counts["duration"].to_numpy(),
            counts["event"].to_numpy(),
            weights=counts["len"].to_numpy().astype(np.float64),
        )
    survival = fitter.survival_function_.iloc[:, 0]
    interval = fitter.confidence_interval_survival_function_
    median = float(fitter.median_survival_time_)
    return KaplanMeierCurve(
        times=[float(t) for t in survival.index],
        survival=[float(s) for s in survival.to_numpy()],
        ci_low=[float(v) for v in interval.iloc[:, 0].to_numpy()],
        ci_high=[float(v) for v in interval.iloc[:, 1].to_numpy()],
        median_days=median if math.isfinite(median) else None,
        releases=int(frame.height),
        events=int(frame["event"].sum()),
    )


@dataclasses.dataclass(frozen=True)
class CoxResult:
    """A fitted Cox proportional-hazards model (lifelines, Efron's method for ties).

    ``summary`` is a pandas DataFrame indexed by covariate with columns ``coef, se, hr,
    ci_low, ci_high, p`` (hazard-ratio interval at 95%). ``log_likelihood_ratio_test`` is a
    dict with ``statistic``, ``degrees_of_freedom`` and ``p``.
    """

    summary: pd.DataFrame
    log_likelihood_ratio_test: dict[str, float]
    concordance: float
    releases: int
    events: int
    covariates: tuple[str, ...]
    fitter: Any = dataclasses.field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": [
                {"covariate": name, **{k: float(v) for k, v in row.items()}}
                for name, row in self.summary.iterrows()
            ],
            "log_likelihood_ratio_test": self.log_likelihood_ratio_test,
            "concordance": self.concordance,
            "releases": self.releases,
            "events": self.events,
        }


def fit_cox(
    frame: pl.DataFrame | pd.DataFrame,
    duration_col: str,
    event_col: str,
    covariates: list[str],
    *,
    alpha: float = 0.05,
) -> CoxResult:
    """Fit h(t | x) = h0(t) exp(x'b) by partial likelihood with Efron's ties (lifelines).

    Text (or categorical) covariates are expanded to indicator columns, dropping the first
    level in sorted order as the reference. Rows with a missing value in any used column are
    an error (say which rows to drop; nothing is dropped silently).

    Examples
    --------
    >>> from lifelines.datasets import load_rossi
    >>> covariates = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
    >>> cox = fit_cox(load_rossi(), "week", "arrest", covariates)
    >>> round(cox.summary.loc["fin", "coef"], 4)
    -0.3794
    """
    from lifelines import CoxPHFitter

    data = frame if isinstance(frame, pl.DataFrame) else pl.from_pandas(frame)
    columns = [duration_col, event_col, *covariates]
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(f"fit_cox: missing column(s) {', '.join(missing)}")
    data = data.select(columns)
    nulls = {c: n for c, n in zip(columns, data.null_count().row(0), strict=True) if n}
    if nulls:
        raise ValueError(
            "fit_cox: missing values in "
            + ", ".join(f"{c} ({n} rows)" for c, n in nulls.items())
            + "; drop or fill those rows first"
        )
    text = [
        c
        for c in covariates
        if data.schema[c] in (pl.String, pl.Categorical, pl.Enum) or data.schema[c] == pl.Boolean
    ]
    for column in text:
        if data.schema[column] == pl.Boolean:
            data = data.with_columns(pl.col(column).cast(pl.Int8))
            continue
        levels = sorted(data[column].cast(pl.String).unique().to_list())
        data = data.with_columns(
            pl.when(pl.col(column).cast(pl.String) == level)
            .then(1)
            .otherwise(0)
            .cast(pl.Int8)
            .alias(f"{column}={level}")
            for level in levels[1:]
        ).drop(column)
    data = data.with_columns(pl.col(event_col).cast(pl.Int8))
    pandas_frame = pd.DataFrame({c: data[c].to_numpy() for c in data.columns})
    fitter = CoxPHFitter(alpha=alpha)
    fitter.fit(pandas_frame, duration_col=duration_col, event_col=event_col)
    raw = fitter.summary
    summary = pd.DataFrame(
        {
            "coef": raw["coef"],
            "se": raw["se(coef)"],
            "hr": raw["exp(coef)"],
            "ci_low": raw[f"exp(coef) lower {100 * (1 - alpha):g}%"],
            "ci_high": raw[f"exp(coef) upper {100 * (1 - alpha):g}%"],
            "p": raw["p"],
        }
    )
    summary.index.name = "covariate"
    test = fitter.log_likelihood_ratio_test()
    return CoxResult(
        summary=summary,
        log_likelihood_ratio_test={
            "statistic": float(test.test_statistic),
            "degrees_of_freedom": float(test.degrees_freedom),
            "p": float(test.p_value),
        },
        concordance=float(fitter.concordance_index_),
        releases=int(pandas_frame.shape[0]),
        events=int(pandas_frame[event_col].sum()),
        covariates=tuple(c for c in pandas_frame.columns if c not in (duration_col, event_col)),
        fitter=fitter,
    )

"""Checking and preparing the data of an evaluation: a wrong number must never appear silently.

``prepare(frame, spec)`` turns a polars or pandas frame into numpy arrays for the
estimators, or raises ``EvaluationInputError`` naming the column and the problem. What it
had to change on the way (rows with missing values, constant or collinear covariates,
categories expanded into indicators) comes back as warnings and notes for the result.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from whatworks.analytics.evaluation.result import EvaluationSpec, OutcomeType, Warning_


class EvaluationInputError(ValueError):
    """The data cannot be evaluated as asked; the message names the column and the problem."""


@dataclasses.dataclass(frozen=True)
class PreparedData:
    """Complete cases, as arrays. ``x`` holds the covariates actually used (``covariates``)."""

    x: np.ndarray
    covariates: tuple[str, ...]
    treatment: np.ndarray  # int 0/1
    outcome_type: OutcomeType
    outcome: np.ndarray | None  # binary or continuous outcome
    duration: np.ndarray | None  # time to event
    event: np.ndarray | None
    placebo: np.ndarray | None
    n_dropped_missing: int
    warnings: tuple[Warning_, ...]
    notes: tuple[str, ...]

    @property
    def n_treated(self) -> int:
        return int(self.treatment.sum())

    @property
    def n_control(self) -> int:
        return int(len(self.treatment) - self.treatment.sum())


def to_pandas(frame: Any) -> pd.DataFrame:
    if isinstance(frame, pd.DataFrame):
        return frame
    if hasattr(frame, "to_pandas") and hasattr(frame, "get_column"):  # polars, without pyarrow
        return pd.DataFrame({c: frame.get_column(c).to_numpy() for c in frame.columns})
    raise TypeError(f"expected a polars or pandas DataFrame, got {type(frame).__name__}")


def _is_binary(values: pd.Series) -> bool:
    unique = pd.unique(values)
    return len(unique) > 0 and set(np.asarray(unique, dtype=float).tolist()) <= {0.0, 1.0}


def _numeric(series: pd.Series, column: str, role: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series):
        return series.astype(float).to_numpy()
    if not pd.api.types.is_numeric_dtype(series):
        raise EvaluationInputError(
            f"{role} column {column!r} must be numeric, it has type {series.dtype}"
        )
    return series.astype(float).to_numpy()


def _check_spec(df: pd.DataFrame, spec: EvaluationSpec) -> list[str]:
    has_outcome = spec.outcome is not None
    has_survival = spec.duration is not None or spec.event is not None
    if has_outcome == has_survival:
        raise EvaluationInputError(
            "give exactly one outcome: 'outcome', or 'duration' together with 'event'"
        )
    if has_survival and (spec.duration is None or spec.event is None):
        raise EvaluationInputError("a time-to-event outcome needs both 'duration' and 'event'")
    if not spec.covariates:
        raise EvaluationInputError("give at least one covariate to adjust for")
    if spec.treatment in spec.covariates:
        raise EvaluationInputError(
            f"treatment column {spec.treatment!r} cannot also be a covariate"
        )
    outcome_columns = [c for c in (spec.outcome, spec.duration, spec.event) if c is not None]
    needed = [spec.treatment, *outcome_columns, *spec.covariates]
    if spec.placebo_outcome is not None:
        needed.append(spec.placebo_outcome)
    missing = [c for c in dict.fromkeys(needed) if c not in df.columns]
    if missing:
        raise EvaluationInputError(f"column(s) not found in the data: {', '.join(missing)}")
    return list(dict.fromkeys(needed))


def _treatment(series: pd.Series, column: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series):
        return series.astype(int).to_numpy()
    bad: list[Any] = []
    if pd.api.types.is_numeric_dtype(series):
        bad = sorted({v for v in series.tolist() if v not in (0, 1)})
    else:
        bad = sorted({str(v) for v in series.tolist() if str(v) not in ("0", "1", "True", "False")})
    if bad:
        shown = ", ".join(repr(v) for v in bad[:5]) + (" ..." if len(bad) > 5 else "")
        raise EvaluationInputError(
            f"treatment column {column!r} must be 0/1 (or true/false); found {shown}"
        )
    if pd.api.types.is_numeric_dtype(series):
        return series.astype(int).to_numpy()
    return series.map(lambda v: int(str(v) in ("1", "True"))).to_numpy()


def _covariates(
    df: pd.DataFrame, covariates: tuple[str, ...], warnings: list[Warning_], notes: list[str]
) -> tuple[np.ndarray, list[str]]:
    columns: list[np.ndarray] = []
    names: list[str] = []
    for column in covariates:
        series = df[column]
        if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
            columns.append(series.astype(float).to_numpy())
            names.append(column)
            continue
        levels = sorted(series.astype(str).unique().tolist())
        for level in levels[1:]:
            columns.append((series.astype(str) == level).astype(float).to_numpy())
            names.append(f"{column}={level}")
        notes.append(
            f"Covariate {column!r} is categorical: it was expanded into indicators for "
            f"{len(levels) - 1} of its {len(levels)} levels ({levels[0]!r} is the reference)."
        )
    constant = [n for n, c in zip(names, columns, strict=True) if np.ptp(c) == 0]
    if constant:
        warnings.append(
            Warning_(
                "constant_covariate",
                f"Covariate(s) with the same value for everyone were dropped: "
                f"{', '.join(constant)}.",
                {"covariates": constant},
            )
        )
    kept = [(n, c) for n, c in zip(names, columns, strict=True) if n not in constant]
    # Collinearity: add columns one at a time to the design (with an intercept), drop any
    # that does not raise its rank. Columns are standardised so the rank tolerance is fair.
    n = len(df)
    design = np.ones((n, 1))
    used: list[tuple[str, np.ndarray]] = []
    collinear: list[str] = []
    for name, col in kept:
        z = (col - col.mean()) / col.std()
        candidate = np.column_stack([design, z])
        if np.linalg.matrix_rank(candidate) > design.shape[1]:
            design = candidate
            used.append((name, col))
        else:
            collinear.append(name)
    if collinear:
        warnings.append(
            Warning_(
                "collinear_covariate",
                f"Covariate(s) that are an exact combination of the others were dropped: "
                f"{', '.join(collinear)}.",
                {"covariates": collinear},
            )
        )
    if not used:
        raise EvaluationInputError("no usable covariate is left (all are constant)")
    return np.column_stack([c for _, c in used]), [name for name, _ in used]


def prepare(frame: Any, spec: EvaluationSpec) -> PreparedData:
    """Check the columns named by ``spec`` and return complete cases as arrays."""
    df = to_pandas(frame)
    needed = _check_spec(df, spec)
    warnings: list[Warning_] = []
    notes: list[str] = []

    missing_counts = {c: int(df[c].isna().sum()) for c in needed}
    missing_counts = {c: k for c, k in missing_counts.items() if k}
    complete = df[needed].notna().all(axis=1)
    n_dropped = int((~complete).sum())
    if n_dropped:
        warnings.append(
            Warning_(
                "missing_values_dropped",
                f"{n_dropped} of {len(df)} rows with a missing value were left out ("
                + ", ".join(f"{c}: {k}" for c, k in missing_counts.items())
                + ").",
                {"rows": n_dropped, "columns": missing_counts},
            )
        )
    df = df.loc[complete, needed].reset_index(drop=True)
    if len(df) == 0:
        raise EvaluationInputError("no row is complete in the columns of the evaluation")

    treatment = _treatment(df[spec.treatment], spec.treatment)
    n_treated = int(treatment.sum())
    n_control = len(treatment) - n_treated
    if n_treated == 0 or n_control == 0:
        empty = "treated (1)" if n_treated == 0 else "comparison (0)"
        raise EvaluationInputError(
            f"treatment column {spec.treatment!r} has no {empty} rows with complete data"
        )
    if n_treated < spec.min_treated:
        warnings.append(
            Warning_(
                "too_few_treated",
                f"Only {n_treated} treated people (fewer than {spec.min_treated}): the "
                "estimate is fragile and should not be published on its own.",
                {"n_treated": n_treated, "min_treated": spec.min_treated},
            )
        )

    x, names = _covariates(df, spec.covariates, warnings, notes)

    outcome = duration = event = None
    outcome_type: OutcomeType
    if spec.outcome is not None:
        outcome = _numeric(df[spec.outcome], spec.outcome, "outcome")
        outcome_type = "binary" if _is_binary(df[spec.outcome]) else "continuous"
    else:
        assert spec.duration is not None and spec.event is not None
        duration = _numeric(df[spec.duration], spec.duration, "duration")
        event = _numeric(df[spec.event], spec.event, "event")
        if not _is_binary(df[spec.event]):
            bad = sorted({v for v in event.tolist() if v not in (0.0, 1.0)})[:5]
            raise EvaluationInputError(f"event column {spec.event!r} must be 0/1; found {bad}")
        if (duration <= 0).any():
            raise EvaluationInputError(
                f"duration column {spec.duration!r} must be > 0; "
                f"{int((duration <= 0).sum())} rows are not"
            )
        if event.sum() == 0:
            raise EvaluationInputError(f"event column {spec.event!r} has no events")
        outcome_type = "time_to_event"

    placebo = None
    if spec.placebo_outcome is not None:
        placebo = _numeric(df[spec.placebo_outcome], spec.placebo_outcome, "placebo outcome")

    return PreparedData(
        x=x,
        covariates=tuple(names),
        treatment=treatment,
        outcome_type=outcome_type,
        outcome=outcome,
        duration=duration,
        event=event,
        placebo=placebo,
        n_dropped_missing=n_dropped,
        warnings=tuple(warnings),
        notes=tuple(notes),
    )

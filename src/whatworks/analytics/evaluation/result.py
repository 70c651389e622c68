"""What an evaluation is asked (``EvaluationSpec``) and what it answers (``EvaluationResult``).

This module is the contract between the estimators, the report, the command line and the
app: the estimators fill an ``EvaluationResult``; everything else reads it or its
``to_dict()`` (the JSON output). Pure Python; never imports Django.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal

Estimand = Literal["att", "ate"]
Method = Literal["aipw", "ipw", "psm"]
OutcomeType = Literal["binary", "continuous", "time_to_event"]
EffectMeasure = Literal["risk_difference", "mean_difference", "hazard_ratio"]

DEFAULT_SEED = 20261127
DEFAULT_MIN_TREATED = 60  # the UK Justice Data Lab's minimum
BALANCE_THRESHOLD = 0.1  # |standardised mean difference| after adjustment


@dataclasses.dataclass(frozen=True)
class EvaluationSpec:
    """One evaluation: which columns, which estimand, which method.

    Exactly one outcome: ``outcome`` (a 0/1 column gives a difference in proportions, any
    other numeric column a difference in means, in its unit), or ``duration`` + ``event``
    (time to first event: a hazard ratio and survival differences at ``horizons``)."""

    treatment: str
    covariates: tuple[str, ...]
    outcome: str | None = None
    duration: str | None = None
    event: str | None = None
    estimand: Estimand = "att"
    method: Method = "aipw"
    # Nearest-neighbour matching on the logit of the propensity score; the caliper is in
    # standard deviations of that logit (0.2 is the usual choice, Austin 2011).
    caliper: float | None = 0.2
    replacement: bool = False
    # Inverse-probability weighting: drop units whose propensity is outside [trim, 1 - trim].
    trim: float | None = None
    ci_method: Literal["influence", "bootstrap"] | None = None  # None: the method's default
    bootstrap_reps: int = 500
    seed: int = DEFAULT_SEED
    min_treated: int = DEFAULT_MIN_TREATED
    horizons: tuple[float, ...] = ()
    placebo_outcome: str | None = None
    # Words for the plain-language summary ("completed Razonamiento y Rehabilitación",
    # "reconvicted within 2 years").
    treatment_label: str = ""
    outcome_label: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Warning_:
    """A problem the reader must see. ``code`` is stable (the app translates it); ``message``
    is the English sentence for the command line and the JSON."""

    code: str
    message: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "params": dict(self.params)}


@dataclasses.dataclass(frozen=True)
class BalanceRow:
    covariate: str
    smd_before: float
    smd_after: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class EvaluationResult:
    spec: EvaluationSpec
    outcome_type: OutcomeType
    effect_measure: EffectMeasure
    estimate: float
    ci_low: float
    ci_high: float
    ci_method: str
    # Adjusted outcome in each group under the estimand (for ATT: the treated, and similar
    # people who were not treated); for time to event, the survival at the first horizon.
    treated_value: float | None
    control_value: float | None
    n_treated: int
    n_control: int
    n_dropped_missing: int
    n_unmatched: int
    n_trimmed: int
    ess_treated: float
    ess_control: float
    balance: tuple[BalanceRow, ...]
    # Propensity scores, binned: {"edges": [...], "treated": [...], "control": [...]}.
    overlap: Mapping[str, Any]
    warnings: tuple[Warning_, ...]
    # E-value for the estimate and for the confidence bound nearer the null (VanderWeele &
    # Ding 2017); {"point": float, "ci": float, "scale": "risk ratio" | ...}.
    evalue: Mapping[str, Any]
    # The unadjusted comparison, to show what adjustment changed.
    naive: Mapping[str, float]
    # Time to event only: weighted Kaplan-Meier at the horizons.
    survival: Mapping[str, Any] | None = None
    placebo: Mapping[str, Any] | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON output (``whatworks evaluate --format json``)."""
        return {
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "ci_method": self.ci_method,
            "estimand": self.spec.estimand,
            "method": self.spec.method,
            "outcome_type": self.outcome_type,
            "effect_measure": self.effect_measure,
            "treated_value": self.treated_value,
            "control_value": self.control_value,
            "n_treated": self.n_treated,
            "n_control": self.n_control,
            "n_dropped_missing": self.n_dropped_missing,
            "n_unmatched": self.n_unmatched,
            "n_trimmed": self.n_trimmed,
            "ess_treated": self.ess_treated,
            "ess_control": self.ess_control,
            "balance": [row.to_dict() for row in self.balance],
            "overlap": dict(self.overlap),
            "warnings": [warning.to_dict() for warning in self.warnings],
            "evalue": dict(self.evalue),
            "naive": dict(self.naive),
            "survival": dict(self.survival) if self.survival is not None else None,
            "placebo": dict(self.placebo) if self.placebo is not None else None,
            "notes": list(self.notes),
            "spec": self.spec.to_dict(),
        }

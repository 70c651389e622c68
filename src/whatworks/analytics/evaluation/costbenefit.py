"""Benefit-cost analysis of a programme in the style of the Washington State Institute for
Public Policy (WSIPP): benefits, costs, net present value, the benefit/cost ratio and the
chance that benefits exceed costs, by Monte Carlo.

The model
---------
For ``n`` participants, an effect giving ``a`` avoided reoffences per participant, avoided
costs ``c_k`` per reoffence (prison days, court, victim, ...), a programme cost ``p`` per
participant, a discount rate ``r`` and avoided reoffences spread evenly over ``T`` years
(counted at the end of each year)::

    D        = (1/T) * sum_{t=1..T} (1 + r)^-t          (discount factor of the benefits)
    benefits = n * a * D * sum_k c_k
    costs    = n * p                                     (paid now, not discounted)
    NPV      = benefits - costs
    B/C      = benefits / costs

Avoided reoffences per participant ``a`` from the evaluation's effect:

* ``risk_difference`` (a 0/1 reoffending outcome): ``a = -estimate``.
* ``mean_difference`` (a count of reoffences): ``a = -estimate``.
* ``hazard_ratio``: with ``S0`` the controls' share not reoffending at the horizon
  (``control_value``) and ``HR`` the hazard ratio, proportional hazards give the treated
  ``S0 ** HR``, so ``a = S0 ** HR - S0``.

The reported benefits, costs, NPV and ratio use the central values. The Monte Carlo draws,
``reps`` times: the effect from a normal distribution whose 95% interval is the evaluation's
CI (on the log scale for a hazard ratio: ``se = (hi - lo) / (2 * 1.959964)``); each avoided
cost from a normal with standard deviation ``avoided_cost_sd_fraction * c_k``; the programme
cost from a normal with standard deviation ``cost_per_participant_sd``; costs are truncated at
zero. ``probability_benefits_exceed_costs`` is the share of draws with NPV > 0;
``percentiles`` holds the 5th, 25th, 50th, 75th and 95th percentiles of the drawn benefits,
costs, NPV and ratio.

The EXAMPLE figures below are illustrative only, in Chilean pesos: they are not official
costs of any country or service. Replace them with local, sourced figures before publishing.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from whatworks.analytics.evaluation.result import DEFAULT_SEED, EvaluationResult

Z_975 = 1.959963984540054
PERCENTILES = (5, 25, 50, 75, 95)

# ILLUSTRATIVE EXAMPLES ONLY (CLP): not official figures, not sourced; for demonstrations
# and tests. An evaluation that publishes a benefit-cost ratio must supply its own.
EXAMPLE_COST_PER_PARTICIPANT = 850_000.0
EXAMPLE_AVOIDED_COST_PER_REOFFENCE: Mapping[str, float] = {
    "prison_days": 9_000_000.0,  # e.g. about 300 days at an illustrative 30,000 a day
    "court": 1_200_000.0,
    "police": 600_000.0,
    "victim": 2_500_000.0,
}


class CostBenefitInputError(ValueError):
    """Inputs that cannot give a benefit-cost analysis (negative costs, no participants...)."""


@dataclasses.dataclass(frozen=True)
class Effect:
    """An effect without a whole ``EvaluationResult``: the estimate and its 95% CI on the
    measure's own scale; ``control_value`` (survival at the horizon) for a hazard ratio."""

    estimate: float
    ci_low: float
    ci_high: float
    effect_measure: str = "risk_difference"
    control_value: float | None = None


@dataclasses.dataclass(frozen=True)
class CostBenefitInputs:
    """Costs in ``currency``; the defaults are ILLUSTRATIVE EXAMPLES, not official figures.

    ``avoided_cost_per_reoffence`` maps each cost avoided when a reoffence is avoided to its
    amount; ``avoided_cost_sd_fraction`` is their uncertainty as a share of each amount;
    ``years`` the period over which avoided reoffences happen (the outcome's follow-up)."""

    cost_per_participant: float = EXAMPLE_COST_PER_PARTICIPANT
    cost_per_participant_sd: float = 0.0
    avoided_cost_per_reoffence: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: dict(EXAMPLE_AVOIDED_COST_PER_REOFFENCE)
    )
    avoided_cost_sd_fraction: float = 0.25
    discount_rate: float = 0.03
    years: int = 2
    currency: str = "CLP"

    def __post_init__(self) -> None:
        if not self.cost_per_participant >= 0 or not self.cost_per_participant_sd >= 0:
            raise CostBenefitInputError("the cost per participant and its SD must be ≥ 0")
        if any(not value >= 0 for value in self.avoided_cost_per_reoffence.values()):
            raise CostBenefitInputError("avoided costs per reoffence must be ≥ 0")
        if not self.avoided_cost_sd_fraction >= 0:
            raise CostBenefitInputError("avoided_cost_sd_fraction must be ≥ 0")
        if not -1 < self.discount_rate < 1:
            raise CostBenefitInputError("the discount rate must be between -1 and 1")
        if self.years < 1:
            raise CostBenefitInputError("years must be 1 or more")

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["avoided_cost_per_reoffence"] = dict(self.avoided_cost_per_reoffence)
        return data


@dataclasses.dataclass(frozen=True)
class CostBenefitResult:
    participants: int
    avoided_reoffences_per_participant: float
    discount_factor: float
    benefits: float
    costs: float
    net_present_value: float
    benefit_cost_ratio: float | None  # None when costs are zero
    probability_benefits_exceed_costs: float
    # {"benefits": {"5": ..., ...}, "costs": ..., "net_present_value": ...,
    #  "benefit_cost_ratio": ...}
    percentiles: Mapping[str, Mapping[str, float | None]]
    reps: int
    seed: int
    inputs: CostBenefitInputs

    def to_dict(self) -> dict[str, Any]:
        return {
            "participants": self.participants,
            "avoided_reoffences_per_participant": self.avoided_reoffences_per_participant,
            "discount_factor": self.discount_factor,
            "benefits": self.benefits,
            "costs": self.costs,
            "net_present_value": self.net_present_value,
            "benefit_cost_ratio": self.benefit_cost_ratio,
            "probability_benefits_exceed_costs": self.probability_benefits_exceed_costs,
            "percentiles": {k: dict(v) for k, v in self.percentiles.items()},
            "reps": self.reps,
            "seed": self.seed,
            "inputs": self.inputs.to_dict(),
        }


def discount_factor(rate: float, years: int) -> float:
    """Present value of 1 spread evenly over ``years`` years, each counted at the year's end."""
    return sum((1 + rate) ** -t for t in range(1, years + 1)) / years


def _effect(result_or_effect: EvaluationResult | Effect) -> Effect:
    if isinstance(result_or_effect, Effect):
        return result_or_effect
    return Effect(
        estimate=result_or_effect.estimate,
        ci_low=result_or_effect.ci_low,
        ci_high=result_or_effect.ci_high,
        effect_measure=result_or_effect.effect_measure,
        control_value=result_or_effect.control_value,
    )


def _avoided(effect: Effect, estimates: np.ndarray) -> np.ndarray:
    """Avoided reoffences per participant for effect values on the measure's own scale."""
    if effect.effect_measure == "hazard_ratio":
        survival = effect.control_value
        if survival is None or not 0 < survival < 1:
            raise CostBenefitInputError(
                "a hazard ratio needs the controls' survival at the horizon (control_value) "
                "strictly between 0 and 1"
            )
        return survival**estimates - survival
    if effect.effect_measure in ("risk_difference", "mean_difference"):
        return -estimates
    raise CostBenefitInputError(f"unknown effect measure {effect.effect_measure!r}")


def _effect_draws(effect: Effect, reps: int, rng: np.random.Generator) -> np.ndarray:
    if effect.effect_measure == "hazard_ratio":
        if not (effect.estimate > 0 and effect.ci_low > 0 and effect.ci_high > 0):
            raise CostBenefitInputError("a hazard ratio and its CI must be positive")
        centre = math.log(effect.estimate)
        se = (math.log(effect.ci_high) - math.log(effect.ci_low)) / (2 * Z_975)
        return np.exp(rng.normal(centre, se, reps))
    se = (effect.ci_high - effect.ci_low) / (2 * Z_975)
    return rng.normal(effect.estimate, se, reps)


def _percentiles(values: np.ndarray) -> dict[str, float | None]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {str(p): None for p in PERCENTILES}
    return {
        str(p): float(v)
        for p, v in zip(PERCENTILES, np.percentile(finite, PERCENTILES), strict=True)
    }


def cost_benefit(
    result_or_effect: EvaluationResult | Effect,
    participants: int,
    inputs: CostBenefitInputs,
    *,
    reps: int = 10_000,
    seed: int = DEFAULT_SEED,
) -> CostBenefitResult:
    """Benefits, costs, NPV, benefit/cost ratio and the probability that benefits exceed
    costs, for ``participants`` people (see the module docstring for the formulas).

    Examples
    --------
    >>> effect = Effect(estimate=-0.07, ci_low=-0.11, ci_high=-0.03)
    >>> inputs = CostBenefitInputs(cost_per_participant=100.0,
    ...     avoided_cost_per_reoffence={"prison": 2000.0}, discount_rate=0.0, years=1)
    >>> round(cost_benefit(effect, 10, inputs, reps=1000, seed=1).benefit_cost_ratio, 6)
    1.4
    """
    if participants < 1:
        raise CostBenefitInputError("participants must be 1 or more")
    if reps < 1:
        raise CostBenefitInputError("reps must be 1 or more")
    effect = _effect(result_or_effect)
    if not all(math.isfinite(v) for v in (effect.estimate, effect.ci_low, effect.ci_high)):
        raise CostBenefitInputError("the effect and its CI must be finite numbers")
    factor = discount_factor(inputs.discount_rate, inputs.years)
    unit_costs = np.array(list(inputs.avoided_cost_per_reoffence.values()), dtype=float)

    avoided = float(_avoided(effect, np.array([effect.estimate]))[0])
    benefits = participants * avoided * factor * float(unit_costs.sum())
    costs = participants * inputs.cost_per_participant
    npv = benefits - costs
    ratio = benefits / costs if costs > 0 else None

    rng = np.random.default_rng(seed)
    avoided_draws = _avoided(effect, _effect_draws(effect, reps, rng))
    if unit_costs.size:
        noise = rng.normal(0.0, 1.0, (reps, unit_costs.size))
        drawn_units = np.clip(unit_costs * (1 + inputs.avoided_cost_sd_fraction * noise), 0, None)
        per_reoffence = drawn_units.sum(axis=1)
    else:
        per_reoffence = np.zeros(reps)
    cost_draws = np.clip(
        rng.normal(inputs.cost_per_participant, inputs.cost_per_participant_sd, reps), 0, None
    )
    benefit_draws = participants * avoided_draws * factor * per_reoffence
    cost_totals = participants * cost_draws
    npv_draws = benefit_draws - cost_totals
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_draws = np.where(cost_totals > 0, benefit_draws / cost_totals, np.nan)
    return CostBenefitResult(
        participants=participants,
        avoided_reoffences_per_participant=avoided,
        discount_factor=factor,
        benefits=benefits,
        costs=costs,
        net_present_value=npv,
        benefit_cost_ratio=ratio,
        probability_benefits_exceed_costs=float(np.mean(npv_draws > 0)),
        percentiles={
            "benefits": _percentiles(benefit_draws),
            "costs": _percentiles(cost_totals),
            "net_present_value": _percentiles(npv_draws),
            "benefit_cost_ratio": _percentiles(ratio_draws),
        },
        reps=reps,
        seed=seed,
        inputs=inputs,
    )

"""WSIPP-style benefit-cost analysis: deterministic cases computed by hand (all standard
deviations zero, so every Monte Carlo draw equals the central value) and seeded Monte Carlo
cases whose probabilities follow from the normal distribution."""

from __future__ import annotations

import math

import pytest
from scipy.stats import norm

from whatworks.analytics.evaluation.costbenefit import (
    EXAMPLE_AVOIDED_COST_PER_REOFFENCE,
    EXAMPLE_COST_PER_PARTICIPANT,
    CostBenefitInputError,
    CostBenefitInputs,
    Effect,
    cost_benefit,
    discount_factor,
)
from whatworks.analytics.tests.test_evaluation_report import binary_result

EXACT = Effect(estimate=-0.07, ci_low=-0.07, ci_high=-0.07)


def inputs(**changes) -> CostBenefitInputs:
    values = {
        "cost_per_participant": 100.0,
        "avoided_cost_per_reoffence": {"prison_days": 1500.0, "court": 500.0},
        "avoided_cost_sd_fraction": 0.0,
        "discount_rate": 0.0,
        "years": 1,
        "currency": "CLP",
    }
    return CostBenefitInputs(**{**values, **changes})


def test_a_risk_difference_without_uncertainty():
    # 0.07 avoided reoffences x 2,000 avoided cost x 10 participants = 1,400; costs 10 x 100.
    result = cost_benefit(EXACT, 10, inputs(), reps=100, seed=1)
    assert result.avoided_reoffences_per_participant == pytest.approx(0.07)
    assert result.benefits == pytest.approx(1400.0)
    assert result.costs == pytest.approx(1000.0)
    assert result.net_present_value == pytest.approx(400.0)
    assert result.benefit_cost_ratio == pytest.approx(1.4)
    assert result.probability_benefits_exceed_costs == 1.0
    for name, value in (("benefits", 1400.0), ("net_present_value", 400.0)):
        assert set(result.percentiles[name]) == {"5", "25", "50", "75", "95"}
        assert all(v == pytest.approx(value) for v in result.percentiles[name].values())


def test_discounting_spreads_the_benefits_over_the_years():
    factor = (1 / 1.05 + 1 / 1.05**2) / 2  # 0.929705
    assert discount_factor(0.05, 2) == pytest.approx(factor)
    assert discount_factor(0.0, 5) == 1.0
    result = cost_benefit(EXACT, 10, inputs(discount_rate=0.05, years=2), reps=10, seed=1)
    assert result.discount_factor == pytest.approx(0.9297052154)
    assert result.benefits == pytest.approx(1400.0 * factor)


def test_a_harmful_programme_never_pays():
    harm = Effect(estimate=0.05, ci_low=0.05, ci_high=0.05)
    result = cost_benefit(harm, 10, inputs(), reps=100, seed=1)
    assert result.benefits == pytest.approx(-1000.0)
    assert result.net_present_value == pytest.approx(-2000.0)
    assert result.probability_benefits_exceed_costs == 0.0


def test_a_hazard_ratio_uses_the_controls_survival_at_the_horizon():
    # 70% of controls without reoffence; proportional hazards give the treated 0.7 ** 0.8.
    effect = Effect(0.8, 0.8, 0.8, effect_measure="hazard_ratio", control_value=0.7)
    avoided = 0.7**0.8 - 0.7  # 0.051776
    result = cost_benefit(effect, 100, inputs(), reps=10, seed=1)
    assert result.avoided_reoffences_per_participant == pytest.approx(avoided)
    assert result.benefits == pytest.approx(100 * avoided * 2000.0)
    with pytest.raises(CostBenefitInputError, match="control_value"):
        cost_benefit(Effect(0.8, 0.7, 0.9, "hazard_ratio"), 100, inputs())


def test_a_mean_difference_counts_avoided_reoffences():
    effect = Effect(-0.3, -0.3, -0.3, effect_measure="mean_difference")
    result = cost_benefit(effect, 1, inputs(), reps=10, seed=1)
    assert result.benefits == pytest.approx(600.0)


def test_the_monte_carlo_draws_the_effect_from_its_interval():
    # se = (0.11 - 0.03) / 3.92 = 0.0204; benefits exceed costs when avoided x 2,000 > 100,
    # i.e. avoided > 0.05, which has probability Phi((0.07 - 0.05) / se) = Phi(0.98) = 0.8365.
    effect = Effect(estimate=-0.07, ci_low=-0.11, ci_high=-0.03)
    result = cost_benefit(effect, 10, inputs(), reps=40_000, seed=7)
    se = 0.08 / (2 * 1.959964)
    assert result.probability_benefits_exceed_costs == pytest.approx(norm.cdf(0.98), abs=0.005)
    assert result.percentiles["net_present_value"]["50"] == pytest.approx(400.0, abs=10)
    # The 5th and 95th percentiles of NPV: 10 x 2,000 x (0.07 -+ 1.645 se) - 1,000.
    for key, sign in (("5", -1), ("95", 1)):
        expected = 10 * 2000 * (0.07 + sign * norm.ppf(0.95) * se) - 1000
        assert result.percentiles["net_present_value"][key] == pytest.approx(expected, abs=25)


def test_the_monte_carlo_draws_the_programme_cost():
    # Benefits are 140 a participant; costs ~ N(100, 40): P(cost < 140) = Phi(1) = 0.841.
    result = cost_benefit(EXACT, 1, inputs(cost_per_participant_sd=40.0), reps=40_000, seed=3)
    assert result.probability_benefits_exceed_costs == pytest.approx(norm.cdf(1), abs=0.005)
    assert result.costs == 100.0  # the central value, not the draws


def test_the_monte_carlo_draws_the_avoided_costs():
    # Benefits ~ 0.07 x (1,500 (1 + 0.5 Z1) + 500 (1 + 0.5 Z2)): mean 140, sd 0.07 x 0.5 x
    # sqrt(1500^2 + 500^2) = 55.34; costs 100: P = Phi(40 / 55.34) = 0.765.
    result = cost_benefit(EXACT, 1, inputs(avoided_cost_sd_fraction=0.5), reps=40_000, seed=5)
    sd = 0.07 * 0.5 * math.hypot(1500, 500)
    # Truncating negative costs at zero moves almost nothing here (z = -2 for prison days).
    assert result.probability_benefits_exceed_costs == pytest.approx(norm.cdf(40 / sd), abs=0.01)


def test_the_same_seed_gives_the_same_answer():
    effect = Effect(estimate=-0.07, ci_low=-0.11, ci_high=-0.03)
    first = cost_benefit(effect, 10, inputs(), reps=2000, seed=11)
    again = cost_benefit(effect, 10, inputs(), reps=2000, seed=11)
    other = cost_benefit(effect, 10, inputs(), reps=2000, seed=12)
    assert first == again
    assert first.percentiles != other.percentiles


def test_an_evaluation_result_can_be_given_directly():
    result = cost_benefit(binary_result(), 412, inputs(), reps=1000, seed=1)
    assert result.avoided_reoffences_per_participant == pytest.approx(0.07)
    assert result.participants == 412
    assert result.to_dict()["inputs"]["avoided_cost_per_reoffence"]["court"] == 500.0


def test_zero_costs_give_no_ratio():
    result = cost_benefit(EXACT, 10, inputs(cost_per_participant=0.0), reps=100, seed=1)
    assert result.benefit_cost_ratio is None
    assert result.percentiles["benefit_cost_ratio"]["50"] is None


def test_the_example_defaults_are_the_illustrative_figures():
    example = CostBenefitInputs()
    assert example.cost_per_participant == EXAMPLE_COST_PER_PARTICIPANT
    assert dict(example.avoided_cost_per_reoffence) == dict(EXAMPLE_AVOIDED_COST_PER_REOFFENCE)
    assert example.currency == "CLP"
    import whatworks.analytics.evaluation.costbenefit as module

    assert "illustrative" in module.__doc__.lower() and "not official" in module.__doc__


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"cost_per_participant": -1.0}, "cost per participant"),
        ({"avoided_cost_per_reoffence": {"court": -5.0}}, "avoided costs"),
        ({"discount_rate": 1.5}, "discount rate"),
        ({"years": 0}, "years"),
    ],
)
def test_bad_inputs_are_refused(changes, message):
    with pytest.raises(CostBenefitInputError, match=message):
        inputs(**changes)


def test_no_participants_is_refused():
    with pytest.raises(CostBenefitInputError, match="participants"):
        cost_benefit(EXACT, 0, inputs())

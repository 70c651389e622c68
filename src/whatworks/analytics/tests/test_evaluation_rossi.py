"""Evaluation of Rossi et al. (1980): financial aid after release (``fin``), randomised.

Reference (domain guide §9), R::

    library(survival)
    coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, data = rossi)
    # fin: coef -0.37942, HR 0.684 (95% CI 0.470-0.996); 48 arrests with aid, 66 without

Being randomised, the weighted (marginal) estimate should be close to both the
covariate-adjusted Cox and the unadjusted comparison.
"""

from __future__ import annotations

import pytest
from lifelines.datasets import load_rossi

from whatworks.analytics.evaluation import EvaluationSpec, evaluate

COVARIATES = ("age", "race", "wexp", "mar", "paro", "prio")


@pytest.fixture(scope="module")
def rossi():
    return load_rossi()


def test_hazard_ratio_of_financial_aid(rossi):
    spec = EvaluationSpec(
        treatment="fin", duration="week", event="arrest", covariates=COVARIATES, method="ipw"
    )
    result = evaluate(rossi, spec)
    assert result.effect_measure == "hazard_ratio"
    # ATT-weighted Cox, robust variance: 0.678 (0.469-0.981).
    assert result.estimate == pytest.approx(0.678, abs=0.002)
    assert 0.6 < result.estimate < 0.8
    assert result.ci_low == pytest.approx(0.470, abs=0.01)
    assert result.ci_high == pytest.approx(0.996, abs=0.03)
    # Unadjusted Cox on fin alone.
    assert result.naive["estimate"] == pytest.approx(0.691, abs=0.002)
    assert (result.n_treated, result.n_control) == (216, 216)
    survival = result.survival
    assert survival is not None
    assert survival["horizons"] == [17.0, 28.0, 41.5]  # quartiles of the arrest weeks
    assert all(d > 0 for d in survival["difference"])  # aid: more still free
    assert result.treated_value == survival["treated"][0]
    assert result.evalue["point"] > result.evalue["ci"] > 1
    assert result.warnings == ()
    assert any("weighted Cox" in note for note in result.notes)


def test_every_method_weights_for_time_to_event(rossi):
    base = {"treatment": "fin", "duration": "week", "event": "arrest", "covariates": COVARIATES}
    ipw = evaluate(rossi, EvaluationSpec(**base, method="ipw"))  # type: ignore[arg-type]
    aipw = evaluate(rossi, EvaluationSpec(**base))  # type: ignore[arg-type]
    assert aipw.estimate == ipw.estimate
    ate = evaluate(rossi, EvaluationSpec(**base, estimand="ate"))  # type: ignore[arg-type]
    assert ate.estimate == pytest.approx(0.697, abs=0.002)


def test_arrest_within_52_weeks(rossi):
    # Everyone was followed for 52 weeks, so ``arrest`` is arrest within 52 weeks.
    result = evaluate(
        rossi, EvaluationSpec(treatment="fin", outcome="arrest", covariates=COVARIATES)
    )
    assert result.naive["estimate"] == pytest.approx(48 / 216 - 66 / 216)  # -0.083
    # AIPW ATT: -0.088 (95% CI -0.170 to -0.005); treated 0.222 vs 0.310.
    assert result.estimate == pytest.approx(-0.0877, abs=0.001)
    assert result.estimate == pytest.approx(result.naive["estimate"], abs=0.01)
    assert result.ci_low == pytest.approx(-0.170, abs=0.002)
    assert result.ci_high == pytest.approx(-0.005, abs=0.002)
    assert result.treated_value == pytest.approx(48 / 216)
    assert result.control_value == pytest.approx(0.310, abs=0.001)
    assert all(abs(row.smd_after) < 0.1 for row in result.balance)

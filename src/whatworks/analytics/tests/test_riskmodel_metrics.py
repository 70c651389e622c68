"""Validation metrics for risk instruments, checked against published values, hand
computations and independent computations (issue 9)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.stats import binomtest, rankdata
from sklearn.metrics import roc_auc_score
from statsmodels.stats.proportion import proportion_confint

from whatworks.analytics.riskmodel.metrics import (
    Estimate,
    RiskModelInputError,
    auc_with_ci,
    band_shares,
    brier_score,
    calibration_curve,
    calibration_table,
    expected_calibration_error,
    validation_report,
    wilson_interval,
)

# Hanley and McNeil (1982), Radiology 143:29-36, Table 1: CT ratings (1 = definitely
# normal ... 5 = definitely abnormal) for 58 normal and 51 abnormal patients. The paper
# reports area 0.893 with standard error 0.032 (its exponential approximation).
HM_NORMAL = np.repeat([1, 2, 3, 4, 5], [33, 6, 6, 11, 2])
HM_ABNORMAL = np.repeat([1, 2, 3, 4, 5], [3, 2, 2, 11, 33])


def _hanley_mcneil_se(auc: float, events: int, non_events: int) -> float:
    q1 = auc / (2 - auc)
    q2 = 2 * auc * auc / (1 + auc)
    var = (
        auc * (1 - auc) + (events - 1) * (q1 - auc * auc) + (non_events - 1) * (q2 - auc * auc)
    ) / (events * non_events)
    return math.sqrt(var)


def _delong_by_definition(y: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    """DeLong's AUC and variance straight from the definition, O(m·n), no ranks."""
    pos, neg = score[y == 1], score[y == 0]
    kernel = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = kernel.mean(axis=1), kernel.mean(axis=0)
    var = v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size
    return float(kernel.mean()), float(var)


@pytest.fixture(scope="module")
def sample():
    """600 people with an integer point score, a logistic probability, bands and sex."""
    rng = np.random.default_rng(20261127)
    n = 600
    score = rng.integers(0, 12, n)
    probability = 1 / (1 + np.exp(-(score - 6) / 2))
    y = (rng.random(n) < probability).astype(int)
    band = np.where(score < 4, "low", np.where(score < 8, "moderate", "high"))
    sex = rng.choice(["female", "male"], n, p=[0.12, 0.88])
    return y, score, probability, band, sex


# -- AUC and its DeLong interval ----------------------------------------------------------


def test_auc_reproduces_hanley_mcneil_published_example():
    y = np.r_[np.zeros(HM_NORMAL.size, int), np.ones(HM_ABNORMAL.size, int)]
    score = np.r_[HM_NORMAL, HM_ABNORMAL]
    est = auc_with_ci(y, score)
    assert est.value == pytest.approx(0.893, abs=5e-4)  # published 0.893
    assert est.value == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    # DeLong SE 0.0307 against the published Hanley-McNeil 0.032: the same order, within 10%.
    assert est.se == pytest.approx(0.0307, abs=1e-4)
    assert _hanley_mcneil_se(est.value, 51, 58) == pytest.approx(0.032, abs=5e-4)
    assert est.se == pytest.approx(0.032, rel=0.10)
    z = 1.959963984540054
    assert est.low == pytest.approx(est.value - z * est.se)
    assert est.high == pytest.approx(est.value + z * est.se)
    assert est.method == "DeLong"


def test_auc_matches_sklearn_and_delong_variance_matches_definition(sample):
    y, score, *_ = sample
    est = auc_with_ci(y, score)
    auc, var = _delong_by_definition(y, score.astype(float))
    assert est.value == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert est.value == pytest.approx(auc, abs=1e-12)
    assert est.se**2 == pytest.approx(var, rel=1e-10)


def test_delong_se_agrees_with_bootstrap_and_hanley_mcneil(sample):
    y, score, *_ = sample
    est = auc_with_ci(y, score)
    rng = np.random.default_rng(7)
    boot = []
    for _ in range(1000):
        idx = rng.integers(0, y.size, y.size)
        yb, sb = y[idx], score[idx]
        m = yb.sum()
        # Mann-Whitney from rank sums (the same value as roc_auc_score, faster in a loop).
        boot.append((rankdata(sb)[yb == 1].sum() - m * (m + 1) / 2) / (m * (yb.size - m)))
    boot_se = float(np.std(boot, ddof=1))
    # Figures with these seeds: AUC 0.8711; SE DeLong 0.01452, bootstrap (1000) 0.01448,
    # Hanley-McNeil 0.01455; DeLong 95% (0.8427, 0.8996), bootstrap percentiles (0.8406, 0.8990).
    assert est.se == pytest.approx(boot_se, rel=0.10)
    hm = _hanley_mcneil_se(est.value, int(y.sum()), int(y.size - y.sum()))
    assert 0.5 < est.se / hm < 2
    # The 95% interval covers the bootstrap's central 95% closely.
    lo, hi = np.quantile(boot, [0.025, 0.975])
    assert est.low == pytest.approx(lo, abs=0.01)
    assert est.high == pytest.approx(hi, abs=0.01)


def test_auc_interval_level_and_clipping():
    y = np.array([0, 0, 0, 1, 1, 1])
    perfect = auc_with_ci(y, [1, 2, 3, 4, 5, 6])
    assert (perfect.value, perfect.high) == (1.0, 1.0)
    rng = np.random.default_rng(3)
    yy = rng.integers(0, 2, 200)
    s = yy + rng.normal(0, 1.5, 200)
    wide, narrow = auc_with_ci(yy, s, level=0.99), auc_with_ci(yy, s, level=0.90)
    assert wide.low < narrow.low < narrow.value < narrow.high < wide.high
    assert Estimate(0.7, 0.6, 0.8, "DeLong").as_dict() == {
        "value": 0.7,
        "low": 0.6,
        "high": 0.8,
        "method": "DeLong",
        "level": 0.95,
    }


def test_auc_undefined_when_outcome_has_one_class():
    with pytest.raises(RiskModelInputError, match="AUC is undefined: the outcome has no events"):
        auc_with_ci([0, 0, 0, 0], [1, 2, 3, 4])
    with pytest.raises(RiskModelInputError, match="no non-events"):
        auc_with_ci([1, 1, 1], [1, 2, 3])
    with pytest.raises(RiskModelInputError, match="at least 2 events"):
        auc_with_ci([0, 0, 0, 1], [1, 2, 3, 4])


def test_bad_outcomes_and_scores_are_refused_with_a_message():
    with pytest.raises(RiskModelInputError, match=r"outcome must be 0 or 1; found 2"):
        auc_with_ci([0, 1, 2, 1], [1, 2, 3, 4])
    with pytest.raises(RiskModelInputError, match=r"outcome must be 0 or 1; found None"):
        auc_with_ci([0, 1, None, 1], [1, 2, 3, 4])
    with pytest.raises(RiskModelInputError, match=r"score has 2 missing.*rows 1, 3"):
        auc_with_ci([0, 1, 0, 1], [1.0, math.nan, 3.0, None])
    with pytest.raises(RiskModelInputError, match="score has 3 values but the outcome has 4"):
        auc_with_ci([0, 1, 0, 1], [1, 2, 3])
    with pytest.raises(RiskModelInputError, match="probability must lie between 0 and 1"):
        brier_score([0, 1], [0.2, 1.2])
    # Booleans and floats 0.0/1.0 are fine.
    assert auc_with_ci([False, False, True, True], [1.0, 2.0, 3.0, 4.0]).value == 1.0


# -- Wilson, Brier, ECE, calibration ------------------------------------------------------


def test_wilson_interval_against_hand_computation():
    # z = 1.959964, p = 0.3, n = 10: 1 + z²/n = 1.384146;
    # centre = (0.3 + 0.192073) / 1.384146 = 0.355506;
    # half = 1.416009 * sqrt(0.021 + 0.009604) = 1.416009 * 0.174939 = 0.247716
    # -> (0.10779, 0.60322).
    low, high = wilson_interval(3, 10)
    assert low == pytest.approx(0.10779, abs=1e-5)
    assert high == pytest.approx(0.60322, abs=1e-5)
    # Independent implementations agree to 1e-12 (statsmodels and SciPy).
    for events, n in [(3, 10), (40, 100), (0, 7), (7, 7)]:
        expected = proportion_confint(events, n, method="wilson")
        assert wilson_interval(events, n) == pytest.approx(expected, abs=1e-12)
        ci = binomtest(events, n).proportion_ci(method="wilson")
        assert wilson_interval(events, n) == pytest.approx((ci.low, ci.high), abs=1e-12)
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10)[1] == 1.0


# y and p for the hand-checked calibration table.
Y6 = [0, 0, 1, 1, 1, 0]
P6 = [0.10, 0.15, 0.80, 0.65, 0.30, 0.35]


def test_brier_on_hand_checked_table():
    # (0.01 + 0.0225 + 0.04 + 0.1225 + 0.49 + 0.1225) / 6 = 0.8075 / 6
    assert brier_score(Y6, P6) == pytest.approx(0.8075 / 6)


def test_ece_on_hand_checked_table():
    # Ten bins: [0.1, 0.2) n=2 obs 0 pred 0.125; [0.3, 0.4) n=2 obs 0.5 pred 0.325;
    # [0.6, 0.7) n=1 obs 1 pred 0.65; [0.8, 0.9) n=1 obs 1 pred 0.8:
    # 2/6*0.125 + 2/6*0.175 + 1/6*0.35 + 1/6*0.2 = 0.191667
    assert expected_calibration_error(Y6, P6) == pytest.approx(0.191667, abs=1e-6)
    # Two bins: [0, 0.5) obs 0.25 pred 0.225; [0.5, 1] obs 1 pred 0.725:
    # 4/6*0.025 + 2/6*0.275 = 0.108333
    assert expected_calibration_error(Y6, P6, bins=2) == pytest.approx(0.108333, abs=1e-6)
    # A probability of exactly 1 falls in the last bin.
    assert expected_calibration_error([1, 0], [1.0, 0.0]) == 0.0


def test_calibration_curve_on_hand_checked_table():
    curve = calibration_curve(Y6, P6, bins=2)
    assert [(r["n"], r["observed"]) for r in curve] == [(4, 0.25), (2, 1.0)]
    assert [r["predicted"] for r in curve] == pytest.approx([0.225, 0.725])


def test_calibration_table_by_band_and_by_score():
    band = ["low", "low", "high", "high", "moderate", "moderate"]
    rows = calibration_table(Y6, P6, by=band, order=["low", "moderate", "high"])
    assert [(r["group"], r["n"], r["events"], r["observed"]) for r in rows] == [
        ("low", 2, 0, 0.0),
        ("moderate", 2, 1, 0.5),
        ("high", 2, 2, 1.0),
    ]
    assert [r["predicted"] for r in rows] == pytest.approx([0.125, 0.325, 0.725])
    assert (rows[1]["observed_low"], rows[1]["observed_high"]) == pytest.approx(
        wilson_interval(1, 2)
    )
    # Scores sort numerically (10 after 9), and probabilities are optional.
    by_score = calibration_table(Y6, None, by=[9, 9, 10, 10, 2, 2])
    assert [r["group"] for r in by_score] == ["2", "9", "10"]
    assert by_score[0]["predicted"] is None
    with pytest.raises(RiskModelInputError, match="not in the given order"):
        calibration_table(Y6, P6, by=band, order=["low", "high"])


def test_band_shares_follow_order_or_first_seen():
    shares = band_shares(["b", "a", "b", "c"])
    assert [(r["band"], r["n"], r["share"]) for r in shares] == [
        ("b", 2, 0.5),
        ("a", 1, 0.25),
        ("c", 1, 0.25),
    ]
    assert [r["band"] for r in band_shares(["b", "a"], order=["a", "b", "z"])] == ["a", "b"]


# -- the report ---------------------------------------------------------------------------


def test_validation_report_overall_and_by_group(sample):
    y, score, probability, band, sex = sample
    ethnicity = np.array(["x"] * 580 + [None] * 20, dtype=object)
    report = validation_report(
        y,
        score=score,
        probability=probability,
        band=band,
        band_order=["low", "moderate", "high"],
        groups={"sex": sex, "ethnicity": ethnicity},
        min_group_size=30,
    )
    json.dumps(report, allow_nan=False)  # storable by the Django app
    assert report["n"] == 600 and report["events"] == int(y.sum())
    assert report["auc"]["value"] == pytest.approx(roc_auc_score(y, score))
    assert report["brier"] == pytest.approx(brier_score(y, probability))
    assert [r["group"] for r in report["calibration_by_band"]] == ["low", "moderate", "high"]
    assert sum(r["n"] for r in report["band_shares"]) == 600
    assert [r["group"] for r in report["calibration_by_score"]] == [str(i) for i in range(12)]

    women = sex == "female"
    female = report["by_group"]["sex"]["female"]
    assert female["n"] == int(women.sum()) and not female["suppressed"]
    assert female["auc"]["value"] == pytest.approx(roc_auc_score(y[women], score[women]))
    assert female["ece"] == pytest.approx(expected_calibration_error(y[women], probability[women]))
    # 20 people without a recorded ethnicity: below 30, so only their number is shown.
    missing = report["by_group"]["ethnicity"]["not recorded"]
    assert missing == {
        "n": 20,
        "suppressed": True,
        "events": None,
        "auc": None,
        "brier": None,
        "ece": None,
        "note": "fewer than 30 rows; metrics suppressed",
    }


def test_validation_report_group_with_one_outcome_class_has_no_auc():
    y = [0] * 40 + [0, 1] * 20
    score = list(range(80))
    group = ["a"] * 40 + ["b"] * 40
    report = validation_report(y, score=score, groups={"g": group})
    assert report["by_group"]["g"]["a"]["auc"] is None
    assert "no events" in report["by_group"]["g"]["a"]["auc_note"]
    assert report["by_group"]["g"]["b"]["auc"] is not None
    with pytest.raises(RiskModelInputError, match="only one value"):
        validation_report(y, score=score, groups={"g": ["a"] * 80})
    with pytest.raises(RiskModelInputError, match="no events"):
        validation_report([0] * 80, score=score)


def test_continuous_scores_are_calibrated_by_deciles(sample):
    y, _, probability, *_ = sample
    rng = np.random.default_rng(5)
    noisy = probability + rng.normal(0, 0.01, probability.size)
    rows = validation_report(y, score=noisy)["calibration_by_score"]
    assert len(rows) == 10
    assert sum(r["n"] for r in rows) == 600

"""Fairness audit of risk instruments: group metrics on a small hand-checked table, proxy
features, gaps and the trade-off notes; the model card page (issue 9)."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from fairlearn.metrics import false_negative_rate, false_positive_rate
from sklearn.metrics import roc_auc_score

from whatworks.analytics.riskmodel.card import model_card_html
from whatworks.analytics.riskmodel.fairness import (
    fairness_report,
    proxy_features,
    threshold_metrics,
)
from whatworks.analytics.riskmodel.metrics import RiskModelInputError, validation_report

# Hand-checked table: two groups, flag when score >= threshold.
#   group A: y 1 1 0 0 0     score 3 1 2 0 1
#   group B: y 1 0 1 0 1 0   score 2 2 0 3 3 1
Y = [1, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0]
SCORE = [3, 1, 2, 0, 1, 2, 2, 0, 3, 3, 1]
GROUP = ["A"] * 5 + ["B"] * 6


def _row(rows, threshold, group):
    (row,) = [r for r in rows if r["threshold"] == threshold and r["group"] == group]
    return row


def test_group_metrics_on_a_small_hand_checked_table():
    rows = threshold_metrics(Y, SCORE, thresholds=[2, 3, 4], groups=GROUP, min_group_size=1)
    got = {
        (r["threshold"], r["group"]): (r["fpr"], r["fnr"], r["ppv"], r["selection_rate"])
        for r in rows
    }
    expected = {
        # t = 2. A flags 1 0 1 0 0: TP 1, FN 1, FP 1, TN 2.
        (2.0, "A"): (1 / 3, 1 / 2, 1 / 2, 2 / 5),
        # B flags 1 1 0 1 1 0: TP 2, FN 1, FP 2, TN 1.
        (2.0, "B"): (2 / 3, 1 / 3, 2 / 4, 4 / 6),
        # Together: TP 3, FN 2, FP 3, TN 3.
        (2.0, "overall"): (3 / 6, 2 / 5, 3 / 6, 6 / 11),
        # t = 3. A flags 1 0 0 0 0: TP 1, FN 1, FP 0, TN 3.
        (3.0, "A"): (0.0, 1 / 2, 1.0, 1 / 5),
        # B flags 0 0 0 1 1 0: TP 1, FN 2, FP 1, TN 2.
        (3.0, "B"): (1 / 3, 2 / 3, 1 / 2, 2 / 6),
        (3.0, "overall"): (1 / 6, 3 / 5, 2 / 3, 3 / 11),
        # t = 4: nobody flagged; PPV has no denominator.
        (4.0, "A"): (0.0, 1.0, None, 0.0),
        (4.0, "B"): (0.0, 1.0, None, 0.0),
        (4.0, "overall"): (0.0, 1.0, None, 0.0),
    }
    assert got.keys() == expected.keys()
    for key, values in expected.items():
        assert got[key] == pytest.approx(values), key
    assert _row(rows, 2.0, "B")["n"] == 6 and _row(rows, 2.0, "B")["events"] == 3
    # Rows follow the thresholds, then the groups, then "overall".
    assert [r["group"] for r in rows[:3]] == ["A", "B", "overall"]


def test_rates_agree_with_fairlearns_own_functions_where_defined():
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, 400)
    score = rng.integers(0, 10, 400)
    group = rng.choice(["x", "y", "z"], 400)
    rows = threshold_metrics(y, score, thresholds=[3, 6], groups=group)
    for r in rows:
        mask = np.ones(400, bool) if r["group"] == "overall" else group == r["group"]
        flagged = (score[mask] >= r["threshold"]).astype(int)
        assert r["fpr"] == pytest.approx(false_positive_rate(y[mask], flagged))
        assert r["fnr"] == pytest.approx(false_negative_rate(y[mask], flagged))


def test_small_groups_are_suppressed_and_undefined_rates_are_none():
    y = [0, 0, 1, 0] * 10 + [0, 0]
    score = list(range(42))
    group = ["big"] * 40 + ["small"] * 2
    rows = threshold_metrics(y, score, thresholds=[10], groups=group, min_group_size=30)
    small = _row(rows, 10.0, "small")
    assert small == {
        "threshold": 10.0,
        "group": "small",
        "n": 2,
        "events": None,
        "fpr": None,
        "fnr": None,
        "ppv": None,
        "selection_rate": None,
        "suppressed": True,
    }
    # "small" has no events: had it been reported, its FNR would be None, not 0.
    unsuppressed = _row(
        threshold_metrics(y, score, thresholds=[10], groups=group, min_group_size=1),
        10.0,
        "small",
    )
    assert unsuppressed["fnr"] is None and unsuppressed["fpr"] == 1.0


def test_bad_input_is_refused():
    with pytest.raises(RiskModelInputError, match="only one value"):
        threshold_metrics(Y, SCORE, thresholds=[2], groups=["A"] * 11)
    with pytest.raises(RiskModelInputError, match="score has 1 missing"):
        threshold_metrics(Y, [*SCORE[:-1], None], thresholds=[2], groups=GROUP)
    with pytest.raises(RiskModelInputError, match="at least one band threshold"):
        threshold_metrics(Y, SCORE, thresholds=[], groups=GROUP)
    with pytest.raises(RiskModelInputError, match="only one value"):
        fairness_report(Y, SCORE, probability=None, thresholds=[2], groups={"sex": ["m"] * 11})


@pytest.fixture(scope="module")
def cohort():
    """1,500 people: height predicts sex (a proxy), prior convictions differ by sex,
    age band is determined by age; the score uses prior convictions and age."""
    rng = np.random.default_rng(20261127)
    n = 1500
    sex = rng.choice(["female", "male"], n, p=[0.25, 0.75])
    age = rng.integers(18, 70, n)
    height = np.where(sex == "male", 176.0, 163.0) + rng.normal(0, 7, n)
    prior = rng.poisson(np.where(sex == "male", 3.0, 1.5))
    employed = rng.choice(["yes", "no"], n)
    score = 3 * (prior > 2) + 2 * (age < 30) + (employed == "no")
    probability = 1 / (1 + np.exp(-(score - 3) / 1.5))
    y = (rng.random(n) < probability).astype(int)
    frame = pl.DataFrame({"age": age, "height": height, "prior": prior, "employed": employed})
    ethnicity = np.where(rng.random(n) < 0.02, None, rng.choice(["p", "q"], n)).astype(object)
    return y, score, probability, sex, age, ethnicity, frame


def test_proxy_features_flag_the_feature_that_stands_in_for_the_group(cohort):
    _, _, _, sex, _, _, frame = cohort
    data = frame.with_columns(pl.Series("sex", sex))
    proxies = proxy_features(data, features=["height", "employed", "age"], group="sex")
    by_name = {p["feature"]: p for p in proxies}
    assert proxies[0]["feature"] == "height"
    # Two normals 13 cm apart with SD 7: AUC = Phi(13 / (7 * sqrt 2)) = 0.905.
    assert by_name["height"]["strength"] == pytest.approx(0.905, abs=0.03)
    assert by_name["height"]["flagged"]
    assert abs(by_name["employed"]["strength"] - 0.5) < 0.06
    assert not by_name["employed"]["flagged"] and not by_name["age"]["flagged"]
    with pytest.raises(RiskModelInputError, match="columns not in the data: weight"):
        proxy_features(data, features=["weight"], group="sex")


def test_fairness_report_by_group_gaps_and_notes(cohort):
    y, score, probability, sex, age, ethnicity, frame = cohort
    age_band = np.where(age < 30, "18-29", "30+")
    report = fairness_report(
        y,
        score,
        probability=probability,
        thresholds=[2, 4],
        groups={"sex": sex, "age_band": age_band, "ethnicity": ethnicity},
        frame=frame,
        features=["height", "employed"],
    )
    json.dumps(report, allow_nan=False)
    assert set(report) == {"sex", "age_band", "ethnicity"}
    sex_report = report["sex"]
    women = sex == "female"
    assert sex_report["by_group"]["female"]["auc"]["value"] == pytest.approx(
        roc_auc_score(y[women], score[women])
    )
    assert "ece" in sex_report["by_group"]["male"]
    # Gaps are the largest between-group differences over the thresholds.
    rows = sex_report["thresholds"]
    fpr_gaps = [
        abs(_row(rows, t, "female")["fpr"] - _row(rows, t, "male")["fpr"]) for t in (2.0, 4.0)
    ]
    assert sex_report["gaps"]["fpr_max_gap"] == pytest.approx(max(fpr_gaps))
    aucs = [sex_report["by_group"][g]["auc"]["value"] for g in ("female", "male")]
    assert sex_report["gaps"]["auc_max_gap"] == pytest.approx(abs(aucs[0] - aucs[1]))
    assert next(p["feature"] for p in sex_report["proxies"] if p["flagged"]) == "height"
    assert any("cannot also give every group the same" in n for n in sex_report["notes"])
    assert any(n.startswith("height") and "predict" in n for n in sex_report["notes"])
    # Ethnicity is missing for about 2%: a suppressed "not recorded" group, not in the gaps.
    eth = report["ethnicity"]
    assert eth["by_group"]["not recorded"]["suppressed"] is True
    assert not any(r["group"] == "not recorded" and r["fpr"] is not None for r in eth["thresholds"])


# -- model card -----------------------------------------------------------------------------


def test_model_card_is_a_self_contained_page_with_every_section(cohort):
    y, score, probability, sex, _, _, frame = cohort
    band = np.where(score < 2, "low", np.where(score < 4, "moderate", "high"))
    order = ["low", "moderate", "high"]
    metrics = validation_report(
        y, score=score, probability=probability, band=band, band_order=order, groups={"sex": sex}
    )
    fairness = fairness_report(
        y,
        score,
        probability=probability,
        thresholds=[2, 4],
        groups={"sex": sex},
        frame=frame,
        features=["height"],
    )
    card = {
        "title": "Rearrest <2 years> & more",
        "data": {"description": "Releases", "period": "2019-2023", "n": 1500, "events": 700},
        "outcome_definition": "Rearrest within two years of release",
        "intended_use": "Allocate supervision intensity; never sentencing.",
        "limits": ["Fitted on one jurisdiction"],
        "items": [
            {
                "label": "Prior convictions",
                "points": [{"condition": "3 or more", "points": 3}],
            }
        ],
        "bands": [{"code": "low", "label": "Low", "min": 0, "max": 1, "observed_rate": 0.2}],
        "metrics": metrics,
        "benchmarks": {
            "point_score_auc": metrics["auc"],
            "logistic_auc": 0.751,
            "gradient_boosting_auc": None,
        },
        "fairness": fairness,
        "generated_by": "whatworks riskmodel fit",
        "seed": 0,
    }
    page = model_card_html(card)
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<style>") == 1
    for forbidden in ("<script", "src=", "href=", "style=", "@import", "url("):
        assert forbidden not in page
    assert "Rearrest &lt;2 years&gt; &amp; more" in page and "<2 years>" not in page
    for heading in (
        "Data and period",
        "Outcome",
        "Intended use",
        "Limits",
        "Items and points",
        "Validation metrics",
        "Calibration by band",
        "Calibration by score",
        "Calibration curve",
        "Band shares",
        "Benchmarks",
        "Metrics by group",
        "Fairness",
    ):
        assert f">{heading}</h" in page, heading
    auc = metrics["auc"]
    assert f"{auc['value']:.3f} (95% {auc['low']:.3f} to {auc['high']:.3f}, DeLong)" in page
    assert "0.751" in page and "<svg" in page
    assert "height" in page and '<span class="flag">yes</span>' in page
    assert "cannot also give every group the same" in page


def test_model_card_reads_the_fits_calibration_by_total():
    metrics = {
        "n": 20,
        "events": 8,
        "auc": {"value": 0.7, "low": 0.5, "high": 0.9, "method": "DeLong"},
        "calibration_by_total": [
            {"total": 3, "n": 10, "events": 3, "observed": 0.3, "predicted": 0.28}
        ],
    }
    page = model_card_html({"title": "t", "metrics": metrics})
    # Wilson 3/10: 10.8% to 60.3%.
    assert "<td>3</td>" in page and "10.8% to 60.3%" in page
    assert "0.700 (95% 0.500 to 0.900, DeLong)" in page


def test_model_card_with_little_information_says_so():
    page = model_card_html({"title": "Draft"})
    assert "No validation metrics given." in page
    assert "No fairness audit was run" in page
    assert "not given" in page

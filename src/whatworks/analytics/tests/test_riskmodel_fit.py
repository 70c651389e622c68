"""Fitting a point score and exporting it as an instrument (issue 9, docs/riskmodel.md)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import yaml

from whatworks.analytics.instruments import load_instrument, score
from whatworks.analytics.riskmodel import (
    RiskModelInputError,
    answers_for_row,
    fit_point_score,
    to_instrument,
)
from whatworks.analytics.riskmodel.features import OTHER, encode_feature

FEATURES = ["age", "priors", "sex", "charge_degree", "employed", "region"]


def synthetic(n: int = 1200, seed: int = 3) -> pl.DataFrame:
    """Numeric, 0/1 and text features with a known logistic outcome; two rare regions."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 70, n)
    priors = rng.poisson(2, n)
    sex = rng.choice(["Male", "Female"], n, p=[0.8, 0.2])
    degree = rng.choice(["F", "M"], n)
    employed = rng.integers(0, 2, n)
    region = rng.choice(
        ["North", "South", "East", "West", "Isla", "Cerro"],
        n,
        p=[0.35, 0.3, 0.2, 0.13, 0.01, 0.01],
    )
    lp = (
        -1.0
        - 0.04 * (age - 35)
        + 0.3 * priors
        + 0.4 * (sex == "Male")
        + 0.6 * (degree == "F")
        - 0.6 * employed
        + 0.7 * (region == "North")
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    return pl.DataFrame(
        {
            "age": age,
            "priors": priors,
            "sex": sex,
            "charge_degree": degree,
            "employed": employed,
            "region": region,
            "reoffended": y,
        }
    )


@pytest.fixture(scope="module")
def data() -> pl.DataFrame:
    return synthetic()


@pytest.fixture(scope="module")
def fitted(data):
    return fit_point_score(
        data, outcome="reoffended", features=FEATURES, seed=0, max_items=5, benchmarks=False
    )


def test_round_trip_instrument_scores_every_row_like_the_fit(data, fitted, tmp_path):
    mapping = to_instrument(
        fitted,
        slug="local-test",
        version="1.0",
        name="Local test score",
        data_description="synthetic releases 2020-2023",
        outcome_definition="reoffended within 2 years",
    )
    path = tmp_path / "local-test.yaml"
    path.write_text(yaml.safe_dump(mapping, allow_unicode=True), "utf-8")
    instrument = load_instrument(path)
    assert instrument.validated is True
    assert instrument.validation["n"] == data.height
    assert instrument.validation["auc"] == pytest.approx(fitted.metrics["auc"]["value"])
    # Rows as fitted, plus values the fit never saw: an unseen region, an age above every
    # band, and a fractional number of priors between two bands.
    extra = pl.DataFrame(
        {
            "age": [99, 18],
            "priors": [1.5, 0],
            "sex": ["Female", "Male"],
            "charge_degree": ["M", "F"],
            "employed": [0, 1],
            "region": ["Atlantis", "Isla"],
            "reoffended": [0, 1],
        }
    ).with_columns(pl.col("age").cast(pl.Int64))
    rows = pl.concat([data.with_columns(pl.col("priors").cast(pl.Float64)), extra])
    assert {item["kind"] for item in fitted.items} == {"numeric", "binary", "categorical"}
    totals = fitted.total(rows)
    bands = fitted.band(rows)
    for index, row in enumerate(rows.iter_rows(named=True)):
        result = score(instrument, answers_for_row(instrument, row))
        assert (result.total, result.band) == (totals[index], bands[index]), row


def test_items_carry_the_instrument_item_types(fitted, data):
    mapping = to_instrument(
        fitted,
        slug="t",
        version="1",
        name="T",
        data_description="d",
        outcome_definition="o",
    )
    types = {item["id"]: item["type"] for item in mapping["items"]}
    kinds = {item["id"]: item["kind"] for item in fitted.items}
    expected = {"numeric": "number", "binary": "yes_no", "categorical": "single_choice"}
    assert types == {key: expected[kind] for key, kind in kinds.items()}
    sex = next((i for i in mapping["items"] if i["id"] == "sex"), None)
    if sex is not None:
        assert {o["code"] for o in sex["options"]} == {"male", "female"}
    for band in mapping["bands"]:
        assert set(band["label"]) == {"en", "es", "pt-br"}


def test_numeric_bands_cut_at_observed_quantiles_and_hold_enough_rows(data):
    y = data["reoffended"].to_numpy()
    encoding = encode_feature(data["age"], y)
    starts = [level["min"] for level in encoding.levels]
    assert starts[0] == 0  # age is never negative: the first band starts at 0
    assert starts == sorted(starts)
    assert set(starts[1:]) <= set(data["age"].to_list())  # cut points are observed values
    codes = encoding.codes(data["age"])
    sizes = np.bincount(codes)
    assert len(sizes) == len(encoding.levels) >= 3
    assert sizes.min() >= 0.05 * data.height
    # Same data, same cut points.
    assert encode_feature(data["age"], y) == encoding


def test_rare_categories_are_merged_and_take_unseen_values(data):
    y = data["reoffended"].to_numpy()
    encoding = encode_feature(data["region"], y)
    values = [level.get("value") for level in encoding.levels]
    assert values[:-1] == ["East", "North", "South", "West"]
    assert encoding.levels[-1]["code"] == OTHER
    assert encoding.levels[-1]["values"] == ["Cerro", "Isla"]
    codes = encoding.codes(pl.Series("region", ["Isla", "Atlantis", "North"]))
    assert codes.tolist() == [4, 4, 1]
    degree = encode_feature(data["charge_degree"], y)
    with pytest.raises(
        RiskModelInputError, match=r"'charge_degree': value 'X'.*known values: F, M"
    ):
        degree.codes(pl.Series("charge_degree", ["F", "X"]))


def test_points_and_items_stay_within_the_analysts_limits(data):
    fit = fit_point_score(
        data,
        outcome="reoffended",
        features=FEATURES,
        max_items=2,
        max_points=3,
        seed=1,
        benchmarks=False,
    )
    assert 1 <= len(fit.items) <= 2
    for item in fit.items:
        points = [level["points"] for level in item["levels"]]
        assert min(points) == 0
        assert all(0 <= p <= 3 for p in points)
    assert fit.max_total <= 6
    assert fit.bands[0]["min"] == 0 and fit.bands[-1]["max"] == fit.max_total


def test_numeric_points_rise_or_fall_steadily(fitted):
    numeric = [item for item in fitted.items if item["kind"] == "numeric"]
    assert numeric
    for item in numeric:
        steps = np.diff([level["points"] for level in item["levels"]])
        assert (steps > 0).all() or (steps < 0).all(), item  # equal neighbours are merged


def test_same_seed_same_score(data, fitted):
    again = fit_point_score(
        data, outcome="reoffended", features=FEATURES, seed=0, max_items=5, benchmarks=False
    )
    assert again.as_dict() == fitted.as_dict()


def test_metrics_are_out_of_fold_and_bands_follow_observed_rates(fitted):
    metrics = fitted.metrics
    assert metrics["out_of_fold"] is True and metrics["folds"] == 5
    assert 0.6 < metrics["auc"]["value"] < 0.9
    assert metrics["ece"] < 0.05
    codes = [band["code"] for band in fitted.bands]
    assert codes == [c for c in ("low", "moderate", "high", "very_high") if c in codes]
    observed = [row["observed"] for row in metrics["calibration_by_band"]]
    assert observed == sorted(observed)


def test_band_cuts_set_by_the_analyst(data):
    fit = fit_point_score(
        data,
        outcome="reoffended",
        features=["age", "priors", "employed"],
        band_cuts=[3, 6],
        benchmarks=False,
    )
    assert [(b["code"], b["min"]) for b in fit.bands] == [("low", 0), ("moderate", 3), ("high", 6)]
    assert fit.band(data[:5]) == [
        "low" if t < 3 else "moderate" if t < 6 else "high" for t in fit.total(data[:5])
    ]


def test_benchmarks_use_the_same_folds(data):
    fit = fit_point_score(
        data[:600], outcome="reoffended", features=["age", "priors", "sex"], folds=3
    )
    for key in ("point_score_auc", "logistic_auc", "logistic_linear_auc", "gradient_boosting_auc"):
        assert fit.benchmarks[key]["method"] == "DeLong"
    assert fit.benchmarks["folds"] == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d.with_columns(reoffended=pl.col("reoffended") * 2),
            r"outcome 'reoffended' must be 0 or 1; found 2",
        ),
        (
            lambda d: d.drop("age"),
            r"feature column 'age' is not in the data; columns: priors, sex, charge_degree",
        ),
        (
            lambda d: d.with_columns(
                age=pl.when(pl.int_range(pl.len()) == 4).then(None).otherwise(pl.col("age"))
            ),
            r"feature 'age' has 1 missing value\(s\) \(first at data row 5\)",
        ),
        (
            lambda d: d.with_columns(
                priors=pl.when(pl.int_range(pl.len()) == 2)
                .then(float("inf"))
                .otherwise(pl.col("priors").cast(pl.Float64))
            ),
            r"feature 'priors' has 1 missing or infinite value\(s\) \(first at data row 3\)",
        ),
        (
            lambda d: d.head(100),
            r"too few events for 6 candidate item\(s\): \d+ events in 100 rows, at least 10 "
            r"per candidate item \(60\)",
        ),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(data, change, message):
    with pytest.raises(RiskModelInputError, match=message):
        fit_point_score(change(data), outcome="reoffended", features=FEATURES, benchmarks=False)


def test_a_group_with_one_value_is_refused(data):
    with pytest.raises(RiskModelInputError, match="group column 'site' has only one value"):
        fit_point_score(
            data.with_columns(site=pl.lit("A")),
            outcome="reoffended",
            features=FEATURES,
            group="site",
            benchmarks=False,
        )


def test_bad_settings_are_refused(data):
    with pytest.raises(RiskModelInputError, match="band_rates must be"):
        fit_point_score(data, outcome="reoffended", features=FEATURES, band_rates=[0.5, 0.2])
    with pytest.raises(RiskModelInputError, match="max_points must be"):
        fit_point_score(data, outcome="reoffended", features=FEATURES, max_points=0)

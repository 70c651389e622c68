"""Bad or awkward inputs give a named error, or a warning with the counts, never a silent
wrong number."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from scipy.special import expit

from whatworks.analytics.evaluation import EvaluationInputError, EvaluationSpec, evaluate


def frame(n: int = 400, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    t = rng.binomial(1, expit(0.5 * x1))
    y = rng.binomial(1, expit(-1 + x1 - 0.5 * t))
    return pd.DataFrame({"x1": x1, "x2": x2, "t": t, "y": y})


def spec(**kwargs: object) -> EvaluationSpec:
    base: dict[str, object] = {"treatment": "t", "outcome": "y", "covariates": ("x1", "x2")}
    base.update(kwargs)
    return EvaluationSpec(**base)  # type: ignore[arg-type]


def codes(result) -> list[str]:
    return [w.code for w in result.warnings]


def test_it_rejects_a_treatment_that_is_not_0_1():
    df = frame()
    df.loc[[3, 5], "t"] = 2
    with pytest.raises(EvaluationInputError, match=r"'t'.*0/1.*2"):
        evaluate(df, spec())


def test_it_accepts_a_boolean_treatment_and_polars():
    df = frame()
    expected = evaluate(df, spec())
    as_bool = pl.from_dict({c: df[c].to_numpy() for c in df.columns}).with_columns(
        pl.col("t").cast(pl.Boolean)
    )
    assert evaluate(as_bool, spec()).estimate == pytest.approx(expected.estimate)


@pytest.mark.parametrize("value", [0, 1])
def test_it_needs_both_groups(value):
    df = frame().assign(t=value)
    with pytest.raises(EvaluationInputError, match="'t' has no"):
        evaluate(df, spec())


def test_it_drops_incomplete_rows_and_says_how_many():
    df = frame()
    df.loc[[1, 2, 3], "x1"] = np.nan
    df.loc[[3, 4], "y"] = np.nan
    result = evaluate(df, spec())
    assert result.n_dropped_missing == 4
    assert result.n_treated + result.n_control == len(df) - 4
    (warning,) = [w for w in result.warnings if w.code == "missing_values_dropped"]
    assert warning.params == {"rows": 4, "columns": {"x1": 3, "y": 2}}


def test_it_expands_a_categorical_covariate():
    df = frame().assign(
        region=lambda d: np.where(d.x2 > 0.5, "north", np.where(d.x2 < -0.5, "south", "east"))
    )
    result = evaluate(df, spec(covariates=("x1", "region")))
    assert [row.covariate for row in result.balance] == ["x1", "region=north", "region=south"]
    assert any("'region' is categorical" in note for note in result.notes)


def test_it_drops_a_constant_covariate():
    result = evaluate(frame().assign(c=1.0), spec(covariates=("x1", "c", "x2")))
    assert "constant_covariate" in codes(result)
    assert [row.covariate for row in result.balance] == ["x1", "x2"]


def test_it_drops_a_collinear_covariate():
    df = frame().assign(x3=lambda d: 2 * d.x1 - d.x2)
    result = evaluate(df, spec(covariates=("x1", "x2", "x3")))
    (warning,) = [w for w in result.warnings if w.code == "collinear_covariate"]
    assert warning.params["covariates"] == ["x3"]
    assert len(result.balance) == 2


def test_the_outcome_type_follows_the_values():
    df = frame()
    assert evaluate(df, spec()).effect_measure == "risk_difference"
    continuous = evaluate(df.assign(y=df.y * 3.5 + df.x2), spec())
    assert continuous.effect_measure == "mean_difference"


def test_time_to_event_columns_are_checked():
    df = frame().assign(days=lambda d: 100.0 + d.index, event=lambda d: d.y)
    survival = {"outcome": None, "duration": "days", "event": "event"}
    bad_event = df.assign(event=df.event * 2)
    with pytest.raises(EvaluationInputError, match="'event' must be 0/1"):
        evaluate(bad_event, spec(**survival))
    bad_duration = df.assign(days=df.days.where(df.index > 2, 0.0))
    with pytest.raises(EvaluationInputError, match=r"'days' must be > 0; 3 rows"):
        evaluate(bad_duration, spec(**survival))
    assert evaluate(df, spec(**survival)).effect_measure == "hazard_ratio"


def test_it_names_missing_columns_and_conflicting_outcomes():
    with pytest.raises(EvaluationInputError, match="not found in the data: nope"):
        evaluate(frame(), spec(covariates=("x1", "nope")))
    with pytest.raises(EvaluationInputError, match="exactly one outcome"):
        evaluate(frame(), spec(duration="x2", event="y"))
    with pytest.raises(EvaluationInputError, match="'y' must be numeric"):
        evaluate(frame().assign(y="yes"), spec())


def test_too_few_treated_still_estimates_with_a_warning():
    df = frame()
    treated = df.index[df.t == 1]
    df = df.drop(treated[40:])
    result = evaluate(df, spec())
    (warning,) = [w for w in result.warnings if w.code == "too_few_treated"]
    assert warning.params == {"n_treated": 40, "min_treated": 60}
    assert result.n_treated == 40
    assert np.isfinite(result.estimate)


def test_poor_overlap_and_failed_balance_are_reported():
    rng = np.random.default_rng(2)
    n = 600
    x = rng.normal(size=n)
    t = rng.binomial(1, expit(4 * x))
    df = pd.DataFrame({"x": x, "t": t, "y": rng.binomial(1, expit(x))})
    result = evaluate(
        df,
        EvaluationSpec(
            treatment="t",
            outcome="y",
            covariates=("x",),
            method="psm",
            caliper=None,
            bootstrap_reps=10,
        ),
    )
    assert "poor_overlap" in codes(result)
    assert "balance_failed" in codes(result)


def test_a_placebo_outcome_reveals_hidden_confounding():
    rng = np.random.default_rng(4)
    n = 1500
    x, hidden = rng.normal(size=n), rng.normal(size=n)
    t = rng.binomial(1, expit(0.5 * x + 1.0 * hidden))
    df = pd.DataFrame(
        {
            "x": x,
            "t": t,
            "y": rng.binomial(1, expit(x + hidden)),
            "before": rng.binomial(1, expit(x + hidden)),  # cannot depend on t
            "clean": rng.binomial(1, expit(x)),
        }
    )
    confounded = evaluate(df, EvaluationSpec("t", ("x",), outcome="y", placebo_outcome="before"))
    assert confounded.placebo is not None and confounded.placebo["outcome"] == "before"
    assert confounded.placebo["ci_low"] > 0
    assert "placebo_effect" in codes(confounded)
    clean = evaluate(df, EvaluationSpec("t", ("x",), outcome="y", placebo_outcome="clean"))
    assert "placebo_effect" not in codes(clean)

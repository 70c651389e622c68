"""Drug tests in custody: codes, dates, the latent-use gradient and the planted effect."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from whatworks.analytics.simulation import SimulationConfig, simulate
from whatworks.analytics.simulation.drugtests import (
    PANELS,
    REASONS,
    RESULTS,
    SAMPLES,
    SUBSTANCES,
    probit,
    programme_windows,
)


@pytest.fixture(scope="module")
def service():
    return simulate(SimulationConfig(persons=3000, seed=11))


def test_the_table_holds_only_agreed_codes(service):
    tests = service.drug_tests
    assert tests.height > 5000
    assert tests["test_key"].is_unique().all()
    assert set(tests["reason"]) == set(REASONS)
    assert set(tests["sample"]) == set(SAMPLES)
    for substance in SUBSTANCES:
        assert set(tests[substance].drop_nulls()) <= set(RESULTS)
    for sample, panel in PANELS.items():
        mine = tests.filter(pl.col("sample") == sample)
        for substance in SUBSTANCES:
            assert mine[substance].null_count() == (0 if substance in panel else mine.height)
    assert set(tests["facility"]) <= set(service.facilities["code"])
    assert tests["facility"].null_count() == 0
    keys = service.custody_episodes.select("episode_key", "prison_number")
    assert tests.join(keys, on=["episode_key", "prison_number"]).height == tests.height


def test_tests_fall_inside_custody_and_before_the_extract(service):
    config = service.config
    joined = service.drug_tests.join(
        service.custody_episodes.select("episode_key", "admission_date", "release_date"),
        on="episode_key",
    )
    assert (joined["test_date"] >= joined["admission_date"]).all()
    released = joined.filter(pl.col("release_date").is_not_null())
    assert (released["test_date"] <= released["release_date"]).all()
    assert joined["test_date"].max() <= config.extract_date
    start = config.extract_date.replace(year=config.extract_date.year - config.history_years)
    assert joined["test_date"].min() >= start


def _panel(service) -> pl.DataFrame:
    """One row per test and substance with a negative/positive result, with the truth."""
    tests = service.drug_tests.unpivot(
        index=["test_key", "prison_number", "episode_key", "test_date", "reason"],
        on=list(SUBSTANCES),
        variable_name="substance",
        value_name="result",
    ).filter(pl.col("result").is_in(["negative", "positive"]))
    truth = service.person_truth.select("prison_number", "substance_abuse")
    return tests.join(truth, on="prison_number").with_columns(
        positive=(pl.col("result") == "positive").cast(pl.Float64)
    )


def test_positivity_rises_with_the_latent_substance_level(service):
    panel = _panel(service).filter(pl.col("substance") == "cannabis")
    low = panel.filter(pl.col("substance_abuse") < 0.3)["positive"].mean()
    high = panel.filter(pl.col("substance_abuse") > 0.7)["positive"].mean()
    assert high > 2 * low
    shares = service.ground_truth["drug_tests"]["realised_positivity"]["by_substance"]
    assert shares["cannabis"] > shares["cocaine"] > shares["opiates"]
    assert shares["alcohol"] < shares["cannabis"]


def _logistic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    beta = np.zeros(x.shape[1])
    for _ in range(25):
        p = 1 / (1 + np.exp(-x @ beta))
        gradient = x.T @ (y - p)
        hessian = (x * (p * (1 - p))[:, None]).T @ x
        beta += np.linalg.solve(hessian, gradient)
    return beta


def test_the_planted_programme_effect_is_visible(service):
    truth = service.ground_truth["drug_tests"]
    assert truth["programme_log_odds_ratio"] == -0.7
    windows = programme_windows(service.programme_referrals, service.programmes)
    assert windows.height > 20
    panel = _panel(service).filter(pl.col("substance").is_in(["cannabis", "cocaine"]))
    flagged = (
        panel.select("test_key", "episode_key", day=pl.col("test_date").cast(pl.Int64))
        .unique()
        .join(windows, on="episode_key")
        .filter((pl.col("day") >= pl.col("from_day")) & (pl.col("day") <= pl.col("to_day")))
        .select("test_key")
        .unique()
    )
    panel = panel.with_columns(
        treated=pl.col("test_key").is_in(flagged["test_key"].implode()).cast(pl.Float64)
    ).join(service.custody_episodes.select("episode_key", "admission_date"), on="episode_key")
    assert panel["treated"].sum() > 200
    months = (panel["test_date"] - panel["admission_date"]).dt.total_days().to_numpy() / 30.44
    reason = panel["reason"].to_numpy()
    x = np.column_stack(
        [
            np.ones(panel.height),
            probit(panel["substance_abuse"].to_numpy()),
            np.log1p(np.maximum(months, 0)),
            panel["treated"].to_numpy(),
            (panel["substance"] == "cocaine").to_numpy(),
            *[(reason == name) for name in REASONS[:-1] if name != "random"],
        ]
    ).astype(float)
    beta = _logistic(x, panel["positive"].to_numpy())
    # The person random effect attenuates the marginal estimate; a loose check.
    assert -1.2 < beta[3] < -0.35
    assert beta[1] > 0.5 and beta[2] < 0


def test_co_occurrence_is_reported_and_plausible(service):
    shares = service.ground_truth["drug_tests"]["co_occurrence"]
    assert 0.3 < shares["substance_need_share"] < 0.5
    assert 0.1 < shares["mental_health_need_share"] < 0.45
    assert 0.25 <= shares["substance_given_mental_health"] <= 0.6
    assert shares["both_share"] == pytest.approx(
        shares["substance_given_mental_health"] * shares["mental_health_need_share"], abs=0.002
    )


def test_same_seed_gives_the_same_drug_tests():
    config = SimulationConfig(persons=400, seed=5)
    assert simulate(config).drug_tests.equals(simulate(config).drug_tests)
    other = simulate(SimulationConfig(persons=400, seed=6)).drug_tests
    assert not other.equals(simulate(config).drug_tests)


@pytest.mark.parametrize("country", ["CL", "BR"])
def test_disabling_drug_tests_changes_nothing_else(country):
    on = simulate(SimulationConfig(persons=400, seed=9, country=country))
    off = simulate(SimulationConfig(persons=400, seed=9, country=country, drug_tests_enabled=False))
    assert off.drug_tests.is_empty()
    assert list(off.drug_tests.schema) == list(on.drug_tests.schema)
    assert on.drug_tests.height > 0
    for name, frame in on.tables().items():
        if name != "drug_tests":
            assert frame.equals(off.tables()[name]), name
    keep = {key for key in on.ground_truth if key not in ("config", "counts", "drug_tests")}
    assert {key: on.ground_truth[key] for key in keep} == {
        key: off.ground_truth[key] for key in keep
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"drug_tests_enabled": "yes"}, "drug_tests_enabled"),
        ({"drug_admission_test_share": 1.5}, "drug_admission_test_share"),
        ({"drug_random_test_rate_per_month": -0.1}, "drug_random_test_rate_per_month"),
        ({"drug_scheduled_test_interval_days": 3}, "drug_scheduled_test_interval_days"),
    ],
)
def test_bad_drug_test_settings_are_rejected(overrides, message):
    with pytest.raises(ValueError, match=message):
        SimulationConfig.from_overrides(overrides)


def test_drug_test_settings_round_trip():
    config = SimulationConfig.from_overrides(
        {"drug_tests_enabled": False, "drug_programme_log_odds_ratio": -0.5}
    )
    assert SimulationConfig.from_overrides(config.to_dict()) == config

"""The validation harness: release cohort, true ATT from the planted hazard, replications."""

from __future__ import annotations

import dataclasses
import datetime

import numpy as np
import polars as pl
import pytest

from whatworks.analytics.evaluation.validation import (
    OBSERVED_BASE_COVARIATES,
    ORACLE_BASE_COVARIATES,
    OUTCOME,
    TREATMENT,
    covariates,
    outcome_probability,
    release_cohort,
    replicate,
    true_att,
)
from whatworks.analytics.simulation import SimulationConfig, simulate

EXTRACT = datetime.date(2026, 6, 30)


@pytest.fixture(scope="module")
def service():
    return simulate(SimulationConfig(persons=8000, seed=11, extract_date=EXTRACT))


@pytest.fixture(scope="module")
def cohort(service):
    return release_cohort(service, programme_code="CBT-RR")


def test_cohort_has_one_row_per_release_with_the_covariates(service, cohort):
    assert cohort.height > 500
    assert cohort["episode_key"].n_unique() == cohort.height
    for name in (*OBSERVED_BASE_COVARIATES, *ORACLE_BASE_COVARIATES, TREATMENT, OUTCOME):
        assert name in cohort.columns, name
        assert cohort[name].null_count() == 0, name
    assert set(cohort[TREATMENT].unique()) <= {0, 1}
    assert set(cohort[OUTCOME].unique()) <= {0, 1}
    assert cohort[TREATMENT].sum() >= 60
    # Full follow-up of the window (plus the margin) before the extract date.
    assert cohort["release_date"].max() <= EXTRACT - datetime.timedelta(days=365 + 180)
    assert set(cohort["release_type"].unique()) <= {"end_of_sentence", "parole", "pardon", "other"}
    # The adjustment sets never hold the treatment, the outcome or the truth columns.
    for kind in ("oracle", "observed"):
        chosen = covariates(cohort, kind)
        assert TREATMENT not in chosen and OUTCOME not in chosen
        assert "true_completed" not in chosen and "true_lp" not in chosen
        assert "completed_cbt_rr" not in chosen
    assert "true_risk" not in covariates(cohort, "observed")


def test_covariates_do_not_use_what_happens_after_release(service, cohort):
    # Without any post-release event the covariates are the same; only the outcome changes.
    blind = dataclasses.replace(service, outcome_events=service.outcome_events.clear())
    other = release_cohort(blind, programme_code="CBT-RR")
    assert other["episode_key"].to_list() == cohort["episode_key"].to_list()
    names = [*covariates(cohort, "observed"), "true_risk", TREATMENT]
    assert other.select(names).equals(cohort.select(names))
    assert other[OUTCOME].sum() == 0


def test_treatment_is_completion_during_the_episode(service, cohort):
    completed = service.programme_referrals.filter(
        (pl.col("programme_code") == "CBT-RR") & (pl.col("status") == "completed")
    )
    treated = set(cohort.filter(pl.col(TREATMENT) == 1)["episode_key"])
    in_cohort = set(cohort["episode_key"])
    assert treated == set(completed["episode_key"]) & in_cohort
    # Completion ends on or before the release.
    ends = completed.join(
        cohort.select("episode_key", "release_date"), on="episode_key", how="inner"
    )
    assert (ends["end_date"] <= ends["release_date"]).all()
    started = release_cohort(service, programme_code="CBT-RR", treatment="participation")
    participants = set(started.filter(pl.col(TREATMENT) == 1)["episode_key"])
    assert treated <= participants and len(participants) > len(treated)


def test_cohort_is_restricted_to_eligible_people(service, cohort):
    # CBT-RR takes moderate, high and very high risk: nobody below the low cut point.
    cut = service.ground_truth["programmes"]["risk_bands"]["cutpoints"][0]
    assert cohort["true_risk"].quantile(0.01) > cut - 1.0  # age moves risk a little
    everyone = release_cohort(service, programme_code="CBT-RR", eligible_only=False)
    assert everyone.height > cohort.height
    assert everyone[TREATMENT].sum() == cohort[TREATMENT].sum()


def test_outcome_probability_matches_the_realised_rate(service, cohort):
    predicted = outcome_probability(service, cohort)
    assert np.all((predicted > 0) & (predicted < 1))
    assert abs(predicted.mean() - cohort[OUTCOME].mean()) < 0.03


def test_true_att_has_the_planted_sign_and_a_plausible_size(service, cohort):
    effect = true_att(service, cohort, programme_code="CBT-RR")
    # log HR -0.25 on a one-year risk of about 0.2-0.3 among completers.
    assert -0.08 < effect < -0.02
    # Bigger window, bigger risk difference.
    two_years = release_cohort(service, programme_code="CBT-RR", window_days=730)
    assert true_att(service, two_years, programme_code="CBT-RR", window_days=730) < effect


@pytest.mark.parametrize("code", ["REL-CAP", "DEP-REC"])
def test_true_att_is_zero_when_the_planted_effect_is_zero(service, code):
    cohort = release_cohort(service, programme_code=code)
    assert cohort[TREATMENT].sum() > 0
    assert true_att(service, cohort, programme_code=code) == 0.0


def test_true_att_is_positive_for_the_harmful_programme(service):
    cohort = release_cohort(service, programme_code="CBT-INT")
    if cohort[TREATMENT].sum() == 0:
        pytest.skip("no CBT-INT completer in this small run")
    assert true_att(service, cohort, programme_code="CBT-INT") > 0


@pytest.mark.slow
def test_replications_recover_the_cbt_effect_and_the_naive_comparison_does_not():
    summary = replicate(8, persons=20000, method="aipw", seed0=500)
    assert summary.reps == 8, summary.failures
    assert -0.07 < summary.true_effect < -0.03
    assert abs(summary.mean_estimate - summary.true_effect) < 0.03
    assert summary.coverage >= 0.5
    # Selection makes the naive comparison look far more beneficial than the truth.
    assert summary.naive_bias < -0.08

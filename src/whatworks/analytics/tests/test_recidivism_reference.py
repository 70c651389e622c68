"""Recidivism engine against published reference values and the simulator's known truth.

Rossi et al. (1980), shipped with lifelines as ``load_rossi``; R's reference fit (domain
guide §9) was produced by::

    library(survival)
    fit <- coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio,
                 data = rossi)          # ties = "efron", the default
    summary(fit)
"""

from __future__ import annotations

import datetime

import numpy as np
import polars as pl
import pytest
from lifelines import KaplanMeierFitter
from lifelines.datasets import load_rossi

from whatworks.analytics.recidivism import fit_cox, load_definition, measure
from whatworks.analytics.recidivism.survival import kaplan_meier
from whatworks.analytics.simulation import SimulationConfig, simulate

COVARIATES = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
# R survival::coxph, Efron ties (domain guide §9): coefficient and standard error.
R_COXPH = {
    "fin": (-0.37942, 0.19138),
    "age": (-0.05744, 0.02200),
    "race": (0.31390, 0.30799),
    "wexp": (-0.14980, 0.21222),
    "mar": (-0.43370, 0.38187),
    "paro": (-0.08487, 0.19576),
    "prio": (0.09150, 0.02865),
}
START = datetime.date(2000, 1, 3)


def rossi_as_extract() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Rossi as a releases/events extract: released on one day, followed 52 weeks, an
    arrest (counted as a reconviction) on day 7 * week."""
    rossi = pl.from_pandas(load_rossi()).with_row_index("row")
    release_id = pl.format("R{}", pl.col("row"))
    releases = rossi.select(
        release_id.alias("release_id"),
        pl.format("P{}", pl.col("row")).alias("person_id"),
        pl.lit(START).alias("release_date"),
        pl.lit("end_of_sentence").alias("release_type"),
        pl.lit(START + datetime.timedelta(days=52 * 7)).alias("followup_end_date"),
    )
    events = rossi.filter(pl.col("arrest") == 1).select(
        pl.format("P{}", pl.col("row")).alias("person_id"),
        pl.lit("reconviction").alias("event_type"),
        (pl.lit(START) + pl.duration(days=pl.col("week") * 7)).alias("event_date"),
    )
    covariates = rossi.select(release_id.alias("release_id"), *COVARIATES)
    return releases, events, covariates


def test_kaplan_meier_equals_lifelines_on_rossi():
    rossi = load_rossi()
    ours = kaplan_meier(rossi["week"], rossi["arrest"])
    theirs = KaplanMeierFitter().fit(rossi["week"], rossi["arrest"])
    np.testing.assert_allclose(ours.times, theirs.survival_function_.index.to_numpy())
    np.testing.assert_allclose(ours.survival, theirs.survival_function_.iloc[:, 0], rtol=1e-12)
    interval = theirs.confidence_interval_survival_function_
    np.testing.assert_allclose(ours.ci_low, interval.iloc[:, 0], rtol=1e-10)
    np.testing.assert_allclose(ours.ci_high, interval.iloc[:, 1], rtol=1e-10)
    # 114 arrests in 432 men: S(52 weeks) = 1 - 114/432 (no censoring before week 52).
    assert ours.survival[-1] == pytest.approx(1 - 114 / 432)
    assert ours.median_days is None  # fewer than half were arrested


def test_engine_kaplan_meier_on_rossi_extract_equals_lifelines():
    releases, events, _ = rossi_as_extract()
    result = measure(releases, events, load_definition(), windows=[1], event_types=["reconviction"])
    rossi = load_rossi()
    theirs = KaplanMeierFitter().fit(rossi["week"] * 7, rossi["arrest"])
    np.testing.assert_allclose(result.km.times, theirs.survival_function_.index.to_numpy())
    np.testing.assert_allclose(result.km.survival, theirs.survival_function_.iloc[:, 0])
    # 52 weeks = 364 days < 1 calendar year, so no release completes the 1-year window.
    assert result.windows[0]["eligible"] == 0
    assert result.followups["event"].sum() == 114


def test_cox_wrapper_matches_r_on_rossi():
    cox = fit_cox(load_rossi(), "week", "arrest", COVARIATES)
    summary = cox.summary
    assert list(summary.columns) == ["coef", "se", "hr", "ci_low", "ci_high", "p"]
    for name, (coef, se) in R_COXPH.items():
        assert summary.loc[name, "coef"] == pytest.approx(coef, abs=1e-4), name
        assert summary.loc[name, "se"] == pytest.approx(se, abs=1e-4), name
    assert cox.log_likelihood_ratio_test["statistic"] == pytest.approx(33.27, abs=5e-3)
    assert cox.log_likelihood_ratio_test["degrees_of_freedom"] == 7
    assert cox.concordance == pytest.approx(0.640, abs=5e-4)
    assert summary.loc["fin", "hr"] == pytest.approx(0.684, abs=5e-4)
    assert summary.loc["fin", "ci_low"] == pytest.approx(0.470, abs=5e-4)
    assert summary.loc["fin", "ci_high"] == pytest.approx(0.996, abs=5e-4)
    assert (cox.releases, cox.events) == (432, 114)


def test_cox_on_engine_followups_matches_r():
    releases, events, covariates = rossi_as_extract()
    result = measure(releases, events, load_definition(), suppression=None)
    frame = result.followups.join(covariates, on="release_id")
    # Days are weeks * 7: the partial likelihood depends only on the order of times.
    cox = fit_cox(frame, "duration_days", "event", COVARIATES)
    for name, (coef, _) in R_COXPH.items():
        assert cox.summary.loc[name, "coef"] == pytest.approx(coef, abs=1e-4), name


def test_cox_expands_text_covariates():
    frame = pl.from_pandas(load_rossi()).with_columns(
        pl.when(pl.col("fin") == 1).then(pl.lit("aid")).otherwise(pl.lit("none")).alias("group")
    )
    cox = fit_cox(frame, "week", "arrest", ["group", "age", "prio"])
    assert list(cox.summary.index) == ["age", "prio", "group=none"]
    with pytest.raises(ValueError, match="missing column"):
        fit_cox(frame, "week", "arrest", ["nope"])


def test_chile_preset_reproduces_the_simulators_realised_rate():
    service = simulate(
        SimulationConfig(persons=3000, seed=11, extract_date=datetime.date(2026, 6, 30))
    )
    extract_date = service.config.extract_date
    facility_types = service.facilities.select(pl.col("code").alias("facility"), "facility_type")
    releases = service.custody_episodes.join(facility_types, on="facility", how="left").select(
        pl.col("episode_key").alias("release_id"),
        pl.col("prison_number").alias("person_id"),
        "release_date",
        "release_type",
        pl.lit(extract_date).alias("followup_end_date"),
        "facility",
        "facility_type",
    )
    events = service.outcome_events.select(
        pl.col("prison_number").alias("person_id"), "event_type", "event_date", "offence_date"
    )
    result = measure(
        releases.filter(pl.col("facility_type") == "closed"),
        events,
        load_definition("reconviction-3y-chile"),
        suppression=None,
        allow_unknown_people=True,  # people only ever in open facilities
    )
    truth = service.ground_truth["realised"]["reconviction_rate_3y"]["closed"]
    ours = result.windows[0]
    assert (ours["eligible"], ours["recidivists"]) == (truth["releases"], truth["reconvicted"])
    assert ours["rate"] == truth["rate"]
    # Every facility type at once, as a breakdown.
    grouped = measure(releases, events, load_definition(), by=["facility_type"], suppression=None)
    for group in grouped.groups:
        facility_type = group["by"]["facility_type"]
        expected = service.ground_truth["realised"]["reconviction_rate_3y"][facility_type]
        assert group["windows"][0]["recidivists"] == expected["reconvicted"], facility_type
        assert group["windows"][0]["eligible"] == expected["releases"], facility_type

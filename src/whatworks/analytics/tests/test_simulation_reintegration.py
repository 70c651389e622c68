"""Simulated reintegration: arrangements at release, follow-up contacts, planted effects."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import math

import numpy as np
import polars as pl
import pytest

from whatworks.analytics.simulation import SimulationConfig, simulate, write_extract
from whatworks.analytics.simulation.reintegration import (
    ACCOMMODATION_TYPES,
    CONTACT_STATUSES,
    EMPLOYMENT_OFFERS,
    EMPLOYMENT_STATUSES,
    HOUSING_STATUSES,
    SUBSTANCE_USE,
    TREATMENT_CONTINUITY,
    release_log_hazard,
)
from whatworks.analytics.tests.test_simulation import EXPECTED_COLUMNS

EXTRACT_DATE = datetime.date(2026, 6, 30)
TABLES = ("release_arrangements", "followup_contacts")
COMMUNITY_RELEASES = ("end_of_sentence", "parole", "pardon", "other")


@pytest.fixture(scope="module")
def service():
    return simulate(SimulationConfig(persons=3000, seed=21, extract_date=EXTRACT_DATE))


def _next_admissions(service) -> pl.DataFrame:
    """Per release: the person's next admission after it (null when none)."""
    episodes = service.custody_episodes
    return (
        episodes.filter(pl.col("release_date").is_not_null())
        .select("episode_key", "prison_number", "release_date")
        .join(
            episodes.select("prison_number", pl.col("admission_date").alias("next_admission")),
            on="prison_number",
            how="left",
        )
        .filter(pl.col("next_admission") > pl.col("release_date"))
        .group_by("episode_key")
        .agg(pl.col("next_admission").min())
    )


# -- tables -------------------------------------------------------------------------------


@pytest.mark.parametrize("country", ["CL", "BR"])
def test_tables_have_the_agreed_columns_and_values(country):
    service = simulate(SimulationConfig(persons=500, seed=3, country=country))
    tables = service.tables()
    for name in TABLES:
        assert dict(tables[name].schema) == EXPECTED_COLUMNS[name], name
        assert tables[name].height > 0, name
    arrangements, contacts = tables["release_arrangements"], tables["followup_contacts"]
    assert set(arrangements["accommodation_type"]) == set(ACCOMMODATION_TYPES)
    assert set(arrangements["employment_offer"]) == set(EMPLOYMENT_OFFERS)
    assert set(contacts["status"]) == set(CONTACT_STATUSES)
    assert set(contacts["housing_status"]) == set(HOUSING_STATUSES)
    assert set(contacts["employment_status"]) == set(EMPLOYMENT_STATUSES)
    assert set(contacts["substance_use"]) == set(SUBSTANCE_USE)
    assert set(contacts["treatment_continuity"].drop_nulls()) == set(TREATMENT_CONTINUITY)


def test_one_arrangement_per_release_to_the_community(service):
    arrangements = service.release_arrangements
    releases = service.custody_episodes.filter(pl.col("release_type").is_in(COMMUNITY_RELEASES))
    assert arrangements["episode_key"].is_unique().all()
    assert arrangements.height == releases.height
    joined = arrangements.join(releases, on="episode_key", how="left")
    assert (joined["prison_number"] == joined["prison_number_right"]).all()
    assert (joined["release_date"] == joined["release_date_right"]).all()
    assert arrangements["episode_key"].to_list() == sorted(arrangements["episode_key"])
    stable = pl.col("accommodation_type").is_in(["family", "own_tenancy", "supported"])
    assert arrangements.filter(stable != pl.col("accommodation_stable")).is_empty()
    # A bank account needs an identity document.
    assert arrangements.filter(pl.col("bank_account") & ~pl.col("id_document_ready")).is_empty()
    # Shares in a plausible range (defaults documented in docs/simulator.md, 5d).
    assert 0.6 < arrangements["accommodation_stable"].mean() < 0.85
    offered = (arrangements["employment_offer"] != "none").mean()
    assert 0.2 < offered < 0.5


def test_contacts_are_due_at_the_configured_months_while_in_the_community(service):
    contacts = service.followup_contacts.join(
        service.release_arrangements.select("episode_key", "release_date"), on="episode_key"
    ).join(_next_admissions(service), on="episode_key", how="left")
    assert set(contacts["month"]) == {1, 3, 6, 12}
    assert contacts.select("episode_key", "month").is_unique().all()
    expected_due = [
        _add_months(release, month)
        for release, month in contacts.select("release_date", "month").iter_rows()
    ]
    assert contacts["due_date"].to_list() == expected_due
    done = pl.col("status") == "done"
    assert contacts.filter(done != pl.col("contact_date").is_not_null()).is_empty()
    assert contacts.filter(
        (pl.col("due_date") > EXTRACT_DATE)
        | (pl.col("contact_date") > EXTRACT_DATE)
        | (pl.col("contact_date") <= pl.col("release_date"))
        | ((pl.col("contact_date") - pl.col("due_date")).dt.total_days().abs() > 14)
    ).is_empty()
    # Nothing due or done on or after the return to custody.
    back = contacts.filter(pl.col("next_admission").is_not_null())
    assert back.height > 0
    assert back.filter(
        (pl.col("due_date") >= pl.col("next_admission"))
        | (pl.col("contact_date") >= pl.col("next_admission"))
    ).is_empty()


def test_people_still_free_get_every_contact_that_is_due(service):
    """Only death or deportation (not in the tables) can cut a schedule short."""
    arrangements = service.release_arrangements.join(
        _next_admissions(service), on="episode_key", how="left"
    ).filter(
        pl.col("next_admission").is_null()
        & (pl.col("release_date") <= pl.lit(EXTRACT_DATE).dt.offset_by("-13mo"))
    )
    counts = service.followup_contacts.group_by("episode_key").len()
    joined = arrangements.join(counts, on="episode_key", how="left").with_columns(
        pl.col("len").fill_null(0)
    )
    assert joined.height > 100
    assert (joined["len"] <= 4).all()
    assert (joined["len"] == 4).mean() > 0.9


def test_missed_contacts_record_nothing_and_done_ones_record_the_statuses(service):
    contacts = service.followup_contacts
    missed = contacts.filter(pl.col("status") == "missed")
    done = contacts.filter(pl.col("status") == "done")
    assert 0.1 < missed.height / contacts.height < 0.35
    for column in ("housing_status", "employment_status", "substance_use"):
        assert (missed[column] == "unknown").all(), column
        assert (done[column] == "unknown").mean() < 0.06, column
    assert missed["treatment_continuity"].is_null().all()
    assert done["treatment_continuity"].is_not_null().all()
    # Once stopped, treatment stays stopped.
    stopped_then_continuing = (
        done.filter(pl.col("treatment_continuity") != "not_applicable")
        .sort("episode_key", "month")
        .with_columns(
            earlier_stop=(pl.col("treatment_continuity") == "stopped")
            .cum_max()
            .shift(1)
            .over("episode_key")
        )
        .filter(pl.col("earlier_stop") & (pl.col("treatment_continuity") == "continuing"))
    )
    assert stopped_then_continuing.is_empty()


def test_justice_contact_matches_the_outcome_events(service):
    contacts = service.followup_contacts.join(
        service.release_arrangements.select("episode_key", "release_date"), on="episode_key"
    ).with_row_index("row")
    events = service.outcome_events.select("prison_number", "event_date")
    expected = (
        contacts.join(events, on="prison_number", how="left")
        .with_columns(until=pl.coalesce("contact_date", "due_date"))
        .group_by("row")
        .agg(
            (
                (pl.col("event_date") > pl.col("release_date"))
                & (pl.col("event_date") <= pl.col("until"))
            )
            .fill_null(False)
            .any()
            .alias("expected")
        )
    )
    checked = contacts.join(expected, on="row")
    assert (checked["justice_contact"] == checked["expected"]).all()
    assert checked["justice_contact"].sum() > 50


def test_followup_housing_and_employment_start_from_the_arrangement(service):
    first = (
        service.followup_contacts.filter((pl.col("month") == 1) & (pl.col("status") == "done"))
        .join(service.release_arrangements, on="episode_key")
        .filter(pl.col("housing_status") != "unknown")
    )
    stable = first.filter(pl.col("accommodation_stable"))
    homeless = first.filter(pl.col("accommodation_type") == "none")
    assert (stable["housing_status"] == "stable").mean() > 0.9
    assert (homeless["housing_status"] == "homeless").mean() > 0.7
    job = first.filter(
        (pl.col("employment_offer") == "job") & (pl.col("employment_status") != "unknown")
    )
    assert (job["employment_status"] == "employed").mean() > 0.85


# -- selection ----------------------------------------------------------------------------


def test_arrangements_and_missed_contacts_follow_risk(service):
    """Confounding on purpose: higher-risk people get fewer arrangements, miss more contacts."""
    risk = service.person_truth.select("prison_number", "linear_predictor")
    arrangements = service.release_arrangements.join(risk, on="prison_number")
    cut = arrangements["linear_predictor"].median()
    low = arrangements.filter(pl.col("linear_predictor") < cut)
    high = arrangements.filter(pl.col("linear_predictor") >= cut)
    assert low["accommodation_stable"].mean() > high["accommodation_stable"].mean() + 0.05
    assert (low["employment_offer"] == "job").mean() > (high["employment_offer"] == "job").mean()
    contacts = service.followup_contacts.join(risk, on="prison_number")
    missed = pl.col("status") == "missed"
    low_missed = contacts.filter(pl.col("linear_predictor") < cut).select(missed.mean()).item()
    high_missed = contacts.filter(pl.col("linear_predictor") >= cut).select(missed.mean()).item()
    assert high_missed > low_missed + 0.03


# -- ground truth and calibration ---------------------------------------------------------


def test_ground_truth_records_the_planted_effects(service):
    truth = json.loads(json.dumps(service.ground_truth))
    block = truth["reintegration"]
    config = service.config
    assert block["enabled"] is True
    assert block["effects"]["employment"]["log_hazard_ratio"] == -0.30
    assert block["effects"]["housing"]["log_hazard_ratio"] == -0.25
    assert block["effects"]["training"]["log_hazard_ratio"] == config.training_log_hazard_ratio
    for effect in block["effects"].values():
        assert effect["hazard_ratio"] == pytest.approx(math.exp(effect["log_hazard_ratio"]))
    coefficients = truth["hazard"]["coefficients"]
    assert coefficients["job_offer_at_release"] == -0.30
    assert coefficients["stable_accommodation_at_release"] == -0.25
    realised = block["realised"]
    assert realised["releases"] == service.release_arrangements.height
    assert sum(realised["accommodation_type"].values()) == pytest.approx(1.0)
    assert sum(realised["contacts"].values()) == service.followup_contacts.height
    assert truth["counts"]["followup_contacts"] == service.followup_contacts.height
    naive = block["naive_reconviction_rate_3y"]
    assert naive["stable_accommodation"]["rate"] < naive["shelter_or_none"]["rate"]


def test_release_log_hazard_gives_the_planted_terms_per_release(service):
    terms = release_log_hazard(service.release_arrangements, service.ground_truth)
    joined = service.release_arrangements.join(terms, on="episode_key")
    assert joined.height == service.release_arrangements.height
    for row in joined.iter_rows(named=True):
        expected = {"job": -0.30, "training": -0.10, "none": 0.0}[row["employment_offer"]]
        expected += -0.25 if row["accommodation_stable"] else 0.0
        assert row["reintegration_log_hazard"] == pytest.approx(expected)
    off = simulate(SimulationConfig(persons=200, seed=1, reintegration_enabled=False))
    assert release_log_hazard(off.release_arrangements, off.ground_truth).is_empty()


def test_calibration_still_meets_the_target_with_the_new_terms():
    on = simulate(SimulationConfig(persons=4000, seed=3))
    off = simulate(SimulationConfig(persons=4000, seed=3, reintegration_enabled=False))
    calibration = on.ground_truth["hazard"]["calibration"]
    assert calibration["model_implied_rate_3y"] == pytest.approx(0.40, abs=1e-6)
    # The arrangements lower lp on average, so the calibrated baseline is higher.
    scale_on = on.ground_truth["hazard"]["baseline_hazard_scale"]
    scale_off = off.ground_truth["hazard"]["baseline_hazard_scale"]
    assert scale_on > 1.15 * scale_off
    closed = on.ground_truth["realised"]["reconviction_rate_3y"]["closed"]
    assert closed["releases"] > 500
    assert closed["rate"] == pytest.approx(0.40, abs=0.05)


# -- determinism and independence ---------------------------------------------------------


def test_same_config_gives_byte_identical_files(tmp_path):
    config = SimulationConfig(persons=400, seed=8)
    write_extract(simulate(config), tmp_path / "a")
    write_extract(simulate(config), tmp_path / "b")
    for name in TABLES:
        for suffix in ("csv", "parquet"):
            path = f"{name}.{suffix}"
            assert (tmp_path / "a" / path).read_bytes() == (tmp_path / "b" / path).read_bytes()
    other = simulate(SimulationConfig(persons=400, seed=9))
    assert not other.release_arrangements.equals(simulate(config).release_arrangements)


# SHA-256 prefixes of the CSV text of the fourteen tables of model version 3, recorded with
# the code before reintegration existed (default settings otherwise).
MODEL_VERSION_3_HASHES = {
    (400, 9, "CL"): {
        "facilities": "481077a139fe8ec6",
        "persons": "a5bee3c857a6ec95",
        "custody_episodes": "9b0413f1b0583909",
        "movements": "0b55135d484e8e48",
        "outcome_events": "2498084aa67c3fdc",
        "person_truth": "60fabfad9b132afd",
        "assessments": "365351c310e5c5d0",
        "programmes": "791bcf69d6bc3486",
        "programme_groups": "3264295f0f7bba22",
        "programme_sessions": "77df7cd69593d6ee",
        "programme_referrals": "5a08e8767eacb717",
        "programme_attendance": "5743644b9578dbd9",
        "disciplinary_faults": "1b0e41d6bc8fc7c9",
        "drug_tests": "3c0a0a322d40b8e2",
    },
    (300, 5, "BR"): {
        "facilities": "02fd5224f81f9473",
        "persons": "929bb43cdc1ea373",
        "custody_episodes": "9bc542dc397b75b0",
        "movements": "5cc9a60b7c607c93",
        "outcome_events": "23342120f192e8e7",
        "person_truth": "c4469f07ff790ece",
        "assessments": "c82da028c604ad41",
        "programmes": "0a48fe2aa4fbb2ac",
        "programme_groups": "623317599615ca2f",
        "programme_sessions": "f854aa899948f5b2",
        "programme_referrals": "56ebbc76c3f7a536",
        "programme_attendance": "c6bfa101de4d65b4",
        "disciplinary_faults": "edcd5e92c3815bb6",
        "drug_tests": "f4eb50f17563681b",
    },
}


@pytest.mark.parametrize(("persons", "seed", "country"), list(MODEL_VERSION_3_HASHES))
def test_reintegration_disabled_reproduces_the_previous_model_exactly(persons, seed, country):
    service = simulate(
        SimulationConfig(persons=persons, seed=seed, country=country, reintegration_enabled=False)
    )
    tables = service.tables()
    for name, expected in MODEL_VERSION_3_HASHES[(persons, seed, country)].items():
        buffer = io.BytesIO()
        tables[name].write_csv(buffer)
        assert hashlib.sha256(buffer.getvalue()).hexdigest()[:16] == expected, name
    for name in TABLES:
        assert tables[name].is_empty(), name
        assert dict(tables[name].schema) == EXPECTED_COLUMNS[name], name
    assert service.ground_truth["reintegration"]["enabled"] is False
    assert "job_offer_at_release" not in service.ground_truth["hazard"]["coefficients"]


def test_reintegration_changes_only_what_it_causes():
    on = simulate(SimulationConfig(persons=800, seed=4))
    off = simulate(SimulationConfig(persons=800, seed=4, reintegration_enabled=False))
    for name in ("persons", "person_truth", "programmes"):
        assert on.tables()[name].equals(off.tables()[name]), name
    assert not on.outcome_events.equals(off.outcome_events)
    # Changing only the follow-up settings leaves every other table alone.
    fewer = simulate(SimulationConfig(persons=800, seed=4, followup_months=(2, 4)))
    for name, frame in on.tables().items():
        if name != "followup_contacts":
            assert frame.equals(fewer.tables()[name]), name
    assert set(fewer.followup_contacts["month"]) == {2, 4}


# -- settings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"reintegration_enabled": "yes"}, "reintegration_enabled"),
        ({"employment_log_hazard_ratio": "a lot"}, "employment_log_hazard_ratio"),
        ({"housing_log_hazard_ratio": 50.0}, "housing_log_hazard_ratio"),
        ({"accommodation_shelter_share": 1.5}, "accommodation_shelter_share"),
        ({"followup_months": [3, 1]}, "followup_months"),
        ({"followup_months": []}, "followup_months"),
        ({"followup_months": [1, 99]}, "followup_months"),
        ({"followup_months": 6}, "followup_months"),
        ({"accommodation_stable_mix": {"castle": 1.0}}, "accommodation_stable_mix"),
    ],
)
def test_bad_reintegration_settings_are_rejected_with_the_key_named(overrides, message):
    with pytest.raises(ValueError, match=message):
        SimulationConfig.from_overrides(overrides)


def test_reintegration_settings_round_trip_through_overrides():
    config = SimulationConfig.from_overrides(
        {"followup_months": [1, 2, 24], "employment_log_hazard_ratio": -0.5}
    )
    assert config.followup_months == (1, 2, 24)
    data = json.loads(json.dumps(config.to_dict()))
    assert data["followup_months"] == [1, 2, 24]
    assert SimulationConfig.from_overrides(data) == config


# -- the planted effects are recoverable --------------------------------------------------


def release_frame(service, margin_days: int = 730) -> pl.DataFrame:
    """One row per release to the community of a national (deportations are not in the
    tables), with the true linear predictor of the release without the reintegration
    terms (person, age, prior episodes and the planted effects of the programmes completed
    in the episode: docs/simulator.md §5) and the arrangement indicators.

    The event is the first offence after release that led to a reconviction (its
    ``offence_date``); follow-up is censored at the next admission or ``margin_days``
    before the extract date, so that nearly every reconviction of an earlier offence is
    already recorded.
    """
    config = service.config
    cut = config.extract_date - datetime.timedelta(days=margin_days)
    effects = {
        code: value["log_hazard_ratio"]
        for code, value in service.ground_truth["programmes"]["effects"].items()
    }
    programmes = (
        service.programme_referrals.filter(pl.col("status") == "completed")
        .with_columns(
            effect=pl.col("programme_code").replace_strict(effects, return_dtype=pl.Float64)
        )
        .group_by("episode_key")
        .agg(programme_effects=pl.col("effect").sum())
    )
    releases = (
        service.release_arrangements.filter(pl.col("release_date") < cut)
        .with_columns(sequence=pl.col("episode_key").str.slice(-2).cast(pl.Int64))
        .join(service.person_truth, on="prison_number")
        .join(
            service.persons.select("prison_number", "date_of_birth", "nationality"),
            on="prison_number",
        )
        .filter(pl.col("nationality") == config.country)
        .join(programmes, on="episode_key", how="left")
        .with_columns(
            age=(pl.col("release_date") - pl.col("date_of_birth")).dt.total_days() / 365.25
        )
        .with_columns(
            lp=pl.col("linear_predictor")
            + config.coefficient_age_per_year * (pl.col("age") - config.age_reference_years)
            + config.coefficient_log_prior_episodes
            * (pl.col("prior_custodial_episodes") + pl.col("sequence") - 1).log1p()
            + pl.col("programme_effects").fill_null(0.0)
        )
    )
    offences = service.outcome_events.filter(pl.col("event_type") == "reconviction").select(
        "prison_number", "offence_date"
    )
    first_offence = (
        releases.select("episode_key", "prison_number", "release_date")
        .join(offences, on="prison_number")
        .filter(pl.col("offence_date") > pl.col("release_date"))
        .group_by("episode_key")
        .agg(pl.col("offence_date").min().alias("first_offence"))
    )
    frame = (
        releases.join(_next_admissions(service), on="episode_key", how="left")
        .join(first_offence, on="episode_key", how="left")
        .with_columns(end=pl.min_horizontal(pl.col("next_admission").fill_null(cut), pl.lit(cut)))
        .with_columns(
            event=pl.col("first_offence").is_not_null() & (pl.col("first_offence") <= pl.col("end"))
        )
        .with_columns(
            years=(
                pl.when(pl.col("event")).then(pl.col("first_offence")).otherwise(pl.col("end"))
                - pl.col("release_date")
            ).dt.total_days()
            / 365.25
        )
    )
    return frame.select(
        pl.col("years").clip(lower_bound=1 / 365.25),
        pl.col("event").cast(pl.Int64),
        job=(pl.col("employment_offer") == "job").cast(pl.Float64),
        training=(pl.col("employment_offer") == "training").cast(pl.Float64),
        stable=pl.col("accommodation_stable").cast(pl.Float64),
        lp=pl.col("lp"),
    )


def _cox(frame: pl.DataFrame, covariates: list[str]) -> dict[str, tuple[float, float, float]]:
    import pandas as pd
    from lifelines import CoxPHFitter

    data = pd.DataFrame({name: frame[name].to_numpy() for name in ["years", "event", *covariates]})
    summary = CoxPHFitter().fit(data, duration_col="years", event_col="event").summary
    return {
        name: (
            float(summary.loc[name, "coef"]),
            float(summary.loc[name, "coef lower 95%"]),
            float(summary.loc[name, "coef upper 95%"]),
        )
        for name in covariates
    }


@pytest.mark.slow
@pytest.mark.parametrize("seed", [2, 3, 4])
def test_cox_with_the_true_risk_recovers_the_planted_employment_and_housing_effects(seed):
    """Ten years of history give about 14,000 releases with two years' margin per seed.

    Over seeds 1-10 the interval covered the job effect in 10 and the housing effect in 9
    (seed 1: -0.19, 95% CI -0.24 to -0.13); docs/simulator.md, section 5d, has the figures.
    """
    service = simulate(SimulationConfig(persons=20000, seed=seed, history_years=10))
    frame = release_frame(service)
    config = service.config
    assert frame.height > 12000 and frame["event"].sum() > 5000
    adjusted = _cox(frame, ["job", "training", "stable", "lp"])
    for name, planted in (
        ("job", config.employment_log_hazard_ratio),
        ("stable", config.housing_log_hazard_ratio),
    ):
        estimate, lower, upper = adjusted[name]
        assert lower <= planted <= upper, (name, estimate, lower, upper)
    # The true risk enters with coefficient 1 (estimates 0.94-1.01 over seeds 1-10).
    assert adjusted["lp"][0] == pytest.approx(1.0, abs=0.1)
    # Without the risk, selection makes both arrangements look better than they are.
    naive = _cox(frame, ["job", "training", "stable"])
    assert naive["job"][0] < adjusted["job"][0] - 0.05
    assert naive["stable"][0] < adjusted["stable"][0] - 0.05
    assert np.isfinite([value[0] for value in naive.values()]).all()


def _add_months(day: datetime.date, months: int) -> datetime.date:
    """Same day ``months`` calendar months later, or the month's last day."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return datetime.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")

"""The synthetic prison system: determinism, table invariants, calibration and the CLI.

No database and no Django: the simulation is pure Python.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from whatworks.analytics.simulation import SimulationConfig, simulate, write_extract
from whatworks.analytics.simulation.cli import main
from whatworks.analytics.simulation.config import CENTRAL_EIGHT, OFFENCE_CATEGORIES
from whatworks.analytics.simulation.model import reconviction_rate_3y
from whatworks.analytics.simulation.names import brazilian_cpf, chilean_rut, rut_is_valid

EXTRACT_DATE = datetime.date(2026, 6, 30)

EXPECTED_COLUMNS = {
    "facilities": {
        "code": pl.String,
        "name": pl.String,
        "region": pl.String,
        "facility_type": pl.String,
        "security_level": pl.String,
        "capacity": pl.Int64,
        "population_sex": pl.String,
    },
    "persons": {
        "prison_number": pl.String,
        "national_id": pl.String,
        "first_names": pl.String,
        "last_names": pl.String,
        "date_of_birth": pl.Date,
        "sex": pl.String,
        "gender": pl.String,
        "nationality": pl.String,
        "languages": pl.String,
        "literacy": pl.String,
        "needs_codes": pl.String,
        "education_level": pl.String,
    },
    "custody_episodes": {
        "episode_key": pl.String,
        "prison_number": pl.String,
        "admission_facility": pl.String,
        "facility": pl.String,
        "admission_date": pl.Date,
        "admission_type": pl.String,
        "legal_status": pl.String,
        "main_offence_category": pl.String,
        "sentence_length_days": pl.Int64,
        "sentence_date": pl.Date,
        "expected_release_date": pl.Date,
        "release_date": pl.Date,
        "release_type": pl.String,
    },
    "movements": {
        "episode_key": pl.String,
        "movement_date": pl.Date,
        "kind": pl.String,
        "from_facility": pl.String,
        "to_facility": pl.String,
        "reason": pl.String,
    },
    "outcome_events": {
        "event_key": pl.String,
        "prison_number": pl.String,
        "event_type": pl.String,
        "event_date": pl.Date,
        "offence_date": pl.Date,
        "source": pl.String,
        "reference": pl.String,
    },
    "person_truth": {
        "prison_number": pl.String,
        "criminal_history": pl.Float64,
        "antisocial_attitudes": pl.Float64,
        "antisocial_associates": pl.Float64,
        "antisocial_personality": pl.Float64,
        "family_marital": pl.Float64,
        "school_work": pl.Float64,
        "leisure_recreation": pl.Float64,
        "substance_abuse": pl.Float64,
        "linear_predictor": pl.Float64,
        "prior_custodial_episodes": pl.Int64,
        "motivation": pl.Float64,
    },
    "assessments": {
        "assessment_key": pl.String,
        "prison_number": pl.String,
        "episode_key": pl.String,
        "instrument": pl.String,
        "version": pl.String,
        "assessed_on": pl.Date,
        "answers": pl.String,
    },
    "programmes": {
        "code": pl.String,
        "name": pl.String,
        "programme_type": pl.String,
        "target_needs": pl.String,
        "eligible_sexes": pl.String,
        "min_age": pl.Int64,
        "max_age": pl.Int64,
        "eligible_risk_bands": pl.String,
        "min_literacy": pl.String,
        "min_education": pl.String,
        "max_education": pl.String,
        "dosage_hours": pl.Float64,
        "dosage_sessions": pl.Int64,
        "session_hours": pl.Float64,
        "group_capacity": pl.Int64,
        "setting": pl.String,
        "provider": pl.String,
        "languages": pl.String,
        "adaptations": pl.String,
        "evidence_rating": pl.String,
        "evidence_source": pl.String,
        "remission_kind": pl.String,
        "completes_school_level": pl.Boolean,
    },
    "programme_groups": {
        "group_key": pl.String,
        "programme_code": pl.String,
        "facility": pl.String,
        "start_date": pl.Date,
        "end_date": pl.Date,
        "capacity": pl.Int64,
    },
    "programme_sessions": {
        "session_key": pl.String,
        "group_key": pl.String,
        "session_date": pl.Date,
        "start_time": pl.String,
        "hours": pl.Float64,
    },
    "programme_referrals": {
        "referral_key": pl.String,
        "prison_number": pl.String,
        "episode_key": pl.String,
        "programme_code": pl.String,
        "facility": pl.String,
        "referral_date": pl.Date,
        "status": pl.String,
        "status_date": pl.Date,
        "end_reason": pl.String,
        "group_key": pl.String,
        "start_date": pl.Date,
        "end_date": pl.Date,
    },
    "programme_attendance": {
        "referral_key": pl.String,
        "session_key": pl.String,
        "status": pl.String,
        "excuse_reason": pl.String,
        "hours": pl.Float64,
    },
    "disciplinary_faults": {
        "prison_number": pl.String,
        "episode_key": pl.String,
        "fault_date": pl.Date,
        "severity": pl.String,
        "revoked_fraction": pl.String,
    },
    "drug_tests": {
        "test_key": pl.String,
        "prison_number": pl.String,
        "episode_key": pl.String,
        "facility": pl.String,
        "test_date": pl.Date,
        "reason": pl.String,
        "sample": pl.String,
        "cannabis": pl.String,
        "cocaine": pl.String,
        "opiates": pl.String,
        "amphetamines": pl.String,
        "benzodiazepines": pl.String,
        "alcohol": pl.String,
    },
    "release_arrangements": {
        "episode_key": pl.String,
        "prison_number": pl.String,
        "release_date": pl.Date,
        "accommodation_type": pl.String,
        "accommodation_stable": pl.Boolean,
        "employment_offer": pl.String,
        "id_document_ready": pl.Boolean,
        "bank_account": pl.Boolean,
    },
    "followup_contacts": {
        "episode_key": pl.String,
        "prison_number": pl.String,
        "month": pl.Int64,
        "due_date": pl.Date,
        "status": pl.String,
        "contact_date": pl.Date,
        "housing_status": pl.String,
        "employment_status": pl.String,
        "substance_use": pl.String,
        "treatment_continuity": pl.String,
        "justice_contact": pl.Boolean,
    },
}

SPANISH_NAME_NATIONALITIES = ("CL", "PE", "BO", "CO", "VE", "PY")


@pytest.fixture(scope="module")
def service():
    return simulate(SimulationConfig(persons=3000, seed=11, extract_date=EXTRACT_DATE))


@pytest.fixture(scope="module")
def brazil():
    return simulate(SimulationConfig(persons=1500, seed=5, country="BR"))


def _closed_rate(service) -> dict:
    return service.ground_truth["realised"]["reconviction_rate_3y"]["closed"]


# -- determinism ------------------------------------------------------------------------


def test_same_config_gives_identical_frames_and_files(tmp_path):
    config = SimulationConfig(persons=800, seed=3)
    first, second = simulate(config), simulate(config)
    for name, frame in first.tables().items():
        assert frame.equals(second.tables()[name]), name
    assert first.ground_truth == second.ground_truth

    write_extract(first, tmp_path / "a")
    write_extract(second, tmp_path / "b")
    for path in sorted((tmp_path / "a").iterdir()):
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name


def test_a_different_seed_gives_a_different_service():
    first = simulate(SimulationConfig(persons=300, seed=1))
    second = simulate(SimulationConfig(persons=300, seed=2))
    assert not first.persons.equals(second.persons)
    assert not first.custody_episodes.equals(second.custody_episodes)


# -- table shapes -----------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["service", "brazil"])
def test_tables_have_exactly_the_agreed_columns(fixture, request):
    tables = request.getfixturevalue(fixture).tables()
    assert list(tables) == list(EXPECTED_COLUMNS)
    for name, columns in EXPECTED_COLUMNS.items():
        assert dict(tables[name].schema) == columns, name


@pytest.mark.parametrize("fixture", ["service", "brazil"])
def test_facilities_cover_the_required_kinds(fixture, request):
    facilities = request.getfixturevalue(fixture).facilities
    assert 7 <= facilities.height <= 10
    assert 3 <= facilities["region"].n_unique() <= 4
    assert facilities["code"].is_unique().all()
    assert set(facilities["facility_type"]) <= {"closed", "semi_open", "open", "community_office"}
    assert {"closed", "semi_open", "community_office"} <= set(facilities["facility_type"])
    assert set(facilities["security_level"]) <= {"maximum", "high", "medium", "low", "minimum"}
    assert "female" in set(facilities["population_sex"])
    assert (facilities["capacity"] > 0).all()


def test_enumerations_hold_only_agreed_values(service):
    persons, episodes = service.persons, service.custody_episodes
    assert set(persons["sex"]) == {"male", "female"}
    assert set(persons["gender"]) <= {
        "man",
        "woman",
        "trans_man",
        "trans_woman",
        "non_binary",
        "not_recorded",
    }
    assert set(persons["literacy"]) <= {"literate", "limited", "illiterate", "not_recorded"}
    assert set(persons["nationality"]) <= {"CL", "PE", "BO", "CO", "VE", "HT"}
    needs = {
        "learning_disability",
        "intellectual_disability",
        "hearing",
        "visual",
        "mobility",
        "mental_health",
        "neurodivergent",
    }
    for codes in persons["needs_codes"].drop_nulls():
        assert codes and set(codes.split(";")) <= needs
    assert persons["needs_codes"].is_null().mean() > 0.5
    assert set(episodes["admission_type"]) == {"remand", "sentenced", "recall", "transfer_in"}
    assert set(episodes["legal_status"]) == {"remand", "sentenced"}
    assert set(episodes["release_type"].drop_nulls()) <= {
        "end_of_sentence",
        "parole",
        "pardon",
        "transfer",
        "death",
        "escape",
        "other",
    }
    assert set(episodes["main_offence_category"]) <= set(OFFENCE_CATEGORIES)
    assert set(service.movements["kind"]) == {"admission", "transfer", "release"}


def test_persons_have_unique_numbers_and_valid_national_ids(service):
    persons = service.persons
    assert persons["prison_number"].is_unique().all()
    assert persons["prison_number"].str.contains(r"^CL-\d{7}$").all()
    ids = persons["national_id"].drop_nulls()
    assert ids.is_unique().all()
    assert all(rut_is_valid(rut) for rut in ids)
    nationals = persons.filter(pl.col("nationality") == "CL")
    assert nationals["national_id"].null_count() == 0
    foreigners = persons.filter(pl.col("nationality") != "CL")
    assert 0 < foreigners["national_id"].null_count() < foreigners.height


def test_ages_at_first_admission_are_adult_and_skewed_young(service):
    first = service.custody_episodes.group_by("prison_number").agg(pl.col("admission_date").min())
    ages = first.join(service.persons, on="prison_number").select(
        ((pl.col("admission_date") - pl.col("date_of_birth")).dt.total_days() / 365.25).alias("age")
    )["age"]
    assert ages.min() >= 18
    assert ages.max() <= 66
    assert ages.median() < ages.mean() < 35


def test_languages_include_indigenous_and_migrant_languages(service):
    languages = set(";".join(service.persons["languages"]).split(";"))
    assert {"es", "arn"} <= languages
    assert "ht" in languages
    assert (
        service.persons.filter(pl.col("nationality") == "CL")["languages"]
        .str.starts_with("es")
        .all()
    )


def test_person_truth_levels_are_between_zero_and_one(service):
    truth = service.person_truth
    assert truth.height == service.persons.height
    assert truth["prison_number"].sort().equals(service.persons["prison_number"].sort())
    for column in CENTRAL_EIGHT:
        assert truth[column].min() >= 0.0 and truth[column].max() <= 1.0
    levels = truth.select(CENTRAL_EIGHT).to_numpy()
    # One shared factor: the Central Eight levels are positively correlated.
    correlation = pl.DataFrame(levels).corr().to_numpy()
    assert (correlation[~(correlation == 1.0)] > 0.15).all()


# -- custody episodes -------------------------------------------------------------------


def test_episode_dates_are_ordered_and_within_the_extract(service):
    episodes = service.custody_episodes
    assert episodes["episode_key"].is_unique().all()
    assert set(episodes["prison_number"]) == set(service.persons["prison_number"])
    released = episodes.filter(pl.col("release_date").is_not_null())
    assert (released["release_date"] >= released["admission_date"]).all()
    assert (released["release_date"] <= EXTRACT_DATE).all()
    assert (episodes["admission_date"] <= EXTRACT_DATE).all()
    assert episodes.filter(
        pl.col("release_date").is_null() != pl.col("release_type").is_null()
    ).is_empty()


def test_sentence_fields_follow_legal_status(service):
    episodes = service.custody_episodes
    remand = episodes.filter(pl.col("legal_status") == "remand")
    assert remand["sentence_length_days"].null_count() == remand.height
    assert remand["sentence_date"].null_count() == remand.height
    assert remand["expected_release_date"].null_count() == remand.height
    sentenced = episodes.filter(pl.col("legal_status") == "sentenced")
    assert sentenced["sentence_length_days"].null_count() == 0
    assert (sentenced["sentence_length_days"] > 0).all()
    assert sentenced["expected_release_date"].null_count() == 0


def test_a_person_has_no_overlapping_episodes_and_at_most_one_open_one_last(service):
    ordered = service.custody_episodes.sort("prison_number", "admission_date").with_columns(
        next_admission=pl.col("admission_date").shift(-1).over("prison_number"),
        is_last=pl.col("admission_date") == pl.col("admission_date").max().over("prison_number"),
    )
    not_last = ordered.filter(~pl.col("is_last"))
    assert not_last["release_date"].null_count() == 0
    assert (not_last["release_date"] < not_last["next_admission"]).all()
    assert ordered.filter(pl.col("is_last"))["prison_number"].is_unique().all()


def test_some_people_are_in_custody_and_some_leave_within_twelve_weeks(service):
    open_episodes = service.custody_episodes.filter(pl.col("release_date").is_null())
    assert open_episodes.height > service.persons.height * 0.2
    soon = open_episodes.filter(
        pl.col("expected_release_date") <= EXTRACT_DATE + datetime.timedelta(weeks=12)
    )
    assert soon.height > 0
    assert set(open_episodes["legal_status"]) == {"remand", "sentenced"}


def test_most_admissions_start_on_remand_and_offences_look_latin_american(service):
    episodes = service.custody_episodes
    shares = episodes["admission_type"].value_counts(normalize=True)
    remand_share = shares.filter(pl.col("admission_type") == "remand")["proportion"][0]
    assert remand_share > 0.5
    offences = episodes["main_offence_category"].value_counts(normalize=True)
    top = set(offences.sort("proportion", descending=True)["main_offence_category"][:3])
    assert top <= {"robbery", "theft", "drug_trafficking", "burglary", "homicide"}
    assert "robbery" in top and "drug_trafficking" in top
    medians = (
        episodes.filter(pl.col("admission_type") != "recall")
        .group_by("main_offence_category")
        .agg(pl.col("sentence_length_days").median())
    )
    median = dict(
        zip(medians["main_offence_category"], medians["sentence_length_days"], strict=True)
    )
    assert median["drug_possession"] < 365
    assert 3 * 365 <= median["robbery"] <= 5 * 365
    assert 10 * 365 <= median["homicide"] <= 15 * 365


def test_release_types_are_mostly_end_of_sentence_or_parole(service):
    released = service.custody_episodes.filter(
        pl.col("release_type").is_not_null() & (pl.col("legal_status") == "sentenced")
    )
    shares = dict(released["release_type"].value_counts(normalize=True).iter_rows())
    assert shares["end_of_sentence"] + shares["parole"] > 0.9
    assert shares["parole"] > 0.05
    for rare in ("pardon", "death", "escape", "transfer"):
        assert shares.get(rare, 0.0) < 0.03


# -- movements ------------------------------------------------------------------------


def test_every_episode_has_one_admission_then_transfers_then_a_release_if_released(service):
    episodes, movements = service.custody_episodes, service.movements
    assert set(movements["episode_key"]) == set(episodes["episode_key"])
    numbered = movements.with_columns(position=pl.int_range(pl.len()).over("episode_key"))
    admissions = numbered.filter(pl.col("kind") == "admission")
    assert admissions["episode_key"].is_unique().all() and admissions.height == episodes.height
    assert (admissions["position"] == 0).all()
    assert admissions["from_facility"].null_count() == admissions.height
    checked = admissions.join(episodes, on="episode_key")
    assert (checked["movement_date"] == checked["admission_date"]).all()
    assert (checked["to_facility"] == checked["admission_facility"]).all()

    releases = numbered.filter(pl.col("kind") == "release").join(episodes, on="episode_key")
    assert releases.height == episodes["release_date"].is_not_null().sum()
    assert releases["to_facility"].null_count() == releases.height
    assert (releases["movement_date"] == releases["release_date"]).all()
    assert (releases["reason"] == releases["release_type"]).all()
    last_position = numbered.group_by("episode_key").agg(pl.col("position").max().alias("last"))
    assert (
        releases.join(last_position, on="episode_key")
        .filter(pl.col("position") != pl.col("last"))
        .is_empty()
    )
    assert (movements["movement_date"] <= EXTRACT_DATE).all()


def test_movements_are_in_date_order_and_facilities_chain(service):
    chained = service.movements.with_columns(
        previous_to=pl.col("to_facility").shift(1).over("episode_key"),
        previous_date=pl.col("movement_date").shift(1).over("episode_key"),
    ).filter(pl.col("kind") != "admission")
    assert (chained["movement_date"] > chained["previous_date"]).all()
    assert (chained["from_facility"] == chained["previous_to"]).all()
    transfers = chained.filter(pl.col("kind") == "transfer")
    assert transfers.height > 0
    assert (transfers["from_facility"] != transfers["to_facility"]).all()
    assert {"progression_to_semi_open", "security"} <= set(transfers["reason"])

    last_facility = (
        service.movements.filter(pl.col("kind") != "release")
        .group_by("episode_key")
        .agg(pl.col("to_facility").last())
        .join(service.custody_episodes, on="episode_key")
    )
    assert (last_facility["to_facility"] == last_facility["facility"]).all()


def test_placements_respect_sex_and_community_offices_hold_nobody(service):
    placements = (
        service.movements.filter(pl.col("to_facility").is_not_null())
        .join(service.custody_episodes.select("episode_key", "prison_number"), on="episode_key")
        .join(service.persons.select("prison_number", "sex"), on="prison_number")
        .join(
            service.facilities.select(
                pl.col("code").alias("to_facility"), "population_sex", "facility_type"
            ),
            on="to_facility",
        )
    )
    assert placements.height == service.movements["to_facility"].is_not_null().sum()
    assert (placements["facility_type"] != "community_office").all()
    assert placements.filter(
        (pl.col("sex") == "male") & (pl.col("population_sex") == "female")
    ).is_empty()
    assert placements.filter(
        (pl.col("sex") == "female") & (pl.col("population_sex") == "male")
    ).is_empty()
    admissions = placements.filter(pl.col("kind") == "admission")
    assert (admissions["facility_type"] == "closed").all()


# -- outcome events ---------------------------------------------------------------------


def test_outcome_events_come_after_a_release_and_before_the_extract(service):
    events = service.outcome_events
    assert events["event_key"].is_unique().all()
    assert (events["event_date"] <= EXTRACT_DATE).all()
    first_release = service.custody_episodes.group_by("prison_number").agg(
        pl.col("release_date").min().alias("first_release")
    )
    checked = events.join(first_release, on="prison_number")
    assert checked.height == events.height
    assert (checked["event_date"] > checked["first_release"]).all()
    with_offence = checked.filter(pl.col("offence_date").is_not_null())
    assert (with_offence["offence_date"] > with_offence["first_release"]).all()
    assert (with_offence["offence_date"] <= with_offence["event_date"]).all()
    assert set(events["event_type"]) == {
        "rearrest",
        "charge",
        "reconviction",
        "reincarceration",
        "technical_violation",
    }
    violations = events.filter(pl.col("event_type") == "technical_violation")
    assert violations["offence_date"].null_count() == violations.height
    source = dict(
        zip(
            ("rearrest", "charge", "reconviction", "reincarceration", "technical_violation"),
            ("police", "prosecution", "court", "prison_service", "probation"),
            strict=True,
        )
    )
    assert (events["source"] == events["event_type"].replace_strict(source)).all()
    assert events["reference"].str.len_chars().min() > 5


def test_offences_are_committed_while_free(service):
    """Each offence date falls in a gap between a release and the next admission."""
    episodes = service.custody_episodes.sort("prison_number", "admission_date").with_columns(
        next_admission=pl.col("admission_date").shift(-1).over("prison_number")
    )
    offences = service.outcome_events.filter(pl.col("offence_date").is_not_null()).select(
        "event_key", "prison_number", "offence_date"
    )
    free = offences.join(episodes, on="prison_number").filter(
        (pl.col("offence_date") > pl.col("release_date"))
        & (pl.col("next_admission").is_null() | (pl.col("offence_date") < pl.col("next_admission")))
    )
    assert free["event_key"].n_unique() == offences.height


def test_each_reincarceration_is_a_new_episode_admitted_that_day(service):
    episodes = service.custody_episodes
    reincarcerations = service.outcome_events.filter(pl.col("event_type") == "reincarceration")
    assert reincarcerations.height > 0
    matched = reincarcerations.join(
        episodes,
        left_on=["prison_number", "event_date"],
        right_on=["prison_number", "admission_date"],
    )
    assert matched.height == reincarcerations.height
    assert set(matched["admission_type"]) == {"sentenced", "recall"}
    assert (matched["reference"] == matched["episode_key"]).all()
    recalls = matched.filter(pl.col("admission_type") == "recall")
    assert recalls["offence_date"].null_count() == recalls.height
    # And every return to custody after a release is recorded as a reincarceration.
    returns = episodes.sort("admission_date").filter(
        pl.col("admission_date") > pl.col("admission_date").min().over("prison_number")
    )
    assert returns.height == reincarcerations.height


def test_parole_releases_can_lead_to_recall(service):
    events = service.outcome_events
    assert events.filter(pl.col("event_type") == "technical_violation").height > 0
    assert (service.custody_episodes["admission_type"] == "recall").sum() > 0


# -- calibration and risk -------------------------------------------------------------


def test_default_three_year_reconviction_from_closed_facilities_is_about_forty_percent():
    # Gendarmería de Chile (2013), 2010 release cohort: 39.5% reconvicted within 3 years
    # after release from closed facilities, 20.8% after semi-open.
    service = simulate(SimulationConfig(persons=4000, seed=21))
    closed = _closed_rate(service)
    assert closed["releases"] > 400
    assert closed["rate"] == pytest.approx(0.40, abs=0.05)
    lighter = service.ground_truth["realised"]["reconviction_rate_3y"]["semi_open_or_open"]
    assert lighter["releases"] > 80
    assert lighter["rate"] < closed["rate"] - 0.08
    calibration = service.ground_truth["hazard"]["calibration"]
    assert calibration["model_implied_rate_3y"] == pytest.approx(0.40, abs=1e-9)


def test_a_different_target_rate_is_met_too():
    service = simulate(SimulationConfig(persons=4000, seed=22, target_reconviction_rate_3y=0.25))
    assert _closed_rate(service)["rate"] == pytest.approx(0.25, abs=0.05)
    semi_open = service.ground_truth["realised"]["reconviction_rate_3y"]["semi_open"]
    assert semi_open["rate"] < _closed_rate(service)["rate"]


def test_a_fixed_hazard_scale_skips_calibration():
    low = simulate(SimulationConfig(persons=2000, seed=4, baseline_hazard_scale=0.05))
    high = simulate(SimulationConfig(persons=2000, seed=4, baseline_hazard_scale=0.5))
    assert low.ground_truth["hazard"]["calibration"]["calibrated"] is False
    assert low.ground_truth["hazard"]["baseline_hazard_scale"] == 0.05
    assert _closed_rate(low)["rate"] < _closed_rate(high)["rate"] - 0.2


def test_realised_rate_recomputes_from_the_tables(service):
    recomputed = reconviction_rate_3y(
        service.custody_episodes,
        service.outcome_events,
        service.facilities,
        extract_date=EXTRACT_DATE,
    )
    assert recomputed == _closed_rate(service)


def test_people_with_a_higher_linear_predictor_reoffend_more():
    service = simulate(SimulationConfig(persons=4000, seed=23))
    releases = (
        service.custody_episodes.filter(
            pl.col("release_type").is_in(["end_of_sentence", "parole", "pardon"])
            & (pl.col("release_date").dt.offset_by("3y") <= EXTRACT_DATE)
        )
        .join(service.person_truth.select("prison_number", "linear_predictor"), on="prison_number")
        .with_columns(end=pl.col("release_date").dt.offset_by("3y"))
    )
    reconvicted = (
        releases.join(
            service.outcome_events.filter(pl.col("event_type") == "reconviction"),
            on="prison_number",
        )
        .filter(
            (pl.col("event_date") > pl.col("release_date"))
            & (pl.col("event_date") <= pl.col("end"))
        )["episode_key"]
        .unique()
    )
    releases = releases.with_columns(reconvicted=pl.col("episode_key").is_in(reconvicted.to_list()))
    low, high = (
        releases["linear_predictor"].quantile(0.25),
        releases["linear_predictor"].quantile(0.75),
    )
    bottom = releases.filter(pl.col("linear_predictor") <= low)["reconvicted"].mean()
    top = releases.filter(pl.col("linear_predictor") >= high)["reconvicted"].mean()
    assert top > bottom + 0.2


def test_ground_truth_is_json_and_records_the_model(service):
    truth = json.loads(json.dumps(service.ground_truth))
    assert truth["seed"] == 11
    assert truth["config"] == service.config.to_dict()
    assert truth["hazard"]["baseline_hazard_scale"] > 0
    assert truth["hazard"]["weibull_shape"] == service.config.weibull_shape
    assert set(truth["hazard"]["coefficients"]) >= {"female", "criminal_history_minus_half"}
    assert truth["counts"] == {name: frame.height for name, frame in service.tables().items()}
    assert set(truth["realised"]["reconviction_rate_3y"]) >= {"closed", "semi_open"}


# -- names --------------------------------------------------------------------------------


def test_names_use_accents_and_two_surnames(service):
    persons = service.persons
    accented = persons.filter(
        (pl.col("first_names") + pl.col("last_names")).str.contains(r"[áéíóúñÁÉÍÓÚÑ]")
    )
    assert accented.height > persons.height * 0.3
    spanish = persons.filter(pl.col("nationality").is_in(SPANISH_NAME_NATIONALITIES))
    two_surnames = spanish["last_names"].str.split(" ").list.len() == 2
    assert two_surnames.mean() > 0.9
    haitian = persons.filter(pl.col("nationality") == "HT")
    assert haitian.height > 0
    assert (haitian["last_names"].str.split(" ").list.len() == 1).all()


def test_brazilian_names_follow_portuguese_custom(brazil):
    persons = brazil.persons
    assert persons["prison_number"].str.starts_with("BR-").all()
    brazilians = persons.filter(pl.col("nationality") == "BR")
    assert brazilians["languages"].str.starts_with("pt").all()
    text = " ".join(brazilians["first_names"]) + " " + " ".join(brazilians["last_names"])
    assert any(mark in text for mark in ("ã", "ç", "ô", "í"))
    assert brazilians["last_names"].str.contains(r" (da|dos|de|do) ").any()
    assert set(persons["nationality"]) <= {"BR", "PY", "BO", "VE"}


def test_identity_number_check_digits():
    assert chilean_rut(12345678) == "12.345.678-5"
    assert chilean_rut(6) == "6-K"
    assert rut_is_valid("12.345.678-5") and not rut_is_valid("12.345.678-4")
    assert brazilian_cpf(111444777) == "111.444.777-35"


# -- configuration ------------------------------------------------------------------------


def test_overrides_build_a_config_and_round_trip():
    config = SimulationConfig.from_overrides(
        {"persons": 50, "extract_date": "2025-12-31", "offence_mix_female": {"theft": 1.0}}
    )
    assert config.extract_date == datetime.date(2025, 12, 31)
    assert config.pairs("offence_mix_female") == {"theft": 1.0}
    assert SimulationConfig.from_overrides(config.to_dict()) == config


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"persns": 10}, "'persns'"),
        ({"female_share": 1.5}, "female_share"),
        ({"offence_mix_male": {"piracy": 1.0}}, "'piracy'"),
        ({"extract_date": "30/06/2026"}, "extract_date"),
        ({"persons": "many"}, "persons"),
    ],
)
def test_bad_overrides_are_rejected_with_the_key_named(overrides, message):
    with pytest.raises(ValueError, match=message):
        SimulationConfig.from_overrides(overrides)


# -- command line -------------------------------------------------------------------------


def test_cli_writes_every_table_and_a_summary(tmp_path, capsys):
    out = tmp_path / "extract"
    code = main(["simulate", "--persons", "200", "--seed", "4", "--out", str(out)])
    assert code == 0
    names = sorted(path.name for path in out.iterdir())
    tables = ["custody_episodes", "facilities", "movements", "outcome_events", "person_truth"]
    tables += ["persons", "assessments", "programmes", "programme_groups", "programme_sessions"]
    tables += ["programme_referrals", "programme_attendance", "disciplinary_faults"]
    tables += ["drug_tests", "release_arrangements", "followup_contacts"]
    expected = sorted([f"{t}.csv" for t in tables] + [f"{t}.parquet" for t in tables])
    extracts = ["extract_police.csv", "extract_court.csv", "extract_links.csv"]
    assert names == sorted([*expected, "ground_truth.json", *extracts])
    summary = capsys.readouterr().out
    assert "200 persons" in summary and "reconviction" in summary
    assert "programme referrals" in summary
    assert "follow-up contacts" in summary
    assert f"Wrote {len(names)} files" in summary
    episodes = pl.read_csv(out / "custody_episodes.csv", try_parse_dates=True)
    assert (
        episodes.height
        == json.loads((out / "ground_truth.json").read_text())["counts"]["custody_episodes"]
    )
    assert pl.read_parquet(out / "persons.parquet").height == 200


def test_cli_accepts_the_optional_flags_and_a_config_file(tmp_path, capsys):
    overrides = tmp_path / "overrides.json"
    overrides.write_text(json.dumps({"female_share": 0.5, "persons": 999}))
    code = main(
        [
            "--persons",
            "120",
            "--seed",
            "1",
            "--out",
            str(tmp_path / "out"),
            "--extract-date",
            "2025-01-31",
            "--history-years",
            "4",
            "--country",
            "BR",
            "--config",
            str(overrides),
        ]
    )
    assert code == 0
    truth = json.loads((tmp_path / "out" / "ground_truth.json").read_text())
    assert truth["config"]["persons"] == 120  # flags win over the file
    assert truth["config"]["female_share"] == 0.5
    assert truth["config"]["country"] == "BR"
    assert truth["config"]["extract_date"] == "2025-01-31"
    capsys.readouterr()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--seed", "1", "--out", "x"], "--persons"),
        (["--persons", "ten", "--seed", "1", "--out", "x"], "--persons"),
        (["--persons", "0", "--seed", "1", "--out", "x"], "positive"),
        (["--persons", "5", "--seed", "1", "--out", "x", "--extract-date", "2026-02-30"], "date"),
        (["--persons", "5", "--seed", "1", "--out", "x", "--country", "AR"], "--country"),
        (["--persons", "5", "--seed", "1", "--out", "x", "--history-years", "99"], "history"),
    ],
)
def test_cli_bad_arguments_exit_two_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "whatworks simulate: error:" in error and message in error


def test_cli_rejects_an_unknown_override_key_naming_it(tmp_path, capsys):
    overrides = tmp_path / "overrides.json"
    overrides.write_text(json.dumps({"female_share": 0.1, "reconviction_target": 0.3}))
    with pytest.raises(SystemExit) as exit_info:
        main(["--persons", "5", "--seed", "1", "--out", str(tmp_path), "--config", str(overrides)])
    assert exit_info.value.code == 2
    assert "'reconviction_target'" in capsys.readouterr().err


def test_cli_rejects_a_config_file_that_is_not_json(tmp_path, capsys):
    overrides = tmp_path / "overrides.json"
    overrides.write_text("female_share = 0.1")
    with pytest.raises(SystemExit) as exit_info:
        main(["--persons", "5", "--seed", "1", "--out", str(tmp_path), "--config", str(overrides)])
    assert exit_info.value.code == 2
    assert "not valid JSON" in capsys.readouterr().err


# -- separation and speed -----------------------------------------------------------------


def test_importing_the_simulation_does_not_import_django():
    code = (
        "import sys, whatworks.analytics.simulation, whatworks.analytics.simulation.cli; "
        "print('django' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


@pytest.mark.slow
def test_two_thousand_persons_simulate_well_under_three_seconds():
    simulate(SimulationConfig(persons=200, seed=1))  # warm caches and imports
    started = time.perf_counter()
    simulate(SimulationConfig(persons=2000, seed=1))
    assert time.perf_counter() - started < 3.0


@pytest.mark.slow
def test_twenty_thousand_persons_simulate_within_thirty_seconds(tmp_path: Path):
    started = time.perf_counter()
    service = simulate(SimulationConfig(persons=20000, seed=2))
    write_extract(service, tmp_path)
    assert time.perf_counter() - started < 30.0
    assert _closed_rate(service)["rate"] == pytest.approx(0.40, abs=0.03)

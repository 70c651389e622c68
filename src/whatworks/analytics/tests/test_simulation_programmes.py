"""Simulated programmes: catalogue, groups, referrals, attendance, selection, planted effect."""

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
from whatworks.analytics.simulation.config import CENTRAL_EIGHT, EDUCATION_LEVELS
from whatworks.analytics.simulation.programmes import (
    ADAPTATIONS,
    ATTENDANCE_STATUSES,
    END_REASONS,
    EVIDENCE_RATINGS,
    EXCUSE_REASONS,
    PROGRAMME_TYPES,
    REFERRAL_STATUSES,
    load_catalogue,
)
from whatworks.analytics.tests.test_simulation import EXPECTED_COLUMNS

EXTRACT_DATE = datetime.date(2026, 6, 30)
PROGRAMME_TABLES = (
    "programmes",
    "programme_groups",
    "programme_sessions",
    "programme_referrals",
    "programme_attendance",
    "disciplinary_faults",
)


@pytest.fixture(scope="module")
def service():
    return simulate(SimulationConfig(persons=2000, seed=13, extract_date=EXTRACT_DATE))


def _joined(service) -> pl.DataFrame:
    """Attendance with its referral, session and group."""
    return (
        service.programme_attendance.join(
            service.programme_referrals.select(
                "referral_key",
                pl.col("group_key").alias("referral_group"),
                pl.col("start_date").alias("referral_start"),
                pl.col("end_date").alias("referral_end"),
                "status",
            ).rename({"status": "referral_status"}),
            on="referral_key",
            how="left",
        )
        .join(service.programme_sessions, on="session_key", how="left")
        .rename({"status": "attendance_status"})
    )


# -- tables -------------------------------------------------------------------------------


@pytest.mark.parametrize("country", ["CL", "BR"])
def test_tables_are_present_with_the_agreed_columns(country):
    tables = simulate(SimulationConfig(persons=400, seed=2, country=country)).tables()
    for name in PROGRAMME_TABLES:
        assert dict(tables[name].schema) == EXPECTED_COLUMNS[name], name
    assert tables["programme_referrals"].height > 0
    names = tables["programmes"]["name"].to_list()
    assert ("Programa de Intervención Cognitivo-Conductual" in names) == (country == "CL")


def test_the_catalogue_covers_the_types_with_valid_codes(service):
    programmes = service.programmes
    assert programmes["code"].is_unique().all()
    assert 12 <= programmes.height <= 14
    assert set(PROGRAMME_TYPES) - set(programmes["programme_type"]) <= {"culture"}
    assert set(programmes["evidence_rating"]) <= set(EVIDENCE_RATINGS)
    assert set(programmes["setting"]) <= {"facility", "community"}
    for needs in programmes["target_needs"].drop_nulls():
        assert set(needs.split(";")) <= set(CENTRAL_EIGHT) - {"criminal_history"}
    for adaptations in programmes["adaptations"].drop_nulls():
        assert set(adaptations.split(";")) <= set(ADAPTATIONS)
    for row in programmes.iter_rows(named=True):
        assert row["dosage_hours"] == pytest.approx(row["dosage_sessions"] * row["session_hours"])
        kind = row["programme_type"]
        expected_remission = (
            "study"
            if kind.startswith("education") or kind == "vocational_trade"
            else "work"
            if kind == "prison_work"
            else "none"
        )
        assert row["remission_kind"] == expected_remission, row["code"]
    assert "true_log_hazard_ratio" not in programmes.columns


def test_referral_codes_and_enumerations_are_valid(service):
    referrals = service.programme_referrals
    assert referrals["referral_key"].is_unique().all()
    assert set(referrals["programme_code"]) <= set(service.programmes["code"])
    assert set(referrals["facility"]) <= set(service.facilities["code"])
    assert set(referrals["status"]) == set(REFERRAL_STATUSES)
    assert set(referrals["end_reason"].drop_nulls()) <= set(END_REASONS)
    assert referrals.filter(
        (pl.col("status") == "not_completed") != pl.col("end_reason").is_not_null()
    ).is_empty()
    episodes = service.custody_episodes.select("episode_key", "prison_number")
    assert referrals.join(episodes, on=["episode_key", "prison_number"], how="anti").is_empty()
    groups = service.programme_groups
    assert set(groups["facility"]) <= set(
        service.facilities.filter(pl.col("facility_type").is_in(["closed", "semi_open"]))["code"]
    )
    assert set(referrals["group_key"].drop_nulls()) == set(groups["group_key"])
    attendance = service.programme_attendance
    assert set(attendance["status"]) == set(ATTENDANCE_STATUSES)
    assert set(attendance["excuse_reason"].drop_nulls()) <= set(EXCUSE_REASONS)
    assert attendance.filter(
        (pl.col("status") == "excused") != pl.col("excuse_reason").is_not_null()
    ).is_empty()
    faults = service.disciplinary_faults
    assert faults.height > 0 and set(faults["severity"]) == {"serious"}
    assert set(faults["revoked_fraction"]) <= {"1/3", "1/4", "1/6"}
    assert faults["fault_date"].max() <= EXTRACT_DATE


def test_referrals_follow_their_life_cycle(service):
    referrals = service.programme_referrals.join(
        service.custody_episodes.select("episode_key", "admission_date", "release_date"),
        on="episode_key",
    )
    assert referrals.filter(
        (pl.col("referral_date") < pl.col("admission_date"))
        | (pl.col("referral_date") > EXTRACT_DATE)
        | (pl.col("status_date") < pl.col("referral_date"))
        | (pl.col("status_date") > EXTRACT_DATE)
    ).is_empty()
    started = pl.col("start_date").is_not_null()
    ended = pl.col("end_date").is_not_null()
    by_status = {
        "waitlisted": ~started & ~ended & pl.col("group_key").is_null(),
        "allocated": ~started & pl.col("group_key").is_not_null(),
        "in_progress": started & ~ended,
        "completed": started & ended,
        "not_suitable": ~started & pl.col("group_key").is_null(),
    }
    for status, holds in by_status.items():
        rows = referrals.filter(pl.col("status") == status)
        assert rows.height > 0, status
        assert rows.filter(~holds).is_empty(), status
    # Open referrals belong to people still in custody on the extract date.
    open_ones = referrals.filter(pl.col("status").is_in(["waitlisted", "allocated", "in_progress"]))
    assert open_ones["release_date"].null_count() == open_ones.height
    # Completion comes before release.
    done = referrals.filter(pl.col("status") == "completed")
    assert done.filter(pl.col("end_date") >= pl.col("release_date")).is_empty()


def test_waitlisted_and_in_progress_referrals_exist_at_the_extract_date(service):
    statuses = service.programme_referrals["status"].value_counts()
    counts = dict(statuses.iter_rows())
    assert counts["waitlisted"] >= 20
    assert counts["in_progress"] >= 20


# -- groups, sessions, attendance ---------------------------------------------------------


def test_no_session_after_the_extract_date_and_sessions_fall_in_their_group(service):
    sessions = service.programme_sessions.join(service.programme_groups, on="group_key")
    assert sessions["session_key"].is_unique().all()
    assert sessions["session_date"].max() <= EXTRACT_DATE
    assert sessions.filter(
        (pl.col("session_date") < pl.col("start_date"))
        | (pl.col("session_date") > pl.col("end_date"))
    ).is_empty()
    assert set(sessions["start_time"]) <= {"09:00", "14:00"}
    assert service.programme_groups["start_date"].min() >= datetime.date(2021, 6, 30)


def test_no_group_holds_more_people_than_its_capacity(service):
    sizes = (
        service.programme_referrals.filter(pl.col("group_key").is_not_null())
        .group_by("group_key")
        .len()
        .join(service.programme_groups, on="group_key")
    )
    assert sizes.filter(pl.col("len") > pl.col("capacity")).is_empty()
    assert (sizes["len"] == sizes["capacity"]).any()  # some groups are full


def test_attendance_is_for_sessions_of_the_referrals_group_within_its_dates(service):
    joined = _joined(service)
    assert joined["session_date"].null_count() == 0
    assert (joined["group_key"] == joined["referral_group"]).all()
    assert joined.filter(
        (pl.col("session_date") < pl.col("referral_start"))
        | (pl.col("referral_end").is_not_null() & (pl.col("session_date") > pl.col("referral_end")))
    ).is_empty()
    assert joined.select(["referral_key", "session_key"]).is_unique().all()
    hours = joined.filter(pl.col("attendance_status") == "attended")
    assert (hours["hours"] == hours["hours_right"]).all()
    late = joined.filter(pl.col("attendance_status") == "late")
    assert ((late["hours"] > 0) & (late["hours"] < late["hours_right"])).all()
    absent = joined.filter(pl.col("attendance_status").is_in(["excused", "unexcused"]))
    assert (absent["hours"] == 0).all()


def test_completion_needs_eighty_percent_attendance_of_every_session(service):
    per_referral = (
        service.programme_attendance.group_by("referral_key")
        .agg(
            sessions=pl.len(),
            present=pl.col("status").is_in(["attended", "late"]).sum(),
        )
        .join(service.programme_referrals, on="referral_key")
        .join(
            service.programmes.select(pl.col("code").alias("programme_code"), "dosage_sessions"),
            on="programme_code",
        )
    )
    completed = per_referral.filter(pl.col("status") == "completed")
    assert completed.height > 100
    assert (completed["sessions"] == completed["dosage_sessions"]).all()
    assert (completed["present"] >= 0.8 * completed["dosage_sessions"]).all()
    removed = per_referral.filter(pl.col("end_reason") == "removed_staff")
    assert removed.height > 0
    # Whoever was still in the group at its end and attended 80% completed it.
    finished = per_referral.filter(
        (pl.col("sessions") == pl.col("dosage_sessions"))
        & (pl.col("present") >= 0.8 * pl.col("dosage_sessions"))
    )
    assert set(finished["status"]) <= {"completed", "not_completed"}
    assert (
        finished.filter(pl.col("status") == "not_completed")["end_reason"]
        .is_in(["released", "transferred"])
        .all()
    )


def test_the_demo_size_stays_within_the_attendance_budget(service):
    assert 20_000 < service.programme_attendance.height < 100_000


# -- persons ------------------------------------------------------------------------------


def test_education_level_follows_literacy(service):
    persons = service.persons
    assert set(persons["education_level"]) == set(EDUCATION_LEVELS)
    illiterate = persons.filter(pl.col("literacy") == "illiterate")["education_level"]
    assert set(illiterate) <= {"none", "primary_incomplete", "not_recorded"}
    shares = persons["education_level"].value_counts(normalize=True)
    shares = dict(shares.iter_rows())
    without_secondary = sum(
        shares.get(level, 0.0)
        for level in ("none", "primary_incomplete", "primary", "secondary_incomplete")
    )
    assert without_secondary > 0.6
    assert 0.03 < shares["not_recorded"] < 0.1


# -- determinism and independence ---------------------------------------------------------


def test_same_config_gives_byte_identical_programme_files(tmp_path):
    config = SimulationConfig(persons=500, seed=8)
    first, second = simulate(config), simulate(config)
    write_extract(first, tmp_path / "a")
    write_extract(second, tmp_path / "b")
    for name in PROGRAMME_TABLES:
        for suffix in ("csv", "parquet"):
            path = f"{name}.{suffix}"
            assert (tmp_path / "a" / path).read_bytes() == (tmp_path / "b" / path).read_bytes()
    assert (tmp_path / "a" / "ground_truth.json").read_bytes() == (
        tmp_path / "b" / "ground_truth.json"
    ).read_bytes()


# SHA-256 prefixes of the CSV text of the seven earlier tables, recorded with the code
# before programmes existed (model_version 2), without the columns added since
# (persons.education_level, person_truth.prior_custodial_episodes and .motivation).
MODEL_VERSION_2_HASHES = {
    (600, 3, "CL"): {
        "facilities": "7d82b8a416a6e1af",
        "persons": "6078563a49ef91a7",
        "custody_episodes": "822a1ab521463cd5",
        "movements": "4538ecea1f95a77e",
        "outcome_events": "758139f62245b73b",
        "person_truth": "2992987c01ae2978",
        "assessments": "6c2ae497d2c1a4ea",
    },
    (300, 5, "BR"): {
        "facilities": "02fd5224f81f9473",
        "persons": "8c9458de64913fd9",
        "custody_episodes": "54be383b8464e41c",
        "movements": "eb688b3262b3c44d",
        "outcome_events": "12aa658db1883822",
        "person_truth": "272af18a3d5e089c",
        "assessments": "318b03428cfedaf4",
    },
}
ADDED_COLUMNS = {
    "persons": ["education_level"],
    "person_truth": ["prior_custodial_episodes", "motivation"],
}


@pytest.mark.parametrize(("persons", "seed", "country"), list(MODEL_VERSION_2_HASHES))
def test_programmes_disabled_reproduces_the_previous_model_exactly(persons, seed, country):
    service = simulate(
        SimulationConfig(
            persons=persons,
            seed=seed,
            country=country,
            programmes_enabled=False,
            reintegration_enabled=False,
        )
    )
    for name, expected in MODEL_VERSION_2_HASHES[(persons, seed, country)].items():
        frame = service.tables()[name].drop(ADDED_COLUMNS.get(name, []))
        buffer = io.BytesIO()
        frame.write_csv(buffer)
        assert hashlib.sha256(buffer.getvalue()).hexdigest()[:16] == expected, name
    for name in PROGRAMME_TABLES[1:]:
        assert service.tables()[name].is_empty(), name
    assert service.programmes.height > 0  # the catalogue is still there


def test_programmes_change_only_what_they_cause():
    on = simulate(SimulationConfig(persons=800, seed=4))
    off = simulate(SimulationConfig(persons=800, seed=4, programmes_enabled=False))
    assert on.persons.equals(off.persons)
    assert on.person_truth.equals(off.person_truth)
    assert not on.outcome_events.equals(off.outcome_events)


# -- ground truth and selection -----------------------------------------------------------


def test_ground_truth_holds_the_planted_effects(service):
    truth = json.loads(json.dumps(service.ground_truth))["programmes"]
    effects = truth["effects"]
    catalogue = {programme.code: programme for programme in load_catalogue("CL")}
    assert set(effects) == set(catalogue) == set(service.programmes["code"])
    for code, effect in effects.items():
        assert effect["log_hazard_ratio"] == catalogue[code].true_log_hazard_ratio
        assert effect["hazard_ratio"] == pytest.approx(math.exp(effect["log_hazard_ratio"]))
    values = [effect["log_hazard_ratio"] for effect in effects.values()]
    assert sum(value == 0 for value in values) >= 2
    assert any(value > 0 for value in values)
    assert effects["CBT-RR"]["log_hazard_ratio"] == -0.25
    assert truth["motivation"]["rho"] < 0
    assert truth["motivation"]["realised_correlation_with_risk"] < -0.2
    counts = truth["counts"]
    referrals = service.programme_referrals
    assert sum(count["referrals"] for count in counts.values()) == referrals.height
    assert sum(count["completions"] for count in counts.values()) == int(
        (referrals["status"] == "completed").sum()
    )
    naive = truth["naive_reconviction_rate_3y"]
    assert naive["nonparticipant_rate"] > 0
    assert set(naive["by_programme"]) == set(effects)
    assert set(naive["by_programme_type"]) == set(service.programmes["programme_type"])


def test_completers_have_lower_risk_and_higher_motivation_than_non_participants(service):
    truth = service.person_truth.select("prison_number", "linear_predictor", "motivation")
    referrals = service.programme_referrals
    started = referrals.filter(pl.col("start_date").is_not_null())["episode_key"]
    completed = referrals.filter(pl.col("status") == "completed")["episode_key"]
    episodes = service.custody_episodes.join(truth, on="prison_number")
    completers = episodes.filter(pl.col("episode_key").is_in(completed.implode()))
    others = episodes.filter(~pl.col("episode_key").is_in(started.implode()))
    assert completers["linear_predictor"].mean() < others["linear_predictor"].mean() - 0.05
    assert completers["motivation"].mean() > others["motivation"].mean() + 0.3


def test_a_completed_programme_is_not_taken_again(service):
    done = service.programme_referrals.filter(pl.col("status") == "completed")
    assert done.select("prison_number", "programme_code").is_unique().all()


# -- the planted effect is recoverable ----------------------------------------------------


def release_frame(service, programme_code: str) -> pl.DataFrame:
    """One row per release followed up (nationals; deportations are not in the tables).

    Time from release to the first offence that led to a rearrest, censored at the next
    admission or 180 days before the extract date (so that arrests are seen); ``lp`` is the
    true linear predictor of the release without programme terms (docs/simulator.md §5),
    ``other_programmes`` the planted log hazard ratios of the other programmes completed
    in the episode, and ``completed`` the indicator for ``programme_code``.
    """
    config = service.config
    cut = config.extract_date - datetime.timedelta(days=180)
    releases = (
        service.custody_episodes.filter(
            pl.col("release_type").is_in(["end_of_sentence", "parole", "pardon", "other"])
            & (pl.col("release_date") < cut)
        )
        .with_columns(sequence=pl.col("episode_key").str.slice(-2).cast(pl.Int64))
        .join(service.person_truth, on="prison_number")
        .join(
            service.persons.select("prison_number", "date_of_birth", "nationality"),
            on="prison_number",
        )
        .filter(pl.col("nationality") == config.country)
        .with_columns(
            age=(pl.col("release_date") - pl.col("date_of_birth")).dt.total_days() / 365.25
        )
        .with_columns(
            lp=pl.col("linear_predictor")
            + config.coefficient_age_per_year * (pl.col("age") - config.age_reference_years)
            + config.coefficient_log_prior_episodes
            * (pl.col("prior_custodial_episodes") + pl.col("sequence") - 1).log1p()
        )
    )
    admissions = service.custody_episodes.select(
        "prison_number", pl.col("admission_date").alias("next_admission")
    )
    next_admission = (
        releases.select("episode_key", "prison_number", "release_date")
        .join(admissions, on="prison_number")
        .filter(pl.col("next_admission") > pl.col("release_date"))
        .group_by("episode_key")
        .agg(pl.col("next_admission").min())
    )
    offences = service.outcome_events.filter(pl.col("event_type") == "rearrest").select(
        "prison_number", "offence_date"
    )
    first_offence = (
        releases.select("episode_key", "prison_number", "release_date")
        .join(offences, on="prison_number")
        .filter(pl.col("offence_date") > pl.col("release_date"))
        .group_by("episode_key")
        .agg(pl.col("offence_date").min().alias("first_offence"))
    )
    effects = {
        code: value["log_hazard_ratio"]
        for code, value in service.ground_truth["programmes"]["effects"].items()
    }
    completed = service.programme_referrals.filter(pl.col("status") == "completed").with_columns(
        effect=pl.col("programme_code").replace_strict(effects, return_dtype=pl.Float64)
    )
    others = (
        completed.filter(pl.col("programme_code") != programme_code)
        .group_by("episode_key")
        .agg(other_programmes=pl.col("effect").sum())
    )
    mine = completed.filter(pl.col("programme_code") == programme_code).select(
        "episode_key", completed=pl.lit(1.0)
    )
    frame = (
        releases.join(next_admission, on="episode_key", how="left")
        .join(first_offence, on="episode_key", how="left")
        .join(others, on="episode_key", how="left")
        .join(mine, on="episode_key", how="left")
        .with_columns(
            pl.col("other_programmes").fill_null(0.0),
            pl.col("completed").fill_null(0.0),
            end=pl.min_horizontal(pl.col("next_admission").fill_null(cut), pl.lit(cut)),
        )
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
        "completed",
        "lp",
        "other_programmes",
        "motivation",
    )


def _cox(frame: pl.DataFrame, covariates: list[str]) -> tuple[float, float, float]:
    import pandas as pd
    from lifelines import CoxPHFitter

    data = pd.DataFrame({name: frame[name].to_numpy() for name in ["years", "event", *covariates]})
    fitted = CoxPHFitter().fit(data, duration_col="years", event_col="event")
    row = fitted.summary.loc["completed"]
    return float(row["coef"]), float(row["coef lower 95%"]), float(row["coef upper 95%"])


@pytest.mark.slow
def test_cox_with_the_true_risk_recovers_the_planted_cbt_effect_and_the_naive_one_does_not():
    service = simulate(SimulationConfig(persons=20000, seed=2))
    frame = release_frame(service, "CBT-RR")
    planted = service.ground_truth["programmes"]["effects"]["CBT-RR"]["log_hazard_ratio"]
    assert frame["completed"].sum() > 250
    naive, _, naive_upper = _cox(frame, ["completed"])
    adjusted, lower, upper = _cox(frame, ["completed", "lp"])
    both, both_lower, both_upper = _cox(frame, ["completed", "lp", "other_programmes"])
    assert lower <= planted <= upper
    assert both_lower <= planted <= both_upper
    # Selection on risk and motivation makes the unadjusted comparison look better.
    assert naive_upper < planted
    assert naive < adjusted - 0.1
    # Motivation is not a confounder: it does not enter the hazard.
    with_motivation, _, _ = _cox(frame, ["completed", "lp", "other_programmes", "motivation"])
    assert with_motivation == pytest.approx(both, abs=0.05)
    assert np.isfinite([naive, adjusted, both]).all()


def test_people_who_start_a_programme_meet_its_sex_literacy_and_education_rules(service):
    started = (
        service.programme_referrals.filter(pl.col("start_date").is_not_null())
        .join(service.persons, on="prison_number")
        .join(service.programmes, left_on="programme_code", right_on="code")
    )
    assert set(started.filter(pl.col("programme_code") == "FAM-MAD")["sex"]) == {"female"}
    assert set(started.filter(pl.col("programme_code") == "VIO-PRE")["sex"]) == {"male"}
    secondary = started.filter(pl.col("programme_code") == "EDU-MED")
    assert not secondary["education_level"].is_in(["none", "primary_incomplete", "tertiary"]).any()
    assert set(secondary["literacy"]) <= {"literate", "not_recorded"}
    literacy = started.filter(pl.col("programme_type") == "education_literacy")
    assert "literate" not in set(literacy["literacy"])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"programmes_enabled": "yes"}, "programmes_enabled"),
        ({"motivation_risk_correlation": -1.0}, "motivation_risk_correlation"),
        ({"programme_completion_attendance_share": 1.5}, "programme_completion_attendance_share"),
        ({"risk_band_low_upper_quantile": 0.8}, "risk band"),
        ({"programme_cycle_gap_days": 3.5}, "programme_cycle_gap_days"),
        ({"education_mix": {"none": 1.0, "doctorate": 0.1}}, "education_mix"),
        ({"programme_dropout_rate": -0.1}, "programme_dropout_rate"),
    ],
)
def test_bad_programme_settings_are_rejected_with_the_key_named(overrides, message):
    with pytest.raises(ValueError, match=message):
        SimulationConfig.from_overrides(overrides)


def test_programme_settings_round_trip_through_overrides():
    config = SimulationConfig.from_overrides(
        {
            "programmes_enabled": False,
            "education_mix": {"primary": 1.0},
            "programme_cycle_gap_days": 7,
        }
    )
    assert SimulationConfig.from_overrides(config.to_dict()) == config

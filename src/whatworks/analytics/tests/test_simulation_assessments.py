"""Simulated assessments: determinism, engine-valid answers, dates, reassessment rules, AUC."""

from __future__ import annotations

import datetime
import json
import time

import numpy as np
import polars as pl
import pytest

from whatworks.analytics.instruments import load_instrument, next_reassessment_date, score
from whatworks.analytics.simulation import SimulationConfig, simulate, write_extract
from whatworks.analytics.simulation.assessments import auc, rnr_totals
from whatworks.analytics.simulation.model import release_reconvicted_3y

EXTRACT_DATE = datetime.date(2026, 6, 30)
INSTRUMENTS = {slug: load_instrument(slug) for slug in ("rnr-screener", "k6", "audit")}


@pytest.fixture(scope="module")
def service():
    return simulate(SimulationConfig(persons=1500, seed=21, extract_date=EXTRACT_DATE))


def _with_episodes(service) -> pl.DataFrame:
    return service.assessments.join(
        service.custody_episodes, on=["episode_key", "prison_number"], how="left"
    )


def test_same_seed_gives_identical_assessments_and_files(tmp_path):
    config = SimulationConfig(persons=300, seed=5)
    first, second = simulate(config), simulate(config)
    assert first.assessments.equals(second.assessments)
    write_extract(first, tmp_path / "a")
    write_extract(second, tmp_path / "b")
    for suffix in ("csv", "parquet"):
        name = f"assessments.{suffix}"
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    other = simulate(SimulationConfig(persons=300, seed=6))
    assert not other.assessments.equals(first.assessments)


@pytest.mark.parametrize("seed", [3, 17])
def test_the_other_tables_do_not_depend_on_the_assessments(seed, tmp_path):
    with_assessments = simulate(SimulationConfig(persons=400, seed=seed))
    without = simulate(SimulationConfig(persons=400, seed=seed, assessments_enabled=False))
    assert without.assessments.height == 0
    assert list(without.assessments.schema) == list(with_assessments.assessments.schema)
    for name, frame in without.tables().items():
        if name != "assessments":
            assert frame.equals(with_assessments.tables()[name]), name
    realised = with_assessments.ground_truth["realised"]
    assert realised == without.ground_truth["realised"]
    assert (
        with_assessments.ground_truth["hazard"]["baseline_hazard_scale"]
        == without.ground_truth["hazard"]["baseline_hazard_scale"]
    )
    # Changing only the assessment settings leaves the other tables alone too.
    noisy = simulate(
        SimulationConfig(
            persons=400, seed=seed, assessment_noise_sd=2.0, health_screening_share=0.2
        )
    )
    for name, frame in without.tables().items():
        if name != "assessments":
            assert frame.equals(noisy.tables()[name]), name


def test_keys_are_unique_and_columns_are_as_agreed(service):
    table = service.assessments
    assert table.columns == [
        "assessment_key",
        "prison_number",
        "episode_key",
        "instrument",
        "version",
        "assessed_on",
        "answers",
    ]
    assert table["assessment_key"].n_unique() == table.height
    assert table.null_count().sum_horizontal().item() == 0
    versions = dict(table.select("instrument", "version").unique().iter_rows())
    assert versions == {slug: instrument.version for slug, instrument in INSTRUMENTS.items()}


def test_every_answer_set_scores_completely_with_the_engine(service):
    totals = {}
    for row in service.assessments.iter_rows(named=True):
        answers = json.loads(row["answers"])
        assert isinstance(answers, dict)
        result = score(INSTRUMENTS[row["instrument"]], answers, require_complete=True)
        assert result.complete and result.band is not None
        totals[row["assessment_key"]] = result.total
    # The vectorised totals used for the AUC agree with the engine.
    rnr = service.assessments.filter(pl.col("instrument") == "rnr-screener")
    vectorised = rnr_totals(INSTRUMENTS["rnr-screener"], rnr["answers"])
    expected = [totals[key] for key in rnr["assessment_key"]]
    assert np.array_equal(vectorised, np.array(expected, dtype=float))


def test_each_episode_has_one_intake_screen_and_a_share_have_k6_and_audit(service):
    table = service.assessments
    episodes = service.custody_episodes
    rnr = (
        _with_episodes(service)
        .filter(pl.col("instrument") == "rnr-screener")
        .group_by("episode_key")
        .agg(pl.col("assessed_on").min(), pl.col("admission_date").first())
    )
    # The service adopts the instruments when its history window opens: every episode still
    # running then gets one intake screen, within 30 days of admission or of that date.
    config = service.config
    go_live = config.extract_date.replace(year=config.extract_date.year - config.history_years)
    running = episodes.filter(
        pl.col("release_date").is_null() | (pl.col("release_date") >= go_live)
    )
    assert rnr.height == running.height
    start = pl.max_horizontal(pl.col("admission_date"), pl.lit(go_live))
    assert rnr.select((pl.col("assessed_on") <= start.dt.offset_by("30d")).all()).item()
    assert rnr.select((pl.col("assessed_on") >= go_live).all()).item()
    k6 = table.filter(pl.col("instrument") == "k6")
    audit = table.filter(pl.col("instrument") == "audit")
    assert k6["episode_key"].n_unique() == k6.height
    assert k6["episode_key"].sort().equals(audit["episode_key"].sort())
    assert 0.65 < k6.height / running.height < 0.75
    # K6 and AUDIT are taken on the day of the intake screen.
    first = table.group_by("episode_key").agg(pl.col("assessed_on").min().alias("first"))
    health = pl.concat([k6, audit]).join(first, on="episode_key")
    assert (health["assessed_on"] == health["first"]).all()


def test_assessments_fall_within_their_episode_and_the_extract(service):
    joined = _with_episodes(service)
    assert joined["admission_date"].null_count() == 0
    assert (joined["assessed_on"] >= joined["admission_date"]).all()
    end = pl.coalesce(pl.col("release_date"), pl.lit(EXTRACT_DATE))
    assert joined.filter(pl.col("assessed_on") > end).height == 0
    assert joined["assessed_on"].max() <= EXTRACT_DATE


def _expected_release(row: dict) -> datetime.date | None:
    sentence = row["sentence_date"]
    if sentence is None or sentence > row["assessed_on"]:
        return None
    return row["expected_release_date"]


def test_reassessments_follow_the_instrument_rules(service):
    rnr_instrument = INSTRUMENTS["rnr-screener"]
    rnr = _with_episodes(service).filter(pl.col("instrument") == "rnr-screener")
    rnr = rnr.sort("episode_key", "assessed_on")
    reassessed = 0
    for _, group in rnr.group_by("episode_key", maintain_order=True):
        rows = list(group.iter_rows(named=True))
        end = rows[0]["release_date"] or EXTRACT_DATE
        for index, row in enumerate(rows):
            band = score(rnr_instrument, json.loads(row["answers"])).band
            due = next_reassessment_date(
                rnr_instrument, band, row["assessed_on"], _expected_release(row)
            )
            if index + 1 < len(rows):
                assert due is not None and rows[index + 1]["assessed_on"] == due
                reassessed += 1
            else:
                assert due is None or due > end
    assert reassessed > 100


def test_the_screener_is_spread_over_the_bands(service):
    rnr = service.assessments.filter(pl.col("instrument") == "rnr-screener")
    totals = rnr_totals(INSTRUMENTS["rnr-screener"], rnr["answers"])
    for band in INSTRUMENTS["rnr-screener"].bands:
        share = ((totals >= band.min) & (totals <= band.max)).mean()
        assert 0.05 < share < 0.6, band.code


def test_serious_distress_is_commoner_with_a_mental_health_need(service):
    k6 = service.assessments.filter(pl.col("instrument") == "k6").join(
        service.persons.select("prison_number", "needs_codes"), on="prison_number"
    )
    totals = np.array(
        [score(INSTRUMENTS["k6"], json.loads(a)).total for a in k6["answers"]], dtype=float
    )
    needs = k6["needs_codes"].fill_null("").str.contains("mental_health").to_numpy()
    with_need = (totals[needs] >= 13).mean()
    without = (totals[~needs] >= 13).mean()
    assert with_need > without + 0.2
    assert 0.1 < without < 0.35


def test_audit_follows_the_latent_substance_level(service):
    audit = service.assessments.filter(pl.col("instrument") == "audit").join(
        service.person_truth.select("prison_number", "substance_abuse"), on="prison_number"
    )
    totals = np.array(
        [score(INSTRUMENTS["audit"], json.loads(a)).total for a in audit["answers"]], dtype=float
    )
    level = audit["substance_abuse"].to_numpy()
    assert np.corrcoef(level, totals)[0, 1] > 0.3


def test_responsivity_items_come_from_the_person_record(service):
    rnr = service.assessments.filter(pl.col("instrument") == "rnr-screener").join(
        service.persons.select("prison_number", "literacy", "languages"), on="prison_number"
    )
    decoded = rnr["answers"].str.json_decode().struct.unnest()
    literacy = rnr["literacy"].to_numpy()
    codes = decoded["resp_literacy"].to_numpy()
    assert (codes[literacy == "literate"] == 0).all()
    assert (codes[literacy == "illiterate"] == 2).all()
    first = rnr["languages"].str.split(";").list.first()
    assert decoded["resp_first_language"].equals(first, check_names=False)


def test_auc_rank_formula():
    assert auc(np.array([1, 2, 3, 4]), np.array([0, 0, 1, 1])) == 1.0
    assert auc(np.array([4, 3, 2, 1]), np.array([0, 0, 1, 1])) == 0.0
    assert auc(np.array([1, 1, 1, 1]), np.array([0, 1, 0, 1])) == 0.5
    # One tie across the classes counts a half.
    assert auc(np.array([1, 2, 2, 3]), np.array([0, 0, 1, 1])) == pytest.approx(0.875)
    assert auc(np.array([1, 2]), np.array([1, 1])) is None


def test_bad_assessment_settings_are_rejected():
    with pytest.raises(ValueError, match="health_screening_share"):
        SimulationConfig(health_screening_share=1.5)
    with pytest.raises(ValueError, match="assessment_noise_sd"):
        SimulationConfig(assessment_noise_sd=-0.1)
    with pytest.raises(ValueError, match="assessments_enabled"):
        SimulationConfig.from_overrides({"assessments_enabled": "yes"})
    config = SimulationConfig.from_overrides({"assessments_enabled": False})
    assert config.assessments_enabled is False
    assert SimulationConfig.from_overrides(config.to_dict()) == config


def test_ground_truth_records_the_auc_and_the_mapping(service):
    truth = service.ground_truth["assessments"]
    json.dumps(truth)
    assert truth["enabled"] is True
    assert "rnr_item_thresholds" in truth["mapping"]
    realised = truth["rnr_auc_reconviction_3y_closed"]
    releases = release_reconvicted_3y(
        service.custody_episodes,
        service.outcome_events,
        service.facilities,
        extract_date=EXTRACT_DATE,
    )
    assert realised["releases"] == releases.height
    assert 0.6 < realised["intake_auc"] < 0.8


@pytest.mark.parametrize("seed", [1, 2])
def test_intake_screener_predicts_reconviction_like_a_real_instrument(seed):
    service = simulate(SimulationConfig(persons=4000, seed=seed))
    realised = service.ground_truth["assessments"]["rnr_auc_reconviction_3y_closed"]
    assert realised["releases"] > 400
    assert 0.65 <= realised["intake_auc"] <= 0.75


@pytest.mark.slow
def test_assessments_add_well_under_a_second_for_two_thousand_persons():
    simulate(SimulationConfig(persons=200, seed=1))  # warm caches and imports
    started = time.perf_counter()
    simulate(SimulationConfig(persons=2000, seed=1, assessments_enabled=False))
    without = time.perf_counter() - started
    started = time.perf_counter()
    simulate(SimulationConfig(persons=2000, seed=1))
    assert time.perf_counter() - started - without < 1.0

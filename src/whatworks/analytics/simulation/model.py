"""The generative model of the synthetic prison system (see docs/simulator.md).

All dates are handled as integer days since 1970-01-01 until the tables are built. Every
random draw comes from numpy Generators spawned from one ``SeedSequence(config.seed)``, one
stream per stage, so the same config gives the same output.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from typing import Any

import numpy as np
import polars as pl

from whatworks.analytics.simulation import assessments as assessment_model
from whatworks.analytics.simulation import drugtests as drug_test_model
from whatworks.analytics.simulation import programmes as programme_model
from whatworks.analytics.simulation import reintegration as reintegration_model
from whatworks.analytics.simulation.config import (
    CENTRAL_EIGHT,
    EDUCATION_LEVELS,
    NEEDS_CODES,
    OFFENCE_CATEGORIES,
    SimulationConfig,
)
from whatworks.analytics.simulation.country import (
    LANGUAGES_BY_NATIONALITY,
    PROFILES,
    SECOND_LANGUAGE_IN_BRAZIL,
    CountryProfile,
)
from whatworks.analytics.simulation.names import (
    CULTURE_OF_NATIONALITY,
    brazilian_cpf,
    chilean_rut,
    person_names,
    unique_numbers,
)

EPOCH = datetime.date(1970, 1, 1)
NEVER = np.int64(10**9)  # a day number later than any real date
DAYS_PER_YEAR = 365.25

ADMISSION_TYPES = ("remand", "sentenced", "recall", "transfer_in")
REMAND, SENTENCED, RECALL, TRANSFER_IN = range(4)
RELEASE_TYPES = ("end_of_sentence", "parole", "pardon", "transfer", "death", "escape", "other")
END_OF_SENTENCE, PAROLE, PARDON, TRANSFER, DEATH, ESCAPE, OTHER = range(7)
# Releases after which the person is back in the community and followed up.
FOLLOWED_UP_RELEASES = (END_OF_SENTENCE, PAROLE, PARDON, OTHER)
# Releases counted in the reconviction rate (sentenced people leaving custody), as in
# Gendarmería de Chile's 2010 release cohort.
COUNTED_RELEASE_TYPES = ("end_of_sentence", "parole", "pardon")

EVENT_TYPES = ("rearrest", "charge", "reconviction", "reincarceration", "technical_violation")
REARREST, CHARGE, RECONVICTION, REINCARCERATION, TECHNICAL_VIOLATION = range(5)
EVENT_SOURCES = ("police", "prosecution", "court", "prison_service", "probation")

TRANSFER_REASONS = ("security", "overcrowding", "court", "family_proximity", "health")
TRANSFER_REASON_WEIGHTS = np.array([0.35, 0.30, 0.15, 0.10, 0.10])
MAX_LATERAL_TRANSFERS = 3
# Movement slots per episode: admission, lateral transfers, semi-open, open, release.
SLOT_ADMISSION = 0
SLOT_SEMI_OPEN = 1 + MAX_LATERAL_TRANSFERS
SLOT_OPEN = SLOT_SEMI_OPEN + 1
SLOT_RELEASE = SLOT_OPEN + 1
SLOTS = SLOT_RELEASE + 1

HIGH_SECURITY_OFFENCES = ("homicide", "firearms", "sexual_offence", "drug_trafficking")
SECURITY_LEVELS = ("maximum", "high", "medium", "low", "minimum")


@dataclasses.dataclass(frozen=True)
class SimulatedService:
    """The tables of a simulated prison service and the truth that generated them."""

    config: SimulationConfig
    facilities: pl.DataFrame
    persons: pl.DataFrame
    custody_episodes: pl.DataFrame
    movements: pl.DataFrame
    outcome_events: pl.DataFrame
    person_truth: pl.DataFrame
    assessments: pl.DataFrame
    programmes: pl.DataFrame
    programme_groups: pl.DataFrame
    programme_sessions: pl.DataFrame
    programme_referrals: pl.DataFrame
    programme_attendance: pl.DataFrame
    disciplinary_faults: pl.DataFrame
    drug_tests: pl.DataFrame
    release_arrangements: pl.DataFrame
    followup_contacts: pl.DataFrame
    ground_truth: dict[str, Any]

    def tables(self) -> dict[str, pl.DataFrame]:
        """The sixteen tables by name, in a stable order."""
        return {
            "facilities": self.facilities,
            "persons": self.persons,
            "custody_episodes": self.custody_episodes,
            "movements": self.movements,
            "outcome_events": self.outcome_events,
            "person_truth": self.person_truth,
            "assessments": self.assessments,
            "programmes": self.programmes,
            "programme_groups": self.programme_groups,
            "programme_sessions": self.programme_sessions,
            "programme_referrals": self.programme_referrals,
            "programme_attendance": self.programme_attendance,
            "disciplinary_faults": self.disciplinary_faults,
            "drug_tests": self.drug_tests,
            "release_arrangements": self.release_arrangements,
            "followup_contacts": self.followup_contacts,
        }


def simulate(config: SimulationConfig) -> SimulatedService:
    """Simulate a prison service for ``config.history_years`` before ``config.extract_date``.

    The post-release hazard of reoffending for a release with linear predictor ``lp`` is

        h(t) = scale * shape * t ** (shape - 1) * exp(lp),   t in years since release,

    and ``scale`` is calibrated (unless ``config.baseline_hazard_scale`` is set) so that the
    model-implied 3-year reconviction probability, averaged over the first-generation
    releases from closed facilities with full follow-up, equals
    ``config.target_reconviction_rate_3y``.
    """
    return _Simulation(config).run()


# ---------------------------------------------------------------------------------------


def _days(value: datetime.date) -> int:
    return (value - EPOCH).days


def _add_years(value: datetime.date, years: int) -> datetime.date:
    """Same day and month ``years`` later; 29 February becomes 28 February."""
    try:
        return value.replace(year=value.year + years)
    except ValueError:
        return value.replace(year=value.year + years, day=28)


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    """Standard normal CDF (Abramowitz & Stegun 7.1.26 erf, absolute error < 1.5e-7)."""
    z = np.abs(x) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erf = 1.0 - poly * np.exp(-z * z)
    return 0.5 * (1.0 + np.sign(x) * erf)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _choose(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One column index per row of a non-negative weight matrix (rows must not be all zero)."""
    cumulative = np.cumsum(weights, axis=1)
    target = rng.random(weights.shape[0]) * cumulative[:, -1]
    index = (cumulative <= target[:, None]).sum(axis=1)
    return np.minimum(index, weights.shape[1] - 1)


def _choose_from(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    """``size`` draws of an index with probability proportional to ``weights``."""
    cumulative = np.cumsum(weights / weights.sum())
    return np.minimum(np.searchsorted(cumulative, rng.random(size), side="right"), len(weights) - 1)


def _lognormal_days(rng: np.random.Generator, median: Any, log_sd: float, size: int) -> np.ndarray:
    return np.exp(np.log(median) + log_sd * rng.standard_normal(size))


def _spawn(seed: int, count: int) -> list[np.random.SeedSequence]:
    return np.random.SeedSequence(seed).spawn(count)


def _concat(batches: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    keys = batches[0].keys()
    return {key: np.concatenate([batch[key] for batch in batches]) for key in keys}


class _Simulation:
    def __init__(self, config: SimulationConfig) -> None:
        self.config = config
        self.profile: CountryProfile = PROFILES[config.country]
        streams = [np.random.Generator(np.random.PCG64(s)) for s in _spawn(config.seed, 6)]
        (
            self.rng_persons,
            self.rng_names,
            self.rng_custody,
            self.rng_release,
            self.rng_calibration,
            self.rng_references,
        ) = streams
        # A seventh child of the same SeedSequence: the first six streams (and so the other
        # tables) are the same whether or not assessments are simulated.
        self.rng_assessments = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(config.seed).spawn(7)[6])
        )
        # The eighth and ninth children: education, then programmes (with motivation and
        # disciplinary faults). The first six streams do not depend on them.
        later = np.random.SeedSequence(config.seed).spawn(9)
        self.rng_education = np.random.Generator(np.random.PCG64(later[7]))
        self.rng_programmes = np.random.Generator(np.random.PCG64(later[8]))
        # The tenth child: drug tests, drawn last from the finished tables.
        self.rng_drug_tests = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(config.seed).spawn(10)[9])
        )
        # The eleventh child: reintegration (arrangements at release, follow-up contacts).
        self.rng_reintegration = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(config.seed).spawn(11)[10])
        )
        self.reintegration: reintegration_model.ReintegrationModel | None = None
        self.post_release_counts = {
            "releases_followed_up": 0,
            "offences_committed": 0,
            "deaths_after_release": 0,
            "deportations_after_release": 0,
        }
        self.hazard_scale = 1.0
        self.extract_day = _days(config.extract_date)
        self.window_start_day = _days(_add_years(config.extract_date, -config.history_years))
        self.full_followup_last_release_day = _days(_add_years(config.extract_date, -3))
        self._setup_facilities()
        self.offence_index = {name: i for i, name in enumerate(OFFENCE_CATEGORIES)}
        mixes = [config.pairs("offence_mix_male"), config.pairs("offence_mix_female")]
        self.offence_mix = np.array(
            [[mix.get(name, 0.0) for name in OFFENCE_CATEGORIES] for mix in mixes]
        )
        medians = config.pairs("sentence_median_days")
        self.sentence_median = np.array([medians[name] for name in OFFENCE_CATEGORIES])
        coefficients = config.pairs("central_eight_coefficients")
        self.central_eight_coefficients = np.array(
            [coefficients.get(name, 0.0) for name in CENTRAL_EIGHT]
        )

    # -- facilities ----------------------------------------------------------------------

    def _setup_facilities(self) -> None:
        facilities = self.profile.facilities
        self.facility_codes = np.array([f.code for f in facilities])
        types = np.array([f.facility_type for f in facilities])
        self.facility_type = types
        capacity = np.array([float(f.capacity) for f in facilities])
        population = np.array([f.population_sex for f in facilities])
        # sex_allowed[0] for men, [1] for women.
        sex_allowed = np.stack([population != "female", population != "male"])
        security = np.array([f.security_level for f in facilities])
        closed = types == "closed"
        high_preference = np.select(
            [security == "maximum", security == "high"], [3.0, 2.0], default=1.0
        )
        standard_preference = np.select(
            [security == "maximum", security == "high"], [0.3, 1.0], default=1.5
        )
        # closed_weights[sex, needs_high_security, facility]
        self.closed_weights = np.stack(
            [
                np.stack(
                    [
                        capacity * closed * sex_allowed[sex] * standard_preference,
                        capacity * closed * sex_allowed[sex] * high_preference,
                    ]
                )
                for sex in (0, 1)
            ]
        )
        self.semi_open_weights = np.stack(
            [capacity * (types == "semi_open") * sex_allowed[sex] for sex in (0, 1)]
        )
        self.open_weights = np.stack(
            [capacity * (types == "open") * sex_allowed[sex] for sex in (0, 1)]
        )
        if (self.closed_weights.sum(axis=2) <= 0).any():
            raise ValueError("each sex needs at least one closed facility")

    # -- the run -------------------------------------------------------------------------

    def run(self) -> SimulatedService:
        persons = self._draw_persons()
        self.persons_arrays = persons
        self._draw_person_records(persons)
        self.person_education = self._draw_education(persons)
        self.programme_simulation = self._programme_simulation(persons)
        if self.config.reintegration_enabled:
            self.reintegration = self._reintegration_model(persons)
        batch = self._first_episodes(persons)
        episodes: list[dict[str, np.ndarray]] = []
        events: list[dict[str, np.ndarray]] = []
        next_episode_id = 0
        generation = 0
        calibration: dict[str, Any] = {}
        while batch is not None:
            planned = self._plan_custody(batch)
            if generation == 0:
                planned = self._place_stock_in_time(planned)
                self.date_of_birth_day = planned["admission_day"] - np.floor(
                    persons["age_first"] * DAYS_PER_YEAR
                ).astype(np.int64)
            planned = self._truncate_at_extract(planned)
            planned["episode_id"] = next_episode_id + np.arange(len(planned["person"]))
            planned["generation"] = np.full(len(planned["person"]), generation)
            next_episode_id += len(planned["person"])
            completed_before = self.programme_simulation.completed_before.copy()
            planned["programme_log_hazard"] = self._programmes(planned, generation)
            self._note_completions(planned, completed_before)
            episodes.append(planned)
            releases = self._releases_followed_up(planned)
            if generation == 0:
                calibration = self._calibrate(releases)
            batch, batch_events = self._after_release(releases, next_episode_id)
            events.append(batch_events)
            generation += 1
        all_episodes = _concat(episodes)
        all_events = _concat(events)
        return self._build(persons, all_episodes, all_events, calibration, generation)

    # -- persons -------------------------------------------------------------------------

    def _draw_persons(self) -> dict[str, np.ndarray]:
        config, profile, rng = self.config, self.profile, self.rng_persons
        n = config.persons
        female = rng.random(n) < config.female_share
        foreign_share = (
            profile.foreign_national_share
            if config.foreign_national_share is None
            else config.foreign_national_share
        )
        foreign = rng.random(n) < foreign_share
        migrant_codes = [code for code, _ in profile.migrant_nationalities]
        migrant_weights = np.array([w for _, w in profile.migrant_nationalities])
        migrant = np.array(migrant_codes)[_choose_from(rng, migrant_weights, n)]
        nationality = np.where(foreign, migrant, profile.code)

        # Central Eight: one shared latent factor plus independent noise per domain.
        loading = config.needs_factor_loading
        shared = rng.standard_normal(n)
        latent = loading * shared[:, None] + math.sqrt(1.0 - loading**2) * rng.standard_normal(
            (n, len(CENTRAL_EIGHT))
        )
        levels = _normal_cdf(latent)

        age = config.age_min + rng.gamma(config.age_gamma_shape, config.age_gamma_scale_years, n)
        too_old = age > config.age_max
        age = np.where(too_old, rng.uniform(config.age_min, config.age_max, n), age)

        # Custodial episodes before the first one in the extract: more for people with a
        # higher latent criminal history and for older people.
        slope = config.prior_episodes_history_slope
        exposure = np.clip((age - config.age_min + 1.0) / 12.0, 0.1, 3.0)
        prior_mean = (
            config.prior_episodes_mean * exposure * np.exp(slope * latent[:, 0] - slope**2 / 2)
        )
        prior = rng.poisson(prior_mean)

        lp_person = config.coefficient_female * female + (levels - 0.5) @ (
            self.central_eight_coefficients
        )
        stock = rng.random(n) < config.stock_share
        return {
            "female": female,
            "foreign": foreign,
            "nationality": nationality,
            "levels": levels,
            "latent": latent,
            "age_first": age,
            "prior_before_extract": prior,
            "lp_person": lp_person,
            "stock": stock,
        }

    def _first_episodes(self, persons: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rng = self.rng_custody
        n = self.config.persons
        stock = persons["stock"]
        female = persons["female"].astype(int)
        admission = rng.integers(self.window_start_day, self.extract_day + 1, n)
        # People already in custody at the window start are a length-biased sample: long
        # sentences are over-represented in a prison's stock.
        offence = np.full(n, -1)
        for sex in (0, 1):
            rows = np.flatnonzero(stock & (female == sex))
            weights = self.offence_mix[sex] * self.sentence_median
            offence[rows] = _choose_from(rng, weights, len(rows))
        return {
            "person": np.arange(n),
            "admission_day": np.where(stock, 0, admission).astype(np.int64),
            "admission_type": np.full(n, -1),
            "offence": offence,
            "sentence_days": np.full(n, -1, dtype=np.int64),
            "prior": persons["prior_before_extract"],
            "age_at_admission": persons["age_first"],
            "stock": stock,
        }

    def _lp_static(self, person: np.ndarray, age: np.ndarray, prior: np.ndarray) -> np.ndarray:
        config = self.config
        return (
            self.persons_arrays["lp_person"][person]
            + config.coefficient_age_per_year * (age - config.age_reference_years)
            + config.coefficient_log_prior_episodes * np.log1p(prior)
        )

    def _draw_education(self, persons: dict[str, np.ndarray]) -> np.ndarray:
        """Highest completed schooling, on its own stream, tied to literacy and school/work.

        A score ``-c * z_school_work + sqrt(1 - c^2) * N(0, 1)`` (c =
        ``education_school_work_correlation``) is cut at the cumulative ``education_mix``
        for literate people and people whose literacy is not recorded. Illiterate people
        get ``none`` (score below its median) or ``primary_incomplete``; people with limited
        literacy get primary_incomplete / primary / secondary_incomplete (50/30/20%).
        A share ``education_not_recorded_share`` is ``not_recorded``.
        """
        config, rng = self.config, self.rng_education
        n = config.persons
        unrecorded = rng.random(n) < config.education_not_recorded_share
        noise = rng.standard_normal(n)
        c = config.education_school_work_correlation
        z_school_work = persons["latent"][:, CENTRAL_EIGHT.index("school_work")]
        percentile = _normal_cdf(-c * z_school_work + math.sqrt(1.0 - c**2) * noise)
        mix = config.pairs("education_mix")
        weights = np.array([mix.get(level, 0.0) for level in EDUCATION_LEVELS[:-1]])
        cumulative = np.cumsum(weights / weights.sum())
        general = np.minimum(
            np.searchsorted(cumulative, percentile, side="right"), len(weights) - 1
        )
        limited = np.select([percentile < 0.5, percentile < 0.8], [1, 2], 3)
        illiterate = np.where(percentile < 0.5, 0, 1)
        literacy = np.asarray(self.person_literacy)
        level = np.select(
            [literacy == "illiterate", literacy == "limited"], [illiterate, limited], general
        )
        names = np.array(EDUCATION_LEVELS, dtype=object)
        return np.where(unrecorded, "not_recorded", names[level]).astype(object)

    def _programme_simulation(
        self, persons: dict[str, np.ndarray]
    ) -> programme_model.ProgrammeSimulation:
        """Programme model state (motivation is drawn even when programmes are off)."""
        n = self.config.persons
        facilities = self.profile.facilities
        return programme_model.ProgrammeSimulation(
            self.config,
            self.rng_programmes,
            programme_model.PersonInputs(
                female=persons["female"],
                levels=persons["levels"],
                lp_person=persons["lp_person"],
                lp_first_admission=self._lp_static(
                    np.arange(n), persons["age_first"], persons["prior_before_extract"]
                ),
                literacy=np.asarray(self.person_literacy),
                education=self.person_education,
                languages=self.person_languages,
            ),
            programme_model.FacilityInputs(
                codes=self.facility_codes,
                facility_type=self.facility_type,
                population_sex=np.array([f.population_sex for f in facilities]),
            ),
            window_start_day=self.window_start_day,
            extract_day=self.extract_day,
        )

    def _programmes(self, planned: dict[str, np.ndarray], generation: int) -> np.ndarray:
        """Programme activity during this generation's episodes; the planted log HR."""
        n = len(planned["person"])
        if not self.config.programmes_enabled:
            return np.zeros(n)
        simulation = self.programme_simulation
        end_day = np.where(planned["released"], planned["release_day"], NEVER)
        slot_day = planned["slot_day"][:, :SLOT_RELEASE]
        slot_valid = planned["slot_valid"][:, :SLOT_RELEASE]
        slot_facility = planned["slot_facility"][:, :SLOT_RELEASE]
        if generation == 0:
            # Places follow the population each facility holds in the middle of the window.
            middle = (self.window_start_day + self.extract_day) // 2
            inside = (planned["admission_day"] <= middle) & (middle < planned["release_day"])
            before = slot_valid & (slot_day <= middle)
            last = SLOT_RELEASE - 1 - np.argmax(before[:, ::-1], axis=1)
            where = slot_facility[np.arange(n), last][inside]
            simulation.set_capacity(
                np.bincount(where, minlength=len(self.facility_codes)).astype(float)
            )
        return simulation.run_generation(
            {
                "episode_id": planned["episode_id"],
                "person": planned["person"],
                "admission_day": planned["admission_day"],
                "planned_release_day": planned["release_day"],
                "end_day": end_day,
                "lp": self._lp_static(
                    planned["person"], planned["age_at_admission"], planned["prior"]
                ),
                "age_at_admission": planned["age_at_admission"],
                "slot_day": slot_day,
                "slot_valid": slot_valid,
                "slot_facility": slot_facility,
            }
        )

    def _reintegration_model(
        self, persons: dict[str, np.ndarray]
    ) -> reintegration_model.ReintegrationModel:
        n = self.config.persons
        lp_first = self._lp_static(
            np.arange(n), persons["age_first"], persons["prior_before_extract"]
        )
        needs = self.person_needs_codes
        return reintegration_model.ReintegrationModel(
            self.config,
            self.rng_reintegration,
            latent=persons["latent"],
            levels=persons["levels"],
            female=persons["female"],
            mental_health=np.array(
                [codes is not None and "mental_health" in codes.split(";") for codes in needs]
            ),
            risk_centre=float(lp_first.mean()),
            risk_spread=float(lp_first.std()),
        )

    def _note_completions(self, planned: dict[str, np.ndarray], before: np.ndarray) -> None:
        """Per episode: completed a vocational, work or education or a substance-use programme."""
        simulation = self.programme_simulation
        person = planned["person"]
        new = simulation.completed_before[person] & ~before[person]
        kinds = np.array([p.programme_type for p in simulation.catalogue])
        employment = np.isin(kinds, reintegration_model.EMPLOYMENT_PROGRAMME_TYPES)
        treatment = np.isin(kinds, reintegration_model.TREATMENT_PROGRAMME_TYPES)
        planned["employment_programme"] = new[:, employment].any(axis=1)
        planned["treatment_programme"] = new[:, treatment].any(axis=1)

    # -- custody -------------------------------------------------------------------------

    def _plan_custody(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Sentence, transfers and release of each episode, ignoring the extract date."""
        config, rng = self.config, self.rng_custody
        n = len(batch["person"])
        person = batch["person"]
        female = self.persons_arrays["female"][person].astype(int)
        foreign = self.persons_arrays["foreign"][person]
        start = batch["admission_day"]
        lp = self._lp_static(person, batch["age_at_admission"], batch["prior"])

        kind = batch["admission_type"].copy()
        undrawn = kind < 0
        u = rng.random(n)
        drawn = np.select(
            [u < config.remand_share, u < config.remand_share + config.direct_sentenced_share],
            [REMAND, SENTENCED],
            default=TRANSFER_IN,
        )
        kind[undrawn] = drawn[undrawn]

        offence = batch["offence"].copy()
        for sex in (0, 1):
            rows = np.flatnonzero((offence < 0) & (female == sex))
            offence[rows] = _choose_from(rng, self.offence_mix[sex], len(rows))

        sentence = batch["sentence_days"].copy()
        drawn_sentence = _lognormal_days(
            rng, self.sentence_median[offence], config.sentence_log_sd, n
        )
        drawn_sentence = np.clip(np.rint(drawn_sentence), 30, config.sentence_max_days)
        sentence = np.where(sentence < 0, drawn_sentence, sentence).astype(np.int64)

        remand = kind == REMAND
        remand_days = np.maximum(
            1, np.rint(_lognormal_days(rng, config.remand_median_days, config.remand_log_sd, n))
        ).astype(np.int64)
        unsentenced = remand & (rng.random(n) < config.remand_release_without_sentence_share)
        elapsed_before_transfer = np.floor(rng.random(n) * 0.5 * sentence).astype(np.int64)
        sentence_day = np.select(
            [remand, kind == TRANSFER_IN],
            [start + remand_days, start - elapsed_before_transfer],
            start,
        )
        # Time on remand counts towards the sentence.
        counting_from = np.where(kind == TRANSFER_IN, sentence_day, start)
        expected_release = np.maximum(counting_from + sentence, sentence_day)
        expected_release = np.maximum(expected_release, start + 1)

        # Parole, for lower-risk people part-way through a sentence of a year or more.
        parole_eligible = (
            ~unsentenced & (kind != RECALL) & (sentence >= config.parole_min_sentence_days)
        )
        parole_chosen = rng.random(n) < _sigmoid(
            config.parole_intercept + config.parole_risk_slope * lp
        )
        fraction = config.parole_eligible_fraction + 0.2 * rng.random(n)
        parole_day = counting_from + np.floor(fraction * sentence).astype(np.int64)
        paroled = (
            parole_eligible
            & parole_chosen
            & (parole_day > sentence_day)
            & (parole_day < expected_release)
            & (parole_day > start)
        )
        base_day = np.select([unsentenced, paroled], [sentence_day, parole_day], expected_release)
        base_type = np.select([unsentenced, paroled], [OTHER, PAROLE], END_OF_SENTENCE)

        # Progression of lower-risk people to semi-open (and some to open) late in sentence.
        semi_weights = self.semi_open_weights[female]
        open_weights = self.open_weights[female]
        progression_chosen = rng.random(n) < _sigmoid(
            config.progression_intercept + config.progression_risk_slope * lp
        )
        progression_day = base_day - np.floor(
            (0.15 + 0.25 * rng.random(n)) * (base_day - start)
        ).astype(np.int64)
        progressed = (
            ~unsentenced
            & (sentence >= config.progression_min_sentence_days)
            & (semi_weights.sum(axis=1) > 0)
            & progression_chosen
            & (progression_day > sentence_day + 30)
            & (progression_day < base_day - 7)
        )
        semi_facility = _choose(
            rng, np.where(semi_weights.sum(axis=1, keepdims=True) > 0, semi_weights, 1.0)
        )
        open_day = progression_day + np.floor(
            (0.3 + 0.5 * rng.random(n)) * (base_day - progression_day)
        ).astype(np.int64)
        opened = (
            progressed
            & (open_weights.sum(axis=1) > 0)
            & (rng.random(n) < config.progression_to_open_share)
            & (open_day > progression_day)
            & (open_day < base_day)
        )
        open_facility = _choose(
            rng, np.where(open_weights.sum(axis=1, keepdims=True) > 0, open_weights, 1.0)
        )

        # Other ways out: pardon, expulsion of foreigners, escape, death in custody.
        span_after_sentence = np.maximum(expected_release - sentence_day, 1)
        pardon_day = np.where(
            ~unsentenced & (rng.random(n) < config.pardon_share),
            sentence_day + 1 + np.floor(rng.random(n) * span_after_sentence).astype(np.int64),
            NEVER,
        )
        expulsion_day = np.where(
            foreign & ~unsentenced & (rng.random(n) < config.expulsion_share_foreign),
            sentence_day + 1 + np.floor(rng.random(n) * 0.5 * span_after_sentence).astype(np.int64),
            NEVER,
        )
        closed_end = np.where(progressed, progression_day, base_day)
        escape_closed = rng.random(n) < config.escape_share_closed
        escape_semi = progressed & (rng.random(n) < config.escape_share_semi_open)
        u_escape = rng.random(n)
        escape_day = np.select(
            [escape_closed, escape_semi],
            [
                start + 1 + np.floor(u_escape * np.maximum(closed_end - start - 1, 1)),
                progression_day
                + 1
                + np.floor(u_escape * np.maximum(base_day - progression_day - 1, 1)),
            ],
            NEVER,
        ).astype(np.int64)
        death_rate = config.death_in_custody_rate_per_year
        death_day = (
            start + np.ceil(rng.exponential(1.0, n) / death_rate * DAYS_PER_YEAR).astype(np.int64)
            if death_rate > 0
            else np.full(n, NEVER)
        )
        candidates = np.stack([base_day, pardon_day, expulsion_day, escape_day, death_day], axis=1)
        candidates = np.maximum(candidates, start[:, None] + 1)
        which = np.argmin(candidates, axis=1)
        release_day = candidates[np.arange(n), which]
        release_type = np.choose(which, [base_type, PARDON, TRANSFER, ESCAPE, DEATH])

        # Facilities: admission to a closed facility that fits sex and security needs.
        high_security_codes = [self.offence_index[name] for name in HIGH_SECURITY_OFFENCES]
        high_security = np.isin(offence, high_security_codes) | (lp > 1.0)
        closed_weights = self.closed_weights[female, high_security.astype(int)]
        dates = np.full((n, SLOTS), NEVER, dtype=np.int64)
        facility = np.full((n, SLOTS), -1, dtype=np.int64)
        reason = np.full((n, SLOTS), "", dtype=object)
        valid = np.zeros((n, SLOTS), dtype=bool)
        current = _choose(rng, closed_weights)
        dates[:, SLOT_ADMISSION] = start
        facility[:, SLOT_ADMISSION] = current
        reason[:, SLOT_ADMISSION] = np.array(ADMISSION_TYPES, dtype=object)[kind]
        valid[:, SLOT_ADMISSION] = True

        # Lateral transfers between closed facilities while in the closed phase.
        closed_years = np.maximum(closed_end - start, 0) / DAYS_PER_YEAR
        count = np.minimum(
            rng.poisson(config.lateral_transfer_rate_per_year * closed_years), MAX_LATERAL_TRANSFERS
        )
        offsets = 1 + np.floor(
            rng.random((n, MAX_LATERAL_TRANSFERS)) * np.maximum(closed_end - start - 1, 1)[:, None]
        ).astype(np.int64)
        offsets = np.where(
            np.arange(MAX_LATERAL_TRANSFERS)[None, :] < count[:, None], offsets, NEVER
        )
        offsets.sort(axis=1)
        lateral_reason = np.array(TRANSFER_REASONS, dtype=object)[
            _choose_from(rng, TRANSFER_REASON_WEIGHTS, n * MAX_LATERAL_TRANSFERS)
        ].reshape(n, MAX_LATERAL_TRANSFERS)
        previous_day = start.copy()
        for k in range(MAX_LATERAL_TRANSFERS):
            day = np.where(offsets[:, k] < NEVER, start + offsets[:, k], NEVER)
            weights = closed_weights.copy()
            weights[np.arange(n), current] = 0.0
            has_target = weights.sum(axis=1) > 0
            target = _choose(rng, np.where(has_target[:, None], weights, 1.0))
            ok = (day < NEVER) & (day > previous_day) & (day < closed_end) & has_target
            slot = 1 + k
            dates[:, slot] = np.where(ok, day, NEVER)
            facility[:, slot] = np.where(ok, target, -1)
            reason[:, slot] = np.where(ok, lateral_reason[:, k], "")
            valid[:, slot] = ok
            current = np.where(ok, target, current)
            previous_day = np.where(ok, day, previous_day)

        dates[:, SLOT_SEMI_OPEN] = np.where(progressed, progression_day, NEVER)
        facility[:, SLOT_SEMI_OPEN] = np.where(progressed, semi_facility, -1)
        reason[:, SLOT_SEMI_OPEN] = np.where(progressed, "progression_to_semi_open", "")
        valid[:, SLOT_SEMI_OPEN] = progressed
        dates[:, SLOT_OPEN] = np.where(opened, open_day, NEVER)
        facility[:, SLOT_OPEN] = np.where(opened, open_facility, -1)
        reason[:, SLOT_OPEN] = np.where(opened, "progression_to_open", "")
        valid[:, SLOT_OPEN] = opened
        # Nothing happens on or after the day the person leaves.
        valid[:, 1:SLOT_RELEASE] &= dates[:, 1:SLOT_RELEASE] < release_day[:, None]
        dates[:, SLOT_RELEASE] = release_day
        reason[:, SLOT_RELEASE] = np.array(RELEASE_TYPES, dtype=object)[release_type]
        valid[:, SLOT_RELEASE] = True

        return {
            "person": person,
            "admission_day": start,
            "admission_type": kind,
            "offence": offence,
            "sentence_days": sentence,
            "sentence_day": sentence_day,
            "expected_release_day": expected_release,
            "unsentenced": unsentenced,
            "release_day": release_day,
            "release_type": release_type,
            "prior": batch["prior"],
            "age_at_admission": batch["age_at_admission"],
            "stock": batch["stock"],
            "slot_day": dates,
            "slot_facility": facility,
            "slot_reason": reason,
            "slot_valid": valid,
        }

    def _place_stock_in_time(self, planned: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Move the stock's episodes so that each person is in custody at the window start."""
        stock = planned["stock"]
        duration = planned["release_day"] - planned["admission_day"]
        served = np.floor(self.rng_custody.random(len(stock)) * duration).astype(np.int64)
        shift = np.where(stock, self.window_start_day - served - planned["admission_day"], 0)
        shifted = dict(planned)
        for key in ("admission_day", "sentence_day", "expected_release_day", "release_day"):
            shifted[key] = planned[key] + shift
        shifted["slot_day"] = np.where(
            planned["slot_day"] < NEVER, planned["slot_day"] + shift[:, None], NEVER
        )
        return shifted

    def _truncate_at_extract(self, planned: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """What the records show on the extract date."""
        extract = self.extract_day
        result = dict(planned)
        valid = planned["slot_valid"] & (planned["slot_day"] <= extract)
        released = planned["release_day"] <= extract
        valid[:, SLOT_RELEASE] = released
        result["slot_valid"] = valid
        result["released"] = released
        custody_slots = valid[:, :SLOT_RELEASE]
        last = SLOT_RELEASE - 1 - np.argmax(custody_slots[:, ::-1], axis=1)
        result["facility"] = planned["slot_facility"][np.arange(len(last)), last]
        sentenced_by_now = ~planned["unsentenced"] & (
            released | (planned["sentence_day"] <= extract)
        )
        result["sentenced"] = sentenced_by_now
        return result

    # -- after release -------------------------------------------------------------------

    def _releases_followed_up(self, planned: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        config = self.config
        chosen = planned["released"] & np.isin(planned["release_type"], FOLLOWED_UP_RELEASES)
        person = planned["person"][chosen]
        release_day = planned["release_day"][chosen]
        dob = self.date_of_birth_day[person]
        age = (release_day - dob) / DAYS_PER_YEAR
        facility_type = self.facility_type[planned["facility"][chosen]]
        lighter_regime = np.isin(facility_type, ("semi_open", "open"))
        parole = planned["release_type"][chosen] == PAROLE
        lp = (
            self._lp_static(person, age, planned["prior"][chosen])
            + config.semi_open_release_log_hazard_ratio * lighter_regime
            + config.parole_release_log_hazard_ratio * parole
        )
        if config.programmes_enabled:
            # The planted effects of the programmes completed during the episode.
            lp = lp + planned["programme_log_hazard"][chosen]
        if self.reintegration is not None:
            # The planted effects of a job or training offer and of stable accommodation.
            lp = lp + self.reintegration.draw_arrangements(
                reintegration_model.ReleaseInputs(
                    episode_id=planned["episode_id"][chosen],
                    person=person,
                    release_day=release_day,
                    static_lp=self._lp_static(person, age, planned["prior"][chosen]),
                    parole=parole,
                    lighter_regime=lighter_regime,
                    employment_programme=planned["employment_programme"][chosen],
                    treatment_programme=planned["treatment_programme"][chosen],
                )
            )
        return {
            "person": person,
            "release_day": release_day,
            "lp": lp,
            "parole": parole,
            "parole_end_day": planned["expected_release_day"][chosen],
            "offence": planned["offence"][chosen],
            "prior": planned["prior"][chosen],
            "closed": facility_type == "closed",
            "counted": np.isin(planned["release_type"][chosen], (END_OF_SENTENCE, PAROLE, PARDON)),
        }

    def _conviction_lags(
        self, rng: np.random.Generator, shape: tuple[int, ...]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Days from offence to arrest, arrest to charge and charge to reconviction."""
        config = self.config
        size = int(np.prod(shape))
        same_day = rng.random(size) < config.rearrest_same_day_share
        arrest = np.where(
            same_day,
            0,
            np.rint(_lognormal_days(rng, config.rearrest_lag_median_days, config.lag_log_sd, size)),
        )
        charge = np.rint(
            _lognormal_days(rng, config.charge_lag_median_days, config.lag_log_sd, size)
        )
        conviction = np.maximum(
            1,
            np.rint(
                _lognormal_days(rng, config.reconviction_lag_median_days, config.lag_log_sd, size)
            ),
        )
        return (
            arrest.astype(np.int64).reshape(shape),
            charge.astype(np.int64).reshape(shape),
            conviction.astype(np.int64).reshape(shape),
        )

    def _calibrate(self, releases: dict[str, np.ndarray]) -> dict[str, Any]:
        """Find the baseline scale that gives the target 3-year reconviction rate.

        Reconvictions form a thinned, displaced Poisson process, so for a release with
        linear predictor lp the probability of a reconviction within H = 3 years is

            1 - exp(-p * scale * exp(lp) * A),
            A = E_L[ integral from 0 to H - L of shape * t**(shape-1) * exp(-mu*(t + L)) dt ],

        with p the probability that an offence leads to a reconviction, L the lag from
        offence to reconviction (years) and mu the rate of death (plus deportation for
        foreigners) after release. A is estimated once from a fixed sample of lags; the
        mean probability over the calibration releases is increasing in scale, and
        bisection on log(scale) finds the target. Recalls of parolees are ignored here.
        """
        config = self.config
        arrest, charge, conviction = self._conviction_lags(self.rng_calibration, (4000,))
        lag_years = (arrest + charge + conviction) / DAYS_PER_YEAR
        p_reconviction = (
            config.rearrest_probability
            * config.charge_probability
            * config.reconviction_probability
        )
        death_rate = config.post_release_death_rate_per_year
        exposure_national = _expected_exposure(lag_years, config.weibull_shape, death_rate)
        exposure_foreign = _expected_exposure(
            lag_years,
            config.weibull_shape,
            death_rate + config.post_release_deportation_rate_per_year,
        )
        chosen = (
            releases["closed"]
            & releases["counted"]
            & (releases["release_day"] <= self.full_followup_last_release_day)
        )
        calibration_set = "first-generation releases from closed facilities with full follow-up"
        lp = releases["lp"][chosen]
        if lp.size == 0:
            lp = releases["lp"]
            calibration_set = "all first-generation releases (no closed release had full follow-up)"
        if lp.size == 0:
            lp = self.persons_arrays["lp_person"]
            calibration_set = "person-level linear predictors (no releases in the window)"
        foreign = self.persons_arrays["foreign"][releases["person"][chosen]]
        if foreign.size != lp.size:
            foreign = np.zeros(lp.size, dtype=bool)
        exposure = np.where(foreign, exposure_foreign, exposure_national)
        risk = np.exp(lp) * p_reconviction * exposure

        def implied(scale: float) -> float:
            return float(np.mean(1.0 - np.exp(-scale * risk)))

        target = config.target_reconviction_rate_3y
        if config.baseline_hazard_scale is not None:
            scale = config.baseline_hazard_scale
            calibrated = False
        else:
            low, high = -20.0, 20.0
            for _ in range(100):
                middle = (low + high) / 2
                if implied(math.exp(middle)) < target:
                    low = middle
                else:
                    high = middle
            scale = math.exp((low + high) / 2)
            calibrated = True
        self.hazard_scale = scale
        return {
            "calibrated": calibrated,
            "target_reconviction_rate_3y": target,
            "calibration_set": calibration_set,
            "calibration_releases": int(lp.size),
            "model_implied_rate_3y": implied(scale),
            "probability_offence_leads_to_reconviction": p_reconviction,
            "expected_exposure_3y": {"national": exposure_national, "foreign": exposure_foreign},
        }

    def _after_release(
        self, releases: dict[str, np.ndarray], next_episode_id: int
    ) -> tuple[dict[str, np.ndarray] | None, dict[str, np.ndarray]]:
        """Reoffending, arrests, convictions, recalls and deaths after each release."""
        config, rng = self.config, self.rng_release
        n = len(releases["person"])
        m = config.max_offences_per_release
        extract = self.extract_day
        release_day = releases["release_day"]
        person = releases["person"]

        # Offence times of a Weibull proportional-hazards process: Lambda(t) = scale*e^lp*t^k.
        arrivals = np.cumsum(rng.exponential(1.0, (n, m)), axis=1)
        intensity = self.hazard_scale * np.exp(releases["lp"])
        years = (arrivals / intensity[:, None]) ** (1.0 / config.weibull_shape)
        years = np.minimum(years, 200.0)
        offence_day = release_day[:, None] + np.maximum(1, np.ceil(years * DAYS_PER_YEAR)).astype(
            np.int64
        )
        arrested = rng.random((n, m)) < config.rearrest_probability
        charged = arrested & (rng.random((n, m)) < config.charge_probability)
        convicted = charged & (rng.random((n, m)) < config.reconviction_probability)
        custodial = convicted & (rng.random((n, m)) < config.custodial_sentence_probability)
        arrest_lag, charge_lag, conviction_lag = self._conviction_lags(rng, (n, m))
        arrest_day = offence_day + arrest_lag
        charge_day = arrest_day + charge_lag
        conviction_day = charge_day + conviction_lag
        custodial_day = np.where(custodial, conviction_day, NEVER)
        trigger_offence = np.argmin(custodial_day, axis=1)
        first_custodial = custodial_day[np.arange(n), trigger_offence]

        # Technical violations while on parole; some lead to recall.
        violations = 3
        rate = config.technical_violation_rate_per_year
        gaps = rng.exponential(1.0, (n, violations))
        violation_day = (
            release_day[:, None]
            + np.ceil(np.cumsum(gaps, axis=1) / max(rate, 1e-12) * DAYS_PER_YEAR).astype(np.int64)
            if rate > 0
            else np.full((n, violations), NEVER)
        )
        violation_day = np.minimum(violation_day, NEVER)
        violating = releases["parole"][:, None] & (
            violation_day < releases["parole_end_day"][:, None]
        )
        recalled = violating & (rng.random((n, violations)) < config.recall_probability)
        recall_lag = np.maximum(
            1,
            np.rint(
                _lognormal_days(
                    rng, config.recall_lag_median_days, config.lag_log_sd, n * violations
                )
            ),
        ).astype(np.int64)
        recall_day = np.where(recalled, violation_day + recall_lag.reshape(n, violations), NEVER)
        first_recall = recall_day.min(axis=1)

        def hazard_day(rate_per_year: float, applies: np.ndarray) -> np.ndarray:
            draws = rng.exponential(1.0, n)
            if rate_per_year <= 0:
                return np.full(n, NEVER)
            day = release_day + np.ceil(draws / rate_per_year * DAYS_PER_YEAR).astype(np.int64)
            return np.where(applies, np.minimum(day, NEVER), NEVER)

        death_day = hazard_day(config.post_release_death_rate_per_year, np.ones(n, dtype=bool))
        deportation_day = hazard_day(
            config.post_release_deportation_rate_per_year,
            self.persons_arrays["foreign"][person],
        )
        gone_day = np.minimum(death_day, deportation_day)
        back_day = np.minimum(first_custodial, first_recall)
        back_in = (back_day < gone_day) & (back_day <= extract)
        back_by_recall = back_in & (first_recall < first_custodial)
        stop_day = np.minimum(back_day, gone_day)
        visible_until = np.minimum(gone_day, extract + 1)  # events strictly before this day
        if self.reintegration is not None:
            self.reintegration.set_community_end(stop_day)

        # Events. Offences committed while free set off their whole chain, even when a
        # later step falls after a return to custody (pending cases continue).
        committed = offence_day < stop_day[:, None]
        rows, columns = np.nonzero(committed)
        event_parts = []
        for event_type, happened, day in (
            (REARREST, arrested, arrest_day),
            (CHARGE, charged, charge_day),
            (RECONVICTION, convicted, conviction_day),
        ):
            keep = happened[rows, columns] & (day[rows, columns] < visible_until[rows])
            event_parts.append(
                (
                    person[rows[keep]],
                    np.full(int(keep.sum()), event_type),
                    day[rows[keep], columns[keep]],
                    offence_day[rows[keep], columns[keep]],
                    np.full(int(keep.sum()), -1),
                )
            )
        v_rows, v_columns = np.nonzero(
            violating
            & (violation_day < stop_day[:, None])
            & (violation_day < visible_until[:, None])
        )
        event_parts.append(
            (
                person[v_rows],
                np.full(v_rows.size, TECHNICAL_VIOLATION),
                violation_day[v_rows, v_columns],
                np.full(v_rows.size, -1),
                np.full(v_rows.size, -1),
            )
        )
        back_rows = np.flatnonzero(back_in)
        new_episode_id = next_episode_id + np.arange(back_rows.size)
        trigger_offence_day = offence_day[back_rows, trigger_offence[back_rows]]
        event_parts.append(
            (
                person[back_rows],
                np.full(back_rows.size, REINCARCERATION),
                back_day[back_rows],
                np.where(back_by_recall[back_rows], -1, trigger_offence_day),
                new_episode_id,
            )
        )
        events = {
            "person": np.concatenate([part[0] for part in event_parts]).astype(np.int64),
            "event_type": np.concatenate([part[1] for part in event_parts]).astype(np.int64),
            "event_day": np.concatenate([part[2] for part in event_parts]).astype(np.int64),
            "offence_day": np.concatenate([part[3] for part in event_parts]).astype(np.int64),
            "episode_id": np.concatenate([part[4] for part in event_parts]).astype(np.int64),
        }
        self.post_release_counts["releases_followed_up"] += n
        self.post_release_counts["offences_committed"] += int(committed.sum())
        self.post_release_counts["deaths_after_release"] += int(
            (
                (death_day < stop_day + 1) & (death_day <= extract) & (death_day <= deportation_day)
            ).sum()
        )
        self.post_release_counts["deportations_after_release"] += int(
            (
                (deportation_day <= back_day)
                & (deportation_day <= extract)
                & (deportation_day < death_day)
            ).sum()
        )
        if back_rows.size == 0:
            return None, events

        # The return to custody is a new episode.
        returning = person[back_rows]
        by_recall = back_by_recall[back_rows]
        admission_day = back_day[back_rows]
        previous_offence = releases["offence"][back_rows]
        keep_offence = by_recall | (rng.random(back_rows.size) < config.reoffence_persistence_share)
        remaining = np.maximum(releases["parole_end_day"][back_rows] - admission_day, 30)
        batch = {
            "person": returning,
            "admission_day": admission_day,
            "admission_type": np.where(by_recall, RECALL, SENTENCED),
            "offence": np.where(keep_offence, previous_offence, -1),
            "sentence_days": np.where(by_recall, remaining, -1).astype(np.int64),
            "prior": releases["prior"][back_rows] + 1,
            "age_at_admission": (admission_day - self.date_of_birth_day[returning]) / DAYS_PER_YEAR,
            "stock": np.zeros(back_rows.size, dtype=bool),
        }
        return batch, events

    # -- tables --------------------------------------------------------------------------

    def _build(
        self,
        persons: dict[str, np.ndarray],
        episodes: dict[str, np.ndarray],
        events: dict[str, np.ndarray],
        calibration: dict[str, Any],
        generations: int,
    ) -> SimulatedService:
        config = self.config
        n = config.persons
        first_admission = self.date_of_birth_day + np.floor(
            persons["age_first"] * DAYS_PER_YEAR
        ).astype(np.int64)
        # Prison numbers are handed out in order of first admission, with gaps.
        order = np.lexsort((np.arange(n), first_admission))
        numbers = np.empty(n, dtype=np.int64)
        numbers[order] = 1_000_000 + np.cumsum(self.prison_number_gaps)
        prefix = self.profile.prison_number_prefix
        prison_number = np.array([f"{prefix}-{number:07d}" for number in numbers], dtype=object)

        persons_table = self._persons_table(persons, prison_number, order)
        episodes_table, episode_key, episode_order = self._episodes_table(episodes, prison_number)
        facilities = self._facilities_table(
            in_custody=episodes_table.filter(pl.col("release_date").is_null()).height
        )
        movements = self._movements_table(episodes, episode_key, episode_order)
        events_table = self._events_table(events, prison_number, episode_key)
        truth = self._person_truth_table(persons, prison_number, order)
        if config.assessments_enabled:
            assessments = self._assessments_table(
                persons, episodes, episode_key, episode_order, prison_number
            )
        else:
            assessments = assessment_model.empty_table()
        if config.programmes_enabled:
            programme_tables = self.programme_simulation.tables(
                prison_number=prison_number, episode_key=episode_key
            )
        else:
            programme_tables = programme_model.empty_tables(config.country)
        tables = {
            "facilities": facilities,
            "persons": persons_table,
            "custody_episodes": episodes_table,
            "movements": movements,
            "outcome_events": events_table,
            "person_truth": truth,
            "assessments": assessments,
            **programme_tables,
        }
        if config.drug_tests_enabled:
            tables["drug_tests"] = drug_test_model.simulate_drug_tests(
                config,
                self.rng_drug_tests,
                tables,
                window_start_day=self.window_start_day,
                extract_day=self.extract_day,
            )
        else:
            tables["drug_tests"] = drug_test_model.empty_table()
        if self.reintegration is not None:
            tables.update(
                self.reintegration.tables(
                    prison_number=prison_number,
                    episode_key=episode_key,
                    has_national_id=self._has_national_id(persons_table, order),
                    outcome_events=events_table,
                    extract_day=self.extract_day,
                )
            )
        else:
            tables.update(reintegration_model.empty_tables())
        realised = {
            facility_type: reconviction_rate_3y(
                episodes_table,
                events_table,
                facilities,
                extract_date=config.extract_date,
                facility_types=(facility_type,),
            )
            for facility_type in ("closed", "semi_open", "open")
        }
        realised["semi_open_or_open"] = reconviction_rate_3y(
            episodes_table,
            events_table,
            facilities,
            extract_date=config.extract_date,
            facility_types=("semi_open", "open"),
        )
        coefficients = {
            "age_per_year_from_reference": config.coefficient_age_per_year,
            "age_reference_years": config.age_reference_years,
            "female": config.coefficient_female,
            "log1p_prior_custodial_episodes": config.coefficient_log_prior_episodes,
            "semi_open_or_open_release": config.semi_open_release_log_hazard_ratio,
            "parole_release": config.parole_release_log_hazard_ratio,
        }
        coefficients.update(
            {
                f"{name}_minus_half": float(value)
                for name, value in zip(CENTRAL_EIGHT, self.central_eight_coefficients, strict=True)
            }
        )
        linear_predictor = (
            "lp = person_truth.linear_predictor"
            " + age_per_year_from_reference * (age at release - age_reference_years)"
            " + log1p_prior_custodial_episodes * log(1 + custodial episodes before the"
            " one released from) + semi_open_or_open_release * [released from semi_open"
            " or open] + parole_release * [parole]"
        )
        if config.reintegration_enabled:
            coefficients.update(
                {
                    "job_offer_at_release": config.employment_log_hazard_ratio,
                    "training_offer_at_release": config.training_log_hazard_ratio,
                    "stable_accommodation_at_release": config.housing_log_hazard_ratio,
                }
            )
            linear_predictor += (
                " + job_offer_at_release * [job offer] + training_offer_at_release *"
                " [training offer] + stable_accommodation_at_release * [stable accommodation]"
                " (release_arrangements)"
            )
        ground_truth = {
            "generator": "whatworks.analytics.simulation",
            # 2: assessments added (the other tables as in 1); 3: education, motivation,
            # programmes and disciplinary faults (the tables of 2 unchanged when
            # programmes_enabled is false); 4: reintegration (arrangements at release with
            # planted effects, follow-up contacts; the tables of 3 unchanged when
            # reintegration_enabled is false).
            "model_version": 4,
            "seed": config.seed,
            "config": config.to_dict(),
            "window": {
                "start_date": (EPOCH + datetime.timedelta(days=self.window_start_day)).isoformat(),
                "extract_date": config.extract_date.isoformat(),
                "last_release_date_with_full_3y_followup": (
                    EPOCH + datetime.timedelta(days=self.full_followup_last_release_day)
                ).isoformat(),
            },
            "hazard": {
                "form": (
                    "Weibull proportional hazards for offending after release: "
                    "h(t) = scale * shape * t**(shape - 1) * exp(lp), t in years since release"
                ),
                "weibull_shape": config.weibull_shape,
                "baseline_hazard_scale": self.hazard_scale,
                "linear_predictor": linear_predictor,
                "person_truth_linear_predictor": (
                    "female * [sex is female] + sum of central_eight coefficient * (level - 0.5)"
                ),
                "coefficients": coefficients,
                "calibration": calibration,
            },
            "counts": {name: table.height for name, table in tables.items()},
            "post_release": dict(self.post_release_counts),
            "generations_of_custody": generations,
            "realised": {"reconviction_rate_3y": realised},
            "assessments": {
                "enabled": config.assessments_enabled,
                "noise_sd": config.assessment_noise_sd,
                "health_screening_share": config.health_screening_share,
                "instruments": {
                    name: count
                    for name, count in assessments["instrument"]
                    .value_counts()
                    .sort("instrument")
                    .iter_rows()
                },
                "rnr_auc_reconviction_3y_closed": assessment_model.intake_rnr_auc(
                    assessments,
                    episodes_table,
                    events_table,
                    facilities,
                    extract_date=config.extract_date,
                ),
                "mapping": assessment_model.mapping(),
            },
            "programmes": self.programme_simulation.ground_truth(
                programme_model.naive_comparison(
                    release_reconvicted_3y(
                        episodes_table,
                        events_table,
                        facilities,
                        extract_date=config.extract_date,
                        facility_types=("closed", "semi_open", "open"),
                    ),
                    programme_tables["programme_referrals"],
                    programme_tables["programmes"],
                )
            ),
            "drug_tests": drug_test_model.ground_truth(
                config, tables["drug_tests"], persons_table, truth, assessments
            ),
            "reintegration": reintegration_model.ground_truth(
                config,
                tables["release_arrangements"],
                tables["followup_contacts"],
                release_reconvicted_3y(
                    episodes_table,
                    events_table,
                    facilities,
                    extract_date=config.extract_date,
                    facility_types=("closed", "semi_open", "open"),
                ),
            ),
        }
        return SimulatedService(config=config, ground_truth=ground_truth, **tables)

    @staticmethod
    def _has_national_id(persons_table: pl.DataFrame, order: np.ndarray) -> np.ndarray:
        """Per person index (not table row): whether the person has a national ID number."""
        has_id = np.zeros(len(order), dtype=bool)
        has_id[order] = persons_table["national_id"].is_not_null().to_numpy()
        return has_id

    def _assessments_table(
        self,
        persons: dict[str, np.ndarray],
        episodes: dict[str, np.ndarray],
        episode_key: np.ndarray,
        episode_order: np.ndarray,
        prison_number: np.ndarray,
    ) -> pl.DataFrame:
        """Intake assessments and RNR reassessments, in the custody_episodes order."""
        ids = episode_order
        person = episodes["person"][ids]
        # Table order: a person's episodes are contiguous and in admission order.
        breach = (episodes["admission_type"][ids] == RECALL) | (
            episodes["released"][ids] & (episodes["release_type"][ids] == ESCAPE)
        )
        starts = np.r_[True, person[1:] != person[:-1]]
        cumulative = np.cumsum(breach)
        before = cumulative - breach
        group_start = np.maximum.accumulate(np.where(starts, np.arange(len(ids)), 0))
        earlier_escape = (before - before[group_start]) > 0
        recall_now = episodes["admission_type"][ids] == RECALL
        sentenced = episodes["sentenced"][ids]
        inputs = assessment_model.EpisodeInputs(
            episode_key=episode_key[ids],
            person=person,
            admission_day=episodes["admission_day"][ids].astype(np.int64),
            end_day=np.where(
                episodes["released"][ids], episodes["release_day"][ids], self.extract_day
            ).astype(np.int64),
            sentence_day=np.where(sentenced, episodes["sentence_day"][ids], -1).astype(np.int64),
            expected_release_day=np.where(
                sentenced, episodes["expected_release_day"][ids], -1
            ).astype(np.int64),
            prior=episodes["prior"][ids].astype(np.int64),
            age_at_admission=episodes["age_at_admission"][ids].astype(float),
            earlier_breach=earlier_escape | recall_now,
        )
        person_inputs = assessment_model.PersonInputs(
            latent=persons["latent"],
            female=persons["female"],
            prison_number=prison_number,
            literacy=np.asarray(self.person_literacy),
            languages=self.person_languages,
            needs_codes=self.person_needs_codes,
            national_language=self.profile.language,
        )
        return assessment_model.simulate_assessments(
            self.config, self.rng_assessments, person_inputs, inputs
        )

    def _facilities_table(self, *, in_custody: int) -> pl.DataFrame:
        """The country's facilities, with capacities scaled to the simulated population."""
        facilities = self.profile.facilities
        custody_capacity = sum(
            f.capacity for f in facilities if f.facility_type != "community_office"
        )
        scale = in_custody / (self.config.occupancy_rate * custody_capacity)
        return pl.DataFrame(
            {
                "code": [f.code for f in facilities],
                "name": [f.name for f in facilities],
                "region": [f.region for f in facilities],
                "facility_type": [f.facility_type for f in facilities],
                "security_level": [f.security_level for f in facilities],
                "capacity": [max(5, round(f.capacity * scale)) for f in facilities],
                "population_sex": [f.population_sex for f in facilities],
            },
            schema={
                "code": pl.String,
                "name": pl.String,
                "region": pl.String,
                "facility_type": pl.String,
                "security_level": pl.String,
                "capacity": pl.Int64,
                "population_sex": pl.String,
            },
        )

    def _draw_person_records(self, persons: dict[str, np.ndarray]) -> None:
        """Names, languages, literacy, needs and gender: the recorded attributes.

        Drawn before the custody loop (programme eligibility needs literacy), in the same
        order on the names stream as when they were drawn with the tables, so the tables do
        not change: first the prison-number gaps, then these, then the national IDs.
        """
        config, profile, rng = self.config, self.profile, self.rng_names
        n = config.persons
        self.prison_number_gaps = rng.integers(1, 40, n)
        female = persons["female"]
        nationality = persons["nationality"]
        national = nationality == profile.code
        indigenous_share = (
            profile.indigenous_language_share
            if config.indigenous_language_share is None
            else config.indigenous_language_share
        )
        indigenous = national & (rng.random(n) < indigenous_share)
        indigenous_codes = [code for code, _ in profile.indigenous_languages]
        indigenous_weights = np.array([w for _, w in profile.indigenous_languages])
        indigenous_language = np.array(indigenous_codes)[_choose_from(rng, indigenous_weights, n)]
        language_draws = rng.random(n)
        second_language_draws = rng.random(n)
        languages = []
        cultures = []
        for i in range(n):
            code = str(nationality[i])
            if national[i]:
                spoken = profile.language
                if indigenous[i]:
                    spoken = f"{profile.language};{indigenous_language[i]}"
                languages.append(spoken)
                mapuche = indigenous[i] and indigenous_language[i] == "arn"
                cultures.append("mapuche" if mapuche else CULTURE_OF_NATIONALITY[code])
                continue
            options = LANGUAGES_BY_NATIONALITY[code]
            cumulative = np.cumsum([w for _, w in options])
            index = min(
                int(np.searchsorted(cumulative / cumulative[-1], language_draws[i], side="right")),
                len(options) - 1,
            )
            spoken = options[index][0]
            if profile.code == "BR":
                extra, share = SECOND_LANGUAGE_IN_BRAZIL
                if second_language_draws[i] < share:
                    spoken = f"{spoken};{extra}"
            languages.append(spoken)
            cultures.append(CULTURE_OF_NATIONALITY[code])
        first_names, last_names = person_names(rng, cultures, female)
        self.person_first_names = first_names
        self.person_last_names = last_names
        self.person_languages = languages

        u = rng.random(n)
        literacy = np.select(
            [
                u < config.literacy_not_recorded_share,
                u < config.literacy_not_recorded_share + config.literacy_illiterate_share,
                u
                < config.literacy_not_recorded_share
                + config.literacy_illiterate_share
                + config.literacy_limited_share,
            ],
            ["not_recorded", "illiterate", "limited"],
            "literate",
        )

        prevalence = config.pairs("needs_prevalence")
        needs_draws = rng.random((n, len(NEEDS_CODES)))
        # Mental-health needs are commoner with a higher antisocial personality level.
        personality = persons["levels"][:, CENTRAL_EIGHT.index("antisocial_personality")]
        needs_matrix = np.stack(
            [
                needs_draws[:, j]
                < prevalence.get(code, 0.0)
                * (0.5 + personality if code == "mental_health" else 1.0)
                for j, code in enumerate(NEEDS_CODES)
            ],
            axis=1,
        )
        needs_codes = [
            ";".join(code for code, has in zip(NEEDS_CODES, row, strict=True) if has) or None
            for row in needs_matrix
        ]
        self.person_literacy = literacy
        self.person_needs_codes = needs_codes

        u = rng.random(n)
        not_recorded = config.gender_not_recorded_share
        non_binary = not_recorded + config.non_binary_share
        gender = np.select(
            [
                u < not_recorded,
                u < non_binary,
                ~female & (u < non_binary + config.trans_woman_share),
                female & (u < non_binary + config.trans_man_share),
                female,
            ],
            ["not_recorded", "non_binary", "trans_woman", "trans_man", "woman"],
            "man",
        )

        self.person_gender = gender

    def _persons_table(
        self, persons: dict[str, np.ndarray], prison_number: np.ndarray, order: np.ndarray
    ) -> pl.DataFrame:
        female = persons["female"]
        nationality = persons["nationality"]
        national = nationality == self.profile.code
        first_names, last_names = self.person_first_names, self.person_last_names
        languages, literacy = self.person_languages, self.person_literacy
        needs_codes, gender = self.person_needs_codes, self.person_gender
        national_id = self._national_ids(national, persons)

        table = pl.DataFrame(
            {
                "prison_number": prison_number.tolist(),
                "national_id": national_id,
                "first_names": first_names,
                "last_names": last_names,
                "date_of_birth": self.date_of_birth_day.astype(np.int32),
                "sex": np.where(female, "female", "male"),
                "gender": gender,
                "nationality": nationality,
                "languages": languages,
                "literacy": literacy,
                "needs_codes": needs_codes,
                "education_level": self.person_education.tolist(),
            },
            schema={
                "prison_number": pl.String,
                "national_id": pl.String,
                "first_names": pl.String,
                "last_names": pl.String,
                "date_of_birth": pl.Int32,
                "sex": pl.String,
                "gender": pl.String,
                "nationality": pl.String,
                "languages": pl.String,
                "literacy": pl.String,
                "needs_codes": pl.String,
                "education_level": pl.String,
            },
        ).with_columns(pl.col("date_of_birth").cast(pl.Date))
        return table[order.tolist()]

    def _national_ids(
        self, national: np.ndarray, persons: dict[str, np.ndarray]
    ) -> list[str | None]:
        config, rng = self.config, self.rng_names
        n = config.persons
        has_id = national | (rng.random(n) >= config.foreign_without_national_id_share)
        if self.profile.code == "CL":
            birth_year = 1970 + self.date_of_birth_day / DAYS_PER_YEAR
            # RUT numbers grow with the year of registration at birth.
            centre = 9_000_000 + (birth_year - 1960) * 280_000
            low = np.where(national, np.maximum(centre - 400_000, 1_000_000), 22_000_000)
            high = np.where(national, np.maximum(centre + 400_000, 1_500_000), 28_000_000)
            numbers = unique_numbers(rng, low.astype(np.int64), high.astype(np.int64))
            return [
                chilean_rut(int(v)) if ok else None for v, ok in zip(numbers, has_id, strict=True)
            ]
        low = np.full(n, 10_000_000, dtype=np.int64)
        high = np.full(n, 999_999_999, dtype=np.int64)
        numbers = unique_numbers(rng, low, high)
        return [
            brazilian_cpf(int(v)) if ok else None for v, ok in zip(numbers, has_id, strict=True)
        ]

    def _person_truth_table(
        self, persons: dict[str, np.ndarray], prison_number: np.ndarray, order: np.ndarray
    ) -> pl.DataFrame:
        columns: dict[str, Any] = {"prison_number": prison_number.tolist()}
        for j, name in enumerate(CENTRAL_EIGHT):
            columns[name] = np.round(persons["levels"][:, j], 6)
        columns["linear_predictor"] = np.round(persons["lp_person"], 6)
        columns["prior_custodial_episodes"] = persons["prior_before_extract"].astype(np.int64)
        columns["motivation"] = np.round(self.programme_simulation.motivation, 6)
        return pl.DataFrame(columns)[order.tolist()]

    def _episodes_table(
        self, episodes: dict[str, np.ndarray], prison_number: np.ndarray
    ) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
        person = episodes["person"]
        order = np.lexsort((episodes["admission_day"], prison_number[person]))
        sorted_person = person[order]
        starts = np.r_[True, sorted_person[1:] != sorted_person[:-1]]
        group_start = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
        sequence = np.arange(len(order)) - group_start + 1
        episode_key = np.empty(len(order), dtype=object)
        episode_key[order] = [
            f"{prison_number[p]}-{s:02d}" for p, s in zip(sorted_person, sequence, strict=True)
        ]
        codes = self.facility_codes
        released = episodes["released"]
        sentenced = episodes["sentenced"]
        frame = pl.DataFrame(
            {
                "episode_key": episode_key.tolist(),
                "prison_number": prison_number[person].tolist(),
                "admission_facility": codes[episodes["slot_facility"][:, SLOT_ADMISSION]],
                "facility": codes[episodes["facility"]],
                "admission_date": episodes["admission_day"].astype(np.int32),
                "admission_type": np.array(ADMISSION_TYPES)[episodes["admission_type"]],
                "legal_status": np.where(sentenced, "sentenced", "remand"),
                "main_offence_category": np.array(OFFENCE_CATEGORIES)[episodes["offence"]],
                "sentence_length_days": episodes["sentence_days"],
                "sentence_date": episodes["sentence_day"].astype(np.int32),
                "expected_release_date": episodes["expected_release_day"].astype(np.int32),
                "release_date": episodes["release_day"].astype(np.int32),
                "release_type": np.array(RELEASE_TYPES)[episodes["release_type"]],
                "_sentenced": sentenced,
                "_released": released,
            },
            schema_overrides={"episode_key": pl.String, "prison_number": pl.String},
        )
        is_sentenced = pl.col("_sentenced")
        is_released = pl.col("_released")
        frame = frame.select(
            "episode_key",
            "prison_number",
            "admission_facility",
            "facility",
            pl.col("admission_date").cast(pl.Date),
            "admission_type",
            "legal_status",
            "main_offence_category",
            pl.when(is_sentenced)
            .then(pl.col("sentence_length_days"))
            .alias("sentence_length_days"),
            pl.when(is_sentenced)
            .then(pl.col("sentence_date").cast(pl.Date))
            .alias("sentence_date"),
            pl.when(is_sentenced)
            .then(pl.col("expected_release_date").cast(pl.Date))
            .alias("expected_release_date"),
            pl.when(is_released).then(pl.col("release_date").cast(pl.Date)).alias("release_date"),
            pl.when(is_released).then(pl.col("release_type")).alias("release_type"),
        )
        return frame[order.tolist()], episode_key, order

    def _movements_table(
        self, episodes: dict[str, np.ndarray], episode_key: np.ndarray, episode_order: np.ndarray
    ) -> pl.DataFrame:
        valid = episodes["slot_valid"][episode_order]
        day = episodes["slot_day"][episode_order]
        facility = episodes["slot_facility"][episode_order]
        reason = episodes["slot_reason"][episode_order]
        n = valid.shape[0]
        # Facility the person is in just before each slot.
        before = np.full((n, SLOTS), -1, dtype=np.int64)
        current = np.full(n, -1, dtype=np.int64)
        for slot in range(SLOTS):
            before[:, slot] = current
            if slot < SLOT_RELEASE:
                current = np.where(valid[:, slot], facility[:, slot], current)
        rows, slots = np.nonzero(valid)
        kind = np.where(
            slots == SLOT_ADMISSION,
            "admission",
            np.where(slots == SLOT_RELEASE, "release", "transfer"),
        )
        codes = np.append(self.facility_codes, None).astype(object)  # index -1 is null
        return pl.DataFrame(
            {
                "episode_key": episode_key[episode_order][rows].tolist(),
                "movement_date": day[rows, slots].astype(np.int32),
                "kind": kind,
                "from_facility": codes[before[rows, slots]].tolist(),
                "to_facility": codes[facility[rows, slots]].tolist(),
                "reason": reason[rows, slots].tolist(),
            },
            schema={
                "episode_key": pl.String,
                "movement_date": pl.Int32,
                "kind": pl.String,
                "from_facility": pl.String,
                "to_facility": pl.String,
                "reason": pl.String,
            },
        ).with_columns(pl.col("movement_date").cast(pl.Date))

    def _events_table(
        self, events: dict[str, np.ndarray], prison_number: np.ndarray, episode_key: np.ndarray
    ) -> pl.DataFrame:
        numbers = prison_number[events["person"]]
        order = np.lexsort(
            (events["offence_day"], events["event_type"], numbers, events["event_day"])
        )
        event_type = events["event_type"][order]
        event_day = events["event_day"][order]
        offence_day = events["offence_day"][order]
        episode_id = events["episode_id"][order]
        count = len(order)
        references = self._references(event_type, event_day, episode_id, episode_key)
        return pl.DataFrame(
            {
                "event_key": [f"EV-{i:07d}" for i in range(1, count + 1)],
                "prison_number": numbers[order].tolist(),
                "event_type": np.array(EVENT_TYPES)[event_type],
                "event_date": event_day.astype(np.int32),
                "offence_date": np.where(offence_day >= 0, offence_day, 0).astype(np.int32),
                "_has_offence": offence_day >= 0,
                "source": np.array(EVENT_SOURCES)[event_type],
                "reference": references,
            },
            schema_overrides={"prison_number": pl.String, "reference": pl.String},
        ).select(
            "event_key",
            "prison_number",
            "event_type",
            pl.col("event_date").cast(pl.Date),
            pl.when(pl.col("_has_offence"))
            .then(pl.col("offence_date").cast(pl.Date))
            .alias("offence_date"),
            "source",
            "reference",
        )

    def _references(
        self,
        event_type: np.ndarray,
        event_day: np.ndarray,
        episode_id: np.ndarray,
        episode_key: np.ndarray,
    ) -> list[str]:
        """Reference numbers in each agency's style (Chile: parte, RUC, RIT; Brazil: BO, CNJ)."""
        rng = self.rng_references
        count = len(event_type)
        serial = rng.integers(1, 999_999, count)
        court = rng.integers(1, 9999, count)
        years = (EPOCH.year + (event_day + 0.5) / DAYS_PER_YEAR).astype(int)
        chile = self.profile.code == "CL"
        references = []
        for i in range(count):
            kind = event_type[i]
            year = int(years[i])
            number = int(serial[i])
            if kind == REINCARCERATION:
                references.append(str(episode_key[episode_id[i]]))
            elif chile:
                if kind == REARREST:
                    references.append(f"Parte {number:06d}/{year}")
                elif kind == CHARGE:
                    body = f"{year % 100:02d}{number:08d}"
                    references.append(f"RUC {chilean_rut(int(body)).replace('.', '')}")
                elif kind == RECONVICTION:
                    references.append(f"RIT O-{int(court[i])}-{year}")
                else:
                    references.append(f"CRS-{year}-{number % 100_000:05d}")
            elif kind == REARREST:
                references.append(f"BO {number:06d}/{year}")
            elif kind == CHARGE:
                references.append(f"IP {number % 100_000:05d}/{year}")
            elif kind == RECONVICTION:
                references.append(_cnj_number(number, year, int(court[i])))
            else:
                references.append(f"VEC-{year}-{number % 100_000:05d}")
        return references


def _expected_exposure(lag_years: np.ndarray, shape: float, exit_rate: float) -> float:
    """E over lags L of the integral of shape*t**(shape-1)*exp(-rate*(t+L)) on [0, 3 - L]."""
    horizon = np.maximum(3.0 - lag_years, 0.0)
    # With u = t**shape the integrand is exp(-rate*(u**(1/shape) + L)) du on [0, horizon**shape].
    grid = np.linspace(0.0, 1.0, 129)
    upper = horizon**shape
    u = upper[:, None] * grid[None, :]
    values = np.exp(-exit_rate * (u ** (1.0 / shape) + lag_years[:, None]))
    integral = upper * np.trapezoid(values, grid, axis=1)
    return float(np.mean(integral))


def _cnj_number(sequence: int, year: int, origin: int) -> str:
    """Brazilian court case number (CNJ Resolution 65/2008) with its mod-97 check digits."""
    segment, court = 8, 26  # state justice, São Paulo
    origin = origin % 10_000
    base = int(f"{sequence % 10_000_000:07d}{year:04d}{segment}{court:02d}{origin:04d}00")
    check = 98 - base % 97
    return f"{sequence % 10_000_000:07d}-{check:02d}.{year:04d}.{segment}.{court:02d}.{origin:04d}"


def reconviction_rate_3y(
    custody_episodes: pl.DataFrame,
    outcome_events: pl.DataFrame,
    facilities: pl.DataFrame,
    *,
    extract_date: datetime.date,
    facility_types: tuple[str, ...] = ("closed",),
) -> dict[str, Any]:
    """Share of releases followed by a reconviction within 3 calendar years.

    Counts releases of type end_of_sentence, parole or pardon whose facility at release has
    one of ``facility_types`` and whose release_date + 3 years is on or before
    ``extract_date`` (full follow-up). A release counts as reconvicted when the person has a
    reconviction event with release_date < event_date <= release_date + 3 years.
    """
    releases = release_reconvicted_3y(
        custody_episodes,
        outcome_events,
        facilities,
        extract_date=extract_date,
        facility_types=facility_types,
    )
    count = releases.height
    reconvicted = int(releases["reconvicted"].sum()) if count else 0
    return {
        "facility_types": list(facility_types),
        "releases": count,
        "reconvicted": reconvicted,
        "rate": reconvicted / count if count else None,
    }


def release_reconvicted_3y(
    custody_episodes: pl.DataFrame,
    outcome_events: pl.DataFrame,
    facilities: pl.DataFrame,
    *,
    extract_date: datetime.date,
    facility_types: tuple[str, ...] = ("closed",),
) -> pl.DataFrame:
    """One row per counted release (as in ``reconviction_rate_3y``), in the episodes' order:
    ``episode_key``, ``prison_number``, ``release_date`` and ``reconvicted`` (bool)."""
    types = facilities.select(pl.col("code").alias("facility"), "facility_type")
    releases = (
        custody_episodes.join(types, on="facility", how="left")
        .filter(
            pl.col("release_type").is_in(COUNTED_RELEASE_TYPES)
            & pl.col("facility_type").is_in(facility_types)
        )
        .with_columns(followup_end_date=pl.col("release_date").dt.offset_by("3y"))
        .filter(pl.col("followup_end_date") <= extract_date)
        .select("episode_key", "prison_number", "release_date", "followup_end_date")
    )
    reconvictions = outcome_events.filter(pl.col("event_type") == "reconviction").select(
        "prison_number", "event_date"
    )
    reconvicted = (
        releases.join(reconvictions, on="prison_number", how="inner")
        .filter(
            (pl.col("event_date") > pl.col("release_date"))
            & (pl.col("event_date") <= pl.col("followup_end_date"))
        )
        .select("episode_key")
        .unique()
    )
    return releases.select(
        "episode_key",
        "prison_number",
        "release_date",
        pl.col("episode_key").is_in(reconvicted["episode_key"].implode()).alias("reconvicted"),
    )

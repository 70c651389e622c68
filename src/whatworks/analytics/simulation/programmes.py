"""Simulated rehabilitation programmes: catalogue, groups, referrals, attendance, completion.

The catalogue is packaged data (``programmes.yaml``). For each generation of custody
episodes, before the releases are followed up, people are referred to programmes, wait for
a place in a group at their facility, attend its sessions, and complete or leave. Completing
a programme during an episode adds the programme's planted ``true_log_hazard_ratio`` to the
linear predictor of the hazard after that episode's release. Selection runs on the static
risk and on a latent motivation that never enters the hazard. See docs/simulator.md,
section 5b. Everything is vectorised over episodes; the only loops are over programmes and
over a few allocation rounds.
"""

from __future__ import annotations

import datetime
import functools
import importlib.resources
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import yaml

from whatworks.analytics.simulation.config import (
    CENTRAL_EIGHT,
    EDUCATION_LEVELS,
    SimulationConfig,
)
from whatworks.analytics.treatment.common import (
    ADAPTATIONS,
    EVIDENCE_RATINGS,
    LITERACY_LEVELS,
    PROGRAMME_TYPES,
    RISK_BANDS,
)

EPOCH = datetime.date(1970, 1, 1)
NEVER = np.int64(10**9)
DAYS_PER_YEAR = 365.25

# One vocabulary for the simulator and the treatment rules, so simulated programmes are
# always valid input for the rules and the app.
LITERACY_ORDER = LITERACY_LEVELS
REMISSION_KINDS = ("study", "work", "none")
SETTINGS = ("facility", "community")

REFERRAL_STATUSES = (
    "waitlisted",
    "allocated",
    "in_progress",
    "completed",
    "not_completed",
    "not_suitable",
)
WAITLISTED, ALLOCATED, IN_PROGRESS, COMPLETED, NOT_COMPLETED, NOT_SUITABLE = range(6)
END_REASONS = (
    "withdrawn_self",
    "removed_staff",
    "transferred",
    "released",
    "health",
    "security",
    "other",
)
WITHDRAWN_SELF, REMOVED_STAFF, TRANSFERRED, RELEASED, HEALTH, SECURITY, OTHER = range(7)
# Reasons for leaving early other than release, transfer and removal for non-attendance.
DROPOUT_REASONS = np.array([WITHDRAWN_SELF, REMOVED_STAFF, HEALTH, SECURITY, OTHER])
DROPOUT_REASON_WEIGHTS = np.array([0.45, 0.20, 0.15, 0.10, 0.10])
ATTENDANCE_STATUSES = ("attended", "late", "excused", "unexcused")
ATTENDED, LATE, EXCUSED, UNEXCUSED = range(4)
EXCUSE_REASONS = ("health", "court", "lockdown", "transfer", "visit", "other")
EXCUSE_REASON_WEIGHTS = np.array([0.35, 0.20, 0.20, 0.05, 0.10, 0.10])
LATE_HOURS_LOST = 0.5
REVOKED_FRACTIONS = ("1/3", "1/4", "1/6")
REVOKED_FRACTION_WEIGHTS = np.array([0.3, 0.3, 0.4])
FAULT_RISK_SLOPE = 0.5
FAULT_MOTIVATION_SLOPE = -0.3
MAX_FAULTS_PER_EPISODE = 5
ALLOCATION_ROUNDS = 8
# Weekday offsets (Monday = 0) of the sessions of a week, by sessions per week.
WEEKDAYS = {1: (0,), 2: (0, 3), 3: (0, 2, 4), 4: (0, 1, 3, 4), 5: (0, 1, 2, 3, 4)}
START_TIMES = ("09:00", "14:00")
RUNNING_FACILITY_TYPES = ("closed", "semi_open")
_OTHER_SEX = {"male": "female", "female": "male"}

PROGRAMME_COLUMNS = {
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
}
GROUP_COLUMNS = {
    "group_key": pl.String,
    "programme_code": pl.String,
    "facility": pl.String,
    "start_date": pl.Date,
    "end_date": pl.Date,
    "capacity": pl.Int64,
}
SESSION_COLUMNS = {
    "session_key": pl.String,
    "group_key": pl.String,
    "session_date": pl.Date,
    "start_time": pl.String,
    "hours": pl.Float64,
}
REFERRAL_COLUMNS = {
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
}
ATTENDANCE_COLUMNS = {
    "referral_key": pl.String,
    "session_key": pl.String,
    "status": pl.String,
    "excuse_reason": pl.String,
    "hours": pl.Float64,
}
FAULT_COLUMNS = {
    "prison_number": pl.String,
    "episode_key": pl.String,
    "fault_date": pl.Date,
    "severity": pl.String,
    "revoked_fraction": pl.String,
}


@dataclass(frozen=True)
class Programme:
    """One catalogue entry, with the country's name, provider and languages resolved."""

    code: str
    name: str
    programme_type: str
    target_needs: tuple[str, ...]
    eligible_sexes: tuple[str, ...]
    min_age: int | None
    max_age: int | None
    eligible_risk_bands: tuple[str, ...]
    min_literacy: str | None
    min_education: str | None
    max_education: str | None
    dosage_sessions: int
    session_hours: float
    sessions_per_week: int
    group_capacity: int
    setting: str
    provider: str
    languages: tuple[str, ...]
    adaptations: tuple[str, ...]
    evidence_rating: str
    evidence_source: str
    remission_kind: str
    completes_school_level: bool
    referral_priority: float
    places_per_100: float
    true_log_hazard_ratio: float

    @property
    def dosage_hours(self) -> float:
        return round(self.dosage_sessions * self.session_hours, 2)


def _per_country(value: Any, country: str) -> Any:
    return value[country] if isinstance(value, dict) else value


@functools.cache
def load_catalogue(country: str) -> tuple[Programme, ...]:
    """The packaged catalogue for ``country`` (CL or BR), validated."""
    text = importlib.resources.files(__package__).joinpath("programmes.yaml").read_text("utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    entries = yaml.load(text, Loader=loader)["programmes"]  # noqa: S506 (a safe loader)
    programmes = []
    for entry in entries:
        programme = Programme(
            code=entry["code"],
            name=_per_country(entry["name"], country),
            programme_type=entry["programme_type"],
            target_needs=tuple(entry["target_needs"]),
            eligible_sexes=tuple(entry["eligible_sexes"]),
            min_age=entry["min_age"],
            max_age=entry["max_age"],
            eligible_risk_bands=tuple(entry["eligible_risk_bands"]),
            min_literacy=entry["min_literacy"],
            min_education=entry["min_education"],
            max_education=entry["max_education"],
            dosage_sessions=int(entry["dosage_sessions"]),
            session_hours=float(entry["session_hours"]),
            sessions_per_week=int(entry["sessions_per_week"]),
            group_capacity=int(entry["group_capacity"]),
            setting=entry["setting"],
            provider=_per_country(entry["provider"], country),
            languages=tuple(_per_country(entry["languages"], country) or ()),
            adaptations=tuple(entry["adaptations"]),
            evidence_rating=entry["evidence_rating"],
            evidence_source=entry["evidence_source"],
            remission_kind=entry["remission_kind"],
            completes_school_level=bool(entry["completes_school_level"]),
            referral_priority=float(entry["referral_priority"]),
            places_per_100=float(entry["places_per_100"]),
            true_log_hazard_ratio=float(entry["true_log_hazard_ratio"]),
        )
        _validate(programme)
        programmes.append(programme)
    codes = [programme.code for programme in programmes]
    if len(set(codes)) != len(codes):
        raise ValueError("programmes.yaml: duplicate programme codes")
    return tuple(programmes)


def _validate(programme: Programme) -> None:
    where = f"programmes.yaml, {programme.code}"
    checks = [
        (programme.programme_type in PROGRAMME_TYPES, "programme_type"),
        (
            set(programme.target_needs) <= set(CENTRAL_EIGHT[1:]),
            "target_needs (Central Eight ids other than criminal_history)",
        ),
        (set(programme.eligible_sexes) <= {"male", "female"}, "eligible_sexes"),
        (set(programme.eligible_risk_bands) <= set(RISK_BANDS), "eligible_risk_bands"),
        (programme.min_literacy in (None, *LITERACY_ORDER), "min_literacy"),
        (programme.min_education in (None, *EDUCATION_LEVELS[:-1]), "min_education"),
        (programme.max_education in (None, *EDUCATION_LEVELS[:-1]), "max_education"),
        (programme.dosage_sessions >= 1 and programme.session_hours > 0, "dosage"),
        (programme.sessions_per_week in WEEKDAYS, "sessions_per_week (1 to 5)"),
        (programme.group_capacity >= 1, "group_capacity"),
        (programme.setting in SETTINGS, "setting"),
        (set(programme.adaptations) <= set(ADAPTATIONS), "adaptations"),
        (programme.evidence_rating in EVIDENCE_RATINGS, "evidence_rating"),
        (programme.remission_kind in REMISSION_KINDS, "remission_kind"),
        (programme.places_per_100 >= 0, "places_per_100"),
        (math.isfinite(programme.true_log_hazard_ratio), "true_log_hazard_ratio"),
    ]
    for ok, field in checks:
        if not ok:
            raise ValueError(f"{where}: invalid {field}")


def catalogue_table(programmes: tuple[Programme, ...]) -> pl.DataFrame:
    """The programmes table (no truth column)."""

    def joined(values: tuple[str, ...]) -> str | None:
        return ";".join(values) or None

    rows = [
        {
            "code": p.code,
            "name": p.name,
            "programme_type": p.programme_type,
            "target_needs": joined(p.target_needs),
            "eligible_sexes": joined(p.eligible_sexes),
            "min_age": p.min_age,
            "max_age": p.max_age,
            "eligible_risk_bands": joined(p.eligible_risk_bands),
            "min_literacy": p.min_literacy,
            "min_education": p.min_education,
            "max_education": p.max_education,
            "dosage_hours": p.dosage_hours,
            "dosage_sessions": p.dosage_sessions,
            "session_hours": p.session_hours,
            "group_capacity": p.group_capacity,
            "setting": p.setting,
            "provider": p.provider,
            "languages": joined(p.languages),
            "adaptations": joined(p.adaptations),
            "evidence_rating": p.evidence_rating,
            "evidence_source": p.evidence_source,
            "remission_kind": p.remission_kind,
            "completes_school_level": p.completes_school_level,
        }
        for p in programmes
    ]
    return pl.DataFrame(rows, schema=PROGRAMME_COLUMNS)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _choose_from(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    cumulative = np.cumsum(weights / weights.sum())
    return np.minimum(np.searchsorted(cumulative, rng.random(size), side="right"), len(weights) - 1)


def _date(day: int) -> datetime.date:
    return EPOCH + datetime.timedelta(days=int(day))


@dataclass
class PersonInputs:
    """What the programme model needs to know of each person (index = person)."""

    female: np.ndarray
    levels: np.ndarray  # (n, 8) latent Central Eight levels in [0, 1]
    lp_person: np.ndarray  # person_truth.linear_predictor
    lp_first_admission: np.ndarray  # static lp at first admission (for the risk bands)
    literacy: np.ndarray  # str
    education: np.ndarray  # str
    languages: list[str]


@dataclass
class FacilityInputs:
    codes: np.ndarray
    facility_type: np.ndarray
    population_sex: np.ndarray


class ProgrammeSimulation:
    """Programme activity of all generations of custody episodes, on one random stream."""

    def __init__(
        self,
        config: SimulationConfig,
        rng: np.random.Generator,
        persons: PersonInputs,
        facilities: FacilityInputs,
        *,
        window_start_day: int,
        extract_day: int,
    ) -> None:
        self.config = config
        self.rng = rng
        self.persons = persons
        self.facilities = facilities
        self.window_start_day = window_start_day
        self.extract_day = extract_day
        self.catalogue = load_catalogue(config.country)
        n = len(persons.female)

        # Motivation: correlated with the standardised static risk, never in the hazard.
        rho = config.motivation_risk_correlation
        risk = persons.lp_person
        spread = risk.std()
        z_risk = (risk - risk.mean()) / spread if spread > 0 else np.zeros(n)
        self.motivation = rho * z_risk + math.sqrt(1.0 - rho**2) * rng.standard_normal(n)

        quantiles = (
            config.risk_band_low_upper_quantile,
            config.risk_band_moderate_upper_quantile,
            config.risk_band_high_upper_quantile,
        )
        self.risk_band_cutpoints = np.quantile(persons.lp_first_admission, quantiles)

        programme_count = len(self.catalogue)
        self.person_eligible = np.stack(
            [self._person_eligibility(p) for p in self.catalogue], axis=1
        )
        self.need = np.stack([self._need(p) for p in self.catalogue], axis=1)
        self.completed_before = np.zeros((n, programme_count), dtype=bool)
        self.effects = np.array([p.true_log_hazard_ratio for p in self.catalogue])

        # Schedules: groups start on Mondays in fixed cycles per programme and facility.
        facility_count = len(facilities.codes)
        first_monday = window_start_day + (-(window_start_day + 3)) % 7
        self.cycle_days = np.zeros(programme_count, dtype=np.int64)
        self.session_offsets: list[np.ndarray] = []
        self.anchor = np.zeros((programme_count, facility_count), dtype=np.int64)
        self.runs = np.zeros((programme_count, facility_count), dtype=bool)
        gap_weeks = -(-config.programme_cycle_gap_days // 7)
        for j, programme in enumerate(self.catalogue):
            days = WEEKDAYS[programme.sessions_per_week]
            index = np.arange(programme.dosage_sessions)
            offsets = 7 * (index // len(days)) + np.array(days)[index % len(days)]
            self.session_offsets.append(offsets.astype(np.int64))
            weeks = int(offsets[-1] // 7) + 1 + gap_weeks
            self.cycle_days[j] = 7 * weeks
            for f in range(facility_count):
                self.anchor[j, f] = first_monday + 7 * ((3 * f + 5 * j) % weeks)
                self.runs[j, f] = programme.setting == "facility" and self._facility_runs(
                    programme, f
                )
        span = extract_day - window_start_day
        self.max_cycles = int(span // self.cycle_days.min()) + 3
        self.parallel = np.zeros((programme_count, facility_count), dtype=np.int64)
        self.seats_taken = np.zeros(programme_count * facility_count * self.max_cycles, np.int64)
        self.referral_batches: list[dict[str, np.ndarray]] = []
        self.attendance_batches: list[dict[str, np.ndarray]] = []
        self.fault_batches: list[dict[str, np.ndarray]] = []
        self.referral_count = 0

    # -- set-up -------------------------------------------------------------------------

    def _facility_runs(self, programme: Programme, f: int) -> bool:
        facility_type = self.facilities.facility_type[f]
        population = self.facilities.population_sex[f]
        if facility_type not in RUNNING_FACILITY_TYPES:
            return False
        sexes = set(programme.eligible_sexes)
        if sexes == {"female"}:
            return population in ("female", "mixed")
        if sexes == {"male"}:
            return population in ("male", "mixed")
        return True

    def _person_eligibility(self, programme: Programme) -> np.ndarray:
        """Sex, literacy, education and language rules (age and risk are per episode)."""
        persons = self.persons
        n = len(persons.female)
        ok = np.ones(n, dtype=bool)
        if programme.eligible_sexes:
            sex = np.where(persons.female, "female", "male")
            ok &= np.isin(sex, programme.eligible_sexes)
        literacy_rank = np.select(
            [persons.literacy == name for name in LITERACY_ORDER], [0, 1, 2], default=-1
        )  # -1: not recorded, assessed at referral and let through
        if programme.min_literacy is not None:
            needed = LITERACY_ORDER.index(programme.min_literacy)
            ok &= (literacy_rank < 0) | (literacy_rank >= needed)
        if programme.programme_type == "education_literacy":
            ok &= literacy_rank != 2
        education_rank = np.select(
            [persons.education == name for name in EDUCATION_LEVELS[:-1]],
            list(range(len(EDUCATION_LEVELS) - 1)),
            default=-1,
        )
        recorded = education_rank >= 0
        if programme.min_education is not None:
            ok &= ~recorded | (education_rank >= EDUCATION_LEVELS.index(programme.min_education))
        if programme.max_education is not None:
            ok &= ~recorded | (education_rank <= EDUCATION_LEVELS.index(programme.max_education))
        if programme.languages:
            spoken = set(programme.languages)
            ok &= np.array([bool(spoken & set(codes.split(";"))) for codes in persons.languages])
        return ok

    def _need(self, programme: Programme) -> np.ndarray:
        if not programme.target_needs:
            return np.zeros(len(self.persons.female))
        columns = [CENTRAL_EIGHT.index(name) for name in programme.target_needs]
        return self.persons.levels[:, columns].mean(axis=1) - 0.5

    def set_capacity(self, in_custody_by_facility: np.ndarray) -> None:
        """Parallel groups per cycle from the population each facility holds."""
        config = self.config
        for j, programme in enumerate(self.catalogue):
            places = (
                config.programme_places_scale
                * programme.places_per_100
                * in_custody_by_facility
                / 100.0
            )
            groups = np.maximum(1, np.rint(places / programme.group_capacity)).astype(np.int64)
            enough = places >= config.programme_min_group_fill * programme.group_capacity
            # Every programme runs at least at the largest facility holding each sex it serves.
            for sex in ("male", "female"):
                if programme.eligible_sexes and sex not in programme.eligible_sexes:
                    continue
                holds = self.runs[j] & (self.facilities.population_sex != _OTHER_SEX[sex])
                if holds.any():
                    largest = np.flatnonzero(holds)[np.argmax(in_custody_by_facility[holds])]
                    enough[largest] = True
            self.runs[j] &= enough
            self.parallel[j] = np.where(self.runs[j], groups, 0)

    # -- one generation -----------------------------------------------------------------

    def run_generation(self, episodes: dict[str, np.ndarray]) -> np.ndarray:
        """Programme activity of one generation; returns the planted log HR per episode.

        ``episodes`` holds, per episode: ``episode_id``, ``person``, ``admission_day``,
        ``planned_release_day`` (even after the extract), ``end_day`` (release day if
        released by the extract, else NEVER), ``lp`` (static risk at admission),
        ``age_at_admission`` and ``slot_day``/``slot_facility``/``slot_valid`` for the
        custody slots in time order (admission and transfers, as seen on the extract date).
        """
        n = len(episodes["person"])
        effect = np.zeros(n)
        if n == 0:
            return effect
        for j in range(len(self.catalogue)):
            completed = self._programme(j, episodes)
            effect += self.effects[j] * completed
        self._faults(episodes)
        return effect

    def _location(
        self, episodes: dict[str, np.ndarray], rows: np.ndarray, day: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Facility on ``day`` and the next movement day (or the end day) after it."""
        slot_day = episodes["slot_day"][rows]
        valid = episodes["slot_valid"][rows]
        facility = episodes["slot_facility"][rows]
        before = valid & (slot_day <= day[:, None])
        slots = slot_day.shape[1]
        last = slots - 1 - np.argmax(before[:, ::-1], axis=1)
        here = facility[np.arange(len(rows)), last]
        later = np.where(valid & (slot_day > day[:, None]), slot_day, NEVER).min(axis=1)
        return here, np.minimum(later, episodes["end_day"][rows])

    def _programme(self, j: int, episodes: dict[str, np.ndarray]) -> np.ndarray:
        config, rng, programme = self.config, self.rng, self.catalogue[j]
        n = len(episodes["person"])
        person = episodes["person"]
        lp = episodes["lp"]
        motivation = self.motivation[person]
        end_day = episodes["end_day"]
        extract = self.extract_day

        # Referral.
        band = np.searchsorted(self.risk_band_cutpoints, lp, side="right")
        age = episodes["age_at_admission"]
        eligible = self.person_eligible[person, j].copy()
        if programme.eligible_risk_bands:
            allowed = [RISK_BANDS.index(name) for name in programme.eligible_risk_bands]
            eligible &= np.isin(band, allowed)
        if programme.min_age is not None:
            eligible &= age >= programme.min_age
        if programme.max_age is not None:
            eligible &= age < programme.max_age + 1
        stay_years = np.clip(
            (episodes["planned_release_day"] - episodes["admission_day"]) / DAYS_PER_YEAR,
            1.0 / 12.0,
            5.0,
        )
        logit = (
            config.programme_referral_intercept
            + programme.referral_priority
            + config.programme_referral_time_slope * np.log(stay_years)
            + config.programme_referral_need_slope * self.need[person, j]
            + config.programme_referral_motivation_slope * motivation
            + config.programme_referral_risk_slope * lp
        )
        probability = _sigmoid(logit) * np.where(
            eligible, 1.0, config.programme_ineligible_referral_share
        )
        u = rng.random(n)
        delay = rng.exponential(config.programme_referral_median_days / math.log(2.0), n)
        referral_day = np.maximum(episodes["admission_day"], self.window_start_day) + np.ceil(
            delay
        ).astype(np.int64)
        referred = (
            (u < probability)
            & (referral_day < end_day)
            & (referral_day <= extract)
            & ~self.completed_before[person, j]
        )
        # Staff refer only to programmes their facility runs.
        candidates = np.flatnonzero(referred)
        at, _ = self._location(episodes, candidates, referral_day[candidates])
        rows = candidates[self.runs[j, at]]
        m = rows.size
        status = np.full(m, WAITLISTED)
        status_day = referral_day[rows].copy()
        end_reason = np.full(m, -1)
        group_facility = np.full(m, -1)
        group_cycle = np.full(m, -1)
        group_seat = np.full(m, -1)
        start_day = np.full(m, -1, dtype=np.int64)
        finish_day = np.full(m, -1, dtype=np.int64)
        referral_facility, _ = self._location(episodes, rows, referral_day[rows])

        suitable = eligible[rows]
        unsuitable = ~suitable
        status[unsuitable] = NOT_SUITABLE
        status_day[unsuitable] = np.minimum(
            referral_day[rows][unsuitable] + config.programme_assessment_days,
            np.minimum(end_day[rows][unsuitable], extract),
        )

        # Allocation: the next group at the person's facility with a free seat.
        ready = referral_day[rows] + config.programme_assessment_days
        day = ready.copy()
        waiting = suitable.copy()
        placed = np.zeros(m, dtype=bool)
        cycle = self.cycle_days[j]
        capacity = self.parallel[j] * programme.group_capacity
        notice = config.programme_allocation_notice_days
        for _ in range(ALLOCATION_ROUNDS):
            active = np.flatnonzero(waiting)
            if active.size == 0:
                break
            here, next_move = self._location(episodes, rows[active], day[active])
            gone = day[active] >= end_day[rows[active]]
            runs = self.runs[j, here] & ~gone
            anchor = self.anchor[j, here]
            k = np.maximum(0, -(-(day[active] - anchor) // cycle))
            start = anchor + k * cycle
            in_time = runs & (start < next_move) & (k < self.max_cycles)
            too_late = in_time & (start - notice > extract)
            candidate = in_time & ~too_late
            # Moved, released or no group here: look again from the next movement.
            move_on = ~in_time
            day[active[move_on]] = next_move[move_on]
            waiting[active[move_on & (next_move >= end_day[rows[active]])]] = False
            waiting[active[too_late]] = False
            chosen = active[candidate]
            if chosen.size == 0:
                continue
            facility = here[candidate]
            group = (j * len(self.facilities.codes) + facility) * self.max_cycles + k[candidate]
            order = np.lexsort((chosen, ready[chosen], group))
            sorted_group = group[order]
            first = np.r_[True, sorted_group[1:] != sorted_group[:-1]]
            position = np.arange(order.size) - np.maximum.accumulate(
                np.where(first, np.arange(order.size), 0)
            )
            seat = self.seats_taken[sorted_group] + position
            accepted = seat < capacity[facility[order]]
            np.add.at(self.seats_taken, sorted_group[accepted], 1)
            winners = chosen[order][accepted]
            placed[winners] = True
            waiting[winners] = False
            group_facility[winners] = facility[order][accepted]
            group_cycle[winners] = k[candidate][order][accepted]
            group_seat[winners] = seat[accepted]
            start_day[winners] = start[candidate][order][accepted]
            losers = chosen[order][~accepted]
            day[losers] = start[candidate][order][~accepted] + 1

        # Never placed: released while waiting, or still waiting at the extract date.
        unplaced = suitable & ~placed
        released_waiting = unplaced & (end_day[rows] <= extract)
        status[released_waiting] = NOT_COMPLETED
        end_reason[released_waiting] = RELEASED
        status_day[released_waiting] = end_day[rows][released_waiting]
        still_waiting = unplaced & ~released_waiting
        status_day[still_waiting] = np.minimum(ready[still_waiting], extract)

        completed_episode = np.zeros(n, dtype=bool)
        in_group = np.flatnonzero(placed)
        if in_group.size:
            self._take_part(
                j,
                episodes,
                rows,
                in_group,
                start_day,
                status,
                status_day,
                end_reason,
                finish_day,
                ready,
            )
            done = in_group[status[in_group] == COMPLETED]
            completed_episode[rows[done]] = True
            self.completed_before[person[rows[done]], j] = True

        first_key = self.referral_count
        self.referral_count += m
        self.referral_batches.append(
            {
                "referral_id": first_key + np.arange(m),
                "episode_id": episodes["episode_id"][rows],
                "person": person[rows],
                "programme": np.full(m, j),
                "facility": referral_facility,
                "referral_day": referral_day[rows],
                "status": status,
                "status_day": status_day,
                "end_reason": end_reason,
                "group_facility": group_facility,
                "group_cycle": group_cycle,
                "group_parallel": np.where(
                    group_seat >= 0, group_seat // programme.group_capacity, -1
                ),
                "start_day": start_day,
                "finish_day": finish_day,
            }
        )
        if self._pending_attendance is not None:
            batch = self._pending_attendance
            batch["referral_id"] = first_key + batch.pop("local")
            self.attendance_batches.append(batch)
            self._pending_attendance = None
        return completed_episode & (end_day <= extract)

    _pending_attendance: dict[str, np.ndarray] | None = None

    def _take_part(
        self,
        j: int,
        episodes: dict[str, np.ndarray],
        rows: np.ndarray,
        in_group: np.ndarray,
        start_day: np.ndarray,
        status: np.ndarray,
        status_day: np.ndarray,
        end_reason: np.ndarray,
        finish_day: np.ndarray,
        ready: np.ndarray,
    ) -> None:
        """Attendance, dropout, removal, transfer or release, and completion."""
        config, rng, programme = self.config, self.rng, self.catalogue[j]
        extract = self.extract_day
        episode_rows = rows[in_group]
        count = in_group.size
        sessions = programme.dosage_sessions
        person = episodes["person"][episode_rows]
        motivation = self.motivation[person]
        lp = episodes["lp"][episode_rows]
        start = start_day[in_group]
        session_day = start[:, None] + self.session_offsets[j][None, :]
        group_end = session_day[:, -1]

        # Leaving the facility: transfer or release.
        _, next_move = self._location(episodes, episode_rows, start)
        end_day = episodes["end_day"][episode_rows]
        leave_reason = np.where(next_move < end_day, TRANSFERRED, RELEASED)
        leave_day = np.where(next_move <= group_end, next_move, NEVER)

        # Dropout before the end (withdrawal, removal by staff, health, security, other).
        rate = config.programme_dropout_rate * np.exp(
            config.programme_dropout_motivation_slope * motivation
            + config.programme_dropout_risk_slope * lp
        )
        dropout_time = rng.exponential(1.0, count) / np.maximum(rate, 1e-12)
        dropout_index = np.maximum(1, np.floor(dropout_time * sessions)).astype(np.int64)
        dropout_reason = DROPOUT_REASONS[_choose_from(rng, DROPOUT_REASON_WEIGHTS, count)]

        # Attendance at each session.
        attend_probability = _sigmoid(
            config.programme_attendance_intercept
            + config.programme_attendance_motivation_slope * motivation
        )
        u_attend = rng.random((count, sessions))
        u_late = rng.random((count, sessions))
        u_excused = rng.random((count, sessions))
        excuse = _choose_from(rng, EXCUSE_REASON_WEIGHTS, count * sessions).reshape(count, sessions)
        attended = u_attend < attend_probability[:, None]
        session_status = np.where(
            attended,
            np.where(u_late < config.programme_late_share, LATE, ATTENDED),
            np.where(u_excused < config.programme_excused_share, EXCUSED, UNEXCUSED),
        )
        # Completion needs attendance (attended or late) at completion_share of the
        # sessions; staff remove a participant at the absence that makes it unreachable.
        allowed_absences = sessions - math.ceil(
            config.programme_completion_attendance_share * sessions - 1e-9
        )
        absences = np.cumsum(~attended, axis=1)
        over = absences > allowed_absences
        removal_index = np.where(over.any(axis=1), np.argmax(over, axis=1), sessions)

        index = np.arange(count)
        removal_day = np.where(
            removal_index < sessions,
            session_day[index, np.minimum(removal_index, sessions - 1)],
            NEVER,
        )
        dropout_day = np.where(
            dropout_index < sessions,
            session_day[index, np.minimum(dropout_index, sessions - 1)],
            NEVER,
        )
        ends = np.stack([leave_day, removal_day, dropout_day], axis=1)
        which = np.argmin(ends, axis=1)
        end = ends[index, which]
        reason = np.choose(
            which, [leave_reason, np.full(count, REMOVED_STAFF), dropout_reason]
        ).astype(np.int64)
        completed = end == NEVER
        final_day = np.where(completed, group_end, end)

        notice_day = np.maximum(ready[in_group], start - config.programme_allocation_notice_days)
        not_started = start > extract
        running = ~not_started & (final_day > extract)
        finished = ~not_started & ~running
        status[in_group] = np.select(
            [not_started, running, completed], [ALLOCATED, IN_PROGRESS, COMPLETED], NOT_COMPLETED
        )
        status_day[in_group] = np.select([not_started, running], [notice_day, start], final_day)
        end_reason[in_group] = np.where(finished & ~completed, reason, -1)
        finish_day[in_group] = np.where(finished, final_day, -1)

        # Sessions on the record: before leaving, up to the removal session, before the
        # dropout session, and on or before the extract date.
        session_index = np.arange(sessions)[None, :]
        recorded = (
            (session_day < leave_day[:, None])
            & (session_index <= removal_index[:, None])
            & (session_index < dropout_index[:, None])
            & (session_day <= extract)
        )
        hit_rows, hit_sessions = np.nonzero(recorded)
        hit_status = session_status[hit_rows, hit_sessions]
        hours = np.select(
            [hit_status == ATTENDED, hit_status == LATE],
            [programme.session_hours, max(programme.session_hours - LATE_HOURS_LOST, 0.25)],
            0.0,
        )
        self._pending_attendance = {
            "local": in_group[hit_rows],
            "session_index": hit_sessions,
            "status": hit_status,
            "excuse_reason": np.where(hit_status == EXCUSED, excuse[hit_rows, hit_sessions], -1),
            "hours": hours,
        }

    def _faults(self, episodes: dict[str, np.ndarray]) -> None:
        """Serious disciplinary faults while in custody within the window."""
        config, rng = self.config, self.rng
        n = len(episodes["person"])
        first = np.maximum(episodes["admission_day"], self.window_start_day)
        last = np.minimum(episodes["end_day"], self.extract_day + 1)
        years = np.maximum(last - first, 0) / DAYS_PER_YEAR
        rate = config.serious_fault_rate_per_year * np.exp(
            FAULT_RISK_SLOPE * episodes["lp"]
            + FAULT_MOTIVATION_SLOPE * self.motivation[episodes["person"]]
        )
        count = np.minimum(rng.poisson(rate * years), MAX_FAULTS_PER_EPISODE)
        offsets = rng.random((n, MAX_FAULTS_PER_EPISODE))
        fraction = _choose_from(rng, REVOKED_FRACTION_WEIGHTS, n * MAX_FAULTS_PER_EPISODE)
        rows, slot = np.nonzero(np.arange(MAX_FAULTS_PER_EPISODE)[None, :] < count[:, None])
        span = np.maximum(last - first, 1)
        day = first[rows] + np.floor(offsets[rows, slot] * span[rows]).astype(np.int64)
        self.fault_batches.append(
            {
                "episode_id": episodes["episode_id"][rows],
                "person": episodes["person"][rows],
                "fault_day": day,
                "fraction": fraction.reshape(n, MAX_FAULTS_PER_EPISODE)[rows, slot],
            }
        )

    # -- tables -------------------------------------------------------------------------

    def tables(
        self, *, prison_number: np.ndarray, episode_key: np.ndarray
    ) -> dict[str, pl.DataFrame]:
        """programmes, programme_groups, programme_sessions, programme_referrals,
        programme_attendance and disciplinary_faults."""
        codes = self.facilities.codes
        programme_codes = np.array([p.code for p in self.catalogue], dtype=object)
        tables = {"programmes": catalogue_table(self.catalogue)}
        referrals = _concat(self.referral_batches, REFERRAL_FIELDS)
        placed = referrals["group_facility"] >= 0

        # Groups that have (had) at least one participant.
        group_id = np.where(
            placed,
            (
                (referrals["programme"] * len(codes) + referrals["group_facility"])
                * self.max_cycles
                + referrals["group_cycle"]
            )
            * 1000
            + referrals["group_parallel"],
            -1,
        )
        unique_groups, group_index = np.unique(group_id[placed], return_inverse=True)
        parallel = unique_groups % 1000
        slot = unique_groups // 1000
        cycle = slot % self.max_cycles
        facility = (slot // self.max_cycles) % len(codes)
        programme = slot // self.max_cycles // len(codes)
        start = self.anchor[programme, facility] + cycle * self.cycle_days[programme]
        last_offset = np.array([self.session_offsets[p][-1] for p in programme], dtype=np.int64)
        group_keys = np.array(
            [
                f"{codes[f]}-{programme_codes[p]}-{_date(s):%Y%m%d}-{q + 1}"
                for f, p, s, q in zip(facility, programme, start, parallel, strict=True)
            ],
            dtype=object,
        )
        group_order = np.lexsort((group_keys, start))
        tables["programme_groups"] = pl.DataFrame(
            {
                "group_key": group_keys[group_order].tolist(),
                "programme_code": programme_codes[programme[group_order]].tolist(),
                "facility": codes[facility[group_order]].tolist(),
                "start_date": (start[group_order]).astype(np.int32),
                "end_date": (start + last_offset)[group_order].astype(np.int32),
                "capacity": np.array(
                    [self.catalogue[p].group_capacity for p in programme[group_order]],
                    dtype=np.int64,
                ),
            },
            schema_overrides={"start_date": pl.Int32, "end_date": pl.Int32},
        ).with_columns(pl.col("start_date").cast(pl.Date), pl.col("end_date").cast(pl.Date))

        # Sessions held on or before the extract date.
        session_group: list[np.ndarray] = []
        session_number: list[np.ndarray] = []
        session_days: list[np.ndarray] = []
        for g in group_order:
            days = start[g] + self.session_offsets[programme[g]]
            held = days <= self.extract_day
            session_group.append(np.full(int(held.sum()), g))
            session_number.append(np.flatnonzero(held))
            session_days.append(days[held])
        s_group = np.concatenate(session_group) if session_group else np.zeros(0, np.int64)
        s_number = np.concatenate(session_number) if session_number else np.zeros(0, np.int64)
        s_day = np.concatenate(session_days) if session_days else np.zeros(0, np.int64)
        session_hours = np.array([p.session_hours for p in self.catalogue])
        start_time = np.array(START_TIMES, dtype=object)[
            (programme + facility + cycle + parallel) % 2
        ]
        tables["programme_sessions"] = pl.DataFrame(
            {
                "group_key": group_keys[s_group].tolist(),
                "_number": s_number.astype(np.int64) + 1,
                "session_date": s_day.astype(np.int32),
                "start_time": start_time[s_group].tolist(),
                "hours": session_hours[programme[s_group]].astype(float),
            },
            schema={
                "group_key": pl.String,
                "_number": pl.Int64,
                "session_date": pl.Int32,
                "start_time": pl.String,
                "hours": pl.Float64,
            },
        ).select(
            _session_key(pl.col("group_key"), pl.col("_number")).alias("session_key"),
            "group_key",
            pl.col("session_date").cast(pl.Date),
            "start_time",
            "hours",
        )

        # Referrals, numbered by referral date, prison number and programme code.
        numbers = prison_number[referrals["person"]]
        referral_codes = programme_codes[referrals["programme"]]
        order = np.lexsort((referral_codes, numbers, referrals["referral_day"]))
        rank = np.empty(order.size, dtype=np.int64)
        rank[order] = np.arange(order.size)
        referral_keys = np.array([f"RF-{i + 1:07d}" for i in range(order.size)], dtype=object)
        key_of_id = np.empty(order.size, dtype=object)
        key_of_id[referrals["referral_id"]] = referral_keys[rank]
        referral_group = np.full(order.size, None, dtype=object)
        referral_group[placed] = group_keys[group_index]
        end_reasons = np.append(np.array(END_REASONS, dtype=object), None)
        frame = pl.DataFrame(
            {
                "referral_key": key_of_id[referrals["referral_id"]].tolist(),
                "prison_number": numbers.tolist(),
                "episode_key": episode_key[referrals["episode_id"]].tolist(),
                "programme_code": referral_codes.tolist(),
                "facility": codes[referrals["facility"]].tolist(),
                "referral_date": referrals["referral_day"].astype(np.int32),
                "status": np.array(REFERRAL_STATUSES)[referrals["status"]],
                "status_date": referrals["status_day"].astype(np.int32),
                "end_reason": end_reasons[referrals["end_reason"]].tolist(),
                "group_key": referral_group.tolist(),
                "start_date": np.maximum(referrals["start_day"], 0).astype(np.int32),
                "end_date": np.maximum(referrals["finish_day"], 0).astype(np.int32),
                "_started": (referrals["start_day"] >= 0)
                & (referrals["start_day"] <= self.extract_day),
                "_finished": referrals["finish_day"] >= 0,
            },
            schema_overrides={
                "referral_key": pl.String,
                "prison_number": pl.String,
                "episode_key": pl.String,
                "programme_code": pl.String,
                "facility": pl.String,
                "end_reason": pl.String,
                "group_key": pl.String,
            },
        )
        tables["programme_referrals"] = frame.select(
            "referral_key",
            "prison_number",
            "episode_key",
            "programme_code",
            "facility",
            pl.col("referral_date").cast(pl.Date),
            "status",
            pl.col("status_date").cast(pl.Date),
            "end_reason",
            "group_key",
            pl.when(pl.col("_started"))
            .then(pl.col("start_date").cast(pl.Date))
            .alias("start_date"),
            pl.when(pl.col("_finished")).then(pl.col("end_date").cast(pl.Date)).alias("end_date"),
        )[order.tolist()]

        # Attendance, in referral-key order then session order. Keys come from a join on
        # the referral's id, so no Python string is built per attendance row.
        attendance = _concat(self.attendance_batches, ATTENDANCE_FIELDS)
        a_referral = attendance["referral_id"]
        a_order = np.lexsort((attendance["session_index"], rank[a_referral]))
        referral_ids = np.arange(order.size)
        lookup = pl.DataFrame(
            {
                "_id": referral_ids,
                "referral_key": key_of_id[referral_ids].tolist(),
                "_group": referral_group[referral_ids].tolist(),
            },
            schema={"_id": pl.Int64, "referral_key": pl.String, "_group": pl.String},
        )
        status_names = pl.Series(ATTENDANCE_STATUSES, dtype=pl.String)
        excuse_names = pl.Series(EXCUSE_REASONS, dtype=pl.String)
        excuse = attendance["excuse_reason"][a_order]
        tables["programme_attendance"] = (
            pl.DataFrame(
                {
                    "_id": a_referral[a_order].astype(np.int64),
                    "_number": attendance["session_index"][a_order].astype(np.int64) + 1,
                    "_status": attendance["status"][a_order].astype(np.int64),
                    "_excuse": np.where(excuse >= 0, excuse, 0).astype(np.int64),
                    "_excused": excuse >= 0,
                    "hours": attendance["hours"][a_order].astype(float),
                }
            )
            .join(lookup, on="_id", how="left", maintain_order="left")
            .select(
                "referral_key",
                _session_key(pl.col("_group"), pl.col("_number")).alias("session_key"),
                pl.col("_status")
                .map_batches(lambda index: status_names.gather(index))
                .alias("status"),
                pl.when(pl.col("_excused"))
                .then(pl.col("_excuse").map_batches(lambda index: excuse_names.gather(index)))
                .alias("excuse_reason"),
                pl.col("hours").cast(pl.Float64),
            )
        )

        faults = _concat(self.fault_batches, FAULT_FIELDS)
        f_numbers = prison_number[faults["person"]]
        f_order = np.lexsort((f_numbers, faults["fault_day"]))
        tables["disciplinary_faults"] = pl.DataFrame(
            {
                "prison_number": f_numbers[f_order].tolist(),
                "episode_key": episode_key[faults["episode_id"][f_order]].tolist(),
                "fault_date": faults["fault_day"][f_order].astype(np.int32),
                "severity": ["serious"] * int(f_order.size),
                "revoked_fraction": np.array(REVOKED_FRACTIONS, dtype=object)[
                    faults["fraction"][f_order]
                ].tolist(),
            },
            schema={
                "prison_number": pl.String,
                "episode_key": pl.String,
                "fault_date": pl.Int32,
                "severity": pl.String,
                "revoked_fraction": pl.String,
            },
        ).with_columns(pl.col("fault_date").cast(pl.Date))
        return tables

    def ground_truth(self, naive: dict[str, Any]) -> dict[str, Any]:
        config = self.config
        referrals = _concat(self.referral_batches, REFERRAL_FIELDS)
        counts = {}
        for j, programme in enumerate(self.catalogue):
            mine = referrals["programme"] == j
            counts[programme.code] = {
                "referrals": int(mine.sum()),
                "started": int(
                    (
                        mine
                        & (referrals["start_day"] >= 0)
                        & (referrals["start_day"] <= self.extract_day)
                    ).sum()
                ),
                "completions": int((mine & (referrals["status"] == COMPLETED)).sum()),
            }
        return {
            "enabled": config.programmes_enabled,
            "applies_to": (
                "completion of the programme during a custody episode, before that episode's"
                " release: lp of the release += log_hazard_ratio (summed over the programmes"
                " completed in the episode); motivation never enters the hazard"
            ),
            "effects": {
                p.code: {
                    "programme_type": p.programme_type,
                    "log_hazard_ratio": p.true_log_hazard_ratio,
                    "hazard_ratio": math.exp(p.true_log_hazard_ratio),
                    "evidence_rating": p.evidence_rating,
                }
                for p in self.catalogue
            },
            "motivation": {
                "distribution": "M = rho * standardised(person_truth.linear_predictor)"
                " + sqrt(1 - rho**2) * N(0, 1); recorded as person_truth.motivation",
                "rho": config.motivation_risk_correlation,
                "realised_correlation_with_risk": float(
                    np.corrcoef(self.motivation, self.persons.lp_person)[0, 1]
                ),
            },
            "risk_bands": {
                "on": "static linear predictor at admission (person_truth.linear_predictor"
                " + age and prior-episode terms)",
                "cutpoints": [float(value) for value in self.risk_band_cutpoints],
                "bands": list(RISK_BANDS),
            },
            "selection": {
                "referral": "logit P = programme_referral_intercept + referral_priority"
                " + time_slope * log(planned stay in years, clipped to [1/12, 5])"
                " + need_slope * (mean target-need level - 0.5) + motivation_slope * M"
                " + risk_slope * lp_admission; times programme_ineligible_referral_share"
                " for ineligible people (status not_suitable)",
                "intercept": config.programme_referral_intercept,
                "time_slope": config.programme_referral_time_slope,
                "need_slope": config.programme_referral_need_slope,
                "motivation_slope": config.programme_referral_motivation_slope,
                "risk_slope": config.programme_referral_risk_slope,
                "referral_priority": {p.code: p.referral_priority for p in self.catalogue},
            },
            "completion": {
                "rule": "attended or late at >= completion_attendance_share of the sessions,"
                " no dropout, still at the facility at the last session",
                "completion_attendance_share": config.programme_completion_attendance_share,
                "attendance": "logit P(attend) = attendance_intercept"
                " + attendance_motivation_slope * M",
                "attendance_intercept": config.programme_attendance_intercept,
                "attendance_motivation_slope": config.programme_attendance_motivation_slope,
                "dropout": "exponential per programme length, rate = dropout_rate"
                " * exp(dropout_motivation_slope * M + dropout_risk_slope * lp_admission)",
                "dropout_rate": config.programme_dropout_rate,
                "dropout_motivation_slope": config.programme_dropout_motivation_slope,
                "dropout_risk_slope": config.programme_dropout_risk_slope,
            },
            "faults": {
                "rate": "serious_fault_rate_per_year * exp(0.5 * lp_admission - 0.3 * M)"
                " per year in custody within the window",
                "serious_fault_rate_per_year": config.serious_fault_rate_per_year,
            },
            "counts": counts,
            "naive_reconviction_rate_3y": naive,
        }


REFERRAL_FIELDS = (
    "referral_id",
    "episode_id",
    "person",
    "programme",
    "facility",
    "referral_day",
    "status",
    "status_day",
    "end_reason",
    "group_facility",
    "group_cycle",
    "group_parallel",
    "start_day",
    "finish_day",
)
ATTENDANCE_FIELDS = ("referral_id", "session_index", "status", "excuse_reason", "hours")
FAULT_FIELDS = ("episode_id", "person", "fault_day", "fraction")


def _session_key(group_key: pl.Expr, number: pl.Expr) -> pl.Expr:
    """``<group_key>-NNN``, sessions numbered from 1."""
    return pl.concat_str([group_key, pl.lit("-"), number.cast(pl.String).str.zfill(3)])


def _concat(batches: list[dict[str, np.ndarray]], fields: tuple[str, ...]) -> dict[str, np.ndarray]:
    if not batches:
        return {field: np.zeros(0, dtype=np.int64) for field in fields}
    return {field: np.concatenate([batch[field] for batch in batches]) for field in fields}


def empty_tables(country: str) -> dict[str, pl.DataFrame]:
    """The tables when programmes are disabled: the catalogue, and empty activity tables."""
    return {
        "programmes": catalogue_table(load_catalogue(country)),
        "programme_groups": pl.DataFrame(schema=GROUP_COLUMNS),
        "programme_sessions": pl.DataFrame(schema=SESSION_COLUMNS),
        "programme_referrals": pl.DataFrame(schema=REFERRAL_COLUMNS),
        "programme_attendance": pl.DataFrame(schema=ATTENDANCE_COLUMNS),
        "disciplinary_faults": pl.DataFrame(schema=FAULT_COLUMNS),
    }


def naive_comparison(
    releases: pl.DataFrame, referrals: pl.DataFrame, programmes: pl.DataFrame
) -> dict[str, Any]:
    """3-year reconviction of completers vs non-participants, per programme and type.

    ``releases`` has one row per counted release with full follow-up (``episode_key``,
    ``reconvicted``). Non-participants are releases from episodes in which the person
    started no programme at all.
    """
    started = referrals.filter(pl.col("start_date").is_not_null())
    participants = set(started["episode_key"].to_list())
    nonparticipant = releases.filter(~pl.col("episode_key").is_in(list(participants)))
    base_rate = float(nonparticipant["reconvicted"].mean()) if nonparticipant.height else None
    completed = referrals.filter(pl.col("status") == "completed").join(
        programmes.select(pl.col("code").alias("programme_code"), "programme_type"),
        on="programme_code",
    )

    def figure(rows: pl.DataFrame) -> dict[str, Any]:
        keys = rows["episode_key"].unique().to_list()
        mine = releases.filter(pl.col("episode_key").is_in(keys))
        rate = float(mine["reconvicted"].mean()) if mine.height else None
        return {
            "completer_releases": mine.height,
            "completer_rate": rate,
            "risk_ratio_vs_nonparticipants": (
                rate / base_rate if rate is not None and base_rate else None
            ),
        }

    by_programme = {
        code: figure(completed.filter(pl.col("programme_code") == code))
        for code in programmes["code"].to_list()
    }
    by_type = {
        kind: figure(completed.filter(pl.col("programme_type") == kind))
        for kind in sorted(set(programmes["programme_type"].to_list()))
    }
    return {
        "definition": "releases of type end_of_sentence, parole or pardon (any facility) with"
        " full 3-year follow-up; reconvicted as in realised.reconviction_rate_3y; completers:"
        " the episode includes a completed programme of that code or type; non-participants:"
        " the episode includes no started programme. Compare risk_ratio_vs_nonparticipants"
        " with the planted hazard ratio: the naive gap exaggerates the benefit (selection on"
        " risk and motivation).",
        "nonparticipant_releases": nonparticipant.height,
        "nonparticipant_rate": base_rate,
        "by_programme": by_programme,
        "by_programme_type": by_type,
    }

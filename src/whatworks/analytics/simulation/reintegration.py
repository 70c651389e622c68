"""Post-release reintegration: arrangements at release, their planted effect, follow-up contacts.

docs/simulator.md, section 5d. Everything here is drawn from one seed stream of its own
(``SeedSequence(seed).spawn(11)[10]``), so that switching reintegration off leaves every
other table exactly as it was. Arrangements are drawn in the custody loop, when a release
is followed up, because employment and housing change the hazard of reoffending; identity
documents, bank accounts and the follow-up contacts have no effect on anything and are
drawn once the custody loop is over.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import polars as pl

from whatworks.analytics.simulation.config import (
    CENTRAL_EIGHT,
    STABLE_ACCOMMODATION_TYPES,
    SimulationConfig,
)

ACCOMMODATION_TYPES = (*STABLE_ACCOMMODATION_TYPES, "shelter", "none")
SHELTER, NO_ACCOMMODATION = 3, 4
EMPLOYMENT_OFFERS = ("job", "training", "none")
JOB, TRAINING, NO_OFFER = range(3)
CONTACT_STATUSES = ("done", "missed")
HOUSING_STATUSES = ("stable", "temporary", "homeless", "unknown")
EMPLOYMENT_STATUSES = ("employed", "training", "unemployed", "unknown")
SUBSTANCE_USE = ("none", "occasional", "problematic", "unknown")
TREATMENT_CONTINUITY = ("continuing", "stopped", "not_applicable")

# Programmes that make a job or training offer at release more likely when completed in
# the episode, and those that count as treatment to continue after release.
EMPLOYMENT_PROGRAMME_TYPES = (
    "vocational_trade",
    "prison_work",
    "education_primary",
    "education_secondary",
)
TREATMENT_PROGRAMME_TYPES = ("substance_use",)

# Monthly transition matrices of the true housing (stable, temporary, homeless) and
# employment (employed, training, unemployed) states after release. The state at release
# is the arrangement: stable accommodation -> stable, shelter -> temporary, none ->
# homeless; job -> employed, training -> training, no offer -> unemployed. Over k months
# the chain moves by the k-th power of the matrix. Assumptions (illustrative).
HOUSING_MONTHLY = np.array(
    [
        [0.97, 0.02, 0.01],
        [0.10, 0.85, 0.05],
        [0.04, 0.10, 0.86],
    ]
)
EMPLOYMENT_MONTHLY = np.array(
    [
        [0.93, 0.01, 0.06],
        [0.08, 0.84, 0.08],
        [0.05, 0.02, 0.93],
    ]
)
# Substance use reported at a contact: s = 0.9 z_substance + 0.6 u (per release)
# + 0.6 [homeless] + 0.3 [temporary] - 0.4 [treatment continuing] + 0.8 e (per contact);
# occasional above 0.5, problematic above 1.5.
SUBSTANCE_WEIGHTS = {
    "z_substance": 0.9,
    "per_release_sd": 0.6,
    "homeless": 0.6,
    "temporary": 0.3,
    "treatment_continuing": -0.4,
    "per_contact_sd": 0.8,
}
SUBSTANCE_CUTS = (0.5, 1.5)
# Treatment continuity applies to people with a substance need (latent level at least
# drug_substance_need_threshold), the mental_health needs code, or a completed
# substance-use programme. Treatment is continuing at release with probability
# sigmoid(1.0 + 0.8 [programme] + 0.6 [stable accommodation] - 0.4 risk) and stops with
# probability 0.06 a month; once stopped it stays stopped.
TREATMENT_START = {"intercept": 1.0, "programme": 0.8, "stable_accommodation": 0.6, "risk": -0.4}
TREATMENT_MONTHLY_STOP = 0.06
# A done contact leaves each of housing, employment and substance use unrecorded
# ("unknown") with this probability.
NOT_RECORDED_SHARE = 0.03
# A done contact takes place between 7 days before and 14 days after it is due (moved
# inside the time the person is in the community and on or before the extract date).
CONTACT_OFFSET_DAYS = (-7, 14)

ARRANGEMENT_COLUMNS = {
    "episode_key": pl.String,
    "prison_number": pl.String,
    "release_date": pl.Date,
    "accommodation_type": pl.String,
    "accommodation_stable": pl.Boolean,
    "employment_offer": pl.String,
    "id_document_ready": pl.Boolean,
    "bank_account": pl.Boolean,
}
CONTACT_COLUMNS = {
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
}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _step(rng_column: np.ndarray, state: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Next state of a Markov chain for each row, from uniforms ``rng_column``."""
    cumulative = np.cumsum(matrix[state], axis=1)
    index = (cumulative <= rng_column[:, None]).sum(axis=1)
    return np.minimum(index, matrix.shape[1] - 1)


def empty_tables() -> dict[str, pl.DataFrame]:
    """The two tables with their columns and no rows (reintegration switched off)."""
    return {
        "release_arrangements": pl.DataFrame(schema=ARRANGEMENT_COLUMNS),
        "followup_contacts": pl.DataFrame(schema=CONTACT_COLUMNS),
    }


@dataclasses.dataclass(frozen=True)
class ReleaseInputs:
    """One entry per release followed up, in the order of the custody loop."""

    episode_id: np.ndarray
    person: np.ndarray
    release_day: np.ndarray
    static_lp: np.ndarray  # person, age and prior-episode terms at release
    parole: np.ndarray
    lighter_regime: np.ndarray  # released from a semi-open or open facility
    employment_programme: np.ndarray  # completed a vocational, work or education programme
    treatment_programme: np.ndarray  # completed a substance-use programme


class ReintegrationModel:
    """Draws the arrangements at each release and, at the end, the follow-up contacts."""

    def __init__(
        self,
        config: SimulationConfig,
        rng: np.random.Generator,
        *,
        latent: np.ndarray,
        levels: np.ndarray,
        female: np.ndarray,
        mental_health: np.ndarray,
        risk_centre: float,
        risk_spread: float,
    ) -> None:
        self.config = config
        self.rng = rng
        self.z_family = latent[:, CENTRAL_EIGHT.index("family_marital")]
        self.z_school_work = latent[:, CENTRAL_EIGHT.index("school_work")]
        self.z_substance = latent[:, CENTRAL_EIGHT.index("substance_abuse")]
        self.substance_level = levels[:, CENTRAL_EIGHT.index("substance_abuse")]
        self.female = female
        self.mental_health = mental_health
        self.risk_centre = risk_centre
        self.risk_spread = risk_spread if risk_spread > 0 else 1.0
        mix = config.pairs("accommodation_stable_mix")
        self.stable_weights = np.array([mix.get(name, 0.0) for name in STABLE_ACCOMMODATION_TYPES])
        self.batches: list[dict[str, np.ndarray]] = []

    # -- in the custody loop ------------------------------------------------------------

    def draw_arrangements(self, releases: ReleaseInputs) -> np.ndarray:
        """Accommodation and employment offer per release; returns their log hazard ratio."""
        config, rng = self.config, self.rng
        n = len(releases.person)
        person = releases.person
        risk = (releases.static_lp - self.risk_centre) / self.risk_spread
        stable = rng.random(n) < _sigmoid(
            config.accommodation_intercept
            + config.accommodation_family_slope * self.z_family[person]
            + config.accommodation_substance_slope * self.z_substance[person]
            + config.accommodation_risk_slope * risk
            + config.accommodation_female_shift * self.female[person]
            + config.accommodation_parole_shift * releases.parole
        )
        weights = np.tile(self.stable_weights, (n, 1))
        weights[:, STABLE_ACCOMMODATION_TYPES.index("supported")] *= np.exp(
            self.z_substance[person]
        )
        cumulative = np.cumsum(weights, axis=1)
        target = rng.random(n) * cumulative[:, -1]
        stable_kind = np.minimum((cumulative <= target[:, None]).sum(axis=1), 2)
        shelter = rng.random(n) < config.accommodation_shelter_share
        accommodation = np.where(stable, stable_kind, np.where(shelter, SHELTER, NO_ACCOMMODATION))

        offered = rng.random(n) < _sigmoid(
            config.employment_offer_intercept
            + config.employment_offer_school_work_slope * self.z_school_work[person]
            + config.employment_offer_risk_slope * risk
            + config.employment_offer_programme_shift * releases.employment_programme
            + config.employment_offer_open_regime_shift * releases.lighter_regime
            + config.employment_offer_accommodation_shift * stable
        )
        training = rng.random(n) < config.employment_training_share
        offer = np.where(offered, np.where(training, TRAINING, JOB), NO_OFFER)

        self.batches.append(
            {
                "episode_id": releases.episode_id,
                "person": person,
                "release_day": releases.release_day,
                "risk": risk,
                "accommodation": accommodation,
                "offer": offer,
                "treatment_programme": releases.treatment_programme,
                "stop_day": np.full(n, np.iinfo(np.int64).max),
            }
        )
        return (
            config.employment_log_hazard_ratio * (offer == JOB)
            + config.training_log_hazard_ratio * (offer == TRAINING)
            + config.housing_log_hazard_ratio * stable
        )

    def set_community_end(self, stop_day: np.ndarray) -> None:
        """First day the people of the last batch are no longer in the community.

        Return to custody, death or deportation (the last two are not in the tables).
        """
        self.batches[-1]["stop_day"] = stop_day.astype(np.int64)

    # -- after the custody loop ---------------------------------------------------------

    def tables(
        self,
        *,
        prison_number: np.ndarray,
        episode_key: np.ndarray,
        has_national_id: np.ndarray,
        outcome_events: pl.DataFrame,
        extract_day: int,
    ) -> dict[str, pl.DataFrame]:
        """``release_arrangements`` and ``followup_contacts``, ordered by episode key."""
        if not self.batches:
            return empty_tables()
        config, rng = self.config, self.rng
        data = {key: np.concatenate([b[key] for b in self.batches]) for key in self.batches[0]}
        n = len(data["person"])
        person = data["person"]
        offer = data["offer"]
        id_ready = rng.random(n) < _sigmoid(
            config.id_ready_intercept
            + config.id_ready_risk_slope * data["risk"]
            + config.id_ready_without_national_id_shift * ~has_national_id[person]
        )
        bank = id_ready & (
            rng.random(n)
            < _sigmoid(
                config.bank_account_intercept + config.bank_account_job_shift * (offer == JOB)
            )
        )
        stable = data["accommodation"] < SHELTER
        arrangements = pl.DataFrame(
            {
                "episode_key": episode_key[data["episode_id"]].tolist(),
                "prison_number": prison_number[person].tolist(),
                "release_date": data["release_day"].astype(np.int32),
                "accommodation_type": np.array(ACCOMMODATION_TYPES)[data["accommodation"]],
                "accommodation_stable": stable,
                "employment_offer": np.array(EMPLOYMENT_OFFERS)[offer],
                "id_document_ready": id_ready,
                "bank_account": bank,
            },
            schema_overrides={"episode_key": pl.String, "prison_number": pl.String},
        ).with_columns(pl.col("release_date").cast(pl.Date))
        contacts = self._contacts(data, arrangements, extract_day)
        contacts = _with_justice_contact(contacts, outcome_events)
        return {
            "release_arrangements": arrangements.sort("episode_key").select(
                list(ARRANGEMENT_COLUMNS)
            ),
            "followup_contacts": contacts.sort("episode_key", "month").select(
                list(CONTACT_COLUMNS)
            ),
        }

    def _contacts(
        self, data: dict[str, np.ndarray], arrangements: pl.DataFrame, extract_day: int
    ) -> pl.DataFrame:
        config, rng = self.config, self.rng
        months = config.followup_months
        n, k = len(data["person"]), len(months)
        person = data["person"]
        due = (
            arrangements.select(
                [
                    pl.col("release_date").dt.offset_by(f"{m}mo").cast(pl.Int32).alias(str(m))
                    for m in months
                ]
            )
            .to_numpy()
            .astype(np.int64)
            .reshape(n, k)
        )
        # Every random number is drawn for every (release, month), scheduled or not.
        housing_u = rng.random((n, k))
        employment_u = rng.random((n, k))
        treatment_u = rng.random((n, k))
        treatment_start_u = rng.random(n)
        substance_person = rng.standard_normal(n)
        substance_contact = rng.standard_normal((n, k))
        missed_u = rng.random((n, k))
        unrecorded_u = rng.random((n, k, 3))
        low, high = CONTACT_OFFSET_DAYS
        offset = rng.integers(low, high + 1, (n, k))

        accommodation = data["accommodation"]
        housing = np.select([accommodation < SHELTER, accommodation == SHELTER], [0, 1], 2)
        employment = data["offer"].copy()
        risk = data["risk"]
        applicable = (
            (self.substance_level[person] >= config.drug_substance_need_threshold)
            | self.mental_health[person]
            | data["treatment_programme"]
        )
        continuing = applicable & (
            treatment_start_u
            < _sigmoid(
                TREATMENT_START["intercept"]
                + TREATMENT_START["programme"] * data["treatment_programme"]
                + TREATMENT_START["stable_accommodation"] * (housing == 0)
                + TREATMENT_START["risk"] * risk
            )
        )
        housing_state = np.zeros((n, k), dtype=np.int64)
        employment_state = np.zeros((n, k), dtype=np.int64)
        continuing_state = np.zeros((n, k), dtype=bool)
        previous = 0
        for j, month in enumerate(months):
            gap = month - previous
            previous = month
            housing = _step(housing_u[:, j], housing, np.linalg.matrix_power(HOUSING_MONTHLY, gap))
            employment = _step(
                employment_u[:, j], employment, np.linalg.matrix_power(EMPLOYMENT_MONTHLY, gap)
            )
            continuing = continuing & (treatment_u[:, j] < (1.0 - TREATMENT_MONTHLY_STOP) ** gap)
            housing_state[:, j] = housing
            employment_state[:, j] = employment
            continuing_state[:, j] = continuing
        weights = SUBSTANCE_WEIGHTS
        score = (
            weights["z_substance"] * self.z_substance[person][:, None]
            + weights["per_release_sd"] * substance_person[:, None]
            + weights["homeless"] * (housing_state == 2)
            + weights["temporary"] * (housing_state == 1)
            + weights["treatment_continuing"] * continuing_state
            + weights["per_contact_sd"] * substance_contact
        )
        substance = np.searchsorted(np.array(SUBSTANCE_CUTS), score, side="right")

        stop_day = data["stop_day"][:, None]
        release_day = data["release_day"][:, None]
        scheduled = (due < stop_day) & (due <= extract_day)
        missed = missed_u < _sigmoid(
            config.followup_missed_intercept
            + config.followup_missed_risk_slope * risk[:, None]
            + config.followup_missed_homeless_shift * (housing_state == 2)
        )
        upper = np.minimum(stop_day - 1, extract_day)
        contact_day = np.clip(due + offset, release_day + 1, upper)
        unrecorded = unrecorded_u < NOT_RECORDED_SHARE

        rows, columns = np.nonzero(scheduled)
        was_missed = missed[rows, columns]
        unknown = 3
        housing_out = np.where(
            was_missed | unrecorded[rows, columns, 0], unknown, housing_state[rows, columns]
        )
        employment_out = np.where(
            was_missed | unrecorded[rows, columns, 1], unknown, employment_state[rows, columns]
        )
        substance_out = np.where(
            was_missed | unrecorded[rows, columns, 2], unknown, substance[rows, columns]
        )
        treatment_out = np.where(
            applicable[rows], np.where(continuing_state[rows, columns], 0, 1), 2
        )
        treatment_names = np.array(TREATMENT_CONTINUITY, dtype=object)[treatment_out]
        treatment_names[was_missed] = None
        frame = pl.DataFrame(
            {
                "episode_key": arrangements["episode_key"].gather(rows),
                "prison_number": arrangements["prison_number"].gather(rows),
                "release_date": arrangements["release_date"].gather(rows),
                "month": np.array(months, dtype=np.int64)[columns],
                "due_date": due[rows, columns].astype(np.int32),
                "status": np.where(was_missed, "missed", "done"),
                "contact_date": contact_day[rows, columns].astype(np.int32),
                "_done": ~was_missed,
                "housing_status": np.array(HOUSING_STATUSES)[housing_out],
                "employment_status": np.array(EMPLOYMENT_STATUSES)[employment_out],
                "substance_use": np.array(SUBSTANCE_USE)[substance_out],
                "treatment_continuity": treatment_names.tolist(),
            },
            schema_overrides={"treatment_continuity": pl.String},
        )
        return frame.with_columns(
            pl.col("due_date").cast(pl.Date),
            pl.when(pl.col("_done"))
            .then(pl.col("contact_date").cast(pl.Date))
            .alias("contact_date"),
        ).drop("_done")

    def ground_truth(
        self,
        arrangements: pl.DataFrame,
        contacts: pl.DataFrame,
        release_reconvicted: pl.DataFrame,
    ) -> dict[str, Any]:
        return ground_truth(self.config, arrangements, contacts, release_reconvicted)


def _with_justice_contact(contacts: pl.DataFrame, outcome_events: pl.DataFrame) -> pl.DataFrame:
    """``justice_contact``: an outcome event after the release, up to the contact date
    (the due date for a missed contact)."""
    indexed = contacts.with_row_index("_row").with_columns(
        _until=pl.coalesce("contact_date", "due_date")
    )
    events = outcome_events.select("prison_number", "event_date")
    touched = (
        indexed.select("_row", "prison_number", "release_date", "_until")
        .join(events, on="prison_number", how="inner")
        .filter(
            (pl.col("event_date") > pl.col("release_date"))
            & (pl.col("event_date") <= pl.col("_until"))
        )
        .select("_row")
        .unique()
    )
    return indexed.with_columns(
        justice_contact=pl.col("_row").is_in(touched["_row"].implode())
    ).drop("_row", "_until")


def ground_truth(
    config: SimulationConfig,
    arrangements: pl.DataFrame,
    contacts: pl.DataFrame,
    release_reconvicted: pl.DataFrame,
) -> dict[str, Any]:
    """The ``reintegration`` block of ground_truth.json."""
    effects = {
        "employment": {
            "log_hazard_ratio": config.employment_log_hazard_ratio,
            "hazard_ratio": math.exp(config.employment_log_hazard_ratio),
            "definition": "release_arrangements.employment_offer == 'job' (against 'none')",
        },
        "training": {
            "log_hazard_ratio": config.training_log_hazard_ratio,
            "hazard_ratio": math.exp(config.training_log_hazard_ratio),
            "definition": "release_arrangements.employment_offer == 'training' (against 'none')",
        },
        "housing": {
            "log_hazard_ratio": config.housing_log_hazard_ratio,
            "hazard_ratio": math.exp(config.housing_log_hazard_ratio),
            "definition": (
                "release_arrangements.accommodation_stable (family, own_tenancy or supported)"
                " against shelter or none"
            ),
        },
    }
    block: dict[str, Any] = {
        "enabled": config.reintegration_enabled,
        "effects": effects,
        "applies_to": (
            "the post-release hazard of offending of the release, for its whole follow-up:"
            " lp gets employment * [job] + training * [training] + housing * [stable]."
            " The arrangement is fixed at release; the statuses in followup_contacts, the ID"
            " document and the bank account have no effect."
        ),
        "seed_stream": "SeedSequence(seed).spawn(11)[10]",
    }
    if not config.reintegration_enabled:
        return block
    block["arrangement_model"] = {
        "risk": (
            "standardised static lp at release: (person_truth.linear_predictor + age and"
            " prior-episode terms - mean) / sd, mean and sd over the persons at first admission"
        ),
        "stable_accommodation": (
            "logit = accommodation_intercept + accommodation_family_slope * z_family_marital"
            " + accommodation_substance_slope * z_substance_abuse + accommodation_risk_slope"
            " * risk + accommodation_female_shift * [female] + accommodation_parole_shift *"
            " [parole]; z = probit of the person_truth level"
        ),
        "stable_kind": (
            "accommodation_stable_mix, the weight of supported housing times exp(z_substance)"
        ),
        "unstable_kind": "shelter with accommodation_shelter_share, otherwise none",
        "employment_offer": (
            "logit(any offer) = employment_offer_intercept + employment_offer_school_work_slope"
            " * z_school_work + employment_offer_risk_slope * risk +"
            " employment_offer_programme_shift * [completed a programme of type "
            + ", ".join(EMPLOYMENT_PROGRAMME_TYPES)
            + " in the episode] + employment_offer_open_regime_shift * [released from semi-open"
            " or open] + employment_offer_accommodation_shift * [stable accommodation];"
            " training with employment_training_share, otherwise job"
        ),
        "id_document_ready": (
            "logit = id_ready_intercept + id_ready_risk_slope * risk +"
            " id_ready_without_national_id_shift * [no national ID number]"
        ),
        "bank_account": (
            "only with an ID document: logit = bank_account_intercept + bank_account_job_shift"
            " * [job offer]"
        ),
    }
    block["followup_model"] = {
        "months": list(config.followup_months),
        "scheduled": (
            "due_date = release_date + month calendar months; listed only when due before the"
            " person leaves the community (return to custody, death or deportation) and on or"
            " before the extract date"
        ),
        "missed": (
            "logit = followup_missed_intercept + followup_missed_risk_slope * risk +"
            " followup_missed_homeless_shift * [homeless at the time]"
        ),
        "contact_offset_days": list(CONTACT_OFFSET_DAYS),
        "housing_monthly_transitions": HOUSING_MONTHLY.tolist(),
        "employment_monthly_transitions": EMPLOYMENT_MONTHLY.tolist(),
        "substance_weights": SUBSTANCE_WEIGHTS,
        "substance_cuts": list(SUBSTANCE_CUTS),
        "treatment_start": TREATMENT_START,
        "treatment_monthly_stop": TREATMENT_MONTHLY_STOP,
        "not_recorded_share": NOT_RECORDED_SHARE,
        "justice_contact": (
            "an outcome event of the person with release_date < event_date <= contact_date"
            " (due_date when missed)"
        ),
    }
    releases = arrangements.height

    def shares(column: str, values: tuple[str, ...]) -> dict[str, float | None]:
        counts = dict(arrangements[column].value_counts().iter_rows())
        return {value: counts.get(value, 0) / releases if releases else None for value in values}

    block["realised"] = {
        "releases": releases,
        "accommodation_type": shares("accommodation_type", ACCOMMODATION_TYPES),
        "employment_offer": shares("employment_offer", EMPLOYMENT_OFFERS),
        "accommodation_stable": (
            float(arrangements["accommodation_stable"].mean()) if releases else None
        ),
        "id_document_ready": float(arrangements["id_document_ready"].mean()) if releases else None,
        "bank_account": float(arrangements["bank_account"].mean()) if releases else None,
        "contacts": {
            status: int((contacts["status"] == status).sum()) for status in CONTACT_STATUSES
        },
    }
    joined = release_reconvicted.join(
        arrangements.select("episode_key", "accommodation_stable", "employment_offer"),
        on="episode_key",
        how="inner",
    )

    def rate(rows: pl.DataFrame) -> dict[str, Any]:
        count = rows.height
        reconvicted = int(rows["reconvicted"].sum()) if count else 0
        return {
            "releases": count,
            "reconvicted": reconvicted,
            "rate": reconvicted / count if count else None,
        }

    block["naive_reconviction_rate_3y"] = {
        "definition": (
            "counted releases (end_of_sentence, parole, pardon; any facility) with full 3-year"
            " follow-up, by arrangement at release; compare with the planted hazard ratios"
        ),
        "stable_accommodation": rate(joined.filter(pl.col("accommodation_stable"))),
        "shelter_or_none": rate(joined.filter(~pl.col("accommodation_stable"))),
        **{
            f"offer_{offer}": rate(joined.filter(pl.col("employment_offer") == offer))
            for offer in EMPLOYMENT_OFFERS
        },
    }
    return block


def release_log_hazard(
    release_arrangements: pl.DataFrame, ground_truth: dict[str, Any]
) -> pl.DataFrame:
    """Per release: ``episode_key`` and ``reintegration_log_hazard``, the planted terms the
    arrangements added to the release's linear predictor (docs/simulator.md, section 5d).

    Works on a loaded extract as well (the table and ``ground_truth.json``). Releases not
    in the table (reintegration off, or not followed up) have no such term: join with
    ``how="left"`` and fill nulls with 0.
    """
    block = ground_truth.get("reintegration", {})
    if not block.get("enabled", False):
        return pl.DataFrame(
            schema={"episode_key": pl.String, "reintegration_log_hazard": pl.Float64}
        )
    effects = block["effects"]
    return release_arrangements.select(
        "episode_key",
        reintegration_log_hazard=(
            float(effects["employment"]["log_hazard_ratio"])
            * (pl.col("employment_offer") == "job").cast(pl.Float64)
            + float(effects["training"]["log_hazard_ratio"])
            * (pl.col("employment_offer") == "training").cast(pl.Float64)
            + float(effects["housing"]["log_hazard_ratio"])
            * pl.col("accommodation_stable").cast(pl.Float64)
        ),
    )

"""Simulated assessments: RNR screener, K6 and AUDIT answers drawn from the latent truth.

For each custody episode: an RNR screener at intake, a K6 and an AUDIT at intake for a share
of episodes, and RNR reassessments at the instrument's intervals until release or the
extract date. Answers come from the person's latent Central Eight values (``person_truth``)
plus noise, through the item thresholds in ``RNR_ITEM_THRESHOLDS`` and friends; see
docs/simulator.md, section "Assessments". Everything is vectorised over episodes.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from whatworks.analytics.instruments import Instrument, load_instrument
from whatworks.analytics.simulation.config import CENTRAL_EIGHT, SimulationConfig

EPOCH = datetime.date(1970, 1, 1)
INSTRUMENT_ORDER = ("rnr-screener", "k6", "audit")

# Latent-to-answer mapping. Every dynamic RNR domain k has a latent z_k ~ N(0, 1) (the
# probit of the person_truth level). At each assessment the assessor sees
# y_k = z_k + assessment_noise_sd * N(0, 1) (one draw per domain and occasion), and each
# item is answered "yes" when y_k + ITEM_NOISE_SD * N(0, 1) exceeds the item's threshold;
# a three-option item takes the number of its two thresholds exceeded.
ITEM_NOISE_SD = 0.5
RNR_ITEM_THRESHOLDS: dict[str, tuple[str, tuple[float, ...]]] = {
    "att_justifies_offending": ("antisocial_attitudes", (-0.3,)),
    "att_negative_to_law": ("antisocial_attitudes", (0.2,)),
    "att_criminal_identity": ("antisocial_attitudes", (0.8,)),
    "assoc_friends_offend": ("antisocial_associates", (-0.5, 0.6)),
    "assoc_few_prosocial": ("antisocial_associates", (0.3,)),
    "pers_impulsive": ("antisocial_personality", (-0.3,)),
    "pers_aggression": ("antisocial_personality", (0.5,)),
    "pers_early_problems": ("antisocial_personality", (0.3,)),
    "fam_conflict": ("family_marital", (0.0,)),
    "fam_no_support": ("family_marital", (0.6,)),
    "sw_education_incomplete": ("school_work", (-0.8,)),
    "sw_unemployed": ("school_work", (-0.2,)),
    "sw_never_kept_job": ("school_work", (0.7,)),
    "leis_no_structured": ("leisure_recreation", (-0.6,)),
    "leis_idle_time_offending": ("leisure_recreation", (0.2,)),
    "sub_problems_past_year": ("substance_abuse", (-0.2,)),
    "sub_linked_to_offending": ("substance_abuse", (0.2,)),
    "sub_use_in_custody": ("substance_abuse", (1.0,)),
}
# Strengths: "yes" when minus the mean of these domains' y, plus item noise, exceeds the
# threshold (a lower need makes the strength likelier).
STRENGTH_THRESHOLDS: dict[str, tuple[tuple[str, ...], float]] = {
    "str_prosocial_support": (("family_marital", "antisocial_associates"), -0.3),
    "str_job_or_training": (("school_work",), 0.2),
    "str_housing": (("family_marital",), -0.5),
}
# Criminal history uses the custody record: prior convictions = custodial episodes before
# this one (including those before the extract) + 1 non-custodial conviction when
# y_criminal_history + item noise > 0.5 (capped at the "two or more" option); first arrest
# under 18 when y + item noise - 0.04 * (age at admission - 25) > 0.6; breach or escape when
# an earlier episode in the extract ended in escape or this or an earlier one began with a
# recall, or when the person has prior episodes and y + item noise > 1.0.
CH_EXTRA_CONVICTION_THRESHOLD = 0.5
CH_EARLY_ONSET_THRESHOLD = 0.6
CH_EARLY_ONSET_AGE_SLOPE = 0.04
CH_BREACH_THRESHOLD = 1.0
# Psychological distress (K6): D = 0.35 z_personality + 0.25 z_substance
# + K6_MENTAL_HEALTH_SHIFT * [mental_health needs code] + 0.9 * N(0, 1) (per person),
# plus assessment_noise_sd * N(0, 1) per occasion; each item takes the number of
# K6_THRESHOLDS exceeded by D + ITEM_NOISE_SD * N(0, 1) (0-4).
K6_MENTAL_HEALTH_SHIFT = 1.2
K6_THRESHOLDS = (-0.4, 0.5, 1.3, 2.1)
# Alcohol (AUDIT): A = 0.7 z_substance - 0.5 [female] + 0.7 * N(0, 1) (per person) plus
# occasion noise; items 1-8 take the number of AUDIT_THRESHOLDS exceeded (0-4), items 9-10
# (index 0/1/2, scored 0/2/4) the number of AUDIT_INJURY_THRESHOLDS exceeded.
AUDIT_THRESHOLDS = (-0.9, -0.1, 0.7, 1.4)
AUDIT_ITEM_SHIFT = (0.0, 0.2, 0.3, 0.7, 0.6, 0.9, 0.5, 0.6, 0.0, 0.3)
AUDIT_INJURY_THRESHOLDS = (0.6, 1.3)
MOTIVATION_THRESHOLDS = (-0.3, 0.7)  # on y_attitudes: ready / ambivalent / not ready
RESPONSIVITY_FLAG_YES = 0.9  # needs code recorded -> responsivity item "yes"
RESPONSIVITY_FLAG_FALSE_POSITIVE = 0.03
LEARNING_CODES = ("learning_disability", "intellectual_disability", "neurodivergent")


@dataclass
class EpisodeInputs:
    """One row per custody episode, aligned with the custody_episodes table."""

    episode_key: np.ndarray  # object
    person: np.ndarray  # person index
    admission_day: np.ndarray
    end_day: np.ndarray  # release day, or the extract day for open episodes
    sentence_day: np.ndarray  # -1 when never sentenced
    expected_release_day: np.ndarray  # -1 when never sentenced
    prior: np.ndarray  # custodial episodes before this one
    age_at_admission: np.ndarray
    earlier_breach: np.ndarray  # bool


@dataclass
class PersonInputs:
    latent: np.ndarray  # (n, 8) probits of the Central Eight levels
    female: np.ndarray
    prison_number: np.ndarray
    literacy: np.ndarray  # str
    languages: list[str]
    needs_codes: list[str | None]
    national_language: str


def mapping() -> dict[str, Any]:
    """The latent-to-answer mapping, JSON-ready, for ground_truth."""
    return {
        "latent": "z_k = probit(person_truth level_k); y_k = z_k + assessment_noise_sd * N(0,1)"
        " per domain and assessment; an item is yes when y_k + item_noise_sd * N(0,1) exceeds"
        " its threshold (three-option items: thresholds exceeded)",
        "item_noise_sd": ITEM_NOISE_SD,
        "rnr_item_thresholds": {
            item: {"domain": domain, "thresholds": list(thresholds)}
            for item, (domain, thresholds) in RNR_ITEM_THRESHOLDS.items()
        },
        "criminal_history": {
            "ch_prior_convictions": "min(2, custodial episodes before this one"
            f" + [y_criminal_history + noise > {CH_EXTRA_CONVICTION_THRESHOLD}])",
            "ch_first_arrest_under_18": f"y + noise - {CH_EARLY_ONSET_AGE_SLOPE}"
            f" * (age at admission - 25) > {CH_EARLY_ONSET_THRESHOLD}",
            "ch_supervision_breach": "an earlier escape or a recall admission in the extract,"
            f" or prior episodes and y + noise > {CH_BREACH_THRESHOLD}",
        },
        "strengths": {
            item: {"minus_mean_of": list(domains), "threshold": threshold}
            for item, (domains, threshold) in STRENGTH_THRESHOLDS.items()
        },
        "responsivity": {
            "resp_literacy": "literate 0, limited 1, illiterate 2, not_recorded 0 (90%) or 1",
            "resp_language": "fluent when the first language is the national one, some when"
            " it is spoken (or Spanish in Brazil), otherwise interpreter",
            "resp_first_language": "first code of persons.languages",
            "resp_mental_health": f"{RESPONSIVITY_FLAG_YES} with the mental_health needs code,"
            f" else {RESPONSIVITY_FLAG_FALSE_POSITIVE}",
            "resp_learning_cognitive": f"{RESPONSIVITY_FLAG_YES} with {', '.join(LEARNING_CODES)},"
            f" else {RESPONSIVITY_FLAG_FALSE_POSITIVE}",
            "resp_motivation": f"y_antisocial_attitudes thresholds {list(MOTIVATION_THRESHOLDS)}",
        },
        "k6": {
            "distress": "0.35 z_antisocial_personality + 0.25 z_substance_abuse"
            f" + {K6_MENTAL_HEALTH_SHIFT} [mental_health] + 0.9 N(0,1) per person"
            " + assessment_noise_sd N(0,1)",
            "item_thresholds": list(K6_THRESHOLDS),
        },
        "audit": {
            "alcohol": "0.7 z_substance_abuse - 0.5 [female] + 0.7 N(0,1) per person"
            " + assessment_noise_sd N(0,1)",
            "item_thresholds_items_1_8": list(AUDIT_THRESHOLDS),
            "item_shifts": list(AUDIT_ITEM_SHIFT),
            "injury_thresholds_items_9_10": list(AUDIT_INJURY_THRESHOLDS),
        },
    }


def auc(score: np.ndarray, outcome: np.ndarray) -> float | None:
    """Area under the ROC curve by the rank (Mann-Whitney) formula, ties averaged."""
    score = np.asarray(score, dtype=float)
    outcome = np.asarray(outcome, dtype=bool)
    positives = int(outcome.sum())
    negatives = len(outcome) - positives
    if positives == 0 or negatives == 0:
        return None
    order = np.argsort(score, kind="mergesort")
    sorted_score = score[order]
    _, first, counts = np.unique(sorted_score, return_index=True, return_counts=True)
    average_rank = first + (counts + 1) / 2.0  # 1-based average rank of each tie group
    ranks = np.empty(len(score))
    ranks[order] = np.repeat(average_rank, counts)
    rank_sum = ranks[outcome].sum()
    return float((rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives))


def _years_before(day: datetime.date, years: int) -> datetime.date:
    """The same calendar day ``years`` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _add_months(day: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Day numbers plus whole months; the 31st becomes the last day of a shorter month."""
    dates = day.astype("datetime64[D]")
    month = dates.astype("datetime64[M]")
    day_of_month = (dates - month.astype("datetime64[D]")).astype(np.int64)
    target = month + months.astype(np.int64)
    last = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    result = target.astype("datetime64[D]") + np.minimum(day_of_month, last - 1)
    return result.astype(np.int64)


class _Instruments:
    def __init__(self) -> None:
        self.rnr = load_instrument("rnr-screener")
        self.k6 = load_instrument("k6")
        self.audit = load_instrument("audit")


def _domain_scores(instrument: Instrument, answers: dict[str, np.ndarray], rows: int) -> dict:
    scores: dict[str, np.ndarray] = {}
    for domain in instrument.domains:
        if domain.kind != "risk":
            continue
        if domain.scoring.method != "sum":
            raise ValueError(f"{instrument.slug}: domain {domain.id}: only sums are simulated")
        total = np.zeros(rows)
        for item in instrument.items:
            if item.domain != domain.id or not item.scored:
                continue
            value = answers[item.id]
            if item.type == "yes_no":
                total += np.where(value, item.yes_score, item.no_score)
            else:
                total += np.array([option.score for option in item.options])[value]
        scores[domain.id] = total
    return scores


def instrument_total(instrument: Instrument, answers: dict[str, np.ndarray], rows: int):
    """Vectorised total of yes/no and single-choice answers (sum or weighted-sum totals)."""
    scores = _domain_scores(instrument, answers, rows)
    method = instrument.total.method
    if method not in ("sum", "weighted_sum"):
        raise ValueError(f"{instrument.slug}: total method {method} is not simulated")
    weights = instrument.total.weights if method == "weighted_sum" else {}
    return sum(weights.get(name, 1.0) * value for name, value in scores.items())


def band_index(instrument: Instrument, total: np.ndarray) -> np.ndarray:
    """Index into ``instrument.bands`` (a fractional total between bands takes the lower)."""
    lows = np.array([band.min for band in instrument.bands])
    return np.clip(np.searchsorted(lows, total, side="right") - 1, 0, len(lows) - 1)


class AssessmentSimulator:
    def __init__(
        self,
        config: SimulationConfig,
        rng: np.random.Generator,
        persons: PersonInputs,
        episodes: EpisodeInputs,
    ) -> None:
        self.config = config
        self.rng = rng
        self.persons = persons
        self.episodes = episodes
        self.instruments = _Instruments()
        self.domain_index = {name: i for i, name in enumerate(CENTRAL_EIGHT)}
        n = len(persons.female)
        # Person-level draws, made once so that they do not depend on the episode count.
        self.distress_person = rng.standard_normal(n)
        self.alcohol_person = rng.standard_normal(n)
        needs = [set((codes or "").split(";")) for codes in persons.needs_codes]
        self.mental_health = np.array(["mental_health" in codes for codes in needs])
        self.learning = np.array([bool(codes & set(LEARNING_CODES)) for codes in needs])
        first = [languages.split(";")[0] for languages in persons.languages]
        self.first_language = np.array(first, dtype=object)
        national = persons.national_language
        speaks = np.array([national in languages.split(";") for languages in persons.languages])
        spanish = np.array(["es" in languages.split(";") for languages in persons.languages])
        self.language_index = np.where(
            self.first_language == national,
            0,
            np.where(speaks | (spanish & (national == "pt")), 1, 2),
        )
        literacy = persons.literacy
        self.literacy_index = np.select(
            [literacy == "limited", literacy == "illiterate", literacy == "not_recorded"],
            [1, 2, -1],
            0,
        )

    # -- answers -------------------------------------------------------------------------

    def _observed(self, person: np.ndarray) -> np.ndarray:
        noise = self.config.assessment_noise_sd
        latent = self.persons.latent[person]
        return latent + noise * self.rng.standard_normal(latent.shape)

    def _item(self, value: np.ndarray, thresholds: tuple[float, ...]) -> np.ndarray:
        noisy = value + ITEM_NOISE_SD * self.rng.standard_normal(len(value))
        return (noisy[:, None] > np.array(thresholds)[None, :]).sum(axis=1)

    def rnr_answers(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Answers for the episodes at ``rows`` (one assessment each), item id -> array."""
        episodes, rng = self.episodes, self.rng
        person = episodes.person[rows]
        count = len(rows)
        y = self._observed(person)
        d = self.domain_index
        history = y[:, d["criminal_history"]]
        answers: dict[str, np.ndarray] = {}
        extra = self._item(history, (CH_EXTRA_CONVICTION_THRESHOLD,))
        answers["ch_prior_convictions"] = np.minimum(episodes.prior[rows] + extra, 2)
        onset = history - CH_EARLY_ONSET_AGE_SLOPE * (episodes.age_at_admission[rows] - 25.0)
        answers["ch_first_arrest_under_18"] = self._item(onset, (CH_EARLY_ONSET_THRESHOLD,)) > 0
        latent_breach = (episodes.prior[rows] > 0) & (
            self._item(history, (CH_BREACH_THRESHOLD,)) > 0
        )
        answers["ch_supervision_breach"] = episodes.earlier_breach[rows] | latent_breach
        for item, (domain, thresholds) in RNR_ITEM_THRESHOLDS.items():
            value = self._item(y[:, d[domain]], thresholds)
            answers[item] = value if len(thresholds) > 1 else value > 0
        for item, (domains, threshold) in STRENGTH_THRESHOLDS.items():
            need = y[:, [d[name] for name in domains]].mean(axis=1)
            answers[item] = self._item(-need, (threshold,)) > 0
        literacy = self.literacy_index[person]
        unrecorded = (rng.random(count) < 0.1).astype(np.int64)
        answers["resp_literacy"] = np.where(literacy < 0, unrecorded, literacy)
        answers["resp_language"] = self.language_index[person]
        answers["resp_first_language"] = self.first_language[person]
        flag = rng.random(count)
        answers["resp_mental_health"] = flag < np.where(
            self.mental_health[person], RESPONSIVITY_FLAG_YES, RESPONSIVITY_FLAG_FALSE_POSITIVE
        )
        flag = rng.random(count)
        answers["resp_learning_cognitive"] = flag < np.where(
            self.learning[person], RESPONSIVITY_FLAG_YES, RESPONSIVITY_FLAG_FALSE_POSITIVE
        )
        answers["resp_motivation"] = self._item(
            y[:, d["antisocial_attitudes"]], MOTIVATION_THRESHOLDS
        )
        return answers

    def k6_answers(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        person = self.episodes.person[rows]
        latent, d = self.persons.latent[person], self.domain_index
        distress = (
            0.35 * latent[:, d["antisocial_personality"]]
            + 0.25 * latent[:, d["substance_abuse"]]
            + K6_MENTAL_HEALTH_SHIFT * self.mental_health[person]
            + 0.9 * self.distress_person[person]
            + self.config.assessment_noise_sd * self.rng.standard_normal(len(rows))
        )
        return {
            item.id: self._item(distress, K6_THRESHOLDS)
            for item in self.instruments.k6.items
            if item.scored
        }

    def audit_answers(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        person = self.episodes.person[rows]
        latent = self.persons.latent[person]
        alcohol = (
            0.7 * latent[:, self.domain_index["substance_abuse"]]
            - 0.5 * self.persons.female[person]
            + 0.7 * self.alcohol_person[person]
            + self.config.assessment_noise_sd * self.rng.standard_normal(len(rows))
        )
        answers = {}
        items = [item for item in self.instruments.audit.items if item.scored]
        for item, shift in zip(items, AUDIT_ITEM_SHIFT, strict=True):
            thresholds = AUDIT_THRESHOLDS if len(item.options) == 5 else AUDIT_INJURY_THRESHOLDS
            answers[item.id] = self._item(alcohol, tuple(t + shift for t in thresholds))
        return answers

    # -- schedule ------------------------------------------------------------------------

    def next_due(self, band: np.ndarray, assessed: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Vectorised ``next_reassessment_date``; -1 where no reassessment is due.

        The expected release date counts only once the person is sentenced (sentence date on
        or before the assessment).
        """
        rnr = self.instruments.rnr
        months_by_band = np.full(len(rnr.bands), -1)
        for b, code in enumerate(band.code for band in rnr.bands):
            for interval in rnr.reassessment_intervals:
                if code in interval.bands:
                    months_by_band[b] = interval.months
                    break
        months = months_by_band[band]
        periodic = np.where(months >= 0, _add_months(assessed, np.maximum(months, 0)), -1)
        if rnr.before_release_days is None:
            return periodic
        sentence = self.episodes.sentence_day[rows]
        expected = self.episodes.expected_release_day[rows]
        known = (sentence >= 0) & (sentence <= assessed)
        window = expected - rnr.before_release_days
        has_periodic = periodic >= 0
        before = known & (assessed < window)
        inside = known & (assessed >= window) & (assessed <= expected)
        return np.select(
            [
                before,
                inside & has_periodic & (periodic < expected),
                inside,
            ],
            [np.where(has_periodic, np.minimum(periodic, window), window), periodic, -1],
            periodic,
        )

    def run(self) -> pl.DataFrame:
        config, rng, episodes = self.config, self.rng, self.episodes
        count = len(episodes.person)
        # The service adopts the instruments when its history window opens: people already in
        # custody then are assessed in the first month, and episodes that ended earlier have none.
        go_live_date = _years_before(config.extract_date, config.history_years)
        go_live = (go_live_date - EPOCH).days
        active = episodes.end_day >= go_live
        start = np.maximum(episodes.admission_day, go_live)
        intake = np.minimum(start + rng.integers(0, 31, count), episodes.end_day)
        health = (rng.random(count) < config.health_screening_share) & active
        frames = []
        rnr = self.instruments.rnr
        rows = np.flatnonzero(active)
        day = intake[rows]
        sequence = 0
        while len(rows):
            answers = self.rnr_answers(rows)
            total = instrument_total(rnr, answers, len(rows))
            band = band_index(rnr, total)
            frames.append(self._frame(rnr, rows, day, sequence, answers))
            due = self.next_due(band, day, rows)
            keep = (due >= 0) & (due <= episodes.end_day[rows])
            rows, day = rows[keep], due[keep]
            sequence += 1
        health_rows = np.flatnonzero(health)
        frames.append(
            self._frame(
                self.instruments.k6,
                health_rows,
                intake[health_rows],
                0,
                self.k6_answers(health_rows),
            )
        )
        frames.append(
            self._frame(
                self.instruments.audit,
                health_rows,
                intake[health_rows],
                0,
                self.audit_answers(health_rows),
            )
        )
        table = pl.concat(frames).sort("_row", "assessed_on", "_instrument")
        keys = [f"AS-{i:07d}" for i in range(1, table.height + 1)]
        return table.select(
            pl.Series("assessment_key", keys, dtype=pl.String),
            "prison_number",
            "episode_key",
            "instrument",
            "version",
            pl.col("assessed_on").cast(pl.Date),
            "answers",
        )

    def _frame(
        self,
        instrument: Instrument,
        rows: np.ndarray,
        day: np.ndarray,
        sequence: int,
        answers: dict[str, np.ndarray],
    ) -> pl.DataFrame:
        columns: dict[str, pl.Series] = {}
        for item in instrument.items:
            if item.id not in answers:
                continue
            value = answers[item.id]
            if item.type == "yes_no":
                columns[item.id] = pl.Series(item.id, value.astype(bool), dtype=pl.Boolean)
            elif item.type == "text":
                columns[item.id] = pl.Series(item.id, value.tolist(), dtype=pl.String)
            else:
                columns[item.id] = pl.Series(item.id, value.astype(np.int64), dtype=pl.Int64)
        encoded = pl.DataFrame(list(columns.values())).select(
            pl.struct(pl.all()).struct.json_encode().alias("answers")
        )
        episodes = self.episodes
        return pl.DataFrame(
            {
                "_row": rows.astype(np.int64),
                "_instrument": np.full(len(rows), INSTRUMENT_ORDER.index(instrument.slug)),
                "_sequence": np.full(len(rows), sequence),
                "prison_number": self.persons.prison_number[episodes.person[rows]].tolist(),
                "episode_key": episodes.episode_key[rows].tolist(),
                "instrument": [instrument.slug] * len(rows),
                "version": [instrument.version] * len(rows),
                "assessed_on": day.astype(np.int32),
                "answers": encoded["answers"],
            },
            schema_overrides={"prison_number": pl.String, "episode_key": pl.String},
        )


def simulate_assessments(
    config: SimulationConfig,
    rng: np.random.Generator,
    persons: PersonInputs,
    episodes: EpisodeInputs,
) -> pl.DataFrame:
    """The assessments table (see the module docstring)."""
    return AssessmentSimulator(config, rng, persons, episodes).run()


def empty_table() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "assessment_key": pl.String,
            "prison_number": pl.String,
            "episode_key": pl.String,
            "instrument": pl.String,
            "version": pl.String,
            "assessed_on": pl.Date,
            "answers": pl.String,
        }
    )


def intake_rnr_auc(
    assessments: pl.DataFrame,
    custody_episodes: pl.DataFrame,
    outcome_events: pl.DataFrame,
    facilities: pl.DataFrame,
    *,
    extract_date: datetime.date,
) -> dict[str, Any]:
    """AUC of the intake RNR total for reconviction within 3 years of a closed release.

    Releases as in ``reconviction_rate_3y`` (end_of_sentence, parole or pardon, from a
    closed facility, with full 3-year follow-up); the score is the total of the episode's
    first RNR screener, scored with the instrument engine's rules. Also reports the AUC of
    the last RNR total before release.
    """
    from whatworks.analytics.simulation.model import release_reconvicted_3y

    releases = release_reconvicted_3y(
        custody_episodes, outcome_events, facilities, extract_date=extract_date
    )
    rnr = load_instrument("rnr-screener")
    screens = assessments.filter(pl.col("instrument") == rnr.slug)
    result: dict[str, Any] = {"releases": releases.height, "reconvicted": 0}
    if screens.height == 0 or releases.height == 0:
        return {**result, "intake_auc": None, "last_before_release_auc": None}
    totals = rnr_totals(rnr, screens["answers"])
    screens = screens.select("episode_key", "assessed_on").with_columns(pl.Series("total", totals))
    intake = screens.group_by("episode_key").agg(pl.col("total").sort_by("assessed_on").first())
    last = screens.group_by("episode_key").agg(pl.col("total").sort_by("assessed_on").last())
    joined = releases.join(intake, on="episode_key", how="inner").join(
        last, on="episode_key", how="inner", suffix="_last"
    )
    outcome = joined["reconvicted"].to_numpy()
    result["reconvicted"] = int(outcome.sum())
    result["intake_auc"] = auc(joined["total"].to_numpy(), outcome)
    result["last_before_release_auc"] = auc(joined["total_last"].to_numpy(), outcome)
    return result


def rnr_totals(instrument: Instrument, answers: pl.Series) -> np.ndarray:
    """Totals of JSON answer texts, vectorised (same rules as the engine's ``score``)."""
    items = [item for item in instrument.items if item.scored]
    dtype = pl.Struct(
        {item.id: pl.Boolean if item.type == "yes_no" else pl.Int64 for item in items}
    )
    decoded = answers.str.json_decode(dtype).struct.unnest()
    columns = {item.id: decoded[item.id].to_numpy() for item in items}
    return instrument_total(instrument, columns, len(answers))

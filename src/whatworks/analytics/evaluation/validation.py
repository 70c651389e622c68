"""Validation of the programme-evaluation estimators against the simulator's planted effects.

Three parts (docs/methods/README.md):

* :func:`release_cohort` turns a :class:`~whatworks.analytics.simulation.SimulatedService`
  into the analysis frame an evaluation would use: one row per release followed up, the
  covariates known at release, the treatment (completion of, or participation in, one
  programme during the episode) and a binary outcome, **rearrest for an offence committed
  within ``window_days`` of release**.
* :func:`true_att` computes the true average treatment effect on the treated for that
  outcome, on the risk-difference scale, from the planted hazard (Weibull cumulative
  hazard, thinning by the rearrest probability, arrest lag, post-release death and
  deportation, recall of parolees), by numerical integration.
* :func:`replicate` runs the simulation ``n_reps`` times with fresh seeds, estimates the
  effect with ``evaluate`` and compares it with each replication's true ATT.

Pure Python (numpy, polars); never imports Django.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import time
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import polars as pl

from whatworks.analytics.evaluation.result import EvaluationSpec
from whatworks.analytics.simulation.reintegration import release_log_hazard
from whatworks.analytics.treatment.common import EDUCATION_LEVELS, LITERACY_LEVELS

Treatment = Literal["completion", "participation"]

DAYS_PER_YEAR = 365.25
FOLLOWED_UP_RELEASES = ("end_of_sentence", "parole", "pardon", "other")
RISK_BANDS = ("low", "moderate", "high", "very_high")
LITERACY_ORDER = LITERACY_LEVELS
OFFENCES = (
    "theft",
    "robbery",
    "burglary",
    "drug_trafficking",
    "drug_possession",
    "homicide",
    "assault",
    "sexual",
    "domestic_violence",
    "fraud",
    "firearms",
    "other",
)
TREATMENT = "treated"
OUTCOME = "rearrested"

# What a prison service would hold at release (offence "theft" is the reference level).
OBSERVED_BASE_COVARIATES = (
    "age_at_release",
    "female",
    "foreign",
    "log1p_prior_episodes",
    "semi_open_release",
    "parole",
    "parole_remaining_years",
    "sentenced",
    "sentence_years",
    "time_served_years",
    "education_rank",
    "education_not_recorded",
    "literacy_limited",
    "literacy_illiterate",
    "rnr_total",
    *(f"offence_{name}" for name in OFFENCES[1:]),
)
# The true static risk replaces the proxies of risk: with it the treatment is ignorable
# (motivation never enters the hazard; docs/simulator.md section 5b).
ORACLE_BASE_COVARIATES = (
    "true_risk",
    "foreign",
    "parole",
    "parole_remaining_years",
)


def _day(value: datetime.date) -> int:
    return (value - datetime.date(1970, 1, 1)).days


def _completed_column(code: str) -> str:
    return "completed_" + code.lower().replace("-", "_")


def covariates(
    cohort: pl.DataFrame, kind: Literal["oracle", "observed"] = "oracle"
) -> tuple[str, ...]:
    """The adjustment set: the base covariates plus the other programmes completed in the
    episode (motivated people complete several, and each has its own planted effect)."""
    base = ORACLE_BASE_COVARIATES if kind == "oracle" else OBSERVED_BASE_COVARIATES
    others = tuple(
        name for name in cohort.columns if name.startswith("completed_") and cohort[name].sum() > 0
    )
    return base + others


def _rnr_intake_totals(service: Any) -> pl.DataFrame:
    """Total of the first RNR screen of each episode."""
    from whatworks.analytics.instruments import load_instrument
    from whatworks.analytics.instruments.scoring import score

    screens = (
        service.assessments.filter(pl.col("instrument") == "rnr-screener")
        .sort("episode_key", "assessed_on")
        .unique("episode_key", keep="first", maintain_order=True)
    )
    instruments: dict[str, Any] = {}
    totals = []
    for slug, answers in zip(screens["instrument"], screens["answers"], strict=True):
        if slug not in instruments:
            instruments[slug] = load_instrument(slug)
        result = score(instruments[slug], json.loads(answers), require_complete=False)
        totals.append(result.total)
    return pl.DataFrame(
        {"episode_key": screens["episode_key"], "rnr_total": totals},
        schema={"episode_key": pl.String, "rnr_total": pl.Float64},
    )


def release_cohort(
    service: Any,
    *,
    programme_code: str,
    window_days: int = 365,
    treatment: Treatment = "completion",
    followup_margin_days: int = 180,
    eligible_only: bool = True,
    rnr: bool = True,
) -> pl.DataFrame:
    """One row per release followed up, for an evaluation of ``programme_code``.

    Rows: releases of type end_of_sentence, parole, pardon or other (section 5 of
    docs/simulator.md) on or after the start of the history window (programmes exist from
    then), with ``release_date + window_days + followup_margin_days <= extract_date`` (the
    margin lets the arrest that follows an offence reach the records), from episodes that
    spent time at a facility running the programme and, with ``eligible_only``, whose person
    met the programme's eligibility rules at admission (sex, age, risk band, literacy,
    education, language).

    Columns: identifiers and dates; the covariates of :data:`OBSERVED_BASE_COVARIATES`;
    ``completed_<code>`` for every other programme; ``treated`` (1 = completed the programme
    during the episode, or with ``treatment="participation"`` attended its first session);
    ``rearrested`` (1 = a rearrest event for an offence committed within ``window_days``
    after release, before the person's next admission); and truth columns that an analysis
    must not use as covariates except in the oracle set: ``true_risk`` (static log relative
    hazard at release, without programme terms), ``true_lp`` (the release's linear
    predictor, with the planted programme and release-arrangement effects),
    ``true_completed`` (completion of ``programme_code``, whatever ``treatment`` is) and
    ``episode_number``.
    """
    if treatment not in ("completion", "participation"):
        raise ValueError(f"treatment must be completion or participation, got {treatment!r}")
    truth = service.ground_truth
    config = truth["config"]
    coefficients = truth["hazard"]["coefficients"]
    extract = datetime.date.fromisoformat(truth["window"]["extract_date"])
    window_start = datetime.date.fromisoformat(truth["window"]["start_date"])
    effects = {
        code: float(value["log_hazard_ratio"])
        for code, value in truth["programmes"]["effects"].items()
    }
    if programme_code not in effects:
        raise ValueError(f"unknown programme {programme_code!r}")
    catalogue = service.programmes.filter(pl.col("code") == programme_code).row(0, named=True)
    last_release = extract - datetime.timedelta(days=window_days + followup_margin_days)

    facility_type = service.facilities.select(pl.col("code").alias("facility"), "facility_type")
    episodes = (
        service.custody_episodes.with_columns(
            episode_number=pl.col("episode_key").str.split("-").list.last().cast(pl.Int64)
        )
        .sort("prison_number", "episode_number")
        .with_columns(
            next_admission=pl.col("admission_date").shift(-1).over("prison_number"),
        )
    )
    releases = (
        episodes.filter(
            pl.col("release_type").is_in(FOLLOWED_UP_RELEASES)
            & (pl.col("release_date") >= window_start)
            & (pl.col("release_date") <= last_release)
        )
        .join(facility_type, on="facility", how="left")
        .join(
            service.persons.select(
                "prison_number",
                "date_of_birth",
                "sex",
                "nationality",
                "languages",
                "literacy",
                "education_level",
            ),
            on="prison_number",
            how="left",
        )
        .join(
            service.person_truth.select(
                "prison_number", "linear_predictor", "prior_custodial_episodes"
            ),
            on="prison_number",
            how="left",
        )
    )
    age_ref = float(coefficients["age_reference_years"])
    age_coef = float(coefficients["age_per_year_from_reference"])
    prior_coef = float(coefficients["log1p_prior_custodial_episodes"])
    releases = releases.with_columns(
        prior_episodes=pl.col("prior_custodial_episodes") + pl.col("episode_number") - 1,
        age_at_release=(pl.col("release_date") - pl.col("date_of_birth")).dt.total_days()
        / DAYS_PER_YEAR,
        age_at_admission=(pl.col("admission_date") - pl.col("date_of_birth")).dt.total_days()
        / DAYS_PER_YEAR,
    ).with_columns(
        true_risk=pl.col("linear_predictor")
        + age_coef * (pl.col("age_at_release") - age_ref)
        + prior_coef * pl.col("prior_episodes").log1p(),
        risk_at_admission=pl.col("linear_predictor")
        + age_coef * (pl.col("age_at_admission") - age_ref)
        + prior_coef * pl.col("prior_episodes").log1p(),
    )

    # Programmes completed (or started) during the episode.
    referrals = service.programme_referrals
    completed = (
        referrals.filter(pl.col("status") == "completed")
        .select("episode_key", "programme_code")
        .unique()
    )
    codes = list(effects)
    wide = pl.DataFrame({"episode_key": releases["episode_key"]})
    for code in codes:
        keys = completed.filter(pl.col("programme_code") == code)["episode_key"]
        wide = wide.with_columns(
            pl.col("episode_key").is_in(keys.implode()).cast(pl.Int8).alias(_completed_column(code))
        )
    started_keys = referrals.filter(
        (pl.col("programme_code") == programme_code) & pl.col("start_date").is_not_null()
    )["episode_key"]
    releases = releases.join(wide, on="episode_key", how="left")
    programme_effect = sum(
        (effects[code] * pl.col(_completed_column(code)).cast(pl.Float64) for code in codes),
        pl.lit(0.0),
    )
    target = _completed_column(programme_code)
    releases = releases.with_columns(
        true_lp=pl.col("true_risk")
        + float(coefficients["semi_open_or_open_release"])
        * pl.col("facility_type").is_in(["semi_open", "open"]).cast(pl.Float64)
        + float(coefficients["parole_release"])
        * (pl.col("release_type") == "parole").cast(pl.Float64)
        + programme_effect,
        true_completed=pl.col(target),
        treated=(
            pl.col(target).cast(pl.Int8)
            if treatment == "completion"
            else pl.col("episode_key").is_in(started_keys.implode()).cast(pl.Int8)
        ),
    ).drop(target)
    # Arrangements at release (job, stable accommodation) are planted hazard terms too.
    reintegration_terms = release_log_hazard(service.release_arrangements, truth)
    releases = (
        releases.join(reintegration_terms, on="episode_key", how="left")
        .with_columns(true_lp=pl.col("true_lp") + pl.col("reintegration_log_hazard").fill_null(0.0))
        .drop("reintegration_log_hazard")
    )

    # Episodes that spent time at a facility running the programme.
    running = (
        service.programme_groups.filter(pl.col("programme_code") == programme_code)["facility"]
        .unique()
        .implode()
    )
    visited = service.movements.filter(pl.col("to_facility").is_in(running))["episode_key"].unique()
    releases = releases.filter(pl.col("episode_key").is_in(visited.implode()))

    if eligible_only:
        releases = releases.filter(_eligible(catalogue, truth))

    # Outcome: a rearrest for an offence committed within the window after release.
    arrests = service.outcome_events.filter(pl.col("event_type") == "rearrest").select(
        "prison_number", "offence_date"
    )
    hits = (
        releases.select("episode_key", "prison_number", "release_date", "next_admission")
        .join(arrests, on="prison_number", how="inner")
        .filter(
            (pl.col("offence_date") > pl.col("release_date"))
            & (pl.col("offence_date") <= pl.col("release_date") + pl.duration(days=window_days))
            & (
                pl.col("next_admission").is_null()
                | (pl.col("offence_date") < pl.col("next_admission"))
            )
        )["episode_key"]
        .unique()
    )

    education_rank = pl.col("education_level").replace_strict(
        {name: rank for rank, name in enumerate(EDUCATION_LEVELS)},
        default=None,
        return_dtype=pl.Float64,
    )
    cohort = releases.with_columns(
        rearrested=pl.col("episode_key").is_in(hits.implode()).cast(pl.Int8),
        female=(pl.col("sex") == "female").cast(pl.Int8),
        foreign=(pl.col("nationality") != config["country"]).cast(pl.Int8),
        log1p_prior_episodes=pl.col("prior_episodes").log1p(),
        semi_open_release=pl.col("facility_type").is_in(["semi_open", "open"]).cast(pl.Int8),
        parole=(pl.col("release_type") == "parole").cast(pl.Int8),
        parole_remaining_years=pl.when(pl.col("release_type") == "parole")
        .then(
            (pl.col("expected_release_date") - pl.col("release_date")).dt.total_days()
            / DAYS_PER_YEAR
        )
        .otherwise(0.0)
        .clip(lower_bound=0.0),
        sentenced=pl.col("sentence_length_days").is_not_null().cast(pl.Int8),
        sentence_years=(pl.col("sentence_length_days").fill_null(0) / DAYS_PER_YEAR),
        time_served_years=(pl.col("release_date") - pl.col("admission_date")).dt.total_days()
        / DAYS_PER_YEAR,
        education_rank=education_rank.fill_null(education_rank.median()),
        education_not_recorded=(pl.col("education_level") == "not_recorded").cast(pl.Int8),
        literacy_limited=(pl.col("literacy") == "limited").cast(pl.Int8),
        literacy_illiterate=(pl.col("literacy") == "illiterate").cast(pl.Int8),
        **{
            f"offence_{name}": (pl.col("main_offence_category") == name).cast(pl.Int8)
            for name in OFFENCES[1:]
        },
        release_day=pl.col("release_date").map_batches(
            lambda s: (s - datetime.date(1970, 1, 1)).dt.total_days(), return_dtype=pl.Int64
        ),
    )
    if rnr and cohort.height:
        totals = _rnr_intake_totals(service)
        cohort = cohort.join(totals, on="episode_key", how="left")
    else:
        cohort = cohort.with_columns(rnr_total=pl.lit(None, dtype=pl.Float64))
    fill = cohort["rnr_total"].mean()
    cohort = cohort.with_columns(pl.col("rnr_total").fill_null(fill if fill is not None else 0.0))
    keep = [
        "episode_key",
        "prison_number",
        "episode_number",
        "release_date",
        "release_day",
        "release_type",
        "facility",
        "facility_type",
        "main_offence_category",
        *OBSERVED_BASE_COVARIATES,
        *(_completed_column(code) for code in codes if code != programme_code),
        TREATMENT,
        OUTCOME,
        "true_risk",
        "true_lp",
        "true_completed",
    ]
    return cohort.select(keep).sort("release_date", "episode_key")


def _eligible(catalogue: dict[str, Any], truth: dict[str, Any]) -> pl.Expr:
    """The simulator's eligibility rules (docs/simulator.md, 5b), at admission."""
    ok = pl.lit(True)
    if catalogue["eligible_sexes"]:
        ok &= pl.col("sex").is_in(catalogue["eligible_sexes"].split(";"))
    if catalogue["min_age"] is not None:
        ok &= pl.col("age_at_admission") >= catalogue["min_age"]
    if catalogue["max_age"] is not None:
        ok &= pl.col("age_at_admission") <= catalogue["max_age"]
    if catalogue["eligible_risk_bands"]:
        cuts = truth["programmes"]["risk_bands"]["cutpoints"]
        band_index = sum(
            ((pl.col("risk_at_admission") > cut).cast(pl.Int32) for cut in cuts), pl.lit(0)
        )
        allowed = [RISK_BANDS.index(b) for b in catalogue["eligible_risk_bands"].split(";")]
        ok &= band_index.is_in(allowed)
    literacy_rank = pl.col("literacy").replace_strict(
        {name: rank for rank, name in enumerate(LITERACY_ORDER)},
        default=-1,
        return_dtype=pl.Int32,
    )
    if catalogue["min_literacy"] is not None:
        needed = LITERACY_ORDER.index(catalogue["min_literacy"])
        ok &= (literacy_rank < 0) | (literacy_rank >= needed)
    education_rank = pl.col("education_level").replace_strict(
        {name: rank for rank, name in enumerate(EDUCATION_LEVELS)},
        default=-1,
        return_dtype=pl.Int32,
    )
    if catalogue["min_education"] is not None:
        floor = EDUCATION_LEVELS.index(catalogue["min_education"])
        ok &= (education_rank < 0) | (education_rank >= floor)
    if catalogue["max_education"] is not None:
        ceiling = EDUCATION_LEVELS.index(catalogue["max_education"])
        ok &= (education_rank < 0) | (education_rank <= ceiling)
    if catalogue["languages"]:
        spoken = catalogue["languages"].split(";")
        ok &= pl.col("languages").str.split(";").list.eval(pl.element().is_in(spoken)).list.any()
    return ok


# -- the true effect ---------------------------------------------------------------------


def _lag_cdf(days: np.ndarray, same_day_share: float, median: float, log_sd: float) -> np.ndarray:
    """P(offence-to-arrest lag <= days): a same-day mass plus a lognormal."""
    from scipy.special import ndtr

    positive = np.maximum(days, 1e-9)
    lognormal = ndtr((np.log(positive) - math.log(median)) / log_sd)
    return np.where(days < 0, 0.0, same_day_share + (1.0 - same_day_share) * lognormal)


def exposure_integrals(
    service: Any,
    cohort: pl.DataFrame,
    *,
    window_days: int = 365,
    draws: int = 200,
    grid: int = 96,
    seed: int = 0,
) -> np.ndarray:
    """Per release and draw of the competing exits, the integral I of README.md:

        I = integral_0^min(W, R, G) shape * t^(shape-1) * F_A(min(G, E) - t) dt

    with W the window, G the time to death or deportation, R the time to recall (parolees),
    E the time to the extract date and F_A the distribution of the offence-to-arrest lag.
    Then P(rearrested | lp) = 1 - mean over draws of exp(-p_arrest * scale * e^lp * I).
    Returns an array of shape (rows, draws)."""
    truth = service.ground_truth
    config = truth["config"]
    shape = float(truth["hazard"]["weibull_shape"])
    extract_day = _day(datetime.date.fromisoformat(truth["window"]["extract_date"]))
    rng = np.random.default_rng(seed)
    n = cohort.height
    w = window_days / DAYS_PER_YEAR
    e = (extract_day + 1 - cohort["release_day"].to_numpy()) / DAYS_PER_YEAR
    foreign = cohort["foreign"].to_numpy().astype(bool)
    mu = config["post_release_death_rate_per_year"] + foreign * float(
        config["post_release_deportation_rate_per_year"]
    )
    # Stratified draws of the exit time G (exponential).
    u = (np.arange(draws) + 0.5) / draws
    g = -np.log1p(-rng.permutation(u)[None, :]) / np.maximum(mu[:, None], 1e-300)
    # Recall of parolees: up to 3 technical violations at a Poisson rate until the end of
    # the parole period, each recalled with a probability, after a lognormal lag.
    r = np.full((n, draws), np.inf)
    parole = cohort["parole"].to_numpy().astype(bool)
    rate = float(config["technical_violation_rate_per_year"])
    if parole.any() and rate > 0:
        remaining = cohort["parole_remaining_years"].to_numpy()[parole]
        m = int(parole.sum())
        gaps = rng.exponential(1.0, (m, draws, 3))
        violation = np.cumsum(gaps, axis=2) / rate
        violating = violation < remaining[:, None, None]
        recalled = violating & (rng.random((m, draws, 3)) < config["recall_probability"])
        lag = np.maximum(
            1.0,
            np.rint(
                config["recall_lag_median_days"]
                * np.exp(config["lag_log_sd"] * rng.standard_normal((m, draws, 3)))
            ),
        )
        recall = np.where(recalled, violation + lag / DAYS_PER_YEAR, np.inf).min(axis=2)
        r[parole] = recall
    upper = np.minimum(np.minimum(w, r), g)  # (n, draws)
    visible = np.minimum(g, e[:, None])
    # With s = t^shape: I = integral_0^(upper^shape) F_A(visible - s^(1/shape)) ds.
    nodes = np.linspace(0.0, 1.0, grid)
    result = np.empty((n, draws))
    chunk = max(1, 2_000_000 // (draws * grid))
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        top = upper[start:stop] ** shape
        s = top[:, :, None] * nodes[None, None, :]
        t = s ** (1.0 / shape)
        lag_days = (visible[start:stop, :, None] - t) * DAYS_PER_YEAR
        values = _lag_cdf(
            lag_days,
            config["rearrest_same_day_share"],
            config["rearrest_lag_median_days"],
            config["lag_log_sd"],
        )
        result[start:stop] = top * np.trapezoid(values, nodes, axis=2)
    return result


def outcome_probability(
    service: Any,
    cohort: pl.DataFrame,
    lp: np.ndarray | None = None,
    *,
    window_days: int = 365,
    integrals: np.ndarray | None = None,
    **kwargs: Any,
) -> np.ndarray:
    """P(rearrested within the window | lp) for each row of ``cohort`` (default lp: the
    release's true linear predictor, ``true_lp``)."""
    truth = service.ground_truth
    scale = float(truth["hazard"]["baseline_hazard_scale"])
    p_arrest = float(truth["config"]["rearrest_probability"])
    if integrals is None:
        integrals = exposure_integrals(service, cohort, window_days=window_days, **kwargs)
    if lp is None:
        lp = cohort["true_lp"].to_numpy()
    intensity = p_arrest * scale * np.exp(np.asarray(lp, dtype=float))
    return 1.0 - np.exp(-intensity[:, None] * integrals).mean(axis=1)


def true_att(
    service: Any,
    cohort: pl.DataFrame,
    *,
    programme_code: str,
    window_days: int = 365,
    **kwargs: Any,
) -> float:
    """True ATT on the risk-difference scale: the mean over the treated rows of
    P(outcome | lp) - P(outcome | lp - beta * completed), beta the programme's planted log
    hazard ratio (for participation, only the participants who completed carry it)."""
    beta = float(service.ground_truth["programmes"]["effects"][programme_code]["log_hazard_ratio"])
    treated = cohort.filter(pl.col(TREATMENT) == 1)
    if treated.height == 0:
        return float("nan")
    integrals = exposure_integrals(service, treated, window_days=window_days, **kwargs)
    lp = treated["true_lp"].to_numpy()
    without = lp - beta * treated["true_completed"].to_numpy()
    factual = outcome_probability(service, treated, lp, integrals=integrals)
    counterfactual = outcome_probability(service, treated, without, integrals=integrals)
    return float(np.mean(factual - counterfactual))


# -- replications ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ReplicationSummary:
    method: str
    programme_code: str
    persons: int
    covariate_set: str
    seeds: tuple[int, ...]
    true_effects: tuple[float, ...]
    estimates: tuple[float, ...]
    ci_lows: tuple[float, ...]
    ci_highs: tuple[float, ...]
    naive_estimates: tuple[float, ...]
    n_treated: tuple[int, ...]
    n_rows: tuple[int, ...]
    runtime_seconds: float
    evaluate_seconds: float
    failures: tuple[str, ...] = ()

    @property
    def reps(self) -> int:
        return len(self.estimates)

    @property
    def true_effect(self) -> float:
        return float(np.mean(self.true_effects))

    @property
    def mean_estimate(self) -> float:
        return float(np.mean(self.estimates))

    @property
    def bias(self) -> float:
        return float(np.mean(np.subtract(self.estimates, self.true_effects)))

    @property
    def bias_se(self) -> float:
        errors = np.subtract(self.estimates, self.true_effects)
        return float(np.std(errors, ddof=1) / math.sqrt(len(errors))) if len(errors) > 1 else 0.0

    @property
    def relative_bias(self) -> float:
        return self.bias / abs(self.true_effect) if self.true_effect else float("nan")

    @property
    def coverage(self) -> float:
        truth = np.asarray(self.true_effects)
        covered = (np.asarray(self.ci_lows) <= truth) & (truth <= np.asarray(self.ci_highs))
        return float(covered.mean())

    @property
    def empirical_sd(self) -> float:
        return float(np.std(self.estimates, ddof=1)) if self.reps > 1 else 0.0

    @property
    def mean_ci_width(self) -> float:
        return float(np.mean(np.subtract(self.ci_highs, self.ci_lows)))

    @property
    def naive_bias(self) -> float:
        return float(np.mean(np.subtract(self.naive_estimates, self.true_effects)))

    @property
    def naive_relative_bias(self) -> float:
        return self.naive_bias / abs(self.true_effect) if self.true_effect else float("nan")

    def to_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        for name in (
            "reps",
            "true_effect",
            "mean_estimate",
            "bias",
            "bias_se",
            "relative_bias",
            "coverage",
            "empirical_sd",
            "mean_ci_width",
            "naive_bias",
            "naive_relative_bias",
        ):
            values[name] = getattr(self, name)
        return values


def one_replication(
    seed: int,
    *,
    persons: int,
    method: str,
    programme_code: str = "CBT-RR",
    estimand: str = "att",
    covariate_set: Literal["oracle", "observed"] = "oracle",
    window_days: int = 365,
    treatment: Treatment = "completion",
    spec_overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Simulate, build the cohort, compute the truth, evaluate. One dict of results."""
    from whatworks.analytics.evaluation import evaluate  # written alongside this module
    from whatworks.analytics.simulation import SimulationConfig, simulate

    service = simulate(SimulationConfig(persons=persons, seed=seed))
    cohort = release_cohort(
        service,
        programme_code=programme_code,
        window_days=window_days,
        treatment=treatment,
        rnr=covariate_set == "observed",
    )
    truth = true_att(service, cohort, programme_code=programme_code, window_days=window_days)
    chosen = covariates(cohort, covariate_set)
    spec = EvaluationSpec(
        treatment=TREATMENT,
        outcome=OUTCOME,
        covariates=chosen,
        method=method,  # type: ignore[arg-type]
        estimand=estimand,  # type: ignore[arg-type]
        seed=seed,
        **(spec_overrides or {}),
    )
    y = cohort[OUTCOME].to_numpy()
    t = cohort[TREATMENT].to_numpy()
    naive = float(y[t == 1].mean() - y[t == 0].mean())
    started = time.perf_counter()
    result = evaluate(cohort, spec)
    elapsed = time.perf_counter() - started
    return {
        "seed": seed,
        "true_effect": truth,
        "estimate": float(result.estimate),
        "ci_low": float(result.ci_low),
        "ci_high": float(result.ci_high),
        "naive": naive,
        "n_treated": int(t.sum()),
        "n_rows": cohort.height,
        "evaluate_seconds": elapsed,
    }


def replicate(
    n_reps: int,
    *,
    persons: int,
    method: str,
    estimand: str = "att",
    seed0: int = 1000,
    programme_code: str = "CBT-RR",
    covariate_set: Literal["oracle", "observed"] = "oracle",
    window_days: int = 365,
    treatment: Treatment = "completion",
    spec_overrides: dict[str, Any] | None = None,
    progress: Any = None,
) -> ReplicationSummary:
    """``n_reps`` fresh simulations (seeds ``seed0``, ``seed0 + 1``, ...), each evaluated
    with ``method`` and compared with its own true ATT. A replication whose evaluation
    raises is recorded in ``failures`` and left out of the summary."""
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    failures: list[str] = []
    for rep in range(n_reps):
        seed = seed0 + rep
        try:
            row = one_replication(
                seed,
                persons=persons,
                method=method,
                programme_code=programme_code,
                estimand=estimand,
                covariate_set=covariate_set,
                window_days=window_days,
                treatment=treatment,
                spec_overrides=spec_overrides,
            )
        except Exception as error:
            failures.append(f"seed {seed}: {type(error).__name__}: {error}")
            continue
        rows.append(row)
        if progress is not None:
            progress(rep, row)
    return _summary(
        rows,
        method=method,
        programme_code=programme_code,
        persons=persons,
        covariate_set=covariate_set,
        runtime=time.perf_counter() - started,
        failures=failures,
    )


def _summary(
    rows: Sequence[dict[str, Any]],
    *,
    method: str,
    programme_code: str,
    persons: int,
    covariate_set: str,
    runtime: float,
    failures: Sequence[str] = (),
) -> ReplicationSummary:
    def column(name: str) -> tuple[Any, ...]:
        return tuple(row[name] for row in rows)

    return ReplicationSummary(
        method=method,
        programme_code=programme_code,
        persons=persons,
        covariate_set=covariate_set,
        seeds=column("seed"),
        true_effects=column("true_effect"),
        estimates=column("estimate"),
        ci_lows=column("ci_low"),
        ci_highs=column("ci_high"),
        naive_estimates=column("naive"),
        n_treated=column("n_treated"),
        n_rows=column("n_rows"),
        runtime_seconds=runtime,
        evaluate_seconds=float(sum(row["evaluate_seconds"] for row in rows)),
        failures=tuple(failures),
    )

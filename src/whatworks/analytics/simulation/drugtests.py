"""Simulated drug tests in custody, with a planted effect of substance-use programmes.

Built after the other tables, from them, on its own seed stream (the tenth child of the
config's ``SeedSequence``), so no other table depends on it. See docs/simulator.md,
section 5c. For every custody episode inside the window: an admission test for a share of
admissions, random tests at a risk-weighted monthly rate, for-cause tests, scheduled tests
in semi-open and open facilities, programme-compliance tests during substance-use
programmes, and a pre-release test for a share of releases. For a test at time ``m``
months after admission, each substance in the sample's panel is positive with probability

    sigmoid(a[country, substance] + slope * z_substance + u_person
            + decline * log(1 + m) + reason shift + effect * [in a substance-use programme])

where ``z_substance`` is the probit of ``person_truth.substance_abuse`` and ``u_person`` a
person random effect. A sample may instead be refused, tampered with, invalid or dilute.
"""

from __future__ import annotations

import datetime
from statistics import NormalDist
from typing import Any

import numpy as np
import polars as pl

from whatworks.analytics.simulation.config import SimulationConfig

EPOCH = datetime.date(1970, 1, 1)
NEVER = 10**9
DAYS_PER_MONTH = 30.4375

SUBSTANCES = ("cannabis", "cocaine", "opiates", "amphetamines", "benzodiazepines", "alcohol")
REASONS = ("admission", "random", "for_cause", "scheduled", "programme_compliance", "pre_release")
SAMPLES = ("urine", "saliva", "breath")
RESULTS = ("negative", "positive", "dilute", "invalid", "refused", "tampered")
# Substances each sample type is tested for (urine: immunoassay panel plus EtG for alcohol).
PANELS = {
    "urine": SUBSTANCES,
    "saliva": ("cannabis", "cocaine", "opiates", "amphetamines"),
    "breath": ("alcohol",),
}
# Log-odds of a positive at z_substance = 0, u = 0, time 0, random test, no programme.
# Cannabis is commonest; cocaine covers pasta base (Chile) and crack (Brazil); heroin and
# amphetamines are rare in South American prisons; alcohol is rare in custody.
BASE_LOG_ODDS = {
    "CL": {
        "cannabis": -1.9,
        "cocaine": -2.5,
        "opiates": -5.6,
        "amphetamines": -5.4,
        "benzodiazepines": -3.0,
        "alcohol": -4.2,
    },
    "BR": {
        "cannabis": -1.8,
        "cocaine": -2.2,
        "opiates": -6.0,
        "amphetamines": -5.6,
        "benzodiazepines": -3.3,
        "alcohol": -4.4,
    },
}
# Shifts of the log-odds by reason: admission tests reflect use in the community, for-cause
# tests follow a suspicion; pre-release tests are announced.
REASON_SHIFT = {
    "admission": 1.2,
    "random": 0.0,
    "for_cause": 1.3,
    "scheduled": -0.3,
    "programme_compliance": 0.0,
    "pre_release": -0.3,
}
# Sample-level outcomes: refusal is logistic in z_substance; then tampering, invalid and
# dilute (urine only for tampering and dilution).
REFUSAL_INTERCEPT = -4.0
REFUSAL_SLOPE = 0.7
TAMPERED_SHARE = 0.005
INVALID_SHARE = 0.01
DILUTE_SHARE = 0.03
FOR_CAUSE_BREATH_SHARE = 0.2
ADMISSION_DELAY_DAYS = 3  # admission tests within 0-2 days
PRE_RELEASE_WINDOW_DAYS = 14
COMPLIANCE_INTERVAL_DAYS = 28
PROGRAMME_TYPE = "substance_use"

COLUMNS: dict[str, Any] = {
    "test_key": pl.String,
    "prison_number": pl.String,
    "episode_key": pl.String,
    "facility": pl.String,
    "test_date": pl.Date,
    "reason": pl.String,
    "sample": pl.String,
    **{substance: pl.String for substance in SUBSTANCES},
}


def empty_table() -> pl.DataFrame:
    return pl.DataFrame(schema=COLUMNS)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _days(frame: pl.DataFrame, column: str) -> np.ndarray:
    return frame[column].cast(pl.Int64).to_numpy()


def probit(levels: np.ndarray) -> np.ndarray:
    """z = Phi^-1(level), the latent standard-normal value behind a person_truth level."""
    inverse = NormalDist().inv_cdf
    clipped = np.clip(levels, 1e-6, 1 - 1e-6)
    return np.array([inverse(float(value)) for value in clipped])


def programme_windows(referrals: pl.DataFrame, programmes: pl.DataFrame) -> pl.DataFrame:
    """episode_key, from_day, to_day: when the planted programme effect applies.

    From the start of a substance-use programme to its end, or to the end of the episode
    when it was completed.
    """
    codes = programmes.filter(pl.col("programme_type") == PROGRAMME_TYPE)["code"]
    started = referrals.filter(
        pl.col("programme_code").is_in(codes.implode()) & pl.col("start_date").is_not_null()
    )
    return started.select(
        "episode_key",
        from_day=pl.col("start_date").cast(pl.Int64),
        to_day=pl.when(pl.col("status") == "completed")
        .then(pl.lit(NEVER, dtype=pl.Int64))
        .otherwise(pl.col("end_date").cast(pl.Int64).fill_null(NEVER)),
    )


def in_programme(tests: pl.DataFrame, windows: pl.DataFrame) -> np.ndarray:
    """Whether each test (episode_key, test_date) falls in a programme-effect window."""
    indexed = tests.select("episode_key", day=pl.col("test_date").cast(pl.Int64)).with_row_index()
    hits = (
        indexed.join(windows, on="episode_key")
        .filter((pl.col("day") >= pl.col("from_day")) & (pl.col("day") <= pl.col("to_day")))
        .select("index")
        .unique()
    )
    flag = np.zeros(tests.height, dtype=bool)
    flag[hits["index"].to_numpy()] = True
    return flag


def simulate_drug_tests(
    config: SimulationConfig,
    rng: np.random.Generator,
    tables: dict[str, pl.DataFrame],
    *,
    window_start_day: int,
    extract_day: int,
) -> pl.DataFrame:
    """The drug_tests table, from the other tables (which it does not change)."""
    truth = tables["person_truth"]
    n = truth.height
    z_person = probit(truth["substance_abuse"].to_numpy())
    u_person = config.drug_use_person_sd * rng.standard_normal(n)
    person_index = {number: i for i, number in enumerate(truth["prison_number"].to_list())}

    episodes = tables["custody_episodes"]
    admission = _days(episodes, "admission_date")
    released = episodes["release_date"].is_not_null().to_numpy()
    release = np.where(released, episodes["release_date"].cast(pl.Int64).fill_null(0), NEVER)
    start = np.maximum(admission, window_start_day)
    end = np.minimum(release, extract_day)
    person = np.array([person_index[p] for p in episodes["prison_number"].to_list()])
    z = z_person[person]
    span = np.maximum(end - start + 1, 0)
    inside = span > 0
    months = span / DAYS_PER_MONTH

    parts: list[tuple[np.ndarray, np.ndarray, int]] = []  # (episode, day, reason)

    def add(episode: np.ndarray, day: np.ndarray, reason: str) -> None:
        parts.append((episode.astype(np.int64), day.astype(np.int64), REASONS.index(reason)))

    # Admission tests.
    chosen = inside & (admission >= window_start_day)
    chosen &= rng.random(len(admission)) < config.drug_admission_test_share
    day = admission + rng.integers(0, ADMISSION_DELAY_DAYS, len(admission))
    chosen &= day <= end
    add(np.flatnonzero(chosen), day[chosen], "admission")

    # Random tests: Poisson at the target monthly rate, weighted toward substance need
    # (the weight has mean 1 over a standard-normal z).
    w = config.drug_random_test_need_weight
    rate = config.drug_random_test_rate_per_month * np.exp(w * z - w**2 / 2)
    count = rng.poisson(np.where(inside, rate * months, 0.0))
    episode = np.repeat(np.arange(len(admission)), count)
    day = start[episode] + np.floor(rng.random(episode.size) * span[episode])
    add(episode, day, "random")

    # For-cause tests: suspicion is commoner with more use.
    rate = config.drug_for_cause_rate_per_year * np.exp(z - 0.5) / 365.25
    count = rng.poisson(np.where(inside, rate * span, 0.0))
    episode = np.repeat(np.arange(len(admission)), count)
    day = start[episode] + np.floor(rng.random(episode.size) * span[episode])
    add(episode, day, "for_cause")

    # Scheduled tests: in semi-open and open facilities (leave and day release), at a fixed
    # interval from the move.
    facility_type = dict(tables["facilities"].select("code", "facility_type").iter_rows())
    key_index = {key: i for i, key in enumerate(episodes["episode_key"].to_list())}
    movements = tables["movements"]
    lighter = movements.filter(
        pl.col("to_facility").replace_strict(facility_type, default="").is_in(["semi_open", "open"])
    )
    moved = (
        lighter.group_by("episode_key")
        .agg(pl.col("movement_date").min().cast(pl.Int64))
        .sort("episode_key")
    )
    move_episode = np.array([key_index[k] for k in moved["episode_key"].to_list()], dtype=np.int64)
    interval = config.drug_scheduled_test_interval_days
    first = np.maximum(
        moved["movement_date"].to_numpy() + rng.integers(7, interval + 7, moved.height),
        start[move_episode],
    )
    count = np.where(
        first <= end[move_episode], (end[move_episode] - first) // interval + 1, 0
    ).astype(np.int64)
    episode = np.repeat(move_episode, count)
    offsets = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    add(episode, np.repeat(first, count) + offsets * interval, "scheduled")

    # Programme-compliance tests during substance-use programmes.
    windows = programme_windows(tables["programme_referrals"], tables["programmes"])
    referrals = tables["programme_referrals"].filter(
        pl.col("programme_code").is_in(
            tables["programmes"]
            .filter(pl.col("programme_type") == PROGRAMME_TYPE)["code"]
            .implode()
        )
        & pl.col("start_date").is_not_null()
    )
    if referrals.height:
        ref_episode = np.array(
            [key_index[k] for k in referrals["episode_key"].to_list()], dtype=np.int64
        )
        ref_start = np.maximum(
            _days(referrals, "start_date") + rng.integers(7, 21, referrals.height),
            start[ref_episode],
        )
        ref_end = np.minimum(
            referrals["end_date"].cast(pl.Int64).fill_null(NEVER).to_numpy(), end[ref_episode]
        )
        count = np.where(
            ref_start <= ref_end, (ref_end - ref_start) // COMPLIANCE_INTERVAL_DAYS + 1, 0
        ).astype(np.int64)
        episode = np.repeat(ref_episode, count)
        offsets = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        add(
            episode,
            np.repeat(ref_start, count) + offsets * COMPLIANCE_INTERVAL_DAYS,
            "programme_compliance",
        )

    # Pre-release tests.
    chosen = inside & released & (release <= extract_day)
    chosen &= rng.random(len(admission)) < config.drug_pre_release_test_share
    day = np.maximum(release - rng.integers(1, PRE_RELEASE_WINDOW_DAYS + 1, len(admission)), start)
    add(np.flatnonzero(chosen), day[chosen], "pre_release")

    episode = np.concatenate([p[0] for p in parts])
    day = np.concatenate([p[1] for p in parts])
    reason = np.concatenate([np.full(p[0].size, p[2]) for p in parts])
    # Stable order: prison number, date, reason, then draw order.
    frame = pl.DataFrame(
        {
            "prison_number": episodes["prison_number"].gather(episode),
            "episode_key": episodes["episode_key"].gather(episode),
            "episode": episode,
            "test_date": day.astype(np.int32),
            "reason_id": reason,
        }
    ).with_columns(pl.col("test_date").cast(pl.Date))
    frame = frame.with_row_index("draw").sort(["prison_number", "test_date", "reason_id", "draw"])
    m = frame.height
    episode = frame["episode"].to_numpy()
    day = frame["test_date"].cast(pl.Int64).to_numpy()
    reason = frame["reason_id"].to_numpy()
    z_test = z[episode]
    u_test = u_person[person[episode]]

    # Facility at the test date: the last admission or transfer into a facility.
    placements = (
        movements.filter(pl.col("to_facility").is_not_null())
        .select("episode_key", "movement_date", "to_facility")
        .sort("episode_key", "movement_date")
    )
    located = (
        frame.select("episode_key", "test_date")
        .with_row_index("row")
        .sort("episode_key", "test_date")
        .join_asof(
            placements,
            left_on="test_date",
            right_on="movement_date",
            by="episode_key",
            strategy="backward",
            check_sortedness=False,
        )
        .sort("row")
    )
    facility = located["to_facility"].fill_null(episodes["admission_facility"].gather(episode))

    # Sample type.
    u = rng.random(m)
    for_cause = reason == REASONS.index("for_cause")
    breath_share = np.where(for_cause, FOR_CAUSE_BREATH_SHARE, config.drug_breath_test_share)
    sample = np.where(
        u < breath_share,
        2,
        np.where(u < breath_share + config.drug_saliva_test_share, 1, 0),
    )

    # Sample-level outcomes.
    refused = rng.random(m) < _sigmoid(REFUSAL_INTERCEPT + REFUSAL_SLOPE * z_test)
    v = rng.random(m)
    urine = sample == 0
    tampered = ~refused & urine & (v < TAMPERED_SHARE)
    invalid = ~refused & ~tampered & (v >= TAMPERED_SHARE) & (v < TAMPERED_SHARE + INVALID_SHARE)
    dilute = (
        ~refused
        & ~tampered
        & ~invalid
        & urine
        & (v >= TAMPERED_SHARE + INVALID_SHARE)
        & (v < TAMPERED_SHARE + INVALID_SHARE + DILUTE_SHARE)
    )
    sample_status = np.select(
        [refused, tampered, invalid, dilute], ["refused", "tampered", "invalid", "dilute"], ""
    )

    # Substance results.
    months_in = np.maximum(day - admission[episode], 0) / DAYS_PER_MONTH
    shift = np.array([REASON_SHIFT[name] for name in REASONS])[reason]
    treated = in_programme(frame, windows)
    linear = (
        config.drug_use_substance_slope * z_test
        + u_test
        + config.drug_use_decline_per_log_month * np.log1p(months_in)
        + shift
        + config.drug_programme_log_odds_ratio * treated
    )
    base = BASE_LOG_ODDS[config.country]
    draws = rng.random((m, len(SUBSTANCES)))
    sample_names = np.array(SAMPLES)[sample]
    columns: dict[str, Any] = {}
    for k, substance in enumerate(SUBSTANCES):
        positive = draws[:, k] < _sigmoid(base[substance] + linear)
        in_panel = np.isin(sample_names, [s for s, panel in PANELS.items() if substance in panel])
        result = np.where(
            sample_status != "", sample_status, np.where(positive, "positive", "negative")
        )
        columns[substance] = np.where(in_panel, result, None).tolist()

    return pl.DataFrame(
        {
            "test_key": [f"DT-{i + 1:07d}" for i in range(m)],
            "prison_number": frame["prison_number"],
            "episode_key": frame["episode_key"],
            "facility": facility,
            "test_date": frame["test_date"],
            "reason": np.array(REASONS)[reason].tolist(),
            "sample": sample_names.tolist(),
            **columns,
        },
        schema=COLUMNS,
    )


def _share(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def ground_truth(
    config: SimulationConfig,
    drug_tests: pl.DataFrame,
    persons: pl.DataFrame,
    person_truth: pl.DataFrame,
    assessments: pl.DataFrame,
) -> dict[str, Any]:
    """The drug-test parameters, the planted effect, realised positivity and co-occurrence."""
    valid = drug_tests.filter(
        pl.any_horizontal(pl.col(s).is_in(["negative", "positive"]) for s in SUBSTANCES)
    )
    any_positive = pl.any_horizontal(pl.col(s) == "positive" for s in SUBSTANCES)
    positivity = {
        "any_substance": _share(valid.filter(any_positive).height, valid.height),
        "by_substance": {
            s: _share(
                int((drug_tests[s] == "positive").sum()),
                int(drug_tests[s].is_in(["negative", "positive"]).sum()),
            )
            for s in SUBSTANCES
        },
        "by_reason": {
            reason: _share(
                valid.filter(any_positive & (pl.col("reason") == reason)).height,
                valid.filter(pl.col("reason") == reason).height,
            )
            for reason in REASONS
        },
    }
    return {
        "enabled": config.drug_tests_enabled,
        "form": (
            "P(substance positive) = sigmoid(base_log_odds[country][substance]"
            " + substance_slope * probit(person_truth.substance_abuse) + u_person"
            " + decline_per_log_month * log(1 + months since admission) + reason_shift[reason]"
            " + programme_log_odds_ratio * [in a substance_use programme])"
        ),
        "programme_log_odds_ratio": config.drug_programme_log_odds_ratio,
        "programme_effect_window": (
            "from the start_date of a substance_use programme referral to its end_date, or to"
            " the end of the episode when the programme was completed"
        ),
        "programme_type": PROGRAMME_TYPE,
        "substance_slope": config.drug_use_substance_slope,
        "person_random_effect_sd": config.drug_use_person_sd,
        "decline_per_log_month": config.drug_use_decline_per_log_month,
        "base_log_odds": BASE_LOG_ODDS[config.country],
        "reason_shift": REASON_SHIFT,
        "panels": {name: list(panel) for name, panel in PANELS.items()},
        "refusal": {"intercept": REFUSAL_INTERCEPT, "substance_slope": REFUSAL_SLOPE},
        "sample_shares": {
            "tampered_urine": TAMPERED_SHARE,
            "invalid": INVALID_SHARE,
            "dilute_urine": DILUTE_SHARE,
        },
        "counts": {reason: int((drug_tests["reason"] == reason).sum()) for reason in REASONS},
        "realised_positivity": positivity,
        "co_occurrence": co_occurrence(config, persons, person_truth, assessments),
    }


def co_occurrence(
    config: SimulationConfig,
    persons: pl.DataFrame,
    person_truth: pl.DataFrame,
    assessments: pl.DataFrame,
) -> dict[str, Any]:
    """Realised shares of substance need, mental-health need and both (all persons).

    Substance need: person_truth.substance_abuse >= drug_substance_need_threshold.
    Mental-health need: the mental_health needs code, or any K6 total of 13 or more.
    """
    frame = person_truth.select("prison_number", "substance_abuse").join(
        persons.select("prison_number", "needs_codes"), on="prison_number"
    )
    k6 = assessments.filter(pl.col("instrument") == "k6")
    if k6.height:
        totals = k6.select(
            "prison_number",
            total=pl.col("answers")
            .str.extract_all(r":(\d+)")
            .list.eval(pl.element().str.slice(1).cast(pl.Int64))
            .list.sum(),
        )
        high = totals.group_by("prison_number").agg(k6_high=(pl.col("total") >= 13).any())
        screened = totals["prison_number"].unique()
    else:
        high = pl.DataFrame(schema={"prison_number": pl.String, "k6_high": pl.Boolean})
        screened = pl.Series([], dtype=pl.String)
    frame = frame.join(high, on="prison_number", how="left").with_columns(
        substance=pl.col("substance_abuse") >= config.drug_substance_need_threshold,
        code=pl.col("needs_codes").fill_null("").str.contains("mental_health"),
        k6_high=pl.col("k6_high").fill_null(False),
    )
    frame = frame.with_columns(mental=pl.col("code") | pl.col("k6_high"))
    n = frame.height
    substance = int(frame["substance"].sum())
    mental = int(frame["mental"].sum())
    both = int((frame["substance"] & frame["mental"]).sum())
    code = int(frame["code"].sum())
    code_both = int((frame["substance"] & frame["code"]).sum())
    return {
        "substance_need_definition": (
            f"person_truth.substance_abuse >= {config.drug_substance_need_threshold}"
        ),
        "mental_health_need_definition": "needs_codes has mental_health, or any K6 total >= 13",
        "persons": n,
        "k6_screened_persons": int(screened.len()),
        "substance_need_share": _share(substance, n),
        "mental_health_code_share": _share(code, n),
        "k6_13_or_more_share_of_screened": _share(int(frame["k6_high"].sum()), int(screened.len())),
        "mental_health_need_share": _share(mental, n),
        "both_share": _share(both, n),
        "substance_given_mental_health": _share(both, mental),
        "substance_given_mental_health_code": _share(code_both, code),
        "mental_health_given_substance": _share(both, substance),
    }

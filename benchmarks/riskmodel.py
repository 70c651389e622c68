"""Quality of the fitted point score (issue 9) on the simulator and on the Rossi data.

Targets: the point score's cross-validated AUC within 0.02 of plain logistic regression on
the same features (both with the point score's encoding and with numeric features as
straight lines), and expected calibration error (10 equal-width bins, out-of-fold) at most
0.03, each averaged over the cross-validation seeds (``--fit-seeds``, default 0 to 4: on
432 rows a single split moves the ECE by +-0.02). Prints one line per data set and seed, one
mean line per data set, then the figures as JSON; exits 1 if a mean misses a target.

    uv run python benchmarks/riskmodel.py [--persons 20000] [--seed 1] [--fit-seeds 0,1,2,3,4]

Simulator frame (one row per person, ``simulate(SimulationConfig(persons=20000, seed=1))``):
each person's first release (release types other than death and transfer) on or before the
extract date minus 730 days, so every row has two full years of follow-up. Features:
``age_at_release`` (whole years), ``sex``, ``prior_custodial_episodes`` (the simulator's
count before the window plus the person's earlier episodes in the extract),
``main_offence_category``, ``sentence_months`` (sentence length / 30.44, whole months),
``education_level`` and ``rnr_total`` (the RNR screener total of the last assessment in
that episode on or before release; people without one are left out). Outcome
``reconvicted_2y``: a ``reconviction`` event within 730 days after release.

Rossi (``lifelines.datasets.load_rossi()``): outcome ``arrest``; features fin, age, race,
wexp, mar, paro, prio.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time

import numpy as np
import polars as pl

from whatworks.analytics.riskmodel.fit import fit_point_score

SIM_FEATURES = [
    "age_at_release",
    "sex",
    "prior_custodial_episodes",
    "main_offence_category",
    "sentence_months",
    "education_level",
    "rnr_total",
]
ROSSI_FEATURES = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
AUC_GAP = 0.02
MAX_ECE = 0.03


def simulator_frame(persons: int, seed: int) -> pl.DataFrame:
    from whatworks.analytics.instruments import load_instrument
    from whatworks.analytics.simulation import SimulationConfig, simulate
    from whatworks.analytics.simulation.assessments import rnr_totals

    service = simulate(SimulationConfig(persons=persons, seed=seed))
    cutoff = service.config.extract_date - datetime.timedelta(days=730)
    episodes = service.custody_episodes.sort("admission_date")
    episodes = episodes.with_columns(
        earlier=pl.int_range(pl.len()).over("prison_number"),
    )
    released = episodes.filter(
        pl.col("release_date").is_not_null()
        & (pl.col("release_date") <= cutoff)
        & ~pl.col("release_type").is_in(["death", "transfer"])
    )
    first = released.sort("release_date").group_by("prison_number", maintain_order=True).first()
    rnr = service.assessments.filter(pl.col("instrument") == "rnr-screener")
    rnr = rnr.with_columns(
        rnr_total=pl.Series(rnr_totals(load_instrument("rnr-screener"), rnr["answers"]))
    )
    rnr = rnr.join(first.select("episode_key", "release_date"), on="episode_key")
    rnr = rnr.filter(pl.col("assessed_on") <= pl.col("release_date"))
    last_rnr = (
        rnr.sort("assessed_on").group_by("episode_key").last().select("episode_key", "rnr_total")
    )
    events = service.outcome_events.filter(pl.col("event_type") == "reconviction")
    outcome = (
        first.select("prison_number", "episode_key", "release_date")
        .join(events.select("prison_number", "event_date"), on="prison_number")
        .filter(
            (pl.col("event_date") > pl.col("release_date"))
            & (pl.col("event_date") <= pl.col("release_date") + pl.duration(days=730))
        )
        .select("episode_key")
        .unique()
        .with_columns(reconvicted_2y=pl.lit(1))
    )
    frame = (
        first.join(service.persons, on="prison_number")
        .join(
            service.person_truth.select("prison_number", "prior_custodial_episodes"),
            on="prison_number",
        )
        .join(last_rnr, on="episode_key")
        .join(outcome, on="episode_key", how="left")
        .select(
            "prison_number",
            age_at_release=(
                (pl.col("release_date") - pl.col("date_of_birth")).dt.total_days() / 365.25
            )
            .floor()
            .cast(pl.Int64),
            sex="sex",
            prior_custodial_episodes=pl.col("prior_custodial_episodes") + pl.col("earlier"),
            main_offence_category="main_offence_category",
            sentence_months=(pl.col("sentence_length_days") / 30.44).round().cast(pl.Int64),
            education_level="education_level",
            rnr_total=pl.col("rnr_total").cast(pl.Int64),
            reconvicted_2y=pl.col("reconvicted_2y").fill_null(0),
        )
        .drop_nulls()
        .sort("prison_number")
    )
    return frame


def rossi_frame() -> pl.DataFrame:
    from lifelines.datasets import load_rossi

    return pl.from_pandas(load_rossi())


def run(name: str, frame: pl.DataFrame, outcome: str, features: list[str], seed: int) -> dict:
    start = time.perf_counter()
    fit = fit_point_score(frame, outcome=outcome, features=features, seed=seed)
    seconds = time.perf_counter() - start
    b = fit.benchmarks
    point = b["point_score_auc"]["value"]
    logistic = b["logistic_auc"]["value"]
    linear = b["logistic_linear_auc"]["value"]
    result = {
        "data": name,
        "n": fit.data["n"],
        "events": fit.data["events"],
        "items": [item["feature"] for item in fit.items],
        "max_total": fit.max_total,
        "bands": [(band["code"], band["min"], band["max"]) for band in fit.bands],
        "point_score_auc": b["point_score_auc"],
        "logistic_auc": logistic,
        "logistic_linear_auc": linear,
        "gradient_boosting_auc": b["gradient_boosting_auc"]["value"],
        "ece": fit.metrics["ece"],
        "brier": fit.metrics["brier"],
        "seconds": round(seconds, 1),
        "auc_gap_logistic": logistic - point,
        "auc_gap_logistic_linear": linear - point,
    }
    result["meets_targets"] = bool(
        result["auc_gap_logistic"] <= AUC_GAP
        and result["auc_gap_logistic_linear"] <= AUC_GAP
        and result["ece"] <= MAX_ECE
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1, help="simulator seed")
    parser.add_argument(
        "--fit-seeds", default="0,1,2,3,4", help="cross-validation seeds, comma-separated"
    )
    args = parser.parse_args(argv)
    seeds = [int(part) for part in args.fit_seeds.split(",") if part.strip()]
    sets = [
        (
            f"simulator persons={args.persons} seed={args.seed}",
            simulator_frame(args.persons, args.seed),
            "reconvicted_2y",
            SIM_FEATURES,
        ),
        ("rossi", rossi_frame(), "arrest", ROSSI_FEATURES),
    ]
    results, means = [], []
    for name, frame, outcome, features in sets:
        runs = [run(f"{name} cv-seed={seed}", frame, outcome, features, seed) for seed in seeds]
        results.extend(runs)
        mean = {
            key: float(np.mean([r[key] for r in runs]))
            for key in ("auc_gap_logistic", "auc_gap_logistic_linear", "ece", "brier")
        }
        mean["point_score_auc"] = float(np.mean([r["point_score_auc"]["value"] for r in runs]))
        mean["ece_max"] = float(max(r["ece"] for r in runs))
        mean["data"] = name
        mean["meets_targets"] = bool(
            mean["auc_gap_logistic"] <= AUC_GAP
            and mean["auc_gap_logistic_linear"] <= AUC_GAP
            and mean["ece"] <= MAX_ECE
        )
        means.append(mean)
    for r in results:
        auc = r["point_score_auc"]
        print(
            f"{r['data']}: n={r['n']} events={r['events']} items={','.join(r['items'])} "
            f"total 0-{r['max_total']}; AUC point {auc['value']:.3f} "
            f"({auc['low']:.3f}-{auc['high']:.3f}), logistic {r['logistic_auc']:.3f}, "
            f"logistic (linear) {r['logistic_linear_auc']:.3f}, "
            f"boosting {r['gradient_boosting_auc']:.3f}; ECE {r['ece']:.3f}, "
            f"Brier {r['brier']:.3f}; {r['seconds']} s; "
            f"{'meets' if r['meets_targets'] else 'MISSES'} targets"
        )
    for m in means:
        print(
            f"{m['data']} mean over cv seeds {args.fit_seeds}: "
            f"AUC point {m['point_score_auc']:.3f}, "
            f"gap to logistic {m['auc_gap_logistic']:+.3f}, to logistic (linear) "
            f"{m['auc_gap_logistic_linear']:+.3f}; "
            f"ECE {m['ece']:.3f} (largest {m['ece_max']:.3f}); "
            f"{'meets' if m['meets_targets'] else 'MISSES'} targets"
        )
    print(json.dumps({"runs": results, "means": means}, default=float))
    return 0 if all(m["meets_targets"] for m in means) else 1


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())

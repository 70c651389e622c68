"""Replication study of the evaluation estimators against the simulator's planted effect.

    uv run python benchmarks/evaluation_validation.py --reps 100 --persons 20000 --method all

Each replication simulates a fresh service (seed ``--seed0 + i``), builds the release
cohort for ``--programme`` (treatment: completion; outcome: rearrest for an offence within
365 days of release), computes that replication's true ATT from the planted hazard, and
evaluates it. Prints, per method, the mean true ATT, the mean estimate, bias, relative
bias, 95% interval coverage, the naive (unadjusted) bias and the timings.
See docs/methods/README.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from whatworks.analytics.evaluation.validation import ReplicationSummary, replicate


def _print(summary: ReplicationSummary) -> None:
    print(
        f"\n== {summary.method.upper()} ({summary.covariate_set} covariates), "
        f"{summary.programme_code}, {summary.reps} replications of {summary.persons} persons"
    )
    rows = [
        ("mean true ATT", f"{summary.true_effect:+.4f}"),
        ("mean estimate", f"{summary.mean_estimate:+.4f}"),
        ("bias (MC s.e.)", f"{summary.bias:+.4f} ({summary.bias_se:.4f})"),
        ("relative bias", f"{summary.relative_bias:+.1%}"),
        ("95% CI coverage", f"{summary.coverage:.1%}"),
        ("empirical SD of estimate", f"{summary.empirical_sd:.4f}"),
        ("mean CI width", f"{summary.mean_ci_width:.4f}"),
        ("naive estimate (mean)", f"{summary.true_effect + summary.naive_bias:+.4f}"),
        ("naive bias", f"{summary.naive_bias:+.4f} ({summary.naive_relative_bias:+.0%})"),
        ("mean treated / rows", f"{_mean(summary.n_treated):.0f} / {_mean(summary.n_rows):.0f}"),
        ("total time", f"{summary.runtime_seconds:.1f} s"),
        ("time per replication", f"{summary.runtime_seconds / max(summary.reps, 1):.2f} s"),
        ("of which evaluate()", f"{summary.evaluate_seconds / max(summary.reps, 1):.2f} s"),
        ("failed replications", str(len(summary.failures))),
    ]
    for label, value in rows:
        print(f"  {label:<26} {value}")
    for failure in summary.failures[:5]:
        print(f"  ! {failure}")


def _mean(values: tuple[int, ...]) -> float:
    return sum(values) / len(values) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--persons", type=int, default=20000)
    parser.add_argument("--method", choices=("aipw", "ipw", "psm", "all"), default="all")
    parser.add_argument("--programme", default="CBT-RR")
    parser.add_argument(
        "--covariates",
        choices=("oracle", "observed"),
        default="oracle",
        help="oracle: the true static risk (treatment ignorable); observed: what the app holds",
    )
    parser.add_argument("--seed0", type=int, default=1000)
    parser.add_argument("--json", help="write the summaries (with every replication) here")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    methods = ("aipw", "ipw", "psm") if args.method == "all" else (args.method,)
    summaries = []
    for method in methods:
        started = time.perf_counter()

        def progress(rep: int, row: dict, started: float = started, method: str = method) -> None:
            if not args.quiet:
                print(
                    f"  [{method} {rep + 1}/{args.reps}] seed {row['seed']}: true "
                    f"{row['true_effect']:+.4f} estimate {row['estimate']:+.4f} "
                    f"[{row['ci_low']:+.4f}, {row['ci_high']:+.4f}] naive {row['naive']:+.4f} "
                    f"({time.perf_counter() - started:.0f} s)",
                    file=sys.stderr,
                    flush=True,
                )

        summary = replicate(
            args.reps,
            persons=args.persons,
            method=method,
            seed0=args.seed0,
            programme_code=args.programme,
            covariate_set=args.covariates,
            progress=progress,
        )
        _print(summary)
        summaries.append(summary)
    print(f"\ncommand: {' '.join(['benchmarks/evaluation_validation.py', *sys.argv[1:]])}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump([s.to_dict() for s in summaries], handle, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

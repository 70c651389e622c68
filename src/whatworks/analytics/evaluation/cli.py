"""``whatworks evaluate``: estimate a programme's effect on reoffending from any extract (CSV or
Parquet), with diagnostics, sensitivity and, optionally, benefits and costs.

``--format json`` prints one JSON object (``EvaluationResult.to_dict()``, plus
``cost_benefit`` when costs are given); ``html`` and ``pdf`` write the report (``--out`` is
required for pdf). Bad input (a missing file, an unknown column, data that cannot be
evaluated) is one line naming the file or the column, with exit status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import polars as pl

from whatworks.analytics.argtypes import non_negative_int, positive_int
from whatworks.analytics.evaluation.costbenefit import (
    EXAMPLE_AVOIDED_COST_PER_REOFFENCE,
    CostBenefitInputError,
    CostBenefitInputs,
    cost_benefit,
)
from whatworks.analytics.evaluation.result import DEFAULT_MIN_TREATED, DEFAULT_SEED, EvaluationSpec


class _Usage(Exception):
    """A problem with the command line or the file, reported without a traceback."""


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _non_empty_names(text: str) -> tuple[str, ...]:
    names = _names(text)
    if not names:
        raise argparse.ArgumentTypeError("expected column names separated by commas")
    return tuple(names)


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _non_negative(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected zero or more, got {text!r}")
    return value


def _share(text: str) -> float:
    value = _number(text)
    if not 0 < value < 0.5:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 0.5, got {text!r}")
    return value


def _horizons(text: str) -> tuple[float, ...]:
    values = tuple(_non_negative(part) for part in _names(text))
    if not values or min(values) <= 0:
        raise argparse.ArgumentTypeError(f"expected positive days separated by commas: {text!r}")
    return values


def _avoided_cost(text: str) -> tuple[str, float]:
    """``NAME=AMOUNT`` (one cost avoided per reoffence) or a bare ``AMOUNT`` (the total)."""
    name, sep, amount = text.partition("=")
    if not sep:
        return "total", _non_negative(text)
    if not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=AMOUNT, got {text!r}")
    return name.strip(), _non_negative(amount)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="whatworks evaluate",
        description=(
            "Estimate the effect of a programme (a 0/1 treatment column) on an outcome or on "
            "time to reoffending, by AIPW, IPW or propensity-score matching, with balance, "
            "overlap, E-values and an optional benefit-cost analysis. See docs/evaluation.md."
        ),
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="data file (.csv or .parquet)")
    parser.add_argument("--treatment", required=True, help="0/1 column: took part or not")
    parser.add_argument("--outcome", help="outcome column (0/1 or numeric)")
    parser.add_argument("--duration", help="time-to-event column (days to event or censoring)")
    parser.add_argument("--event", help="0/1 column: the event happened (1) or censored (0)")
    parser.add_argument(
        "--covariates", type=_non_empty_names, required=True, help="columns, comma-separated"
    )
    parser.add_argument("--estimand", choices=("att", "ate"), default="att")
    parser.add_argument("--method", choices=("aipw", "ipw", "psm"), default="aipw")
    parser.add_argument(
        "--caliper",
        type=_non_negative,
        default=0.2,
        help="matching caliper in SDs of the logit propensity (default 0.2; 0: none)",
    )
    parser.add_argument(
        "--replacement", action="store_true", help="match with replacement (psm only)"
    )
    parser.add_argument(
        "--trim", type=_share, help="drop propensities outside [X, 1-X] (weighting only)"
    )
    parser.add_argument(
        "--ci",
        choices=("influence", "bootstrap"),
        help="confidence interval method (default: the method's own)",
    )
    parser.add_argument("--bootstrap-reps", type=positive_int, default=500)
    parser.add_argument("--seed", type=non_negative_int, default=DEFAULT_SEED)
    parser.add_argument(
        "--min-treated",
        type=non_negative_int,
        default=DEFAULT_MIN_TREATED,
        help=f"warn below this many treated people (default {DEFAULT_MIN_TREATED})",
    )
    parser.add_argument(
        "--horizons", type=_horizons, default=(), help="days for survival, e.g. 365,730"
    )
    parser.add_argument(
        "--placebo", help="a column the programme cannot have changed (placebo check)"
    )
    parser.add_argument(
        "--treatment-label", default="", help='e.g. "completed Razonamiento y Rehabilitación"'
    )
    parser.add_argument("--outcome-label", default="", help='e.g. "reconvicted within 2 years"')
    parser.add_argument(
        "--time-unit", default="days", help="unit of --duration and --horizons (default days)"
    )
    parser.add_argument("--title", help="report title (html, pdf)")
    parser.add_argument("--definition-text", help="the outcome definition, for the report")
    parser.add_argument("--cohort-text", help="who is in the cohort, for the report")
    costs = parser.add_argument_group(
        "benefits and costs (optional; any of these asks for the analysis)"
    )
    costs.add_argument("--cost-per-participant", type=_non_negative)
    costs.add_argument("--cost-per-participant-sd", type=_non_negative, default=0.0)
    costs.add_argument(
        "--avoided-cost",
        type=_avoided_cost,
        action="append",
        metavar="NAME=AMOUNT",
        help="cost avoided per reoffence avoided; repeat for each (prison_days=..., "
        "court=..., victim=...); default: the illustrative examples",
    )
    costs.add_argument("--avoided-cost-sd-fraction", type=_non_negative, default=0.25)
    costs.add_argument("--discount-rate", type=_number, default=0.03)
    costs.add_argument("--years", type=positive_int, default=2)
    costs.add_argument("--currency", default="CLP")
    costs.add_argument(
        "--participants", type=positive_int, help="default: the number of treated people"
    )
    costs.add_argument("--cost-benefit-reps", type=positive_int, default=10_000)
    parser.add_argument("--format", choices=("json", "html", "pdf"), default="json")
    parser.add_argument("--out", type=Path, help="write here (required for pdf)")
    return parser


def _read(path: Path) -> pl.DataFrame:
    if not path.exists():
        raise _Usage(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pl.read_csv(path, infer_schema_length=10_000)
        if suffix in (".parquet", ".pq"):
            return pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as error:
        raise _Usage(f"{path}: cannot read the file: {error}") from None
    raise _Usage(f"{path}: unknown file type {suffix!r}; use .csv or .parquet")


def _check_columns(path: Path, frame: pl.DataFrame, args: argparse.Namespace) -> None:
    wanted = [
        ("--treatment", args.treatment),
        ("--outcome", args.outcome),
        ("--duration", args.duration),
        ("--event", args.event),
        ("--placebo", args.placebo),
        *(("--covariates", name) for name in args.covariates),
    ]
    for option, column in wanted:
        if column is not None and column not in frame.columns:
            raise _Usage(f"{path}: no column {column!r} ({option})")


def _spec(args: argparse.Namespace) -> EvaluationSpec:
    if args.outcome is not None and (args.duration is not None or args.event is not None):
        raise _Usage("give either --outcome or --duration with --event, not both")
    if args.outcome is None and (args.duration is None or args.event is None):
        raise _Usage("give --outcome, or --duration with --event")
    return EvaluationSpec(
        treatment=args.treatment,
        covariates=tuple(args.covariates),
        outcome=args.outcome,
        duration=args.duration,
        event=args.event,
        estimand=args.estimand,
        method=args.method,
        caliper=args.caliper or None,
        replacement=args.replacement,
        trim=args.trim,
        ci_method=args.ci,
        bootstrap_reps=args.bootstrap_reps,
        seed=args.seed,
        min_treated=args.min_treated,
        horizons=tuple(args.horizons),
        placebo_outcome=args.placebo,
        treatment_label=args.treatment_label,
        outcome_label=args.outcome_label,
    )


def _wants_cost_benefit(args: argparse.Namespace) -> bool:
    return args.cost_per_participant is not None or bool(args.avoided_cost)


def _cost_benefit_inputs(args: argparse.Namespace) -> CostBenefitInputs:
    if args.cost_per_participant is None:
        raise _Usage("--avoided-cost needs --cost-per-participant")
    avoided = dict(args.avoided_cost or EXAMPLE_AVOIDED_COST_PER_REOFFENCE.items())
    return CostBenefitInputs(
        cost_per_participant=args.cost_per_participant,
        cost_per_participant_sd=args.cost_per_participant_sd,
        avoided_cost_per_reoffence=avoided,
        avoided_cost_sd_fraction=args.avoided_cost_sd_fraction,
        discount_rate=args.discount_rate,
        years=args.years,
        currency=args.currency,
    )


def _json_ready(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):  # NaN and infinity are not JSON
        return None
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _json_ready(value.item())
    return value


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.format == "pdf" and args.out is None:
            raise _Usage("--format pdf needs --out PATH")
        spec = _spec(args)
        inputs = _cost_benefit_inputs(args) if _wants_cost_benefit(args) else None
        frame = _read(args.file)
        _check_columns(args.file, frame, args)
        # Imported here: the estimators load scikit-learn, statsmodels and lifelines, which a
        # mistyped command line need not wait for.
        from whatworks.analytics.evaluation.api import evaluate
        from whatworks.analytics.evaluation.data import EvaluationInputError

        try:
            result = evaluate(frame, spec)
        except EvaluationInputError as error:
            raise _Usage(f"{args.file}: {error}") from None
        cb = None
        if inputs is not None:
            cb = cost_benefit(
                result,
                args.participants or result.n_treated,
                inputs,
                reps=args.cost_benefit_reps,
                seed=args.seed,
            )
    except (_Usage, CostBenefitInputError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    if args.format == "json":
        payload = result.to_dict()
        if cb is not None:
            payload["cost_benefit"] = cb.to_dict()
        _write(args.out, json.dumps(_json_ready(payload), ensure_ascii=False) + "\n")
        return 0
    from whatworks.analytics.evaluation.report import render_html, render_pdf

    options: dict[str, Any] = {
        "title": args.title or _default_title(spec),
        "definition_text": args.definition_text,
        "cohort_text": args.cohort_text,
        "cost_benefit": cb,
        "time_unit": args.time_unit,
    }
    if args.format == "html":
        _write(args.out, render_html(result, **options))
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(render_pdf(result, **options))
    return 0


def _default_title(spec: EvaluationSpec) -> str:
    treatment = spec.treatment_label or spec.treatment
    outcome = spec.outcome_label or spec.outcome or spec.event or ""
    return f"Evaluation: {treatment} and {outcome}"


def _write(out: Path | None, text: str) -> None:
    if out is None:
        sys.stdout.write(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")

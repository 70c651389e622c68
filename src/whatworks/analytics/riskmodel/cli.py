"""``whatworks riskmodel``: fit a point score on local outcomes, score rows, validate.

- ``riskmodel fit FILE --outcome COL --features a,b,c [--group COL] [--max-items N]
  [--max-points N] [--folds K] [--seed S] [--band-rates 0.2,0.4,0.6 | --band-cuts 5,9]
  --out DIR`` writes ``DIR/instrument.yaml``, ``DIR/metrics.json`` and
  ``DIR/model-card.html``.
- ``riskmodel score FILE --instrument FILE --out FILE``: the input rows plus ``total`` and
  ``band`` (CSV or Parquet by the output's suffix).
- ``riskmodel validate FILE --instrument FILE --outcome COL [--group COL]
  [--format json|html] [--out FILE]``: the instrument's metrics on these rows.

CSV or Parquet input. Bad input (an unreadable file, a missing column, an outcome that is not
0/1, a group with one value, too few events per candidate item) is one message on standard
error with exit status 2, never a traceback and never a score. See docs/riskmodel.md.
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
from whatworks.analytics.riskmodel.metrics import RiskModelInputError
from whatworks.analytics.spreadsheets import safe_frame

INTENDED_USE = (
    "To sort people by their estimated chance of the outcome, on data like the data it was "
    "fitted on, as one input to case management alongside professional judgement. Not for "
    "decisions about individuals on its own, and not for other populations or periods without "
    "validating it again."
)
LIMITS = [
    "The points were chosen on these rows; the reported metrics are out-of-fold "
    "(cross-validated), which estimates but does not guarantee performance on new people.",
    "Recorded outcomes (arrests, reconvictions) reflect policing and court practice as well "
    "as behaviour; groups policed differently can look different in risk.",
    "Points show association in these data, not causes: a feature's points say nothing about "
    "what would happen if it changed.",
    "Numeric features are cut at quantiles; the points of neighbouring bands need not rise "
    "steadily.",
    "Calibration drifts as practice and populations change: re-validate at least yearly.",
]


class _Usage(Exception):
    """A problem with the command line or the files, reported without a traceback."""


def _names(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected column names separated by commas")
    return names


def _rates(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected rates separated by commas: {text!r}") from None


def _cuts(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected whole totals separated by commas: {text!r}"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="whatworks riskmodel",
        description="Fit, apply and validate point-score risk instruments (docs/riskmodel.md).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    fit = commands.add_parser("fit", help="fit a point score and write instrument, metrics, card")
    fit.add_argument("file", type=Path, metavar="FILE", help="data file (.csv or .parquet)")
    fit.add_argument("--outcome", required=True, help="0/1 outcome column")
    fit.add_argument("--features", type=_names, required=True, help="columns, comma-separated")
    fit.add_argument("--group", help="column to report metrics and fairness by (e.g. sex)")
    fit.add_argument("--max-items", type=positive_int, default=6)
    fit.add_argument("--max-points", type=positive_int, default=5)
    fit.add_argument("--folds", type=positive_int, default=5)
    fit.add_argument("--seed", type=non_negative_int, default=0)
    bands = fit.add_mutually_exclusive_group()
    bands.add_argument("--band-rates", type=_rates, help="observed rates that start bands")
    bands.add_argument("--band-cuts", type=_cuts, help="totals that start bands")
    fit.add_argument("--slug", default="local-risk-score", help="instrument slug")
    fit.add_argument("--version", default="1", help="instrument version")
    fit.add_argument("--name", default="Local risk score", help="instrument name")
    fit.add_argument("--data-description", help="what the data are (default: the file name)")
    fit.add_argument("--period", default="", help="the period the data cover")
    fit.add_argument("--outcome-definition", help="the outcome in words")
    fit.add_argument("--out", type=Path, required=True, help="output directory")
    score = commands.add_parser("score", help="score every row with an instrument")
    score.add_argument("file", type=Path, metavar="FILE")
    score.add_argument("--instrument", type=Path, required=True, help="instrument YAML")
    score.add_argument("--out", type=Path, required=True, help="output .csv or .parquet")
    validate = commands.add_parser("validate", help="validate an instrument on outcomes")
    validate.add_argument("file", type=Path, metavar="FILE")
    validate.add_argument("--instrument", type=Path, required=True, help="instrument YAML")
    validate.add_argument("--outcome", required=True, help="0/1 outcome column")
    validate.add_argument("--group", help="column to report metrics by")
    validate.add_argument("--format", choices=("json", "html"), default="json")
    validate.add_argument("--out", type=Path, help="write here instead of standard output")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "fit":
            return _fit(args)
        if args.command == "score":
            return _score(args)
        return _validate(args)
    except _Usage as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2


def _read(path: Path) -> pl.DataFrame:
    if not path.exists():
        raise _Usage(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pl.read_csv(path, infer_schema_length=10_000)
        if suffix in (".parquet", ".pq"):
            return pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as error:
        raise _Usage(f"{path}: cannot read the file: {error}") from None
    raise _Usage(f"{path}: unknown file type {suffix!r}; use .csv or .parquet")


def _check_columns(path: Path, frame: pl.DataFrame, wanted: list[tuple[str, str]]) -> None:
    for option, column in wanted:
        if column not in frame.columns:
            raise _Usage(
                f"{path}: no column {column!r} ({option}); the file's columns are: "
                f"{', '.join(frame.columns)}"
            )


def _json_ready(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if hasattr(value, "tolist") and callable(value.tolist):
        return _json_ready(value.tolist())
    if hasattr(value, "item") and callable(value.item):
        return _json_ready(value.item())
    return value


def _write(out: Path | None, text: str) -> None:
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as error:
        raise _Usage(f"{out}: cannot write the file: {error}") from None


def _fit(args: argparse.Namespace) -> int:
    frame = _read(args.file)
    wanted = [("--outcome", args.outcome), *(("--features", f) for f in args.features)]
    if args.group:
        wanted.append(("--group", args.group))
    _check_columns(args.file, frame, wanted)
    import yaml

    from whatworks.analytics.riskmodel.export import to_instrument
    from whatworks.analytics.riskmodel.fit import fit_point_score

    try:
        fit = fit_point_score(
            frame,
            outcome=args.outcome,
            features=args.features,
            group=args.group,
            max_items=args.max_items,
            max_points=args.max_points,
            folds=args.folds,
            seed=args.seed,
            band_rates=args.band_rates,
            band_cuts=args.band_cuts,
        )
        description = args.data_description or args.file.name
        definition = args.outcome_definition or f"{args.outcome} = 1"
        mapping = to_instrument(
            fit,
            slug=args.slug,
            version=args.version,
            name=args.name,
            data_description=description,
            outcome_definition=definition,
            period=args.period,
        )
        from whatworks.analytics.instruments.model import InstrumentError, instrument_from_mapping

        try:
            instrument_from_mapping(mapping, source="instrument.yaml")
        except InstrumentError as error:
            raise _Usage(f"the instrument is not valid: {error}") from None
        fairness = _fairness(fit, frame, args) if args.group else None
    except RiskModelInputError as error:
        raise _Usage(f"{args.file}: {error}") from None
    payload = {
        "data": {
            "file": str(args.file),
            "description": description,
            "period": args.period,
            **fit.data,
        },
        "outcome": args.outcome,
        "outcome_definition": definition,
        "features": fit.features,
        "settings": fit.settings,
        "items": fit.items,
        "bands": fit.band_probabilities(),
        "max_total": fit.max_total,
        "intercept": fit.intercept,
        "scale": fit.scale,
        "metrics": fit.metrics,
        "benchmarks": fit.benchmarks,
        "fairness": fairness,
    }
    card = {
        "title": f"{args.name} ({args.slug} {args.version})",
        "data": {"description": description, "period": args.period, **fit.data},
        "outcome_definition": definition,
        "intended_use": INTENDED_USE,
        "limits": [*fit.metrics.get("warnings", []), *LIMITS],
        "items": [
            {
                "label": item["label"],
                "points": [
                    {"condition": lv["condition"], "points": lv["points"]} for lv in item["levels"]
                ],
            }
            for item in fit.items
        ],
        "bands": _card_bands(fit),
        "metrics": fit.metrics,
        "benchmarks": fit.benchmarks,
        "fairness": fairness,
        "generated_by": "whatworks riskmodel fit",
        "seed": args.seed,
    }
    out: Path = args.out
    text = yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False, width=100)
    header = (
        f"# Fitted by `whatworks riskmodel fit` on {description}: see metrics.json and\n"
        "# model-card.html next to this file. Re-validate before use elsewhere.\n"
    )
    _write(out / "instrument.yaml", header + text)
    _write(
        out / "metrics.json", json.dumps(_json_ready(payload), ensure_ascii=False, indent=1) + "\n"
    )
    _write(out / "model-card.html", _card_html(_json_ready(card)))
    for warning in fit.metrics.get("warnings", []):
        print(f"{args.file}: warning: {warning}", file=sys.stderr)
    auc = fit.metrics["auc"]
    print(
        f"{out}: instrument.yaml, metrics.json, model-card.html; {len(fit.items)} item(s), "
        f"total 0-{fit.max_total}, cross-validated AUC {auc['value']:.3f} "
        f"({auc['low']:.3f}-{auc['high']:.3f})"
    )
    return 0


def _card_bands(fit: Any) -> list[dict[str, Any]]:
    rows = {row["group"]: row for row in fit.metrics.get("calibration_by_band", [])}
    return [
        {
            "code": band["code"],
            "label": band["label"]["en"],
            "min": band["min"],
            "max": band["max"],
            "observed_rate": rows.get(band["code"], {}).get("observed"),
        }
        for band in fit.bands
    ]


def _card_html(card: dict[str, Any]) -> str:
    from whatworks.analytics.riskmodel.card import model_card_html

    return model_card_html(card)


def _fairness(fit: Any, frame: pl.DataFrame, args: argparse.Namespace) -> dict[str, Any] | None:
    from whatworks.analytics.riskmodel.fairness import fairness_report

    # Thresholds: the calibrated probability at which each band above the lowest starts.
    thresholds = [row["probability_min"] for row in fit.band_probabilities()[1:]]
    if not thresholds:
        thresholds = [float(fit.oof["y"].mean())]
    order = [
        code for code in ("low", "moderate", "high", "very_high") if code in set(fit.oof["band"])
    ]
    options = {
        "probability": fit.oof["probability"],
        "thresholds": thresholds,
        "groups": {args.group: frame[args.group].to_list()},
        "band": fit.oof["band"],
        "band_order": order,
        "seed": args.seed,
    }
    features = [f for f in fit.features if f != args.group]
    try:
        return fairness_report(
            fit.oof["y"], fit.oof["probability"], frame=frame, features=features, **options
        )
    except RiskModelInputError as error:
        # The proxy check needs enough rows per group; the rest of the audit does not.
        report = fairness_report(fit.oof["y"], fit.oof["probability"], **options)
        for column in report.values():
            column["proxies"] = None
            column.setdefault("notes", []).append(f"proxy features not checked: {error}")
        return report


def _load(path: Path) -> Any:
    from whatworks.analytics.instruments.model import InstrumentError, load_instrument

    try:
        return load_instrument(path)
    except InstrumentError as error:
        raise _Usage(str(error)) from None


def _totals(instrument: Any, frame: pl.DataFrame, path: Path) -> tuple[list[Any], list[Any]]:
    from whatworks.analytics.instruments import AnswerError, score
    from whatworks.analytics.riskmodel.export import answers_for_row

    totals, bands = [], []
    # Row 1 is the header in a spreadsheet, so the first data row is row 2.
    for number, row in enumerate(frame.iter_rows(named=True), start=2):
        try:
            result = score(instrument, answers_for_row(instrument, row))
        except (AnswerError, RiskModelInputError) as error:
            raise _Usage(f"{path}: row {number}: {error}") from None
        totals.append(result.total)
        bands.append(result.band)
    return totals, bands


def _score(args: argparse.Namespace) -> int:
    instrument = _load(args.instrument)
    frame = _read(args.file)
    totals, bands = _totals(instrument, frame, args.file)
    scored = frame.with_columns(
        pl.Series("score", totals), pl.Series("band", bands, dtype=pl.String)
    )
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if args.out.suffix.lower() in (".parquet", ".pq"):
            scored.write_parquet(args.out)
        else:
            # The input's text (names, IDs) is written back: never as a spreadsheet formula.
            safe_frame(scored).write_csv(args.out)
    except OSError as error:
        raise _Usage(f"{args.out}: cannot write the file: {error}") from None
    print(f"{args.out}: {frame.height} row(s) scored with {instrument.slug} {instrument.version}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from whatworks.analytics.riskmodel.metrics import as_outcome, validation_report

    instrument = _load(args.instrument)
    frame = _read(args.file)
    wanted = [("--outcome", args.outcome)] + ([("--group", args.group)] if args.group else [])
    _check_columns(args.file, frame, wanted)
    try:
        y = as_outcome(frame[args.outcome], name=f"outcome {args.outcome!r}")
        totals, bands = _totals(instrument, frame, args.file)
        order = [band.code for band in instrument.bands]
        groups = {args.group: frame[args.group].to_list()} if args.group else None
        report = validation_report(y, score=totals, band=bands, band_order=order, groups=groups)
    except RiskModelInputError as error:
        raise _Usage(f"{args.file}: {error}") from None
    report["instrument"] = {"slug": instrument.slug, "version": instrument.version}
    if args.format == "json":
        _write(args.out, json.dumps(_json_ready(report), ensure_ascii=False, indent=1) + "\n")
        return 0
    card = {
        "title": f"Validation of {instrument.name['en']} ({instrument.slug} {instrument.version})",
        "data": {"description": str(args.file), "n": report["n"], "events": report["events"]},
        "outcome_definition": f"{args.outcome} = 1",
        "intended_use": INTENDED_USE,
        "limits": LIMITS,
        "items": [],
        "bands": [
            {
                "code": band.code,
                "label": band.label["en"],
                "min": band.min,
                "max": band.max,
                "observed_rate": next(
                    (
                        r["observed"]
                        for r in report.get("calibration_by_band", [])
                        if r["group"] == band.code
                    ),
                    None,
                ),
            }
            for band in instrument.bands
        ],
        "metrics": report,
        "benchmarks": {},
        "fairness": None,
        "generated_by": "whatworks riskmodel validate",
        "seed": None,
    }
    _write(args.out, _card_html(_json_ready(card)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``whatworks recidivism``: measure recidivism on any extract (CSV or Parquet).

Input errors (missing columns, unreadable dates, unknown people, duplicated release IDs) are
printed as one clear message naming the file, the column and the row, with exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import polars as pl

from whatworks.analytics.argtypes import iso_date, non_negative_int
from whatworks.analytics.recidivism.definitions import (
    DEFAULT_DEFINITION,
    DefinitionError,
    list_definitions,
    load_definition,
)
from whatworks.analytics.recidivism.engine import (
    RecidivismInputError,
    measure,
    measure_technical_violation_variants,
)
from whatworks.analytics.recidivism.report import render_csv, render_html
from whatworks.analytics.recidivism.suppression import Suppression


class _Usage(Exception):
    """A problem with the command line or the files, reported without a traceback."""


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected whole numbers separated by commas, got {text!r}"
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected years of 1 or more, got {text!r}")
    return values


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _mapping(text: str) -> dict[str, str]:
    pairs = {}
    for part in _names(text):
        old, sep, new = part.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise argparse.ArgumentTypeError(f"expected old=new pairs, got {part!r}")
        pairs[old.strip()] = new.strip()
    return pairs


def build_parser() -> argparse.ArgumentParser:
    presets = ", ".join(d.slug for d in list_definitions())
    parser = argparse.ArgumentParser(
        prog="whatworks recidivism",
        description=(
            "Measure recidivism rates, with Wilson intervals, Kaplan–Meier curves and small-"
            "cell suppression, from a releases file and an events file (CSV or Parquet, by "
            "suffix). See docs/recidivism.md."
        ),
    )
    parser.add_argument("--releases", type=Path, help="releases file (.csv or .parquet)")
    parser.add_argument("--events", type=Path, help="events file (.csv or .parquet)")
    parser.add_argument(
        "--definition",
        default=DEFAULT_DEFINITION,
        help=f"preset name or YAML file (default {DEFAULT_DEFINITION}; presets: {presets})",
    )
    parser.add_argument(
        "--event-types", type=_names, help="event types counted, comma-separated (overrides)"
    )
    parser.add_argument("--windows", type=_int_list, help="windows in years, e.g. 1,2,3")
    parser.add_argument("--by", type=_names, help="release columns to break down by")
    parser.add_argument("--format", choices=("json", "csv", "html"), default="json")
    parser.add_argument("--out", type=Path, help="write here instead of standard output")
    parser.add_argument(
        "--map", type=_mapping, default={}, help="rename columns, old=new,... (both files)"
    )
    parser.add_argument(
        "--min-cell",
        type=non_negative_int,
        default=10,
        help="suppress counts from 1 to N-1 (default 10; 0 or 1 publishes every count)",
    )
    parser.add_argument("--round", type=non_negative_int, help="round published counts to base N")
    parser.add_argument(
        "--followup-end",
        type=iso_date,
        help="end of follow-up for every release (fills a missing followup_end_date column)",
    )
    parser.add_argument(
        "--allow-unknown-people",
        action="store_true",
        help="count events of people with no release in 'excluded' instead of stopping",
    )
    parser.add_argument(
        "--compare-technical-violations",
        action="store_true",
        help="also measure with and without technical violations (html: side by side; "
        "json: under 'variants')",
    )
    parser.add_argument("--list-definitions", action="store_true", help="list the presets and exit")
    return parser


def _read(path: Path) -> pl.DataFrame:
    if not path.exists():
        raise _Usage(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            # Everything as text: dates are parsed (and reported by row) by the engine.
            return pl.read_csv(path, infer_schema=False)
        if suffix in (".parquet", ".pq"):
            return pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as error:
        raise _Usage(f"{path}: cannot read the file: {error}") from None
    raise _Usage(f"{path}: unknown file type {suffix!r}; use .csv or .parquet")


def _rename(frames: dict[str, pl.DataFrame], mapping: dict[str, str]) -> dict[str, pl.DataFrame]:
    unused = [old for old in mapping if not any(old in f.columns for f in frames.values())]
    if unused:
        raise _Usage(f"--map: no column {', '.join(map(repr, unused))} in {' or '.join(frames)}")
    return {
        name: frame.rename({old: new for old, new in mapping.items() if old in frame.columns})
        for name, frame in frames.items()
    }


def _json_ready(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.list_definitions:
        for definition in list_definitions():
            print(f"{definition.slug} (version {definition.version}): {definition.sentence}")
        return 0
    if args.releases is None or args.events is None:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: --releases and --events are required", file=sys.stderr)
        return 2
    try:
        return _run(args)
    except (_Usage, RecidivismInputError, DefinitionError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    definition = load_definition(args.definition)
    release_source, event_source = str(args.releases), str(args.events)
    frames = _rename(
        {release_source: _read(args.releases), event_source: _read(args.events)}, args.map
    )
    releases, events = frames[release_source], frames[event_source]
    if args.followup_end is not None:
        end = pl.lit(args.followup_end, dtype=pl.Date)
        if "followup_end_date" in releases.columns:
            releases = releases.with_columns(
                pl.coalesce(
                    pl.col("followup_end_date").cast(pl.String).str.strip_chars().replace("", None),
                    end.cast(pl.String),
                ).alias("followup_end_date")
            )
        else:
            releases = releases.with_columns(end.alias("followup_end_date"))
    suppression = Suppression(min_count=args.min_cell, rounding=args.round or None)
    options: dict[str, Any] = {
        "windows": args.windows,
        "by": args.by,
        "suppression": suppression,
        "sources": (release_source, event_source),
        "allow_unknown_people": args.allow_unknown_people,
    }
    result = measure(releases, events, definition, event_types=args.event_types, **options)
    variants = None
    if args.compare_technical_violations:
        variants = measure_technical_violation_variants(
            releases, events, definition, event_types=args.event_types, **options
        )
    if args.format == "json":
        payload = result.to_dict()
        if variants:
            payload["variants"] = {name: v.to_dict() for name, v in variants.items()}
        text = json.dumps(_json_ready(payload), ensure_ascii=False) + "\n"
    elif args.format == "csv":
        text = render_csv(result)
    else:
        text = render_html(result, variants)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0

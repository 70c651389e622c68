"""``whatworks instrument``: list, validate and score assessment instruments.

- ``instrument list``: slug, version, name and whether each built-in is validated.
- ``instrument validate FILE``: exit 0 when valid, 1 when invalid (one line per problem,
  ``<file>: <path of the field>: <message>``).
- ``instrument score NAME --answers JSON [--sex male|female]``: one JSON object.
- ``instrument score-csv NAME FILE --out FILE``: one output row per input row.

Bad answers, files or names are reported as one clear message with exit status 2.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

from whatworks.analytics.instruments.model import Instrument, InstrumentError, load_instrument
from whatworks.analytics.instruments.model import list_instruments as builtin_instruments
from whatworks.analytics.instruments.scoring import AnswerError, score
from whatworks.analytics.spreadsheets import safe_row

SEXES = ("male", "female")
_TRUE = {"1", "yes", "true", "y", "si", "sí", "sim"}
_FALSE = {"0", "no", "false", "n", "não", "nao"}


class _Usage(Exception):
    """A problem with the command line or the files, reported without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="whatworks instrument",
        description="List, validate and score assessment instruments (docs/instruments.md).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the built-in instruments")
    validate = commands.add_parser("validate", help="check an instrument YAML file")
    validate.add_argument("file", type=Path)
    score_one = commands.add_parser("score", help="score one set of answers")
    score_one.add_argument("name", help="a built-in slug or an instrument YAML file")
    score_one.add_argument(
        "--answers",
        required=True,
        help="JSON list of answers in item order, or JSON object of item id to answer",
    )
    score_one.add_argument("--sex", choices=SEXES)
    score_one.add_argument(
        "--allow-incomplete", action="store_true", help="score even if answers are missing"
    )
    score_csv = commands.add_parser("score-csv", help="score every row of a CSV file")
    score_csv.add_argument("name", help="a built-in slug or an instrument YAML file")
    score_csv.add_argument("file", type=Path, help="CSV: one column per item id, optional id, sex")
    score_csv.add_argument("--out", type=Path, required=True, help="output CSV file")
    score_csv.add_argument(
        "--allow-incomplete", action="store_true", help="score rows with missing answers"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "list":
            return _list()
        if args.command == "validate":
            return _validate(args.file)
        if args.command == "score":
            return _score(args)
        return _score_csv(args)
    except (_Usage, InstrumentError, AnswerError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2


def _list() -> int:
    for instrument in builtin_instruments():
        validated = "validated" if instrument.validated else "NOT validated"
        print(f"{instrument.slug}\t{instrument.version}\t{instrument.name['en']}\t{validated}")
    return 0


def _validate(path: Path) -> int:
    try:
        instrument = load_instrument(path)
    except InstrumentError as error:
        print(str(error), file=sys.stderr)
        return 1
    print(f"{path}: valid ({instrument.slug} {instrument.version})")
    return 0


def _score(args: argparse.Namespace) -> int:
    instrument = load_instrument(args.name)
    try:
        answers = json.loads(args.answers)
    except json.JSONDecodeError as error:
        raise _Usage(f"--answers is not valid JSON: {error}") from None
    if not isinstance(answers, list | dict):
        raise _Usage("--answers must be a JSON list or a JSON object")
    result = score(instrument, answers, sex=args.sex, require_complete=not args.allow_incomplete)
    print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    return 0


def _cell(instrument: Instrument, item_id: str, text: str) -> Any:
    """One CSV cell as an answer: indexes for choices (``0;2`` for several), numbers,
    yes/no as 1/0, yes/no or true/false, and text as it is."""
    text = text.strip()
    if text == "":
        return None
    item = instrument.item(item_id)
    try:
        if item.type == "single_choice":
            return int(text)
        if item.type == "multiple_choice":
            return [int(part) for part in text.split(";") if part.strip()]
        if item.type == "number":
            return float(text) if any(c in text for c in ".eE") else int(text)
    except ValueError:
        raise AnswerError(f"item {item_id}: cannot read {text!r} as an answer") from None
    if item.type == "yes_no":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise AnswerError(f"item {item_id}: expected yes/no or 1/0, got {text!r}")
    return text


def _score_csv(args: argparse.Namespace) -> int:
    instrument = load_instrument(args.name)
    try:
        content = args.file.read_text("utf-8-sig")
    except OSError as error:
        raise _Usage(f"{args.file}: cannot read the file: {error}") from None
    reader = csv.DictReader(io.StringIO(content))
    columns = reader.fieldnames or []
    item_ids = {item.id for item in instrument.items}
    unknown = [c for c in columns if c not in item_ids and c not in ("id", "sex")]
    if unknown:
        raise _Usage(f"{args.file}: unknown item id column(s): {', '.join(unknown)}")
    domain_ids = [domain.id for domain in instrument.domains]
    header = ["id"] if "id" in columns else []
    header += ["instrument", "version", "total", "band", *domain_ids]
    rows = []
    # Row 1 is the header, so the first data row is row 2 (as a spreadsheet shows it).
    for row_number, row in enumerate(reader, start=2):
        sex = (row.get("sex") or "").strip().lower() or None
        try:
            if sex is not None and sex not in SEXES:
                raise AnswerError(f"sex: expected {' or '.join(SEXES)}, got {row['sex']!r}")
            answers = {
                column: _cell(instrument, column, value or "")
                for column, value in row.items()
                if column in item_ids
            }
            result = score(instrument, answers, sex=sex, require_complete=not args.allow_incomplete)
        except AnswerError as error:
            raise _Usage(f"{args.file}: row {row_number}: {error}") from None
        scores = {**result.domains, **result.strengths}
        values = [row["id"]] if "id" in columns else []
        values += [result.instrument, result.version, result.total, result.band]
        values += [scores[domain_id] for domain_id in domain_ids]
        rows.append(safe_row("" if value is None else value for value in values))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    try:
        args.out.write_text(buffer.getvalue(), "utf-8")
    except OSError as error:
        raise _Usage(f"{args.out}: cannot write the file: {error}") from None
    print(f"{args.out}: {len(rows)} row(s) scored with {instrument.slug} {instrument.version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`whatworks import outcomes FILE [--mapping FILE] [--dry-run] [--format json|text]
[--link-threshold P] [--review-threshold P] [--actor USERNAME]`

Imports a police or court outcome extract (CSV or XLSX): checks every row, links rows to
persons, stores sure links as outcome events and uncertain ones as review items, all or
nothing. Exit codes: 0 imported (or dry run done); 1 the extract has problems (nothing
written; the per-row report is printed); 2 the command cannot run (unreadable file or
mapping, bad option, unknown actor).
"""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from whatworks.outcomes.access import can_import
from whatworks.outcomes.extract import ExtractFileError, load_mapping, parse_extract
from whatworks.outcomes.services import (
    DEFAULT_LINK_THRESHOLD,
    DEFAULT_REVIEW_THRESHOLD,
    ExtractInvalid,
    outcome_import,
)
from whatworks.service_helpers import today

EXIT_INVALID = 1
EXIT_USAGE = 2


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        import argparse

        raise argparse.ArgumentTypeError(f"{text!r} is not a probability between 0 and 1")
    return value


class Command(BaseCommand):
    help = "Import an extract: `whatworks import outcomes FILE` (police and court outcomes)."

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        outcomes = subcommands.add_parser(
            "outcomes", help="Import a police or court outcome extract (CSV or XLSX)."
        )
        outcomes.add_argument("file", help="the extract, .csv or .xlsx")
        outcomes.add_argument("--mapping", help="YAML: columns, event_types, source, date_format")
        outcomes.add_argument(
            "--dry-run", action="store_true", help="link and report, but write nothing"
        )
        outcomes.add_argument("--format", choices=["text", "json"], default="text")
        outcomes.add_argument(
            "--link-threshold",
            type=_probability,
            default=DEFAULT_LINK_THRESHOLD,
            help=f"link automatically at or above this (default {DEFAULT_LINK_THRESHOLD})",
        )
        outcomes.add_argument(
            "--review-threshold",
            type=_probability,
            default=DEFAULT_REVIEW_THRESHOLD,
            help=f"send to the review queue at or above this (default {DEFAULT_REVIEW_THRESHOLD})",
        )
        outcomes.add_argument(
            "--actor", help="the administrator or facility manager the import is attributed to"
        )

    def handle(self, *args, **options):
        as_json = options["format"] == "json"
        actor = None
        if options["actor"]:
            actor = get_user_model().objects.filter(username=options["actor"]).first()
            if actor is None or not can_import(actor):
                raise CommandError(
                    f"--actor {options['actor']!r}: no active administrator or facility "
                    "manager has this username",
                    returncode=EXIT_USAGE,
                )
        if options["review_threshold"] > options["link_threshold"]:
            raise CommandError(
                "--review-threshold cannot be above --link-threshold", returncode=EXIT_USAGE
            )
        path = Path(options["file"])
        try:
            mapping = load_mapping(Path(options["mapping"])) if options["mapping"] else None
            extract = parse_extract(path, mapping=mapping, today=today())
        except ExtractFileError as error:
            raise CommandError(str(error), returncode=EXIT_USAGE) from None

        try:
            result = outcome_import(
                actor=actor,
                extract=extract,
                link_threshold=options["link_threshold"],
                review_threshold=options["review_threshold"],
                dry_run=options["dry_run"],
                actor_label=actor.get_username() if actor else "command",
            )
        except ExtractInvalid as invalid:
            if as_json:
                report = {
                    "file": invalid.extract.file_name,
                    "errors": [error.as_dict() for error in invalid.errors],
                }
                self.stdout.write(json.dumps(report, ensure_ascii=False))
            else:
                for error in invalid.errors:
                    self.stdout.write(error.as_text(invalid.extract.file_name))
            raise CommandError(
                f"{invalid.extract.file_name}: {len(invalid.errors)} problem(s); nothing was "
                "imported",
                returncode=EXIT_INVALID,
            ) from None
        except ValidationError as error:
            raise CommandError("; ".join(error.messages), returncode=EXIT_USAGE) from None

        summary = {**result.summary, "already_imported_rows": result.already_imported_rows}
        if as_json:
            payload = {"links": [link.as_dict() for link in result.links], "summary": summary}
            self.stdout.write(json.dumps(payload, ensure_ascii=False))
            return
        self._write_text(summary, result)

    def _write_text(self, summary, result) -> None:
        prefix = "DRY RUN, nothing written: " if summary["dry_run"] else ""
        self.stdout.write(
            f"{prefix}{summary['file']} ({summary['encoding']}, sha256 {summary['sha256'][:12]}…): "
            f"{summary['rows']} rows; {summary['linked']} linked, {summary['review']} to review, "
            f"{summary['unmatched']} unmatched; {summary['events_created']} events and "
            f"{summary['reviews_created']} review items created; "
            f"{summary['already_imported']} already imported"
        )
        already = set(result.already_imported_rows)
        for link in result.links:
            if link.status == "linked" and link.row not in already:
                continue
            note = " (already imported)" if link.row in already else ""
            person = f" person {link.person_id}" if link.person_id is not None else ""
            probability = f" p={link.probability:.3f}" if link.probability is not None else ""
            self.stdout.write(
                f"  data row {link.row + 1} (index {link.row}): {link.status}{person}"
                f"{probability}{note}"
            )

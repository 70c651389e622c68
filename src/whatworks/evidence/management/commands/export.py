"""`whatworks export research --out DIR [--today YYYY-MM-DD]`

Writes the research extract (docs/research-extract.md): pseudonymous record-level tables as
CSV and Parquet, small-cell-safe aggregates and manifest.json, and records an audit event.
It is the only way record-level data leaves the service for research.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from whatworks.evidence.research import research_extract_write


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"--today: {text!r} is not a date (expected YYYY-MM-DD)") from error


class Command(BaseCommand):
    help = "Exports: `research` writes the pseudonymous research extract."

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        research = subcommands.add_parser(
            "research",
            help="Write the research extract (pseudonymous tables, safe aggregates, manifest).",
        )
        research.add_argument("--out", type=Path, required=True, help="folder to write into")
        research.add_argument(
            "--today", type=_date, help="extract date written in the manifest (default: today)"
        )

    def handle(self, *args, **options):
        out: Path = options["out"]
        today = options["today"] or timezone.localdate()
        if out.exists() and not out.is_dir():
            raise CommandError(f"--out: {out} exists and is not a folder")
        try:
            rows = research_extract_write(out=out, today=today)
        except OSError as error:
            raise CommandError(f"--out: cannot write to {out}: {error}") from error
        summary = ", ".join(f"{name} {count}" for name, count in rows.items())
        self.stdout.write(f"Wrote the research extract to {out} (rows: {summary}).")

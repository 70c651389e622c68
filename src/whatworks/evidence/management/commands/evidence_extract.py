"""`whatworks evidence_extract --out DIR`: the service's releases and outcome events as CSV.

Writes ``releases.csv`` and ``events.csv`` for the whole service, built by the same selector
as the evidence dashboard, so that anyone can run

    whatworks recidivism --releases DIR/releases.csv --events DIR/events.csv

and get the dashboard's figures. Keys are random tokens drawn afresh for each extract (no
database or research ID), and each person's dates are moved by a random number of days within
their months, so intervals are exact and calendar dates are not (see
``whatworks.evidence.extract`` and docs/research-extract.md).
"""

from __future__ import annotations

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from whatworks.evidence.extract import evidence_extract_write


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"--today: {text!r} is not a date (expected YYYY-MM-DD)") from error


class Command(BaseCommand):
    help = (
        "Write releases.csv and events.csv for the whole service, ready for `whatworks "
        "recidivism`, which gives the evidence dashboard's figures from them. Release and "
        "person IDs are random tokens new to each extract; every date of a person is moved by "
        "the same random number of days within its month (intervals stay exact, calendar "
        "dates do not). The files are pseudonymous personal data: handle them like the "
        "research extract (docs/research-extract.md). Each run is audited."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, required=True, help="folder to write into")
        parser.add_argument(
            "--today",
            type=_date,
            help="end of follow-up for every release (default: today); outcome records are "
            "assumed complete up to this date. On the 29th to the 31st of a month no date "
            "can be moved (see docs/research-extract.md): use a day from the 1st to the 28th",
        )

    def handle(self, *args, **options):
        today = options["today"] or timezone.localdate()
        out: Path = options["out"]
        try:
            rows = evidence_extract_write(out=out, today=today)
        except OSError as error:
            raise CommandError(f"--out: cannot write into {out}: {error}") from error
        self.stdout.write(
            f"Wrote {rows['releases']} releases to {out / 'releases.csv'} and "
            f"{rows['events']} events to {out / 'events.csv'}."
        )
        if today.day > 28:
            self.stderr.write(
                f"Warning: the follow-up ends on day {today.day} of its month, so no dates "
                "could be moved and the files hold the real dates. Run it with --today on "
                "a day from the 1st to the 28th to hide them."
            )

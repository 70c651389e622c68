"""`whatworks evidence_extract --out DIR`: the service's releases and outcome events as CSV.

Writes ``releases.csv`` and ``events.csv`` for the whole service, built by the same selector
as the evidence dashboard, so that anyone can run

    whatworks recidivism --releases DIR/releases.csv --events DIR/events.csv

and get the dashboard's figures. Only pseudonymous identifiers are written: the release ID is
the custody episode's number and the person ID is the research ID; no names, prison numbers,
national IDs or dates of birth (age is written as a band at release).
"""

from __future__ import annotations

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from whatworks.accounts.models import Role
from whatworks.evidence.selectors import release_frames
from whatworks.web.spreadsheets import safe_frame


class ServiceScope:
    """A stand-in viewer with an administrator's scope (every facility) for whole-service
    extracts run from the console, where whoever can run commands already holds the database.
    """

    is_authenticated = True
    is_active = True
    role = Role.ADMINISTRATOR


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"--today: {text!r} is not a date (expected YYYY-MM-DD)") from error


class Command(BaseCommand):
    help = (
        "Write releases.csv and events.csv (pseudonymous IDs only) for the whole service, "
        "ready for `whatworks recidivism`."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, required=True, help="folder to write into")
        parser.add_argument(
            "--today",
            type=_date,
            help="end of follow-up for every release (default: today); outcome records are "
            "assumed complete up to this date",
        )

    def handle(self, *args, **options):
        today = options["today"] or timezone.localdate()
        out: Path = options["out"]
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CommandError(f"--out: cannot create {out}: {error}") from error
        releases, events = release_frames(viewer=ServiceScope(), today=today)
        # Text columns (facility names, codes) never start a spreadsheet formula.
        safe_frame(releases).write_csv(out / "releases.csv")
        safe_frame(events).write_csv(out / "events.csv")
        self.stdout.write(
            f"Wrote {releases.height} releases to {out / 'releases.csv'} and "
            f"{events.height} events to {out / 'events.csv'} (follow-up to {today:%Y-%m-%d})."
        )

"""`whatworks community schedule-followups [--months-back 12] [--today YYYY-MM-DD]`

Creates the follow-up schedules missing for releases of the last twelve months (releases
made before the community app existed, or while it was switched off). Idempotent: a second
run creates nothing. Releases by death, escape or transfer to another jurisdiction are
skipped. Prints how many episodes got contacts and how many contacts were created.
"""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError

from whatworks.community.conf import add_months
from whatworks.community.services import followup_schedules_backfill
from whatworks.service_helpers import today


class Command(BaseCommand):
    help = "Community follow-up: create missing follow-up schedules for recent releases."

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        schedule = subcommands.add_parser(
            "schedule-followups", help="Create missing follow-up schedules (idempotent)."
        )
        schedule.add_argument("--months-back", type=int, default=12)
        schedule.add_argument("--today", default=None, help="YYYY-MM-DD (default: today)")

    def handle(self, *args, **options):
        months_back = options["months_back"]
        if not 1 <= months_back <= 1200:
            raise CommandError(f"--months-back {months_back}: give 1 to 1200")
        day = today()
        if options["today"]:
            try:
                day = datetime.date.fromisoformat(options["today"])
            except ValueError:
                raise CommandError(
                    f"--today {options['today']!r}: write the date as YYYY-MM-DD"
                ) from None
        since = add_months(day, -months_back)
        result = followup_schedules_backfill(actor=None, since=since, until=day)
        self.stdout.write(
            f"{result.contacts_created} follow-up contacts created for "
            f"{result.releases_scheduled} releases "
            f"(releases since {since.isoformat()} checked: {result.checked})."
        )

"""``whatworks reintegration start-due``: open the release preparation of everyone whose
expected release falls within the window. Run it daily (cron or a scheduler); it is
idempotent."""

from __future__ import annotations

import datetime
import json

from django.core.management.base import BaseCommand, CommandError

from whatworks.reintegration.services import preparations_start_due


class Command(BaseCommand):
    help = "Release preparation: start-due opens the preparations that are due."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        start = commands.add_parser("start-due", help="open every preparation that is due")
        start.add_argument("--on", default=None, help="YYYY-MM-DD (default: today)")
        start.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, **options):
        on = None
        if options["on"]:
            try:
                on = datetime.date.fromisoformat(options["on"])
            except ValueError:
                raise CommandError(
                    f"--on: {options['on']!r} is not a date like 2026-11-27"
                ) from None
        started = preparations_start_due(actor=None, on=on, actor_label="command")
        if options["format"] == "json":
            self.stdout.write(json.dumps({"started": len(started)}))
        else:
            self.stdout.write(f"Release preparations started: {len(started)}")

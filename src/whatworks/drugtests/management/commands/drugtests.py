"""`whatworks drugtests draw --facility CODE --month YYYY-MM [--seed N] [--format json]`

Draws (or shows, when already drawn) a facility's monthly selection list through
``selection_list_draw`` and prints it. People are listed by research ID, never by name.
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from whatworks.drugtests.services import MONTH_PATTERN, selection_list_draw
from whatworks.records.models import Facility


class Command(BaseCommand):
    help = "Drug testing: draw a facility's monthly random selection list."

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        draw = subcommands.add_parser("draw", help="Draw (or show) a monthly selection list.")
        draw.add_argument("--facility", required=True, help="facility code, e.g. CL-A-01")
        draw.add_argument("--month", required=True, help="YYYY-MM")
        draw.add_argument("--seed", type=int, default=None, help="default: month_seed()")
        draw.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, **options):
        code, month, seed = options["facility"], options["month"], options["seed"]
        if not MONTH_PATTERN.match(month):
            raise CommandError(f"--month {month!r}: write the month as YYYY-MM, e.g. 2025-03")
        if seed is not None and seed < 0:
            raise CommandError(f"--seed {seed}: the seed must be zero or positive")
        facility = Facility.objects.filter(code=code).first()
        if facility is None:
            raise CommandError(f"--facility {code!r}: no facility has this code")
        try:
            selection = selection_list_draw(
                actor=None, facility=facility, month=month, seed=seed, actor_label="command"
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        if seed is not None and int(selection.seed) != seed:
            self.stderr.write(
                f"{code} {month} was already drawn with seed {selection.seed}; it is never redrawn."
            )
        result = {
            "facility": facility.code,
            "month": selection.month,
            "seed": int(selection.seed),
            "main": list(selection.current_main),
            "reserve": list(selection.reserve),
        }
        if options["format"] == "json":
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"{facility.code} {month} (seed {result['seed']}), by research ID")
        self.stdout.write("main: " + (", ".join(result["main"]) or "-"))
        self.stdout.write("reserve: " + (", ".join(result["reserve"]) or "-"))

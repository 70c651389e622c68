"""``whatworks audit verify``: recompute the audit trail's hash chain.

Exits 0 when every event fits; exits 1 naming the first event that does not (altered,
removed, added or reordered events, or events removed from the end).
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from whatworks.audit.chain import verify_chain


class Command(BaseCommand):
    help = "Audit trail: verify checks its hash chain."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        verify = commands.add_parser("verify", help="recompute the hash chain")
        verify.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, **options):
        check = verify_chain()
        if options["format"] == "json":
            self.stdout.write(
                json.dumps(
                    {
                        "ok": check.ok,
                        "events": check.events,
                        "broken_at": check.broken_at,
                        "problem": check.problem,
                    }
                )
            )
        elif check.ok:
            self.stdout.write(f"Audit chain intact: {check.events} events.")
        if not check.ok:
            raise CommandError(
                f"Audit chain broken at event {check.broken_at}: {check.problem}.", returncode=1
            )

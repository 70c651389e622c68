import json
import time
from dataclasses import asdict
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from whatworks.demo.server import serve_forever
from whatworks.demo.services import demo_accounts, demo_create, demo_exists


class Command(BaseCommand):
    help = (
        "Set up a demo service (migrate, simulate, load, create one account per role), "
        "print the accounts, and serve the app."
    )

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--no-serve", action="store_true", help="Set up only.")
        parser.add_argument("--reset", action="store_true", help="Delete the demo data first.")
        parser.add_argument(
            "--accounts-json", type=Path, help="Also write the accounts to this JSON file."
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        if not settings.DEMO_MODE:
            raise CommandError("Run the demo as `whatworks demo`, which switches on demo mode.")
        if not 10 <= options["persons"] <= 200_000:
            raise CommandError("--persons must be between 10 and 200000.")
        if not 1 <= options["port"] <= 65535:
            raise CommandError("--port must be between 1 and 65535.")
        call_command("migrate", verbosity=0, interactive=False)
        if options["reset"]:
            call_command("flush", verbosity=0, interactive=False)
            self.stdout.write("Removed the previous demo.")

        existing = demo_exists()
        if existing:
            self.stdout.write(
                f"A demo already exists ({existing.persons} persons, seed {existing.seed}, "
                f"loaded {existing.created_at:%Y-%m-%d %H:%M}); reusing it. "
                "Use --reset to start again."
            )
        else:
            self.stdout.write(
                f"Simulating a prison service of {options['persons']} persons "
                f"(seed {options['seed']})…"
            )
            run = demo_create(
                persons=options["persons"],
                seed=options["seed"],
                extract_date=timezone.localdate(),
            )
            self.stdout.write(f"Loaded {run.rows_loaded} records.")

        accounts = demo_accounts()
        if not accounts:
            raise CommandError(
                "The demo's accounts file is missing from the data folder; run with --reset."
            )
        self._print_accounts(accounts)
        if options["accounts_json"]:
            options["accounts_json"].write_text(
                json.dumps([asdict(account) for account in accounts], indent=2)
            )
        elapsed = time.monotonic() - started
        if options["no_serve"]:
            self.stdout.write(f"Demo ready in {elapsed:.1f} s (not serving: --no-serve).")
            return
        url = f"http://{options['host']}:{options['port']}"
        self.stdout.write(f"Ready in {elapsed:.1f} s. Serving What Works at {url}/ (Ctrl+C stops).")
        serve_forever(host=options["host"], port=options["port"])

    def _print_accounts(self, accounts):
        self.stdout.write(
            "\nDemo accounts (demo mode only; passwords are kept in the data folder):"
        )
        width = max(len(account.username) for account in accounts)
        for account in accounts:
            facilities = ", ".join(account.facilities) or "all facilities"
            self.stdout.write(
                f"  {account.username:<{width}}  {account.password}  {account.role} · {facilities}"
            )
        self.stdout.write("")

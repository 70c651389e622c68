"""``whatworks privacy``: subject access exports and the retention rules (docs/privacy.md).

- ``whatworks privacy subject-access PERSON --out DIR [--language es] [--actor USERNAME]``
  writes ``subject-access-<id>-<date>.json`` and ``.pdf`` into DIR; PERSON is the person's
  id or prison number. Audited as ``privacy.subject_access``.
- ``whatworks privacy retention [--dry-run] [--format json]`` applies
  WHATWORKS_RETENTION_ACTION to the persons due; ``--dry-run`` lists them and changes nothing.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from whatworks.accounts.models import User
from whatworks.privacy.services import (
    can_request_subject_access,
    retention_apply,
    subject_access_export,
)
from whatworks.records.models import Person


class Command(BaseCommand):
    help = "Privacy: subject-access exports all data about one person; retention applies the rules."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        access = commands.add_parser("subject-access", help="export all data about one person")
        access.add_argument("person", help="the person's id or prison number")
        access.add_argument("--out", required=True, help="folder to write the JSON and PDF to")
        access.add_argument(
            "--language",
            default=None,
            choices=[code for code, _name in settings.LANGUAGES],
            help="language of the PDF's headings (default: the site's)",
        )
        access.add_argument(
            "--actor", default=None, help="username of the administrator answering the request"
        )
        retention = commands.add_parser("retention", help="apply WHATWORKS_RETENTION_ACTION")
        retention.add_argument("--dry-run", action="store_true", help="list, change nothing")
        retention.add_argument("--format", choices=["text", "json"], default="text")
        retention.add_argument("--on", default=None, help="YYYY-MM-DD (default: today)")

    def handle(self, *args, **options):
        if options["action"] == "subject-access":
            self._subject_access(options)
        else:
            self._retention(options)

    def _person(self, key: str) -> Person:
        person = Person.objects.filter(prison_number=key).first()
        if person is None and key.isdigit():
            person = Person.objects.filter(pk=int(key)).first()
        if person is None:
            raise CommandError(f"person: no person has the id or prison number {key!r}")
        return person

    def _subject_access(self, options):
        person = self._person(options["person"])
        actor = None
        if options["actor"]:
            actor = User.objects.filter(username=options["actor"]).first()
            if actor is None or not can_request_subject_access(actor):
                raise CommandError(f"--actor: {options['actor']!r} is not an active administrator")
        out = Path(options["out"])
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CommandError(f"--out: cannot create {out}: {error.strerror}") from None
        result = subject_access_export(
            actor=actor, person=person, language=options["language"], actor_label="command"
        )
        written = []
        for suffix, content in (("json", result.json_bytes), ("pdf", result.pdf_bytes)):
            path = out / f"{result.stem}.{suffix}"
            # Owner-only: the files hold everything about a person.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(content)
            written.append(str(path))
        for path in written:
            self.stdout.write(path)

    def _retention(self, options):
        on = None
        if options["on"]:
            try:
                on = datetime.date.fromisoformat(options["on"])
            except ValueError:
                raise CommandError(
                    f"--on: {options['on']!r} is not a date like 2026-11-27"
                ) from None
        report = retention_apply(dry_run=options["dry_run"], on=on, actor_label="command")
        if options["format"] == "json":
            self.stdout.write(json.dumps(report.as_dict()))
            self._fail_if_any(report)
            return
        if report.action == "off":
            self.stdout.write(
                "Retention is off (WHATWORKS_RETENTION_ACTION=off): nothing was changed."
            )
            return
        action = "pseudonymised" if report.action == "pseudonymise" else "deleted"
        if report.dry_run:
            summary = f"{len(report.candidates)} would be {action} (dry run, nothing changed)."
        else:
            summary = f"{len(report.changes)} {action}, {len(report.failures)} failed."
        self.stdout.write(f"Persons last active before {report.cutoff}: {summary}")
        for candidate in report.candidates:
            self.stdout.write(
                f"  person {candidate.person_id} ({candidate.research_id}): released "
                f"{candidate.last_release}, last activity {candidate.last_activity}"
            )
            if candidate.person_id in report.failures:
                self.stdout.write(f"    not changed: {report.failures[candidate.person_id]}")
        self._fail_if_any(report)

    def _fail_if_any(self, report):
        if report.failures:
            raise CommandError(
                f"{len(report.failures)} person(s) could not be changed and were left as they "
                "were; the others were changed.",
                returncode=1,
            )

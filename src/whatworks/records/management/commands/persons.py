"""`whatworks persons`: merge duplicate person records, list likely duplicates.

    whatworks persons merge KEEP DUPLICATE --reason TEXT [--actor USERNAME] [--dry-run]
    whatworks persons duplicates [--limit N]

Persons are named by prison number or by id (``42`` or ``#42``; ``#`` forces the id when a
prison number could look like one). See docs/how-to/merge-persons.md.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from whatworks.accounts.models import User
from whatworks.records.merge import MergeResult, person_merge
from whatworks.records.models import Person


def find_person(text: str) -> Person:
    text = text.strip()
    forced_id = text.startswith("#")
    digits = text.removeprefix("#")
    by_number = None if forced_id else Person.objects.filter(prison_number=text).first()
    by_id = Person.objects.filter(pk=int(digits)).first() if digits.isdigit() else None
    if by_number is not None and by_id is not None and by_number != by_id:
        raise CommandError(
            f"{text!r} is both a prison number and another person's id: write #{digits} "
            "for the id, or the full prison number."
        )
    person = by_number or by_id
    if person is None:
        raise CommandError(f"No person with prison number or id {text!r}.")
    return person


def describe(person: Person) -> str:
    return f"{person.prison_number} (#{person.pk}) {person.full_name}, born {person.date_of_birth}"


def _errors(error: ValidationError) -> str:
    return " ".join(
        f"{field}: {message}"
        for field, messages in error.message_dict.items()
        for message in messages
    )


class Command(BaseCommand):
    help = "Merge duplicate person records, or list likely duplicates."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        merge = actions.add_parser(
            "merge", help="Move everything of DUPLICATE onto KEEP and leave a tombstone."
        )
        merge.add_argument("keep", help="prison number or id of the record to keep")
        merge.add_argument("duplicate", help="prison number or id of the duplicate")
        merge.add_argument("--reason", required=True, help="why they are the same person")
        merge.add_argument(
            "--actor", default="", help="administrator recorded as the one who merged"
        )
        merge.add_argument(
            "--dry-run", action="store_true", help="show what would move and change nothing"
        )
        duplicates = actions.add_parser(
            "duplicates", help="List pairs of records that are likely the same person."
        )
        duplicates.add_argument("--limit", type=int, default=50)
        duplicates.add_argument(
            "--threshold",
            type=float,
            default=0.9,
            help="lowest name and birth-date similarity to list (0-1)",
        )

    def handle(self, *args, action, **options):
        if action == "duplicates":
            self._duplicates(options["limit"], options["threshold"])
            return
        actor = None
        if options["actor"]:
            actor = User.objects.filter(username=options["actor"]).first()
            if actor is None:
                raise CommandError(f"No staff user named {options['actor']!r}.")
        keep = find_person(options["keep"])
        duplicate = find_person(options["duplicate"])
        try:
            result = person_merge(
                actor=actor,
                keep=keep,
                duplicate=duplicate,
                reason=options["reason"],
                dry_run=options["dry_run"],
            )
        except PermissionError as error:
            raise CommandError(str(error)) from None
        except ValidationError as error:
            raise CommandError(_errors(error)) from None
        self._report(result, keep, duplicate)

    def _report(self, result: MergeResult, keep: Person, duplicate: Person) -> None:
        write = self.stdout.write
        if result.dry_run:
            write("Dry run: nothing was changed. A merge now would do this:")
        else:
            write(f"Merged {duplicate.prison_number} into {keep.prison_number}.")
        write(f"  keep:      {describe(keep)}")
        write(f"  duplicate: {describe(duplicate)}")
        write(f"Rows moved ({result.total_moved}):")
        for label, count in sorted(result.moved.items()):
            write(f"  {label:<45} {count:>6}")
        if result.resolved:
            write("Clashes settled:")
            for entry in result.resolved:
                details = ", ".join(
                    f"{key} {value[0]} -> {value[1]}"
                    for key, value in entry.items()
                    if isinstance(value, list)
                )
                write(f"  {entry['table']} #{entry['id']}: {details}")
        if result.filled:
            write("Filled on the kept record from the duplicate:")
            for name, value in result.filled.items():
                write(f"  {name}: {value}")
        if result.differences:
            write("Different on the two records (the kept value stays):")
            for name, (mine, theirs) in result.differences.items():
                write(f"  {name}: kept {mine!r}, duplicate {theirs!r}")
        for warning in result.warnings:
            if warning["warning"] == "overlapping_episodes":
                write(
                    f"Warning: custody episodes #{warning['keep_episode']} (kept) and "
                    f"#{warning['duplicate_episode']} (duplicate) overlap in time; check them."
                )

    def _duplicates(self, limit: int, threshold: float) -> None:
        from whatworks.records.merge import likely_duplicates

        pairs = likely_duplicates(threshold=threshold)
        if not pairs:
            self.stdout.write("No likely duplicates.")
            return
        for pair in pairs[:limit]:
            self.stdout.write(
                f"{pair.score:.2f}  {pair.why:<12} keep? {describe(pair.first)}\n"
                f"{'':18}dup?  {describe(pair.second)}"
            )
        if len(pairs) > limit:
            self.stdout.write(f"... and {len(pairs) - limit} more (use --limit).")

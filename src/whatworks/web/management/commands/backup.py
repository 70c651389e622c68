"""``whatworks backup --out FILE``: the whole database in one file (see whatworks.web.backup)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from whatworks.web.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Write a backup of the whole database (every table but sessions) to one zip file. "
        "It holds personal data: keep it encrypted and access-restricted."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="the backup file to write")

    def handle(self, *args, **options):
        try:
            summary = backup_create(out=options["out"])
        except BackupError as error:
            raise CommandError(str(error), returncode=1) from None
        except OSError as error:
            raise CommandError(f"Cannot write {options['out']}: {error}", returncode=1) from None
        self.stdout.write(
            f"Backup written to {summary.path}: {len(summary.tables)} tables, "
            f"{summary.rows} rows, database {summary.manifest['database_vendor']}."
        )

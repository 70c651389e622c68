"""``whatworks restore FILE [--force]``: load a backup (see whatworks.web.backup)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from whatworks.web.backup import BackupError, backup_restore, verify


class Command(BaseCommand):
    help = (
        "Restore a What Works backup into this database, all or nothing. Refuses a damaged "
        "file, a file from another schema version and a database that holds data (unless "
        "--force, which replaces everything)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the backup file")
        parser.add_argument(
            "--force",
            action="store_true",
            help="wipe the database's current data and replace it with the backup",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="only verify the file (format, checksums, migrations); change nothing",
        )

    def handle(self, *args, **options):
        try:
            if options["check"]:
                manifest = verify(options["file"])
                rows = sum(table["rows"] for table in manifest["tables"])
                self.stdout.write(
                    f"Backup {options['file']} is intact: {len(manifest['tables'])} tables, "
                    f"{rows} rows, made {manifest['created_at']}."
                )
                return
            summary = backup_restore(path=options["file"], force=options["force"])
        except BackupError as error:
            raise CommandError(str(error), returncode=1) from None
        self.stdout.write(
            f"Restored {summary.rows} rows in {len(summary.tables)} tables from {summary.path} "
            f"(made {summary.manifest['created_at']})."
        )

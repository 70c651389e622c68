"""Whole-database backup and restore (`whatworks backup` / `whatworks restore`).

A backup is one zip file:

- ``manifest.json``: format name and version, app and Django versions, creation time,
  database vendor, the applied migrations per app (the latest ones: the leaves of the
  migration graph) and, per table, its model, row count and the SHA-256 of its member.
- ``tables/<app_label>.<model_name>.jsonl``: one JSON object per row, ordered by primary
  key: ``{"pk": ..., "fields": {...}}`` with every local concrete column, foreign keys as
  raw ids. Values are Django's serialization values (``Field.value_to_string`` for
  everything but numbers, dates and None), so BinaryField is base64 and JSONField is the
  JSON value itself; datetimes keep their microseconds (Django's own JSON encoder drops
  them).

Rows keep their primary keys, content types and permissions included, so a restore is
identical to the source: generic relations, audit hash chain and URLs stay valid. Sessions
are left out (login state, short-lived, and restoring them would sign people back in), and so
are the per-address failed-sign-in counts (minutes long; a restore must not block anyone).
Authenticator (TOTP) secrets are in the file: a backup is as secret as the database.

Restore checks the whole file before it writes anything, then wipes and loads every table
inside one transaction, resets PostgreSQL sequences and records an audit event.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import django
from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.color import no_style
from django.core.serializers import base as serializer_base
from django.core.serializers.json import DjangoJSONEncoder
from django.core.serializers.python import Deserializer as PythonDeserializer
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, models, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django.utils.encoding import is_protected_type

from whatworks.audit.models import AuditChainHead
from whatworks.audit.services import audit_record

FORMAT = "whatworks-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
TABLE_DIR = "tables/"
# Left out of backups: login sessions and failed-sign-in counts (see the module docstring).
EXCLUDED_MODELS = frozenset({"sessions.session", "accounts.loginfailure"})
# Created by `migrate` itself, so a freshly migrated database holds them; a restore
# replaces them with the backup's rows (same ids).
MIGRATE_CREATED_MODELS = (ContentType, Permission, AuditChainHead)
ACTION_BACKUP = "backup.create"
ACTION_RESTORE = "backup.restore"
ACTOR_LABEL = "command"
SNAPSHOT_ATTEMPTS = 3


class BackupError(Exception):
    """A backup cannot be made or restored; the message says why and what to do."""


@dataclass
class TableSummary:
    model: str
    table: str
    member: str
    rows: int
    sha256: str


@dataclass
class BackupSummary:
    path: Path
    manifest: dict[str, Any]
    tables: list[TableSummary] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)


class _Encoder(DjangoJSONEncoder):
    """DjangoJSONEncoder, but datetimes and times keep their microseconds."""

    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


# --- which tables -----------------------------------------------------------------------


def backed_up_models() -> list[type[models.Model]]:
    """Every concrete, managed model of every installed app (m2m tables included), except
    the excluded ones; sorted by label so manifests compare."""
    chosen = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed
        and not model._meta.proxy
        and model._meta.label_lower not in EXCLUDED_MODELS
    ]
    return sorted(chosen, key=lambda model: model._meta.label_lower)


def _columns(model: type[models.Model]) -> list[models.Field]:
    return [
        column
        for column in model._meta.local_concrete_fields
        if not getattr(column, "generated", False)
    ]


def _member_name(model: type[models.Model]) -> str:
    return f"{TABLE_DIR}{model._meta.label_lower}.jsonl"


# --- rows <-> lines ---------------------------------------------------------------------


def _value(instance: models.Model, column: models.Field):
    value = column.value_from_object(instance)
    return value if is_protected_type(value) else column.value_to_string(instance)


def table_lines(model: type[models.Model], queryset=None, using: str = DEFAULT_DB_ALIAS):
    """The table's rows as JSON lines (bytes, newline-terminated), ordered by primary key."""
    columns = [column for column in _columns(model) if not column.primary_key]
    rows = queryset if queryset is not None else model._base_manager.using(using).all()
    for instance in rows.order_by("pk").iterator(chunk_size=2000):
        payload = {
            "pk": _value(instance, model._meta.pk),
            "fields": {column.name: _value(instance, column) for column in columns},
        }
        line = json.dumps(payload, cls=_Encoder, sort_keys=True, ensure_ascii=False)
        yield line.encode() + b"\n"


def table_digest(model: type[models.Model], queryset=None, using: str = DEFAULT_DB_ALIAS):
    """(row count, SHA-256 of the table's backup payload): what the manifest records."""
    digest = hashlib.sha256()
    rows = 0
    for line in table_lines(model, queryset, using):
        digest.update(line)
        rows += 1
    return rows, digest.hexdigest()


def _instances(model: type[models.Model], lines: Iterable[bytes], using: str):
    label = model._meta.label_lower

    def objects():
        for number, line in enumerate(lines, start=1):
            try:
                row = json.loads(line)
                yield {"model": label, "pk": row["pk"], "fields": row["fields"]}
            except (ValueError, KeyError, TypeError) as error:
                raise BackupError(f"{label}, row {number}: not a backup row ({error}).") from None

    try:
        for deserialized in PythonDeserializer(objects(), using=using):
            yield deserialized.object
    except serializer_base.DeserializationError as error:
        raise BackupError(f"{label}: a row cannot be read ({error}).") from None


def _insert_rows(model: type[models.Model], instances: Iterator[models.Model], using: str) -> int:
    """Insert rows as they are (raw: no auto_now, no save(), no signals), keeping their ids."""
    columns = _columns(model)
    connection = connections[using]
    batch_size = max(1, min(500, connection.ops.bulk_batch_size(columns, [None] * 500)))
    count = 0
    batch: list[models.Model] = []
    for instance in instances:
        batch.append(instance)
        if len(batch) >= batch_size:
            model._base_manager.using(using)._insert(batch, fields=columns, using=using, raw=True)
            count += len(batch)
            batch = []
    if batch:
        model._base_manager.using(using)._insert(batch, fields=columns, using=using, raw=True)
        count += len(batch)
    return count


# --- migration state --------------------------------------------------------------------


def applied_migrations(using: str = DEFAULT_DB_ALIAS) -> dict[str, list[str]]:
    """Per app, the latest applied migrations (applied ones with no applied successor)."""
    loader = MigrationLoader(connections[using], ignore_no_migrations=True)
    applied = set(loader.applied_migrations or {})
    state: dict[str, list[str]] = {}
    for key in applied:
        node = loader.graph.node_map.get(key)
        if node is None:
            continue
        successors = {child.key for child in node.children if child.key[0] == key[0]}
        if not successors & applied:
            state.setdefault(key[0], []).append(key[1])
    return {app: sorted(names) for app, names in sorted(state.items())}


def code_migrations(using: str = DEFAULT_DB_ALIAS) -> dict[str, list[str]]:
    """Per app, the latest migrations of the code (the leaves of the migration graph)."""
    loader = MigrationLoader(connections[using], ignore_no_migrations=True, load=True)
    state: dict[str, list[str]] = {}
    for app, name in loader.graph.leaf_nodes():
        state.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(state.items())}


def _unapplied(using: str) -> list[str]:
    connection = connections[using]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def migration_differences(saved: dict[str, list[str]], code: dict[str, list[str]]) -> list[str]:
    """One sentence per app whose migration state differs between a backup and the code."""
    problems = []
    for app in sorted(set(saved) | set(code)):
        in_file, in_code = saved.get(app), code.get(app)
        if in_file == in_code:
            continue
        problems.append(
            f"app '{app}': the backup is at {', '.join(in_file) if in_file else 'no migration'}, "
            f"this code is at {', '.join(in_code) if in_code else 'no migration'}"
        )
    return problems


# --- backup -----------------------------------------------------------------------------


def _app_version() -> str:
    try:
        return metadata.version("whatworks")
    except metadata.PackageNotFoundError:
        return "unknown"


def backup_create(*, out: Path | str, using: str = DEFAULT_DB_ALIAS) -> BackupSummary:
    """Write a backup of the whole database to ``out`` (replaced atomically when done).

    Reads everything inside one transaction (REPEATABLE READ on PostgreSQL) so the file is
    one consistent snapshot; the backup's own audit event is in it. On PostgreSQL, a
    snapshot that collides with a concurrent audit event is retried.
    """
    out = Path(out)
    if out.is_dir():
        raise BackupError(f"{out} is a folder; give a file name, e.g. {out / 'whatworks.zip'}.")
    if not out.parent.exists():
        raise BackupError(f"The folder {out.parent} does not exist.")
    handle, temporary = tempfile.mkstemp(prefix=".whatworks-backup-", dir=out.parent)
    os.close(handle)
    try:
        for attempt in range(1, SNAPSHOT_ATTEMPTS + 1):
            try:
                summary = _write_snapshot(Path(temporary), out, using)
                break
            except OperationalError as error:
                serialization_failure = getattr(error.__cause__, "sqlstate", None) == "40001"
                if not serialization_failure or attempt == SNAPSHOT_ATTEMPTS:
                    raise
        os.replace(temporary, out)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return summary


def _write_snapshot(temporary: Path, out: Path, using: str) -> BackupSummary:
    connection = connections[using]
    # Only the outermost transaction can choose its isolation level.
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=using):
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        created_at = timezone.now()
        audit_record(
            actor=None,
            actor_label=ACTOR_LABEL,
            action=ACTION_BACKUP,
            target=None,
            object_type="backup",
            object_id=created_at.isoformat(),
            after={"file": out.name},
        )
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "app_version": _app_version(),
            "django_version": django.get_version(),
            "created_at": created_at.isoformat(),
            "database_vendor": connection.vendor,
            "migrations": applied_migrations(using),
            "excluded": sorted(EXCLUDED_MODELS),
            "tables": [],
        }
        summary = BackupSummary(path=out, manifest=manifest)
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for model in backed_up_models():
                member = _member_name(model)
                digest = hashlib.sha256()
                rows = 0
                with archive.open(member, "w", force_zip64=True) as stream:
                    for line in table_lines(model, using=using):
                        stream.write(line)
                        digest.update(line)
                        rows += 1
                table = TableSummary(
                    model=model._meta.label_lower,
                    table=model._meta.db_table,
                    member=member,
                    rows=rows,
                    sha256=digest.hexdigest(),
                )
                summary.tables.append(table)
                manifest["tables"].append(table.__dict__)
            archive.writestr(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
    return summary


# --- reading and verifying a file -------------------------------------------------------


def _open(path: Path) -> zipfile.ZipFile:
    if not path.is_file():
        raise BackupError(f"{path} does not exist or is not a file.")
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise BackupError(f"{path} is not a What Works backup (not a zip file).") from None


def read_manifest(archive: zipfile.ZipFile, path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except KeyError:
        raise BackupError(f"{path} is not a What Works backup (no {MANIFEST}).") from None
    except (ValueError, zipfile.BadZipFile):
        raise BackupError(f"{path} is not a What Works backup ({MANIFEST} unreadable).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a What Works backup (wrong format in {MANIFEST}).")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{path} is backup format version {manifest.get('format_version')}; this version "
            f"of What Works reads version {FORMAT_VERSION}."
        )
    tables = manifest.get("tables")
    well_formed = (
        isinstance(tables, list)
        and isinstance(manifest.get("migrations"), dict)
        and all(
            isinstance(table, dict)
            and {"model", "member", "rows", "sha256"} <= set(table)
            and str(table["member"]).startswith(TABLE_DIR)
            for table in tables
        )
    )
    if not well_formed:
        raise BackupError(f"{path} is not a What Works backup (incomplete {MANIFEST}).")
    return manifest


def _lines(archive: zipfile.ZipFile, member: str) -> Iterator[bytes]:
    with archive.open(member) as stream:
        yield from stream


def verify(path: Path | str, using: str = DEFAULT_DB_ALIAS) -> dict[str, Any]:
    """Check a backup file against this code without touching the database: format,
    checksums and row counts of every table, the set of tables and the migration state.
    Returns the manifest; raises BackupError naming the first problem."""
    path = Path(path)
    with _open(path) as archive:
        manifest = read_manifest(archive, path)
        problems = migration_differences(manifest["migrations"], code_migrations(using))
        if problems:
            raise BackupError(
                "The backup was made with a different database schema than this code's: "
                + "; ".join(problems)
                + ". Restore it with the What Works version that made it "
                f"({manifest.get('app_version', 'unknown')}), then upgrade."
            )
        expected = {model._meta.label_lower for model in backed_up_models()}
        listed = {table.get("model") for table in manifest["tables"]}
        if listed != expected:
            missing = sorted(expected - listed)
            unknown = sorted(str(label) for label in listed - expected)
            raise BackupError(
                f"{path}: the backup's tables do not match this code's (missing: "
                f"{', '.join(missing) or 'none'}; unknown: {', '.join(unknown) or 'none'})."
            )
        names = set(archive.namelist())
        for table in manifest["tables"]:
            member = table.get("member")
            if member not in names:
                raise BackupError(f"{path}: {member} is missing from the file.")
            digest = hashlib.sha256()
            rows = 0
            try:
                for line in _lines(archive, member):
                    digest.update(line)
                    rows += 1
            except (zipfile.BadZipFile, OSError, EOFError) as error:
                raise BackupError(f"{path}: {member} is damaged ({error}).") from None
            if digest.hexdigest() != table.get("sha256") or rows != table.get("rows"):
                raise BackupError(
                    f"{path}: checksum failed for table {table['model']} "
                    f"({rows} rows read, {table.get('rows')} expected). The file is damaged "
                    "or was altered; use another copy."
                )
    return manifest


# --- restore ----------------------------------------------------------------------------


def tables_with_data(using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Tables holding rows, not counting what `migrate` creates itself; sessions count."""
    holding = []
    for model in [*backed_up_models(), apps.get_model("sessions", "Session")]:
        if model in MIGRATE_CREATED_MODELS:
            continue
        if model._base_manager.using(using).exists():
            holding.append(model._meta.db_table)
    return holding


def _wipe(using: str) -> None:
    connection = connections[using]
    tables = [model._meta.db_table for model in backed_up_models()]
    tables.append(apps.get_model("sessions", "Session")._meta.db_table)
    statements = connection.ops.sql_flush(
        no_style(), tables, reset_sequences=False, allow_cascade=True
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # TRUNCATE refuses tables with pending deferred foreign-key checks (rows changed
            # earlier in the same transaction): run those checks now, defer again after.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement in statements:
            cursor.execute(statement)
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _reset_sequences(using: str) -> None:
    connection = connections[using]
    statements = connection.ops.sequence_reset_sql(no_style(), backed_up_models())
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def backup_restore(
    *, path: Path | str, force: bool = False, using: str = DEFAULT_DB_ALIAS
) -> BackupSummary:
    """Restore a backup into the database: all or nothing.

    Verifies the whole file first. Runs `migrate` on a database without tables. Refuses a
    database that holds data unless ``force``, which wipes it in the same transaction as the
    load. Resets PostgreSQL sequences and records an audit event.
    """
    path = Path(path)
    manifest = verify(path, using)
    connection = connections[using]
    if not connection.introspection.table_names():
        call_command("migrate", database=using, interactive=False, verbosity=0)
    unapplied = _unapplied(using)
    if unapplied:
        raise BackupError(
            "The database is not fully migrated (first pending: "
            f"{unapplied[0]}); run `whatworks migrate` first."
        )
    summary = BackupSummary(path=path, manifest=manifest)
    models_by_label = {model._meta.label_lower: model for model in backed_up_models()}
    with transaction.atomic(using=using), _open(path) as archive:
        holding = tables_with_data(using)
        if holding and not force:
            raise BackupError(
                "The database already holds data ("
                + ", ".join(holding[:5])
                + (", ..." if len(holding) > 5 else "")
                + "). Restore into an empty database, or pass --force to replace "
                "everything in it with the backup."
            )
        _wipe(using)
        for table in manifest["tables"]:
            model = models_by_label[table["model"]]
            rows = _insert_rows(
                model, _instances(model, _lines(archive, table["member"]), using), using
            )
            summary.tables.append(
                TableSummary(
                    model=table["model"],
                    table=model._meta.db_table,
                    member=table["member"],
                    rows=rows,
                    sha256=table["sha256"],
                )
            )
        _reset_sequences(using)
        ContentType.objects.clear_cache()
        audit_record(
            actor=None,
            actor_label=ACTOR_LABEL,
            action=ACTION_RESTORE,
            target=None,
            object_type="backup",
            object_id=str(manifest.get("created_at", ""))[:64],
            after={"file": path.name, "rows": summary.rows, "forced": bool(force and holding)},
        )
    return summary

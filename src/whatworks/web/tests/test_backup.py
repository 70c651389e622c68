"""`whatworks backup` / `whatworks restore`: every table round-trips; bad files and
non-empty databases are refused; a failed restore changes nothing."""

from __future__ import annotations

import datetime
import json
import time
import zipfile
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from whatworks.audit.chain import verify_chain
from whatworks.audit.models import AuditChainHead, AuditEvent
from whatworks.records.models import Facility, Person
from whatworks.web import backup

EXTRACT_DATE = datetime.date(2026, 6, 30)


def digests() -> dict[str, tuple[int, str]]:
    """Row count and payload digest of every backed-up table, the restore's audit event and
    the chain head it moves left out (the chain is checked separately)."""
    result = {}
    for model in backup.backed_up_models():
        label = model._meta.label_lower
        if model is AuditChainHead:
            continue
        queryset = None
        if model is AuditEvent:
            queryset = AuditEvent.objects.exclude(action=backup.ACTION_RESTORE)
        result[label] = backup.table_digest(model, queryset)
    return result


def _extra_rows():
    """Rows the demo does not make (written directly: only their storage matters here): a
    group with permissions, an evaluation run with a binary PDF, a risk-model run, an API
    token, a community provider, an outcome import and a queued task."""
    from django.contrib.auth.models import Group, Permission
    from django_tasks_db.models import DBTaskResult

    from whatworks.accounts.models import ApiToken, User
    from whatworks.community.models import CommunityProvider
    from whatworks.evaluation.models import EvaluationRun
    from whatworks.outcomes.models import OutcomeImport
    from whatworks.riskmodels.models import RiskModelRun
    from whatworks.treatment.models import Programme

    group = Group.objects.create(name="auditors")
    permission = Permission.objects.order_by("pk").first()
    group.permissions.add(permission)
    user = User.objects.order_by("pk").first()
    user.groups.add(group)
    user.user_permissions.add(permission)
    ApiToken.objects.create(user=user, name="export", prefix="ab12", digest="f" * 64)
    programmes = list(Programme.objects.order_by("pk")[:2])
    programmes[1].prerequisites.add(programmes[0])
    EvaluationRun.objects.create(
        programme=programmes[0],
        parameters={"estimand": "att", "note": "niño ü"},
        followup_end_date=EXTRACT_DATE,
        created_by=user,
        report_pdf=b"%PDF-1.7\x00\xff" + bytes(range(256)),
    )
    RiskModelRun.objects.create(
        kind="fit",
        parameters={"alpha": 0.1 + 0.2, "big": 2**53 + 1},
        followup_end_date=EXTRACT_DATE,
        created_by=user,
    )
    CommunityProvider.objects.create(name="Fundación Sur", kind="ngo")
    OutcomeImport.objects.create(
        file_name="reconvictions.csv",
        sha256="0" * 64,
        link_threshold=0.9,
        review_threshold=1 / 3,
    )
    DBTaskResult.objects.create(
        task_path="whatworks.example.task",
        args_kwargs={"args": [1, "ü"], "kwargs": {"x": 1.5}},
        queue_name="default",
        backend_name="default",
        priority=0,
        run_after=datetime.datetime(2026, 6, 30, 12, 0, 0, 123456, tzinfo=datetime.UTC),
    )


# Committed for real (as in production): backup, flush and restore each run in their own
# transaction, and deferred foreign keys are checked at each commit.
@pytest.mark.django_db(transaction=True)
def test_every_table_round_trips_through_backup_flush_and_restore(settings, tmp_path):
    from whatworks.demo.services import demo_create

    settings.DEMO_MODE = True
    settings.DATA_DIR = tmp_path
    started = time.monotonic()
    demo_create(persons=200, seed=3, extract_date=EXTRACT_DATE)
    _extra_rows()
    loaded = time.monotonic()

    out = tmp_path / "whatworks-backup.zip"
    call_command("backup", "--out", str(out))
    before = digests()
    manifest = json.loads(zipfile.ZipFile(out).read(backup.MANIFEST))

    # Every installed model's table is in the file, except sessions and failed-sign-in
    # counts; new tables too.
    every_table = {
        model._meta.label_lower
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }
    assert {t["model"] for t in manifest["tables"]} == every_table - {
        "sessions.session",
        "accounts.loginfailure",
    }
    assert manifest["database_vendor"] in {"sqlite", "postgresql"}
    assert manifest["migrations"]["records"]
    assert AuditEvent.objects.filter(action=backup.ACTION_BACKUP).count() == 1

    call_command("flush", interactive=False, verbosity=0)
    assert not Person.objects.exists()
    call_command("restore", str(out))
    after = digests()
    restored = time.monotonic()

    assert after == before
    empty = sorted(label for label, (rows, _digest) in after.items() if rows == 0)
    total = sum(rows for rows, _digest in after.values())
    print(f"\n{total} rows in {len(after)} tables round-tripped; empty: {empty}")
    print(f"load {loaded - started:.1f}s, backup+restore {restored - loaded:.1f}s")
    assert total > 5000
    assert {
        "records.person",
        "treatment.attendance",
        "drugtests.drugtest",
        "evaluation.evaluationrun",
        "django_tasks_database.dbtaskresult",
    }.isdisjoint(empty)
    # Binary, JSON and microsecond values come back exactly.
    from django_tasks_db.models import DBTaskResult

    from whatworks.evaluation.models import EvaluationRun
    from whatworks.riskmodels.models import RiskModelRun

    assert bytes(EvaluationRun.objects.get().report_pdf).endswith(bytes(range(256)))
    assert RiskModelRun.objects.get().parameters == {"alpha": 0.1 + 0.2, "big": 2**53 + 1}
    assert DBTaskResult.objects.get().run_after.microsecond == 123456
    assert AuditEvent.objects.filter(action=backup.ACTION_RESTORE).count() == 1
    assert verify_chain().ok
    # New rows get fresh ids (PostgreSQL sequences were reset).
    top = Facility.objects.order_by("-pk").first().pk
    assert _facility("NEW-1").pk > top


def _facility(code: str) -> Facility:
    return Facility.objects.create(
        code=code,
        name="Created after the backup",
        region="Metropolitana",
        facility_type="closed",
        security_level="high",
        capacity=10,
        population_sex="male",
    )


# --- refusals ---------------------------------------------------------------------------


@pytest.fixture
def small_backup(alice, person_in_a, tmp_path) -> Path:
    out = tmp_path / "small.zip"
    call_command("backup", "--out", str(out))
    return out


def _rewrite(source: Path, target: Path, change) -> Path:
    """Copy a backup, passing each member's (name, bytes) through change."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            new.writestr(name, change(name, old.read(name)))
    return target


def _refused(path: Path, *args) -> str:
    with pytest.raises(CommandError) as raised:
        call_command("restore", str(path), *args)
    assert raised.value.returncode == 1
    return str(raised.value)


@pytest.mark.django_db
def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path, small_backup):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert "not a What Works backup" in _refused(text)
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("readme.txt", "hi")
    assert "not a What Works backup" in _refused(other_zip)
    assert "does not exist" in _refused(tmp_path / "missing.zip")


@pytest.mark.django_db
def test_restore_refuses_a_damaged_table(tmp_path, small_backup):
    def alter(name, data):
        return data.replace(b"CL-A-01", b"CL-A-99") if name.endswith("facility.jsonl") else data

    damaged = _rewrite(small_backup, tmp_path / "damaged.zip", alter)
    message = _refused(damaged, "--force")
    assert "checksum failed for table records.facility" in message
    assert Facility.objects.filter(code="CL-A-01").exists()


@pytest.mark.django_db
def test_restore_refuses_another_migration_state_and_names_the_app(tmp_path, small_backup):
    def older(name, data):
        if name != backup.MANIFEST:
            return data
        manifest = json.loads(data)
        manifest["migrations"]["records"] = ["0001_initial"]
        return json.dumps(manifest)

    message = _refused(_rewrite(small_backup, tmp_path / "older.zip", older), "--force")
    assert "app 'records'" in message and "0001_initial" in message


@pytest.mark.django_db
def test_restore_refuses_a_database_with_data_unless_forced(small_backup):
    _facility("LATER")
    message = _refused(small_backup)
    assert "already holds data" in message and "--force" in message
    assert Facility.objects.filter(code="LATER").exists()

    call_command("restore", str(small_backup), "--force")
    assert not Facility.objects.filter(code="LATER").exists()
    assert Facility.objects.filter(code="CL-A-01").exists()
    assert verify_chain().ok


@pytest.mark.django_db
def test_a_failing_forced_restore_leaves_the_database_as_it_was(small_backup, monkeypatch):
    _facility("LATER")
    before = digests()
    real_insert = backup._insert_rows
    calls = []

    def insert_then_fail(model, instances, using):
        calls.append(model)
        if len(calls) == 20:
            raise RuntimeError("disk full")
        return real_insert(model, instances, using)

    monkeypatch.setattr(backup, "_insert_rows", insert_then_fail)
    with pytest.raises(RuntimeError):
        call_command("restore", str(small_backup), "--force")
    assert digests() == before
    assert Facility.objects.filter(code="LATER").exists()


@pytest.mark.django_db
def test_check_verifies_a_backup_without_touching_the_database(small_backup, capsys):
    _facility("LATER")
    call_command("restore", str(small_backup), "--check")
    assert "is intact" in capsys.readouterr().out
    assert Facility.objects.filter(code="LATER").exists()

"""Writes for evaluation runs: create (and enqueue), repeat, and the task's state changes.

Runs are created by people (audited with the actor) and advanced by the background task
(audited as "evaluation task" when they finish). Progress updates are not audited: they are
a display of work in hand, not a change anyone decided.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import logging
import math
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from whatworks.audit.services import audit_record
from whatworks.evaluation.access import can_run_evaluations
from whatworks.evaluation.models import EvaluationRun, RunStatus
from whatworks.treatment.models import Programme

logger = logging.getLogger(__name__)

TASK_ACTOR_LABEL = "evaluation task"
ANALYTICS_DIR = Path(__file__).resolve().parent.parent / "analytics"
# The analytics packages whose source decides an evaluation's figures.
HASHED_PACKAGES = ("evaluation", "recidivism")


@functools.cache
def code_version() -> str:
    """The package version and a SHA-256 prefix of the evaluation and recidivism source."""
    digest = hashlib.sha256()
    for package in HASHED_PACKAGES:
        for path in sorted((ANALYTICS_DIR / package).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".yaml", ".json"):
                digest.update(str(path.relative_to(ANALYTICS_DIR)).encode())
                digest.update(path.read_bytes())
    try:
        version = importlib.metadata.version("whatworks")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return f"{version}+{digest.hexdigest()[:16]}"


def json_safe(value: Any) -> Any:
    """Plain JSON: NaN and infinities become null, NumPy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _enqueue(run_id: int) -> None:
    from whatworks.evaluation.tasks import evaluation_run_execute

    result = evaluation_run_execute.enqueue(run_id)
    EvaluationRun.objects.filter(pk=run_id).update(task_id=str(result.id)[:64])


@transaction.atomic
def evaluation_run_create(
    *, actor, programme: Programme, parameters: dict[str, Any], language: str = "en"
) -> EvaluationRun:
    """Record a run and enqueue its task once the transaction commits."""
    if not can_run_evaluations(actor):
        raise ValidationError(_("Your role cannot run evaluations."))
    run = EvaluationRun(
        programme=programme,
        parameters=parameters,
        followup_end_date=timezone.localdate(),
        created_by=actor,
        status=RunStatus.QUEUED,
        progress=0,
        progress_message=_("Waiting for the worker."),
        code_version=code_version(),
        language=language,
    )
    run.full_clean()
    run.save()
    audit_record(
        actor=actor,
        action="evaluation.run.create",
        target=run,
        after={"programme_id": programme.pk, "parameters": parameters},
    )
    transaction.on_commit(lambda: _enqueue(run.pk))
    return run


def evaluation_run_repeat(*, actor, run: EvaluationRun) -> EvaluationRun:
    """A new run with the same programme and parameters."""
    return evaluation_run_create(
        actor=actor, programme=run.programme, parameters=run.parameters, language=run.language
    )


def run_progress(*, run: EvaluationRun, progress: int, message: str) -> None:
    run.progress = progress
    run.progress_message = message
    run.save(update_fields=["progress", "progress_message"])


@transaction.atomic
def run_start(*, run: EvaluationRun) -> None:
    run.status = RunStatus.RUNNING
    run.started_at = timezone.now()
    run.progress = 5
    run.progress_message = _("Started.")
    run.code_version = code_version()
    run.save(update_fields=["status", "started_at", "progress", "progress_message", "code_version"])


@transaction.atomic
def run_succeed(
    *,
    run: EvaluationRun,
    result: dict[str, Any],
    report_html: str,
    report_document: str,
    report_pdf: bytes,
) -> None:
    run.status = RunStatus.SUCCEEDED
    run.result = json_safe(result)
    run.report_html = report_html
    run.report_document = report_document
    run.report_pdf = report_pdf
    run.progress = 100
    run.progress_message = _("Finished.")
    run.finished_at = timezone.now()
    run.error = ""
    run.save(
        update_fields=[
            "status",
            "result",
            "report_html",
            "report_document",
            "report_pdf",
            "progress",
            "progress_message",
            "finished_at",
            "error",
        ]
    )
    audit_record(
        actor=None,
        actor_label=TASK_ACTOR_LABEL,
        action="evaluation.run.succeed",
        target=run,
        after={"input_sha256": run.input_sha256, "rows": run.rows},
    )


@transaction.atomic
def run_fail(*, run: EvaluationRun, error: str) -> None:
    run.status = RunStatus.FAILED
    run.error = error
    run.progress_message = _("Failed.")
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "progress_message", "finished_at"])
    audit_record(
        actor=None,
        actor_label=TASK_ACTOR_LABEL,
        action="evaluation.run.fail",
        target=run,
        after={"error": error},
    )

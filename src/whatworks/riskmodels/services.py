"""Writes for risk-instrument runs: create (and enqueue), the task's state changes, and the
publication workflow (request by an analyst, approval or rejection by an administrator).

Every change is audited in its transaction. Approval registers the fitted score as an
instrument version through the Assessment module's own service, so it is stored, versioned
and scored exactly like the built-in instruments.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from whatworks.assessments.services import instrument_version_register
from whatworks.audit.services import audit_record
from whatworks.evaluation.services import json_safe
from whatworks.riskmodels import access
from whatworks.riskmodels.models import PublicationStatus, RiskModelRun, RunKind, RunStatus
from whatworks.service_helpers import require

TASK_ACTOR_LABEL = "risk instrument task"
ANALYTICS_DIR = Path(__file__).resolve().parent.parent / "analytics"
HASHED_PACKAGES = ("riskmodel", "recidivism", "instruments")


@functools.cache
def code_version() -> str:
    """The package version and a SHA-256 prefix of the code that decides a run's figures."""
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


def _enqueue(run_id: int) -> None:
    from whatworks.riskmodels.tasks import riskmodel_run_execute

    riskmodel_run_execute.enqueue(run_id)


@transaction.atomic
def riskmodel_run_create(*, actor, kind: str, parameters: dict[str, Any]) -> RiskModelRun:
    """Record a run and enqueue its task once the transaction commits."""
    require(access.can_use_riskmodels(actor), _("Your role cannot validate or fit instruments."))
    if kind not in RunKind.values:
        raise ValidationError({"kind": [_("Choose validate or fit.")]})
    run = RiskModelRun.objects.create(
        kind=kind,
        parameters=parameters,
        followup_end_date=timezone.localdate(),
        created_by=actor,
        code_version=code_version(),
    )
    audit_record(
        actor=actor,
        action="riskmodel.run.create",
        target=run,
        after={"kind": kind, "parameters": parameters},
    )
    transaction.on_commit(lambda: _enqueue(run.pk))
    return run


@transaction.atomic
def run_start(*, run: RiskModelRun) -> None:
    run.status = RunStatus.RUNNING
    run.started_at = timezone.now()
    run.save(update_fields=["status", "started_at"])


@transaction.atomic
def run_succeed(
    *,
    run: RiskModelRun,
    cohort: dict[str, Any],
    input_sha256: str,
    rows: int,
    result: dict[str, Any],
    instrument_definition: dict[str, Any] | None = None,
    model_card: str = "",
) -> None:
    run.status = RunStatus.SUCCEEDED
    run.cohort = json_safe(cohort)
    run.input_sha256 = input_sha256
    run.rows = rows
    run.result = json_safe(result)
    run.instrument_definition = json_safe(instrument_definition)
    run.model_card = model_card
    run.finished_at = timezone.now()
    run.error = ""
    run.save()
    audit_record(
        actor=None,
        actor_label=TASK_ACTOR_LABEL,
        action="riskmodel.run.succeed",
        target=run,
        after={"input_sha256": input_sha256, "rows": rows},
    )


@transaction.atomic
def run_fail(*, run: RiskModelRun, error: str, cohort: dict[str, Any] | None = None) -> None:
    run.status = RunStatus.FAILED
    run.error = error
    run.cohort = json_safe(cohort or {})
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "cohort", "finished_at"])
    audit_record(
        actor=None,
        actor_label=TASK_ACTOR_LABEL,
        action="riskmodel.run.fail",
        target=run,
        after={"error": error[:500]},
    )


def _locked(run: RiskModelRun) -> RiskModelRun:
    return RiskModelRun.objects.select_for_update().get(pk=run.pk)


@transaction.atomic
def publication_request(*, actor, run: RiskModelRun) -> RiskModelRun:
    """An analyst asks for a fitted score to be published as an instrument version."""
    require(access.can_use_riskmodels(actor), _("Your role cannot publish instruments."))
    run = _locked(run)
    if run.kind != RunKind.FIT or run.status != RunStatus.SUCCEEDED:
        raise ValidationError({"__all__": [_("Only a finished fit can be published.")]})
    if run.publication in (PublicationStatus.REQUESTED, PublicationStatus.APPROVED):
        raise ValidationError({"__all__": [_("Publication is already requested or done.")]})
    run.publication = PublicationStatus.REQUESTED
    run.publication_requested_by = actor
    run.publication_decided_by = None
    run.publication_decided_at = None
    run.publication_note = ""
    run.save()
    audit_record(
        actor=actor,
        action="riskmodel.publication.request",
        target=run,
        after={"publication": run.publication},
    )
    return run


@transaction.atomic
def publication_decide(*, actor, run: RiskModelRun, approve: bool, note: str = "") -> RiskModelRun:
    """An administrator approves (registering the instrument version) or rejects."""
    require(
        access.can_approve_publication(actor),
        _("Only administrators approve the publication of an instrument."),
    )
    run = _locked(run)
    if run.publication != PublicationStatus.REQUESTED:
        raise ValidationError({"__all__": [_("No publication is awaiting a decision.")]})
    note = note.strip()
    if not approve and not note:
        raise ValidationError({"note": [_("Say why the publication is rejected.")]})
    if approve:
        run.published_version = instrument_version_register(
            actor=actor, definition=run.instrument_definition
        )
        run.publication = PublicationStatus.APPROVED
    else:
        run.publication = PublicationStatus.REJECTED
    run.publication_decided_by = actor
    run.publication_decided_at = timezone.now()
    run.publication_note = note
    run.save()
    audit_record(
        actor=actor,
        action="riskmodel.publication.decide",
        target=run,
        after={
            "publication": run.publication,
            "note": note,
            "instrument_version": run.published_version_id,
        },
    )
    return run

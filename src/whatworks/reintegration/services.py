"""Writes for release preparation: starting it, pathways, tasks, arrangements, handovers.

Each service is atomic, checks the actor's role and scope, validates (field -> messages),
writes, and records an audit event in the same transaction. Nothing is deleted: tasks and
arrangements are cancelled, and a handover keeps the summary exactly as it was handed over.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from whatworks.accounts.models import User
from whatworks.audit.services import audit_record, snapshot
from whatworks.concurrency import check_new, claim
from whatworks.records.access import persons_visible_to
from whatworks.records.choices import Pathway
from whatworks.records.models import CustodyEpisode
from whatworks.reintegration import access
from whatworks.reintegration.catalogue import support_needs
from whatworks.reintegration.models import (
    ARRANGEMENT_TYPES,
    Arrangement,
    ArrangementKind,
    ArrangementStatus,
    Handover,
    HandoverRecipient,
    PathwayAssessment,
    PathwayStatus,
    PathwayTask,
    PreparationStatus,
    ReleasePreparation,
    TaskStatus,
)
from whatworks.service_helpers import actor_or_none, add_error, raise_if_any, require, today
from whatworks.service_helpers import date_not_future as _date_not_future
from whatworks.service_helpers import require_person_in_scope as _require_person_in_scope

PATHWAY_FIELDS = ["status", "needs", "notes"]
TASK_FIELDS = ["pathway", "description", "owner_id", "due_date", "status", "completed_on"]
ARRANGEMENT_FIELDS = [
    "kind",
    "detail_type",
    "status",
    "description",
    "provider_id",
    "provider_name",
    "applied_on",
    "expected_on",
    "confirmed_on",
    "starts_on",
    "notes",
]


def preparation_window_opens(episode: CustodyEpisode) -> datetime.date | None:
    """The day preparation opens for an episode: the configured weeks before its expected
    release date (``WHATWORKS_RELEASE_PREPARATION_WEEKS``, default 12)."""
    if episode.expected_release_date is None:
        return None
    return episode.expected_release_date - datetime.timedelta(
        weeks=settings.RELEASE_PREPARATION_WEEKS
    )


def _create_preparation(*, actor, episode: CustodyEpisode, on: datetime.date, actor_label=""):
    preparation = ReleasePreparation.objects.create(
        person_id=episode.person_id,
        episode=episode,
        started_on=on,
        started_by=actor_or_none(actor),
    )
    PathwayAssessment.objects.bulk_create(
        PathwayAssessment(preparation=preparation, pathway=pathway) for pathway in Pathway.values
    )
    audit_record(
        actor=actor,
        action="release_preparation.start",
        target=preparation,
        person=episode.person,
        after={"episode_id": episode.pk, "started_on": on},
        actor_label=actor_label,
    )
    return preparation


@transaction.atomic
def preparation_start(*, actor, episode: CustodyEpisode) -> ReleasePreparation:
    """Open the release preparation of an episode, with its seven pathways not started.

    Starting again returns the existing preparation. Staff may start it earlier than the
    window (an early parole hearing, a remand prisoner expecting release)."""
    require(access.can_prepare(actor), _("Only case managers and managers prepare releases."))
    _require_person_in_scope(actor, episode.person)
    existing = ReleasePreparation.objects.filter(episode=episode).first()
    if existing is not None:
        return existing
    return _create_preparation(actor=actor, episode=episode, on=today())


def preparation_for_update(*, actor, episode: CustodyEpisode) -> ReleasePreparation:
    """The episode's preparation, opened on first use (inside the caller's transaction).

    Two staff saving the first change at once: the second insert hits the unique episode,
    rolls back to its savepoint and uses the preparation the first one opened."""
    existing = ReleasePreparation.objects.select_for_update().filter(episode=episode).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _create_preparation(actor=actor, episode=episode, on=today())
    except IntegrityError:
        return ReleasePreparation.objects.select_for_update().get(episode=episode)


@transaction.atomic
def preparations_start_due(
    *, actor=None, on: datetime.date | None = None, actor_label: str = ""
) -> list[ReleasePreparation]:
    """Open the preparation of every person in custody whose expected release falls within
    the window; run daily (``whatworks reintegration start-due``) and by the demo.
    Idempotent: episodes already prepared are left alone."""
    on = on or today()
    horizon = on + datetime.timedelta(weeks=settings.RELEASE_PREPARATION_WEEKS)
    episodes = (
        CustodyEpisode.objects.filter(
            release_date__isnull=True,
            expected_release_date__isnull=False,
            expected_release_date__lte=horizon,
            release_preparation__isnull=True,
        )
        .select_related("person")
        .order_by("expected_release_date", "id")
    )
    return [
        _create_preparation(actor=actor, episode=episode, on=on, actor_label=actor_label)
        for episode in episodes
    ]


def _check_preparation_scope(actor, preparation: ReleasePreparation) -> None:
    _require_person_in_scope(actor, preparation.person)


@transaction.atomic
def pathway_update(
    *,
    actor,
    preparation: ReleasePreparation,
    pathway: str,
    data: dict[str, Any],
    expected_version: int | None = None,
) -> PathwayAssessment:
    """Set a pathway's status, support needs (codes from the catalogue) and notes.

    ``expected_version``: the pathway's ``lock_version`` the editor loaded, 0 when there was
    no record yet; a pathway changed (or created) since raises ``StaleEdit`` and nothing is
    written. None: no check."""
    if pathway not in Pathway.values:
        raise PathwayAssessment.DoesNotExist
    require(access.can_edit_pathway(actor, pathway), _("Your role cannot change this pathway."))
    _check_preparation_scope(actor, preparation)
    assessment, created = PathwayAssessment.objects.select_for_update().get_or_create(
        preparation=preparation, pathway=pathway
    )
    if not created:  # a new record starts at version 1; an existing one moves on
        check_new(expected_version, assessment)
        claim(assessment, expected_version)
    before = snapshot(assessment, PATHWAY_FIELDS)
    errors: dict[str, list[str]] = {}
    status = data.get("status", assessment.status)
    if status not in PathwayStatus.values:
        add_error(errors, "status", _("Choose a status from the list."))
    needs = [str(code) for code in (data.get("needs", assessment.needs) or [])]
    catalogue = support_needs()
    offered = {need.code for need in catalogue.for_pathway(pathway)}
    for code in needs:
        # A retired need already on the record stays; it is no longer offered for new choices.
        if code not in offered and code not in assessment.needs:
            add_error(
                errors, "needs", _("“%(code)s” is not a need of this pathway.") % {"code": code}
            )
    if len(set(needs)) != len(needs):
        add_error(errors, "needs", _("A need is chosen twice."))
    if status == PathwayStatus.SUPPORT_REQUIRED and not needs:
        add_error(errors, "needs", _("Choose the support the person needs."))
    if status in (PathwayStatus.NOT_REQUIRED,) and needs:
        add_error(errors, "status", _("A pathway with support needs cannot be “not required”."))
    raise_if_any(errors)
    assessment.status = status
    assessment.needs = needs
    assessment.notes = str(data.get("notes", assessment.notes) or "")
    assessment.updated_by = actor_or_none(actor)
    assessment.save()
    audit_record(
        actor=actor,
        action="release_pathway.update",
        target=assessment,
        person=preparation.person,
        before=before,
        after=snapshot(assessment, PATHWAY_FIELDS),
    )
    return assessment


def _owner_errors(errors, owner: User | None, preparation: ReleasePreparation) -> None:
    if owner is None:
        add_error(errors, "owner", _("Choose who owns the task."))
        return
    if (
        not owner.is_active
        or not persons_visible_to(owner).filter(pk=preparation.person_id).exists()
    ):
        add_error(errors, "owner", _("The owner must be active staff who can see this person."))


@transaction.atomic
def task_create(*, actor, preparation: ReleasePreparation, data: dict[str, Any]) -> PathwayTask:
    pathway = data.get("pathway")
    require(
        access.can_edit_pathway(actor, pathway or ""), _("Your role cannot change this pathway.")
    )
    _check_preparation_scope(actor, preparation)
    errors: dict[str, list[str]] = {}
    if pathway not in Pathway.values:
        add_error(errors, "pathway", _("Choose a pathway."))
    description = str(data.get("description") or "").strip()
    if not description:
        add_error(errors, "description", _("Describe the task."))
    owner = data.get("owner")
    _owner_errors(errors, owner, preparation)
    due_date = data.get("due_date")
    if due_date is None:
        add_error(errors, "due_date", _("Give a due date."))
    elif due_date < preparation.started_on:
        add_error(errors, "due_date", _("The due date is before the preparation started."))
    raise_if_any(errors)
    task = PathwayTask.objects.create(
        preparation=preparation,
        pathway=pathway,
        description=description,
        owner=owner,
        due_date=due_date,
        created_by=actor_or_none(actor),
    )
    audit_record(
        actor=actor,
        action="release_task.create",
        target=task,
        person=preparation.person,
        after=snapshot(task, TASK_FIELDS),
    )
    return task


@transaction.atomic
def task_set_status(
    *, actor, task: PathwayTask, status: str, completed_on: datetime.date | None = None
) -> PathwayTask:
    """Close a task as done (on a date) or cancelled, or reopen it."""
    task = (
        PathwayTask.objects.select_for_update()
        .select_related("preparation__person")
        .get(pk=task.pk)
    )
    require(access.can_edit_pathway(actor, task.pathway), _("Your role cannot change this task."))
    _check_preparation_scope(actor, task.preparation)
    before = snapshot(task, TASK_FIELDS)
    errors: dict[str, list[str]] = {}
    if status not in TaskStatus.values:
        add_error(errors, "status", _("Choose a status from the list."))
    if status == TaskStatus.DONE:
        completed_on = completed_on or today()
        _date_not_future(errors, "completed_on", completed_on)
    else:
        completed_on = None
    raise_if_any(errors)
    task.status = status
    task.completed_on = completed_on
    task.save(update_fields=["status", "completed_on"])
    audit_record(
        actor=actor,
        action="release_task.status",
        target=task,
        person=task.preparation.person,
        before=before,
        after=snapshot(task, TASK_FIELDS),
    )
    return task


def _arrangement_errors(arrangement: Arrangement) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if arrangement.kind not in ArrangementKind.values:
        add_error(errors, "kind", _("Choose an arrangement from the list."))
        return errors
    if arrangement.status not in ArrangementStatus.values:
        add_error(errors, "status", _("Choose a status from the list."))
    vocabulary = ARRANGEMENT_TYPES.get(arrangement.kind)
    if vocabulary is not None:
        if not arrangement.detail_type:
            add_error(errors, "detail_type", _("Choose the type."))
        elif arrangement.detail_type not in vocabulary.values:
            add_error(errors, "detail_type", _("Choose a type from the list."))
    if arrangement.status == ArrangementStatus.CONFIRMED and arrangement.confirmed_on is None:
        arrangement.confirmed_on = today()
    if arrangement.status != ArrangementStatus.CONFIRMED:
        arrangement.confirmed_on = None
    if arrangement.status == ArrangementStatus.APPLIED and arrangement.applied_on is None:
        add_error(errors, "applied_on", _("Give the date of the application."))
    _date_not_future(errors, "applied_on", arrangement.applied_on)
    _date_not_future(errors, "confirmed_on", arrangement.confirmed_on)
    if (
        arrangement.applied_on
        and arrangement.confirmed_on
        and arrangement.confirmed_on < arrangement.applied_on
    ):
        add_error(errors, "confirmed_on", _("Confirmed before it was applied for."))
    if (
        arrangement.applied_on
        and arrangement.expected_on
        and arrangement.expected_on < arrangement.applied_on
    ):
        add_error(errors, "expected_on", _("Expected before it was applied for."))
    if arrangement.kind in (
        ArrangementKind.JOB_OFFER,
        ArrangementKind.TRAINING_OFFER,
        ArrangementKind.BENEFIT,
        ArrangementKind.HEALTH_APPOINTMENT,
        ArrangementKind.MEDICATION,
    ) and not (arrangement.description or arrangement.provider_name or arrangement.provider_id):
        add_error(errors, "description", _("Say what was arranged, or with whom."))
    return errors


def _provider_errors(errors, arrangement: Arrangement, provider) -> None:
    """A directory provider must be active and serve the arrangement's pathway."""
    if provider is None or arrangement.kind not in ArrangementKind.values:
        return  # an unknown kind is reported by _arrangement_errors
    if not provider.active:
        add_error(errors, "provider", _("This provider is no longer active."))
    elif arrangement.pathway not in provider.pathways:
        add_error(errors, "provider", _("This provider does not serve this pathway."))


def _apply(arrangement: Arrangement, data: dict[str, Any]) -> None:
    if "provider" in data:
        arrangement.provider = data["provider"]
    for field in ARRANGEMENT_FIELDS:
        if field == "provider_id":
            continue
        if field in data:
            value = data[field]
            if isinstance(value, str):
                value = value.strip()
            elif value is None and not field.endswith("_on"):
                value = ""  # text fields store blank, dates store null
            setattr(arrangement, field, value)


@transaction.atomic
def arrangement_create(
    *, actor, preparation: ReleasePreparation, data: dict[str, Any]
) -> Arrangement:
    kind = data.get("kind") or ""
    require(access.can_edit_arrangement(actor, kind), _("Your role cannot make this arrangement."))
    _check_preparation_scope(actor, preparation)
    arrangement = Arrangement(preparation=preparation, created_by=actor_or_none(actor))
    _apply(arrangement, data)
    errors = _arrangement_errors(arrangement)
    _provider_errors(errors, arrangement, data.get("provider"))
    raise_if_any(errors)
    arrangement.save()
    audit_record(
        actor=actor,
        action="release_arrangement.create",
        target=arrangement,
        person=preparation.person,
        after=snapshot(arrangement, ARRANGEMENT_FIELDS),
    )
    return arrangement


@transaction.atomic
def arrangement_update(
    *, actor, arrangement: Arrangement, data: dict[str, Any], expected_version: int | None = None
) -> Arrangement:
    """Change an arrangement; ``expected_version`` as in ``pathway_update``."""
    arrangement = (
        Arrangement.objects.select_for_update()
        .select_related("preparation__person")
        .get(pk=arrangement.pk)
    )
    require(
        access.can_edit_arrangement(actor, arrangement.kind),
        _("Your role cannot change this arrangement."),
    )
    _check_preparation_scope(actor, arrangement.preparation)
    claim(arrangement, expected_version)
    before = snapshot(arrangement, ARRANGEMENT_FIELDS)
    data = {key: value for key, value in data.items() if key != "kind"}  # the kind is fixed
    _apply(arrangement, data)
    errors = _arrangement_errors(arrangement)
    # A provider kept from before stays valid even if it has since left the directory.
    provider = data.get("provider")
    if provider is not None and provider.pk != before["provider_id"]:
        _provider_errors(errors, arrangement, provider)
    raise_if_any(errors)
    arrangement.save()
    audit_record(
        actor=actor,
        action="release_arrangement.update",
        target=arrangement,
        person=arrangement.preparation.person,
        before=before,
        after=snapshot(arrangement, ARRANGEMENT_FIELDS),
    )
    return arrangement


@transaction.atomic
def handover_record(
    *,
    actor,
    preparation: ReleasePreparation,
    recipient: str,
    handed_over_on: datetime.date,
    summary: dict[str, Any],
    language: str,
    recipient_name: str = "",
    notes: str = "",
) -> Handover:
    """Record that the release summary was handed over, keeping the summary as handed over
    (``selectors.release_summary`` builds it in the recipient's language)."""
    require(access.can_hand_over(actor), _("Only case managers and managers hand over."))
    _check_preparation_scope(actor, preparation)
    errors: dict[str, list[str]] = {}
    if recipient not in HandoverRecipient.values:
        add_error(errors, "recipient", _("Choose who receives the summary."))
    if handed_over_on is None:
        add_error(errors, "handed_over_on", _("Give the date of the handover."))
    else:
        _date_not_future(errors, "handed_over_on", handed_over_on)
    if language not in {code for code, _name in settings.LANGUAGES}:
        add_error(errors, "language", _("Choose a language from the list."))
    raise_if_any(errors)
    handover = Handover.objects.create(
        preparation=preparation,
        recipient=recipient,
        recipient_name=recipient_name.strip(),
        language=language,
        handed_over_on=handed_over_on,
        summary=summary,
        notes=notes.strip(),
        created_by=actor_or_none(actor),
    )
    before = {"status": preparation.status}
    if preparation.status != PreparationStatus.HANDED_OVER:
        preparation.status = PreparationStatus.HANDED_OVER
        preparation.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="release_handover.record",
        target=handover,
        person=preparation.person,
        before=before,
        after={
            "status": preparation.status,
            "recipient": recipient,
            "language": language,
            "handed_over_on": handed_over_on,
        },
    )
    return handover

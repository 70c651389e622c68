"""JSON endpoints for release preparation, scoped exactly like the web pages.

A person outside the caller's scope is a 404, like a missing one; a role that may read but
not change gets 403; service field errors come back as 422.
"""

from __future__ import annotations

import contextlib
import datetime
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from whatworks.community.models import CommunityProvider
from whatworks.concurrency import MAX_VERSION, StaleOut, api_stale_as_409
from whatworks.records.access import access_person_by_id
from whatworks.reintegration import access, selectors, services

router = Router(tags=["reintegration"])


@contextlib.contextmanager
def _not_found():
    try:
        yield
    except ObjectDoesNotExist:
        raise Http404 from None


class PathwayOut(Schema):
    pathway: str
    status: str
    needs: list[str]
    notes: str
    lock_version: int = Field(
        ..., description="0 before the pathway is first saved; send it back with a PUT."
    )


class TaskOut(Schema):
    id: int
    pathway: str
    description: str
    owner: str
    due_date: datetime.date
    status: str
    completed_on: datetime.date | None


class ArrangementOut(Schema):
    id: int
    kind: str
    detail_type: str
    status: str
    description: str
    provider_id: int | None
    provider_name: str
    applied_on: datetime.date | None
    expected_on: datetime.date | None
    confirmed_on: datetime.date | None
    starts_on: datetime.date | None
    lock_version: int


class UnresolvedOut(Schema):
    code: str
    label: str


class PreparationOut(Schema):
    person_id: int
    episode_id: int | None
    expected_release_date: datetime.date | None
    release_date: datetime.date | None
    window_opens: datetime.date | None
    started_on: datetime.date | None
    status: str
    pathways: list[PathwayOut]
    tasks: list[TaskOut]
    arrangements: list[ArrangementOut]
    unresolved: list[UnresolvedOut]


class PathwayIn(Schema):
    status: str
    needs: list[str] = []
    notes: str = ""
    lock_version: int | None = Field(
        None,
        ge=0,
        le=MAX_VERSION,
        description=(
            "The lock_version the client loaded (0: no record yet); if the pathway changed "
            "since, the write is refused with 409 and nothing is saved. Omit it to skip the "
            "check."
        ),
    )


class ArrangementIn(Schema):
    kind: str
    detail_type: str = ""
    status: str = "planned"
    description: str = ""
    provider_id: int | None = None
    provider_name: str = ""
    applied_on: datetime.date | None = None
    expected_on: datetime.date | None = None
    confirmed_on: datetime.date | None = None
    starts_on: datetime.date | None = None
    notes: str = ""


class ReadinessPersonOut(Schema):
    person_id: int
    prison_number: str
    expected_release_date: datetime.date
    unresolved: list[str]


class ReadinessOut(Schema):
    facility: str
    releasing: int
    with_unresolved: int
    no_accommodation: int
    no_id: int
    persons: list[ReadinessPersonOut]


def _preparation_out(request, person) -> dict[str, Any]:
    prepared = selectors.person_preparation(viewer=request.user, person=person)
    episode, preparation = prepared.episode, prepared.preparation
    records = {p.pathway: p for p in preparation.pathways.all()} if preparation else {}
    return {
        "person_id": person.pk,
        "episode_id": episode.pk if episode else None,
        "expected_release_date": episode.expected_release_date if episode else None,
        "release_date": episode.release_date if episode else None,
        "window_opens": prepared.window_opens,
        "started_on": preparation.started_on if preparation else None,
        "status": preparation.status if preparation else "not_started",
        "pathways": [
            {
                "pathway": row.pathway,
                "status": row.status,
                "needs": list(records[row.pathway].needs) if row.pathway in records else [],
                "notes": row.notes,
                "lock_version": records[row.pathway].lock_version if row.pathway in records else 0,
            }
            for row in prepared.pathways
        ],
        "tasks": [
            {
                "id": task.pk,
                "pathway": task.pathway,
                "description": task.description,
                "owner": task.owner.username,
                "due_date": task.due_date,
                "status": task.status,
                "completed_on": task.completed_on,
            }
            for task in prepared.tasks
        ],
        "arrangements": [
            {name: getattr(a, name) for name in ArrangementOut.model_fields}
            for a in prepared.arrangements
        ],
        "unresolved": [{"code": u.code, "label": u.label} for u in prepared.unresolved],
    }


def _person(request, person_id: int):
    if not access.can_view_preparation(request.user):
        raise Http404
    with _not_found():
        return access_person_by_id(request.user, person_id)


def _episode(person):
    episode = selectors.episode_to_prepare(person)
    if episode is None:
        raise Http404
    return episode


@router.get("/persons/{person_id}/release-preparation", response=PreparationOut)
def get_preparation(request, person_id: int):
    """The person's release preparation: pathways, tasks, arrangements, what is unresolved."""
    person = _person(request, person_id)
    with _not_found():
        return _preparation_out(request, person)


@router.put(
    "/persons/{person_id}/release-preparation/pathways/{pathway}",
    response={200: PathwayOut, 409: StaleOut},
)
def put_pathway(request, person_id: int, pathway: str, payload: PathwayIn):
    """Set a pathway's status, support needs (catalogue codes) and notes."""
    person = _person(request, person_id)
    with _not_found(), transaction.atomic():
        if not access.can_edit_pathway(request.user, pathway):
            raise PermissionError
        preparation = services.preparation_for_update(actor=request.user, episode=_episode(person))
        data = payload.dict()
        expected = data.pop("lock_version")
        with api_stale_as_409():
            saved = services.pathway_update(
                actor=request.user,
                preparation=preparation,
                pathway=pathway,
                data=data,
                expected_version=expected,
            )
    return {
        "pathway": saved.pathway,
        "status": saved.status,
        "needs": saved.needs,
        "notes": saved.notes,
        "lock_version": saved.lock_version,
    }


@router.post(
    "/persons/{person_id}/release-preparation/arrangements", response={201: ArrangementOut}
)
def post_arrangement(request, person_id: int, payload: ArrangementIn):
    """Record an arrangement (identity document, bank account, accommodation, job or training
    offer, benefit, health appointment, medication)."""
    person = _person(request, person_id)
    with _not_found(), transaction.atomic():
        if not access.can_edit_arrangement(request.user, payload.kind):
            raise PermissionError
        data = payload.dict()
        provider_id = data.pop("provider_id")
        if provider_id is not None:
            data["provider"] = CommunityProvider.objects.filter(pk=provider_id).first()
            if data["provider"] is None:
                raise ValidationError({"provider_id": [_("Unknown provider.")]})
        preparation = services.preparation_for_update(actor=request.user, episode=_episode(person))
        try:
            arrangement = services.arrangement_create(
                actor=request.user, preparation=preparation, data=data
            )
        except ValidationError as error:
            raise ValidationError(
                {
                    ("provider_id" if field == "provider" else field): messages
                    for field, messages in error.message_dict.items()
                }
            ) from None
    return Status(201, {name: getattr(arrangement, name) for name in ArrangementOut.model_fields})


@router.get("/release-readiness", response=list[ReadinessOut])
def get_readiness(request):
    """Per facility in scope: persons releasing within the window and what is unresolved."""
    if not access.can_view_preparation(request.user):
        raise PermissionError
    return [
        {
            "facility": block.facility.code,
            "releasing": block.releasing,
            "with_unresolved": block.with_unresolved,
            "no_accommodation": block.no_accommodation,
            "no_id": block.no_id,
            "persons": [
                {
                    "person_id": row.person.pk,
                    "prison_number": row.person.prison_number,
                    "expected_release_date": row.episode.expected_release_date,
                    "unresolved": [u.code for u in row.unresolved],
                }
                for row in block.rows
            ],
        }
        for block in selectors.readiness(viewer=request.user)
    ]

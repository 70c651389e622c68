"""JSON endpoints for assessments. Scoped exactly like the web: through assessments.access.

Scores are computed on the server; a client sends answers only. A bad answer gives 422 with
the item id as the field (``loc: ["body", "<item id>"]``).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from whatworks.accounts.models import User
from whatworks.assessments import selectors, services
from whatworks.assessments.access import (
    access_assessment_by_id,
    access_assessment_for_edit,
    can_assess,
    can_view_assessments,
)
from whatworks.assessments.models import Assessment
from whatworks.concurrency import MAX_VERSION, StaleOut, api_stale_as_409
from whatworks.records.access import access_person_by_id
from whatworks.records.models import Person

router = Router(tags=["assessments"])


class AssessmentSummary(Schema):
    id: int
    person_id: int
    instrument: str
    version: str
    validated: bool
    status: str
    assessed_on: datetime.date
    total: float | None
    band: str | None
    override_band: str | None
    effective_band: str | None
    next_due_date: datetime.date | None
    lock_version: int

    @staticmethod
    def resolve_instrument(assessment: Assessment) -> str:
        return assessment.instrument_version.slug

    @staticmethod
    def resolve_version(assessment: Assessment) -> str:
        return assessment.instrument_version.version

    @staticmethod
    def resolve_validated(assessment: Assessment) -> bool:
        return assessment.instrument_version.instrument.validated

    @staticmethod
    def resolve_band(assessment: Assessment) -> str | None:
        return assessment.band or None

    @staticmethod
    def resolve_override_band(assessment: Assessment) -> str | None:
        return assessment.override_band or None


class AssessmentDetail(AssessmentSummary):
    domain_scores: dict[str, Any]
    needs: dict[str, Any]
    override_reason: str
    answers: dict[str, Any] | None = None

    @staticmethod
    def resolve_answers(assessment: Assessment) -> dict[str, Any] | None:
        return getattr(assessment, "visible_answers", None)


class StartIn(Schema):
    instrument: str


class AnswersIn(Schema):
    answers: dict[str, Any]
    lock_version: int | None = Field(
        None,
        ge=0,
        le=MAX_VERSION,
        description=(
            "The lock_version the client loaded; if the assessment changed since, the write "
            "is refused with 409 and nothing is saved. Omit it to skip the check."
        ),
    )


class OverrideIn(Schema):
    band: str = Field(..., description="One of the instrument's band codes.")
    reason: str = Field(..., max_length=2000)
    approver: str = Field(
        ..., description="Username of the approving facility manager or administrator."
    )
    lock_version: int | None = Field(
        None,
        ge=0,
        le=MAX_VERSION,
        description=(
            "The lock_version the client loaded; if the assessment changed since, the write "
            "is refused with 409 and nothing is saved. Omit it to skip the check."
        ),
    )


def _person_or_404(user, person_id: int) -> Person:
    try:
        return access_person_by_id(user, person_id)
    except Person.DoesNotExist:
        raise Http404 from None


def _assessment_or_404(user, assessment_id: int, *, for_edit: bool = False) -> Assessment:
    try:
        if for_edit:
            return access_assessment_for_edit(user, assessment_id)
        return access_assessment_by_id(user, assessment_id)
    except Assessment.DoesNotExist:
        raise Http404 from None


def _detail(user, assessment: Assessment) -> Assessment:
    """The assessment with the answers the user may see (``None`` otherwise); reading the
    answers of a health instrument is audited by the selector."""
    assessment.visible_answers = selectors.assessment_answers(viewer=user, assessment=assessment)
    return assessment


@router.get(
    "/persons/{person_id}/assessments",
    response=list[AssessmentSummary],
    summary="A person's assessments",
)
def list_assessments(request, person_id: int):
    if not can_view_assessments(request.auth):
        raise PermissionError
    person = _person_or_404(request.auth, person_id)
    return list(selectors.assessment_list(viewer=request.auth, person=person))


@router.post(
    "/persons/{person_id}/assessments",
    response={201: AssessmentDetail},
    summary="Start an assessment (a draft)",
)
def start_assessment(request, person_id: int, payload: StartIn):
    if not can_assess(request.auth):
        raise PermissionError
    person = _person_or_404(request.auth, person_id)
    assessment = services.assessment_start(
        actor=request.auth, person=person, instrument_slug=payload.instrument
    )
    return Status(201, _detail(request.auth, _assessment_or_404(request.auth, assessment.pk)))


@router.get("/assessments/{assessment_id}", response=AssessmentDetail, summary="One assessment")
def get_assessment(request, assessment_id: int):
    """Answers are ``null`` unless the caller may see them; reading K6 or AUDIT answers is
    audited."""
    return _detail(request.auth, _assessment_or_404(request.auth, assessment_id))


@router.put(
    "/assessments/{assessment_id}/draft",
    response={200: AssessmentDetail, 409: StaleOut},
    summary="Save draft answers (partial answers allowed)",
)
def save_draft(request, assessment_id: int, payload: AnswersIn):
    assessment = _assessment_or_404(request.auth, assessment_id, for_edit=True)
    with api_stale_as_409():
        services.assessment_save_draft(
            actor=request.auth,
            assessment=assessment,
            answers=payload.answers,
            expected_version=payload.lock_version,
        )
    return _detail(request.auth, _assessment_or_404(request.auth, assessment_id))


@router.post(
    "/assessments/{assessment_id}/complete",
    response={200: AssessmentDetail, 409: StaleOut},
    summary="Complete: score the answers on the server",
)
def complete(request, assessment_id: int, payload: AnswersIn):
    assessment = _assessment_or_404(request.auth, assessment_id, for_edit=True)
    with api_stale_as_409():
        services.assessment_complete(
            actor=request.auth,
            assessment=assessment,
            answers=payload.answers,
            expected_version=payload.lock_version,
        )
    return _detail(request.auth, _assessment_or_404(request.auth, assessment_id))


@router.post(
    "/assessments/{assessment_id}/override",
    response={200: AssessmentDetail, 409: StaleOut},
    summary="Professional override of the band, with its reason and approver",
)
def override(request, assessment_id: int, payload: OverrideIn):
    """The override is stored beside the computed band, never instead of it."""
    assessment = _assessment_or_404(request.auth, assessment_id, for_edit=True)
    approver = User.objects.filter(username=payload.approver, is_active=True).first()
    if approver is None:
        raise ValidationError(
            {"approver": [_("Unknown approver: %(name)s") % {"name": payload.approver}]}
        )
    with api_stale_as_409():
        services.assessment_override(
            actor=request.auth,
            assessment=assessment,
            band=payload.band,
            reason=payload.reason,
            approver=approver,
            expected_version=payload.lock_version,
        )
    return _detail(request.auth, _assessment_or_404(request.auth, assessment_id))

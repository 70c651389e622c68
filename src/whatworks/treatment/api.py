"""JSON endpoints for treatment. Scoped exactly like the web: through treatment.access.

Every plan, referral and session is fetched with a treatment access helper, so an object
outside the caller's scope is a 404, like a missing one. Services validate; their field
errors come back as 422 (``loc: ["body", "<field>"]``), with ``programme``, ``facility``,
``group`` and ``referral`` named after the body's ``*_id`` fields.
"""

from __future__ import annotations

import contextlib
import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from whatworks.concurrency import MAX_VERSION, StaleOut, api_stale_as_409
from whatworks.records.access import access_person_by_id
from whatworks.records.models import Facility
from whatworks.treatment import access, labels, selectors, services
from whatworks.treatment.models import InterventionPlan, Programme, Referral

router = Router(tags=["treatment"])

# Service field -> body field, so that ``loc`` names what the client sent.
_BODY_FIELDS = {
    "programme": "programme_id",
    "facility": "facility_id",
    "group": "group_id",
    "referral": "referral_id",
}


@contextlib.contextmanager
def _as_api_errors():
    """Out of scope or missing -> 404; service field names -> the body's field names."""
    try:
        yield
    except ObjectDoesNotExist:
        raise Http404 from None
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            raise
        raise ValidationError(
            {
                _BODY_FIELDS.get(field, field): messages
                for field, messages in error.message_dict.items()
            }
        ) from None


def _unknown(field: str, value: Any) -> ValidationError:
    return ValidationError({field: [_("Unknown value: %(values)s") % {"values": value}]})


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


# --- schemas -----------------------------------------------------------------------------


class ProgrammeOut(Schema):
    id: int
    code: str
    name: str
    description: str
    programme_type: str
    target_needs: list[str]
    eligibility: dict[str, Any]
    dosage_hours: float
    dosage_sessions: int
    session_hours: float
    group_capacity: int
    setting: str
    facilities: list[str]
    provider: str
    languages: list[str]
    adaptations: list[str]
    evidence_rating: str
    evidence_source: str
    remission_kind: str
    fidelity_percent: float | None
    fidelity_band: str | None
    fidelity_reviewed_on: datetime.date | None


class StepOut(Schema):
    id: int
    description: str
    owner: str
    owner_name: str
    target_date: datetime.date | None
    status: str


class GoalOut(Schema):
    id: int
    need: str
    description: str
    programme_id: int | None
    programme_code: str | None
    planned_hours: float | None
    target_date: datetime.date | None
    status: str
    steps: list[StepOut]


class ReasonOut(Schema):
    code: str
    params: dict[str, Any]
    text: str


class ProposalItemOut(Schema):
    programme_id: int
    programme_name: str
    need: str | None
    hours: float
    priority: int | None = None
    counts_toward_dosage: bool | None = None
    reasons: list[ReasonOut]


class ProposalExcludedOut(Schema):
    programme_id: int
    programme_name: str
    reasons: list[ReasonOut]


class ProposalOut(Schema):
    risk_band: str | None
    target_hours: float | None
    planned_hours: float | None
    items: list[ProposalItemOut]
    excluded: list[ProposalExcludedOut]
    adaptations: list[ReasonOut]
    warnings: list[ReasonOut]


class PlanOut(Schema):
    id: int
    person_id: int
    version: int
    lock_version: int = Field(
        ..., description="Send it back with a write to refuse the write if the plan changed."
    )
    status: str
    risk_band: str
    target_hours: float
    agreement: str
    agreement_notes: str
    next_review_date: datetime.date | None
    approved_at: datetime.datetime | None
    goals: list[GoalOut]


class PlanDetailOut(PlanOut):
    proposal: ProposalOut | None


class ReferralRowOut(Schema):
    id: int
    programme_id: int
    programme_code: str
    programme_name: str
    facility: str | None
    status: str
    status_date: datetime.date
    referral_date: datetime.date
    group_id: int | None
    hours: float
    sessions_present: int
    sessions_recorded: int


class DosageOut(Schema):
    target_hours: float | None
    criminogenic_hours: float
    education_work_hours: float
    other_hours: float
    total_hours: float


class RemissionOut(Schema):
    rules: str
    total_days: int
    study_days: int
    work_remitted_days: int
    bonus_days: int
    revoked_days: int
    expected_release: datetime.date | None
    projected_release: datetime.date | None


class PersonTreatmentOut(Schema):
    person_id: int
    approved_plan: PlanOut | None
    draft_plan_id: int | None
    referrals: list[ReferralRowOut]
    dosage: DosageOut
    remission: RemissionOut | None = Field(
        None, description="Earned remission; null when the caller may not see it or none applies."
    )


class StatusChangeOut(Schema):
    from_status: str
    to_status: str
    date: datetime.date
    days_in_previous: int
    reason: str


class ReferralOut(ReferralRowOut):
    person_id: int
    lock_version: int = Field(
        ..., description="Send it back with a transition to refuse it if the referral changed."
    )
    waitlisted_on: datetime.date | None
    allocated_on: datetime.date | None
    started_on: datetime.date | None
    ended_on: datetime.date | None
    end_reason: str
    override_reason: str
    history: list[StatusChangeOut]


class ApproveIn(Schema):
    agreement: str = Field(..., description="agreed, partly_agreed or did_not_agree.")
    agreement_notes: str = ""
    lock_version: int | None = Field(
        None,
        ge=0,
        le=MAX_VERSION,
        description=(
            "The lock_version the client loaded; if the record changed since, the write is "
            "refused with 409 and nothing is saved. Omit it to skip the check."
        ),
    )


class ReferralIn(Schema):
    programme_id: int
    facility_id: int | None = None
    override_reason: str = Field("", max_length=2000)
    referral_date: datetime.date | None = None


class TransitionIn(Schema):
    to_status: str
    effective_date: datetime.date | None = None
    reason: str = Field("", max_length=2000)
    end_reason: str = ""
    group_id: int | None = Field(None, description="Required to allocate.")
    override_reason: str = Field("", max_length=2000)
    lock_version: int | None = Field(
        None,
        ge=0,
        le=MAX_VERSION,
        description=(
            "The lock_version the client loaded; if the record changed since, the write is "
            "refused with 409 and nothing is saved. Omit it to skip the check."
        ),
    )


class AttendanceIn(Schema):
    referral_id: int
    status: str = Field(..., description="attended, late, excused or unexcused.")
    excuse_reason: str = ""
    hours: Decimal | None = None
    note: str = Field("", max_length=2000)


class AttendanceOut(Schema):
    id: int
    session_id: int
    referral_id: int
    status: str
    excuse_reason: str
    hours: float
    note: str
    referral_status: str


# --- building the payloads ---------------------------------------------------------------


def _programme(programme: Programme) -> dict[str, Any]:
    review = selectors.latest_fidelity(programme)
    return {
        **{
            field: getattr(programme, field)
            for field in (
                "id",
                "code",
                "name",
                "description",
                "programme_type",
                "target_needs",
                "dosage_hours",
                "dosage_sessions",
                "session_hours",
                "group_capacity",
                "setting",
                "provider",
                "languages",
                "adaptations",
                "evidence_rating",
                "evidence_source",
                "remission_kind",
            )
        },
        "eligibility": {
            "sexes": programme.eligible_sexes,
            "min_age": programme.min_age,
            "max_age": programme.max_age,
            "risk_bands": programme.eligible_risk_bands,
            "min_literacy": programme.min_literacy or None,
            "min_education": programme.min_education or None,
            "max_education": programme.max_education or None,
            "prerequisites": [other.code for other in programme.prerequisites.all()],
        },
        "facilities": [facility.code for facility in programme.facilities.all()],
        "fidelity_percent": review.percent if review else None,
        "fidelity_band": review.band if review else None,
        "fidelity_reviewed_on": review.reviewed_on if review else None,
    }


def _plan(plan: InterventionPlan) -> dict[str, Any]:
    goals = [
        {
            "id": goal.pk,
            "need": goal.need,
            "description": goal.description,
            "programme_id": goal.programme_id,
            "programme_code": goal.programme.code if goal.programme else None,
            "planned_hours": _number(goal.planned_hours),
            "target_date": goal.target_date,
            "status": goal.status,
            "steps": list(goal.steps.all()),
        }
        for goal in selectors.plan_goals(plan)
    ]
    return {
        "id": plan.pk,
        "person_id": plan.person_id,
        "version": plan.version,
        "lock_version": plan.lock_version,
        "status": plan.status,
        "risk_band": plan.risk_band,
        "target_hours": plan.target_hours,
        "agreement": plan.agreement,
        "agreement_notes": plan.agreement_notes,
        "next_review_date": plan.next_review_date,
        "approved_at": plan.approved_at,
        "goals": goals,
    }


def _reasons(reasons, names: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "code": reason["code"],
            "params": reason["params"],
            "text": labels.reason_text(reason, names),
        }
        for reason in reasons
    ]


def _proposal(proposal: dict[str, Any]) -> dict[str, Any] | None:
    """The stored proposal with each reason also as a sentence in the request's language."""
    if not proposal:
        return None
    ids = [item["programme_id"] for item in proposal.get("items", [])]
    ids += [option["programme_id"] for option in proposal.get("excluded", [])]
    names = {
        str(pk): name for pk, name in Programme.objects.filter(pk__in=ids).values_list("pk", "name")
    }
    return {
        "risk_band": proposal.get("risk_band"),
        "target_hours": proposal.get("target_hours"),
        "planned_hours": proposal.get("planned_hours"),
        "items": [
            {
                **item,
                "programme_name": names.get(str(item["programme_id"]), ""),
                "reasons": _reasons(item.get("reasons", []), names),
            }
            for item in proposal.get("items", [])
        ],
        "excluded": [
            {
                "programme_id": option["programme_id"],
                "programme_name": names.get(str(option["programme_id"]), ""),
                "reasons": _reasons(option.get("reasons", []), names),
            }
            for option in proposal.get("excluded", [])
        ],
        "adaptations": _reasons(proposal.get("adaptations", []), names),
        "warnings": _reasons(proposal.get("warnings", []), names),
    }


def _plan_detail(plan: InterventionPlan) -> dict[str, Any]:
    return {**_plan(plan), "proposal": _proposal(plan.proposal)}


def _referral_row(row: selectors.ReferralRow) -> dict[str, Any]:
    referral = row.referral
    return {
        "id": referral.pk,
        "programme_id": referral.programme_id,
        "programme_code": referral.programme.code,
        "programme_name": referral.programme.name,
        "facility": referral.facility.code if referral.facility else None,
        "status": referral.status,
        "status_date": referral.status_date,
        "referral_date": referral.referral_date,
        "group_id": referral.group_id,
        "hours": row.hours,
        "sessions_present": row.sessions_present,
        "sessions_recorded": row.sessions_recorded,
    }


def _referral_detail(user, referral_id: int) -> dict[str, Any]:
    with _as_api_errors():
        referral = access.access_referral_by_id(user, referral_id)
    (row,) = selectors.referral_rows(access.referrals_visible_to(user).filter(pk=referral.pk))
    history = [
        {
            "from_status": change.from_status,
            "to_status": change.to_status,
            "date": change.effective_date,
            "days_in_previous": change.days_in_previous,
            "reason": change.reason,
        }
        for change in referral.changes.order_by("effective_date", "id")
    ]
    return {
        **_referral_row(row),
        "person_id": referral.person_id,
        "lock_version": referral.lock_version,
        "waitlisted_on": referral.waitlisted_on,
        "allocated_on": referral.allocated_on,
        "started_on": referral.started_on,
        "ended_on": referral.ended_on,
        "end_reason": referral.end_reason,
        "override_reason": referral.override_reason,
        "history": history,
    }


def _remission(summary: selectors.RemissionSummary | None) -> dict[str, Any] | None:
    if summary is None:
        return None
    result = summary.result
    return {
        "rules": summary.rules_name,
        "total_days": result.total_days,
        "study_days": result.study_days,
        "work_remitted_days": result.work_remitted_days,
        "bonus_days": result.bonus_days,
        "revoked_days": result.revoked_days,
        "expected_release": summary.expected_release,
        "projected_release": summary.projected_release,
    }


# --- endpoints ---------------------------------------------------------------------------


@router.get("/programmes", response=list[ProgrammeOut], summary="The programme catalogue")
def list_programmes(request):
    """Active programmes with their eligibility, dosage, evidence and latest fidelity."""
    if not access.can_view_catalogue(request.auth):
        raise PermissionError
    programmes = selectors.catalogue(viewer=request.auth).prefetch_related("prerequisites")
    return [_programme(programme) for programme in programmes]


@router.get(
    "/persons/{person_id}/treatment",
    response=PersonTreatmentOut,
    summary="A person's plan, referrals, dosage and remission",
)
def person_treatment(request, person_id: int):
    with _as_api_errors():
        person = access_person_by_id(request.auth, person_id)
        treatment = selectors.person_treatment(viewer=request.auth, person=person)
    dosage = treatment.dosage
    return {
        "person_id": person.pk,
        "approved_plan": _plan(treatment.approved_plan) if treatment.approved_plan else None,
        "draft_plan_id": treatment.draft_plan.pk if treatment.draft_plan else None,
        "referrals": [_referral_row(row) for row in treatment.referrals],
        "dosage": {
            "target_hours": _number(dosage.target_hours),
            "criminogenic_hours": dosage.criminogenic_hours,
            "education_work_hours": dosage.education_work_hours,
            "other_hours": dosage.other_hours,
            "total_hours": dosage.total_hours,
        },
        "remission": _remission(treatment.remission),
    }


@router.post(
    "/persons/{person_id}/plans",
    response={201: PlanDetailOut},
    summary="Propose a draft plan (risk, need and responsivity), explained",
)
def propose_plan(request, person_id: int):
    """A new draft plan from the RNR proposal; every proposed or left-out programme comes
    with its reasons as codes, parameters and a sentence in the request's language."""
    if not access.can_plan(request.auth):
        raise PermissionError
    with _as_api_errors():
        person = access_person_by_id(request.auth, person_id)
        plan = services.plan_propose(actor=request.auth, person=person)
        plan = access.access_plan_by_id(request.auth, plan.pk)
    return Status(201, _plan_detail(plan))


@router.get("/plans/{plan_id}", response=PlanDetailOut, summary="One plan, with its lock_version")
def get_plan(request, plan_id: int):
    """Any version of a person's plan the caller may see; ``lock_version`` goes back with a
    write to refuse it if the plan changed meanwhile (docs/concurrency.md)."""
    with _as_api_errors():
        return _plan_detail(access.access_plan_by_id(request.auth, plan_id))


@router.post(
    "/plans/{plan_id}/approve",
    response={200: PlanDetailOut, 409: StaleOut},
    summary="Approve a draft plan with the person's agreement",
)
def approve_plan(request, plan_id: int, payload: ApproveIn):
    with _as_api_errors():
        plan = access.access_plan_for_edit(request.auth, plan_id)
        with api_stale_as_409():
            services.plan_approve(
                actor=request.auth,
                plan=plan,
                agreement=payload.agreement,
                agreement_notes=payload.agreement_notes,
                expected_version=payload.lock_version,
            )
        plan = access.access_plan_by_id(request.auth, plan_id)
    return _plan_detail(plan)


@router.post(
    "/persons/{person_id}/referrals",
    response={201: ReferralOut},
    summary="Refer a person to a programme",
)
def create_referral(request, person_id: int, payload: ReferralIn):
    """Against the approved plan or the programme's eligibility rules a referral needs an
    ``override_reason``."""
    if not access.can_refer(request.auth):
        raise PermissionError
    with _as_api_errors():
        person = access_person_by_id(request.auth, person_id)
    programme = (
        selectors.catalogue(viewer=request.auth, include_inactive=True)
        .filter(pk=payload.programme_id)
        .first()
    )
    if programme is None:
        raise _unknown("programme_id", payload.programme_id)
    facility = None
    if payload.facility_id is not None:
        facility = Facility.objects.filter(pk=payload.facility_id).first()
        if facility is None:
            raise _unknown("facility_id", payload.facility_id)
    with _as_api_errors():
        referral = services.referral_create(
            actor=request.auth,
            person=person,
            programme=programme,
            facility=facility,
            override_reason=payload.override_reason,
            referral_date=payload.referral_date,
        )
    return Status(201, _referral_detail(request.auth, referral.pk))


@router.get("/referrals/{referral_id}", response=ReferralOut, summary="One referral, with history")
def get_referral(request, referral_id: int):
    return _referral_detail(request.auth, referral_id)


@router.post(
    "/referrals/{referral_id}/transitions",
    response={200: ReferralOut, 409: StaleOut},
    summary="Move a referral along its life cycle",
)
def transition_referral(request, referral_id: int, payload: TransitionIn):
    """Allowed moves: ``services.REFERRAL_TRANSITIONS``. Allocation needs ``group_id``;
    not completed needs ``end_reason``; not suitable, not eligible and suitable but not
    ready need a ``reason``. Any other move is 422 on ``to_status``."""
    with _as_api_errors():
        referral = access.access_referral_by_id(request.auth, referral_id)
    group = None
    if payload.group_id is not None:
        try:
            group = access.access_group_by_id(request.auth, payload.group_id)
        except ObjectDoesNotExist:
            raise _unknown("group_id", payload.group_id) from None
    with _as_api_errors(), api_stale_as_409():
        services.referral_transition(
            actor=request.auth,
            referral=referral,
            to_status=payload.to_status,
            reason=payload.reason,
            effective_date=payload.effective_date,
            end_reason=payload.end_reason,
            group=group,
            override_reason=payload.override_reason,
            expected_version=payload.lock_version,
        )
    return _referral_detail(request.auth, referral_id)


@router.post(
    "/sessions/{session_id}/attendance",
    response={201: AttendanceOut},
    summary="Record one person's attendance at a session that has taken place",
)
def record_attendance(request, session_id: int, payload: AttendanceIn):
    with _as_api_errors():
        session = access.access_session_for_delivery(request.auth, session_id)
    try:
        referral = access.access_referral_by_id(request.auth, payload.referral_id)
    except Referral.DoesNotExist:
        raise _unknown("referral_id", payload.referral_id) from None
    with _as_api_errors():
        attendance = services.attendance_record(
            actor=request.auth,
            session=session,
            referral=referral,
            status=payload.status,
            excuse_reason=payload.excuse_reason,
            hours=payload.hours,
            note=payload.note,
        )
    referral.refresh_from_db(fields=["status"])
    return Status(
        201,
        {
            "id": attendance.pk,
            "session_id": session.pk,
            "referral_id": referral.pk,
            "status": attendance.status,
            "excuse_reason": attendance.excuse_reason,
            "hours": attendance.hours,
            "note": attendance.note,
            "referral_status": referral.status,
        },
    )

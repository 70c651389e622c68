"""Writes to treatment. Each service checks the actor's role and scope, validates, writes and
audits in one transaction. Problems are raised as ``ValidationError`` with a dict of
field -> messages, so forms and the API show them next to the field; a missing or
out-of-scope row raises ``DoesNotExist``; a role that may not act raises ``PermissionError``.
"""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from whatworks.analytics.treatment import (
    ADAPTATIONS,
    EDUCATION_LEVELS,
    LITERACY_LEVELS,
    NEED_DOMAINS,
    RISK_BANDS,
    STATIC_DOMAINS,
    FidelityAnswerError,
    load_checklist,
    propose_plan,
    score_checklist,
)
from whatworks.audit.services import audit_record, snapshot
from whatworks.concurrency import claim
from whatworks.records.access import facilities_in_scope
from whatworks.records.choices import Sex
from whatworks.records.models import Facility, Person
from whatworks.service_helpers import (
    actor_or_none as _actor_or_none,
)
from whatworks.service_helpers import (
    add_error as _add,
)
from whatworks.service_helpers import (
    date_not_future as _date_not_future,
)
from whatworks.service_helpers import (
    raise_if_any as _raise,
)
from whatworks.service_helpers import (
    require as _require,
)
from whatworks.service_helpers import (
    require_person_in_scope as _require_person_in_scope,
)
from whatworks.service_helpers import (
    today as _today,
)
from whatworks.treatment import access, rules
from whatworks.treatment.models import (
    Agreement,
    Attendance,
    AttendanceStatus,
    DisciplinaryFault,
    EndReason,
    ExcuseReason,
    FidelityReview,
    GoalStatus,
    GroupSession,
    GroupStatus,
    InterventionPlan,
    PlanGoal,
    PlanReview,
    PlanStatus,
    PlanStep,
    Programme,
    ProgrammeGroup,
    ProgrammeSetting,
    Referral,
    ReferralStatus,
    ReferralStatusChange,
    StepOwner,
    StepStatus,
)

S = ReferralStatus

# The referral life cycle (docs/treatment.md). Terminal statuses have no way out.
REFERRAL_TRANSITIONS: dict[str, frozenset[str]] = {
    S.REFERRED: frozenset(
        {
            S.ASSESSED_SUITABLE,
            S.SUITABLE_NOT_READY,
            S.NOT_SUITABLE,
            S.NOT_ELIGIBLE,
            S.NOT_COMPLETED,
        }
    ),
    S.SUITABLE_NOT_READY: frozenset({S.ASSESSED_SUITABLE, S.NOT_SUITABLE, S.NOT_COMPLETED}),
    S.ASSESSED_SUITABLE: frozenset({S.WAITLISTED, S.NOT_COMPLETED}),
    S.WAITLISTED: frozenset({S.ALLOCATED, S.NOT_COMPLETED}),
    S.ALLOCATED: frozenset({S.IN_PROGRESS, S.WAITLISTED, S.NOT_COMPLETED}),
    S.IN_PROGRESS: frozenset({S.COMPLETED, S.NOT_COMPLETED}),
    S.NOT_SUITABLE: frozenset(),
    S.NOT_ELIGIBLE: frozenset(),
    S.COMPLETED: frozenset(),
    S.NOT_COMPLETED: frozenset(),
}
# Moves the people who refer may make; every other move belongs to programme delivery.
REFERRER_MOVES = frozenset({S.NOT_COMPLETED})
OCCUPYING_STATUSES = (S.ALLOCATED, S.IN_PROGRESS)
# Exclusion reasons that are about who the person is (the programme's rules), as opposed
# to the plan's choices; referring despite one of them needs an override reason.
ELIGIBILITY_REASON_PREFIXES = (
    "excluded_sex",
    "excluded_age",
    "excluded_risk_band",
    "excluded_literacy",
    "excluded_education",
    "excluded_missing_prerequisites",
    "excluded_language",
    "excluded_low_risk",
    "excluded_no_assessment",
)


def _decimal(errors, field: str, value: Any, *, minimum: Decimal = Decimal(0)) -> Decimal | None:
    if value in (None, ""):
        _add(errors, field, _("This field is required."))
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        _add(errors, field, _("Enter a number."))
        return None
    if not number.is_finite() or number < minimum:
        _add(errors, field, _("Enter a number of at least %(minimum)s.") % {"minimum": minimum})
        return None
    return number


def _codes(errors, field: str, values: Any, allowed) -> list[str]:
    if values in (None, ""):
        return []
    if isinstance(values, str):
        values = values.replace(";", ",").split(",")
    codes = [str(value).strip() for value in values if str(value).strip()]
    unknown = [code for code in codes if code not in allowed]
    if unknown:
        _add(errors, field, _("Unknown value: %(values)s") % {"values": ", ".join(unknown)})
    return list(dict.fromkeys(codes))


# --- catalogue ---------------------------------------------------------------------------

PROGRAMME_FIELDS = [
    "code",
    "name",
    "description",
    "programme_type",
    "target_needs",
    "eligible_sexes",
    "min_age",
    "max_age",
    "eligible_risk_bands",
    "min_literacy",
    "min_education",
    "max_education",
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
    "completes_school_level",
    "is_active",
]


def _clean_programme(programme: Programme, data: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    targetable = [domain for domain in NEED_DOMAINS if domain not in STATIC_DOMAINS]
    lists = {
        "target_needs": targetable,
        "eligible_sexes": Sex.values,
        "eligible_risk_bands": RISK_BANDS,
        "adaptations": ADAPTATIONS,
    }
    for field, allowed in lists.items():
        if field in data:
            setattr(programme, field, _codes(errors, field, data[field], allowed))
    if "languages" in data:
        languages = _codes(errors, "languages", data["languages"], _AnyLanguage())
        programme.languages = [code.lower() for code in languages]
    for field, allowed in (
        ("min_literacy", LITERACY_LEVELS),
        ("min_education", EDUCATION_LEVELS),
        ("max_education", EDUCATION_LEVELS),
    ):
        if field in data:
            value = data[field] or ""
            if value and value not in allowed:
                _add(errors, field, _("Unknown value: %(values)s") % {"values": value})
            setattr(programme, field, value)
    for field in ("dosage_hours", "session_hours"):
        if field in data:
            setattr(programme, field, _decimal(errors, field, data[field]))
    for field in (
        "code",
        "name",
        "description",
        "programme_type",
        "min_age",
        "max_age",
        "dosage_sessions",
        "group_capacity",
        "setting",
        "provider",
        "evidence_rating",
        "evidence_source",
        "remission_kind",
        "completes_school_level",
        "is_active",
    ):
        if field in data:
            setattr(programme, field, data[field] if data[field] is not None else "")
    for field in ("min_age", "max_age"):
        if getattr(programme, field) == "":
            setattr(programme, field, None)
    if (
        programme.min_education
        and programme.max_education
        and EDUCATION_LEVELS.index(programme.min_education)
        > EDUCATION_LEVELS.index(programme.max_education)
    ):
        _add(errors, "max_education", _("The maximum is below the minimum."))
    try:
        programme.full_clean(exclude=[field for field in errors], validate_constraints=True)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            for message in messages:
                if message not in errors.get(field, []):
                    _add(errors, field, message)
    return errors


class _AnyLanguage:
    """ISO 639 codes: two or three letters."""

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and 2 <= len(code) <= 3 and code.isalpha()


@transaction.atomic
def programme_save(
    *,
    actor,
    data: dict[str, Any],
    programme: Programme | None = None,
    facilities: list[Facility] | None = None,
    prerequisites: list[Programme] | None = None,
) -> Programme:
    """Create a programme, or change the fields given in ``data``."""
    _require(actor is None or access.can_edit_catalogue(actor), "This role cannot edit programmes.")
    creating = programme is None
    if creating:
        programme = Programme()
        before = None
    else:
        programme = Programme.objects.select_for_update().get(pk=programme.pk)
        before = snapshot(programme, PROGRAMME_FIELDS)
    errors = _clean_programme(programme, data)
    if programme.pk is not None and any(other.pk == programme.pk for other in prerequisites or ()):
        _add(errors, "prerequisites", _("A programme cannot be its own prerequisite."))
    _raise(errors)
    programme.save()
    if facilities is not None:
        programme.facilities.set(facilities)
    if prerequisites is not None:
        programme.prerequisites.set(prerequisites)
    after = snapshot(programme, PROGRAMME_FIELDS)
    if facilities is not None:
        after["facilities"] = sorted(facility.code for facility in facilities)
    audit_record(
        actor=actor,
        action="programme.create" if creating else "programme.update",
        target=programme,
        before=before,
        after=after,
    )
    return programme


@transaction.atomic
def fidelity_review_record(
    *,
    actor,
    programme: Programme,
    answers: dict[str, str],
    reviewed_on: datetime.date | None = None,
    facility: Facility | None = None,
    notes: str = "",
    checklist_name: str = "cpc-style",
) -> FidelityReview:
    """Score a CPC-style fidelity checklist for a programme and keep it with its answers."""
    _require(
        actor is None or access.can_edit_catalogue(actor),
        "This role cannot record fidelity reviews.",
    )
    checklist = load_checklist(checklist_name)
    reviewed_on = reviewed_on or _today()
    errors: dict[str, list[str]] = {}
    _date_not_future(errors, "reviewed_on", reviewed_on)
    result = None
    try:
        result = score_checklist(checklist, answers)
    except FidelityAnswerError as error:
        for item, message in error.errors.items():
            _add(errors, item, message)
    _raise(errors)
    review = FidelityReview.objects.create(
        programme=programme,
        facility=facility,
        reviewed_on=reviewed_on,
        reviewer=actor,
        checklist=checklist.slug,
        checklist_version=checklist.version,
        answers=dict(answers),
        percent=result.percent,
        band=result.band,
        domain_percents=dict(result.domain_percents),
        notes=notes,
    )
    audit_record(
        actor=actor,
        action="programme.fidelity_review",
        target=review,
        after={"programme": programme.code, "percent": result.percent, "band": result.band},
    )
    return review


# --- intervention plans ------------------------------------------------------------------


def _reason_json(reason) -> dict[str, Any]:
    return {"code": reason.code, "params": dict(reason.params)}


def proposal_json(proposal) -> dict[str, Any]:
    """The proposal as stored on the plan: codes and parameters, never sentences."""
    return {
        "risk_band": proposal.risk_band,
        "target_hours": proposal.target_hours,
        "planned_hours": proposal.planned_hours,
        "items": [
            {
                "programme_id": int(item.key),
                "need": item.need,
                "hours": item.hours,
                "priority": item.priority,
                "counts_toward_dosage": item.counts_toward_dosage,
                "reasons": [_reason_json(reason) for reason in item.reasons],
            }
            for item in proposal.items
        ],
        "excluded": [
            {"programme_id": int(option.key), "reasons": [_reason_json(r) for r in option.reasons]}
            for option in proposal.excluded
        ],
        "adaptations": [_reason_json(reason) for reason in proposal.adaptations],
        "warnings": [_reason_json(reason) for reason in proposal.warnings],
    }


def _open_episode(person: Person):
    return person.custody_episodes.filter(release_date__isnull=True).order_by("-id").first()


def plan_proposal(person: Person):
    """The RNR proposal for the person now (read-only; callers have checked access)."""
    today = _today()
    profile, planning = rules.person_profile(person, today=today)
    proposal = propose_plan(
        profile, rules.programme_options(person.current_facility), rules.dosage_policy()
    )
    return proposal, planning


def _default_goal_text(programme: Programme, need: str | None) -> str:
    from whatworks.treatment.labels import need_label

    if need:
        return _("Reduce the need in %(need)s by completing %(programme)s.") % {
            "need": need_label(need),
            "programme": programme.name,
        }
    return _("Complete %(programme)s.") % {"programme": programme.name}


def _weeks_for(programme: Programme) -> int:
    # Two sessions a week is the usual rhythm; a target date needs only an estimate.
    return max(1, -(-programme.dosage_sessions // 2))


@transaction.atomic
def plan_propose(*, actor, person: Person) -> InterventionPlan:
    """A new draft plan from the RNR proposal, one goal per proposed programme."""
    _require(actor is None or access.can_plan(actor), "This role cannot plan.")
    _require_person_in_scope(actor, person)
    Person.objects.select_for_update().filter(pk=person.pk).first()
    if InterventionPlan.objects.filter(person=person, status=PlanStatus.DRAFT).exists():
        raise ValidationError(
            {"__all__": [_("This person already has a draft plan; edit or approve it.")]}
        )
    proposal, planning = plan_proposal(person)
    today = _today()
    last = InterventionPlan.objects.filter(person=person).order_by("-version").first()
    plan = InterventionPlan.objects.create(
        person=person,
        episode=_open_episode(person),
        version=(last.version + 1) if last else 1,
        assessment_id=planning.get("assessment_id"),
        risk_band=proposal.risk_band or "",
        target_hours=Decimal(str(proposal.target_hours)),
        proposal=proposal_json(proposal),
        created_by=actor,
    )
    programmes = Programme.objects.in_bulk([int(item.key) for item in proposal.items])
    for position, item in enumerate(proposal.items):
        programme = programmes[int(item.key)]
        goal = PlanGoal.objects.create(
            plan=plan,
            need=item.need or "",
            description=_default_goal_text(programme, item.need),
            programme=programme,
            planned_hours=Decimal(str(item.hours)),
            target_date=today + datetime.timedelta(weeks=_weeks_for(programme) + 4),
            position=position,
        )
        PlanStep.objects.create(
            goal=goal,
            description=_("Take part in %(programme)s and attend its sessions.")
            % {"programme": programme.name},
            owner=StepOwner.PERSON,
            target_date=goal.target_date,
        )
    audit_record(
        actor=actor,
        action="plan.propose",
        target=plan,
        person=person,
        after={
            "version": plan.version,
            "risk_band": plan.risk_band,
            "target_hours": plan.target_hours,
            "programmes": [programme.code for programme in programmes.values()],
        },
    )
    return plan


def _require_draft(plan: InterventionPlan) -> None:
    if plan.status != PlanStatus.DRAFT:
        raise ValidationError(
            {"__all__": [_("Only a draft can be changed; revise the plan to make a new version.")]}
        )


def _plan_parts(plan: InterventionPlan) -> Q:
    """Audit events on a plan's goals and steps: editing them is editing the plan."""
    return Q(object_type="treatment.plangoal", object_id__in=_ids(plan.goals.all())) | Q(
        object_type="treatment.planstep",
        object_id__in=_ids(PlanStep.objects.filter(goal__plan=plan)),
    )


def _ids(queryset) -> list[str]:
    return [str(pk) for pk in queryset.values_list("pk", flat=True)]


def _locked_plan(
    actor, plan: InterventionPlan, *, expected_version: int | None = None, claim_it: bool = True
) -> InterventionPlan:
    """The plan, locked for this transaction; with ``claim_it`` its lock version moves on, and
    a plan changed since ``expected_version`` raises ``StaleEdit`` (docs/concurrency.md)."""
    _require(actor is None or access.can_plan(actor), "This role cannot plan.")
    plan = InterventionPlan.objects.select_for_update().select_related("person").get(pk=plan.pk)
    _require_person_in_scope(actor, plan.person)
    if claim_it:
        claim(plan, expected_version, also=lambda: _plan_parts(plan))
    return plan


@transaction.atomic
def plan_revise(*, actor, plan: InterventionPlan) -> InterventionPlan:
    """A new draft version that starts as a copy of the approved plan."""
    plan = _locked_plan(actor, plan, claim_it=False)
    if plan.status != PlanStatus.APPROVED:
        raise ValidationError({"__all__": [_("Only the approved plan can be revised.")]})
    if InterventionPlan.objects.filter(person=plan.person, status=PlanStatus.DRAFT).exists():
        raise ValidationError(
            {"__all__": [_("This person already has a draft plan; edit or approve it.")]}
        )
    last = InterventionPlan.objects.filter(person=plan.person).order_by("-version").first()
    draft = InterventionPlan.objects.create(
        person=plan.person,
        episode=_open_episode(plan.person) or plan.episode,
        version=last.version + 1,
        assessment=plan.assessment,
        risk_band=plan.risk_band,
        target_hours=plan.target_hours,
        proposal=plan.proposal,
        created_by=actor,
    )
    for goal in plan.goals.prefetch_related("steps"):
        steps = list(goal.steps.all())
        goal.pk = None
        goal.plan = draft
        goal.save()
        for step in steps:
            step.pk = None
            step.goal = goal
            step.save()
    audit_record(
        actor=actor,
        action="plan.revise",
        target=draft,
        person=plan.person,
        after={"version": draft.version, "from_version": plan.version},
    )
    return draft


GOAL_FIELDS = ["need", "description", "programme_id", "planned_hours", "target_date", "status"]
STEP_FIELDS = ["description", "owner", "owner_name", "target_date", "status"]


def _clean_goal(goal: PlanGoal, data: dict[str, Any], errors) -> None:
    if "need" in data:
        need = data["need"] or ""
        if need and need not in NEED_DOMAINS:
            _add(errors, "need", _("Unknown value: %(values)s") % {"values": need})
        goal.need = need
    if "description" in data:
        goal.description = (data["description"] or "").strip()
        if not goal.description:
            _add(errors, "description", _("This field is required."))
    if "programme" in data:
        goal.programme = data["programme"]
    if "planned_hours" in data:
        goal.planned_hours = (
            None
            if data["planned_hours"] in (None, "")
            else _decimal(errors, "planned_hours", data["planned_hours"])
        )
    if "target_date" in data:
        goal.target_date = data["target_date"]
    if "status" in data:
        if data["status"] not in GoalStatus.values:
            _add(errors, "status", _("Unknown value: %(values)s") % {"values": data["status"]})
        goal.status = data["status"]


@transaction.atomic
def plan_goal_save(
    *,
    actor,
    plan: InterventionPlan,
    data: dict[str, Any],
    goal: PlanGoal | None = None,
    expected_version: int | None = None,
) -> PlanGoal:
    """Add or change a goal. On an approved plan only the status may change (progress);
    anything else is a revision. ``expected_version``: the plan's ``lock_version`` the
    editor loaded (None: no check)."""
    plan = _locked_plan(actor, plan, expected_version=expected_version)
    if goal is not None and goal.plan_id != plan.pk:
        raise PlanGoal.DoesNotExist
    progress_only = goal is not None and set(data) <= {"status"}
    if not progress_only:
        _require_draft(plan)
    errors: dict[str, list[str]] = {}
    creating = goal is None
    if creating:
        goal = PlanGoal(plan=plan, position=plan.goals.count())
        before = None
    else:
        before = snapshot(goal, GOAL_FIELDS)
    _clean_goal(goal, data, errors)
    _raise(errors)
    goal.save()
    audit_record(
        actor=actor,
        action="plan.goal_add" if creating else "plan.goal_update",
        target=goal,
        person=plan.person,
        before=before,
        after=snapshot(goal, GOAL_FIELDS),
    )
    return goal


@transaction.atomic
def plan_goal_delete(*, actor, goal: PlanGoal, expected_version: int | None = None) -> None:
    plan = _locked_plan(actor, goal.plan, expected_version=expected_version)
    _require_draft(plan)
    before = snapshot(goal, GOAL_FIELDS)
    audit_record(
        actor=actor,
        action="plan.goal_delete",
        target=goal,
        person=plan.person,
        before=before,
        after={},
    )
    goal.delete()


@transaction.atomic
def plan_step_save(
    *,
    actor,
    goal: PlanGoal,
    data: dict[str, Any],
    step: PlanStep | None = None,
    expected_version: int | None = None,
) -> PlanStep:
    plan = _locked_plan(actor, goal.plan, expected_version=expected_version)
    if step is not None and step.goal_id != goal.pk:
        raise PlanStep.DoesNotExist
    if not (step is not None and set(data) <= {"status"}):
        _require_draft(plan)
    errors: dict[str, list[str]] = {}
    creating = step is None
    if creating:
        step = PlanStep(goal=goal)
        before = None
    else:
        before = snapshot(step, STEP_FIELDS)
    if "description" in data:
        step.description = (data["description"] or "").strip()
        if not step.description:
            _add(errors, "description", _("This field is required."))
    if "owner" in data:
        if data["owner"] not in StepOwner.values:
            _add(errors, "owner", _("Choose who owns this step."))
        step.owner = data["owner"]
    elif creating:
        _add(errors, "owner", _("Choose who owns this step."))
    if "owner_name" in data:
        step.owner_name = data["owner_name"] or ""
    if "target_date" in data:
        step.target_date = data["target_date"]
    if "status" in data:
        if data["status"] not in StepStatus.values:
            _add(errors, "status", _("Unknown value: %(values)s") % {"values": data["status"]})
        step.status = data["status"]
    _raise(errors)
    step.save()
    audit_record(
        actor=actor,
        action="plan.step_add" if creating else "plan.step_update",
        target=step,
        person=plan.person,
        before=before,
        after=snapshot(step, STEP_FIELDS),
    )
    return step


@transaction.atomic
def plan_approve(
    *,
    actor,
    plan: InterventionPlan,
    agreement: str,
    agreement_notes: str = "",
    expected_version: int | None = None,
) -> InterventionPlan:
    """Approve a draft: it needs goals, each with a step, and the person's answer."""
    plan = _locked_plan(actor, plan, expected_version=expected_version)
    _require_draft(plan)
    errors: dict[str, list[str]] = {}
    goals = list(plan.goals.prefetch_related("steps"))
    if not goals:
        _add(errors, "goals", _("A plan needs at least one goal before it can be approved."))
    for goal in goals:
        if not goal.steps.all():
            _add(
                errors,
                "goals",
                _("The goal “%(goal)s” has no steps.") % {"goal": goal.description[:60]},
            )
    if agreement not in Agreement.values:
        _add(errors, "agreement", _("Record whether the person agreed to the plan."))
    _raise(errors)
    today = _today()
    InterventionPlan.objects.filter(person=plan.person, status=PlanStatus.APPROVED).update(
        status=PlanStatus.SUPERSEDED, lock_version=F("lock_version") + 1
    )
    plan.status = PlanStatus.APPROVED
    plan.agreement = agreement
    plan.agreement_notes = agreement_notes
    plan.approved_by = actor
    plan.approved_at = timezone.now()
    plan.next_review_date = _add_months(today, rules.review_months(plan.risk_band))
    plan.save()
    audit_record(
        actor=actor,
        action="plan.approve",
        target=plan,
        person=plan.person,
        after={
            "version": plan.version,
            "agreement": agreement,
            "goals": len(goals),
            "next_review_date": plan.next_review_date,
        },
    )
    return plan


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate_day in (day.day, 30, 29, 28):
        try:
            return datetime.date(year, month, candidate_day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


@transaction.atomic
def plan_review_record(
    *,
    actor,
    plan: InterventionPlan,
    notes: str,
    reviewed_on: datetime.date | None = None,
    next_review_date: datetime.date | None = None,
    expected_version: int | None = None,
) -> PlanReview:
    plan = _locked_plan(actor, plan, expected_version=expected_version)
    errors: dict[str, list[str]] = {}
    if plan.status != PlanStatus.APPROVED:
        _add(errors, "__all__", _("Only the approved plan is reviewed."))
    if not (notes or "").strip():
        _add(errors, "notes", _("This field is required."))
    reviewed_on = reviewed_on or _today()
    _date_not_future(errors, "reviewed_on", reviewed_on)
    next_review_date = next_review_date or _add_months(
        reviewed_on, rules.review_months(plan.risk_band)
    )
    if next_review_date <= reviewed_on:
        _add(errors, "next_review_date", _("The next review must be after this one."))
    _raise(errors)
    review = PlanReview.objects.create(
        plan=plan,
        reviewed_on=reviewed_on,
        reviewed_by=actor,
        notes=notes.strip(),
        next_review_date=next_review_date,
    )
    plan.next_review_date = next_review_date
    plan.save(update_fields=["next_review_date"])
    audit_record(
        actor=actor,
        action="plan.review",
        target=review,
        person=plan.person,
        after={"reviewed_on": reviewed_on, "next_review_date": next_review_date},
    )
    return review


# --- referrals ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ReferralCheck:
    """Whether a referral follows the plan and the programme's rules, and why not."""

    recommended: bool
    exclusions: tuple  # analytics Reason objects that make the person ineligible

    @property
    def needs_override(self) -> bool:
        return not self.recommended or bool(self.exclusions)


def referral_check(person: Person, programme: Programme) -> ReferralCheck:
    plan = InterventionPlan.objects.filter(person=person, status=PlanStatus.APPROVED).first()
    recommended = bool(plan and plan.goals.filter(programme=programme).exists())
    profile, _planning = rules.person_profile(person, today=_today())
    option = rules.programme_option(programme, offered_here=True)
    proposal = propose_plan(
        dataclasses.replace(
            profile, active=frozenset(), completed=profile.completed - {option.key}
        ),
        [option],
        rules.dosage_policy(),
    )
    exclusions = tuple(
        reason
        for excluded in proposal.excluded
        if excluded.key == option.key
        for reason in excluded.reasons
        if reason.code.startswith(ELIGIBILITY_REASON_PREFIXES)
    )
    return ReferralCheck(recommended=recommended, exclusions=exclusions)


def _status_change(
    referral: Referral,
    actor,
    from_status: str,
    to_status: str,
    day: datetime.date,
    reason: str,
    *,
    since: datetime.date | None = None,
) -> None:
    """Append one status change; ``since`` is when the previous status began."""
    days = (day - since).days if from_status and since else 0
    ReferralStatusChange.objects.create(
        referral=referral,
        from_status=from_status,
        to_status=to_status,
        effective_date=day,
        days_in_previous=max(0, days),
        reason=reason,
        changed_by=_actor_or_none(actor),
    )


@transaction.atomic
def referral_create(
    *,
    actor,
    person: Person,
    programme: Programme,
    facility: Facility | None = None,
    override_reason: str = "",
    referral_date: datetime.date | None = None,
    reason: str = "",
) -> Referral:
    """Refer a person to a programme. Against the plan or the programme's eligibility rules,
    a referral needs an override reason that says why."""
    from whatworks.treatment.labels import reason_text

    _require(actor is None or access.can_refer(actor), "This role cannot refer.")
    _require_person_in_scope(actor, person)
    Person.objects.select_for_update().filter(pk=person.pk).first()
    errors: dict[str, list[str]] = {}
    referral_date = referral_date or _today()
    _date_not_future(errors, "referral_date", referral_date)
    if not programme.is_active:
        _add(errors, "programme", _("This programme is no longer offered."))
    if programme.setting == ProgrammeSetting.FACILITY:
        facility = facility or person.current_facility
        if facility is None:
            _add(errors, "facility", _("Choose the facility where the programme is delivered."))
        elif (
            programme.facilities.exists()
            and not programme.facilities.filter(pk=facility.pk).exists()
        ):
            _add(
                errors,
                "facility",
                _("This programme is not offered at %(facility)s.") % {"facility": facility.name},
            )
    else:
        facility = None
    if Referral.objects.filter(
        person=person, programme=programme, status__in=rules.ACTIVE_REFERRAL_STATUSES
    ).exists():
        _add(errors, "programme", _("This person already has an open referral to this programme."))
    check = referral_check(person, programme)
    override_reason = (override_reason or "").strip()
    if check.needs_override and not override_reason:
        why = [reason_text(reason) for reason in check.exclusions]
        if not check.recommended:
            why.insert(0, _("The approved plan does not recommend this programme."))
        _add(
            errors,
            "override_reason",
            _("Give a reason to refer against the rules: %(why)s") % {"why": " ".join(why)},
        )
    _raise(errors)
    referral = Referral.objects.create(
        person=person,
        episode=_open_episode(person),
        programme=programme,
        facility=facility,
        plan=InterventionPlan.objects.filter(person=person, status=PlanStatus.APPROVED).first(),
        status=S.REFERRED,
        status_date=referral_date,
        referral_date=referral_date,
        override_reason=override_reason if check.needs_override else "",
        referred_by=_actor_or_none(actor),
    )
    _status_change(referral, actor, "", S.REFERRED, referral_date, reason or override_reason)
    audit_record(
        actor=actor,
        action="referral.create",
        target=referral,
        person=person,
        after={
            "programme": programme.code,
            "facility": facility.code if facility else None,
            "override_reason": referral.override_reason,
        },
    )
    return referral


def _occupied_places(group: ProgrammeGroup) -> int:
    return Referral.objects.filter(group=group, status__in=OCCUPYING_STATUSES).count()


@transaction.atomic
def referral_transition(
    *,
    actor,
    referral: Referral,
    to_status: str,
    reason: str = "",
    effective_date: datetime.date | None = None,
    end_reason: str = "",
    group: ProgrammeGroup | None = None,
    override_reason: str = "",
    expected_version: int | None = None,
) -> Referral:
    """Move a referral along its life cycle (``REFERRAL_TRANSITIONS``). A referral changed
    since ``expected_version`` (its ``lock_version`` as the editor loaded it; None: no
    check) raises ``StaleEdit`` and nothing is written."""
    referral = (
        Referral.objects.select_for_update()
        .select_related("person", "programme")
        .get(pk=referral.pk)
    )
    if actor is not None:
        allowed = access.can_deliver(actor) or (
            to_status in REFERRER_MOVES and access.can_refer(actor)
        )
        _require(allowed, "This role cannot make this change to a referral.")
        _require_person_in_scope(actor, referral.person)
    claim(referral, expected_version)
    errors: dict[str, list[str]] = {}
    from_status = referral.status
    if to_status not in REFERRAL_TRANSITIONS.get(from_status, ()):
        raise ValidationError(
            {
                "to_status": [
                    _("A referral cannot go from “%(from)s” to “%(to)s”.")
                    % {
                        "from": S(from_status).label,
                        "to": S(to_status).label if to_status in S.values else to_status,
                    }
                ]
            }
        )
    day = effective_date or _today()
    _date_not_future(errors, "effective_date", day)
    if day < referral.status_date:
        _add(
            errors,
            "effective_date",
            _("The date cannot be before the current status began (%(date)s).")
            % {"date": referral.status_date.isoformat()},
        )
    before = snapshot(referral, ["status", "group_id", "end_reason", "status_date"])
    if to_status == S.ALLOCATED:
        _allocate(referral, group, override_reason, day, errors)
    elif to_status == S.WAITLISTED:
        referral.group = None
        referral.allocated_on = None
        if referral.waitlisted_on is None:
            referral.waitlisted_on = day
    elif to_status == S.IN_PROGRESS:
        referral.started_on = day
    elif to_status in (S.COMPLETED, S.NOT_COMPLETED):
        referral.ended_on = day
        if to_status == S.NOT_COMPLETED:
            if end_reason not in EndReason.values:
                _add(errors, "end_reason", _("Say why the programme was not completed."))
            referral.end_reason = end_reason
    if to_status in (S.NOT_SUITABLE, S.NOT_ELIGIBLE, S.SUITABLE_NOT_READY) and not reason.strip():
        _add(errors, "reason", _("Give the reason for this decision."))
    _raise(errors)
    since = referral.status_date
    referral.status = to_status
    referral.status_date = day
    referral.save()
    _status_change(
        referral, actor, from_status, to_status, day, reason or override_reason, since=since
    )
    audit_record(
        actor=actor,
        action="referral.transition",
        target=referral,
        person=referral.person,
        before=before,
        after={
            **snapshot(referral, ["status", "group_id", "end_reason", "status_date"]),
            "reason": reason,
        },
    )
    return referral


def _allocate(
    referral: Referral,
    group: ProgrammeGroup | None,
    override_reason: str,
    day: datetime.date,
    errors: dict[str, list[str]],
) -> None:
    from whatworks.treatment.labels import reason_text

    if group is None:
        _add(errors, "group", _("Choose the group to allocate to."))
        return
    group = ProgrammeGroup.objects.select_for_update().get(pk=group.pk)
    if group.programme_id != referral.programme_id:
        _add(errors, "group", _("This group runs a different programme."))
    if group.facility_id != referral.facility_id:
        _add(errors, "group", _("This group is at a different facility from the referral."))
    if group.status in (GroupStatus.FINISHED, GroupStatus.CANCELLED):
        _add(errors, "group", _("This group has finished or was cancelled."))
    taken = _occupied_places(group)
    if taken >= group.capacity:
        _add(
            errors,
            "group",
            _("The group is full: %(taken)s of %(capacity)s places are taken.")
            % {"taken": taken, "capacity": group.capacity},
        )
    check = referral_check(referral.person, referral.programme)
    if check.exclusions and not (referral.override_reason or override_reason.strip()):
        _add(
            errors,
            "override_reason",
            _("The person is not eligible (%(why)s); give a reason to allocate them anyway.")
            % {"why": " ".join(reason_text(reason) for reason in check.exclusions)},
        )
    elif check.exclusions and override_reason.strip() and not referral.override_reason:
        referral.override_reason = override_reason.strip()
    referral.group = group
    referral.allocated_on = day


def end_referrals_on_custody_change(
    *, actor, person: Person, kind: str, movement_date: datetime.date, from_facility
) -> list[Referral]:
    """Close the open referrals a release or transfer makes impossible.

    A release ends every facility-delivered referral (reason "released"); a transfer ends
    those at the facility the person left ("transferred"). Community referrals go on."""
    end_reason = EndReason.RELEASED if kind == "release" else EndReason.TRANSFERRED
    open_referrals = Referral.objects.select_for_update().filter(
        person=person, status__in=rules.ACTIVE_REFERRAL_STATUSES, facility__isnull=False
    )
    if kind != "release":
        open_referrals = open_referrals.filter(facility=from_facility)
    ended = []
    for referral in open_referrals:
        day = max(movement_date, referral.status_date)
        before = snapshot(referral, ["status", "group_id", "end_reason", "status_date"])
        from_status, since = referral.status, referral.status_date
        referral.status = S.NOT_COMPLETED
        referral.end_reason = end_reason
        referral.ended_on = day
        referral.status_date = day
        _status_change(referral, actor, from_status, S.NOT_COMPLETED, day, "", since=since)
        referral.lock_version += 1  # the row is locked above: a plain increment is safe
        referral.save()
        audit_record(
            actor=actor,
            action="referral.ended_by_custody",
            target=referral,
            person=person,
            before=before,
            after=snapshot(referral, ["status", "group_id", "end_reason", "status_date"]),
        )
        ended.append(referral)
    return ended


# --- groups and sessions -----------------------------------------------------------------


@transaction.atomic
def group_create(
    *,
    actor,
    programme: Programme,
    facility: Facility | None,
    name: str,
    start_date: datetime.date,
    end_date: datetime.date | None = None,
    capacity: int | None = None,
    facilitators=(),
    schedule_note: str = "",
) -> ProgrammeGroup:
    _require(actor is None or access.can_deliver(actor), "This role cannot run groups.")
    errors: dict[str, list[str]] = {}
    if (
        facility is not None
        and actor is not None
        and not facilities_in_scope(actor).filter(pk=facility.pk).exists()
    ):
        _add(errors, "facility", _("You cannot run groups at this facility."))
    if programme.setting == ProgrammeSetting.FACILITY and facility is None:
        _add(errors, "facility", _("Choose the facility where the group meets."))
    if (
        facility is not None
        and programme.facilities.exists()
        and not programme.facilities.filter(pk=facility.pk).exists()
    ):
        _add(
            errors,
            "facility",
            _("This programme is not offered at %(facility)s.") % {"facility": facility.name},
        )
    if not (name or "").strip():
        _add(errors, "name", _("This field is required."))
    capacity = capacity or programme.group_capacity
    if capacity < 1:
        _add(errors, "capacity", _("Enter a number of at least %(minimum)s.") % {"minimum": 1})
    if end_date is not None and start_date is not None and end_date < start_date:
        _add(errors, "end_date", _("The end date is before the start date."))
    _raise(errors)
    group = ProgrammeGroup.objects.create(
        programme=programme,
        facility=facility,
        name=name.strip(),
        capacity=capacity,
        start_date=start_date,
        end_date=end_date,
        schedule_note=schedule_note,
        status=GroupStatus.RUNNING if start_date <= _today() else GroupStatus.PLANNED,
    )
    group.facilitators.set(facilitators)
    audit_record(
        actor=actor,
        action="group.create",
        target=group,
        after={
            "programme": programme.code,
            "facility": facility.code if facility else None,
            "capacity": capacity,
            "start_date": start_date,
        },
    )
    return group


def _minutes(start: datetime.time) -> int:
    return start.hour * 60 + start.minute


def _overlaps(session: GroupSession, others) -> GroupSession | None:
    start = _minutes(session.start_time)
    end = start + int(session.hours * 60)
    for other in others:
        other_start = _minutes(other.start_time)
        other_end = other_start + int(other.hours * 60)
        if start < other_end and other_start < end:
            return other
    return None


def _session_clashes(session: GroupSession, errors: dict[str, list[str]]) -> None:
    """Refuse a session that overlaps another of the same group, of the same facilitator, or
    in the same room of the same facility."""
    same_day = GroupSession.objects.filter(
        session_date=session.session_date, cancelled=False
    ).select_related("group")
    if session.pk:
        same_day = same_day.exclude(pk=session.pk)
    clash = _overlaps(session, same_day.filter(group=session.group))
    if clash:
        _add(
            errors,
            "start_time",
            _("The group already has a session at %(time)s that day.")
            % {"time": clash.start_time.strftime("%H:%M")},
        )
    if session.facilitator_id:
        clash = _overlaps(session, same_day.filter(facilitator_id=session.facilitator_id))
        if clash:
            _add(
                errors,
                "facilitator",
                _("The facilitator is already running %(group)s at %(time)s that day.")
                % {"group": clash.group.name, "time": clash.start_time.strftime("%H:%M")},
            )
    if session.room:
        clash = _overlaps(
            session,
            same_day.filter(
                room__iexact=session.room, group__facility_id=session.group.facility_id
            ),
        )
        if clash:
            _add(
                errors,
                "room",
                _("The room is booked for %(group)s at %(time)s that day.")
                % {"group": clash.group.name, "time": clash.start_time.strftime("%H:%M")},
            )


def _new_session(
    *, group, session_date, start_time, hours, room, facilitator, errors
) -> GroupSession:
    session = GroupSession(
        group=group,
        session_date=session_date,
        start_time=start_time,
        hours=_decimal(errors, "hours", hours, minimum=Decimal("0.25")) or Decimal(0),
        room=(room or "").strip(),
        facilitator=facilitator,
    )
    if session_date is None:
        _add(errors, "session_date", _("This field is required."))
        return session
    if start_time is None:
        _add(errors, "start_time", _("This field is required."))
        return session
    if session_date < group.start_date or (group.end_date and session_date > group.end_date):
        _add(errors, "session_date", _("The date is outside the group's dates."))
    if session.hours and _minutes(start_time) + session.hours * 60 > 24 * 60:
        _add(errors, "hours", _("A session must end on the day it starts."))
    if not errors:
        _session_clashes(session, errors)
    return session


@transaction.atomic
def session_create(
    *,
    actor,
    group: ProgrammeGroup,
    session_date: datetime.date,
    start_time: datetime.time,
    hours,
    room: str = "",
    facilitator=None,
) -> GroupSession:
    _require(actor is None or access.can_deliver(actor), "This role cannot run groups.")
    group = ProgrammeGroup.objects.select_for_update().get(pk=group.pk)
    errors: dict[str, list[str]] = {}
    session = _new_session(
        group=group,
        session_date=session_date,
        start_time=start_time,
        hours=hours,
        room=room,
        facilitator=facilitator,
        errors=errors,
    )
    _raise(errors)
    session.save()
    audit_record(
        actor=actor,
        action="session.create",
        target=session,
        after={
            "group": group.pk,
            "date": session_date,
            "start": start_time,
            "hours": session.hours,
        },
    )
    return session


@transaction.atomic
def sessions_schedule(
    *,
    actor,
    group: ProgrammeGroup,
    weekdays: list[int],
    start_time: datetime.time,
    hours,
    first_date: datetime.date,
    count: int,
    room: str = "",
    facilitator=None,
) -> list[GroupSession]:
    """``count`` sessions on the given weekdays (0 = Monday) from ``first_date``. All or
    nothing: one clash refuses the whole schedule, naming the date."""
    _require(actor is None or access.can_deliver(actor), "This role cannot run groups.")
    errors: dict[str, list[str]] = {}
    days = set()
    for day in weekdays or ():
        try:
            number = int(day)
        except (TypeError, ValueError):
            number = -1
        if not 0 <= number <= 6:
            _add(errors, "weekdays", _("Days of the week are numbers from 0 (Monday) to 6."))
            break
        days.add(number)
    if not days and "weekdays" not in errors:
        _add(errors, "weekdays", _("Choose at least one day of the week."))
    if not isinstance(count, int) or not 1 <= count <= 400:
        _add(errors, "count", _("Enter a number of sessions from 1 to 400."))
    _raise(errors)
    created = []
    day = first_date
    while len(created) < count:
        if day.weekday() in days:
            try:
                created.append(
                    session_create(
                        actor=actor,
                        group=group,
                        session_date=day,
                        start_time=start_time,
                        hours=hours,
                        room=room,
                        facilitator=facilitator,
                    )
                )
            except ValidationError as error:
                # Name the date: the schedule is refused as a whole.
                raise ValidationError(
                    {
                        field: [f"{day.isoformat()}: {message}" for message in messages]
                        for field, messages in error.message_dict.items()
                    }
                ) from None
        day += datetime.timedelta(days=1)
    return created


@transaction.atomic
def session_cancel(*, actor, session: GroupSession, reason: str) -> GroupSession:
    _require(actor is None or access.can_deliver(actor), "This role cannot run groups.")
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Give the reason for this decision.")]})
    session = GroupSession.objects.select_for_update().get(pk=session.pk)
    if session.attendance.filter(is_current=True).exists():
        raise ValidationError(
            {"__all__": [_("Attendance is recorded for this session; correct it instead.")]}
        )
    session.cancelled = True
    session.save(update_fields=["cancelled"])
    audit_record(
        actor=actor,
        action="session.cancel",
        target=session,
        before={"cancelled": False},
        after={"cancelled": True, "reason": reason},
    )
    return session


# --- attendance --------------------------------------------------------------------------


def _attendance_fields(
    session: GroupSession, status: str, excuse_reason: str, hours, errors
) -> tuple[str, Decimal]:
    if status not in AttendanceStatus.values:
        _add(errors, "status", _("Choose attended, late, excused or unexcused."))
        return "", Decimal(0)
    if status == AttendanceStatus.EXCUSED:
        if excuse_reason not in ExcuseReason.values:
            _add(errors, "excuse_reason", _("An excused absence needs a reason."))
    else:
        excuse_reason = ""
    if status == AttendanceStatus.ATTENDED or status == AttendanceStatus.LATE:
        counted = session.hours if hours in (None, "") else _decimal(errors, "hours", hours)
    else:
        counted = Decimal(0)
    if counted is not None and counted > session.hours:
        _add(
            errors,
            "hours",
            _("At most %(hours)s hours: the length of the session.") % {"hours": session.hours},
        )
    return excuse_reason, counted or Decimal(0)


def _double_booked(referral: Referral, session: GroupSession) -> GroupSession | None:
    same_day = GroupSession.objects.filter(
        session_date=session.session_date,
        attendance__referral__person_id=referral.person_id,
        attendance__is_current=True,
        attendance__status__in=rules.PRESENT_STATUSES,
    ).exclude(pk=session.pk)
    return _overlaps(session, same_day.select_related("group"))


@transaction.atomic
def attendance_record(
    *,
    actor,
    session: GroupSession,
    referral: Referral,
    status: str,
    excuse_reason: str = "",
    hours=None,
    note: str = "",
) -> Attendance:
    """Record one person's attendance at a session that has taken place. The first
    attendance of an allocated person starts their programme."""
    _require(actor is None or access.can_deliver(actor), "This role cannot record attendance.")
    referral = Referral.objects.select_for_update().select_related("person").get(pk=referral.pk)
    _require_person_in_scope(actor, referral.person)
    session = GroupSession.objects.select_related("group").get(pk=session.pk)
    errors: dict[str, list[str]] = {}
    if session.session_date > _today():
        _add(
            errors,
            "session",
            _("This session has not happened yet; attendance is recorded afterwards."),
        )
    if session.cancelled:
        _add(errors, "session", _("This session was cancelled."))
    if referral.group_id != session.group_id:
        _add(errors, "referral", _("This person is not in this group."))
    elif referral.status not in (S.ALLOCATED, S.IN_PROGRESS, S.COMPLETED, S.NOT_COMPLETED):
        _add(errors, "referral", _("This person is not allocated to the group."))
    elif referral.allocated_on and session.session_date < referral.allocated_on:
        _add(errors, "session", _("The session was before the person joined the group."))
    elif referral.ended_on and session.session_date > referral.ended_on:
        _add(errors, "session", _("The session was after the person left the programme."))
    if Attendance.objects.filter(referral=referral, session=session, is_current=True).exists():
        _add(errors, "status", _("Attendance is already recorded; correct it instead."))
    excuse_reason, counted = _attendance_fields(session, status, excuse_reason, hours, errors)
    if not errors and status in rules.PRESENT_STATUSES:
        clash = _double_booked(referral, session)
        if clash:
            _add(
                errors,
                "session",
                _("The person was recorded at %(group)s at %(time)s that day.")
                % {"group": clash.group.name, "time": clash.start_time.strftime("%H:%M")},
            )
    _raise(errors)
    attendance = Attendance.objects.create(
        referral=referral,
        session=session,
        status=status,
        excuse_reason=excuse_reason,
        hours=counted,
        note=note,
        recorded_by=_actor_or_none(actor),
    )
    audit_record(
        actor=actor,
        action="attendance.record",
        target=attendance,
        person=referral.person,
        after={"session": session.pk, "status": status, "hours": counted},
    )
    # Turning up starts the programme; an absence before the first session attended does not.
    if referral.status == S.ALLOCATED and status in rules.PRESENT_STATUSES:
        referral_transition(
            actor=actor,
            referral=referral,
            to_status=S.IN_PROGRESS,
            effective_date=max(session.session_date, referral.status_date),
        )
    return attendance


@transaction.atomic
def attendance_register(
    *, actor, session: GroupSession, marks: dict[int, dict[str, Any]]
) -> list[Attendance]:
    """A whole register at once, all or nothing. ``marks`` maps referral id to
    ``{"status", "excuse_reason", "hours"}``; errors are keyed ``<referral id>.<field>``."""
    errors: dict[str, list[str]] = {}
    recorded = []
    referrals = Referral.objects.in_bulk(list(marks))
    for referral_id, mark in marks.items():
        referral = referrals.get(referral_id)
        if referral is None:
            _add(errors, f"{referral_id}.referral", _("This person is not in this group."))
            continue
        try:
            with transaction.atomic():
                recorded.append(
                    attendance_record(
                        actor=actor,
                        session=session,
                        referral=referral,
                        status=mark.get("status", ""),
                        excuse_reason=mark.get("excuse_reason", ""),
                        hours=mark.get("hours"),
                        note=mark.get("note", ""),
                    )
                )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                for message in messages:
                    _add(errors, f"{referral_id}.{field}", message)
    _raise(errors)
    return recorded


@transaction.atomic
def attendance_correct(
    *,
    actor,
    attendance: Attendance,
    status: str,
    reason: str,
    excuse_reason: str = "",
    hours=None,
) -> Attendance:
    """Correct past attendance with a new record; the old one stays, marked superseded."""
    _require(actor is None or access.can_deliver(actor), "This role cannot record attendance.")
    attendance = (
        Attendance.objects.select_for_update()
        .select_related("session", "referral", "referral__person")
        .get(pk=attendance.pk)
    )
    errors: dict[str, list[str]] = {}
    if not attendance.is_current:
        _add(errors, "__all__", _("This record was already corrected; correct the newest one."))
    if not (reason or "").strip():
        _add(errors, "reason", _("Say why the attendance is being corrected."))
    excuse_reason, counted = _attendance_fields(
        attendance.session, status, excuse_reason, hours, errors
    )
    _raise(errors)
    before = snapshot(attendance, ["status", "excuse_reason", "hours"])
    attendance.is_current = False
    attendance.save(update_fields=["is_current"])
    correction = Attendance.objects.create(
        referral=attendance.referral,
        session=attendance.session,
        status=status,
        excuse_reason=excuse_reason,
        hours=counted,
        note=reason.strip(),
        supersedes=attendance,
        recorded_by=_actor_or_none(actor),
    )
    audit_record(
        actor=actor,
        action="attendance.correct",
        target=correction,
        person=attendance.referral.person,
        before=before,
        after={**snapshot(correction, ["status", "excuse_reason", "hours"]), "reason": reason},
    )
    return correction


# --- earned remission --------------------------------------------------------------------


@transaction.atomic
def disciplinary_fault_record(
    *,
    actor,
    person: Person,
    fault_date: datetime.date,
    description: str,
    revoked_fraction: str,
    decision_reference: str = "",
) -> DisciplinaryFault:
    """A serious fault and the judge's decision on remitted time (LEP art. 127)."""
    _require(actor is None or access.can_record_faults(actor), "This role cannot record faults.")
    _require_person_in_scope(actor, person)
    errors: dict[str, list[str]] = {}
    _date_not_future(errors, "fault_date", fault_date)
    if not (description or "").strip():
        _add(errors, "description", _("This field is required."))
    fraction = None
    try:
        fraction = Fraction((revoked_fraction or "").strip())
    except (ValueError, ZeroDivisionError):
        _add(errors, "revoked_fraction", _("Write the share as a fraction such as 1/3 or 1/6."))
    remission_rules = rules.remission_rules()
    if fraction is not None:
        limit = remission_rules.max_revocation_fraction if remission_rules else Fraction(1)
        if not 0 <= fraction <= limit:
            _add(
                errors,
                "revoked_fraction",
                _("The share must be between 0 and %(limit)s.") % {"limit": str(limit)},
            )
    episode = (
        person.custody_episodes.filter(admission_date__lte=fault_date)
        .order_by("-admission_date")
        .first()
        if fault_date
        else None
    )
    if fault_date and episode is None:
        _add(errors, "fault_date", _("The person was not in custody on this date."))
    _raise(errors)
    fault = DisciplinaryFault.objects.create(
        person=person,
        episode=episode,
        fault_date=fault_date,
        description=description.strip(),
        revoked_fraction=str(fraction),
        decision_reference=decision_reference,
        recorded_by=_actor_or_none(actor),
    )
    audit_record(
        actor=actor,
        action="remission.fault",
        target=fault,
        person=person,
        after={"fault_date": fault_date, "revoked_fraction": fault.revoked_fraction},
    )
    return fault

"""Writes for health: diagnoses, health referrals and relapse prevention plans.

Each service is atomic, checks the actor's role and scope, validates (field -> messages),
writes, and records an audit event in the same transaction. Nothing is deleted: corrections
and status changes are new rows that replace the old ones, and an active relapse plan is
changed through a new draft version.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from whatworks.audit.services import audit_record, snapshot
from whatworks.health import access
from whatworks.health.models import (
    Diagnosis,
    DiagnosisCategory,
    HealthReferral,
    HealthReferralStatus,
    RelapsePlan,
    RelapsePlanStatus,
)
from whatworks.records.models import Person
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

DIAGNOSIS_FIELDS = ["recorded_on", "category", "mental_disorder_type", "code", "status", "notes"]
REFERRAL_FIELDS = ["to_service", "reason", "requested_on", "status", "status_date", "notes"]
PLAN_FIELDS = [
    "high_risk_situations",
    "early_warning_signs",
    "coping_strategies",
    "supportive_contacts",
    "release_accommodation",
    "release_contact",
    "appointment_place",
    "appointment_date",
    "medication_supply_days",
]
CONTACT_KEYS = ("name", "relation", "phone")


def _full_clean(instance: models.Model, errors: dict[str, list[str]], exclude=()) -> None:
    try:
        instance.full_clean(exclude=list(exclude), validate_unique=False)
    except ValidationError as error:
        for field, field_messages in error.message_dict.items():
            for message in field_messages:
                if message not in errors.get(field, []):
                    _add(errors, field, message)


def _strip(data: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    values = {field: data.get(field) for field in fields if field in data}
    return {
        key: value.strip() if isinstance(value, str) else value for key, value in values.items()
    }


# --- diagnoses ---------------------------------------------------------------------------


def _clean_diagnosis(diagnosis: Diagnosis) -> None:
    errors: dict[str, list[str]] = {}
    if diagnosis.category != DiagnosisCategory.MENTAL_DISORDER:
        diagnosis.mental_disorder_type = ""
    elif not diagnosis.mental_disorder_type:
        _add(errors, "mental_disorder_type", _("Choose the type of mental disorder."))
    _date_not_future(errors, "recorded_on", diagnosis.recorded_on)
    _full_clean(diagnosis, errors, exclude=["recorded_by", "replaces", "person"])
    _raise(errors)


@transaction.atomic
def diagnosis_record(*, actor, person: Person, data: dict[str, Any]) -> Diagnosis:
    """Record a diagnosis (health staff, persons in their facilities)."""
    _require(actor is None or access.can_record_health(actor), "This role cannot record health.")
    _require_person_in_scope(actor, person)
    diagnosis = Diagnosis(person=person, recorded_by=_actor_or_none(actor))
    for field, value in _strip(data, DIAGNOSIS_FIELDS).items():
        setattr(diagnosis, field, value if value is not None else "")
    if diagnosis.recorded_on == "":
        diagnosis.recorded_on = None
    _clean_diagnosis(diagnosis)
    diagnosis.save()
    audit_record(
        actor=actor,
        action="health.diagnosis_record",
        target=diagnosis,
        person=person,
        after=snapshot(diagnosis, ["category", "mental_disorder_type", "status", "recorded_on"]),
    )
    return diagnosis


@transaction.atomic
def diagnosis_correct(*, actor, diagnosis: Diagnosis, data: dict[str, Any]) -> Diagnosis:
    """A correction (or a change of status) is a new row; the old one stops being current."""
    _require(actor is None or access.can_record_health(actor), "This role cannot record health.")
    old = Diagnosis.objects.select_for_update().select_related("person").get(pk=diagnosis.pk)
    _require_person_in_scope(actor, old.person)
    if not old.is_current:
        raise ValidationError({"__all__": [_("This diagnosis has already been corrected.")]})
    new = Diagnosis(person=old.person, recorded_by=_actor_or_none(actor), replaces=old)
    for field in DIAGNOSIS_FIELDS:
        setattr(new, field, getattr(old, field))
    for field, value in _strip(data, DIAGNOSIS_FIELDS).items():
        setattr(new, field, value if value is not None else "")
    _clean_diagnosis(new)
    old.is_current = False
    old.save(update_fields=["is_current"])
    new.save()
    audit_record(
        actor=actor,
        action="health.diagnosis_correct",
        target=new,
        person=old.person,
        before=snapshot(old, DIAGNOSIS_FIELDS),
        after=snapshot(new, DIAGNOSIS_FIELDS),
    )
    return new


# --- health referrals --------------------------------------------------------------------


def _clean_referral(referral: HealthReferral) -> None:
    errors: dict[str, list[str]] = {}
    _date_not_future(errors, "requested_on", referral.requested_on)
    _date_not_future(errors, "status_date", referral.status_date)
    if (
        referral.requested_on
        and referral.status_date
        and referral.status_date < referral.requested_on
    ):
        _add(errors, "status_date", _("The status date cannot be before the request."))
    _full_clean(referral, errors, exclude=["recorded_by", "replaces", "person"])
    _raise(errors)


@transaction.atomic
def health_referral_create(*, actor, person: Person, data: dict[str, Any]) -> HealthReferral:
    _require(actor is None or access.can_record_health(actor), "This role cannot record health.")
    _require_person_in_scope(actor, person)
    values = _strip(data, REFERRAL_FIELDS)
    referral = HealthReferral(
        person=person,
        recorded_by=_actor_or_none(actor),
        to_service=values.get("to_service") or "",
        reason=values.get("reason") or "",
        notes=values.get("notes") or "",
        requested_on=values.get("requested_on") or _today(),
        status=HealthReferralStatus.REQUESTED,
    )
    referral.status_date = referral.requested_on
    _clean_referral(referral)
    referral.save()
    audit_record(
        actor=actor,
        action="health.referral_create",
        target=referral,
        person=person,
        after=snapshot(referral, ["to_service", "status", "requested_on"]),
    )
    return referral


@transaction.atomic
def health_referral_update(
    *, actor, referral: HealthReferral, data: dict[str, Any]
) -> HealthReferral:
    """A status change or correction: a new row that replaces the old one."""
    _require(actor is None or access.can_record_health(actor), "This role cannot record health.")
    old = HealthReferral.objects.select_for_update().select_related("person").get(pk=referral.pk)
    _require_person_in_scope(actor, old.person)
    if not old.is_current:
        raise ValidationError({"__all__": [_("This referral has already been updated.")]})
    new = HealthReferral(person=old.person, recorded_by=_actor_or_none(actor), replaces=old)
    for field in REFERRAL_FIELDS:
        setattr(new, field, getattr(old, field))
    for field, value in _strip(data, REFERRAL_FIELDS).items():
        if value is not None:
            setattr(new, field, value)
    if "status_date" not in data or not data.get("status_date"):
        new.status_date = _today() if new.status != old.status else old.status_date
    _clean_referral(new)
    old.is_current = False
    old.save(update_fields=["is_current"])
    new.save()
    audit_record(
        actor=actor,
        action="health.referral_update",
        target=new,
        person=old.person,
        before=snapshot(old, REFERRAL_FIELDS),
        after=snapshot(new, REFERRAL_FIELDS),
    )
    return new


# --- relapse prevention plans ------------------------------------------------------------


def _open_episode(person: Person):
    return person.custody_episodes.filter(release_date__isnull=True).order_by("-id").first()


def _latest_episode(person: Person):
    return (
        _open_episode(person) or person.custody_episodes.order_by("-admission_date", "-id").first()
    )


def _clean_contacts(errors, contacts: Any) -> list[dict[str, str]]:
    cleaned = []
    for contact in contacts or []:
        row = {key: str((contact or {}).get(key) or "").strip() for key in CONTACT_KEYS}
        if not any(row.values()):
            continue
        if not row["name"]:
            _add(errors, "supportive_contacts", _("Each supportive contact needs a name."))
        if not row["phone"]:
            _add(errors, "supportive_contacts", _("Each supportive contact needs a phone number."))
        cleaned.append(row)
    return cleaned


def _require_plan_editor(actor) -> None:
    _require(
        actor is None or access.can_edit_relapse_plans(actor),
        "This role cannot edit relapse prevention plans.",
    )


@transaction.atomic
def relapse_plan_save(*, actor, person: Person, data: dict[str, Any]) -> RelapsePlan:
    """Create or edit the person's draft. Without a draft, a new version starts as a copy of
    the active plan with the changes applied (the active one stays as it was)."""
    _require_plan_editor(actor)
    _require_person_in_scope(actor, person)
    Person.objects.select_for_update().filter(pk=person.pk).first()
    plan = RelapsePlan.objects.filter(person=person, status=RelapsePlanStatus.DRAFT).first()
    created = plan is None
    if created:
        base = RelapsePlan.objects.filter(person=person, status=RelapsePlanStatus.ACTIVE).first()
        last = RelapsePlan.objects.filter(person=person).order_by("-version").first()
        plan = RelapsePlan(
            person=person,
            episode=_latest_episode(person),
            version=(last.version + 1) if last else 1,
            created_by=_actor_or_none(actor),
        )
        if base is not None:
            for field in PLAN_FIELDS:
                setattr(plan, field, getattr(base, field))
    before = snapshot(plan, PLAN_FIELDS)
    errors: dict[str, list[str]] = {}
    values = _strip(data, PLAN_FIELDS)
    if "supportive_contacts" in values:
        values["supportive_contacts"] = _clean_contacts(errors, values["supportive_contacts"])
    for field, value in values.items():
        if value is None and field not in ("appointment_date", "medication_supply_days"):
            value = ""
        setattr(plan, field, value)
    _full_clean(plan, errors, exclude=["person", "episode", "created_by", "reviewed_by"])
    _raise(errors)
    plan.save()
    audit_record(
        actor=actor,
        action="health.relapse_plan_create" if created else "health.relapse_plan_edit",
        target=plan,
        person=person,
        before=None if created else before,
        after={"version": plan.version} if created else snapshot(plan, PLAN_FIELDS),
    )
    return plan


def _locked_plan(actor, plan: RelapsePlan) -> RelapsePlan:
    _require_plan_editor(actor)
    plan = RelapsePlan.objects.select_for_update().select_related("person").get(pk=plan.pk)
    _require_person_in_scope(actor, plan.person)
    return plan


@transaction.atomic
def relapse_plan_activate(*, actor, plan: RelapsePlan) -> RelapsePlan:
    """Activate a draft; the previously active version is superseded (and kept)."""
    plan = _locked_plan(actor, plan)
    errors: dict[str, list[str]] = {}
    if plan.status != RelapsePlanStatus.DRAFT:
        _add(errors, "__all__", _("Only a draft can be activated."))
    for field in ("high_risk_situations", "coping_strategies"):
        if not getattr(plan, field).strip():
            _add(errors, field, _("This field is required before the plan is activated."))
    _raise(errors)
    RelapsePlan.objects.filter(person=plan.person, status=RelapsePlanStatus.ACTIVE).update(
        status=RelapsePlanStatus.SUPERSEDED
    )
    plan.status = RelapsePlanStatus.ACTIVE
    plan.activated_by = _actor_or_none(actor)
    plan.activated_at = timezone.now()
    plan.save(update_fields=["status", "activated_by", "activated_at", "updated_at"])
    audit_record(
        actor=actor,
        action="health.relapse_plan_activate",
        target=plan,
        person=plan.person,
        after={"version": plan.version},
    )
    return plan


@transaction.atomic
def relapse_plan_review(
    *, actor, plan: RelapsePlan, reviewed_on: datetime.date | None = None
) -> RelapsePlan:
    """Record that the active plan was reviewed with the person (e.g. before release)."""
    plan = _locked_plan(actor, plan)
    errors: dict[str, list[str]] = {}
    if plan.status != RelapsePlanStatus.ACTIVE:
        _add(errors, "__all__", _("Only the active plan is reviewed."))
    reviewed_on = reviewed_on or _today()
    _date_not_future(errors, "reviewed_on", reviewed_on)
    _raise(errors)
    before = snapshot(plan, ["reviewed_on", "reviewed_by_id"])
    plan.reviewed_on = reviewed_on
    plan.reviewed_by = _actor_or_none(actor)
    plan.save(update_fields=["reviewed_on", "reviewed_by", "updated_at"])
    audit_record(
        actor=actor,
        action="health.relapse_plan_review",
        target=plan,
        person=plan.person,
        before=before,
        after=snapshot(plan, ["reviewed_on", "reviewed_by_id"]),
    )
    return plan

"""Who may see and record health information. Built on ``whatworks.records.access``.

Rules (tested persona by persona in tests/test_access.py):

- Diagnoses, health referrals and the clinical sources of the flags are health records:
  health staff, facility managers and administrators see them, for persons in their scope;
  every read of diagnoses is audited (``health.read``, written by the selector). Health staff
  record them.
- Case managers see the flags (substance use, mental health, co-occurring) without their
  sources, and the prompt to consider a health referral.
- Relapse prevention plans: case managers, health staff, facility managers and
  administrators write them within their facilities, also after release (the plan is carried
  into follow-up); programme staff read them.

A row outside the viewer's scope raises ``DoesNotExist``, exactly as a missing one does.
"""

from __future__ import annotations

from django.db.models import QuerySet

from whatworks.accounts.models import Role
from whatworks.health.models import Diagnosis, HealthReferral, RelapsePlan
from whatworks.records.access import is_active_staff, persons_visible_to

HEALTH_RECORD_ROLES = frozenset({Role.ADMINISTRATOR, Role.FACILITY_MANAGER, Role.HEALTH_STAFF})
HEALTH_RECORDER_ROLES = frozenset({Role.HEALTH_STAFF})
FLAG_VIEWER_ROLES = HEALTH_RECORD_ROLES | {Role.CASE_MANAGER}
RELAPSE_EDITOR_ROLES = FLAG_VIEWER_ROLES
RELAPSE_READER_ROLES = RELAPSE_EDITOR_ROLES | {Role.PROGRAMME_STAFF}


def _has_role(user, roles) -> bool:
    return is_active_staff(user) and user.role in roles


def can_view_health_records(user) -> bool:
    return _has_role(user, HEALTH_RECORD_ROLES)


def can_record_health(user) -> bool:
    return _has_role(user, HEALTH_RECORDER_ROLES)


def can_view_flags(user) -> bool:
    return _has_role(user, FLAG_VIEWER_ROLES)


def can_edit_relapse_plans(user) -> bool:
    return _has_role(user, RELAPSE_EDITOR_ROLES)


def can_view_relapse_plans(user) -> bool:
    return _has_role(user, RELAPSE_READER_ROLES)


def can_view_health_page(user) -> bool:
    return can_view_flags(user) or can_view_relapse_plans(user)


def diagnoses_visible_to(user) -> QuerySet[Diagnosis]:
    if not can_view_health_records(user):
        return Diagnosis.objects.none()
    return Diagnosis.objects.filter(person__in=persons_visible_to(user))


def health_referrals_visible_to(user) -> QuerySet[HealthReferral]:
    if not can_view_health_records(user):
        return HealthReferral.objects.none()
    return HealthReferral.objects.filter(person__in=persons_visible_to(user))


def relapse_plans_visible_to(user) -> QuerySet[RelapsePlan]:
    if not can_view_relapse_plans(user):
        return RelapsePlan.objects.none()
    return RelapsePlan.objects.filter(person__in=persons_visible_to(user))


def access_diagnosis_for_edit(user, diagnosis_id: int) -> Diagnosis:
    if not can_record_health(user):
        raise Diagnosis.DoesNotExist
    return diagnoses_visible_to(user).select_related("person").get(pk=diagnosis_id)


def access_health_referral_for_edit(user, referral_id: int) -> HealthReferral:
    if not can_record_health(user):
        raise HealthReferral.DoesNotExist
    return health_referrals_visible_to(user).select_related("person").get(pk=referral_id)


def access_relapse_plan_by_id(user, plan_id: int) -> RelapsePlan:
    return (
        relapse_plans_visible_to(user)
        .select_related("person", "person__current_facility", "episode")
        .get(pk=plan_id)
    )


def access_relapse_plan_for_edit(user, plan_id: int) -> RelapsePlan:
    if not can_edit_relapse_plans(user):
        raise RelapsePlan.DoesNotExist
    return access_relapse_plan_by_id(user, plan_id)

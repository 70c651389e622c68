"""Who may do what in treatment. Built on ``whatworks.records.access``; every person-level
read starts from ``persons_visible_to`` so scope is decided in one place.

Rules (tested persona by persona in tests/test_access.py):

- The programme catalogue is not person data: every active member of staff may read it.
  Administrators, facility managers and programme staff edit it and record fidelity reviews.
- Plans: case managers, facility managers and administrators propose, edit and approve them;
  programme and health staff read them (to deliver and to coordinate care), within scope.
- Referrals: case managers, facility managers and administrators refer; programme staff,
  facility managers and administrators assess suitability, waitlist and allocate; either
  side may record that a referral was not completed.
- Groups, sessions and attendance: programme staff, facility managers and administrators, for
  groups at their facilities (community groups: administrators and programme staff).
- Remission: case managers, facility managers, administrators and programme staff see a
  person's credits; facility managers and administrators record disciplinary faults.
- Analysts: the treatment dashboards (aggregates, small counts suppressed); no person.

A referral, plan or group outside the viewer's scope raises ``DoesNotExist``, exactly as a
missing one does.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from whatworks.accounts.models import Role
from whatworks.records.access import facilities_in_scope, is_active_staff, persons_visible_to
from whatworks.treatment.models import (
    GroupSession,
    InterventionPlan,
    ProgrammeGroup,
    Referral,
)

PLANNER_ROLES = frozenset({Role.ADMINISTRATOR, Role.FACILITY_MANAGER, Role.CASE_MANAGER})
PLAN_READER_ROLES = PLANNER_ROLES | {Role.PROGRAMME_STAFF, Role.HEALTH_STAFF}
REFERRER_ROLES = PLANNER_ROLES
DELIVERY_ROLES = frozenset({Role.ADMINISTRATOR, Role.FACILITY_MANAGER, Role.PROGRAMME_STAFF})
CATALOGUE_EDITOR_ROLES = DELIVERY_ROLES
REMISSION_READER_ROLES = PLANNER_ROLES | {Role.PROGRAMME_STAFF}
FAULT_RECORDER_ROLES = frozenset({Role.ADMINISTRATOR, Role.FACILITY_MANAGER})
DASHBOARD_ROLES = frozenset({Role.ADMINISTRATOR, Role.ANALYST, Role.FACILITY_MANAGER})


def _has_role(user, roles) -> bool:
    return is_active_staff(user) and user.role in roles


def can_view_catalogue(user) -> bool:
    return is_active_staff(user)


def can_edit_catalogue(user) -> bool:
    return _has_role(user, CATALOGUE_EDITOR_ROLES)


def can_plan(user) -> bool:
    return _has_role(user, PLANNER_ROLES)


def can_view_plans(user) -> bool:
    return _has_role(user, PLAN_READER_ROLES)


def can_refer(user) -> bool:
    return _has_role(user, REFERRER_ROLES)


def can_deliver(user) -> bool:
    """Suitability, waitlists, allocation, groups, sessions and attendance."""
    return _has_role(user, DELIVERY_ROLES)


def can_view_referrals(user) -> bool:
    return can_refer(user) or can_deliver(user)


def can_view_remission(user) -> bool:
    return _has_role(user, REMISSION_READER_ROLES)


def can_record_faults(user) -> bool:
    return _has_role(user, FAULT_RECORDER_ROLES)


def can_view_treatment_dashboard(user) -> bool:
    return _has_role(user, DASHBOARD_ROLES)


def plans_visible_to(user) -> QuerySet[InterventionPlan]:
    if not can_view_plans(user):
        return InterventionPlan.objects.none()
    return InterventionPlan.objects.filter(person__in=persons_visible_to(user))


def access_plan_by_id(user, plan_id: int) -> InterventionPlan:
    return plans_visible_to(user).select_related("person", "assessment").get(pk=plan_id)


def access_plan_for_edit(user, plan_id: int) -> InterventionPlan:
    if not can_plan(user):
        raise InterventionPlan.DoesNotExist
    return access_plan_by_id(user, plan_id)


def referrals_visible_to(user) -> QuerySet[Referral]:
    if not can_view_referrals(user):
        return Referral.objects.none()
    return Referral.objects.filter(person__in=persons_visible_to(user))


def access_referral_by_id(user, referral_id: int) -> Referral:
    return (
        referrals_visible_to(user)
        .select_related("person", "programme", "facility", "group")
        .get(pk=referral_id)
    )


def groups_visible_to(user) -> QuerySet[ProgrammeGroup]:
    """Groups at the user's facilities; community groups for administrators and programme
    staff (community offices are not yet a scope: ADR 0004)."""
    if not (can_deliver(user) or can_view_referrals(user)):
        return ProgrammeGroup.objects.none()
    if user.role == Role.ADMINISTRATOR:
        return ProgrammeGroup.objects.all()
    in_scope = Q(facility__in=facilities_in_scope(user))
    if user.role == Role.PROGRAMME_STAFF:
        in_scope |= Q(facility__isnull=True)
    return ProgrammeGroup.objects.filter(in_scope)


def access_group_by_id(user, group_id: int) -> ProgrammeGroup:
    return groups_visible_to(user).select_related("programme", "facility").get(pk=group_id)


def access_group_for_delivery(user, group_id: int) -> ProgrammeGroup:
    if not can_deliver(user):
        raise ProgrammeGroup.DoesNotExist
    return access_group_by_id(user, group_id)


def access_session_for_delivery(user, session_id: int) -> GroupSession:
    if not can_deliver(user):
        raise GroupSession.DoesNotExist
    return (
        GroupSession.objects.filter(group__in=groups_visible_to(user))
        .select_related("group", "group__programme", "group__facility")
        .get(pk=session_id)
    )

"""Who may see and prepare a release. Built on ``whatworks.records.access``.

- Case managers, facility managers and administrators prepare releases: every pathway,
  task, arrangement and handover, for persons in their facilities (released persons stay
  with the facility that released them, so follow-through after release is theirs too).
- Health staff work the health and drugs-and-alcohol pathways and arrange health
  appointments and medication on release.
- Programme staff read the preparation (their programmes feed it); they do not change it,
  and the details of health appointments and medication are withheld from them.
- Analysts see no person; the readiness counts reach them through aggregate pages only.

A person outside the viewer's scope raises ``DoesNotExist``, exactly as a missing one does.
"""

from __future__ import annotations

from django.db.models import QuerySet

from whatworks.accounts.models import Role
from whatworks.records.access import is_active_staff, persons_visible_to
from whatworks.records.choices import Pathway
from whatworks.reintegration.models import (
    Arrangement,
    ArrangementKind,
    PathwayTask,
    ReleasePreparation,
)

PREPARER_ROLES = frozenset({Role.ADMINISTRATOR, Role.FACILITY_MANAGER, Role.CASE_MANAGER})
READER_ROLES = PREPARER_ROLES | {Role.PROGRAMME_STAFF, Role.HEALTH_STAFF}
HEALTH_PATHWAYS = frozenset({Pathway.HEALTH, Pathway.DRUGS_ALCOHOL})
HEALTH_ARRANGEMENTS = frozenset({ArrangementKind.HEALTH_APPOINTMENT, ArrangementKind.MEDICATION})


def _has_role(user, roles) -> bool:
    return is_active_staff(user) and user.role in roles


def can_view_preparation(user) -> bool:
    return _has_role(user, READER_ROLES)


def can_prepare(user) -> bool:
    """May change anything in a release preparation."""
    return _has_role(user, PREPARER_ROLES)


def can_edit_pathway(user, pathway: str) -> bool:
    if can_prepare(user):
        return True
    return _has_role(user, {Role.HEALTH_STAFF}) and pathway in HEALTH_PATHWAYS


def can_edit_arrangement(user, kind: str) -> bool:
    if can_prepare(user):
        return True
    return _has_role(user, {Role.HEALTH_STAFF}) and kind in HEALTH_ARRANGEMENTS


def can_see_health_arrangements(user) -> bool:
    """What medication and which health appointments: health information (ADR 0010), for the
    roles that see the health flags; programme staff learn only that one is arranged."""
    from whatworks.health.access import can_view_flags

    return can_view_flags(user)


def can_hand_over(user) -> bool:
    return can_prepare(user)


def can_edit_anything(user) -> bool:
    return can_prepare(user) or _has_role(user, {Role.HEALTH_STAFF})


def preparations_visible_to(user) -> QuerySet[ReleasePreparation]:
    if not can_view_preparation(user):
        return ReleasePreparation.objects.none()
    return ReleasePreparation.objects.filter(person__in=persons_visible_to(user))


def access_task_for_edit(user, task_id: int) -> PathwayTask:
    """A task the user may change; anything else raises ``PathwayTask.DoesNotExist``."""
    task = PathwayTask.objects.select_related("preparation").get(
        pk=task_id, preparation__in=preparations_visible_to(user)
    )
    if not can_edit_pathway(user, task.pathway):
        raise PermissionError
    return task


def access_arrangement_for_edit(user, arrangement_id: int) -> Arrangement:
    arrangement = Arrangement.objects.select_related("preparation").get(
        pk=arrangement_id, preparation__in=preparations_visible_to(user)
    )
    if not can_edit_arrangement(user, arrangement.kind):
        raise PermissionError
    return arrangement

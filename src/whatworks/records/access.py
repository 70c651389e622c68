"""The access chokepoints for person data. Every read of a person goes through here.

Rules (one place, tested persona by persona in records/tests/test_access.py):

- Administrators see every facility and every person, and the change history.
- Facility managers, case managers, programme staff and health staff see the persons whose
  responsible facility (``Person.current_facility``) is one of their facilities.
- Outcome events (police and court records) are shown to administrators, facility managers
  and case managers only; programme and health staff do not need them.
- Analysts see aggregate figures for every facility but no identifiable person record;
  research extracts reach them through pseudonymous research IDs (later issues).
- Writes to identity and custody records: administrators, facility managers and case
  managers, within their facilities.

A person outside the viewer's scope raises ``Person.DoesNotExist``, exactly as a missing one
does, so "not allowed" cannot be told apart from "not found".
"""

from __future__ import annotations

from django.db.models import QuerySet

from whatworks.accounts.models import Role
from whatworks.records.models import Facility, Person

PERSON_VIEWER_ROLES = frozenset(
    {
        Role.ADMINISTRATOR,
        Role.FACILITY_MANAGER,
        Role.CASE_MANAGER,
        Role.PROGRAMME_STAFF,
        Role.HEALTH_STAFF,
    }
)
OUTCOME_VIEWER_ROLES = frozenset({Role.ADMINISTRATOR, Role.FACILITY_MANAGER, Role.CASE_MANAGER})
RECORD_EDITOR_ROLES = frozenset({Role.ADMINISTRATOR, Role.FACILITY_MANAGER, Role.CASE_MANAGER})
ALL_FACILITY_ROLES = frozenset({Role.ADMINISTRATOR, Role.ANALYST})


def is_active_staff(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def facilities_in_scope(user) -> QuerySet[Facility]:
    """Facilities whose figures the user may see (aggregates for analysts)."""
    if not is_active_staff(user):
        return Facility.objects.none()
    if user.role in ALL_FACILITY_ROLES:
        return Facility.objects.all()
    return Facility.objects.filter(staff=user)


def can_view_persons(user) -> bool:
    return is_active_staff(user) and user.role in PERSON_VIEWER_ROLES


def can_view_outcomes(user) -> bool:
    return is_active_staff(user) and user.role in OUTCOME_VIEWER_ROLES


def can_edit_records(user) -> bool:
    return is_active_staff(user) and user.role in RECORD_EDITOR_ROLES


EVIDENCE_VIEWER_ROLES = frozenset({Role.ADMINISTRATOR, Role.ANALYST, Role.FACILITY_MANAGER})


def can_view_evidence(user) -> bool:
    """Aggregate outcome figures: analysts and administrators for the whole service,
    facility managers for their facilities (through ``facilities_in_scope``)."""
    return is_active_staff(user) and user.role in EVIDENCE_VIEWER_ROLES


def can_view_change_history(user) -> bool:
    return is_active_staff(user) and user.role == Role.ADMINISTRATOR


def persons_visible_to(user) -> QuerySet[Person]:
    if not can_view_persons(user):
        return Person.objects.none()
    # Records merged into another (records/merge.py) are tombstones: they appear nowhere.
    live = Person.objects.filter(merged_into__isnull=True)
    if user.role == Role.ADMINISTRATOR:
        return live
    # The facility ids as constants (one small query), not a join through the staff table:
    # with a constant, PostgreSQL walks the (current_facility, name) index in the list's
    # order and stops after a page; through the join it sorted every person of the facility
    # for each page (docs/load.md).
    facility_ids = list(user.facilities.values_list("id", flat=True))
    return live.filter(current_facility_id__in=facility_ids)


def access_person_by_id(user, person_id: int) -> Person:
    """The one way to fetch a person for display. Missing and forbidden look the same."""
    return persons_visible_to(user).select_related("current_facility").get(pk=person_id)


def access_person_for_edit(user, person_id: int) -> Person:
    if not can_edit_records(user):
        raise Person.DoesNotExist
    return access_person_by_id(user, person_id)


def facility_assignable_by(user, facility: Facility) -> bool:
    """Whether the user may place or move a person into this facility."""
    if not can_edit_records(user):
        return False
    return (
        user.role == Role.ADMINISTRATOR or facilities_in_scope(user).filter(pk=facility.pk).exists()
    )

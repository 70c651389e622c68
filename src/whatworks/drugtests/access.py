"""Who may see and record drug tests. Built on ``whatworks.records.access``.

Rules (tested persona by persona in tests/test_access.py):

- Results are health data. Health staff record and read tests for persons at their
  facilities; facility managers and administrators read them.
- Case managers read results only when ``settings.DRUG_TEST_RESULTS_FOR_CASE_MANAGERS`` is
  on (``WHATWORKS_DRUG_TEST_RESULTS_FOR_CASE_MANAGERS``, off by default). Otherwise they see
  only that a positive test asks them to consider a substance-use referral.
- Every read of a test's results is audited (``drugtest.read``, written by the selector).
- Selection lists: health staff, facility managers and administrators, for their facilities.
- The positivity dashboard (aggregates, small counts suppressed): the same roles and analysts.

A test outside the viewer's scope raises ``DrugTest.DoesNotExist``, exactly as a missing one.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from whatworks.accounts.models import Role
from whatworks.drugtests.models import DrugTest, SelectionList
from whatworks.records.access import facilities_in_scope, is_active_staff, persons_visible_to

RECORDER_ROLES = frozenset({Role.HEALTH_STAFF})
READER_ROLES = frozenset({Role.HEALTH_STAFF, Role.FACILITY_MANAGER, Role.ADMINISTRATOR})
SELECTION_ROLES = READER_ROLES
DASHBOARD_ROLES = READER_ROLES | {Role.ANALYST}
PROMPT_ROLES = READER_ROLES | {Role.CASE_MANAGER}


def _has_role(user, roles) -> bool:
    return is_active_staff(user) and user.role in roles


def can_record_tests(user) -> bool:
    return _has_role(user, RECORDER_ROLES)


def can_read_results(user) -> bool:
    if _has_role(user, READER_ROLES):
        return True
    return _has_role(user, {Role.CASE_MANAGER}) and bool(
        getattr(settings, "DRUG_TEST_RESULTS_FOR_CASE_MANAGERS", False)
    )


def can_see_prompt(user) -> bool:
    """Whether the user sees that a positive test asks for a substance-use referral."""
    return _has_role(user, PROMPT_ROLES)


def can_manage_selection(user) -> bool:
    return _has_role(user, SELECTION_ROLES)


def can_view_dashboard(user) -> bool:
    return _has_role(user, DASHBOARD_ROLES)


def can_use_drug_tests(user) -> bool:
    """The navigation link: health staff, facility managers and administrators."""
    return _has_role(user, READER_ROLES)


def tests_visible_to(user) -> QuerySet[DrugTest]:
    if not can_read_results(user):
        return DrugTest.objects.none()
    return DrugTest.objects.filter(person__in=persons_visible_to(user))


def access_test_by_id(user, test_id: int) -> DrugTest:
    return tests_visible_to(user).select_related("person", "facility").get(pk=test_id)


def access_test_for_correction(user, test_id: int) -> DrugTest:
    if not can_record_tests(user):
        raise DrugTest.DoesNotExist
    return access_test_by_id(user, test_id)


def facilities_for_selection(user):
    if not can_manage_selection(user):
        return facilities_in_scope(None)
    return facilities_in_scope(user)


def selection_lists_visible_to(user) -> QuerySet[SelectionList]:
    return SelectionList.objects.filter(facility__in=facilities_for_selection(user))

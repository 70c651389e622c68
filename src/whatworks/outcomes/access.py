"""Who may see the link review queue and the import log.

- The review queue shows police and court records, so it follows ``can_view_outcomes``:
  administrators see every pending item; facility managers and case managers only items
  whose candidate person is in their scope (``persons_visible_to``). An item out of scope
  looks exactly like a missing one. Programme staff, health staff and analysts have no queue.
- The import log (counts per file) is for administrators and facility managers; the names
  of unmatched rows on it are for administrators only, because those people are in nobody's
  scope.
"""

from __future__ import annotations

from django.db.models import QuerySet

from whatworks.accounts.models import Role
from whatworks.outcomes.models import LinkReview
from whatworks.records.access import can_view_outcomes, is_active_staff, persons_visible_to

IMPORT_VIEWER_ROLES = frozenset({Role.ADMINISTRATOR, Role.FACILITY_MANAGER})
IMPORT_ROLES = frozenset({Role.ADMINISTRATOR, Role.FACILITY_MANAGER})


def can_review_links(user) -> bool:
    return can_view_outcomes(user)


def can_view_imports(user) -> bool:
    return is_active_staff(user) and user.role in IMPORT_VIEWER_ROLES


def can_see_unmatched_rows(user) -> bool:
    return is_active_staff(user) and user.role == Role.ADMINISTRATOR


def can_import(user) -> bool:
    """Who a command-line import may be attributed to (``--actor``)."""
    return is_active_staff(user) and user.role in IMPORT_ROLES


def link_reviews_visible_to(user) -> QuerySet[LinkReview]:
    if not can_review_links(user):
        return LinkReview.objects.none()
    if user.role == Role.ADMINISTRATOR:
        return LinkReview.objects.all()
    return LinkReview.objects.filter(candidate__in=persons_visible_to(user))


def access_link_review(user, review_id: int) -> LinkReview:
    """A review item the user may decide; out of scope raises DoesNotExist like missing."""
    return (
        link_reviews_visible_to(user)
        .select_related("candidate", "outcome_import")
        .get(pk=review_id)
    )

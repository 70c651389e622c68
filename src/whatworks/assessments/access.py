"""Who may assess, and who may see which assessment. Built on ``whatworks.records.access``.

Rules (tested persona by persona in tests/test_access.py):

- Case managers, facility managers and administrators assess with every instrument; health
  staff with the health instruments (K6, AUDIT) only; always for persons in their scope
  (``access_person_by_id``).
- K6 and AUDIT answers are health data: only health staff see the answers, and every such
  read is audited (``assessment.read_answers``, written by the selector that returns them).
  Case managers, facility managers and administrators see the band, not the answers.
- Programme staff see the bands and needs of completed RNR screeners, nothing else.
- Analysts see no person-level assessment; they see the override-rate aggregates.

An assessment outside the viewer's scope raises ``Assessment.DoesNotExist``, exactly as a
missing one does.
"""

from __future__ import annotations

from django.db.models import QuerySet

from whatworks.accounts.models import Role
from whatworks.assessments.models import Assessment, AssessmentStatus
from whatworks.records.access import is_active_staff, persons_visible_to

HEALTH_INSTRUMENTS = frozenset({"k6", "audit"})
RNR_SCREENER = "rnr-screener"
FULL_ASSESSOR_ROLES = frozenset({Role.ADMINISTRATOR, Role.FACILITY_MANAGER, Role.CASE_MANAGER})
OVERRIDE_APPROVER_ROLES = frozenset({Role.ADMINISTRATOR, Role.FACILITY_MANAGER})
OVERRIDE_RATE_ROLES = frozenset({Role.ADMINISTRATOR, Role.ANALYST, Role.FACILITY_MANAGER})


def is_health_instrument(slug: str) -> bool:
    return slug in HEALTH_INSTRUMENTS


def can_assess(user, slug: str | None = None) -> bool:
    """Whether the user may start and fill in assessments (with ``slug``, when given)."""
    if not is_active_staff(user):
        return False
    if user.role in FULL_ASSESSOR_ROLES:
        return True
    if user.role == Role.HEALTH_STAFF:
        return slug is None or slug in HEALTH_INSTRUMENTS
    return False


def can_view_assessments(user) -> bool:
    """Whether the user sees any person-level assessment (see the rules above)."""
    return can_assess(user) or (is_active_staff(user) and user.role == Role.PROGRAMME_STAFF)


def can_view_due_list(user) -> bool:
    return can_assess(user)


def can_view_override_rates(user) -> bool:
    return is_active_staff(user) and user.role in OVERRIDE_RATE_ROLES


def can_approve_override(user) -> bool:
    return is_active_staff(user) and user.role in OVERRIDE_APPROVER_ROLES


def can_view_answers(user, assessment: Assessment) -> bool:
    """Full answers: health staff for health instruments; assessors for the others."""
    if not is_active_staff(user):
        return False
    if is_health_instrument(assessment.slug):
        return user.role == Role.HEALTH_STAFF
    return user.role in FULL_ASSESSOR_ROLES


def assessments_visible_to(user) -> QuerySet[Assessment]:
    """Assessments the user may see (result level), for persons in the user's scope."""
    if not is_active_staff(user):
        return Assessment.objects.none()
    visible = Assessment.objects.filter(person__in=persons_visible_to(user))
    if user.role in FULL_ASSESSOR_ROLES:
        return visible
    if user.role == Role.HEALTH_STAFF:
        return visible.filter(instrument_version__slug__in=HEALTH_INSTRUMENTS)
    if user.role == Role.PROGRAMME_STAFF:
        return visible.filter(
            instrument_version__slug=RNR_SCREENER, status=AssessmentStatus.COMPLETED
        )
    return Assessment.objects.none()


def access_assessment_by_id(user, assessment_id: int) -> Assessment:
    """The one way to fetch an assessment for display. Missing and forbidden look the same."""
    return (
        assessments_visible_to(user)
        .select_related("person", "instrument_version", "assessed_by", "override_approved_by")
        .defer("instrument_version__definition")
        .get(pk=assessment_id)
    )


def access_assessment_for_edit(user, assessment_id: int) -> Assessment:
    """An assessment the user may fill in or override (its instrument is one they use)."""
    assessment = access_assessment_by_id(user, assessment_id)
    if not can_assess(user, assessment.slug):
        raise Assessment.DoesNotExist
    return assessment

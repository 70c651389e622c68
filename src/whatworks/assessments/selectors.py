"""Reads of assessments. Every person-level read starts from ``assessments.access``.

``assessment_answers`` is the only way to obtain the answers of an assessment: it checks
the health-data rule and writes an ``assessment.read_answers`` audit event for every read
of K6 or AUDIT answers.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from whatworks.assessments.access import (
    RNR_SCREENER,
    assessments_visible_to,
    can_assess,
    can_view_answers,
    is_health_instrument,
)
from whatworks.assessments.models import Assessment, AssessmentStatus
from whatworks.audit.services import audit_record
from whatworks.records.access import facilities_in_scope, persons_visible_to
from whatworks.records.models import Person

DUE_WITHIN_DAYS = 30
OVERRIDE_POLICY_RANGE = (0.05, 0.15)


def assessment_list(*, viewer, person: Person) -> QuerySet[Assessment]:
    """The person's assessments the viewer may see, newest first."""
    return (
        assessments_visible_to(viewer)
        .filter(person=person)
        .select_related("instrument_version", "assessed_by")
        # The instrument is built once per version (models._BUILT_INSTRUMENTS); decoding
        # the stored definition and the answers of every row would dominate the page.
        .defer("instrument_version__definition", "answers")
        .order_by("-assessed_on", "-id")
    )


def latest_results(*, viewer, person: Person) -> list[Assessment]:
    """The latest completed assessment per instrument, in instrument order."""
    latest: dict[str, Assessment] = {}
    for assessment in assessment_list(viewer=viewer, person=person).filter(
        status=AssessmentStatus.COMPLETED
    ):
        latest.setdefault(assessment.slug, assessment)
    return [latest[slug] for slug in sorted(latest)]


def assessment_answers(*, viewer, assessment: Assessment) -> dict[str, Any] | None:
    """The answers, when the viewer may see them; ``None`` otherwise.

    Reading the answers of a health instrument (K6, AUDIT) is audited, every time.
    """
    if not can_view_answers(viewer, assessment):
        return None
    if is_health_instrument(assessment.slug):
        with transaction.atomic():
            audit_record(
                actor=viewer,
                action="assessment.read_answers",
                target=assessment,
                person=assessment.person,
            )
    return dict(assessment.answers)


def _latest_completed() -> QuerySet[Assessment]:
    """Completed assessments not followed by a later completed one (same person, slug)."""
    later = Assessment.objects.filter(
        person=OuterRef("person"),
        instrument_version__slug=OuterRef("instrument_version__slug"),
        status=AssessmentStatus.COMPLETED,
    ).filter(
        Q(assessed_on__gt=OuterRef("assessed_on"))
        | Q(assessed_on=OuterRef("assessed_on"), pk__gt=OuterRef("pk"))
    )
    return Assessment.objects.filter(status=AssessmentStatus.COMPLETED).exclude(Exists(later))


def reassessment_due_list(
    *, viewer, today: datetime.date, within_days: int = DUE_WITHIN_DAYS
) -> list[Assessment]:
    """Latest assessments due within ``within_days`` (inclusive) or overdue, overdue first.

    Scoped to the persons in the viewer's facilities and the instruments the viewer uses.
    """
    if not can_assess(viewer):
        return []
    rows = (
        _latest_completed()
        .filter(
            person__in=persons_visible_to(viewer),
            next_due_date__isnull=False,
            next_due_date__lte=today + datetime.timedelta(days=within_days),
        )
        .select_related("person", "person__current_facility", "instrument_version")
        .defer("instrument_version__definition", "answers")
        .order_by("next_due_date", "person__last_names", "id")
    )
    return [row for row in rows if can_assess(viewer, row.slug)]


@dataclasses.dataclass(frozen=True)
class OverrideRate:
    facility_code: str
    facility_name: str
    instrument: str
    completed: int
    overridden: int

    @property
    def rate(self) -> float | None:
        return self.overridden / self.completed if self.completed else None

    @property
    def within_policy(self) -> bool | None:
        if self.rate is None:
            return None
        low, high = OVERRIDE_POLICY_RANGE
        return low <= self.rate <= high


def override_rates(*, viewer) -> list[OverrideRate]:
    """Share of completed assessments overridden, by facility and instrument (aggregates)."""
    rows = (
        Assessment.objects.filter(
            status=AssessmentStatus.COMPLETED, facility__in=facilities_in_scope(viewer)
        )
        .values("facility__code", "facility__name", "instrument_version__slug")
        .annotate(
            completed=Count("id"),
            overridden=Count("id", filter=~Q(override_band="")),
        )
        .order_by("facility__code", "instrument_version__slug")
    )
    return [
        OverrideRate(
            facility_code=row["facility__code"],
            facility_name=row["facility__name"],
            instrument=row["instrument_version__slug"],
            completed=row["completed"],
            overridden=row["overridden"],
        )
        for row in rows
    ]


def needs_for_planning(person: Person) -> dict[str, Any]:
    """The criminogenic needs from the person's latest completed RNR screener.

    For treatment planning (called by code that has already checked access to the person).
    Returns ``{}`` when there is none, else ``{"assessment_id", "assessed_on", "version",
    "band", "effective_band", "validated", "needs": {domain: {"score", "threshold",
    "is_need"}}, "need_domains": [domains that are needs]}``.
    """
    assessment = (
        Assessment.objects.filter(
            person=person,
            instrument_version__slug=RNR_SCREENER,
            status=AssessmentStatus.COMPLETED,
        )
        .select_related("instrument_version")
        .defer("instrument_version__definition", "answers")
        .order_by("-assessed_on", "-id")
        .first()
    )
    if assessment is None:
        return {}
    return {
        "assessment_id": assessment.pk,
        "assessed_on": assessment.assessed_on,
        "version": assessment.instrument_version.version,
        "band": assessment.band,
        "effective_band": assessment.effective_band,
        "validated": assessment.instrument_version.instrument.validated,
        "needs": {domain: dict(need) for domain, need in assessment.needs.items()},
        "need_domains": [domain for domain, need in assessment.needs.items() if need["is_need"]],
    }

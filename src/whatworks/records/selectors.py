"""Reads of the core records, always scoped through `whatworks.records.access`."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Coalesce, TruncMonth

from whatworks.records.access import (
    can_view_outcomes,
    facilities_in_scope,
    persons_visible_to,
)
from whatworks.records.models import CustodyEpisode, Facility, OutcomeEvent, Person


def person_ids_by_prison_number(numbers=None) -> dict[str, int]:
    """Prison number -> the id of the record that now holds that person's data, for imports.

    A duplicate merged into another record (records/merge.py) keeps its prison number on its
    tombstone; rows that still carry that number belong to the kept record. Merges re-point
    earlier tombstones to the final keeper, so one step is enough. No access scope: imports
    run as the system, over the whole service.
    """
    persons = Person.objects.all()
    if numbers is not None:
        persons = persons.filter(prison_number__in=list(numbers))
    return dict(persons.values_list("prison_number", Coalesce("merged_into_id", "id")))


def facility_list(*, viewer) -> QuerySet[Facility]:
    """Every facility of the service: names and capacities are not personal data."""
    return Facility.objects.all() if viewer.is_authenticated else Facility.objects.none()


def person_list(
    *,
    viewer,
    query: str = "",
    facility_code: str = "",
    in_custody: bool | None = None,
) -> QuerySet[Person]:
    """Persons the viewer may see, filtered by name or prison number and facility."""
    persons = persons_visible_to(viewer).select_related("current_facility")
    for term in query.split():
        persons = persons.filter(
            Q(first_names__icontains=term)
            | Q(last_names__icontains=term)
            | Q(prison_number__icontains=term)
            | Q(national_id__iexact=term)
        )
    if facility_code:
        persons = persons.filter(current_facility__code=facility_code)
    if in_custody is not None:
        open_episodes = CustodyEpisode.objects.filter(release_date__isnull=True)
        persons = (persons.filter if in_custody else persons.exclude)(
            pk__in=open_episodes.values("person_id")
        )
    return persons


def custody_episodes_for(*, person: Person) -> QuerySet[CustodyEpisode]:
    """Episodes of a person the caller already obtained through an access helper."""
    return person.custody_episodes.select_related(
        "admission_facility", "facility"
    ).prefetch_related("movements__from_facility", "movements__to_facility")


def outcome_events_for(*, viewer, person: Person) -> QuerySet[OutcomeEvent]:
    if not can_view_outcomes(viewer):
        return OutcomeEvent.objects.none()
    return person.outcome_events.all()


@dataclass(frozen=True)
class FacilityPopulation:
    facility: Facility
    in_custody: int

    @property
    def occupancy_percent(self) -> int:
        return round(100 * self.in_custody / self.facility.capacity)


@dataclass(frozen=True)
class MonthlyFlow:
    month: datetime.date
    admissions: int
    releases: int


@dataclass(frozen=True)
class Dashboard:
    population: list[FacilityPopulation]
    flows: list[MonthlyFlow]
    releases_due: QuerySet[CustodyEpisode]
    releases_due_count: int
    releases_due_until: datetime.date


def _month_start(day: datetime.date, months_back: int) -> datetime.date:
    month_index = day.year * 12 + day.month - 1 - months_back
    return datetime.date(month_index // 12, month_index % 12 + 1, 1)


def dashboard(
    *, viewer, today: datetime.date, months: int = 24, weeks_ahead: int = 12
) -> Dashboard:
    """Population, monthly flows and releases due, over the viewer's facilities.

    Analysts get the figures without the list of named persons due for release.
    """
    facilities = facilities_in_scope(viewer)
    episodes = CustodyEpisode.objects.filter(facility__in=facilities)
    in_custody = dict(
        episodes.filter(release_date__isnull=True)
        .values_list("facility_id")
        .annotate(total=Count("id"))
    )
    population = [
        FacilityPopulation(facility=facility, in_custody=in_custody.get(facility.pk, 0))
        for facility in facilities.exclude(facility_type="community_office")
    ]

    first_month = _month_start(today, months - 1)
    admissions = dict(
        CustodyEpisode.objects.filter(
            admission_facility__in=facilities, admission_date__gte=first_month
        )
        .annotate(month=TruncMonth("admission_date"))
        .values_list("month")
        .annotate(total=Count("id"))
    )
    releases = dict(
        episodes.filter(release_date__gte=first_month)
        .annotate(month=TruncMonth("release_date"))
        .values_list("month")
        .annotate(total=Count("id"))
    )
    flows = []
    for offset in range(months - 1, -1, -1):
        month = _month_start(today, offset)
        flows.append(
            MonthlyFlow(
                month=month,
                admissions=admissions.get(month, 0),
                releases=releases.get(month, 0),
            )
        )

    until = today + datetime.timedelta(weeks=weeks_ahead)
    due = episodes.filter(
        release_date__isnull=True,
        expected_release_date__gte=today,
        expected_release_date__lte=until,
    )
    due_count = due.count()
    visible = persons_visible_to(viewer)
    releases_due = (
        due.filter(person__in=visible)
        .select_related("person", "facility")
        .order_by("expected_release_date", "person__last_names")
    )
    return Dashboard(
        population=population,
        flows=flows,
        releases_due=releases_due,
        releases_due_count=due_count,
        releases_due_until=until,
    )

"""Reads for the evidence dashboard: the app's releases and outcome events as analysis frames.

The frames have the columns the recidivism engine (`whatworks.analytics.recidivism`) and the
`whatworks recidivism` command line expect, so the dashboard, its exports and an extract
written by `whatworks evidence_extract` give the same figures.

Only pseudonymous identifiers leave this module: a release is identified by its episode's
primary key and a person by their research ID, never by name, prison number or national ID.
Dates of birth are turned into an age band at release and dropped.
"""

from __future__ import annotations

import datetime
import functools
import operator
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from django.db.models import Q

from whatworks.analytics.recidivism import (
    RecidivismInputError,
    RecidivismResult,
    Suppression,
    measure,
    measure_technical_violation_variants,
)
from whatworks.evidence.forms import EvidenceQuery
from whatworks.records.access import facilities_in_scope
from whatworks.records.models import CustodyEpisode, Facility, OutcomeEvent

# Breakdown columns of the releases frame, in the order the form offers them.
GROUP_COLUMNS = ("facility", "facility_type", "cohort_year", "sex", "age_band")

# Age at release in whole years; lower bounds inclusive. People released before their 18th
# birthday should not be in an adult service; they are shown as such rather than hidden.
AGE_BANDS = (
    (55, "55+"),
    (45, "45–54"),
    (35, "35–44"),
    (25, "25–34"),
    (18, "18–24"),
)
UNDER_AGE_BAND = "under 18"

RELEASES_SCHEMA = {
    "release_id": pl.String,
    "person_id": pl.String,
    "release_date": pl.Date,
    "release_type": pl.String,
    "followup_end_date": pl.Date,
    "facility": pl.String,
    "facility_type": pl.String,
    "cohort_year": pl.String,
    "sex": pl.String,
    "age_band": pl.String,
}
EVENTS_SCHEMA = {
    "person_id": pl.String,
    "event_type": pl.String,
    "event_date": pl.Date,
    "offence_date": pl.Date,
}


def _year_ranges(years: list[int]) -> Q:
    """Releases in any of the given calendar years, as date ranges the release index can use.

    Consecutive years become one range, so "2015 to 2024" is a single BETWEEN.
    """
    spans: list[list[int]] = []
    for year in sorted(set(years)):
        if spans and spans[-1][1] == year - 1:
            spans[-1][1] = year
        else:
            spans.append([year, year])
    return functools.reduce(
        operator.or_,
        (
            Q(
                release_date__gte=datetime.date(first, 1, 1),
                release_date__lte=datetime.date(last, 12, 31),
            )
            for first, last in spans
        ),
    )


def _age_band(age: pl.Expr) -> pl.Expr:
    expression = pl.when(age < AGE_BANDS[-1][0]).then(pl.lit(UNDER_AGE_BAND))
    for lower, label in AGE_BANDS:
        expression = expression.when(age >= lower).then(pl.lit(label))
    return expression.otherwise(pl.lit(None, dtype=pl.String))


def release_frames(
    *, viewer, today: datetime.date, cohort_years: list[int] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The releases and outcome events the viewer may analyse, as (releases, events) frames.

    Releases are custody episodes with a release date whose releasing facility
    (``CustodyEpisode.facility``) is one of ``facilities_in_scope(viewer)``, optionally only
    those released in ``cohort_years`` (calendar years of the release date). Events are every
    outcome event of the persons in those releases; the engine decides which ones follow
    which release.

    ``cohort_year`` is the year of release as text ("2024"), so a CSV extract, which
    ``whatworks recidivism`` reads as text, gives the same group keys as the dashboard.

    ``followup_end_date`` is ``today`` for every release: outcome records (police, courts,
    prison service) are assumed complete up to today, so a follow-up window counts only when
    it has ended by today.

    Rows are read with ``values_list`` straight into Polars, without model instances, so a
    service with hundreds of thousands of releases is two queries.
    """
    episodes = CustodyEpisode.objects.filter(
        facility__in=facilities_in_scope(viewer), release_date__isnull=False
    )
    if cohort_years:
        episodes = episodes.filter(_year_ranges(cohort_years))
    rows = episodes.order_by("release_date", "pk").values_list(
        "pk",
        "person__research_id",
        "release_date",
        "release_type",
        "facility__code",
        "facility__facility_type",
        "person__sex",
        "person__date_of_birth",
    )
    raw = pl.DataFrame(
        list(rows),
        schema={
            "release_id": pl.Int64,
            "person_id": pl.String,
            "release_date": pl.Date,
            "release_type": pl.String,
            "facility": pl.String,
            "facility_type": pl.String,
            "sex": pl.String,
            "date_of_birth": pl.Date,
        },
        orient="row",
    )
    release_date = pl.col("release_date")
    birth = pl.col("date_of_birth")
    birthday_not_reached = (release_date.dt.month() * 100 + release_date.dt.day()) < (
        birth.dt.month() * 100 + birth.dt.day()
    )
    age = (
        release_date.dt.year().cast(pl.Int32)
        - birth.dt.year().cast(pl.Int32)
        - birthday_not_reached.cast(pl.Int32)
    )
    releases = raw.select(
        pl.col("release_id").cast(pl.String),
        "person_id",
        "release_date",
        "release_type",
        pl.lit(today, dtype=pl.Date).alias("followup_end_date"),
        "facility",
        "facility_type",
        release_date.dt.year().cast(pl.String).alias("cohort_year"),
        "sex",
        _age_band(age).alias("age_band"),
    )

    event_rows = (
        OutcomeEvent.objects.filter(person_id__in=episodes.values("person_id"))
        .order_by("event_date", "pk")
        .values_list("person__research_id", "event_type", "event_date", "offence_date")
    )
    events = pl.DataFrame(list(event_rows), schema=EVENTS_SCHEMA, orient="row")
    return releases, events


@dataclass(frozen=True)
class FacilityOption:
    code: str
    name: str


def evidence_facilities(*, viewer) -> list[FacilityOption]:
    """The facilities whose releases the viewer's figures cover, for the page's scope note."""
    return [
        FacilityOption(code=code, name=name)
        for code, name in facilities_in_scope(viewer).values_list("code", "name")
    ]


def all_facilities_count() -> int:
    return Facility.objects.count()


@dataclass(frozen=True)
class EvidenceReport:
    """What the dashboard and its exports show: the engine's published result and its scope.

    ``result`` is ``RecidivismResult.to_dict()``: the definition (name, version, sentence,
    citation), the windows overall, the groups of the breakdown, the excluded releases by
    reason and the Kaplan-Meier curve. Small cells are already suppressed by the engine.
    """

    query: EvidenceQuery
    today: datetime.date
    result: dict[str, Any]
    releases: int
    facilities: list[FacilityOption]
    whole_service: bool
    # The overall windows with and without technical violations, to publish side by side
    # (domain guide §5); empty when the definition counts technical violations only.
    technical_violation_variants: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def evidence_measure(
    *, releases: pl.DataFrame, events: pl.DataFrame, query: EvidenceQuery
) -> RecidivismResult:
    """The one place the dashboard calls the engine, so tests can repeat the computation."""
    return measure(
        releases,
        events,
        query.definition,
        windows=list(query.windows) if query.windows else None,
        by=query.by,
        suppression=Suppression(),
    )


def evidence_report(*, viewer, today: datetime.date, query: EvidenceQuery) -> EvidenceReport:
    """Measure recidivism over the viewer's releases for the query (see ``release_frames``)."""
    releases, events = release_frames(
        viewer=viewer, today=today, cohort_years=query.cohort_years(today=today)
    )
    result = evidence_measure(releases=releases, events=events, query=query)
    facilities = evidence_facilities(viewer=viewer)
    try:
        variants = measure_technical_violation_variants(
            releases,
            events,
            query.definition,
            windows=list(query.windows) if query.windows else None,
            suppression=Suppression(),
        )
    except RecidivismInputError:
        variants = {}
    return EvidenceReport(
        query=query,
        today=today,
        result=result.to_dict(),
        releases=releases.height,
        facilities=facilities,
        whole_service=len(facilities) == all_facilities_count(),
        technical_violation_variants={
            name: variant.to_dict()["windows"] for name, variant in variants.items()
        },
    )

"""Reads of drug tests. Every read of a person's results writes a ``drugtest.read`` audit
event; the dashboard returns aggregates with small counts suppressed."""

from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict

from django.db import transaction
from django.db.models import QuerySet

from whatworks.audit.services import audit_record
from whatworks.drugtests import access
from whatworks.drugtests.models import DrugTest
from whatworks.records.access import facilities_in_scope
from whatworks.records.models import Person
from whatworks.treatment.selectors import Proportion

VALID_RESULTS = ("negative", "positive")


def person_tests(*, viewer, person: Person) -> list[DrugTest]:
    """A person's tests, newest first, superseded ones included (marked). Audited."""
    tests: QuerySet[DrugTest] = (
        access.tests_visible_to(viewer)
        .filter(person=person)
        .select_related("collected_by", "recorded_by", "supersedes")
    )
    rows = list(tests)
    with transaction.atomic():
        audit_record(
            actor=viewer,
            action="drugtest.read",
            target=None,
            person=person,
            object_type="drugtests.drugtest",
            object_id=",".join(str(test.pk) for test in rows),
        )
    return rows


def test_detail(*, viewer, test_id: int) -> DrugTest:
    test = access.access_test_by_id(viewer, test_id)
    with transaction.atomic():
        audit_record(actor=viewer, action="drugtest.read", target=test, person=test.person)
    return test


@dataclasses.dataclass(frozen=True)
class PositivityRow:
    facility: str
    month: str
    substance: str
    share: Proportion


def positivity(*, viewer, since: datetime.date | None = None) -> list[PositivityRow]:
    """Positive among valid results (negative or positive), by facility, month and
    substance, from current tests at the viewer's facilities."""
    if not access.can_view_dashboard(viewer):
        return []
    tests = DrugTest.objects.filter(is_current=True, facility__in=facilities_in_scope(viewer))
    if since is not None:
        tests = tests.filter(test_date__gte=since)
    counts: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for facility, test_date, results in tests.values_list("facility__code", "test_date", "results"):
        month = test_date.strftime("%Y-%m")
        for substance, result in (results or {}).items():
            if result in VALID_RESULTS:
                cell = counts[(facility, month, substance)]
                cell[0] += result == "positive"
                cell[1] += 1
    return [
        PositivityRow(facility, month, substance, Proportion(numerator=n, denominator=d))
        for (facility, month, substance), (n, d) in sorted(
            counts.items(), key=lambda item: (item[0][0], item[0][1], item[0][2])
        )
    ]

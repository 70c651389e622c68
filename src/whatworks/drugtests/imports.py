"""Loading the simulator's ``drug_tests`` table (docs/simulator.md §5c), all or nothing.

Rows are keyed by ``test_key`` (stored as ``import_key``), so loading the same extract again
adds nothing. Persons and custody episodes must be loaded first. A bad row stops the whole
load with a message naming the table, the row and the field.
"""

from __future__ import annotations

import polars as pl
from django.db import transaction

from whatworks.analytics.drugtests import (
    TEST_REASONS,
    PanelResultError,
    load_panel,
    test_outcome,
    validate_results,
)
from whatworks.audit.services import audit_record
from whatworks.drugtests.models import DrugTest, TestOutcome
from whatworks.records.models import CustodyEpisode, Facility, Person

TABLE = "drug_tests"
REQUIRED = ("test_key", "prison_number", "episode_key", "facility", "test_date", "reason", "sample")
BATCH_SIZE = 1000


class DrugTestImportError(Exception):
    """The table cannot be loaded; the message names the table, row and field."""


def _fail(row: int, field: str, message: str) -> DrugTestImportError:
    # Row numbers count the header as row 1, as in a spreadsheet of the CSV file.
    return DrugTestImportError(f"{TABLE}: row {row}: {field}: {message}")


@transaction.atomic
def drugtests_load(*, table: pl.DataFrame, actor_label: str) -> int:
    """Load the drug_tests table; returns how many tests were added."""
    missing = [column for column in REQUIRED if column not in table.columns]
    if missing:
        raise DrugTestImportError(f"{TABLE}: missing column(s) {', '.join(missing)}")
    panel = load_panel()
    substances = [s for s in panel.substance_ids if s in table.columns]
    existing = set(DrugTest.objects.exclude(import_key="").values_list("import_key", flat=True))
    persons = dict(Person.objects.values_list("prison_number", "id"))
    episodes = dict(CustodyEpisode.objects.exclude(source_key=None).values_list("source_key", "id"))
    facilities = dict(Facility.objects.values_list("code", "id"))
    new: list[DrugTest] = []
    for row_number, row in enumerate(table.iter_rows(named=True), start=2):
        key = row["test_key"]
        if not key:
            raise _fail(row_number, "test_key", "is empty")
        if key in existing:
            continue
        person_id = persons.get(row["prison_number"])
        if person_id is None:
            raise _fail(row_number, "prison_number", f"unknown person {row['prison_number']!r}")
        facility_id = facilities.get(row["facility"])
        if facility_id is None:
            raise _fail(row_number, "facility", f"unknown facility {row['facility']!r}")
        if row["test_date"] is None:
            raise _fail(row_number, "test_date", "is empty")
        if row["reason"] not in TEST_REASONS:
            raise _fail(row_number, "reason", f"unknown reason {row['reason']!r}")
        raw = {s: row[s] for s in substances if row[s] is not None}
        try:
            results = validate_results(panel, row["sample"], raw)
        except PanelResultError as error:
            field, message = next(iter(error.errors.items()))
            raise _fail(row_number, field, str(message)) from None
        outcome = test_outcome(results)
        existing.add(key)
        new.append(
            DrugTest(
                person_id=person_id,
                episode_id=episodes.get(row["episode_key"]),
                facility_id=facility_id,
                test_date=row["test_date"],
                reason=row["reason"],
                sample=row["sample"],
                panel_slug=panel.slug,
                panel_version=panel.version,
                results=results,
                outcome=outcome,
                prompts_referral=outcome == TestOutcome.POSITIVE,
                import_key=key,
            )
        )
    DrugTest.objects.bulk_create(new, batch_size=BATCH_SIZE)
    if new:
        audit_record(
            actor=None,
            actor_label=actor_label,
            action="drugtest.import",
            target=None,
            object_type="drugtests.drugtest",
            object_id=actor_label,
            after={"tests": len(new)},
        )
    return len(new)

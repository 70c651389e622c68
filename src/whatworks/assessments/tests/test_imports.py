"""assessments_load: scored by the engine, all or nothing, idempotent, one audit event."""

import datetime
import json

import polars as pl
import pytest

from whatworks.assessments.imports import AssessmentImportError, assessments_load
from whatworks.assessments.models import Assessment
from whatworks.assessments.tests.helpers import k6_answers, rnr_answers
from whatworks.audit.models import AuditEvent


def _table(rows):
    return pl.DataFrame(
        rows,
        schema={
            "assessment_key": pl.Utf8,
            "prison_number": pl.Utf8,
            "instrument": pl.Utf8,
            "version": pl.Utf8,
            "assessed_on": pl.Date,
            "answers": pl.Utf8,
        },
        orient="row",
    )


def _rows(person):
    return [
        ("A1", person.prison_number, "k6", "1.0", datetime.date(2025, 2, 1),
         json.dumps(k6_answers([2, 2, 2, 2, 2, 3]))),
        ("A2", person.prison_number, "rnr-screener", "0.1", datetime.date(2025, 3, 1),
         json.dumps(rnr_answers(high=True))),
    ]  # fmt: skip


def test_load_scores_with_the_engine_and_is_idempotent(person_in_a):
    assert assessments_load(table=_table(_rows(person_in_a)), actor_label="demo") == 2
    k6 = Assessment.objects.get(import_key="A1")
    assert (k6.total, k6.band, k6.status) == (13, "serious_distress", "completed")
    rnr = Assessment.objects.get(import_key="A2")
    assert rnr.band == "very_high" and rnr.next_due_date == datetime.date(2025, 9, 1)
    assert rnr.episode == person_in_a.custody_episodes.get()
    assert assessments_load(table=_table(_rows(person_in_a)), actor_label="demo") == 0
    assert Assessment.objects.count() == 2
    events = AuditEvent.objects.filter(action="assessment.import")
    assert events.count() == 2 and events.last().actor_label == "demo"


@pytest.mark.parametrize(
    "bad, message",
    [
        (("B1", "CL-9999999", "k6", "1.0", datetime.date(2025, 1, 1), "{}"), "prison_number"),
        (
            ("B1", "CL-0000001", "nope", "1.0", datetime.date(2025, 1, 1), "{}"),
            "unknown instrument",
        ),
        (("B1", "CL-0000001", "k6", "9.9", datetime.date(2025, 1, 1), "{}"), "not registered"),
        (
            ("B1", "CL-0000001", "k6", "1.0", datetime.date(2025, 1, 1), '{"k6_1_nervous": 9}'),
            "k6_1",
        ),
        (("B1", "CL-0000001", "k6", "1.0", datetime.date(2025, 1, 1), "not json"), "answers"),
    ],
)
def test_a_bad_row_rolls_back_the_whole_load(person_in_a, bad, message):
    with pytest.raises(AssessmentImportError, match=message):
        assessments_load(table=_table([*_rows(person_in_a), bad]), actor_label="demo")
    assert not Assessment.objects.exists()
    assert not AuditEvent.objects.filter(action="assessment.import").exists()


def test_the_simulators_assessments_load_after_the_records(db):
    """The demo's path: simulate, load the records, then the assessments."""
    from django.utils import timezone

    from whatworks.analytics.simulation import SimulationConfig, simulate
    from whatworks.records.imports import extract_load

    service = simulate(SimulationConfig(persons=150, seed=5, extract_date=timezone.localdate()))
    tables = service.tables()
    extract_load(
        tables={name: frame for name, frame in tables.items() if name != "person_truth"},
        actor_label="test",
    )
    table = tables["assessments"]
    assert assessments_load(table=table, actor_label="test") == table.height
    assert Assessment.objects.count() == table.height
    assert not Assessment.objects.filter(band="").exists()
    assert Assessment.objects.exclude(episode=None).count() == table.height
    assert assessments_load(table=table, actor_label="test") == 0

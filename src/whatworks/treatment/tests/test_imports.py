"""Loading the simulator's programme tables: complete, idempotent, all or nothing."""

import datetime

import polars as pl
import pytest

from whatworks.analytics.simulation import SimulationConfig, simulate
from whatworks.records.imports import extract_load
from whatworks.treatment.imports import TreatmentImportError, treatment_load
from whatworks.treatment.models import (
    Attendance,
    GroupSession,
    Programme,
    ProgrammeGroup,
    Referral,
    ReferralStatusChange,
)

pytestmark = pytest.mark.django_db

EXTRACT_DATE = datetime.date(2026, 6, 30)


@pytest.fixture(scope="module")
def service():
    return simulate(SimulationConfig(persons=150, seed=4, extract_date=EXTRACT_DATE))


@pytest.fixture
def loaded_records(service):
    extract_load(tables=service.tables(), actor_label="test")
    return service


def test_load_is_complete_and_idempotent(loaded_records):
    tables = loaded_records.tables()
    summary = treatment_load(tables=tables, actor_label="test", today=EXTRACT_DATE)
    assert summary.programmes == tables["programmes"].height == Programme.objects.count()
    assert summary.groups == ProgrammeGroup.objects.count() == tables["programme_groups"].height
    assert summary.sessions == GroupSession.objects.count()
    assert summary.referrals == Referral.objects.count() == tables["programme_referrals"].height
    assert summary.attendance == Attendance.objects.count()
    # Every referral's history starts at "referred" and ends at its status.
    for referral in Referral.objects.order_by("?")[:20]:
        changes = list(ReferralStatusChange.objects.filter(referral=referral))
        assert changes[0].to_status == "referred" and changes[-1].to_status == referral.status
    again = treatment_load(tables=tables, actor_label="test", today=EXTRACT_DATE)
    assert again.total == 0


def test_a_bad_row_loads_nothing_and_names_the_row(loaded_records):
    tables = dict(loaded_records.tables())
    attendance = tables["programme_attendance"]
    tables["programme_attendance"] = attendance.with_columns(
        pl.when(pl.int_range(pl.len()) == 3)
        .then(pl.lit("present"))
        .otherwise(pl.col("status"))
        .alias("status")
    )
    with pytest.raises(TreatmentImportError, match=r"programme_attendance: row 5: status"):
        treatment_load(tables=tables, actor_label="test", today=EXTRACT_DATE)
    assert not Programme.objects.exists() and not Referral.objects.exists()


def test_a_missing_table_is_named(loaded_records):
    tables = dict(loaded_records.tables())
    del tables["programme_sessions"]
    with pytest.raises(TreatmentImportError, match="programme_sessions: table is missing"):
        treatment_load(tables=tables, actor_label="test", today=EXTRACT_DATE)

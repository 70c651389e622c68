"""Loading the simulator's follow-up contacts: idempotent, all or nothing, rows named."""

import datetime

import polars as pl
import pytest

from whatworks.community.imports import FollowUpImportError, followups_load
from whatworks.community.models import FollowUpContact


@pytest.fixture
def released(person_in_a):
    episode = person_in_a.custody_episodes.get()
    episode.source_key = "CL-0000001-01"
    episode.release_date = datetime.date(2025, 1, 10)
    episode.release_type = "end_of_sentence"
    episode.save(update_fields=["source_key", "release_date", "release_type"])
    return episode


def _table(**overrides):
    row = {
        "episode_key": "CL-0000001-01",
        "prison_number": "CL-0000001",
        "month": 1,
        "due_date": datetime.date(2025, 2, 10),
        "status": "done",
        "contact_date": datetime.date(2025, 2, 12),
        "housing_status": "stable",
        "employment_status": "unemployed",
        "substance_use": "occasional",
        "treatment_continuity": "continuing",
        "justice_contact": False,
    }
    row.update(overrides)
    return pl.DataFrame([row])


def test_contacts_load_once_with_their_outcomes(released):
    missed = _table(
        month=3,
        due_date=datetime.date(2025, 4, 10),
        status="missed",
        contact_date=None,
        housing_status="unknown",
        employment_status="unknown",
        substance_use="unknown",
        treatment_continuity=None,
        justice_contact=True,
    )
    table = pl.concat([_table(), missed])
    assert followups_load(table=table, actor_label="test") == 2
    assert followups_load(table=table, actor_label="test") == 0
    done = FollowUpContact.objects.get(month=1)
    assert (done.housing_status, done.justice_contact, done.contact_mode) == (
        "stable",
        "no",
        "in_person",
    )
    assert FollowUpContact.objects.get(month=3).status == "missed"


def test_a_bad_row_names_table_row_and_field_and_loads_nothing(released):
    bad = _table(month=3, housing_status="castle")
    with pytest.raises(FollowUpImportError, match=r"followup_contacts: row 3: housing_status"):
        followups_load(table=pl.concat([_table(), bad]), actor_label="test")
    assert FollowUpContact.objects.count() == 0
    with pytest.raises(FollowUpImportError, match=r"row 2: episode_key: unknown release"):
        followups_load(table=_table(episode_key="NOPE"), actor_label="test")

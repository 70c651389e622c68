"""A recent positive drug test raises the substance-use flag (and so the co-occurring one)."""

import datetime

import pytest

from whatworks.drugtests import services as drugtest_services
from whatworks.health.flags import health_flags

pytestmark = pytest.mark.django_db


def test_a_recent_positive_test_is_a_substance_use_source(helena, person_in_a):
    assert not health_flags(person_in_a).substance_use_need
    drugtest_services.drug_test_record(
        actor=helena,
        person=person_in_a,
        test_date=datetime.date.today() - datetime.timedelta(days=3),
        reason="random",
        sample="urine",
        seal_number="SEAL-FLAG-1",
        results={"cannabis": "positive"},
    )
    flags = health_flags(person_in_a)
    assert flags.substance_use_need
    assert [source.kind for source in flags.substance_use] == ["drug-test"]

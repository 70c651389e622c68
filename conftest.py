"""Shared fixtures: a small service with two facilities and the personas of the access rules.

Personas (who sees what is specified in whatworks.records.access):
- alice: case manager at facility A ("CL-A-01"); must see A's people and nothing of B's.
- bruno: case manager at facility B ("CL-B-01"); the mirror image.
- carla: analyst; aggregate figures for every facility, no person records.
- dora: administrator; everything, including change history.
- fabio: facility manager at A; pablo: programme staff at A; helena: health staff at A.
"""

from __future__ import annotations

import datetime
import os

import pytest

PASSWORD = "correct horse battery staple"


def pytest_collection_modifyitems(config, items):
    """Slow statistical replications run in CI (WHATWORKS_SLOW_TESTS=1), not on every save."""
    if os.environ.get("WHATWORKS_SLOW_TESTS") == "1" or "slow" in (config.getoption("-m") or ""):
        return
    skip_slow = pytest.mark.skip(reason="slow: runs in CI; set WHATWORKS_SLOW_TESTS=1 to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


@pytest.fixture
def facility_a(db):
    from whatworks.records.models import Facility

    return Facility.objects.create(
        code="CL-A-01",
        name="Centro Penitenciario Alfa",
        region="Metropolitana",
        facility_type="closed",
        security_level="high",
        capacity=500,
        population_sex="male",
    )


@pytest.fixture
def facility_b(db):
    from whatworks.records.models import Facility

    return Facility.objects.create(
        code="CL-B-01",
        name="Centro de Educación y Trabajo Beta",
        region="Valparaíso",
        facility_type="semi_open",
        security_level="low",
        capacity=120,
        population_sex="mixed",
    )


def _make_user(username, role, facilities=()):
    from whatworks.accounts.models import User

    user = User.objects.create_user(username=username, password=PASSWORD, role=role)
    user.facilities.set(facilities)
    return user


@pytest.fixture
def alice(facility_a):
    return _make_user("alice", "case_manager", [facility_a])


@pytest.fixture
def bruno(facility_b):
    return _make_user("bruno", "case_manager", [facility_b])


@pytest.fixture
def carla(db):
    return _make_user("carla", "analyst")


@pytest.fixture
def dora(db):
    return _make_user("dora", "administrator")


@pytest.fixture
def fabio(facility_a):
    return _make_user("fabio", "facility_manager", [facility_a])


@pytest.fixture
def pablo(facility_a):
    return _make_user("pablo", "programme_staff", [facility_a])


@pytest.fixture
def helena(facility_a):
    return _make_user("helena", "health_staff", [facility_a])


def person_data(**overrides):
    data = {
        "prison_number": "CL-0000001",
        "national_id": "",
        "first_names": "José Ignacio",
        "last_names": "Muñoz Rojas",
        "date_of_birth": datetime.date(1990, 4, 12),
        "sex": "male",
        "gender": "man",
        "nationality": "CL",
        "languages": ["es"],
        "literacy": "literate",
        "support_needs": [],
    }
    data.update(overrides)
    return data


def admission_data(**overrides):
    data = {
        "admission_date": datetime.date(2024, 1, 15),
        "admission_type": "sentenced",
        "legal_status": "sentenced",
        "main_offence_category": "robbery",
        "sentence_date": datetime.date(2024, 1, 15),
        "sentence_length_days": 1095,
        "expected_release_date": datetime.date(2027, 1, 15),
    }
    data.update(overrides)
    return data


@pytest.fixture
def person_in_a(facility_a):
    """José, held at facility A, admitted in January 2024."""
    from whatworks.records.services import person_admit

    episode = person_admit(
        actor=None, person_data=person_data(), facility=facility_a, admission_data=admission_data()
    )
    return episode.person


@pytest.fixture
def person_in_b(facility_b):
    """María, held at facility B."""
    from whatworks.records.services import person_admit

    episode = person_admit(
        actor=None,
        person_data=person_data(
            prison_number="CL-0000002",
            first_names="María José",
            last_names="González Pérez",
            sex="female",
            gender="woman",
            date_of_birth=datetime.date(1985, 9, 30),
        ),
        facility=facility_b,
        admission_data=admission_data(main_offence_category="drug_trafficking"),
    )
    return episode.person

import datetime

import pytest

from whatworks.outcomes.tests.helpers import released_person, row, write_csv


@pytest.fixture
def jose(facility_a):
    """Released from facility A on 1 June 2024; national ID 11111111-1."""
    return released_person(
        facility_a,
        number="CL-0000101",
        national_id="11111111-1",
        first="José Ignacio",
        last="Muñoz Rojas",
        birth=datetime.date(1990, 4, 12),
    )


@pytest.fixture
def maria(facility_b):
    """Released from facility B on 1 June 2024; national ID 22222222-2."""
    return released_person(
        facility_b,
        number="CL-0000202",
        national_id="22222222-2",
        first="María José",
        last="González Pérez",
        birth=datetime.date(1985, 9, 30),
    )


def linked_row(**overrides):
    return row(source_reference="PDI-LINK", **overrides)


def review_row(national_id="11111111-1", **overrides):
    """The right national ID but nothing else in common: the linkage asks a person."""
    data = {
        "first_name": "Pedro",
        "last_name": "Soto Vera",
        "date_of_birth": "1970-01-01",
        "national_id": national_id,
        "event_date": "2025-03-10",
        "offence_date": "",
        "source_reference": f"PDI-REVIEW-{national_id}",
    }
    data.update(overrides)
    return row(**data)


def unmatched_row(**overrides):
    data = {
        "first_name": "Zacarías",
        "last_name": "Quiroga Ulloa",
        "date_of_birth": "1961-11-11",
        "national_id": "99999999-9",
        "source_reference": "PDI-NONE",
    }
    data.update(overrides)
    return row(**data)


@pytest.fixture
def mixed_file(tmp_path, jose):
    return write_csv(tmp_path / "pdi.csv", [linked_row(), review_row(), unmatched_row()])

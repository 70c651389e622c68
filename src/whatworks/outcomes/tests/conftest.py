import datetime

import pytest

from whatworks.outcomes.tests.helpers import (
    linked_row,
    released_person,
    review_row,
    unmatched_row,
    write_csv,
)


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


@pytest.fixture
def mixed_file(tmp_path, jose):
    return write_csv(tmp_path / "pdi.csv", [linked_row(), review_row(), unmatched_row()])

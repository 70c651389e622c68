"""The audit viewer: administrators only, filters by staff member, person and action."""

from __future__ import annotations

import pytest
from django.urls import reverse

from whatworks.records.services import person_update

pytestmark = pytest.mark.django_db


def test_only_administrators_read_the_audit_trail(client, alice, carla, fabio, dora):
    for user, status in ((alice, 403), (carla, 403), (fabio, 403), (dora, 200)):
        client.force_login(user)
        assert client.get(reverse("audit-log")).status_code == status


def test_filters_by_staff_member_person_and_action(client, alice, dora, person_in_a, person_in_b):
    person_update(actor=alice, person=person_in_a, data={"last_names": "Muñoz Vera"})
    client.force_login(dora)
    page = client.get(reverse("audit-log"), {"username": "alice"}).content.decode()
    assert "person.update" in page and "custody.admit" not in page
    page = client.get(reverse("audit-log"), {"prison_number": "CL-0000002"}).content.decode()
    assert "CL-0000002" in page and "CL-0000001" not in page
    page = client.get(reverse("audit-log"), {"action": "custody."}).content.decode()
    assert "custody.admit" in page and "person.update" not in page
    response = client.get(reverse("audit-log"), {"since": "not a date"})
    assert response.status_code == 200  # a bad filter is shown on the form, never a 500

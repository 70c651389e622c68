"""The read-only JSON router (tested on its own until whatworks/api.py registers it)."""

from __future__ import annotations

import datetime

import pytest
from ninja.testing import TestClient

from whatworks.community import services
from whatworks.community.api import router
from whatworks.community.tests.helpers import provider
from whatworks.records.services import custody_release

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return TestClient(router)


def test_provider_list_filters_and_roles(api, dora, alice, carla):
    provider(dora)
    provider(dora, name="Taller Sur", kind="employer", pathways=["education_work"])
    response = api.get("/community/providers?pathway=accommodation", user=alice)
    assert response.status_code == 200
    assert [row["name"] for row in response.json()] == ["Fundación Nuevo Camino"]
    with pytest.raises(PermissionError):  # whatworks/api.py turns this into a 403
        api.get("/community/providers", user=carla)


def test_person_community_is_scoped(api, alice, bruno, dora, person_in_a):
    ngo = provider(dora)
    services.provider_referral_create(
        actor=alice, person=person_in_a, data={"provider": ngo, "pathway": "accommodation"}
    )
    custody_release(
        actor=alice,
        episode=person_in_a.custody_episodes.get(),
        release_date=datetime.date(2026, 1, 31),
        release_type="parole",
    )
    response = api.get(f"/persons/{person_in_a.pk}/community", user=alice)
    body = response.json()
    assert response.status_code == 200
    assert body["referrals"][0]["history"][0]["to_status"] == "proposed"
    assert [row["month"] for row in body["follow_ups"]] == [1, 3, 6, 12]
    assert body["follow_ups"][0]["status"] == "missed"  # today is long after 28 Feb 2026
    assert api.get(f"/persons/{person_in_a.pk}/community", user=bruno).status_code == 404

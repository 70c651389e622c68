"""Optimistic locking of pathway records and arrangements (issue 10)."""

import pytest
from django.urls import reverse

from whatworks.accounts.services import api_token_create
from whatworks.audit.models import AuditEvent
from whatworks.concurrency import StaleEdit
from whatworks.reintegration import services
from whatworks.reintegration.models import Arrangement, PathwayAssessment

pytestmark = pytest.mark.django_db


@pytest.fixture
def preparation(alice, person_in_a):
    return services.preparation_start(actor=alice, episode=person_in_a.custody_episodes.get())


def _pathway(actor, preparation, notes, version):
    return services.pathway_update(
        actor=actor,
        preparation=preparation,
        pathway="accommodation",
        data={"status": "support_required", "needs": ["no_address"], "notes": notes},
        expected_version=version,
    )


def test_second_pathway_save_on_a_stale_version_is_refused(alice, fabio, preparation):
    loaded = _pathway(alice, preparation, "First", None).lock_version
    _pathway(alice, preparation, "Alice's notes", loaded)
    events = AuditEvent.objects.count()
    with pytest.raises(StaleEdit) as error:
        _pathway(fabio, preparation, "Fabio's notes", loaded)
    assert "This pathway was changed by another user" in error.value.messages[0]
    stored = PathwayAssessment.objects.get(preparation=preparation, pathway="accommodation")
    assert stored.notes == "Alice's notes" and stored.lock_version == loaded + 1
    assert AuditEvent.objects.count() == events


def test_a_pathway_created_meanwhile_refuses_an_editor_who_saw_none(alice, fabio, preparation):
    # Both opened the pathway before it had a record (version 0); Alice saved first.
    PathwayAssessment.objects.filter(preparation=preparation, pathway="accommodation").delete()
    _pathway(alice, preparation, "Alice's notes", 0)
    with pytest.raises(StaleEdit):
        _pathway(fabio, preparation, "Fabio's notes", 0)
    stored = PathwayAssessment.objects.get(preparation=preparation, pathway="accommodation")
    assert stored.notes == "Alice's notes" and stored.lock_version == 1


def test_second_arrangement_save_on_a_stale_version_is_refused(alice, fabio, preparation):
    arrangement = services.arrangement_create(
        actor=alice,
        preparation=preparation,
        data={"kind": "accommodation", "detail_type": "family", "status": "planned"},
    )
    loaded = arrangement.lock_version
    services.arrangement_update(
        actor=alice, arrangement=arrangement, data={"notes": "Sister"}, expected_version=loaded
    )
    with pytest.raises(StaleEdit):
        services.arrangement_update(
            actor=fabio, arrangement=arrangement, data={"notes": "Hostel"}, expected_version=loaded
        )
    assert Arrangement.objects.get(pk=arrangement.pk).notes == "Sister"


def test_web_stale_pathway_save_is_409_with_the_notes_kept(client, alice, fabio, preparation):
    person = preparation.person
    url = reverse("pathway-edit", args=[person.pk, "accommodation"])
    client.force_login(alice)
    record = PathwayAssessment.objects.get(preparation=preparation, pathway="accommodation")
    page = client.get(url).content.decode()
    assert f'name="lock_version" value="{record.lock_version}"' in page
    _pathway(fabio, preparation, "Fabio's notes", record.lock_version)
    form = {
        "status": "support_required",
        "needs": ["no_address"],
        "notes": "Alice's notes",
        "lock_version": str(record.lock_version),
    }
    response = client.post(url, form)
    assert response.status_code == 409
    body = response.content.decode()
    assert "This pathway was changed by another user" in body
    assert "Alice&#x27;s notes" in body
    record.refresh_from_db()
    assert record.notes == "Fabio's notes"


def test_web_stale_arrangement_save_is_409(client, alice, fabio, preparation):
    arrangement = services.arrangement_create(
        actor=alice,
        preparation=preparation,
        data={"kind": "accommodation", "detail_type": "family", "status": "planned"},
    )
    url = reverse("arrangement-edit", args=[arrangement.pk])
    client.force_login(alice)
    assert 'name="lock_version" value="1"' in client.get(url).content.decode()
    services.arrangement_update(actor=fabio, arrangement=arrangement, data={"notes": "Hostel"})
    response = client.post(
        url,
        {"detail_type": "family", "status": "planned", "notes": "Sister", "lock_version": "1"},
    )
    assert response.status_code == 409
    assert Arrangement.objects.get(pk=arrangement.pk).notes == "Hostel"


def test_api_pathway_carries_the_version_and_refuses_a_stale_put(client, alice, preparation):
    _, raw = api_token_create(actor=alice, user=alice, name="test")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    person = preparation.person
    read = client.get(f"/api/v1/persons/{person.pk}/release-preparation", **headers).json()
    loaded = next(p for p in read["pathways"] if p["pathway"] == "accommodation")["lock_version"]
    url = f"/api/v1/persons/{person.pk}/release-preparation/pathways/accommodation"

    def put(notes, **extra):
        body = {"status": "support_required", "needs": ["no_address"], "notes": notes, **extra}
        return client.put(url, body, content_type="application/json", **headers)

    assert put("First", lock_version=loaded).json()["lock_version"] == loaded + 1
    stale = put("Second", lock_version=loaded)
    assert stale.status_code == 409 and "This pathway was changed" in stale.json()["detail"]
    assert PathwayAssessment.objects.get(
        preparation=preparation, pathway="accommodation"
    ).notes == ("First")
    assert put("Third").status_code == 200

"""Optimistic locking of pathway records and arrangements (issue 10)."""

import pytest

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

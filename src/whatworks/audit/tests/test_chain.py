"""The audit trail's hash chain: intact after real services, and any tampering is named."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import CommandError, call_command

from whatworks.audit.chain import verify_chain
from whatworks.audit.models import AuditChainHead, AuditEvent
from whatworks.records.services import custody_transfer

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(alice, facility_b, person_in_a, person_in_b):
    """Events from real services: two admissions and a transfer, with dates in before/after."""
    episode = person_in_a.custody_episodes.get()
    custody_transfer(
        actor=None,
        episode=episode,
        to_facility=facility_b,
        movement_date=datetime.date(2024, 6, 1),
        reason="other",
    )
    ids = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    assert len(ids) >= 3
    return ids


def test_an_untouched_chain_verifies(events, capsys):
    check = verify_chain()
    assert check.ok and check.events == len(events)
    call_command("audit", "verify")
    assert f"Audit chain intact: {len(events)} events." in capsys.readouterr().out


def test_an_altered_event_is_named(events):
    AuditEvent.objects.filter(pk=events[1]).update(after={"facility_id": 999})
    check = verify_chain()
    assert (check.broken_at, "altered" in check.problem) == (events[1], True)
    with pytest.raises(CommandError, match=f"broken at event {events[1]}"):
        call_command("audit", "verify")


def test_a_removed_event_breaks_the_next_one(events):
    AuditEvent.objects.filter(pk=events[1]).delete()
    assert verify_chain().broken_at == events[2]


def test_removing_the_last_events_is_seen_by_the_head(events):
    AuditEvent.objects.filter(pk=events[-1]).delete()
    check = verify_chain()
    assert not check.ok and "end" in check.problem
    assert AuditChainHead.objects.get().last_event_id == events[-1]


def test_a_forged_time_is_an_alteration(events):
    AuditEvent.objects.filter(pk=events[0]).update(
        created_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    )
    assert verify_chain().broken_at == events[0]

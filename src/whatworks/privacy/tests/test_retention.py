"""Retention: persons last active more than RETENTION_YEARS ago are pseudonymised or
deleted, one audited transaction each; re-running is a no-op; the audit chain stays intact."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.management import call_command

from whatworks.audit.chain import verify_chain
from whatworks.audit.models import AuditEvent
from whatworks.privacy import services
from whatworks.privacy.models import RetentionRecord
from whatworks.privacy.tests.helpers import NOTE, released_long_ago, rich_person
from whatworks.records.models import CustodyEpisode, CustodyMovement, OutcomeEvent, Person

pytestmark = pytest.mark.django_db

ON = datetime.date(2026, 11, 27)  # cutoff with 10 years: 2016-11-27


@pytest.fixture
def old(facility_a):
    """Released in 2014, nothing since."""
    return released_long_ago(facility_a, 101, release=datetime.date(2014, 3, 1))


@pytest.fixture
def recent(facility_a):
    """Released in 2014 too, but rearrested in 2020: active within the ten years."""
    from whatworks.records.services import outcome_event_record

    person = released_long_ago(facility_a, 102, release=datetime.date(2014, 3, 1))
    outcome_event_record(
        actor=None,
        person=person,
        data={
            "event_type": "rearrest",
            "event_date": datetime.date(2020, 5, 1),
            "source": "police",
        },
    )
    return person


def _events(action):
    return AuditEvent.objects.filter(action=action)


def _run(capsys, settings, action, *args):
    settings.RETENTION_ACTION = action
    call_command("privacy", "retention", "--on", ON.isoformat(), *args)
    return capsys.readouterr().out


def test_candidates_are_released_long_ago_with_no_activity_since(old, recent, person_in_a):
    candidates = services.retention_candidates(action="pseudonymise", on=ON, years=10)
    assert [c.person_id for c in candidates] == [old.pk]
    assert candidates[0].last_release == datetime.date(2014, 3, 1)
    # Eleven years later the rearrest is old enough too.
    later = services.retention_candidates(
        action="pseudonymise", on=datetime.date(2031, 6, 1), years=10
    )
    assert [c.person_id for c in later] == [old.pk, recent.pk]
    assert later[1].last_activity == datetime.date(2020, 5, 1)


def test_a_pending_link_review_holds_retention_back(old):
    from whatworks.outcomes.models import LinkReview, OutcomeImport

    outcome_import = OutcomeImport.objects.create(
        file_name="courts.csv", sha256="1" * 64, link_threshold=0.9, review_threshold=0.5
    )
    review = LinkReview.objects.create(
        outcome_import=outcome_import,
        row_index=0,
        first_name="José",
        last_name="Muñoz",
        date_of_birth=datetime.date(1990, 4, 12),
        event_type="reconviction",
        event_date=datetime.date(2012, 1, 1),
        source="court",
        source_reference="C-1",
        candidate=old,
    )
    assert services.retention_candidates(action="delete", on=ON, years=10) == []
    LinkReview.objects.filter(pk=review.pk).update(
        status="rejected", decided_at=outcome_import.imported_at
    )
    assert [
        c.person_id for c in services.retention_candidates(action="delete", on=ON, years=10)
    ] == [old.pk]


def test_off_does_nothing_and_says_so(capsys, settings, old):
    before = AuditEvent.objects.count()
    out = _run(capsys, settings, "off")
    assert "Retention is off" in out
    assert AuditEvent.objects.count() == before
    old.refresh_from_db()
    assert old.last_names == "Muñoz Rojas"


def test_dry_run_lists_and_changes_nothing(capsys, settings, old, recent):
    before = AuditEvent.objects.count()
    out = _run(capsys, settings, "delete", "--dry-run", "--format", "json")
    report = json.loads(out)
    assert report["dry_run"] is True
    assert report["cutoff"] == "2016-11-27"
    assert [p["person_id"] for p in report["persons"]] == [old.pk]
    assert "Muñoz" not in out and "CL-0000101" not in out
    assert AuditEvent.objects.count() == before
    assert CustodyEpisode.objects.filter(person=old).exists()


def test_pseudonymise_keeps_the_records_without_identifiers(capsys, settings, old, recent):
    out = _run(capsys, settings, "pseudonymise")
    assert "1 pseudonymised, 0 failed" in out
    old.refresh_from_db()
    assert old.prison_number == f"PSEUDO-{old.research_id}"
    assert (old.first_names, old.last_names, old.national_id) == ("", "", "")
    assert old.date_of_birth == datetime.date(1990, 7, 1)
    assert old.support_needs_notes == ""
    assert (old.sex, old.nationality) == ("male", "CL")  # structured: kept
    episode = old.custody_episodes.get()
    assert episode.release_date == datetime.date(2014, 3, 1)
    assert set(
        CustodyMovement.objects.filter(episode=episode).values_list("reason", flat=True)
    ) == {""}
    event = _events("privacy.retention.pseudonymise").get()
    assert event.person_id == old.pk
    assert "Muñoz" not in json.dumps(event.after)
    recent.refresh_from_db()
    assert recent.last_names == "Muñoz Rojas"
    assert verify_chain().ok

    # Idempotent: nothing more to do, no second event.
    out = _run(capsys, settings, "pseudonymise")
    assert "0 pseudonymised, 0 failed" in out
    assert _events("privacy.retention.pseudonymise").count() == 1
    assert RetentionRecord.objects.get(person=old).action == "pseudonymise"


def test_delete_leaves_a_tombstone_and_the_audit_trail(capsys, settings, old):
    audit_before = AuditEvent.objects.filter(person=old).count()
    _run(capsys, settings, "delete")
    old.refresh_from_db()
    assert old.prison_number == f"DELETED-{old.research_id}"
    assert (old.first_names, old.last_names, old.current_facility_id) == ("", "", None)
    assert not CustodyEpisode.objects.filter(person=old).exists()
    assert not CustodyMovement.objects.filter(episode__person=old).exists()
    # The audit events stay (hash chain), plus one for the deletion.
    assert AuditEvent.objects.filter(person=old).count() == audit_before + 1
    assert _events("privacy.retention.delete").get().person_id == old.pk
    call_command("audit", "verify")  # raises CommandError if the chain is broken

    for action in ("delete", "pseudonymise"):
        _run(capsys, settings, action)
    assert AuditEvent.objects.filter(person=old).count() == audit_before + 1


def test_a_pseudonymised_person_can_later_be_deleted(capsys, settings, old):
    _run(capsys, settings, "pseudonymise")
    _run(capsys, settings, "delete")
    assert RetentionRecord.objects.get(person=old).action == "delete"
    assert not CustodyEpisode.objects.filter(person=old).exists()
    assert verify_chain().ok


def test_a_person_that_cannot_be_changed_is_left_whole_and_reported(
    capsys, settings, old, facility_a
):
    from django.core.management import CommandError

    from whatworks.community.models import FollowUpContact

    other = released_long_ago(facility_a, 104, release=datetime.date(2013, 1, 1))
    # Inconsistent data: a follow-up of old's episode filed under another person.
    FollowUpContact.objects.filter(person=old).update(person=other)
    settings.RETENTION_ACTION = "delete"
    with pytest.raises(CommandError) as failed:
        call_command("privacy", "retention", "--on", ON.isoformat())
    assert failed.value.returncode == 1
    out = capsys.readouterr().out
    assert "1 deleted, 1 failed" in out and "ProtectedError" in out
    old.refresh_from_db()
    assert old.last_names == "Muñoz Rojas"
    assert CustodyEpisode.objects.filter(person=old).exists()
    assert not _events("privacy.retention.delete").filter(person=old).exists()
    assert verify_chain().ok


def test_each_person_is_all_or_nothing(old, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services, "audit_record", broken)
    with pytest.raises(RuntimeError):
        services.retention_apply(action="delete", on=ON)
    old.refresh_from_db()
    assert old.last_names == "Muñoz Rojas"
    assert CustodyEpisode.objects.filter(person=old).exists()
    assert not RetentionRecord.objects.exists()


def test_every_section_of_a_rich_person_is_pseudonymised_or_deleted(
    person_in_a, facility_a, facility_b, dora
):
    from whatworks.privacy.export import as_json, collect
    from whatworks.privacy.sections import RETENTION_KEEPS

    person = rich_person(person_in_a, facility_a, facility_b, staff=dora)
    RetentionRecord.objects.all().delete()
    services.person_pseudonymise(actor=None, person=person)
    person.refresh_from_db()
    data = collect(person)
    data["sections"].pop("audit_events")  # unchanged by design (hash chain)
    text = as_json(data).decode()
    for identifier in (NOTE, "Muñoz", "CL-0000001", "PDI-77", "1990-04-12", "Mapudungun"):
        assert identifier not in text, identifier
    assert data["sections"]["drug_tests"][0]["results"] == {"cannabis": "negative"}
    assert verify_chain().ok

    services.person_delete(actor=None, person=person)
    remaining = collect(person)["sections"]
    assert {name for name, rows in remaining.items() if rows} == RETENTION_KEEPS - {
        "merged_records"
    }
    assert OutcomeEvent.objects.filter(person=person).count() == 0
    assert verify_chain().ok


def test_merged_duplicates_are_exported_and_lose_their_identity(old):
    from django.db import transaction

    from conftest import person_data
    from whatworks.audit.services import audit_record
    from whatworks.privacy.export import collect

    # A duplicate whose rows were moved to ``old`` by a merge: its identity and its audit
    # events stay on the duplicate's row.
    duplicate = Person.objects.create(
        **person_data(prison_number="CL-0000103", last_names="Muñoz R."), merged_into=old
    )
    with transaction.atomic():
        audit_record(actor=None, action="person.merge", target=duplicate, person=duplicate)
    sections = collect(old)["sections"]
    assert [row["prison_number"] for row in sections["merged_records"]] == ["CL-0000103"]
    assert "person.merge" in {event["action"] for event in sections["audit_events"]}

    services.person_pseudonymise(actor=None, person=old)
    duplicate.refresh_from_db()
    assert duplicate.prison_number == f"PSEUDO-{duplicate.research_id}"
    services.person_delete(actor=None, person=old)
    duplicate.refresh_from_db()
    assert duplicate.prison_number == f"DELETED-{duplicate.research_id}"
    assert (duplicate.last_names, duplicate.date_of_birth) == ("", datetime.date(1900, 1, 1))
    assert verify_chain().ok


def test_a_pseudonymised_person_still_counts_in_recidivism_figures(old, recent, dora):
    from whatworks.evidence.selectors import release_frames

    def frames():
        releases, events = release_frames(viewer=dora, today=ON)
        return sorted(releases["person_id"].to_list()), events.height

    before = frames()
    services.retention_apply(action="pseudonymise", on=ON)
    assert frames() == before
    assert len(before[0]) == 2 and before[1] == 1

"""The services: validation with field messages, history appended, audit in the same transaction."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from conftest import admission_data, person_data
from whatworks.audit.models import AuditEvent
from whatworks.records.models import CustodyEpisode, CustodyMovement, Person
from whatworks.records.services import (
    custody_admit,
    custody_release,
    custody_transfer,
    outcome_event_record,
    person_admit,
    person_update,
)


def _errors(excinfo) -> dict:
    return excinfo.value.message_dict


def test_intake_creates_person_episode_admission_movement_and_audit(alice, facility_a):
    episode = person_admit(
        actor=alice, person_data=person_data(), facility=facility_a, admission_data=admission_data()
    )
    person = episode.person
    assert person.current_facility == facility_a
    assert person.research_id.startswith("R") and person.prison_number not in person.research_id
    assert [m.kind for m in episode.movements.all()] == ["admission"]
    actions = list(AuditEvent.objects.filter(person=person).values_list("action", "actor"))
    assert ("person.create", alice.pk) in actions and ("custody.admit", alice.pk) in actions


def test_duplicate_prison_number_is_a_field_error(alice, facility_a, person_in_a):
    with pytest.raises(ValidationError) as excinfo:
        person_admit(
            actor=alice,
            person_data=person_data(first_names="Otro"),
            facility=facility_a,
            admission_data=admission_data(),
        )
    assert "prison_number" in _errors(excinfo)
    assert Person.objects.count() == 1


def test_all_field_errors_are_reported_together(alice, facility_a):
    with pytest.raises(ValidationError) as excinfo:
        person_admit(
            actor=alice,
            person_data=person_data(
                nationality="Chile", date_of_birth=datetime.date(2999, 1, 1), languages=["es!"]
            ),
            facility=facility_a,
            admission_data=admission_data(legal_status="sentenced", sentence_length_days=None),
        )
    assert {"nationality", "date_of_birth", "languages", "sentence_length_days"} <= set(
        _errors(excinfo)
    )
    assert not Person.objects.exists() and not AuditEvent.objects.exists()


def test_facility_must_match_sex_and_hold_people(alice, facility_a):
    with pytest.raises(ValidationError) as excinfo:
        person_admit(
            actor=alice,
            person_data=person_data(sex="female", gender="woman"),
            facility=facility_a,
            admission_data=admission_data(),
        )
    assert "facility" in _errors(excinfo)


def test_case_manager_cannot_place_people_outside_their_facilities(alice, facility_b):
    with pytest.raises(ValidationError) as excinfo:
        person_admit(
            actor=alice,
            person_data=person_data(),
            facility=facility_b,
            admission_data=admission_data(),
        )
    assert "facility" in _errors(excinfo)


@pytest.mark.parametrize("role_fixture", ["pablo", "helena", "carla"])
def test_roles_without_record_rights_cannot_write(request, role_fixture, facility_a):
    actor = request.getfixturevalue(role_fixture)
    with pytest.raises(PermissionError):
        person_admit(
            actor=actor,
            person_data=person_data(),
            facility=facility_a,
            admission_data=admission_data(),
        )


def test_transfer_appends_history_and_moves_responsibility(dora, person_in_a, facility_b):
    episode = person_in_a.custody_episodes.get()
    custody_transfer(
        actor=dora,
        episode=episode,
        to_facility=facility_b,
        movement_date=datetime.date(2024, 6, 1),
        reason="progression",
    )
    person_in_a.refresh_from_db()
    episode.refresh_from_db()
    assert person_in_a.current_facility == facility_b and episode.facility == facility_b
    movements = list(
        episode.movements.values_list("kind", "from_facility__code", "to_facility__code")
    )
    assert movements == [
        ("admission", None, "CL-A-01"),
        ("transfer", "CL-A-01", "CL-B-01"),
    ]
    audit = AuditEvent.objects.get(action="custody.transfer")
    assert audit.before["facility_id"] == episode.admission_facility_id
    assert audit.after["facility_id"] == facility_b.pk


def test_transfer_cannot_predate_last_movement(dora, person_in_a, facility_b):
    episode = person_in_a.custody_episodes.get()
    with pytest.raises(ValidationError) as excinfo:
        custody_transfer(
            actor=dora,
            episode=episode,
            to_facility=facility_b,
            movement_date=datetime.date(2023, 12, 1),
        )
    assert "movement_date" in _errors(excinfo)
    assert episode.movements.count() == 1


def test_release_before_admission_is_refused(alice, person_in_a):
    episode = person_in_a.custody_episodes.get()
    with pytest.raises(ValidationError) as excinfo:
        custody_release(
            actor=alice,
            episode=episode,
            release_date=datetime.date(2023, 1, 1),
            release_type="end_of_sentence",
        )
    assert "release_date" in _errors(excinfo)
    episode.refresh_from_db()
    assert episode.release_date is None


def test_release_closes_episode_once(alice, person_in_a):
    episode = person_in_a.custody_episodes.get()
    custody_release(
        actor=alice,
        episode=episode,
        release_date=datetime.date(2025, 3, 1),
        release_type="parole",
    )
    episode.refresh_from_db()
    assert (episode.release_date, episode.release_type) == (datetime.date(2025, 3, 1), "parole")
    assert episode.movements.last().kind == "release"
    with pytest.raises(ValidationError):
        custody_release(
            actor=alice,
            episode=episode,
            release_date=datetime.date(2025, 4, 1),
            release_type="parole",
        )


def test_readmission_requires_the_previous_episode_closed(alice, person_in_a, facility_a):
    with pytest.raises(ValidationError) as excinfo:
        custody_admit(
            actor=alice,
            person=person_in_a,
            facility=facility_a,
            admission_data=admission_data(admission_date=datetime.date(2024, 5, 1)),
        )
    assert "admission_date" in _errors(excinfo)
    episode = person_in_a.custody_episodes.get()
    custody_release(
        actor=alice,
        episode=episode,
        release_date=datetime.date(2025, 1, 10),
        release_type="end_of_sentence",
    )
    with pytest.raises(ValidationError):  # overlaps the closed episode
        custody_admit(
            actor=alice,
            person=person_in_a,
            facility=facility_a,
            admission_data=admission_data(admission_date=datetime.date(2024, 12, 1)),
        )
    second = custody_admit(
        actor=alice,
        person=person_in_a,
        facility=facility_a,
        admission_data=admission_data(
            admission_date=datetime.date(2025, 6, 1),
            sentence_date=datetime.date(2025, 6, 1),
            expected_release_date=datetime.date(2026, 6, 1),
        ),
    )
    assert person_in_a.custody_episodes.count() == 2 and second.is_open


def test_outcome_event_must_follow_a_release(alice, person_in_a):
    data = {
        "event_type": "rearrest",
        "event_date": datetime.date(2025, 5, 1),
        "offence_date": datetime.date(2025, 4, 30),
        "source": "police",
    }
    with pytest.raises(ValidationError) as excinfo:
        outcome_event_record(actor=alice, person=person_in_a, data=data)
    assert "event_date" in _errors(excinfo)
    custody_release(
        actor=alice,
        episode=person_in_a.custody_episodes.get(),
        release_date=datetime.date(2025, 3, 1),
        release_type="end_of_sentence",
    )
    event = outcome_event_record(actor=alice, person=person_in_a, data=data)
    assert AuditEvent.objects.filter(action="outcome.record", object_id=str(event.pk)).exists()


def test_offence_after_event_is_refused(alice, person_in_a):
    custody_release(
        actor=alice,
        episode=person_in_a.custody_episodes.get(),
        release_date=datetime.date(2025, 3, 1),
        release_type="end_of_sentence",
    )
    with pytest.raises(ValidationError) as excinfo:
        outcome_event_record(
            actor=alice,
            person=person_in_a,
            data={
                "event_type": "reconviction",
                "event_date": datetime.date(2025, 5, 1),
                "offence_date": datetime.date(2025, 6, 1),
                "source": "court",
            },
        )
    assert "__all__" in _errors(excinfo) or "offence_date" in _errors(excinfo)


def test_update_audits_only_changed_fields(alice, person_in_a):
    person_update(actor=alice, person=person_in_a, data={"literacy": "limited"})
    audit = AuditEvent.objects.get(action="person.update")
    assert audit.before == {"literacy": "literate"} and audit.after == {"literacy": "limited"}


@pytest.mark.django_db
def test_database_refuses_release_before_admission_even_without_services(person_in_a):
    episode = person_in_a.custody_episodes.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        CustodyEpisode.objects.filter(pk=episode.pk).update(
            release_date=datetime.date(2000, 1, 1), release_type="other"
        )


@pytest.mark.django_db
def test_database_refuses_two_open_episodes(person_in_a, facility_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        CustodyEpisode.objects.create(
            person=person_in_a,
            admission_facility=facility_a,
            facility=facility_a,
            admission_date=datetime.date(2024, 3, 1),
            admission_type="remand",
            legal_status="remand",
            main_offence_category="theft",
        )


@pytest.mark.django_db
def test_database_refuses_duplicate_prison_number(person_in_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(**{**person_data(), "national_id": "x"})


@pytest.mark.django_db
def test_database_refuses_transfer_without_destination(person_in_a, facility_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        CustodyMovement.objects.create(
            episode=person_in_a.custody_episodes.get(),
            kind="transfer",
            movement_date=datetime.date(2024, 2, 1),
            from_facility=facility_a,
        )

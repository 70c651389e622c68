"""Follow-up after release: automatic schedule, the command, recording, missed, scope,
the outcomes summary's suppression, and the settings."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import call_command
from django.urls import reverse

from whatworks.audit.models import AuditEvent
from whatworks.community import conf, selectors, services
from whatworks.community.models import FollowUpContact
from whatworks.community.tests.helpers import released_person
from whatworks.records.models import Person
from whatworks.records.services import custody_release

pytestmark = pytest.mark.django_db

RELEASE = datetime.date(2026, 1, 31)
DONE = {
    "status": "done",
    "contact_date": datetime.date(2026, 3, 3),
    "contact_mode": "home_visit",
    "housing_status": "stable",
    "employment_status": "employed",
    "substance_use": "none",
    "treatment_continuity": "continuing",
    "justice_contact": "no",
}


def _release(actor, person, release_type="end_of_sentence", day=RELEASE):
    return custody_release(
        actor=actor,
        episode=person.custody_episodes.get(),
        release_date=day,
        release_type=release_type,
    )


def test_release_schedules_follow_up_with_calendar_month_due_dates(alice, person_in_a):
    episode = _release(alice, person_in_a)
    due = dict(episode.follow_ups.values_list("month", "due_date"))
    assert due == {
        1: datetime.date(2026, 2, 28),  # 31 January + 1 month: clamped to February's end
        3: datetime.date(2026, 4, 30),
        6: datetime.date(2026, 7, 31),
        12: datetime.date(2027, 1, 31),
    }
    assert set(episode.follow_ups.values_list("status", flat=True)) == {"scheduled"}
    event = AuditEvent.objects.get(action="community.followup_schedule_create")
    assert event.actor == alice and event.person == person_in_a
    assert event.after["months"] == [1, 3, 6, 12]


@pytest.mark.parametrize("release_type", ["death", "escape", "transfer"])
def test_no_schedule_after_death_escape_or_transfer(alice, person_in_a, release_type):
    episode = _release(alice, person_in_a, release_type)
    assert not episode.follow_ups.exists()
    assert services.followup_schedule_create(actor=alice, episode=episode) == []


def test_schedule_months_come_from_the_setting(settings, alice, person_in_a):
    settings.WHATWORKS_FOLLOWUP_MONTHS = ["2", "24", "2"]
    episode = _release(alice, person_in_a)
    assert sorted(episode.follow_ups.values_list("month", flat=True)) == [2, 24]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WHATWORKS_FOLLOWUP_MONTHS", ["1", "three"]),
        ("WHATWORKS_FOLLOWUP_MONTHS", ["0"]),
        ("WHATWORKS_FOLLOWUP_MONTHS", []),
        ("WHATWORKS_FOLLOWUP_GRACE_DAYS", "two weeks"),
        ("WHATWORKS_FOLLOWUP_GRACE_DAYS", "-1"),
    ],
)
def test_unusable_settings_stop_with_the_variable_named(settings, name, value):
    setattr(settings, name, value)
    with pytest.raises(ImproperlyConfigured, match=name):
        conf.followup_months()
        conf.grace_days()


def test_command_schedules_past_releases_once(facility_a):
    recent = released_person(facility_a, 11, datetime.date(2026, 1, 10))
    old = released_person(facility_a, 12, datetime.date(2024, 12, 1))
    died = released_person(facility_a, 13, datetime.date(2026, 2, 1))
    died.release_type = "death"
    died.save(update_fields=["release_type"])
    out = io.StringIO()
    call_command("community", "schedule-followups", "--today", "2026-06-01", stdout=out)
    assert out.getvalue().startswith("4 follow-up contacts created for 1 releases")
    assert recent.follow_ups.count() == 4
    assert not old.follow_ups.exists() and not died.follow_ups.exists()
    out = io.StringIO()
    call_command("community", "schedule-followups", "--today", "2026-06-01", stdout=out)
    assert out.getvalue().startswith("0 follow-up contacts created for 0 releases")
    assert FollowUpContact.objects.count() == 4


def test_schedule_needs_a_release(alice, person_in_a):
    with pytest.raises(ValidationError):
        services.followup_schedule_create(actor=alice, episode=person_in_a.custody_episodes.get())


def test_recording_a_done_contact_is_validated_and_audited(alice, person_in_a):
    contact = _release(alice, person_in_a).follow_ups.get(month=1)
    with pytest.raises(ValidationError) as error:
        services.followup_contact_record(
            actor=alice,
            contact=contact,
            data={"status": "done", "contact_date": datetime.date(2026, 1, 30)},
        )
    assert set(error.value.message_dict) == {
        "contact_date",  # before the release
        "contact_mode",
        "housing_status",
        "employment_status",
        "substance_use",
        "treatment_continuity",
        "justice_contact",
    }
    with pytest.raises(ValidationError) as error:
        services.followup_contact_record(
            actor=alice, contact=contact, data={**DONE, "contact_date": datetime.date(2999, 1, 1)}
        )
    assert list(error.value.message_dict) == ["contact_date"]
    recorded = services.followup_contact_record(actor=alice, contact=contact, data=DONE)
    assert recorded.status == "done" and recorded.recorded_by == alice
    event = AuditEvent.objects.get(action="community.followup_contact_record")
    assert event.before["status"] == "scheduled" and event.after["housing_status"] == "stable"


def test_missed_and_cancelled_rules(alice, person_in_a):
    episode = _release(alice, person_in_a)
    future = episode.follow_ups.get(month=12)  # due 2027-01-31, after today (2026-11)
    with pytest.raises(ValidationError) as error:
        services.followup_contact_record(actor=alice, contact=future, data={"status": "missed"})
    assert "status" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.followup_contact_record(actor=alice, contact=future, data={"status": "cancelled"})
    assert "notes" in error.value.message_dict
    month_3 = episode.follow_ups.get(month=3)
    missed = services.followup_contact_record(
        actor=alice, contact=month_3, data={**DONE, "status": "missed"}
    )
    assert missed.status == "missed" and missed.housing_status == ""


def test_missed_is_computed_after_the_grace_days(alice, bruno, person_in_a):
    episode = _release(alice, person_in_a)
    month_1 = episode.follow_ups.get(month=1)  # due 2026-02-28; grace 14 days
    services.followup_contact_record(
        actor=alice, contact=episode.follow_ups.get(month=3), data={"status": "missed"}
    )

    def overview(day):
        return selectors.followups_due(viewer=alice, today=day)

    within_grace = overview(datetime.date(2026, 3, 14))
    assert [row.contact for row in within_grace.due_soon] == [month_1]
    assert within_grace.due_soon[0].overdue
    assert [row.contact.month for row in within_grace.missed] == [3]  # marked missed
    after_grace = overview(datetime.date(2026, 3, 15))
    assert after_grace.due_soon == []
    assert [row.contact.month for row in after_grace.missed] == [3, 1]
    later = overview(datetime.date(2026, 7, 10))  # month 3 marked missed, month 6 due soon
    assert [row.contact.month for row in later.missed] == [3, 1]
    assert [row.contact.month for row in later.due_soon] == [6]
    assert (later.facilities[0].due_soon, later.facilities[0].missed) == (1, 2)
    rows = selectors.person_followups(
        viewer=alice, person=person_in_a, today=datetime.date(2026, 7, 10)
    )
    assert [row.status for row in rows] == ["missed", "missed", "scheduled", "scheduled"]
    # Scope: bruno never sees person_in_a, in the list or on the person.
    assert overview_for(bruno, datetime.date(2026, 7, 10)) == ([], [], [])
    assert selectors.person_followups(viewer=bruno, person=person_in_a) == []
    with pytest.raises(Person.DoesNotExist):
        services.followup_contact_record(actor=bruno, contact=month_1, data=DONE)


def overview_for(viewer, day):
    result = selectors.followups_due(viewer=viewer, today=day)
    return result.due_soon, result.missed, result.facilities


def test_analysts_see_suppressed_counts_only(client, alice, carla, person_in_a, facility_a):
    _release(alice, person_in_a)
    result = selectors.followups_due(viewer=carla, today=datetime.date(2026, 7, 10))
    assert result.due_soon == [] and result.missed == [] and not result.identifiable
    assert [(row.facility, row.due_soon, row.missed) for row in result.facilities] == [
        (facility_a, None, None)
    ]
    client.force_login(carla)
    response = client.get(reverse("community-followups"))
    assert response.status_code == 200
    assert person_in_a.last_names not in response.text
    client.force_login(alice)
    response = client.get(reverse("community-followups"))
    assert response.status_code == 200


def test_outcomes_summary_suppresses_counts_from_1_to_9(carla, dora, facility_a):
    for number in range(12):
        episode = released_person(facility_a, 100 + number, datetime.date(2025, 6, 1))
        services.followup_schedule_create(actor=None, episode=episode)
    contacts = FollowUpContact.objects.filter(month=1).order_by("id")
    for index, contact in enumerate(contacts):
        employment = "employed" if index < 3 else "unemployed"
        services.followup_contact_record(
            actor=dora,
            contact=contact,
            data={
                **DONE,
                "contact_date": datetime.date(2025, 7, 1),
                "employment_status": employment,
            },
        )
    for contact in FollowUpContact.objects.filter(month=3).order_by("id")[:4]:
        services.followup_contact_record(
            actor=dora,
            contact=contact,
            data={**DONE, "contact_date": datetime.date(2025, 9, 1)},
        )
    summary = {
        row.month: row
        for row in selectors.followup_outcomes_summary(
            viewer=carla, today=datetime.date(2025, 10, 1)
        )
    }
    assert list(summary) == [1, 3, 6, 12]
    month_1 = summary[1]
    assert month_1.done == 12 and month_1.missed == 0
    assert month_1.housing["stable"].rate == 1.0
    assert month_1.employment["employed"].rate is None  # 3 of 12: suppressed
    assert month_1.employment["unemployed"].rate is None  # its complement is 3
    assert summary[3].done is None  # 4 done
    assert summary[3].missed is None  # the other 8 are past due + grace: suppressed too
    assert summary[6].done == 0 and summary[6].missed == 0


def test_back_in_custody_by_the_due_date_is_neither_due_nor_missed(alice, person_in_a, facility_a):
    from conftest import admission_data
    from whatworks.records.services import custody_admit

    _release(alice, person_in_a)
    custody_admit(
        actor=alice,
        person=person_in_a,
        facility=facility_a,
        admission_data=admission_data(
            admission_date=datetime.date(2026, 5, 10),
            admission_type="remand",
            legal_status="remand",
            sentence_date=None,
            sentence_length_days=None,
            expected_release_date=None,
        ),
    )
    day = datetime.date(2026, 9, 1)
    rows = selectors.person_followups(viewer=alice, person=person_in_a, today=day)
    # Month 1 (due 28 Feb) and 3 (due 30 Apr) were missed; 6 and 12 fall in custody.
    assert [(row.contact.month, row.status) for row in rows] == [
        (1, "missed"),
        (3, "missed"),
        (6, "cancelled"),
        (12, "cancelled"),
    ]
    assert rows[2].back_in_custody and rows[2].status_label == "Back in custody"
    overview = selectors.followups_due(viewer=alice, today=datetime.date(2026, 7, 20))
    assert overview.due_soon == []
    assert [row.contact.month for row in overview.missed] == [3, 1]


def test_follow_up_findings_are_shown_by_role(client, alice, pablo, helena, person_in_a):
    import datetime as dt

    from django.urls import reverse

    from whatworks.community import services as community
    from whatworks.records.services import custody_release

    episode = person_in_a.custody_episodes.get()
    custody_release(
        actor=alice,
        episode=episode,
        release_date=dt.date(2025, 1, 10),
        release_type="end_of_sentence",
    )
    contact = episode.follow_ups.get(month=1)
    community.followup_contact_record(
        actor=alice,
        contact=contact,
        data={
            "status": "done",
            "contact_date": dt.date(2025, 2, 11),
            "contact_mode": "phone",
            "housing_status": "stable",
            "employment_status": "employed",
            "substance_use": "problematic",
            "treatment_continuity": "stopped",
            "justice_contact": "yes",
        },
    )
    url = reverse("person-community", args=[person_in_a.pk])
    api = f"/api/v1/persons/{person_in_a.pk}/community"
    seen = {}
    for user in (alice, pablo, helena):
        client.force_login(user)
        page = client.get(url).content.decode()
        row = next(f for f in client.get(api).json()["follow_ups"] if f["month"] == 1)
        seen[user.username] = (
            "Problematic" in page,
            "Justice" in page,
            row["substance_use"],
            row["justice_contact"],
        )
    assert seen == {
        "alice": (True, True, "problematic", "yes"),
        "pablo": (False, False, None, None),
        "helena": (True, False, "problematic", None),
    }
    client.force_login(pablo)
    record = reverse("community-followup-record", args=[contact.pk])
    assert client.get(record).status_code == 403


def test_a_missed_contact_keeps_no_contact_date(alice, person_in_a):
    import datetime as dt

    from whatworks.community import services as community
    from whatworks.records.services import custody_release

    episode = person_in_a.custody_episodes.get()
    custody_release(
        actor=alice,
        episode=episode,
        release_date=dt.date(2025, 1, 10),
        release_type="end_of_sentence",
    )
    contact = community.followup_contact_record(
        actor=alice,
        contact=episode.follow_ups.get(month=1),
        data={"status": "missed", "contact_date": dt.date(2025, 2, 11), "contact_mode": "phone"},
    )
    assert contact.contact_date is None and contact.contact_mode == ""

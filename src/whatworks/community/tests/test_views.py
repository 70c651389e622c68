"""The person's community page with follow-up, and the forms that record contacts."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from whatworks.community.models import FollowUpContact
from whatworks.community.tests.helpers import released_person
from whatworks.records.services import custody_release

pytestmark = pytest.mark.django_db


def test_record_a_contact_through_the_form(client, alice, pablo, person_in_a):
    custody_release(
        actor=alice,
        episode=person_in_a.custody_episodes.get(),
        release_date=datetime.date(2026, 1, 31),
        release_type="parole",
    )
    contact = FollowUpContact.objects.get(month=1)
    url = reverse("community-followup-record", args=[contact.pk])
    client.force_login(alice)
    response = client.post(url, {"status": "done", "contact_date": "2026-03-02"})
    assert response.status_code == 400
    assert "housing_status" in response.context["form"].errors
    response = client.post(
        url,
        {
            "status": "done",
            "contact_date": "2026-03-02",
            "contact_mode": "phone",
            "housing_status": "temporary",
            "employment_status": "training",
            "substance_use": "unknown",
            "treatment_continuity": "not_applicable",
            "justice_contact": "no",
        },
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.status == "done" and contact.housing_status == "temporary"
    page = client.get(reverse("person-community", args=[person_in_a.pk]))
    assert page.status_code == 200
    assert "Temporary" in page.text and 'style="' not in page.text
    # Programme staff read the page but do not record: the form is a 403, as for any role
    # that may see but not act (an out-of-scope contact stays a 404).
    client.force_login(pablo)
    assert client.get(reverse("person-community", args=[person_in_a.pk])).status_code == 200
    assert client.get(url).status_code == 403


def test_schedule_button_for_a_release_made_before_the_feature(client, fabio, facility_a):
    episode = released_person(facility_a, 21, datetime.date(2026, 2, 1))
    page = reverse("person-community", args=[episode.person_id])
    client.force_login(fabio)
    assert "Schedule follow-up" in client.get(page).text
    schedule = reverse("community-followup-schedule", args=[episode.person_id])
    assert client.post(schedule).status_code == 302
    assert client.post(schedule).status_code == 302  # idempotent
    assert episode.follow_ups.count() == 4
    assert "Schedule follow-up" not in client.get(page).text

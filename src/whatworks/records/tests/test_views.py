"""Person pages through HTTP, persona by persona: who sees what, and what bad input does."""

import datetime
import re

import pytest
from django.urls import reverse

from conftest import admission_data, person_data
from whatworks.audit.models import AuditEvent
from whatworks.records.models import CustodyEpisode, CustodyMovement, OutcomeEvent, Person
from whatworks.records.services import custody_release, person_admit


def detail_url(person):
    return reverse("person-detail", args=[person.pk])


def intake_post(receiving_facility, **overrides):
    """A complete, valid intake form as the browser would post it."""
    data = {
        "prison_number": "CL-0000099",
        "national_id": "",
        "first_names": "Ana Luisa",
        "last_names": "Tapia Fuentes",
        "date_of_birth": "1992-03-04",
        "sex": "male",
        "gender": "man",
        "nationality": "cl",
        "languages": "es, arn",
        "literacy": "literate",
        "support_needs_notes": "",
        "facility": str(receiving_facility.pk),
        "admission_date": "2024-05-02",
        "admission_type": "sentenced",
        "legal_status": "sentenced",
        "main_offence_category": "theft",
        "sentence_date": "2024-05-02",
        "sentence_length_days": "540",
        "expected_release_date": "2025-10-24",
    }
    data.update(overrides)
    return data


def row_counts():
    return (
        Person.objects.count(),
        CustodyEpisode.objects.count(),
        CustodyMovement.objects.count(),
        AuditEvent.objects.count(),
    )


# --- who sees what ------------------------------------------------------------------------


def test_alice_sees_jose_and_not_maria(client, alice, person_in_a, person_in_b):
    client.force_login(alice)
    html = client.get(reverse("person-list")).content.decode()
    assert "José Ignacio" in html
    assert "María José" not in html
    assert client.get(detail_url(person_in_a)).status_code == 200
    assert client.get(detail_url(person_in_b)).status_code == 404


def test_bruno_sees_maria_and_not_jose(client, bruno, person_in_a, person_in_b):
    client.force_login(bruno)
    html = client.get(reverse("person-list")).content.decode()
    assert "María José" in html
    assert "José Ignacio" not in html
    assert client.get(detail_url(person_in_b)).status_code == 200
    assert client.get(detail_url(person_in_a)).status_code == 404


def test_forbidden_and_missing_persons_give_the_same_page(client, alice, person_in_b):
    client.force_login(alice)
    forbidden = client.get(detail_url(person_in_b))
    missing = client.get(reverse("person-detail", args=[987654]))
    assert forbidden.status_code == missing.status_code == 404

    def page(response):
        html = response.content.decode()
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
        return re.sub(r'name="next" value="[^"]*"', "", html)

    assert page(forbidden) == page(missing)


def test_analyst_gets_a_clear_403_on_the_person_list(client, carla, person_in_a):
    client.force_login(carla)
    response = client.get(reverse("person-list"))
    assert response.status_code == 403
    assert "aggregate figures only" in response.content.decode()
    assert "Muñoz" not in response.content.decode()


def test_analyst_gets_404_on_person_details(client, carla, person_in_a, person_in_b):
    client.force_login(carla)
    assert client.get(detail_url(person_in_a)).status_code == 404
    assert client.get(detail_url(person_in_b)).status_code == 404


def test_administrator_sees_everyone_and_the_change_history(client, dora, person_in_a, person_in_b):
    client.force_login(dora)
    html = client.get(reverse("person-list")).content.decode()
    assert "José Ignacio" in html and "María José" in html
    detail = client.get(detail_url(person_in_b)).content.decode()
    assert "Change history" in detail
    assert "Person registered" in detail and "Admitted to custody" in detail
    assert "person.create" not in detail  # codes are shown as labels


def test_change_history_names_fields_and_values(client, dora, person_in_a):
    from whatworks.records.services import person_update

    person_update(actor=dora, person=person_in_a, data={"first_names": "José Antonio"})
    client.force_login(dora)
    detail = client.get(detail_url(person_in_a)).content.decode()
    assert "Identity corrected" in detail
    assert "First names: José Ignacio → José Antonio" in detail


def test_case_manager_does_not_see_the_change_history(client, alice, person_in_a):
    client.force_login(alice)
    html = client.get(detail_url(person_in_a)).content.decode()
    assert "Change history" not in html
    assert "person.create" not in html


def test_detail_shows_identity_research_id_and_movements(client, alice, person_in_a):
    client.force_login(alice)
    html = client.get(detail_url(person_in_a)).content.decode()
    assert person_in_a.prison_number in html
    assert person_in_a.research_id in html
    assert "Custody episodes" in html
    assert "Admission" in html  # the admission movement
    assert "Outcome events" in html


@pytest.mark.parametrize("persona", ["pablo", "helena"])
def test_programme_and_health_staff_see_identity_but_not_outcomes(
    request, client, persona, person_in_a
):
    episode = person_in_a.custody_episodes.get()
    custody_release(
        actor=None, episode=episode, release_date=datetime.date(2024, 6, 1), release_type="parole"
    )
    OutcomeEvent.objects.create(
        person=person_in_a,
        event_type="rearrest",
        event_date=datetime.date(2024, 9, 1),
        source="police",
        reference="POL-SECRET-42",
    )
    client.force_login(request.getfixturevalue(persona))
    html = client.get(detail_url(person_in_a)).content.decode()
    assert person_in_a.prison_number in html
    assert "Outcome events" not in html
    assert "POL-SECRET-42" not in html
    # Nor may they edit.
    assert client.get(reverse("person-edit", args=[person_in_a.pk])).status_code == 404
    assert client.get(reverse("person-admit")).status_code == 403


def test_case_manager_sees_outcome_events(client, alice, person_in_a):
    OutcomeEvent.objects.create(
        person=person_in_a,
        event_type="rearrest",
        event_date=datetime.date(2024, 9, 1),
        source="police",
        reference="POL-42",
    )
    client.force_login(alice)
    assert "POL-42" in client.get(detail_url(person_in_a)).content.decode()


def test_pages_need_login(client, person_in_a):
    for url in [reverse("person-list"), detail_url(person_in_a), reverse("person-admit")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


# --- search and pagination ------------------------------------------------------------------


def test_search_matches_accented_names(client, dora, person_in_a, person_in_b):
    client.force_login(dora)
    html = client.get(reverse("person-list"), {"q": "Muñoz"}).content.decode()
    assert "José Ignacio" in html
    assert "María José" not in html


def test_search_matches_prison_numbers(client, dora, person_in_a, person_in_b):
    client.force_login(dora)
    html = client.get(reverse("person-list"), {"q": "CL-0000002"}).content.decode()
    assert "María José" in html
    assert "José Ignacio" not in html


def test_facility_filter_and_custody_toggle(client, dora, person_in_a, person_in_b):
    episode = person_in_b.custody_episodes.get()
    custody_release(
        actor=None, episode=episode, release_date=datetime.date(2024, 6, 1), release_type="parole"
    )
    client.force_login(dora)
    by_facility = client.get(reverse("person-list"), {"facility": "CL-B-01"}).content.decode()
    assert "María José" in by_facility and "José Ignacio" not in by_facility
    in_custody = client.get(reverse("person-list"), {"in_custody": "on"}).content.decode()
    assert "José Ignacio" in in_custody and "María José" not in in_custody


def test_facility_filter_offers_only_facilities_in_scope(client, alice, facility_b):
    client.force_login(alice)
    html = client.get(reverse("person-list")).content.decode()
    assert 'value="CL-A-01"' in html
    assert 'value="CL-B-01"' not in html


def test_pagination_shows_25_per_page(client, alice, facility_a):
    for number in range(30):
        person_admit(
            actor=None,
            person_data=person_data(
                prison_number=f"CL-1{number:06d}", last_names=f"Apellido {number:02d}"
            ),
            facility=facility_a,
            admission_data=admission_data(),
        )
    client.force_login(alice)
    first = client.get(reverse("person-list"))
    assert len(first.context["page"].object_list) == 25
    assert "Apellido 00" in first.content.decode()
    assert "page=2" in first.content.decode()
    second = client.get(reverse("person-list"), {"page": "2"})
    assert second.status_code == 200
    html = second.content.decode()
    assert len(second.context["page"].object_list) == 5
    assert "Apellido 29" in html and "Apellido 00" not in html


def test_search_keeps_filters_across_pages(client, alice, facility_a):
    for number in range(27):
        person_admit(
            actor=None,
            person_data=person_data(prison_number=f"CL-2{number:06d}"),
            facility=facility_a,
            admission_data=admission_data(),
        )
    client.force_login(alice)
    html = client.get(reverse("person-list"), {"q": "Muñoz"}).content.decode()
    assert "q=Mu%C3%B1oz&amp;page=2" in html


def test_htmx_search_returns_only_the_results(client, alice, person_in_a):
    client.force_login(alice)
    response = client.get(reverse("person-list"), {"q": "Muñoz"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="person-results">')
    assert "<html" not in html
    assert "José Ignacio" in html
    full = client.get(
        reverse("person-list"),
        {"q": "Muñoz"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in full.content.decode()


# --- intake -----------------------------------------------------------------------------------


def test_intake_admits_a_person(client, alice, facility_a):
    client.force_login(alice)
    response = client.post(reverse("person-admit"), intake_post(facility_a))
    person = Person.objects.get(prison_number="CL-0000099")
    assert response.status_code == 302
    assert response["Location"] == detail_url(person)
    assert person.current_facility == facility_a
    assert person.languages == ["es", "arn"]
    assert person.nationality == "CL"
    assert AuditEvent.objects.filter(person=person, actor=alice).exists()


def test_intake_form_renders_labels_and_date_inputs(client, alice, facility_a, facility_b):
    client.force_login(alice)
    html = client.get(reverse("person-admit")).content.decode()
    assert 'type="date"' in html
    assert '<label for="id_prison_number">' in html
    assert '<label for="id_facility">' in html
    # Only facilities where alice may place people are offered.
    assert f'value="{facility_a.pk}"' in html
    assert f'<option value="{facility_b.pk}"' not in html


def test_intake_rejects_a_duplicate_prison_number(client, alice, facility_a, person_in_a):
    client.force_login(alice)
    before = row_counts()
    response = client.post(
        reverse("person-admit"),
        intake_post(facility_a, prison_number=person_in_a.prison_number),
    )
    assert response.status_code == 400
    assert "Person with this Prison number already exists." in response.content.decode()
    assert response.context["form"].errors["prison_number"]
    assert row_counts() == before


def test_intake_rejects_an_impossible_date(client, alice, facility_a):
    client.force_login(alice)
    before = row_counts()
    response = client.post(
        reverse("person-admit"), intake_post(facility_a, date_of_birth="2024-02-30")
    )
    assert response.status_code == 400
    assert "Enter a valid date." in response.content.decode()
    assert response.context["form"].errors["date_of_birth"]
    assert row_counts() == before


def test_intake_links_field_errors_to_their_inputs(client, alice, facility_a):
    client.force_login(alice)
    response = client.post(reverse("person-admit"), intake_post(facility_a, date_of_birth="x"))
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_date_of_birth_error"' in html
    assert 'id="id_date_of_birth_error"' in html


def test_intake_rejects_a_facility_outside_the_users_scope(client, alice, facility_a, facility_b):
    client.force_login(alice)
    before = row_counts()
    response = client.post(reverse("person-admit"), intake_post(facility_a, facility=facility_b.pk))
    assert response.status_code == 400
    assert response.context["form"].errors["facility"]
    assert "Select a valid choice" in response.content.decode()
    assert row_counts() == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("facility", "999999"),
        ("facility", "not-a-number"),
        ("sentence_length_days", "three years"),
        ("sentence_length_days", "0"),
        ("sex", "robot"),
        ("admission_date", "15/01/2024x"),
        ("support_needs", "telepathy"),
    ],
)
def test_intake_gives_field_messages_for_wrong_values(client, alice, facility_a, field, value):
    client.force_login(alice)
    before = row_counts()
    response = client.post(reverse("person-admit"), intake_post(facility_a, **{field: value}))
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert row_counts() == before


def test_intake_maps_service_rules_onto_fields(client, alice, facility_a):
    """Rules only the service knows (here: the future date) land beside the field."""
    client.force_login(alice)
    future = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    before = row_counts()
    response = client.post(
        reverse("person-admit"),
        intake_post(facility_a, admission_date=future, sentence_date="", expected_release_date=""),
    )
    assert response.status_code == 400
    assert "This date is in the future." in response.context["form"].errors["admission_date"]
    assert row_counts() == before


def test_intake_rejects_a_woman_in_a_mens_facility(client, alice, facility_a):
    client.force_login(alice)
    response = client.post(
        reverse("person-admit"), intake_post(facility_a, sex="female", gender="woman")
    )
    assert response.status_code == 400
    assert response.context["form"].errors["facility"]


def test_intake_rejects_an_expected_release_before_admission(client, alice, facility_a):
    client.force_login(alice)
    before = row_counts()
    response = client.post(
        reverse("person-admit"), intake_post(facility_a, expected_release_date="2020-01-01")
    )
    assert response.status_code == 400
    assert response.context["form"].errors["expected_release_date"]
    assert row_counts() == before


def test_only_record_editors_may_admit(client, carla, pablo):
    for user in (carla, pablo):
        client.force_login(user)
        assert client.get(reverse("person-admit")).status_code == 403


# --- edit, transfer, release, outcome events ----------------------------------------------------


def edit_post(person, **overrides):
    data = {
        "prison_number": person.prison_number,
        "national_id": person.national_id,
        "first_names": person.first_names,
        "last_names": person.last_names,
        "date_of_birth": person.date_of_birth.isoformat(),
        "sex": person.sex,
        "gender": person.gender,
        "nationality": person.nationality,
        "languages": ", ".join(person.languages),
        "literacy": person.literacy,
        "support_needs_notes": "",
    }
    data.update(overrides)
    return data


def test_edit_updates_the_identity(client, alice, person_in_a):
    client.force_login(alice)
    url = reverse("person-edit", args=[person_in_a.pk])
    form_html = client.get(url).content.decode()
    assert 'value="1990-04-12"' in form_html  # ISO value for the date picker
    response = client.post(url, edit_post(person_in_a, first_names="José"))
    assert response.status_code == 302
    person_in_a.refresh_from_db()
    assert person_in_a.first_names == "José"


def test_edit_rejects_an_impossible_date(client, alice, person_in_a):
    client.force_login(alice)
    url = reverse("person-edit", args=[person_in_a.pk])
    response = client.post(url, edit_post(person_in_a, date_of_birth="1990-02-30"))
    assert response.status_code == 400
    person_in_a.refresh_from_db()
    assert person_in_a.date_of_birth == datetime.date(1990, 4, 12)


def test_edit_of_another_facility_person_is_404(client, alice, person_in_b):
    client.force_login(alice)
    url = reverse("person-edit", args=[person_in_b.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, edit_post(person_in_b, first_names="X")).status_code == 404


def test_release_records_the_end_of_custody(client, alice, person_in_a):
    episode = person_in_a.custody_episodes.get()
    client.force_login(alice)
    url = reverse("episode-release", args=[person_in_a.pk, episode.pk])
    response = client.post(url, {"release_date": "2024-06-01", "release_type": "parole"})
    assert response.status_code == 302
    episode.refresh_from_db()
    assert episode.release_date == datetime.date(2024, 6, 1)


def test_release_before_admission_is_a_field_message(client, alice, person_in_a):
    episode = person_in_a.custody_episodes.get()
    client.force_login(alice)
    before = row_counts()
    url = reverse("episode-release", args=[person_in_a.pk, episode.pk])
    response = client.post(url, {"release_date": "2023-12-31", "release_type": "parole"})
    assert response.status_code == 400
    assert "Release cannot be before admission." in response.content.decode()
    assert response.context["form"].errors["release_date"]
    assert row_counts() == before
    episode.refresh_from_db()
    assert episode.release_date is None


def test_release_with_an_impossible_date(client, alice, person_in_a):
    episode = person_in_a.custody_episodes.get()
    client.force_login(alice)
    url = reverse("episode-release", args=[person_in_a.pk, episode.pk])
    response = client.post(url, {"release_date": "2024-02-30", "release_type": "parole"})
    assert response.status_code == 400
    assert response.context["form"].errors["release_date"]


def test_episode_of_another_person_is_404(client, dora, person_in_a, person_in_b):
    other_episode = person_in_b.custody_episodes.get()
    client.force_login(dora)
    for name in ("episode-release", "episode-transfer"):
        url = reverse(name, args=[person_in_a.pk, other_episode.pk])
        assert client.get(url).status_code == 404


def test_transfer_moves_the_person(client, dora, person_in_a, facility_b):
    episode = person_in_a.custody_episodes.get()
    client.force_login(dora)
    url = reverse("episode-transfer", args=[person_in_a.pk, episode.pk])
    response = client.post(
        url,
        {"to_facility": facility_b.pk, "movement_date": "2024-03-01", "reason": "programme"},
    )
    assert response.status_code == 302
    person_in_a.refresh_from_db()
    assert person_in_a.current_facility == facility_b
    page = client.get(reverse("person-detail", args=[person_in_a.pk])).content.decode()
    assert "Programme or education" in page and ">programme<" not in page


def test_transfer_to_the_same_facility_is_a_field_message(client, alice, person_in_a, facility_a):
    episode = person_in_a.custody_episodes.get()
    client.force_login(alice)
    url = reverse("episode-transfer", args=[person_in_a.pk, episode.pk])
    response = client.post(
        url, {"to_facility": facility_a.pk, "movement_date": "2024-03-01", "reason": "security"}
    )
    assert response.status_code == 400
    assert "already in this facility" in response.content.decode()


def test_transfer_before_admission_is_a_field_message(client, dora, person_in_a, facility_b):
    episode = person_in_a.custody_episodes.get()
    client.force_login(dora)
    url = reverse("episode-transfer", args=[person_in_a.pk, episode.pk])
    response = client.post(
        url, {"to_facility": facility_b.pk, "movement_date": "2023-01-01", "reason": "court"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["movement_date"]


def test_outcome_event_is_recorded_after_release(client, alice, person_in_a):
    episode = person_in_a.custody_episodes.get()
    custody_release(
        actor=None, episode=episode, release_date=datetime.date(2024, 6, 1), release_type="parole"
    )
    client.force_login(alice)
    url = reverse("outcome-event-new", args=[person_in_a.pk])
    response = client.post(
        url,
        {
            "event_type": "rearrest",
            "event_date": "2024-09-01",
            "offence_date": "2024-08-30",
            "source": "police",
            "reference": "POL-1",
        },
    )
    assert response.status_code == 302
    assert person_in_a.outcome_events.get().reference == "POL-1"


def test_outcome_event_before_any_release_is_a_field_message(client, alice, person_in_a):
    client.force_login(alice)
    url = reverse("outcome-event-new", args=[person_in_a.pk])
    response = client.post(
        url, {"event_type": "rearrest", "event_date": "2024-09-01", "source": "police"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["event_date"]
    assert not OutcomeEvent.objects.exists()


def test_outcome_event_form_is_hidden_from_programme_staff(client, pablo, person_in_a):
    client.force_login(pablo)
    assert client.get(reverse("outcome-event-new", args=[person_in_a.pk])).status_code == 404


def test_intake_rejects_a_duplicate_national_id(client, alice, facility_a):
    person_admit(
        actor=None,
        person_data=person_data(national_id="12.345.678-5"),
        facility=facility_a,
        admission_data=admission_data(),
    )
    client.force_login(alice)
    before = row_counts()
    response = client.post(
        reverse("person-admit"), intake_post(facility_a, national_id="12.345.678-5")
    )
    assert response.status_code == 400
    assert response.context["form"].errors
    assert row_counts() == before


def test_released_person_can_be_readmitted_from_their_page(client, alice, person_in_a):
    from whatworks.records.services import custody_release

    client.force_login(alice)
    detail = client.get(detail_url(person_in_a)).content.decode()
    assert reverse("episode-new", args=[person_in_a.pk]) not in detail  # still in custody
    custody_release(
        actor=alice,
        episode=person_in_a.custody_episodes.get(),
        release_date=datetime.date(2025, 1, 31),
        release_type="end_of_sentence",
    )
    detail = client.get(detail_url(person_in_a)).content.decode()
    url = reverse("episode-new", args=[person_in_a.pk])
    assert url in detail
    form = {
        "facility": person_in_a.current_facility_id,
        "admission_date": "2025-06-02",
        "admission_type": "remand",
        "legal_status": "remand",
        "main_offence_category": "theft",
    }
    bad = client.post(url, {**form, "admission_date": "2024-12-01"})  # overlaps the last episode
    assert bad.status_code == 400 and person_in_a.custody_episodes.count() == 1
    assert client.post(url, form).status_code == 302
    assert person_in_a.custody_episodes.filter(release_date__isnull=True).count() == 1


def test_readmission_is_only_for_editors(client, pablo, person_in_a):
    client.force_login(pablo)
    assert client.get(reverse("episode-new", args=[person_in_a.pk])).status_code == 404

"""Release preparation: pathways, tasks, arrangements, readiness, summary and handover."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.urls import reverse

from whatworks.audit.models import AuditEvent
from whatworks.community.models import CommunityProvider
from whatworks.records.models import Person
from whatworks.reintegration import selectors, services
from whatworks.reintegration.catalogue import parse_catalogue, support_needs
from whatworks.reintegration.models import (
    ArrangementStatus,
    Handover,
    PathwayStatus,
    PreparationStatus,
    ReleasePreparation,
)
from whatworks.reintegration.pdf import summary_pdf

# person_in_a is expected to be released on 2027-01-15: the 12-week window opens 2026-10-23.
RELEASE = datetime.date(2027, 1, 15)
IN_WINDOW = datetime.date(2026, 11, 1)


@pytest.fixture
def episode(person_in_a):
    return person_in_a.custody_episodes.get()


@pytest.fixture
def preparation(alice, episode):
    return services.preparation_start(actor=alice, episode=episode)


def _arrange(actor, preparation, **data):
    return services.arrangement_create(actor=actor, preparation=preparation, data=data)


def test_starting_opens_seven_pathways_once_and_audits(alice, episode, preparation):
    assert sorted(p.pathway for p in preparation.pathways.all()) == sorted(
        [
            "accommodation",
            "education_work",
            "health",
            "drugs_alcohol",
            "finance_id",
            "family",
            "attitudes",
        ]
    )
    assert {p.status for p in preparation.pathways.all()} == {PathwayStatus.NOT_STARTED}
    again = services.preparation_start(actor=alice, episode=episode)
    assert again.pk == preparation.pk
    assert AuditEvent.objects.filter(action="release_preparation.start").count() == 1


def test_only_preparers_in_scope_start(pablo, bruno, episode):
    with pytest.raises(PermissionError):
        services.preparation_start(actor=pablo, episode=episode)
    with pytest.raises(Person.DoesNotExist):
        services.preparation_start(actor=bruno, episode=episode)


def test_preparation_starts_automatically_inside_the_window(episode):
    assert services.preparations_start_due(on=datetime.date(2026, 10, 22)) == []
    started = services.preparations_start_due(on=datetime.date(2026, 10, 23))
    assert [p.episode_id for p in started] == [episode.pk]
    assert started[0].started_on == datetime.date(2026, 10, 23)
    # Idempotent: a second daily run opens nothing new.
    assert services.preparations_start_due(on=datetime.date(2026, 10, 24)) == []


def test_start_due_command_reports_the_count(episode, capsys):
    from django.core.management import call_command

    call_command("reintegration", "start-due", "--on", "2026-11-01", "--format", "json")
    assert capsys.readouterr().out.strip() == '{"started": 1}'
    assert ReleasePreparation.objects.filter(episode=episode).exists()


def test_pathway_needs_come_from_the_catalogue(alice, preparation):
    with pytest.raises(ValidationError) as error:
        services.pathway_update(
            actor=alice,
            preparation=preparation,
            pathway="accommodation",
            data={"status": "support_required", "needs": []},
        )
    assert "needs" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.pathway_update(
            actor=alice,
            preparation=preparation,
            pathway="accommodation",
            data={"status": "support_required", "needs": ["no_bank_account"]},
        )
    assert "is not a need of this pathway" in error.value.message_dict["needs"][0]
    saved = services.pathway_update(
        actor=alice,
        preparation=preparation,
        pathway="accommodation",
        data={"status": "support_required", "needs": ["no_address"], "notes": "Mother refuses"},
    )
    assert saved.needs == ["no_address"]
    event = AuditEvent.objects.get(action="release_pathway.update")
    assert event.after["status"] == "support_required"


def test_health_staff_work_only_the_health_pathways(helena, preparation):
    services.pathway_update(
        actor=helena,
        preparation=preparation,
        pathway="drugs_alcohol",
        data={"status": "support_required", "needs": ["community_treatment"]},
    )
    with pytest.raises(PermissionError):
        services.pathway_update(
            actor=helena, preparation=preparation, pathway="accommodation", data={}
        )


def test_task_owner_must_see_the_person(alice, bruno, preparation):
    data = {
        "pathway": "finance_id",
        "description": "Book the civil registry appointment",
        "owner": bruno,
        "due_date": datetime.date(2026, 12, 1),
    }
    with pytest.raises(ValidationError) as error:
        services.task_create(actor=alice, preparation=preparation, data=data)
    assert "owner" in error.value.message_dict
    task = services.task_create(actor=alice, preparation=preparation, data={**data, "owner": alice})
    done = services.task_set_status(actor=alice, task=task, status="done")
    assert done.completed_on is not None
    reopened = services.task_set_status(actor=alice, task=task, status="open")
    assert reopened.completed_on is None


def test_arrangements_are_validated(alice, helena, preparation):
    with pytest.raises(ValidationError) as error:
        _arrange(alice, preparation, kind="accommodation", status="confirmed")
    assert "detail_type" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        _arrange(alice, preparation, kind="medication", status="planned")
    assert "description" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        _arrange(alice, preparation, kind="id_document", detail_type="passport", status="applied")
    assert "applied_on" in error.value.message_dict
    confirmed = _arrange(
        alice, preparation, kind="accommodation", detail_type="family", status="confirmed"
    )
    assert confirmed.confirmed_on is not None
    # Health staff arrange medication, not accommodation.
    _arrange(helena, preparation, kind="medication", status="planned", description="Methadone")
    with pytest.raises(PermissionError):
        _arrange(helena, preparation, kind="accommodation", detail_type="family")


def _codes(preparation):
    return {item.code for item in selectors.unresolved_needs(preparation, on=IN_WINDOW)}


def test_unresolved_needs_follow_arrangements_and_pathways(alice, preparation):
    codes = _codes(preparation)
    assert {"no_accommodation", "no_id", "pathway:accommodation"} <= codes
    # A shelter is arranged accommodation but not settled accommodation.
    _arrange(alice, preparation, kind="accommodation", detail_type="shelter", status="confirmed")
    assert "no_accommodation" in _codes(preparation)
    _arrange(alice, preparation, kind="accommodation", detail_type="family", status="confirmed")
    assert "no_accommodation" not in _codes(preparation)
    # The person already holds an ID: the finance pathway is not required.
    services.pathway_update(
        actor=alice, preparation=preparation, pathway="finance_id", data={"status": "not_required"}
    )
    codes = _codes(preparation)
    assert "no_id" not in codes and "pathway:finance_id" not in codes
    services.task_create(
        actor=alice,
        preparation=preparation,
        data={
            "pathway": "family",
            "description": "Call the sister",
            "owner": alice,
            "due_date": preparation.started_on,
        },
    )
    overdue = selectors.unresolved_needs(
        preparation, on=preparation.started_on + datetime.timedelta(days=1)
    )
    assert "overdue_tasks" in {item.code for item in overdue}


def test_readiness_lists_unresolved_people_by_facility(alice, bruno, carla, preparation):
    (block,) = selectors.readiness(viewer=alice, on=IN_WINDOW)
    assert block.releasing == 1 and block.with_unresolved == 1
    assert block.no_accommodation == 1 and block.no_id == 1
    assert [row.person.prison_number for row in block.rows] == ["CL-0000001"]
    assert len(block.rows[0].statuses) == 7
    assert selectors.readiness(viewer=bruno, on=IN_WINDOW) == []
    assert selectors.readiness(viewer=carla, on=IN_WINDOW) == []
    # Outside the window nobody is listed.
    assert selectors.readiness(viewer=alice, on=datetime.date(2026, 6, 1)) == []


def test_readiness_drops_a_prepared_person(alice, preparation):
    _arrange(alice, preparation, kind="accommodation", detail_type="family", status="confirmed")
    _arrange(
        alice, preparation, kind="id_document", detail_type="national_id_card", status="confirmed"
    )
    for pathway in ("accommodation", "finance_id", "education_work", "family"):
        services.pathway_update(
            actor=alice, preparation=preparation, pathway=pathway, data={"status": "done"}
        )
    for pathway in ("health", "drugs_alcohol", "attitudes"):
        services.pathway_update(
            actor=alice, preparation=preparation, pathway=pathway, data={"status": "not_required"}
        )
    (block,) = selectors.readiness(viewer=alice, on=IN_WINDOW)
    assert block.releasing == 1 and block.with_unresolved == 0 and block.rows == []


def test_summary_withholds_medication_details_from_probation(alice, preparation, person_in_a):
    _arrange(alice, preparation, kind="medication", status="confirmed", description="Sertraline")

    def arrangements(recipient):
        summary = selectors.release_summary(
            viewer=alice, person=person_in_a, language="en", recipient=recipient
        )
        (section,) = [s for s in summary["sections"] if s["title"] == "Arrangements"]
        return section["rows"]

    assert "Sertraline" not in str(arrangements("probation"))
    assert "Sertraline" in str(arrangements("person"))


def test_handover_keeps_the_summary_and_makes_a_pdf(alice, preparation, person_in_a):
    summary = selectors.release_summary(viewer=alice, person=person_in_a, language="es")
    handover = services.handover_record(
        actor=alice,
        preparation=preparation,
        recipient="probation",
        handed_over_on=datetime.date(2026, 11, 2),
        summary=summary,
        language="es",
        recipient_name="Oficina de Libertad Vigilada",
    )
    preparation.refresh_from_db()
    assert preparation.status == PreparationStatus.HANDED_OVER
    assert Handover.objects.get().summary == summary
    pdf = summary_pdf(handover.summary)
    assert pdf.startswith(b"%PDF") and len(pdf) > 1500
    with pytest.raises(ValidationError):
        services.handover_record(
            actor=alice,
            preparation=preparation,
            recipient="judge",
            handed_over_on=datetime.date(2026, 11, 2),
            summary=summary,
            language="xx",
        )


def test_person_language_prefers_what_the_app_speaks(person_in_a):
    person_in_a.languages = ["arn", "pt"]
    assert selectors.person_language(person_in_a) == "pt-br"
    person_in_a.languages = ["es"]
    assert selectors.person_language(person_in_a) == "es"


def test_pages_answer_by_role_and_scope(client, alice, bruno, carla, pablo, person_in_a):
    url = reverse("person-reintegration", args=[person_in_a.pk])
    client.force_login(carla)
    assert client.get(url).status_code == 403
    client.force_login(bruno)
    assert client.get(url).status_code == 404
    assert client.get(reverse("release-summary-pdf", args=[person_in_a.pk])).status_code == 404
    client.force_login(pablo)
    assert client.get(url).status_code == 200
    assert (
        client.get(reverse("pathway-edit", args=[person_in_a.pk, "accommodation"])).status_code
        == 403
    )
    client.force_login(alice)
    page = client.get(url)
    assert page.status_code == 200
    assert "Start release preparation" in page.content.decode()


def test_case_manager_prepares_and_hands_over_through_the_pages(client, alice, person_in_a):
    client.force_login(alice)
    edit = reverse("pathway-edit", args=[person_in_a.pk, "accommodation"])
    response = client.post(edit, {"status": "support_required", "needs": []})
    assert response.status_code == 400
    assert "Choose the support the person needs." in response.content.decode()
    response = client.post(edit, {"status": "support_required", "needs": ["no_address"]})
    assert response.status_code == 302
    response = client.post(
        reverse("arrangement-new", args=[person_in_a.pk, "accommodation"]),
        {"detail_type": "supported", "status": "confirmed", "provider_name": "Hogar de Cristo"},
    )
    assert response.status_code == 302
    response = client.post(
        reverse("handover-new", args=[person_in_a.pk]),
        {"recipient": "person", "language": "en", "handed_over_on": "2026-11-02"},
    )
    assert response.status_code == 302
    handover = Handover.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert "Hogar de Cristo" in page and "Supported housing" in page
    pdf = client.get(reverse("handover-pdf", args=[handover.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    readiness = client.get(reverse("release-readiness"))
    assert readiness.status_code == 200


def test_catalogue_files_are_checked():
    catalogue = support_needs()
    assert catalogue.label("finance_id", "no_identity_document") == "No valid identity document"
    assert all(set(need.labels) >= {"en", "es", "pt-BR"} for need in catalogue.needs)
    with pytest.raises(ImproperlyConfigured, match=r"pathways\.housing: unknown pathway"):
        parse_catalogue("pathways:\n  housing: []\n", "mine.yaml")
    with pytest.raises(ImproperlyConfigured, match=r"pathways\.health\[0\]\.label: missing es"):
        parse_catalogue(
            "pathways:\n  health:\n    - {code: x, label: {en: X, pt-BR: Y}}\n", "mine.yaml"
        )


def test_cancelled_arrangements_do_not_count(alice, preparation):
    arrangement = _arrange(
        alice, preparation, kind="accommodation", detail_type="family", status="confirmed"
    )
    services.arrangement_update(
        actor=alice, arrangement=arrangement, data={"status": ArrangementStatus.CANCELLED}
    )
    assert "no_accommodation" in _codes(preparation)


def test_summary_carries_community_referrals_and_the_follow_up_schedule(
    alice, dora, preparation, person_in_a, episode
):
    from whatworks.community import services as community
    from whatworks.records.services import custody_release

    provider = community.provider_create(
        actor=dora,
        data={
            "name": "Fundación Nuevo Camino",
            "kind": "ngo",
            "pathways": ["accommodation"],
            "coverage_regions": "Metropolitana",
        },
    )
    community.provider_referral_create(
        actor=alice,
        person=person_in_a,
        data={
            "provider": provider,
            "pathway": "accommodation",
            "referred_on": datetime.date(2026, 11, 2),
            "status": "sent",
        },
    )
    custody_release(
        actor=alice,
        episode=episode,
        release_date=datetime.date(2026, 11, 20),
        release_type="end_of_sentence",
    )
    summary = selectors.release_summary(viewer=alice, person=person_in_a, language="en")
    sections = {section["title"]: section for section in summary["sections"]}
    assert sections["Community referrals"]["rows"][0][:3] == [
        "Fundación Nuevo Camino",
        "Accommodation",
        "Sent",
    ]
    contacts = [row[0] for row in sections["Follow-up after release"]["rows"]]
    assert contacts == [
        "1 month after release",
        "3 months after release",
        "6 months after release",
        "12 months after release",
    ]


def test_readiness_queries_do_not_grow_with_the_list(
    alice, facility_a, preparation, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from conftest import admission_data, person_data
    from whatworks.records.services import person_admit

    with CaptureQueriesContext(connection) as one:
        selectors.readiness(viewer=alice, on=IN_WINDOW)
    for number in (11, 12, 13):
        episode = person_admit(
            actor=None,
            person_data=person_data(prison_number=f"CL-00000{number}"),
            facility=facility_a,
            admission_data=admission_data(),
        )
        services.preparation_start(actor=alice, episode=episode)
    with django_assert_num_queries(len(one)):
        (block,) = selectors.readiness(viewer=alice, on=IN_WINDOW)
    assert len(block.rows) == 4


def test_arrangements_take_a_directory_provider_of_their_pathway(alice, dora, preparation):
    from whatworks.community import services as community

    employer = community.provider_create(
        actor=dora,
        data={"name": "Constructora Andes", "kind": "employer", "pathways": ["education_work"]},
    )
    with pytest.raises(ValidationError) as error:
        _arrange(
            alice,
            preparation,
            kind="accommodation",
            detail_type="supported",
            status="planned",
            provider=employer,
        )
    assert "does not serve this pathway" in error.value.message_dict["provider"][0]
    job = _arrange(alice, preparation, kind="job_offer", status="confirmed", provider=employer)
    assert job.provider_label == "Constructora Andes"
    community.provider_deactivate(actor=dora, provider=employer)
    employer.refresh_from_db()
    # Keeping a provider that has since left the directory is fine; choosing it anew is not.
    services.arrangement_update(
        actor=alice, arrangement=job, data={"provider": employer, "notes": "Starts Monday"}
    )
    with pytest.raises(ValidationError):
        _arrange(alice, preparation, kind="training_offer", status="planned", provider=employer)


def test_arrangement_form_offers_providers_of_the_pathway(client, alice, dora, person_in_a):
    from whatworks.community import services as community

    community.provider_create(
        actor=dora,
        data={"name": "Hogar de Cristo", "kind": "housing", "pathways": ["accommodation"]},
    )
    community.provider_create(
        actor=dora,
        data={"name": "Constructora Andes", "kind": "employer", "pathways": ["education_work"]},
    )
    client.force_login(alice)
    url = reverse("arrangement-new", args=[person_in_a.pk, "accommodation"])
    page = client.get(url).content.decode()
    assert "Hogar de Cristo" in page and "Constructora Andes" not in page
    housing = CommunityProvider.objects.get(name="Hogar de Cristo")
    response = client.post(
        url, {"detail_type": "supported", "status": "confirmed", "provider": housing.pk}
    )
    assert response.status_code == 302
    page = client.get(reverse("person-reintegration", args=[person_in_a.pk])).content.decode()
    assert reverse("community-provider-detail", args=[housing.pk]) in page


def test_summary_is_written_in_the_language_asked_for(alice, preparation, person_in_a):
    spanish = selectors.release_summary(viewer=alice, person=person_in_a, language="es")
    portuguese = selectors.release_summary(viewer=alice, person=person_in_a, language="pt-br")
    assert (spanish["title"], portuguese["title"]) == ("Resumen de egreso", "Resumo de saída")
    assert spanish["sections"][0]["title"] != portuguese["sections"][0]["title"]


def test_programme_staff_do_not_see_medication_details(
    client, alice, pablo, preparation, person_in_a
):
    _arrange(alice, preparation, kind="medication", status="confirmed", description="Sertraline")
    handover = services.handover_record(
        actor=alice,
        preparation=preparation,
        recipient="person",
        handed_over_on=datetime.date(2026, 11, 2),
        summary=selectors.release_summary(
            viewer=alice, person=person_in_a, language="en", recipient="person"
        ),
        language="en",
    )
    client.force_login(pablo)
    page = client.get(reverse("person-reintegration", args=[person_in_a.pk])).content.decode()
    assert "Sertraline" not in page and "details withheld" in page
    summary = client.get(reverse("release-summary", args=[person_in_a.pk]) + "?for=person")
    assert "Sertraline" not in summary.content.decode()
    assert client.get(reverse("handover-detail", args=[handover.pk])).status_code == 403
    assert client.get(reverse("handover-pdf", args=[handover.pk])).status_code == 403
    api = client.get(f"/api/v1/persons/{person_in_a.pk}/release-preparation").json()
    assert "Sertraline" not in str(api)
    client.force_login(alice)
    assert (
        "Sertraline" in client.get(reverse("handover-detail", args=[handover.pk])).content.decode()
    )


def test_task_and_arrangement_pages(client, alice, bruno, helena, preparation, person_in_a):
    client.force_login(alice)
    response = client.post(
        reverse("release-task-new", args=[person_in_a.pk]),
        {
            "pathway": "finance_id",
            "description": "Book the civil registry",
            "owner": bruno.pk,
            "due_date": "2026-12-01",
        },
    )
    assert response.status_code == 400  # bruno works elsewhere: not offered, not accepted
    response = client.post(
        reverse("release-task-new", args=[person_in_a.pk]),
        {
            "pathway": "finance_id",
            "description": "Book the civil registry",
            "owner": alice.pk,
            "due_date": "2026-12-01",
        },
    )
    assert response.status_code == 302
    task = preparation.tasks.get()
    response = client.post(
        reverse("release-task-status", args=[task.pk]),
        {"status": "done", "completed_on": "2026-11-20"},
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.completed_on) == ("done", datetime.date(2026, 11, 20))
    housing = _arrange(alice, preparation, kind="accommodation", detail_type="family")
    edit = reverse("arrangement-edit", args=[housing.pk])
    response = client.post(edit, {"detail_type": "family", "status": "confirmed"})
    assert response.status_code == 302
    housing.refresh_from_db()
    assert housing.status == "confirmed" and housing.confirmed_on is not None
    client.force_login(helena)
    assert client.get(edit).status_code == 403
    assert client.get(reverse("release-task-status", args=[task.pk])).status_code == 403
    client.force_login(bruno)
    assert client.get(edit).status_code == 404
    assert client.get(reverse("release-task-status", args=[task.pk])).status_code == 404


def test_handover_of_a_person_out_of_scope_is_not_found(client, alice, bruno, preparation):
    handover = services.handover_record(
        actor=alice,
        preparation=preparation,
        recipient="probation",
        handed_over_on=datetime.date(2026, 11, 2),
        summary={
            "title": "x",
            "recipient": "x",
            "language": "en",
            "generated_on": "x",
            "facts": [],
            "sections": [],
        },
        language="en",
    )
    client.force_login(bruno)
    assert client.get(reverse("handover-detail", args=[handover.pk])).status_code == 404
    assert client.get(reverse("handover-pdf", args=[handover.pk])).status_code == 404


def test_an_unknown_arrangement_kind_is_a_field_error_not_a_crash(client, alice, dora, person_in_a):
    from whatworks.community import services as community

    provider = community.provider_create(
        actor=dora, data={"name": "Hogar", "kind": "housing", "pathways": ["accommodation"]}
    )
    from whatworks.accounts.services import api_token_create

    _, raw = api_token_create(actor=alice, user=alice, name="t")
    response = client.post(
        f"/api/v1/persons/{person_in_a.pk}/release-preparation/arrangements",
        data={"kind": "spaceship", "provider_id": provider.pk},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 422
    assert ["body", "kind"] in [d["loc"] for d in response.json()["detail"]]

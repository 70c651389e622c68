"""The assessment pages through HTTP, persona by persona, and what bad input does."""

import datetime

import pytest
from django.urls import reverse

from whatworks.assessments import services
from whatworks.assessments.models import Assessment
from whatworks.assessments.tests.helpers import completed, k6_answers, rnr_answers
from whatworks.audit.models import AuditEvent


def k6_post(values, action="complete"):
    data = {item: str(value) for item, value in k6_answers(values).items()}
    data[action] = "1"
    return data


def test_alice_starts_and_completes_a_k6_from_the_person_page(client, alice, person_in_a):
    client.force_login(alice)
    page = client.get(reverse("person-detail", args=[person_in_a.pk]))
    assert reverse("person-assessments", args=[person_in_a.pk]) in page.content.decode()
    response = client.post(
        reverse("person-assessments", args=[person_in_a.pk]), {"instrument": "k6"}
    )
    assessment = Assessment.objects.get()
    assert response.url == reverse("assessment-edit", args=[assessment.pk])
    form = client.get(response.url)
    assert "Nervous" in form.content.decode() or "nervous" in form.content.decode()
    response = client.post(
        reverse("assessment-edit", args=[assessment.pk]), k6_post([2, 2, 2, 2, 2, 3])
    )
    assert response.url == reverse("assessment-detail", args=[assessment.pk])
    result = client.get(response.url).content.decode()
    assert "Serious psychological distress" in result or "serious" in result.lower()
    assert "13" in result
    assert "Show the answers" not in result  # alice sees the band, not the K6 answers


def test_the_form_is_in_the_users_language(client, alice, person_in_a):
    assessment = services.assessment_start(actor=alice, person=person_in_a, instrument_slug="k6")
    instrument = assessment.instrument_version.instrument
    client.force_login(alice)
    client.cookies["django_language"] = "es"
    page = client.get(reverse("assessment-edit", args=[assessment.pk]), HTTP_ACCEPT_LANGUAGE="es")
    assert instrument.text(instrument.items[0], "es") in page.content.decode()


def test_save_draft_keeps_partial_answers_and_complete_names_missing(client, alice, person_in_a):
    assessment = services.assessment_start(actor=alice, person=person_in_a, instrument_slug="k6")
    client.force_login(alice)
    url = reverse("assessment-edit", args=[assessment.pk])
    response = client.post(url, {"k6_1_nervous": "3", "save": "1"})
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.answers == {"k6_1_nervous": 3}
    response = client.post(url, {"k6_1_nervous": "3", "complete": "1"})
    assert response.status_code == 400
    assert "k6_6_worthless" in response.content.decode()


@pytest.mark.parametrize(
    "data", [{"k6_1_nervous": "9", "complete": "1"}, {"k6_1_nervous": "x"}, {"zz": "1"}]
)
def test_garbage_posts_are_400_or_ignored_never_500(client, alice, person_in_a, data):
    assessment = services.assessment_start(actor=alice, person=person_in_a, instrument_slug="k6")
    client.force_login(alice)
    response = client.post(reverse("assessment-edit", args=[assessment.pk]), data)
    assert response.status_code in (302, 400)


def test_unknown_instrument_in_the_start_form_is_400(client, alice, person_in_a):
    client.force_login(alice)
    response = client.post(
        reverse("person-assessments", args=[person_in_a.pk]), {"instrument": "nope"}
    )
    assert response.status_code == 400
    assert not Assessment.objects.exists()


def test_health_staff_choose_only_health_instruments(client, helena, person_in_a):
    client.force_login(helena)
    page = client.get(reverse("person-assessments", args=[person_in_a.pk])).content.decode()
    assert 'value="k6"' in page and 'value="audit"' in page
    assert 'value="rnr-screener"' not in page
    response = client.post(
        reverse("person-assessments", args=[person_in_a.pk]), {"instrument": "rnr-screener"}
    )
    assert response.status_code == 400


def test_helena_opens_k6_answers_and_the_read_is_audited(client, alice, helena, person_in_a):
    assessment = completed(alice, person_in_a, "k6", k6_answers([1, 1, 1, 1, 1, 1]))
    client.force_login(helena)
    url = reverse("assessment-detail", args=[assessment.pk])
    assert "Show the answers" in client.get(url).content.decode()
    assert not AuditEvent.objects.filter(action="assessment.read_answers").exists()
    client.get(url + "?answers=1")
    assert AuditEvent.objects.filter(action="assessment.read_answers", actor=helena).count() == 1


def test_alice_asking_for_k6_answers_gets_none_and_no_read(client, alice, person_in_a):
    assessment = completed(alice, person_in_a, "k6", k6_answers([1, 1, 1, 1, 1, 1]))
    client.force_login(alice)
    page = client.get(reverse("assessment-detail", args=[assessment.pk]) + "?answers=1")
    assert page.status_code == 200
    assert 'id="answers"' not in page.content.decode()
    assert not AuditEvent.objects.filter(action="assessment.read_answers").exists()


def test_bruno_gets_404_for_alices_persons_assessment(client, alice, bruno, person_in_a):
    assessment = completed(alice, person_in_a, "k6", k6_answers([0] * 6))
    client.force_login(bruno)
    for name, args in [
        ("assessment-detail", [assessment.pk]),
        ("assessment-edit", [assessment.pk]),
        ("assessment-override", [assessment.pk]),
        ("person-assessments", [person_in_a.pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 404, name


def test_analyst_sees_override_rates_but_no_person_assessment(client, alice, carla, person_in_a):
    assessment = completed(alice, person_in_a, "k6", k6_answers([0] * 6))
    client.force_login(carla)
    assert client.get(reverse("assessment-detail", args=[assessment.pk])).status_code == 404
    page = client.get(reverse("assessment-override-rates"))
    assert page.status_code == 200 and "5–15%" in page.content.decode()
    assert client.get(reverse("assessments-due")).status_code == 403


def test_rnr_result_shows_the_not_validated_warning_and_the_needs_chart(
    client, alice, pablo, person_in_a
):
    assessment = completed(alice, person_in_a, "rnr-screener", rnr_answers(high=True))
    for persona in (alice, pablo):
        client.force_login(persona)
        page = client.get(reverse("assessment-detail", args=[assessment.pk])).content.decode()
        assert "validate on local outcomes before using it for decisions" in page
        assert "needs-threshold" in page and "<svg" in page
        assert "style=" not in page


def test_override_through_the_form(client, alice, fabio, person_in_a):
    assessment = completed(alice, person_in_a, "rnr-screener", rnr_answers(high=False))
    client.force_login(alice)
    url = reverse("assessment-override", args=[assessment.pk])
    page = client.get(url).content.decode()
    assert "alice" not in page.split("<form")[1]  # the assessor is not offered as approver
    response = client.post(url, {"band": "high", "reason": "", "approver": fabio.pk})
    assert response.status_code == 400
    response = client.post(url, {"band": "high", "reason": "Threats", "approver": fabio.pk})
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert (assessment.band, assessment.effective_band) == ("low", "high")


def test_due_list_and_history_pages(client, alice, person_in_a):
    for day in (datetime.date(2025, 1, 10), datetime.date(2025, 6, 1)):
        completed(alice, person_in_a, "rnr-screener", rnr_answers(high=True), assessed_on=day)
    client.force_login(alice)
    due = client.get(reverse("assessments-due")).content.decode()
    assert person_in_a.full_name in due and "overdue" in due
    history = client.get(reverse("person-assessments", args=[person_in_a.pk])).content.decode()
    assert "history-line" in history
    assert reverse("assessments-due") in client.get(reverse("dashboard")).content.decode()

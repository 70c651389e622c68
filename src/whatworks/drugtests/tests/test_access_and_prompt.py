import datetime

import pytest
from django.test import override_settings
from django.urls import reverse

from whatworks.audit.models import AuditEvent
from whatworks.drugtests.tests.helpers import record
from whatworks.treatment import services as treatment_services
from whatworks.treatment.tests.helpers import make_programme

PROMPT = "consider a referral to a substance-use programme"


def test_a_positive_prompts_a_referral_until_one_is_open(client, alice, helena, person_in_a):
    record(helena, person_in_a, results={"cannabis": "positive"})
    client.force_login(alice)
    page = client.get(reverse("person-treatment", args=[person_in_a.pk])).content.decode()
    assert PROMPT in page
    assert reverse("referral-new", args=[person_in_a.pk]) in page
    programme = make_programme("ADIC-1", programme_type="substance_use")
    treatment_services.referral_create(
        actor=alice, person=person_in_a, programme=programme, override_reason="Positive test"
    )
    page = client.get(reverse("person-treatment", args=[person_in_a.pk])).content.decode()
    assert PROMPT not in page


def test_a_negative_prompts_nothing(client, alice, helena, person_in_a):
    record(helena, person_in_a)
    client.force_login(alice)
    page = client.get(reverse("person-treatment", args=[person_in_a.pk])).content.decode()
    assert PROMPT not in page


def test_case_managers_see_no_results_by_default(client, alice, helena, person_in_a):
    record(helena, person_in_a)
    client.force_login(alice)
    assert client.get(reverse("drugtest-person", args=[person_in_a.pk])).status_code == 403
    assert not AuditEvent.objects.filter(action="drugtest.read").exists()


@override_settings(DRUG_TEST_RESULTS_FOR_CASE_MANAGERS=True)
def test_case_managers_see_results_when_switched_on_and_the_read_is_audited(
    client, alice, helena, person_in_a
):
    record(helena, person_in_a, seal_number="SEAL-77")
    client.force_login(alice)
    response = client.get(reverse("drugtest-person", args=[person_in_a.pk]))
    assert response.status_code == 200 and "SEAL-77" in response.content.decode()
    event = AuditEvent.objects.get(action="drugtest.read")
    assert event.actor == alice and event.person == person_in_a


@pytest.mark.parametrize("who", ["helena", "fabio", "dora"])
def test_health_staff_managers_and_administrators_read_and_each_read_is_audited(
    request, client, helena, person_in_a, who
):
    record(helena, person_in_a, seal_number="SEAL-77")
    user = request.getfixturevalue(who)
    client.force_login(user)
    for _ in range(2):
        page = client.get(reverse("drugtest-person", args=[person_in_a.pk])).content.decode()
        assert "SEAL-77" in page
    assert AuditEvent.objects.filter(action="drugtest.read", actor=user).count() == 2


def test_other_facilities_and_analysts_see_nothing(client, bruno, carla, helena, person_in_a):
    record(helena, person_in_a)
    client.force_login(bruno)
    assert client.get(reverse("drugtest-person", args=[person_in_a.pk])).status_code == 404
    client.force_login(carla)
    assert client.get(reverse("drugtest-person", args=[person_in_a.pk])).status_code in (403, 404)


def test_health_staff_record_and_correct_through_the_pages(client, helena, person_in_a):
    client.force_login(helena)
    url = reverse("drugtest-new", args=[person_in_a.pk])
    assert client.get(url).status_code == 200
    future = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
    response = client.post(
        url,
        {"test_date": future, "reason": "random", "sample": "urine", "result_cannabis": "negative"},
    )
    assert response.status_code == 400
    response = client.post(
        url,
        {
            "test_date": "2025-03-10",
            "reason": "random",
            "sample": "urine",
            "result_cannabis": "positive",
        },
    )
    assert response.status_code == 302
    test = person_in_a.drug_tests.get()
    response = client.post(
        reverse("drugtest-correct", args=[test.pk]),
        {
            "test_date": "2025-03-10",
            "reason": "random",
            "sample": "urine",
            "result_cannabis": "negative",
            "correction_reason": "Misread strip",
        },
    )
    assert response.status_code == 302
    assert person_in_a.drug_tests.filter(is_current=True).get().outcome == "negative"


def test_selection_and_dashboard_pages(client, fabio, helena, person_in_a, facility_a):
    for _ in range(12):
        record(
            helena, person_in_a, test_date=datetime.date.today(), results={"cocaine": "negative"}
        )
    client.force_login(fabio)
    detail = reverse("drugtest-selection", args=[facility_a.pk, "2025-03"])
    assert client.get(detail).status_code == 200
    client.post(reverse("drugtest-selection-draw", args=[facility_a.pk, "2025-03"]))
    assert person_in_a.research_id in client.get(detail).content.decode()
    dashboard = client.get(reverse("drugtest-dashboard"))
    assert dashboard.status_code == 200
    page = dashboard.content.decode()
    assert "cocaine" in page and ">12<" in page  # zero of twelve is not disclosive


def test_the_dashboard_hides_small_counts(helena, fabio, person_in_a):
    from whatworks.drugtests.selectors import positivity

    today = datetime.date.today()
    for result in ["positive"] * 3 + ["negative"] * 9:
        record(helena, person_in_a, test_date=today, results={"cannabis": result})
    (row,) = [r for r in positivity(viewer=fabio) if r.substance == "cannabis"]
    assert row.share.denominator == 12 and row.share.suppressed and row.share.rate is None

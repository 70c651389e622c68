"""The catalogue, fidelity, waitlist, group, session, register and dashboard pages through
HTTP, persona by persona, and what bad input does (never a 500)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from conftest import admission_data, person_data
from whatworks.analytics.treatment import load_checklist
from whatworks.records.services import person_admit
from whatworks.treatment import services
from whatworks.treatment.models import (
    Attendance,
    FidelityReview,
    GroupSession,
    Programme,
    ProgrammeGroup,
)
from whatworks.treatment.tests.helpers import allocated, approved_plan, assess, make_programme

pytestmark = pytest.mark.django_db

DAY = datetime.date(2025, 3, 3)  # a Monday, in the past


@pytest.fixture
def cbt(facility_a, facility_b):
    return make_programme("CBT-1", facilities=[facility_a, facility_b])


def admit(facility, number: int, **overrides):
    return person_admit(
        actor=None,
        person_data=person_data(
            prison_number=f"CL-00001{number:02d}", last_names=f"Persona {number}", **overrides
        ),
        facility=facility,
        admission_data=admission_data(),
    ).person


def referred(referrer, person, programme, *, high=True, override_reason=""):
    assess(referrer, person, high=high)
    if high:
        approved_plan(referrer, person)
    return services.referral_create(
        actor=referrer,
        person=person,
        programme=programme,
        referral_date=DAY,
        override_reason=override_reason,
    )


def waitlisted(actor, referral, day=DAY):
    for status in ("assessed_suitable", "waitlisted"):
        referral = services.referral_transition(
            actor=actor, referral=referral, to_status=status, effective_date=day
        )
    return referral


def programme_post(facility, **overrides):
    data = {
        "code": "SUD-9",
        "name": "Tratamiento de consumo",
        "programme_type": "substance_use",
        "target_needs": ["substance_abuse"],
        "eligible_risk_bands": ["moderate", "high", "very_high"],
        "min_age": "18",
        "dosage_hours": "120",
        "dosage_sessions": "40",
        "session_hours": "3",
        "group_capacity": "10",
        "setting": "facility",
        "facilities": [str(facility.pk)],
        "languages": "es, pt",
        "adaptations": ["low_literacy"],
        "evidence_rating": "promising",
        "evidence_source": "CrimeSolutions",
        "remission_kind": "study",
        "is_active": "on",
    }
    data.update(overrides)
    return data


# --- catalogue ---------------------------------------------------------------------------


def test_dora_creates_a_programme_through_the_form(client, dora, facility_a):
    client.force_login(dora)
    response = client.post(reverse("programme-new"), programme_post(facility_a))
    programme = Programme.objects.get(code="SUD-9")
    assert response.url == reverse("programme-detail", args=[programme.pk])
    assert programme.languages == ["es", "pt"]
    assert list(programme.facilities.all()) == [facility_a]
    assert programme.dosage_hours == Decimal("120")
    page = client.get(response.url).content.decode()
    assert "Substance abuse" in page and "CrimeSolutions" in page
    listing = client.get(reverse("programme-list") + "?type=substance_use").content.decode()
    assert "Tratamiento de consumo" in listing
    other_type = client.get(reverse("programme-list") + "?type=faith").content.decode()
    assert "Tratamiento de consumo" not in other_type


@pytest.mark.parametrize(
    "overrides",
    [
        {"dosage_hours": "abc"},
        {"target_needs": ["flying"]},
        {"min_age": "40", "max_age": "20"},
        {"languages": "español"},
        {"programme_type": "magic"},
        {"facilities": ["999999"]},
    ],
)
def test_bad_programme_values_are_shown_not_500(client, dora, facility_a, overrides):
    client.force_login(dora)
    response = client.post(reverse("programme-new"), programme_post(facility_a, **overrides))
    assert response.status_code == 400
    assert "error-summary" in response.content.decode()
    assert not Programme.objects.exists()


def test_only_catalogue_editors_edit_but_everyone_reads(client, alice, carla, cbt):
    client.force_login(alice)
    assert client.get(reverse("programme-list")).status_code == 200
    assert client.get(reverse("programme-detail", args=[cbt.pk])).status_code == 200
    assert client.get(reverse("programme-new")).status_code == 403
    assert client.get(reverse("programme-edit", args=[cbt.pk])).status_code == 403
    assert client.get(reverse("fidelity-new", args=[cbt.pk])).status_code == 403
    assert client.get(reverse("programme-list") + "?type=nope").status_code == 400
    client.force_login(carla)
    assert client.get(reverse("programme-list")).status_code == 200


def test_dora_edits_a_programme(client, dora, cbt):
    client.force_login(dora)
    url = reverse("programme-edit", args=[cbt.pk])
    assert 'value="CBT-1"' in client.get(url).content.decode()
    data = programme_post(cbt.facilities.first(), code="CBT-1", name="Razonamiento")
    assert client.post(url, data).status_code == 302
    cbt.refresh_from_db()
    assert cbt.name == "Razonamiento"


def _all_answers(answer="yes"):
    checklist = load_checklist("cpc-style")
    return {item.id: answer for domain in checklist.domains for item in domain.items}


def test_fidelity_review_through_the_form(client, pablo, cbt):
    client.force_login(pablo)
    url = reverse("fidelity-new", args=[cbt.pk])
    client.cookies["django_language"] = "es"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    checklist = load_checklist("cpc-style")
    assert checklist.domains[0].items[0].text["es"] in page
    client.cookies["django_language"] = "en"
    response = client.post(url, {"reviewed_on": DAY.isoformat(), **_all_answers()}, follow=True)
    review = FidelityReview.objects.get()
    assert (review.percent, review.band) == (100.0, "very_high")
    page = response.content.decode()
    assert "100%" in page and "Very high adherence" in page


def test_fidelity_review_with_a_missing_item_is_refused(client, pablo, cbt):
    client.force_login(pablo)
    answers = _all_answers("no")
    missing = next(iter(answers))
    del answers[missing]
    response = client.post(
        reverse("fidelity-new", args=[cbt.pk]), {"reviewed_on": DAY.isoformat(), **answers}
    )
    assert response.status_code == 400
    assert f'href="#id_{missing}' in response.content.decode()
    assert not FidelityReview.objects.exists()
    response = client.post(
        reverse("fidelity-new", args=[cbt.pk]),
        {"reviewed_on": "yesterday", **_all_answers("maybe")},
    )
    assert response.status_code == 400


# --- groups, sessions and registers --------------------------------------------------------


def test_pablo_runs_a_group_from_creation_to_corrected_register(
    client, alice, pablo, facility_a, cbt, person_in_a
):
    first = referred(alice, person_in_a, cbt)
    second = referred(alice, admit(facility_a, 2), cbt)
    client.force_login(pablo)
    response = client.post(
        reverse("group-new"),
        {
            "programme": cbt.pk,
            "facility": facility_a.pk,
            "name": "CBT mañana",
            "start_date": DAY.isoformat(),
            "facilitators": [pablo.pk],
        },
    )
    group = ProgrammeGroup.objects.get()
    assert response.url == reverse("group-detail", args=[group.pk])
    assert group.capacity == cbt.group_capacity

    url = reverse("sessions-new", args=[group.pk])
    weekly = {
        "mode": "weekly",
        "weekly-weekdays": ["0"],
        "weekly-start_time": "09:00",
        "weekly-hours": "2",
        "weekly-first_date": DAY.isoformat(),
        "weekly-count": "3",
        "weekly-room": "Aula 1",
        "weekly-facilitator": pablo.pk,
    }
    assert client.post(url, weekly).status_code == 302
    dates = list(GroupSession.objects.values_list("session_date", flat=True))
    assert dates == [DAY + datetime.timedelta(weeks=week) for week in range(3)]
    clash = {
        "mode": "one",
        "one-session_date": DAY.isoformat(),
        "one-start_time": "10:00",
        "one-hours": "1",
    }
    response = client.post(url, clash)
    assert response.status_code == 400
    assert "The group already has a session at 09:00 that day." in response.content.decode()
    assert GroupSession.objects.count() == 3
    assert client.post(url, {"mode": "other"}).status_code == 400
    assert client.post(url, {**weekly, "weekly-weekdays": ["9"]}).status_code == 400

    for referral in (first, second):
        allocated(pablo, referral, group, day=DAY)
    session = GroupSession.objects.get(session_date=DAY)
    register = reverse("session-register", args=[session.pk])
    page = client.get(register).content.decode()
    assert person_in_a.full_name in page
    # all or nothing: an excused absence without a reason refuses the whole register
    bad = {f"{first.pk}_status": "attended", f"{second.pk}_status": "excused"}
    response = client.post(register, bad)
    assert response.status_code == 400
    assert "An excused absence needs a reason." in response.content.decode()
    assert not Attendance.objects.exists()
    assert client.post(register, {f"{first.pk}_status": "zz"}).status_code == 400
    assert client.post(register, {}).status_code == 400
    good = {**bad, f"{second.pk}_excuse_reason": "health"}
    assert client.post(register, good).status_code == 302
    record = Attendance.objects.get(referral=first)
    assert (record.status, record.hours) == ("attended", Decimal("2"))
    assert Attendance.objects.get(referral=second).excuse_reason == "health"
    page = client.get(register).content.decode()
    correct = reverse("attendance-correct", args=[record.pk])
    assert correct in page

    response = client.post(correct, {"status": "late", "hours": "1.5", "reason": ""})
    assert response.status_code == 400
    response = client.post(correct, {"status": "late", "hours": "1.5", "reason": "Llegó tarde"})
    assert response.url == register
    history = client.get(correct).content.decode()
    assert "superseded" in history and "Llegó tarde" in history
    assert Attendance.objects.filter(referral=first, is_current=True).get().hours == Decimal("1.5")
    group_page = client.get(reverse("group-detail", args=[group.pk])).content.decode()
    assert "1.5 of 60" in group_page


def test_a_future_session_has_no_register_form(client, pablo, facility_a, cbt):
    group = services.group_create(
        actor=pablo, programme=cbt, facility=facility_a, name="G", start_date=DAY
    )
    future = services.session_create(
        actor=pablo,
        group=group,
        session_date=datetime.date.today() + datetime.timedelta(days=7),
        start_time=datetime.time(9),
        hours="2",
    )
    client.force_login(pablo)
    page = client.get(reverse("session-register", args=[future.pk]))
    assert "attendance is recorded after the session" in page.content.decode()
    assert 'type="radio"' not in page.content.decode()
    assert client.post(reverse("session-register", args=[future.pk]), {}).status_code == 400


def test_delivery_pages_are_forbidden_or_hidden_by_role_and_scope(
    client, alice, bruno, carla, pablo, facility_a, cbt
):
    group = services.group_create(
        actor=pablo, programme=cbt, facility=facility_a, name="G", start_date=DAY
    )
    session = services.session_create(
        actor=pablo, group=group, session_date=DAY, start_time=datetime.time(9), hours="2"
    )
    client.force_login(alice)  # a case manager reads groups but does not run them
    assert client.get(reverse("group-detail", args=[group.pk])).status_code == 200
    assert client.get(reverse("group-new")).status_code == 403
    assert client.get(reverse("sessions-new", args=[group.pk])).status_code == 403
    assert client.get(reverse("session-register", args=[session.pk])).status_code == 403
    client.force_login(bruno)
    assert client.get(reverse("group-detail", args=[group.pk])).status_code == 404
    client.force_login(carla)
    assert client.get(reverse("group-list")).status_code == 403
    assert client.get(reverse("waitlist-overview")).status_code == 403


# --- waitlists ---------------------------------------------------------------------------


def test_waitlist_ranks_explains_and_refuses_allocation_over_capacity(
    client, alice, pablo, facility_a, cbt, person_in_a
):
    high = waitlisted(pablo, referred(alice, person_in_a, cbt))
    low_person = admit(facility_a, 3)
    low = waitlisted(
        pablo,
        referred(alice, low_person, cbt, high=False, override_reason="Orden del tribunal"),
        day=DAY + datetime.timedelta(days=20),
    )
    group = services.group_create(
        actor=pablo, programme=cbt, facility=facility_a, name="G1", start_date=DAY, capacity=1
    )
    client.force_login(pablo)
    overview = client.get(reverse("waitlist-overview")).content.decode()
    url = reverse("waitlist-detail", args=[cbt.pk, facility_a.pk])
    assert url in overview
    page = client.get(url).content.decode()
    assert page.index(person_in_a.full_name) < page.index(low_person.full_name)
    assert "Very high risk" in page and "Low risk" in page
    assert "Waiting " in page and "0 of 1 places taken" in page

    response = client.post(url, {"referral": high.pk, "group": group.pk})
    assert response.url == url
    response = client.post(url, {"referral": low.pk, "group": group.pk})
    assert response.status_code == 400
    assert "The group is full: 1 of 1 places are taken." in response.content.decode()
    low.refresh_from_db()
    assert low.status == "waitlisted"
    for garbage in ({"referral": "x", "group": group.pk}, {"referral": low.pk, "group": "zz"}):
        assert client.post(url, garbage).status_code == 400
    assert client.post(url, {"referral": 999999, "group": group.pk}).status_code == 400
    client.force_login(alice)
    assert client.get(url).status_code == 200
    assert client.post(url, {"referral": low.pk, "group": group.pk}).status_code == 403


def test_waitlists_respect_scope(client, alice, bruno, dora, facility_a, facility_b, cbt):
    client.force_login(bruno)
    url = reverse("waitlist-detail", args=[cbt.pk, facility_a.pk])
    assert client.get(url).status_code == 404
    assert client.get(reverse("waitlist-detail", args=[cbt.pk, facility_b.pk])).status_code == 200


# --- dashboard ---------------------------------------------------------------------------


@pytest.fixture
def waiting_in_both(alice, bruno, dora, facility_a, facility_b, cbt, person_in_a, person_in_b):
    waitlisted(dora, referred(alice, person_in_a, cbt))
    waitlisted(dora, referred(bruno, person_in_b, cbt))


def test_dashboard_for_analysts_and_managers_only(
    client, alice, bruno, carla, fabio, dora, waiting_in_both
):
    url = reverse("treatment-dashboard")
    for persona in (alice, bruno):
        client.force_login(persona)
        assert client.get(url).status_code == 403
    client.force_login(carla)
    page = client.get(url)
    assert page.status_code == 200
    content = page.content.decode()
    assert 'class="suppressed"' in content and "—" in content
    assert "Counts from 1 to 9 are not published" in content
    assert "Need coverage: people in custody whose latest RNR screener marks the need" in content
    assert "CL-A-01" in content and "CL-B-01" in content
    assert "style=" not in content
    client.force_login(fabio)
    content = client.get(url).content.decode()
    assert "CL-A-01" in content and "CL-B-01" not in content


@pytest.mark.parametrize("language", ["en", "es", "pt-br"])
def test_every_page_renders_in_each_language_without_inline_style(
    client, alice, dora, pablo, facility_a, cbt, person_in_a, language
):
    referral = waitlisted(pablo, referred(alice, person_in_a, cbt))
    group = services.group_create(
        actor=pablo, programme=cbt, facility=facility_a, name="G", start_date=DAY
    )
    session = services.session_create(
        actor=pablo, group=group, session_date=DAY, start_time=datetime.time(9), hours="2"
    )
    answers = _all_answers("no")
    answers[next(iter(answers))] = "yes"
    services.fidelity_review_record(actor=pablo, programme=cbt, answers=answers, reviewed_on=DAY)
    allocated_referral = services.referral_transition(
        actor=pablo, referral=referral, to_status="allocated", group=group, effective_date=DAY
    )
    record = services.attendance_record(
        actor=pablo, session=session, referral=allocated_referral, status="attended"
    )
    client.force_login(dora)
    client.cookies["django_language"] = language
    pages = [
        reverse("programme-list"),
        reverse("programme-new"),
        reverse("programme-detail", args=[cbt.pk]),
        reverse("programme-edit", args=[cbt.pk]),
        reverse("fidelity-new", args=[cbt.pk]),
        reverse("waitlist-overview"),
        reverse("waitlist-detail", args=[cbt.pk, facility_a.pk]),
        reverse("group-list"),
        reverse("group-new"),
        reverse("group-detail", args=[group.pk]),
        reverse("sessions-new", args=[group.pk]),
        reverse("session-register", args=[session.pk]),
        reverse("attendance-correct", args=[record.pk]),
        reverse("treatment-dashboard"),
    ]
    for url in pages:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, url
        assert "style=" not in response.content.decode(), url

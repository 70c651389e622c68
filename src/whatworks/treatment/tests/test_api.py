"""The treatment API: the plan → referral → allocation → attendance path, errors as 422 on
the field, and scope (out of scope is 404, a role that may not act is 403)."""

import datetime
import json

import pytest

from whatworks.accounts.services import api_token_create
from whatworks.treatment import labels, services
from whatworks.treatment.tests.helpers import (
    allocated,
    approved_plan,
    assess,
    make_programme,
    running_group,
)

pytestmark = pytest.mark.django_db

DAY = datetime.date(2025, 3, 3)  # a Monday, in the past


def bearer(user) -> dict:
    _, raw = api_token_create(actor=user, user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def send(client, method, url, payload, headers):
    return getattr(client, method)(
        url, data=json.dumps(payload), content_type="application/json", **headers
    )


def locations(response) -> set[tuple]:
    return {tuple(detail["loc"]) for detail in response.json()["detail"]}


@pytest.fixture
def cbt(facility_a):
    return make_programme("CBT-1", facilities=[facility_a])


@pytest.fixture
def assessed(alice, person_in_a):
    assess(alice, person_in_a, high=True)
    return person_in_a


def _session(group, day=DAY, start="09:00", hours="2"):
    return services.session_create(
        actor=None,
        group=group,
        session_date=day,
        start_time=datetime.time.fromisoformat(start),
        hours=hours,
    )


def _referred(alice, person, programme):
    approved_plan(alice, person)
    return services.referral_create(
        actor=alice, person=person, programme=programme, referral_date=DAY
    )


def test_catalogue_for_any_active_staff(client, carla, cbt):
    response = client.get("/api/v1/programmes", **bearer(carla))
    assert response.status_code == 200, response.content
    (programme,) = response.json()
    assert programme["code"] == "CBT-1"
    assert programme["target_needs"] == ["antisocial_attitudes", "antisocial_personality"]
    assert (programme["dosage_hours"], programme["group_capacity"]) == (60, 12)
    assert programme["facilities"] == ["CL-A-01"]
    assert programme["evidence_rating"] == "effective"
    assert programme["eligibility"]["prerequisites"] == []
    assert programme["fidelity_percent"] is None


def test_plan_referral_allocation_attendance_and_dosage(
    client, alice, pablo, assessed, cbt, facility_a
):
    headers = bearer(alice)
    # Propose: the plan comes with each choice explained.
    response = send(client, "post", f"/api/v1/persons/{assessed.pk}/plans", {}, headers)
    assert response.status_code == 201, response.content
    plan = response.json()
    assert (plan["status"], plan["version"], plan["risk_band"]) == ("draft", 1, "very_high")
    (item,) = plan["proposal"]["items"]
    assert (item["programme_id"], item["programme_name"]) == (cbt.pk, "Programme CBT-1")
    assert "targets_need" in {reason["code"] for reason in item["reasons"]}
    for reason in item["reasons"]:
        assert reason["text"] == labels.reason_text(reason, {str(cbt.pk): cbt.name})
        assert reason["text"] and reason["text"] != reason["code"]
    assert plan["goals"][0]["programme_code"] == "CBT-1" and plan["goals"][0]["steps"]
    # Approve.
    response = send(
        client, "post", f"/api/v1/plans/{plan['id']}/approve", {"agreement": "agreed"}, headers
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"
    assert response.json()["next_review_date"] is not None
    # Refer.
    response = send(
        client,
        "post",
        f"/api/v1/persons/{assessed.pk}/referrals",
        {"programme_id": cbt.pk, "referral_date": DAY.isoformat()},
        headers,
    )
    assert response.status_code == 201, response.content
    referral = response.json()
    assert (referral["status"], referral["programme_code"]) == ("referred", "CBT-1")
    # Programme staff assess, waitlist and allocate.
    group = running_group(cbt, facility_a, start=DAY)
    staff = bearer(pablo)
    url = f"/api/v1/referrals/{referral['id']}/transitions"
    for body in (
        {"to_status": "assessed_suitable", "effective_date": DAY.isoformat()},
        {"to_status": "waitlisted", "effective_date": DAY.isoformat()},
        {"to_status": "allocated", "effective_date": DAY.isoformat(), "group_id": group.pk},
    ):
        response = send(client, "post", url, body, staff)
        assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["group_id"]) == ("allocated", group.pk)
    # Attendance starts the programme.
    session = _session(group)
    response = send(
        client,
        "post",
        f"/api/v1/sessions/{session.pk}/attendance",
        {"referral_id": referral["id"], "status": "attended"},
        staff,
    )
    assert response.status_code == 201, response.content
    assert (response.json()["hours"], response.json()["referral_status"]) == (2, "in_progress")
    # The person's treatment shows the plan, the referral and the hours.
    response = client.get(f"/api/v1/persons/{assessed.pk}/treatment", **headers)
    assert response.status_code == 200, response.content
    treatment = response.json()
    assert treatment["approved_plan"]["version"] == 1
    assert treatment["approved_plan"]["agreement"] == "agreed"
    assert treatment["draft_plan_id"] is None
    (row,) = treatment["referrals"]
    assert (row["status"], row["hours"], row["sessions_present"]) == ("in_progress", 2, 1)
    assert treatment["dosage"]["criminogenic_hours"] == 2
    assert treatment["dosage"]["total_hours"] == 2
    assert treatment["dosage"]["target_hours"] == 300
    remission = treatment["remission"]  # the default rules (br-lep); CBT earns no remission
    assert (remission["total_days"], remission["expected_release"]) == (0, "2027-01-15")
    # The referral's history, every move with its date.
    detail = client.get(f"/api/v1/referrals/{referral['id']}", **headers).json()
    assert [change["to_status"] for change in detail["history"]] == [
        "referred",
        "assessed_suitable",
        "waitlisted",
        "allocated",
        "in_progress",
    ]
    assert detail["history"][1]["from_status"] == "referred"


def test_approving_a_plan_without_goals_is_422_on_goals(client, alice, person_in_a):
    assess(alice, person_in_a, high=False)  # low risk, no need: no programme proposed
    headers = bearer(alice)
    plan = send(client, "post", f"/api/v1/persons/{person_in_a.pk}/plans", {}, headers).json()
    assert plan["goals"] == []
    response = send(
        client, "post", f"/api/v1/plans/{plan['id']}/approve", {"agreement": "agreed"}, headers
    )
    assert response.status_code == 422
    assert ("body", "goals") in locations(response)


def test_a_second_draft_is_422(client, alice, assessed, cbt):
    headers = bearer(alice)
    first = send(client, "post", f"/api/v1/persons/{assessed.pk}/plans", {}, headers)
    assert first.status_code == 201
    response = send(client, "post", f"/api/v1/persons/{assessed.pk}/plans", {}, headers)
    assert response.status_code == 422
    assert locations(response) == {("body",)}


def test_illegal_transition_is_422_on_to_status(client, alice, pablo, assessed, cbt):
    referral = _referred(alice, assessed, cbt)
    url = f"/api/v1/referrals/{referral.pk}/transitions"
    response = send(client, "post", url, {"to_status": "completed"}, bearer(pablo))
    assert response.status_code == 422
    assert locations(response) == {("body", "to_status")}
    response = send(client, "post", url, {"to_status": "nonsense"}, bearer(pablo))
    assert response.status_code == 422
    # A case manager may only record that a referral was not completed.
    response = send(client, "post", url, {"to_status": "assessed_suitable"}, bearer(alice))
    assert response.status_code == 403
    response = send(client, "post", url, {"to_status": "not_completed"}, bearer(alice))
    assert response.status_code == 422
    assert ("body", "end_reason") in locations(response)


def test_referral_errors_name_the_body_field(client, alice, assessed, cbt):
    headers = bearer(alice)
    url = f"/api/v1/persons/{assessed.pk}/referrals"
    response = send(client, "post", url, {"programme_id": 999999}, headers)
    assert response.status_code == 422
    assert locations(response) == {("body", "programme_id")}
    # Not in an approved plan: an override reason is needed.
    response = send(client, "post", url, {"programme_id": cbt.pk}, headers)
    assert response.status_code == 422
    assert ("body", "override_reason") in locations(response)
    response = send(client, "post", url, {"programme_id": "x"}, headers)
    assert response.status_code == 422


def test_allocation_over_capacity_is_422(client, alice, pablo, facility_a, cbt):
    from conftest import admission_data, person_data
    from whatworks.records.services import person_admit

    group = running_group(cbt, facility_a, start=DAY, capacity=1)
    referrals = []
    for number in (11, 12):
        person = person_admit(
            actor=None,
            person_data=person_data(prison_number=f"CL-00000{number}"),
            facility=facility_a,
            admission_data=admission_data(),
        ).person
        assess(alice, person, high=True)
        referrals.append(_referred(alice, person, cbt))
    allocated(pablo, referrals[0], group, day=DAY)
    second = referrals[1]
    for status in ("assessed_suitable", "waitlisted"):
        second = services.referral_transition(
            actor=pablo, referral=second, to_status=status, effective_date=DAY
        )
    response = send(
        client,
        "post",
        f"/api/v1/referrals/{second.pk}/transitions",
        {"to_status": "allocated", "group_id": group.pk, "effective_date": DAY.isoformat()},
        bearer(pablo),
    )
    assert response.status_code == 422
    assert ("body", "group_id") in locations(response)
    assert "1 of 1" in response.content.decode()


def test_attendance_for_a_future_session_is_422(client, alice, pablo, assessed, cbt, facility_a):
    group = running_group(cbt, facility_a, start=DAY)
    referral = allocated(pablo, _referred(alice, assessed, cbt), group, day=DAY)
    future = _session(group, day=datetime.date.today() + datetime.timedelta(days=7))
    url = f"/api/v1/sessions/{future.pk}/attendance"
    response = send(
        client, "post", url, {"referral_id": referral.pk, "status": "attended"}, bearer(pablo)
    )
    assert response.status_code == 422
    assert ("body", "session") in locations(response)
    response = send(
        client, "post", url, {"referral_id": 999999, "status": "attended"}, bearer(pablo)
    )
    assert locations(response) == {("body", "referral_id")}
    # A case manager does not deliver: the session is out of her scope.
    response = send(
        client, "post", url, {"referral_id": referral.pk, "status": "attended"}, bearer(alice)
    )
    assert response.status_code == 404


def test_out_of_scope_is_404(client, alice, bruno, assessed, cbt):
    referral = _referred(alice, assessed, cbt)
    plan = services.plan_revise(actor=alice, plan=referral.plan)
    headers = bearer(bruno)
    assert client.get(f"/api/v1/persons/{assessed.pk}/treatment", **headers).status_code == 404
    assert client.get(f"/api/v1/referrals/{referral.pk}", **headers).status_code == 404
    for url, body in (
        (f"/api/v1/persons/{assessed.pk}/plans", {}),
        (f"/api/v1/plans/{plan.pk}/approve", {"agreement": "agreed"}),
        (f"/api/v1/persons/{assessed.pk}/referrals", {"programme_id": cbt.pk}),
        (f"/api/v1/referrals/{referral.pk}/transitions", {"to_status": "not_completed"}),
    ):
        response = send(client, "post", url, body, headers)
        assert response.status_code == 404, (url, response.content)
    assert client.get("/api/v1/referrals/999999", **bearer(alice)).status_code == 404


def test_analyst_sees_no_person(client, alice, carla, assessed, cbt):
    referral = _referred(alice, assessed, cbt)
    headers = bearer(carla)
    assert client.get(f"/api/v1/persons/{assessed.pk}/treatment", **headers).status_code == 404
    assert client.get(f"/api/v1/referrals/{referral.pk}", **headers).status_code == 404
    response = send(client, "post", f"/api/v1/persons/{assessed.pk}/plans", {}, headers)
    assert response.status_code == 403
    response = send(
        client,
        "post",
        f"/api/v1/persons/{assessed.pk}/referrals",
        {"programme_id": cbt.pk},
        headers,
    )
    assert response.status_code == 403


def test_programme_staff_read_plans_but_do_not_approve(client, alice, pablo, assessed, cbt):
    plan = services.plan_propose(actor=alice, person=assessed)
    headers = bearer(pablo)
    treatment = client.get(f"/api/v1/persons/{assessed.pk}/treatment", **headers).json()
    assert treatment["draft_plan_id"] == plan.pk
    response = send(
        client, "post", f"/api/v1/plans/{plan.pk}/approve", {"agreement": "agreed"}, headers
    )
    assert response.status_code == 404
    response = send(client, "post", f"/api/v1/persons/{assessed.pk}/plans", {}, headers)
    assert response.status_code == 403


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/v1/programmes"),
        ("get", "/api/v1/persons/1/treatment"),
        ("post", "/api/v1/persons/1/plans"),
        ("get", "/api/v1/referrals/1"),
    ],
)
def test_anonymous_is_401(client, method, path):
    response = client.get(path) if method == "get" else send(client, method, path, {}, {})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_openapi_lists_the_treatment_paths_and_sessions_work(client, alice, cbt):
    client.force_login(alice)
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/programmes",
        "/api/v1/persons/{person_id}/treatment",
        "/api/v1/persons/{person_id}/plans",
        "/api/v1/plans/{plan_id}/approve",
        "/api/v1/persons/{person_id}/referrals",
        "/api/v1/referrals/{referral_id}",
        "/api/v1/referrals/{referral_id}/transitions",
        "/api/v1/sessions/{session_id}/attendance",
    ):
        assert path in paths
    assert [p["code"] for p in client.get("/api/v1/programmes").json()] == ["CBT-1"]

"""The assessments API: scope, server-side scoring, 422 naming the item, audited reads."""

import json

import pytest

from whatworks.accounts.services import api_token_create
from whatworks.assessments.tests.helpers import completed, k6_answers
from whatworks.audit.models import AuditEvent


def bearer(user) -> dict:
    _, raw = api_token_create(actor=user, user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def send(client, method, url, payload, headers):
    return getattr(client, method)(
        url, data=json.dumps(payload), content_type="application/json", **headers
    )


def test_start_draft_complete_and_get(client, alice, person_in_a):
    headers = bearer(alice)
    response = send(
        client,
        "post",
        f"/api/v1/persons/{person_in_a.pk}/assessments",
        {"instrument": "k6"},
        headers,
    )
    assert response.status_code == 201, response.content
    assessment = response.json()
    assert (assessment["status"], assessment["instrument"], assessment["version"]) == (
        "draft",
        "k6",
        "1.0",
    )
    url = f"/api/v1/assessments/{assessment['id']}"
    response = send(client, "put", f"{url}/draft", {"answers": {"k6_1_nervous": 2}}, headers)
    assert response.status_code == 200
    # The client sends answers only; a total or band in the payload has no effect.
    response = send(
        client,
        "post",
        f"{url}/complete",
        {"answers": k6_answers([2, 2, 2, 2, 2, 3]), "total": 0, "band": "no_serious_distress"},
        headers,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["total"], body["band"], body["effective_band"]) == (
        13,
        "serious_distress",
        "serious_distress",
    )
    assert body["answers"] is None  # alice is not health staff
    listed = client.get(f"/api/v1/persons/{person_in_a.pk}/assessments", **headers).json()
    assert [a["id"] for a in listed] == [assessment["id"]]


def test_validation_errors_are_422_naming_the_item(client, alice, person_in_a):
    headers = bearer(alice)
    start = send(
        client,
        "post",
        f"/api/v1/persons/{person_in_a.pk}/assessments",
        {"instrument": "k6"},
        headers,
    ).json()
    url = f"/api/v1/assessments/{start['id']}"
    response = send(client, "put", f"{url}/draft", {"answers": {"k6_2_hopeless": 7}}, headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "k6_2_hopeless"]
    response = send(client, "post", f"{url}/complete", {"answers": {"k6_1_nervous": 1}}, headers)
    assert response.status_code == 422
    locations = {tuple(d["loc"]) for d in response.json()["detail"]}
    assert ("body", "k6_6_worthless") in locations


@pytest.mark.parametrize(
    "method, path, payload",
    [
        ("post", "/api/v1/persons/{person}/assessments", {"instrument": "nope"}),
        ("post", "/api/v1/persons/{person}/assessments", {"instrument": 12}),
        ("post", "/api/v1/persons/{person}/assessments", {}),
        ("put", "/api/v1/assessments/{assessment}/draft", {"answers": [1, 2]}),
        ("put", "/api/v1/assessments/{assessment}/draft", {"answers": {"k6_1_nervous": "x"}}),
        ("post", "/api/v1/assessments/{assessment}/complete", {"answers": "garbage"}),
        ("post", "/api/v1/assessments/{assessment}/complete", {"answers": {"zz": [[]]}}),
    ],
)
def test_bad_input_is_422_never_500(client, alice, person_in_a, method, path, payload):
    from whatworks.assessments import services

    draft = services.assessment_start(actor=alice, person=person_in_a, instrument_slug="k6")
    url = path.format(person=person_in_a.pk, assessment=draft.pk)
    response = send(client, method, url, payload, bearer(alice))
    assert response.status_code == 422, response.content


def test_out_of_scope_is_404(client, alice, bruno, person_in_a):
    assessment = completed(alice, person_in_a, "k6", k6_answers([0] * 6))
    headers = bearer(bruno)
    assert client.get(f"/api/v1/assessments/{assessment.pk}", **headers).status_code == 404
    assert client.get(f"/api/v1/persons/{person_in_a.pk}/assessments", **headers).status_code == 404
    response = send(
        client,
        "post",
        f"/api/v1/persons/{person_in_a.pk}/assessments",
        {"instrument": "k6"},
        headers,
    )
    assert response.status_code == 404


def test_health_staff_get_k6_answers_and_the_read_is_audited(client, alice, helena, person_in_a):
    assessment = completed(alice, person_in_a, "k6", k6_answers([1, 1, 1, 1, 1, 1]))
    body = client.get(f"/api/v1/assessments/{assessment.pk}", **bearer(helena)).json()
    assert body["answers"] == k6_answers([1, 1, 1, 1, 1, 1])
    assert AuditEvent.objects.filter(action="assessment.read_answers", actor=helena).count() == 1


def test_roles_without_assessments(client, carla, pablo, person_in_a):
    assert (
        client.get(f"/api/v1/persons/{person_in_a.pk}/assessments", **bearer(carla)).status_code
        == 403
    )
    response = send(
        client,
        "post",
        f"/api/v1/persons/{person_in_a.pk}/assessments",
        {"instrument": "k6"},
        bearer(pablo),
    )
    assert response.status_code == 403


def test_override_through_the_api_keeps_the_computed_band(client, alice, fabio, person_in_a):
    from whatworks.assessments.tests.helpers import rnr_answers

    assessment = completed(alice, person_in_a, "rnr-screener", rnr_answers(high=True))
    url = f"/api/v1/assessments/{assessment.pk}/override"
    headers = bearer(alice)
    no_reason = send(
        client, "post", url, {"band": "moderate", "reason": " ", "approver": "fabio"}, headers
    )
    assert no_reason.status_code == 422
    assert ["body", "reason"] in [d["loc"] for d in no_reason.json()["detail"]]
    unknown = send(
        client, "post", url, {"band": "moderate", "reason": "x", "approver": "nobody"}, headers
    )
    assert ["body", "approver"] in [d["loc"] for d in unknown.json()["detail"]]
    self_approved = send(
        client, "post", url, {"band": "moderate", "reason": "x", "approver": "alice"}, headers
    )
    assert self_approved.status_code == 422  # a case manager cannot approve, least of all herself
    body = {"band": "moderate", "reason": "Verified family support.", "approver": "fabio"}
    done = send(client, "post", url, body, headers)
    assert done.status_code == 200, done.content
    result = done.json()
    assert (result["band"], result["override_band"], result["effective_band"]) == (
        assessment.band,
        "moderate",
        "moderate",
    )

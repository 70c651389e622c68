"""The release-preparation API: scoped like the pages, errors on the field."""

import json

import pytest

from whatworks.accounts.services import api_token_create

pytestmark = pytest.mark.django_db


def bearer(user) -> dict:
    _, raw = api_token_create(actor=user, user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def send(client, method, url, payload, headers):
    return getattr(client, method)(
        url, data=json.dumps(payload), content_type="application/json", **headers
    )


def test_prepare_through_the_api(client, alice, person_in_a):
    headers = bearer(alice)
    base = f"/api/v1/persons/{person_in_a.pk}/release-preparation"
    before = client.get(base, **headers).json()
    assert before["status"] == "not_started" and len(before["pathways"]) == 7
    response = send(
        client,
        "put",
        f"{base}/pathways/accommodation",
        {"status": "support_required", "needs": []},
        headers,
    )
    assert response.status_code == 422
    assert ["body", "needs"] in [d["loc"] for d in response.json()["detail"]]
    response = send(
        client,
        "put",
        f"{base}/pathways/accommodation",
        {"status": "support_required", "needs": ["no_address"]},
        headers,
    )
    assert response.status_code == 200
    response = send(
        client,
        "post",
        f"{base}/arrangements",
        {"kind": "id_document", "detail_type": "national_id_card", "status": "confirmed"},
        headers,
    )
    assert response.status_code == 201 and response.json()["confirmed_on"]
    after = client.get(base, **headers).json()
    assert after["status"] == "open"
    codes = {item["code"] for item in after["unresolved"]}
    assert "no_id" not in codes and "no_accommodation" in codes


def test_api_scope_and_roles(client, bruno, pablo, carla, person_in_a):
    base = f"/api/v1/persons/{person_in_a.pk}/release-preparation"
    assert client.get(base, **bearer(bruno)).status_code == 404
    assert client.get(base, **bearer(carla)).status_code == 404
    assert client.get(base, **bearer(pablo)).status_code == 200
    response = send(
        client, "put", f"{base}/pathways/family", {"status": "in_progress"}, bearer(pablo)
    )
    assert response.status_code == 403
    assert client.get("/api/v1/release-readiness", **bearer(carla)).status_code == 403
    assert client.get("/api/v1/release-readiness", **bearer(bruno)).json() == []

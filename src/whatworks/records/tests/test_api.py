"""The API at /api/v1/: token auth, scoping identical to the web, and field-level validation."""

import datetime
import json

import pytest

from whatworks.accounts.services import api_token_create
from whatworks.records.models import Person


def bearer(user) -> dict:
    _, raw = api_token_create(actor=user, user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post_json(client, url, payload, headers):
    body = payload if isinstance(payload, str) else json.dumps(payload)
    return client.post(url, body, content_type="application/json", **headers)


def admit_payload(**overrides):
    payload = {
        "prison_number": "CL-0009999",
        "first_name": "Ana Lucía",
        "last_name": "Quispe Mamani",
        "date_of_birth": "1993-07-21",
        "sex": "female",
        "gender": "woman",
        "nationality": "PE",
        "languages": ["es", "qu"],
        "literacy": "limited",
        "admission": {
            "facility": "CL-B-01",
            "admission_date": "2025-02-03",
            "admission_type": "remand",
            "legal_status": "remand",
            "main_offence_category": "drug_trafficking",
        },
    }
    payload.update(overrides)
    return payload


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/persons", "/api/v1/facilities", "/api/v1/persons/1"])
def test_anonymous_requests_get_401(client, url):
    response = client.get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_unknown_and_revoked_tokens_get_401(client, alice):
    from whatworks.accounts.services import api_token_revoke

    assert client.get("/api/v1/persons", HTTP_AUTHORIZATION="Bearer ww_nope").status_code == 401
    token, raw = api_token_create(actor=alice, user=alice, name="t")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get("/api/v1/persons", **headers).status_code == 200
    api_token_revoke(actor=alice, token=token)
    assert client.get("/api/v1/persons", **headers).status_code == 401


def test_person_list_is_scoped_and_has_the_contract_fields(client, alice, person_in_a, person_in_b):
    response = client.get("/api/v1/persons", **bearer(alice))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item == {
        "id": person_in_a.pk,
        "prison_number": "CL-0000001",
        "first_name": "José Ignacio",
        "last_name": "Muñoz Rojas",
        "date_of_birth": "1990-04-12",
        "sex": "male",
        "facility": "CL-A-01",
    }


def test_person_filters_and_pagination(client, dora, person_in_a, person_in_b):
    headers = bearer(dora)
    assert client.get("/api/v1/persons?q=muñoz", **headers).json()["count"] == 1
    assert (
        client.get("/api/v1/persons?facility=CL-B-01", **headers).json()["items"][0][
            "prison_number"
        ]
        == "CL-0000002"
    )
    assert client.get("/api/v1/persons?in_custody=false", **headers).json()["count"] == 0
    page = client.get("/api/v1/persons?page=2", **headers)
    assert page.status_code == 200 and page.json()["items"] == []
    assert client.get("/api/v1/persons?page=0", **headers).status_code == 422


def test_detail_out_of_scope_is_404_like_missing(client, alice, person_in_b):
    headers = bearer(alice)
    forbidden = client.get(f"/api/v1/persons/{person_in_b.pk}", **headers)
    missing = client.get("/api/v1/persons/999999", **headers)
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.json() == missing.json()
    for suffix in ("custody-episodes", "outcome-events"):
        assert (
            client.get(f"/api/v1/persons/{person_in_b.pk}/{suffix}", **headers).status_code == 404
        )


def test_detail_carries_identity_and_research_id(client, alice, person_in_a):
    body = client.get(f"/api/v1/persons/{person_in_a.pk}", **bearer(alice)).json()
    assert body["research_id"] == person_in_a.research_id
    assert body["languages"] == ["es"] and body["facility"] == "CL-A-01"


def test_analyst_cannot_list_persons(client, carla, person_in_a):
    headers = bearer(carla)
    assert client.get("/api/v1/persons", **headers).status_code == 403
    assert client.get(f"/api/v1/persons/{person_in_a.pk}", **headers).status_code == 404
    assert len(client.get("/api/v1/facilities", **headers).json()) == 1


def test_programme_staff_do_not_get_outcome_events(client, pablo, person_in_a):
    response = client.get(f"/api/v1/persons/{person_in_a.pk}/outcome-events", **bearer(pablo))
    assert response.status_code == 403


def test_admit_creates_person_in_scope(client, bruno):
    response = post_json(client, "/api/v1/persons", admit_payload(), bearer(bruno))
    assert response.status_code == 201, response.content
    assert response.json()["facility"] == "CL-B-01"
    assert Person.objects.get(prison_number="CL-0009999").languages == ["es", "qu"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (admit_payload(date_of_birth="1993-02-30"), "date_of_birth"),
        (admit_payload(sex="unknown-value"), "sex"),
        (admit_payload(first_name=42), "first_name"),
        (
            admit_payload(admission={**admit_payload()["admission"], "facility": "XX-NOPE"}),
            "facility",
        ),
        (
            admit_payload(
                admission={**admit_payload()["admission"], "sentence_length_days": "ten"}
            ),
            "sentence_length_days",
        ),
    ],
)
def test_admit_rejects_bad_fields_with_their_names(client, bruno, payload, field):
    response = post_json(client, "/api/v1/persons", payload, bearer(bruno))
    assert response.status_code == 422, response.content
    locations = [detail["loc"] for detail in response.json()["detail"]]
    assert any(field in str(location) for location in locations), locations
    assert not Person.objects.filter(prison_number="CL-0009999").exists()


def test_admit_duplicate_prison_number_is_422(client, dora, person_in_a, facility_b):
    payload = admit_payload(prison_number=person_in_a.prison_number)
    response = post_json(client, "/api/v1/persons", payload, bearer(dora))
    assert response.status_code == 422
    assert ["body", "prison_number"] in [d["loc"] for d in response.json()["detail"]]


def test_admit_outside_scope_is_refused(client, alice):
    response = post_json(client, "/api/v1/persons", admit_payload(), bearer(alice))
    assert response.status_code == 422
    assert ["body", "admission.facility"] in [d["loc"] for d in response.json()["detail"]]


def test_malformed_json_is_a_client_error(client, bruno):
    response = post_json(client, "/api/v1/persons", "{not json", bearer(bruno))
    assert 400 <= response.status_code < 500


def test_release_before_admission_is_422_and_release_works(client, alice, person_in_a):
    headers = bearer(alice)
    episode = person_in_a.custody_episodes.get()
    url = f"/api/v1/persons/{person_in_a.pk}/custody-episodes/{episode.pk}/release"
    bad = post_json(client, url, {"release_date": "2020-01-01", "release_type": "parole"}, headers)
    assert bad.status_code == 422
    assert ["body", "release_date"] in [d["loc"] for d in bad.json()["detail"]]
    good = post_json(client, url, {"release_date": "2025-01-31", "release_type": "parole"}, headers)
    assert good.status_code == 200
    assert [m["kind"] for m in good.json()["movements"]] == ["admission", "release"]


def test_transfer_and_outcome_event_round_trip(client, dora, person_in_a, facility_b):
    headers = bearer(dora)
    episode = person_in_a.custody_episodes.get()
    base = f"/api/v1/persons/{person_in_a.pk}"
    moved = post_json(
        client,
        f"{base}/custody-episodes/{episode.pk}/transfers",
        {"to_facility": "CL-B-01", "movement_date": "2024-03-01", "reason": "progression"},
        headers,
    )
    assert moved.status_code == 201 and moved.json()["facility"] == "CL-B-01"
    post_json(
        client,
        f"{base}/custody-episodes/{episode.pk}/release",
        {"release_date": "2025-01-31", "release_type": "end_of_sentence"},
        headers,
    )
    event = post_json(
        client,
        f"{base}/outcome-events",
        {
            "event_type": "rearrest",
            "event_date": "2025-06-01",
            "offence_date": "2025-05-30",
            "source": "police",
            "reference": "PDI-2025-1",
        },
        headers,
    )
    assert event.status_code == 201
    listed = client.get(f"{base}/outcome-events", **headers).json()
    assert [e["reference"] for e in listed] == ["PDI-2025-1"]


def test_patch_person_validates(client, alice, person_in_a):
    headers = bearer(alice)
    url = f"/api/v1/persons/{person_in_a.pk}"
    bad = client.patch(
        url, json.dumps({"nationality": "C1"}), content_type="application/json", **headers
    )
    assert bad.status_code == 422
    ok = client.patch(
        url, json.dumps({"literacy": "limited"}), content_type="application/json", **headers
    )
    assert ok.status_code == 200 and ok.json()["literacy"] == "limited"


def test_openapi_schema_and_docs_are_served_to_staff_only(client, alice):
    # The schema holds no data, but it maps every operation: a closed service keeps it in.
    assert client.get("/api/v1/openapi.json").status_code == 401
    client.force_login(alice)
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    assert "/api/v1/persons" in schema.json()["paths"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    page = docs.content.decode()
    # Prison networks are often closed: the docs page must not reach for a CDN.
    assert "/static/ninja/swagger-ui-bundle.js" in page and "cdn." not in page
    assert "script-src 'self';" in docs["Content-Security-Policy"]


def test_session_login_also_works_for_reads(client, alice, person_in_a):
    client.force_login(alice)
    assert client.get("/api/v1/persons").json()["count"] == 1


def test_future_dates_are_refused(client, dora, person_in_a):
    future = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    payload = admit_payload(prison_number="CL-1", date_of_birth=future)
    response = post_json(client, "/api/v1/persons", payload, bearer(dora))
    assert response.status_code == 422

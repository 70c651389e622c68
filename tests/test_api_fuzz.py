"""Schemathesis fuzzes every operation of /api/v1/openapi.json: no input may cause a 500.

Issue 10: "A fuzz test runs Schemathesis against /api/v1/openapi.json in CI with a bounded
number of examples. There must be zero server errors on any operation."

The schema is loaded in-process from the WSGI application and every generated request goes
through the whole Django stack (middleware, token authentication, ninja validation, services)
inside pytest-django's test transaction, on SQLite or PostgreSQL (DATABASE_URL), as CI runs
it. A small world is seeded first (persons in two facilities, a programme with a group and a
session, an assessment, a plan, a referral); half the time a path id, a query parameter or a
body field that names an object (person_id, facility, programme_id, instrument, pathway ...)
is replaced by one that exists, so the fuzz reaches the handlers behind the 404s and the
"unknown value" 422s. Each operation is fuzzed with valid (positive) and invalid (negative)
data, as an administrator (who may write anywhere) and as a case manager (scoped to one
facility). Hypothesis is derandomized (fixed seed), keeps no example database and writes its
caches to a temporary folder, so a CI failure replays exactly on a laptop and the repository
stays clean.

Bounded: FUZZ_EXAMPLES examples per operation, mode and persona: 10 by default, 1,280 requests
over 32 operations, about 30 s on SQLite and 40 s on PostgreSQL on a 2-core machine.
WHATWORKS_FUZZ_EXAMPLES overrides it (e.g. 200 for a long local run); with -s the test prints
the status codes each operation answered.
"""

from __future__ import annotations

import datetime
import json
import os
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

pytestmark = pytest.mark.django_db

FUZZ_EXAMPLES = int(os.environ.get("WHATWORKS_FUZZ_EXAMPLES", "10"))
# WHATWORKS_FUZZ_CONFORMANCE=1 also checks every response body against its declared schema.
CHECKS = [not_a_server_error]
if os.environ.get("WHATWORKS_FUZZ_CONFORMANCE") == "1":
    CHECKS.append(response_schema_conformance)
DAY = datetime.date(2025, 3, 3)


@pytest.fixture
def world(dora, alice, bruno, person_in_a, person_in_b, facility_a, facility_b):
    """Objects that exist, for the fuzz to name: ``{parameter or field name: [values]}``."""
    from whatworks.assessments.models import InstrumentVersion
    from whatworks.records.choices import Pathway
    from whatworks.treatment import services as treatment_services
    from whatworks.treatment.tests.helpers import approved_plan, assess, make_programme

    programme = make_programme("CBT-1", facilities=[facility_a, facility_b])
    assessment = assess(alice, person_in_a, high=True)
    plan = approved_plan(alice, person_in_a)
    referral = treatment_services.referral_create(
        actor=alice, person=person_in_a, programme=programme, referral_date=DAY
    )
    group = treatment_services.group_create(
        actor=None, programme=programme, facility=facility_a, name="CBT group", start_date=DAY
    )
    session = treatment_services.session_create(
        actor=None,
        group=group,
        session_date=DAY,
        start_time=datetime.time(9),
        hours="2",
    )
    episodes = [person_in_a.custody_episodes.get().pk, person_in_b.custody_episodes.get().pk]
    return {
        # path parameters
        "person_id": [person_in_a.pk, person_in_b.pk],
        "episode_id": episodes,
        "assessment_id": [assessment.pk],
        "plan_id": [plan.pk],
        "referral_id": [referral.pk],
        "session_id": [session.pk],
        "pathway": list(Pathway.values),
        # fields of bodies and query strings that name other objects
        "programme_id": [programme.pk],
        "group_id": [group.pk],
        "facility_id": [facility_a.pk, facility_b.pk],
        "facility": [facility_a.code, facility_b.code],
        "to_facility": [facility_a.code, facility_b.code],
        "instrument": sorted(set(InstrumentVersion.objects.values_list("slug", flat=True))),
        "nationality": ["CL", "PE"],
        "lock_version": [0, 1, 2],
        # plausible values for fields that are rarely valid at random, so that some writes
        # get past validation into the services' deeper paths
        "languages": [[], ["es"]],
        "support_needs": [[]],
        "sex": ["male"],
        "date_of_birth": ["1990-04-12"],
        "admission_date": ["2024-06-01"],
        "sentence_date": ["2024-06-01", None],
        "sentence_length_days": [365],
        "expected_release_date": [None],
        "movement_date": ["2025-01-10"],
        "release_date": ["2025-01-10"],
        "event_date": ["2025-02-01"],
        "offence_date": [None],
        "referral_date": [DAY.isoformat()],
        "effective_date": [DAY.isoformat()],
        "applied_on": [None],
        "confirmed_on": [None],
        "provider_id": [None],
    }


@pytest.fixture
def in_test_transaction():
    """Keep the test's database connection across requests, as Django's test client does:
    the WSGI handler would otherwise close it when each request finishes (on PostgreSQL,
    taking the test transaction with it)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def hypothesis_home(tmp_path):
    """Hypothesis keeps no example database here (database=None) and its caches go to a
    temporary folder, so a run writes nothing into the repository."""
    from hypothesis import configuration

    configuration.set_hypothesis_home_dir(tmp_path / "hypothesis")
    yield
    configuration.set_hypothesis_home_dir(None)


def _bearer(user) -> dict:
    from whatworks.accounts.services import api_token_create

    _, raw = api_token_create(actor=user, user=user, name="fuzz")
    return {"Authorization": f"Bearer {raw}"}


def _load_schema(headers: dict):
    from whatworks.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, headers=headers)


def _fuzz(operation, mode, headers: dict, world: dict, counts: dict) -> None:
    label = f"{operation.method.upper()} {operation.path}"

    @settings(
        max_examples=FUZZ_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def fuzz(case, data):
        # A third of the cases as generated; a third with each parameter or field that the
        # world knows replaced at a coin's toss; a third with all of them replaced.
        replace = data.draw(st.sampled_from(["none", "some", "all"]))
        containers = [case.path_parameters, case.query]
        if isinstance(case.body, dict):
            containers += [case.body, *(v for v in case.body.values() if isinstance(v, dict))]
        for container in containers if replace != "none" else []:
            for name in list(container or {}):
                if world.get(name) and (replace == "all" or data.draw(st.booleans())):
                    container[name] = data.draw(st.sampled_from(world[name]))
        response = case.call(headers=headers)
        statuses = counts.setdefault(label, {})
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        case.validate_response(response, checks=CHECKS)

    fuzz()


def test_no_operation_answers_with_a_server_error(
    hypothesis_home, in_test_transaction, world, dora, alice
):
    personas = {"dora": _bearer(dora), "alice": _bearer(alice)}
    schema = _load_schema(personas["dora"])
    failures: list[str] = []
    counts: dict[str, int] = {}
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 10

    for operation in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            for persona, headers in personas.items():
                try:
                    _fuzz(operation, mode, headers, world, counts)
                except (Exception, BaseExceptionGroup) as error:  # every failure, at once
                    label = f"{operation.method.upper()} {operation.path}"
                    failures.append(f"{label} [{mode.value}, {persona}]: {error}")

    elapsed = time.monotonic() - started
    total = sum(sum(statuses.values()) for statuses in counts.values())
    print(f"fuzzed {len(operations)} operations with {total} requests in {elapsed:.1f} s")
    for label, statuses in counts.items():
        print(f"  {label}: {dict(sorted(statuses.items()))}")
    assert not failures, "\n\n".join(failures)


# --- the generic guard in whatworks.api, case by case -------------------------------------
# PostgreSQL refuses NUL characters in text and JSON; SQLite overflows on integers beyond 64
# bits, and both on an OFFSET beyond them. Each was a 500 (or would be on one of the two
# databases); each must be a 422 that names the field.


def _locations(response) -> list[list]:
    return [detail["loc"] for detail in response.json()["detail"]]


def _admission_payload(**overrides) -> dict:
    payload = {
        "prison_number": "CL-0000099",
        "first_name": "Ana",
        "last_name": "Soto",
        "date_of_birth": "1990-01-01",
        "sex": "female",
        "nationality": "CL",
        "admission": {
            "facility": "CL-A-01",
            "admission_date": "2024-01-15",
            "admission_type": "sentenced",
            "legal_status": "sentenced",
            "main_offence_category": "robbery",
        },
    }
    payload.update(overrides)
    return payload


def _post(client, url, payload, user):
    headers = {f"HTTP_{name.upper()}": value for name, value in _bearer(user).items()}
    return client.post(url, data=json.dumps(payload), content_type="application/json", **headers)


def _get(client, url, user):
    headers = {f"HTTP_{name.upper()}": value for name, value in _bearer(user).items()}
    return client.get(url, **headers)


def test_nul_character_in_a_body_field_is_a_422_on_that_field(client, dora, facility_a):
    from whatworks.records.models import Person

    response = _post(client, "/api/v1/persons", _admission_payload(first_name="An\x00a"), dora)
    assert response.status_code == 422, response.content
    assert _locations(response) == [["body", "first_name"]]
    assert not Person.objects.exists()


def test_nul_character_in_a_json_key_or_nested_value_is_refused(client, dora, facility_a):
    payload = _admission_payload(languages=["es", "x\x00"])
    payload["admission"]["k\x00"] = 1
    response = _post(client, "/api/v1/persons", payload, dora)
    assert response.status_code == 422, response.content
    assert sorted(_locations(response)) == [
        ["body", "admission", "k\x00"],
        ["body", "languages", 1],
    ]


def test_nul_character_in_the_query_is_a_422_on_that_parameter(client, dora):
    response = _get(client, "/api/v1/persons?q=a%00b", dora)
    assert response.status_code == 422, response.content
    assert _locations(response) == [["query", "q"]]


def test_integers_beyond_64_bits_are_refused_in_path_and_body(client, dora, facility_a):
    response = _get(client, f"/api/v1/persons/{2**64}", dora)
    assert response.status_code == 422, response.content
    assert _locations(response) == [["path", "person_id"]]

    for odd in ("--5", "%C2%B2", "-"):  # not integers: the schema's own 422, never a crash
        response = _get(client, f"/api/v1/persons/{odd}", dora)
        assert response.status_code == 422, (odd, response.content)

    payload = _admission_payload()
    payload["admission"]["sentence_length_days"] = 2**64
    response = _post(client, "/api/v1/persons", payload, dora)
    assert response.status_code == 422, response.content
    assert ["body", "admission", "sentence_length_days"] in _locations(response)


def test_a_page_beyond_any_offset_is_a_422_and_a_large_valid_page_is_empty(client, dora):
    response = _get(client, "/api/v1/persons?page=5352870726116871168&page_size=13580", dora)
    assert response.status_code == 422, response.content
    assert _locations(response) == [["query", "page"]]

    response = _get(client, "/api/v1/persons?page=1000000", dora)
    assert response.status_code == 200, response.content
    assert response.json()["items"] == []


def test_a_value_the_database_refuses_is_a_422_not_a_500(rf, dora):
    from django.db import DataError

    from whatworks.api import api

    request = rf.post("/api/v1/persons")
    response = api.on_exception(request, DataError("integer out of range"))
    assert response.status_code == 422
    assert json.loads(response.content)["detail"][0]["msg"]


def test_a_date_before_1900_is_a_422_on_that_field(client, dora, person_in_a, facility_a):
    headers = {f"HTTP_{name.upper()}": value for name, value in _bearer(dora).items()}
    response = client.patch(
        f"/api/v1/persons/{person_in_a.pk}",
        data=json.dumps({"date_of_birth": "0001-01-01"}),
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 422, response.content
    assert _locations(response) == [["body", "date_of_birth"]]

    payload = _admission_payload()
    payload["admission"]["admission_date"] = "1800-01-01"
    response = _post(client, "/api/v1/persons", payload, dora)
    assert response.status_code == 422, response.content
    assert ["body", "admission.admission_date"] in _locations(response)


def _schema_classes(base) -> list[type]:
    classes = []
    for subclass in base.__subclasses__():
        classes.append(subclass)
        classes.extend(_schema_classes(subclass))
    return classes


def test_every_api_schema_has_its_own_name_in_openapi():
    """ninja files components under the class name: two schemas of one name publish one of
    them for both, and clients are told the wrong shape."""
    from ninja import Schema

    from whatworks.api import api  # noqa: F401 - registers every router's schemas

    by_name: dict[str, set[str]] = {}
    for schema in _schema_classes(Schema):
        if schema.__module__.startswith("whatworks."):
            by_name.setdefault(schema.__name__, set()).add(schema.__module__)
    shared = {name: sorted(modules) for name, modules in by_name.items() if len(modules) > 1}
    assert not shared, shared

"""The person list and detail API cost a fixed number of queries, and the list reads its page
off an index (benchmarks/load, docs/load.md): with 100,000 persons an N+1 or a sort over
every person in scope is what made these endpoints slow."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import admission_data, person_data
from whatworks.accounts.services import api_token_create
from whatworks.records import selectors
from whatworks.records.services import person_admit


def bearer(user) -> dict:
    _, raw = api_token_create(actor=user, user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def admit(facility, number: int, last_names: str):
    return person_admit(
        actor=None,
        person_data=person_data(prison_number=f"CL-Q{number:06d}", last_names=last_names),
        facility=facility,
        admission_data=admission_data(),
    ).person


def queries_for(client, url, headers) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200, response.content
    return len(captured), response


@pytest.mark.parametrize("persona", ["dora", "alice"])
def test_person_list_queries_do_not_grow_with_the_page(request, client, facility_a, persona):
    user = request.getfixturevalue(persona)
    headers = bearer(user)
    admit(facility_a, 1, "Araya")
    client.get("/api/v1/persons", **headers)  # the token's first use records last_used_at
    few, _ = queries_for(client, "/api/v1/persons", headers)
    for number in range(2, 9):
        admit(facility_a, number, f"Surname{number}")
    many, response = queries_for(client, "/api/v1/persons", headers)
    assert response.json()["count"] == 8
    assert many == few
    # token, (facility ids for facility-bound staff), count, page with its facilities joined
    assert many == (3 if persona == "dora" else 4)


@pytest.mark.parametrize("persona", ["dora", "alice"])
def test_person_detail_costs_a_fixed_number_of_queries(request, client, person_in_a, persona):
    user = request.getfixturevalue(persona)
    headers = bearer(user)
    url = f"/api/v1/persons/{person_in_a.pk}"
    client.get(url, **headers)
    count, response = queries_for(client, url, headers)
    assert response.json()["facility"] == "CL-A-01"
    assert count == (2 if persona == "dora" else 3)


def test_person_list_pages_follow_the_name_order_within_the_scope(
    client, alice, facility_a, facility_b
):
    for number, surname in enumerate(["Zúñiga", "Araya", "Muñoz", "Bravo"], start=1):
        admit(facility_a, number, surname)
    admit(facility_b, 9, "Aaron")  # another facility: never on alice's pages
    headers = bearer(alice)
    first = client.get("/api/v1/persons?page=1&page_size=2", **headers).json()
    second = client.get("/api/v1/persons?page=2&page_size=2", **headers).json()
    names = [item["last_name"] for item in first["items"] + second["items"]]
    assert names == ["Araya", "Bravo", "Muñoz", "Zúñiga"]
    assert first["count"] == second["count"] == 4


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans only")
@pytest.mark.parametrize("persona", ["dora", "alice"])
def test_person_list_page_is_read_off_an_index_not_sorted(request, facility_a, persona):
    """With sorting discouraged, the plan still has a Sort node unless an index gives the
    list's order: this fails when the ordering and the indexes drift apart."""
    user = request.getfixturevalue(persona)
    page = selectors.person_list(viewer=user)[100:150]
    sql, params = page.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Sort" not in plan, plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans only")
@pytest.mark.parametrize("term", ["LT00012345", "Rojas"])
def test_person_search_uses_indexes_not_a_scan_of_every_person(dora, term):
    """Every arm of the search (names and prison number contain the word, national ID is it)
    has an index (migration 0005): one arm without would make PostgreSQL read all persons."""
    persons = selectors.person_list(viewer=dora, query=term).order_by().values("id")
    sql, params = persons.query.sql_with_params()
    with connection.cursor() as cursor:
        # Left only bitmap scans, which need an index matching each arm, or a (penalised) scan
        # of the whole table: the planner's choice on an empty test table is then the indexes.
        for scan in ("seqscan", "indexscan", "indexonlyscan"):
            cursor.execute(f"SET LOCAL enable_{scan} = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan on records_person" not in plan, plan
    assert "person_search_trgm" in plan and "person_national_id_upper" in plan, plan

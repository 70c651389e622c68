"""Release preparation in a real browser: a case manager starts the preparation, works a
pathway, records settled accommodation, and the readiness list and the summary follow."""

from __future__ import annotations

import datetime
import re

import pytest

from conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_case_manager_prepares_a_release(live_server, page, alice, person_in_a):
    episode = person_in_a.custody_episodes.get()
    # Release in five weeks: inside the preparation window, whatever today is.
    episode.expected_release_date = datetime.date.today() + datetime.timedelta(weeks=5)
    episode.save(update_fields=["expected_release_date"])
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _log_in(page, live_server, "alice")

    page.get_by_role("link", name="Releases").click()
    row = page.get_by_role("row", name=re.compile("José Ignacio"))
    assert row.get_by_text("Preparation not started").is_visible()

    page.goto(f"{live_server.url}/persons/{person_in_a.pk}/")
    page.get_by_role("link", name="Release preparation and handover").click()
    page.get_by_role("button", name="Start release preparation").click()
    page.get_by_role("row", name=re.compile("^Accommodation")).get_by_role(
        "link", name="Update"
    ).click()
    page.get_by_label("Status").select_option("support_required")
    page.get_by_label("No address to go to").check()
    page.get_by_role("button", name="Save").click()
    assert page.get_by_text("The pathway is saved.").is_visible()

    page.get_by_role("link", name="Accommodation", exact=True).click()
    page.get_by_label("Type").select_option("family")
    page.get_by_label("Status").select_option("confirmed")
    page.get_by_label("Provider or organisation").fill("Sister in Maipú")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_text("The arrangement is recorded.").is_visible()
    unresolved = page.locator("section", has=page.get_by_role("heading", name="Still unresolved"))
    assert unresolved.get_by_text("No settled accommodation").count() == 0
    assert unresolved.get_by_text("No identity document").is_visible()

    page.get_by_role("link", name="Summary for the person").click()
    # José speaks Spanish: his copy is in Spanish whatever the staff member's language.
    assert page.get_by_role("heading", name="Resumen de egreso").is_visible()
    assert page.get_by_text("Sister in Maipú").first.is_visible()
    assert errors == []

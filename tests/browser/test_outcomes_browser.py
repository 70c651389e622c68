"""Outcome imports in a real browser: an imported police record the linkage is unsure of
waits in the review queue; the case manager compares it with the person side by side,
accepts it, and the event is on the person's record."""

from __future__ import annotations

import datetime
import re

import pytest

from conftest import PASSWORD
from whatworks.outcomes.models import LinkReview
from whatworks.outcomes.tests.helpers import released_person, review_row, run_import, write_csv
from whatworks.records.models import OutcomeEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_case_manager_accepts_a_queued_link(live_server, page, tmp_path, alice, facility_a):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    jose = released_person(
        facility_a,
        number="CL-0000101",
        national_id="11111111-1",
        first="José Ignacio",
        last="Muñoz Rojas",
        birth=datetime.date(1990, 4, 12),
    )
    output = run_import(write_csv(tmp_path / "pdi.csv", [review_row()]))
    assert [link["status"] for link in output["links"]] == ["review"]
    review = LinkReview.objects.get()

    _log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/outcomes/review/")
    page.get_by_role("link", name="Pedro Soto Vera").click()
    page.wait_for_url(re.compile(rf".*/outcomes/review/{review.pk}/$"))

    comparison = page.locator("table.compare")
    national_id = comparison.get_by_role("row").filter(has_text="National ID")
    assert national_id.locator("td.compare--agree").count() == 2
    first_names = comparison.get_by_role("row").filter(has_text="First names")
    assert first_names.locator("td.compare--disagree").count() == 2
    assert first_names.get_by_text("José Ignacio").is_visible()
    # The stylesheet is loaded (strict CSP: no inline styles), so the marks are coloured.
    colour = national_id.locator("td.compare--agree").first.evaluate(
        "cell => getComputedStyle(cell).backgroundColor"
    )
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent")

    page.get_by_role("button", name="Accept the link").click()
    page.wait_for_url(re.compile(rf".*/persons/{jose.pk}/$"))
    outcomes = page.locator("section[aria-labelledby=outcomes]")
    assert outcomes.get_by_text(review.source_reference).is_visible()
    assert OutcomeEvent.objects.get().person == jose

    page.goto(f"{live_server.url}/outcomes/review/")
    assert page.get_by_text("No record links are waiting for review.").is_visible()
    assert errors == []

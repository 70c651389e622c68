"""Drug testing in a real browser: health staff record a positive test, and the case
manager sees the prompt to refer the person to a substance-use programme."""

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


def test_positive_test_prompts_a_treatment_referral(
    live_server, browser, page, alice, helena, person_in_a
):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _log_in(page, live_server, "helena")
    page.goto(f"{live_server.url}/persons/{person_in_a.pk}/drug-tests/new/")
    page.locator("input[name=test_date]").fill(datetime.date.today().isoformat())
    page.locator("select[name=reason]").select_option("random")
    page.locator("select[name=sample]").select_option("urine")
    page.locator("input[name=seal_number]").fill("SEAL-0001")
    page.locator("select[name=result_cocaine]").select_option("positive")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(rf".*/persons/{person_in_a.pk}/drug-tests/$"))
    assert page.get_by_text(
        re.compile(r"consider a referral to a substance-use programme")
    ).is_visible()

    manager = browser.new_context(locale="en-GB").new_page()
    manager.on("pageerror", lambda error: errors.append(str(error)))
    _log_in(manager, live_server, "alice")
    manager.goto(f"{live_server.url}/persons/{person_in_a.pk}/treatment/")
    prompt = manager.get_by_text(re.compile(r"Positive test on .*: consider a referral"))
    assert prompt.is_visible()
    assert manager.get_by_role("link", name="Refer to a programme").first.is_visible()
    assert errors == []

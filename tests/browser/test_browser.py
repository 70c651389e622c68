"""The main path in a real browser: log in, find a person, open their record.

Console errors fail the test: a content security policy violation (an inline script or
style slipping into a template) only shows up there.
"""

from __future__ import annotations

import re

import pytest

from conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def console_errors(page):
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_case_manager_finds_a_person_by_name(live_server, page, console_errors, alice, person_in_a):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("heading", name="Dashboard", level=1).is_visible()

    page.get_by_role("link", name="Persons").click()
    page.wait_for_url(re.compile(r".*/persons/$"))
    search = page.get_by_label("Name or prison number")
    search.click()
    search.press_sequentially("Muñoz", delay=30)
    # htmx swaps the results in after its debounce, and pushes the search into the address.
    page.wait_for_url(re.compile(r".*q=Mu"))
    page.get_by_role("link", name="Muñoz Rojas, José Ignacio").click()

    page.wait_for_url(re.compile(rf".*/persons/{person_in_a.pk}/$"))
    assert page.get_by_text(person_in_a.prison_number).first.is_visible()
    assert console_errors == []


def test_pages_work_at_phone_width_without_errors(
    live_server, page, console_errors, dora, person_in_a
):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("dora")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
    for path in ["/", "/persons/", "/persons/new/", f"/persons/{person_in_a.pk}/", "/profile/"]:
        page.goto(f"{live_server.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360 + 1, f"{path} scrolls sideways ({width}px)"
    assert console_errors == []


def test_language_chooser_switches_the_interface_to_spanish(
    live_server, page, console_errors, alice, person_in_a
):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Change language").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Panel", level=1).is_visible()
    assert page.locator("html").get_attribute("lang") == "es"
    page.get_by_role("link", name="Personas").click()
    page.wait_for_url(re.compile(r".*/persons/$"))
    assert page.get_by_text("Muñoz Rojas").first.is_visible()
    assert console_errors == []


def test_case_manager_completes_a_k6_and_sees_the_band(
    live_server, page, console_errors, alice, person_in_a
):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/persons/{person_in_a.pk}/")
    page.get_by_role("link", name="Assessments and new assessment").click()
    page.wait_for_url(re.compile(rf".*/persons/{person_in_a.pk}/assessments/$"))
    page.get_by_label(re.compile(r"Kessler Psychological Distress Scale")).check()
    page.get_by_role("button", name="Start").click()
    page.wait_for_url(re.compile(r".*/assessments/\d+/edit/$"))

    # Five answers of "Some of the time" (2) and one of "Most of the time" (3): total 13.
    questions = page.get_by_role("group", name=re.compile(r"During the past 30 days"))
    assert questions.count() == 6
    for index in range(6):
        answer = "Most of the time" if index == 5 else "Some of the time"
        questions.nth(index).get_by_label(answer, exact=True).check()
    page.get_by_role("button", name="Complete").click()

    page.wait_for_url(re.compile(r".*/assessments/\d+/$"))
    assert page.get_by_text("Serious psychological distress", exact=True).is_visible()
    assert page.locator(".assessment-total").inner_text() == "13"
    assert console_errors == []

"""Treatment in a real browser: from an assessment to a delivered, attended programme.

A case manager proposes a plan, approves it and refers; programme staff move the referral
to a group and record the register; the case manager sees the hours against the target.
"""

from __future__ import annotations

import datetime
import re

import pytest

from conftest import PASSWORD
from whatworks.treatment import services
from whatworks.treatment.tests.helpers import assess, make_programme, running_group

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def console_errors(page):
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_plan_refer_allocate_attend_and_see_the_hours(
    live_server, browser, page, console_errors, alice, pablo, person_in_a, facility_a
):
    assess(alice, person_in_a, high=True)
    programme = make_programme(
        "CBT-B", name="Razonamiento y Rehabilitación", facilities=[facility_a]
    )
    today = datetime.date.today()
    group = running_group(programme, facility_a, start=today - datetime.timedelta(days=3))
    session = services.session_create(
        actor=pablo, group=group, session_date=today, start_time=datetime.time(0, 0), hours="2"
    )

    # The case manager: propose, read why, approve, refer.
    _log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/persons/{person_in_a.pk}/treatment/")
    page.get_by_role("button", name="Propose a plan").click()
    page.wait_for_url(re.compile(r".*/plans/\d+/$"))
    assert page.get_by_text(re.compile(r"Targets Antisocial attitudes")).first.is_visible()
    page.get_by_label("Agreed").check()
    page.get_by_role("button", name="Approve").click()
    page.goto(f"{live_server.url}/persons/{person_in_a.pk}/treatment/")
    page.get_by_role("link", name="Refer to a programme").click()
    page.locator("select[name=programme]").select_option(label="Razonamiento y Rehabilitación")
    page.get_by_role("button", name="Refer").click()
    page.wait_for_url(re.compile(r".*/referrals/\d+/$"))
    referral_url = page.url

    # Programme staff: suitability, waitlist, allocation, register.
    staff = browser.new_context(locale="en-GB").new_page()
    staff.on("pageerror", lambda error: console_errors.append(str(error)))
    _log_in(staff, live_server, "pablo")
    for status in ("Assessed suitable", "Waitlisted", "Allocated"):
        staff.goto(referral_url)
        staff.get_by_label(status, exact=True).check()
        if status == "Allocated":
            staff.locator("select[name=group]").select_option(index=1)
        staff.get_by_role("button", name="Change the status").click()
        staff.wait_for_url(referral_url)
        assert staff.locator(".treatment-total").first.inner_text().startswith(status)
    staff.goto(f"{live_server.url}/sessions/{session.pk}/register/")
    staff.get_by_label("Attended", exact=True).check()
    staff.get_by_role("button", name="Save the register").click()
    staff.wait_for_load_state()
    assert staff.get_by_role("link", name="Correct").is_visible()

    # The case manager sees the hours delivered against the plan's target.
    page.goto(f"{live_server.url}/persons/{person_in_a.pk}/treatment/")
    assert page.get_by_text("Delivered 2 of 300 target hours").is_visible()
    assert console_errors == []

"""Two-factor sign-in in a real browser: a health worker signs in, is sent to enrolment, sees
the QR code (a data: image the content security policy must allow), confirms with a code, and
reaches the page she asked for. Console errors (CSP violations) fail the test."""

from __future__ import annotations

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD
from whatworks.accounts.tests.test_two_factor import code_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_health_worker_enrols_and_reaches_the_page_she_asked_for(
    live_server,
    page,
    helena,
    settings,
):
    settings.TWO_FACTOR_REQUIRED_ROLES = ["health_staff"]
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{live_server.url}/persons/")
    page.get_by_label("Username").fill("helena")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/account/two-factor/\?next=%2Fpersons%2F$"))

    page.get_by_role("button", name="Set up two-factor sign-in").click()
    qr = page.get_by_alt_text("QR code for your authenticator app")
    qr.wait_for()
    assert page.evaluate("document.getElementById('two-factor-qr').naturalWidth") > 0
    device = TOTPDevice.objects.get(user=helena, confirmed=False)

    page.get_by_label("Code from your authenticator app").fill(code_for(device))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(f"{live_server.url}/persons/")
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert errors == []

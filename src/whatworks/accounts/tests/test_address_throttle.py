"""Per-address throttling of failed sign-ins: password spraying across many usernames from one
address is refused for a while, without telling which usernames exist."""

from __future__ import annotations

import datetime

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD
from whatworks.accounts.models import LoginFailure
from whatworks.accounts.services import (
    client_address,
    login_address_failed,
    login_address_wait,
)
from whatworks.accounts.tests.test_two_factor import code_for, wrong_code
from whatworks.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.7"
COLLEAGUE = "198.51.100.20"
MESSAGE = "Too many failed sign-ins from this network address. Try again in"


@pytest.fixture
def limit(settings):
    settings.LOGIN_ADDRESS_MAX_FAILURES = 3
    settings.LOGIN_ADDRESS_WINDOW_MINUTES = 15
    settings.LOGIN_MAX_FAILURES = 50  # keep the per-account lockout out of the way
    return 3


def attempt(client, username, password, address=ATTACKER):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_failures_across_usernames_block_the_address_but_not_others(client, alice, bruno, limit):
    for username in ("alice", "bruno", "nobody-by-that-name"):
        response = attempt(client, username, "wrong password")
        assert response.status_code == 200
        assert MESSAGE not in response.content.decode()
    # Now even the right password is refused from that address, with the same message for
    # a real and an unknown username.
    for username, password in (("alice", PASSWORD), ("nobody-by-that-name", "x")):
        refused = attempt(client, username, password)
        assert refused.status_code == 200
        assert f"{MESSAGE} 15 minutes." in refused.content.decode()
        assert "_auth_user_id" not in client.session
    events = AuditEvent.objects.filter(action="login.address_throttled")
    assert events.count() == 1  # audited once, when the limit was reached
    assert events.get().object_id == ATTACKER
    # Refused attempts are not counted, so the wait does not grow while blocked.
    assert LoginFailure.objects.filter(address=ATTACKER).count() == limit
    # A colleague elsewhere is not affected.
    assert attempt(client, "alice", PASSWORD, address=COLLEAGUE).status_code == 302


def test_the_block_ends_when_the_window_passes(client, alice, limit):
    for _ in range(limit):
        attempt(client, "nobody", "wrong")
    assert MESSAGE in attempt(client, "alice", PASSWORD).content.decode()
    # Move the failures back in time rather than sleeping: 14 minutes still blocks...
    LoginFailure.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=14))
    assert f"{MESSAGE} 1 minute." in attempt(client, "alice", PASSWORD).content.decode()
    # ...16 minutes no longer does.
    LoginFailure.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=16))
    assert attempt(client, "alice", PASSWORD).status_code == 302


def test_the_window_slides_and_old_rows_are_pruned(limit):
    start = timezone.now()
    for minute in (0, 5, 10):
        login_address_failed(
            address=ATTACKER, kind="password", now=start + datetime.timedelta(minutes=minute)
        )
    at = start + datetime.timedelta(minutes=11)
    assert login_address_wait(address=ATTACKER, kind="password", now=at) == datetime.timedelta(
        minutes=4
    )
    # After the first failure ages out, only two remain in the window: allowed again.
    later = start + datetime.timedelta(minutes=15, seconds=1)
    assert login_address_wait(address=ATTACKER, kind="password", now=later) is None
    # A later failure prunes every row older than the window, whatever its address.
    login_address_failed(address=COLLEAGUE, kind="password", now=later)
    remaining = sorted(LoginFailure.objects.values_list("address", flat=True))
    assert remaining == [COLLEAGUE, ATTACKER, ATTACKER]


def test_wrong_totp_codes_are_counted_per_address_too(client, alice, settings, limit):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # only the address count, not the device back-off
    settings.TWO_FACTOR_REQUIRED_ROLES = []
    device = TOTPDevice.objects.create(user=alice, name="authenticator", confirmed=True)
    client.post(reverse("login"), {"username": "alice", "password": PASSWORD}, REMOTE_ADDR=ATTACKER)
    url = reverse("two-factor-verify")
    for _ in range(limit):
        refused = client.post(url, {"token": wrong_code(device)}, REMOTE_ADDR=ATTACKER)
        assert "That code is not right" in refused.content.decode()
    blocked = client.post(url, {"token": code_for(device)}, REMOTE_ADDR=ATTACKER)
    assert blocked.status_code == 400
    assert MESSAGE in blocked.content.decode()
    assert AuditEvent.objects.filter(action="login.address_throttled").count() == 1
    assert AuditEvent.objects.filter(action="two_factor.verify_failed").count() == limit
    # Password sign-ins from the address are a separate count and still allowed.
    assert LoginFailure.objects.filter(kind="password").count() == 0


def test_the_client_address_trusts_forwarded_for_only_behind_the_configured_proxy(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9"
    )
    if hasattr(settings, "SECURE_PROXY_SSL_HEADER"):
        del settings.SECURE_PROXY_SSL_HEADER
    assert client_address(request) == "10.0.0.2"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert client_address(request) == "203.0.113.9"  # the hop our proxy appended
    spoofed = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="junk")
    assert client_address(spoofed) == "10.0.0.2"
    assert client_address(RequestFactory().get("/", REMOTE_ADDR="")) == "unknown"

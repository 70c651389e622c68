"""Two-factor sign-in (TOTP): enrolment, the code step after the password, the middleware that
holds required roles back until they are verified, and the administrator's reset."""

from __future__ import annotations

import time

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD
from whatworks.accounts.services import (
    api_token_create,
    two_factor_enrol,
    two_factor_reset,
)
from whatworks.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def required(settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = ["administrator", "health_staff"]
    return settings


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code an authenticator app would show, computed from the device's key."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    valid = {code_for(device, step) for step in (-1, 0, 1)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in valid)


def password_login(client, username, **extra):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD}, **extra)


def confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def test_enrolment_shows_a_qr_code_and_the_key_and_is_confirmed_with_a_code(
    client, helena, required
):
    assert password_login(client, "helena").status_code == 302
    response = client.get(reverse("person-list"))
    assert response.status_code == 302
    assert response.url == reverse("two-factor") + "?next=%2Fpersons%2F"
    next_url = response.url

    page = client.get(next_url)
    assert page.status_code == 200
    assert "Set up two-factor sign-in" in page.content.decode()
    started = client.post(reverse("two-factor"), {"action": "start", "next": "/persons/"})
    assert started.status_code == 302
    device = TOTPDevice.objects.get(user=helena)
    assert device.confirmed is False
    assert AuditEvent.objects.filter(action="two_factor.enrol", actor=helena).count() == 1

    page = client.get(started.url).content.decode()
    assert 'src="data:image/svg+xml;base64,' in page
    assert 'style="' not in page and "<script>" not in page
    secret = page.split('id="two-factor-secret">')[1].split("<")[0].replace(" ", "")
    from base64 import b32decode

    padded = secret + "=" * (-len(secret) % 8)
    assert b32decode(padded) == device.bin_key  # the key typed by hand is the device's key

    refused = client.post(reverse("two-factor"), {"token": wrong_code(device)})
    assert refused.status_code == 400
    assert "That code is not right" in refused.content.decode()
    device.refresh_from_db()
    assert device.confirmed is False
    assert AuditEvent.objects.filter(action="two_factor.verify_failed").count() == 1

    device.throttling_failure_count = 0  # past django-otp's back-off, as after a second
    device.throttling_failure_timestamp = None
    device.save()
    confirmed = client.post(reverse("two-factor"), {"token": code_for(device), "next": "/persons/"})
    assert confirmed.status_code == 302 and confirmed.url == "/persons/"
    device.refresh_from_db()
    assert device.confirmed is True
    assert AuditEvent.objects.filter(action="two_factor.confirm", actor=helena).count() == 1
    assert client.get(reverse("person-list")).status_code == 200
    assert client.get(reverse("dashboard")).status_code == 200


def test_a_required_role_reaches_nothing_but_enrolment_logout_and_housekeeping(
    client, helena, person_in_a, required
):
    password_login(client, "helena")
    for url in (
        reverse("dashboard"),
        reverse("profile"),
        reverse("person-list"),
        reverse("person-detail", args=[person_in_a.pk]),
        reverse("two-factor-verify"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("two-factor") + "?next="), url
    # A POST elsewhere is not carried out either.
    response = client.post(reverse("profile"), {"name": "sneaky"})
    assert response.status_code == 302 and response.url == reverse("two-factor")
    assert not helena.api_tokens.exists()
    assert client.get(reverse("healthz")).status_code == 200
    enrolment = client.get(reverse("two-factor")).content.decode()
    # The page offers no navigation that would only lead back here, but still a way out.
    assert f'href="{reverse("person-list")}"' not in enrolment
    assert f'href="{reverse("profile")}"' not in enrolment
    assert f'action="{reverse("logout")}"' in enrolment
    assert client.post(reverse("set_language"), {"language": "es"}).status_code == 302
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_user_with_a_device_enters_a_code_after_the_password(client, alice, required):
    device = confirmed_device(alice)  # alice's role does not require it; she chose it
    password_login(client, "alice")
    response = client.get(reverse("person-list"))
    assert response.status_code == 302
    assert response.url == reverse("two-factor-verify") + "?next=%2Fpersons%2F"
    # Enrolment is closed to her until she is verified: no second authenticator on a password.
    assert client.get(reverse("two-factor")).url.startswith(reverse("two-factor-verify"))

    refused = client.post(reverse("two-factor-verify"), {"token": "12345x", "next": "/persons/"})
    assert refused.status_code == 400
    assert "That code is not right" in refused.content.decode()
    assert AuditEvent.objects.filter(action="two_factor.verify_failed", actor=alice).exists()
    throttled = client.post(reverse("two-factor-verify"), {"token": code_for(device)})
    assert throttled.status_code == 400
    assert "Too many wrong codes in a row. Wait" in throttled.content.decode()

    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )
    accepted = client.post(
        reverse("two-factor-verify"), {"token": code_for(device), "next": "/persons/"}
    )
    assert accepted.status_code == 302 and accepted.url == "/persons/"
    persons = client.get(reverse("person-list"))
    assert persons.status_code == 200
    assert f'href="{reverse("profile")}"' in persons.content.decode()  # full navigation
    # The same code cannot be replayed for another session.
    other = client.__class__()
    password_login(other, "alice")
    replay = other.post(reverse("two-factor-verify"), {"token": code_for(device)})
    assert replay.status_code == 400


def test_an_offsite_next_is_ignored(client, alice, required):
    device = confirmed_device(alice)
    password_login(client, "alice")
    response = client.post(
        reverse("two-factor-verify"),
        {"token": code_for(device), "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and response.url == reverse("dashboard")


def test_a_user_without_device_whose_role_is_not_required_is_not_bothered(client, alice, required):
    response = password_login(client, "alice", follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert response.status_code == 200
    assert client.get(reverse("profile")).status_code == 200
    assert (
        "Off: you sign in with your password alone."
        in client.get(reverse("profile")).content.decode()
    )


def test_nothing_is_required_when_no_role_is_listed(client, helena, settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = []
    password_login(client, "helena")
    assert client.get(reverse("dashboard")).status_code == 200


def test_a_confirmed_user_cannot_enrol_again_without_a_reset(helena):
    confirmed_device(helena)
    with pytest.raises(Exception, match="already set up"):
        two_factor_enrol(actor=helena)


def test_administrators_reset_a_lost_authenticator(client, helena, dora, bruno, required, capsys):
    device = confirmed_device(helena)
    password_login(client, "helena")
    client.post(reverse("two-factor-verify"), {"token": code_for(device)})
    assert client.get(reverse("dashboard")).status_code == 200

    with pytest.raises(PermissionError):
        two_factor_reset(actor=bruno, user=helena)
    assert TOTPDevice.objects.filter(user=helena).exists()
    assert two_factor_reset(actor=dora, user=helena) == 1
    assert not TOTPDevice.objects.filter(user=helena).exists()
    event = AuditEvent.objects.get(action="two_factor.reset")
    assert event.actor == dora and event.object_id == str(helena.pk)
    # Her verified session lost its device: she must enrol again before anything else.
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and response.url.startswith(reverse("two-factor"))

    confirmed_device(helena)
    call_command("staff", "list")
    listing = capsys.readouterr().out
    assert "helena  health_staff  CL-A-01  (2fa)" in listing and "dora  administrator" in listing
    assert "dora  administrator  all facilities  (2fa)" not in listing
    call_command("staff", "reset-2fa", "helena")
    assert "Reset two-factor sign-in for helena (1 device(s) removed)" in capsys.readouterr().out
    assert not TOTPDevice.objects.filter(user=helena).exists()
    assert AuditEvent.objects.filter(action="two_factor.reset", actor_label="command").exists()


def test_api_bearer_tokens_are_unaffected_but_an_unverified_session_is_not_accepted(
    client, helena, required
):
    _token, raw = api_token_create(actor=helena, user=helena, name="script")
    assert client.get("/api/v1/facilities", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    password_login(client, "helena")  # a password-only session, not verified
    assert client.get("/api/v1/facilities").status_code == 401
    assert client.get("/api/v1/facilities", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200


def test_a_verified_user_whose_role_does_not_require_it_may_turn_it_off(
    client, alice, helena, required
):
    device = confirmed_device(alice)
    password_login(client, "alice")
    # Not verified yet: the request never reaches the page.
    assert client.post(reverse("two-factor"), {"action": "disable"}).status_code == 302
    assert TOTPDevice.objects.filter(user=alice).exists()
    client.post(reverse("two-factor-verify"), {"token": code_for(device)})
    page = client.get(reverse("two-factor")).content.decode()
    assert "Turn off two-factor sign-in" in page
    client.post(reverse("two-factor"), {"action": "disable"})
    assert not TOTPDevice.objects.filter(user=alice).exists()
    assert AuditEvent.objects.filter(action="two_factor.disable", actor=alice).exists()
    assert client.get(reverse("dashboard")).status_code == 200

    helena_device = confirmed_device(helena)
    other = client.__class__()
    password_login(other, "helena")
    other.post(reverse("two-factor-verify"), {"token": code_for(helena_device)})
    assert "Turn off" not in other.get(reverse("two-factor")).content.decode()
    assert other.post(reverse("two-factor"), {"action": "disable"}).status_code == 403
    assert TOTPDevice.objects.filter(user=helena).exists()

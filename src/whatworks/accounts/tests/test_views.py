"""Logging in and out, and the profile page with personal API tokens."""

import re

import pytest
from django.urls import reverse

from conftest import PASSWORD
from whatworks.accounts.models import ApiToken
from whatworks.accounts.services import api_token_authenticate


@pytest.mark.parametrize("persona", ["alice", "carla", "dora", "fabio", "pablo", "helena"])
def test_every_role_logs_in_through_the_form_and_reaches_the_dashboard(request, client, persona):
    user = request.getfixturevalue(persona)
    login_page = client.get(reverse("login"))
    assert login_page.status_code == 200
    assert '<label for="id_username">' in login_page.content.decode()
    response = client.post(
        reverse("login"), {"username": user.username, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert response.status_code == 200
    assert response.context["user"] == user
    assert "Dashboard" in response.content.decode()


def test_wrong_password_shows_an_error(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post(client, alice):
    client.force_login(alice)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_profile_shows_name_role_and_facilities(client, alice):
    alice.first_name, alice.last_name = "Alice", "Araya"
    alice.save()
    client.force_login(alice)
    html = client.get(reverse("profile")).content.decode()
    assert "Alice Araya" in html
    assert "Case manager" in html
    assert "CL-A-01" in html


def test_profile_needs_login(client, db):
    response = client.get(reverse("profile"))
    assert response.status_code == 302


def test_token_is_shown_once_and_works(client, alice):
    client.force_login(alice)
    response = client.post(reverse("profile"), {"name": "nightly export"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    raw = re.search(r'id="new-token">(ww_[^<]+)<', html).group(1)
    assert api_token_authenticate(raw_token=raw) == alice
    token = ApiToken.objects.get(user=alice)
    assert token.name == "nightly export"
    assert token.prefix in html
    # Never again.
    assert raw not in client.get(reverse("profile")).content.decode()


def test_token_needs_a_name(client, alice):
    client.force_login(alice)
    response = client.post(reverse("profile"), {"name": ""})
    assert response.status_code == 400
    assert response.context["form"].errors["name"]
    assert not ApiToken.objects.exists()


def test_token_can_be_revoked(client, alice):
    client.force_login(alice)
    client.post(reverse("profile"), {"name": "laptop"})
    token = ApiToken.objects.get(user=alice)
    response = client.post(reverse("token-revoke", args=[token.pk]), follow=True)
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is not None
    html = response.content.decode()
    assert "Revoked on" in html
    assert reverse("token-revoke", args=[token.pk]) not in html  # no second revoke button


def test_revoke_needs_post(client, alice):
    client.force_login(alice)
    client.post(reverse("profile"), {"name": "laptop"})
    token = ApiToken.objects.get(user=alice)
    assert client.get(reverse("token-revoke", args=[token.pk])).status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


def test_nobody_revokes_another_users_token(client, alice, bruno):
    client.force_login(bruno)
    client.post(reverse("profile"), {"name": "bruno's"})
    token = ApiToken.objects.get(user=bruno)
    client.force_login(alice)
    assert client.post(reverse("token-revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None

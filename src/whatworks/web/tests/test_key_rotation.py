"""Rotating SECRET_KEY (docs/how-to/rotate-keys.md): with the old key in SECRET_KEY_FALLBACKS,
people signed in under it stay signed in; once the fallback is removed, they sign in again.
API tokens are not derived from the key and keep working either way."""

from __future__ import annotations

from django.core import signing
from django.test import override_settings
from django.urls import reverse

OLD = "old-key-" + "o" * 50
NEW = "new-key-" + "n" * 50


def signed_in_under_old_key(client, user):
    with override_settings(SECRET_KEY=OLD, SECRET_KEY_FALLBACKS=[]):
        client.force_login(user)
        assert client.get(reverse("dashboard")).status_code == 200


def test_a_session_signed_with_the_old_key_works_while_it_is_a_fallback(client, alice):
    signed_in_under_old_key(client, alice)
    with override_settings(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[OLD]):
        response = client.get(reverse("dashboard"))
        assert response.status_code == 200
        assert response.wsgi_request.user == alice
        # Values signed with the old key (messages, signed cookies) still load.
        assert signing.loads(signing.dumps("x", key=OLD)) == "x"


def test_without_the_fallback_the_old_session_signs_out(client, alice):
    signed_in_under_old_key(client, alice)
    with override_settings(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[]):
        response = client.get(reverse("dashboard"))
        assert response.status_code == 302
        assert reverse("login") in response["Location"]


def test_api_tokens_survive_a_key_rotation(client, alice):
    from whatworks.accounts.services import api_token_create

    with override_settings(SECRET_KEY=OLD):
        _token, raw = api_token_create(actor=alice, user=alice, name="rotation")
    with override_settings(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[]):
        response = client.get("/api/v1/persons", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200

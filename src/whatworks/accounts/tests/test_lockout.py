"""Login lockout: failed attempts lock an account; an administrator unlocks it."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from conftest import PASSWORD
from whatworks.accounts.services import account_unlock
from whatworks.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _try(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_five_failures_lock_the_account_even_for_the_right_password(client, alice, settings):
    settings.LOGIN_MAX_FAILURES = 5
    for _ in range(4):
        assert _try(client, "alice", "wrong").status_code == 200
    alice.refresh_from_db()
    assert alice.failed_logins == 4 and alice.locked_at is None
    _try(client, "alice", "wrong")
    alice.refresh_from_db()
    assert alice.locked_at is not None
    assert AuditEvent.objects.filter(action="account.lock", object_id=str(alice.pk)).exists()
    response = _try(client, "alice", PASSWORD)
    assert response.status_code == 200  # still the login form: locked
    assert "_auth_user_id" not in client.session


def test_a_success_clears_the_count(client, alice):
    _try(client, "alice", "wrong")
    assert _try(client, "alice", PASSWORD).status_code == 302
    alice.refresh_from_db()
    assert alice.failed_logins == 0


def test_administrators_unlock(client, alice, dora, bruno, settings, capsys):
    settings.LOGIN_MAX_FAILURES = 2
    _try(client, "alice", "wrong")
    _try(client, "alice", "wrong")
    alice.refresh_from_db()
    assert alice.locked_at is not None
    with pytest.raises(PermissionError):
        account_unlock(actor=bruno, user=alice)
    account_unlock(actor=dora, user=alice)
    assert _try(client, "alice", PASSWORD).status_code == 302
    client.logout()
    _try(client, "alice", "wrong")
    _try(client, "alice", "wrong")
    call_command("staff", "unlock", "alice")
    assert "Unlocked alice." in capsys.readouterr().out
    assert _try(client, "alice", PASSWORD).status_code == 302


def test_unknown_usernames_are_not_recorded(client, alice):
    _try(client, "nobody", "wrong")
    assert not AuditEvent.objects.filter(action="account.lock").exists()

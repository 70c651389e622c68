"""Login lockout: count failed password attempts and clear them on success."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from whatworks.accounts.services import login_failed, login_succeeded


@receiver(user_login_failed, dispatch_uid="whatworks-login-failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    username = credentials.get("username")
    if username:
        login_failed(username=str(username)[:150])


@receiver(user_logged_in, dispatch_uid="whatworks-logged-in")
def on_logged_in(sender, user, request=None, **kwargs):
    login_succeeded(user=user)

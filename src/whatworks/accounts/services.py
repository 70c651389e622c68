"""Writes to staff accounts and API tokens."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from whatworks.accounts.models import ApiToken, Role, User
from whatworks.audit.services import audit_record

TOKEN_PREFIX = "ww_"  # noqa: S105 - a public marker, not a secret


@transaction.atomic
def api_token_create(*, actor, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a personal token. Returns the token row and the raw token, shown only once."""
    if actor is not None and actor.pk != user.pk and actor.role != "administrator":
        raise PermissionError("Only the user or an administrator can create their tokens.")
    name = (name or "").strip()[:100] or "token"
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[:10], digest=ApiToken.digest_for(raw)
    )
    audit_record(
        actor=actor,
        action="api_token.create",
        target=token,
        after={"user": user.get_username(), "name": name, "prefix": token.prefix},
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, actor, token: ApiToken) -> ApiToken:
    if actor is not None and actor.pk != token.user_id and actor.role != "administrator":
        raise PermissionError("Only the token's owner or an administrator can revoke it.")
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="api_token.revoke",
            target=token,
            after={"prefix": token.prefix, "revoked_at": token.revoked_at},
        )
    return token


def api_token_authenticate(*, raw_token: str) -> User | None:
    """The active user a raw token belongs to, or None for unknown or revoked tokens."""
    if not raw_token or not raw_token.startswith(TOKEN_PREFIX) or len(raw_token) > 100:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=ApiToken.digest_for(raw_token), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    if getattr(token.user, "is_demo_account", False):
        from django.conf import settings

        if not settings.DEMO_MODE:
            return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
        # Written at most every five minutes, so API reads do not each cost a write.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def _facilities_by_code(codes: list[str]) -> list:
    from whatworks.records.models import Facility

    facilities = list(Facility.objects.filter(code__in=codes))
    unknown = sorted(set(codes) - {facility.code for facility in facilities})
    if unknown:
        message = ngettext(
            "Unknown facility code: %(codes)s",
            "Unknown facility codes: %(codes)s",
            len(unknown),
        ) % {"codes": ", ".join(unknown)}
        raise ValidationError({"facilities": [message]})
    return facilities


@transaction.atomic
def staff_create(
    *, actor, username: str, role: str, facility_codes: list[str], password: str
) -> User:
    """Create a staff account with its role and facilities; the password must pass policy."""
    if actor is not None and actor.role != Role.ADMINISTRATOR:
        raise PermissionError("Only administrators create staff accounts.")
    errors: dict[str, list[str]] = {}
    if role not in Role.values:
        errors["role"] = [
            _("Unknown role %(role)s; use one of %(roles)s.")
            % {"role": role, "roles": ", ".join(Role.values)}
        ]
    user = User(username=username, role=role)
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        errors["password"] = list(error.messages)
    try:
        facilities = _facilities_by_code(facility_codes)
    except ValidationError as error:
        errors.update(error.message_dict)
        facilities = []
    if role in (Role.ADMINISTRATOR, Role.ANALYST) and facilities:
        errors.setdefault("facilities", []).append(
            _("Administrators and analysts work across all facilities; give no facility.")
        )
    if role not in (Role.ADMINISTRATOR, Role.ANALYST) and not facilities and "role" not in errors:
        errors.setdefault("facilities", []).append(_("This role needs at least one facility."))
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    user.save()
    user.facilities.set(facilities)
    audit_record(
        actor=actor,
        action="user.create",
        target=user,
        after={"username": username, "role": role, "facilities": sorted(facility_codes)},
    )
    return user


# --- login lockout ----------------------------------------------------------------------


@transaction.atomic
def login_failed(*, username: str) -> User | None:
    """Count a failed password attempt; lock the account at the configured limit.

    Unknown usernames are not recorded (nothing to lock, and no list of guesses is kept).
    """
    user = User.objects.select_for_update().filter(username=username).first()
    if user is None or user.locked_at is not None:
        return user
    user.failed_logins += 1
    fields = ["failed_logins"]
    if user.failed_logins >= settings.LOGIN_MAX_FAILURES:
        user.locked_at = timezone.now()
        fields.append("locked_at")
        audit_record(
            actor=None,
            actor_label="login",
            action="account.lock",
            target=user,
            after={"failed_logins": user.failed_logins},
        )
    user.save(update_fields=fields)
    return user


def login_succeeded(*, user: User) -> None:
    """A successful login clears the count of failed attempts."""
    if user.failed_logins:
        User.objects.filter(pk=user.pk).update(failed_logins=0)


@transaction.atomic
def account_unlock(*, actor, user: User) -> User:
    """Administrators (or the command line) unlock an account and clear its count."""
    if actor is not None and getattr(actor, "role", None) != Role.ADMINISTRATOR:
        raise PermissionError(_("Only administrators unlock accounts."))
    user = User.objects.select_for_update().get(pk=user.pk)
    before = {"locked_at": user.locked_at, "failed_logins": user.failed_logins}
    user.locked_at = None
    user.failed_logins = 0
    user.save(update_fields=["locked_at", "failed_logins"])
    audit_record(
        actor=actor,
        actor_label="" if actor is not None else "command",
        action="account.unlock",
        target=user,
        before=before,
        after={"locked_at": None, "failed_logins": 0},
    )
    return user

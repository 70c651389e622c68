"""Writes to staff accounts and API tokens."""

from __future__ import annotations

import datetime
import math
import secrets

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from whatworks.accounts.models import ApiToken, LoginFailure, Role, User
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


# --- per-address throttling of failed sign-ins -------------------------------------------


def client_address(request) -> str:
    """The address a request comes from, as counted by the sign-in throttle.

    REMOTE_ADDR, unless the app is configured to run behind a TLS-terminating proxy
    (WHATWORKS_PROXY_SSL_HEADER, i.e. settings.SECURE_PROXY_SSL_HEADER is set): then the last
    entry of X-Forwarded-For, the one our own proxy appended. Earlier entries are written by
    the client and are never trusted (docs/two-factor.md).
    """
    remote = (request.META.get("REMOTE_ADDR") or "").strip()
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last_hop = forwarded.split(",")[-1].strip() if forwarded else ""
        if _valid_ip(last_hop):
            return last_hop
    return remote if _valid_ip(remote) else "unknown"


def _valid_ip(value: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _window() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.LOGIN_ADDRESS_WINDOW_MINUTES)


def login_address_wait(
    *, address: str, kind: str, now: datetime.datetime | None = None
) -> datetime.timedelta | None:
    """How long the address must still wait before another attempt of this kind, or None.

    The window slides: an address is refused while it has LOGIN_ADDRESS_MAX_FAILURES or more
    failures in the last LOGIN_ADDRESS_WINDOW_MINUTES, until enough of them age out.
    """
    now = now or timezone.now()
    limit = settings.LOGIN_ADDRESS_MAX_FAILURES
    recent = (
        LoginFailure.objects.filter(
            address=address, kind=kind, created_at__gt=now - _window(), created_at__lte=now
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)[limit - 1 : limit]
    )
    oldest_blocking = next(iter(recent), None)
    if oldest_blocking is None:
        return None
    return oldest_blocking + _window() - now


def wait_minutes(wait: datetime.timedelta) -> int:
    """A wait in whole minutes, rounded up, at least one."""
    return max(1, math.ceil(wait.total_seconds() / 60))


@transaction.atomic
def login_address_failed(
    *, address: str, kind: str, username: str = "", now: datetime.datetime | None = None
) -> bool:
    """Count one failure from the address; audit once when it reaches the limit.

    Returns True when this failure made the address reach the limit. Rows older than the
    window (for every address) are deleted here, so the table stays small.
    """
    now = now or timezone.now()
    LoginFailure.objects.filter(created_at__lte=now - _window()).delete()
    LoginFailure.objects.create(address=address or "unknown", kind=kind, created_at=now)
    count = LoginFailure.objects.filter(
        address=address or "unknown", kind=kind, created_at__gt=now - _window()
    ).count()
    reached = count == settings.LOGIN_ADDRESS_MAX_FAILURES
    if reached:
        audit_record(
            actor=None,
            actor_label="login",
            action="login.address_throttled",
            target=None,
            object_type="network_address",
            object_id=address or "unknown",
            after={
                "kind": kind,
                "failures": count,
                "window_minutes": settings.LOGIN_ADDRESS_WINDOW_MINUTES,
            },
        )
    return reached


def address_throttled_message(wait: datetime.timedelta) -> str:
    minutes = wait_minutes(wait)
    return ngettext(
        "Too many failed sign-ins from this network address. Try again in %(minutes)d minute.",
        "Too many failed sign-ins from this network address. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


# --- two-factor sign-in (TOTP) -------------------------------------------------------------


def two_factor_required(user) -> bool:
    """Whether the user's role must sign in with a code (settings.TWO_FACTOR_REQUIRED_ROLES)."""
    return getattr(user, "role", None) in settings.TWO_FACTOR_REQUIRED_ROLES


def two_factor_device(user) -> TOTPDevice | None:
    """The user's confirmed authenticator, or None."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def two_factor_pending_device(user) -> TOTPDevice | None:
    """The authenticator the user has started but not yet confirmed, or None."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


@transaction.atomic
def two_factor_enrol(*, actor: User) -> TOTPDevice:
    """Start enrolment: a new unconfirmed TOTP device with a fresh secret for the actor.

    Earlier unconfirmed devices are discarded. A user who already has a confirmed device
    must have it reset by an administrator first (a lost phone), so that a stolen password
    alone can never replace somebody's authenticator.
    """
    if TOTPDevice.objects.filter(user=actor, confirmed=True).exists():
        raise ValidationError(
            {
                "__all__": [
                    _(
                        "Two-factor sign-in is already set up. An administrator can reset it "
                        "if you have lost your authenticator."
                    )
                ]
            }
        )
    TOTPDevice.objects.filter(user=actor, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=actor, name="authenticator", confirmed=False)
    audit_record(
        actor=actor,
        action="two_factor.enrol",
        target=device,
        after={"user": actor.get_username(), "confirmed": False},
    )
    return device


def _check_code(*, user: User, device: TOTPDevice, token: str, address: str, now) -> None:
    """Verify a code against the device, with both throttles; persist failures; raise on any.

    The failure writes commit in their own atomic block before the ValidationError is raised,
    so the device's back-off, the address count and the audit event survive the refusal.
    """
    token = "".join((token or "").split())
    with transaction.atomic():
        wait = login_address_wait(address=address, kind=LoginFailure.Kind.TOTP, now=now)
        if wait is not None:
            raise ValidationError({"token": [address_throttled_message(wait)]})
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        allowed, details = device.verify_is_allowed()
        if not allowed:
            seconds = 1
            if details and details.get("locked_until"):
                seconds = max(
                    1, math.ceil((details["locked_until"] - timezone.now()).total_seconds())
                )
            raise ValidationError(
                {
                    "token": [
                        ngettext(
                            "Too many wrong codes in a row. Wait %(seconds)d second, then "
                            "enter the newest code.",
                            "Too many wrong codes in a row. Wait %(seconds)d seconds, then "
                            "enter the newest code.",
                            seconds,
                        )
                        % {"seconds": seconds}
                    ]
                }
            )
        if token.isdigit() and len(token) == device.digits and device.verify_token(token):
            return
        if not (token.isdigit() and len(token) == device.digits):
            device.throttle_increment(commit=True)  # malformed codes count as wrong ones
        login_address_failed(address=address, kind=LoginFailure.Kind.TOTP, now=now)
        audit_record(
            actor=user,
            action="two_factor.verify_failed",
            target=device,
            after={"address": address, "failures": device.throttling_failure_count},
        )
    raise ValidationError(
        {
            "token": [
                _(
                    "That code is not right. Enter the 6-digit code your authenticator app "
                    "shows now, and check that your phone's clock is correct."
                )
            ]
        }
    )


def two_factor_confirm(
    *, actor: User, device: TOTPDevice, token: str, address: str, now=None
) -> TOTPDevice:
    """Confirm a pending device with a code it produced. Raises ValidationError on 'token'."""
    if device.user_id != actor.pk or device.confirmed:
        raise PermissionError("Only the user confirms their own pending authenticator.")
    _check_code(user=actor, device=device, token=token, address=address, now=now)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=actor).exclude(pk=device.pk).delete()
        audit_record(
            actor=actor,
            action="two_factor.confirm",
            target=device,
            after={"user": actor.get_username(), "confirmed": True},
        )
    return device


def two_factor_verify(*, actor: User, token: str, address: str, now=None) -> TOTPDevice:
    """Check the code at sign-in against the actor's confirmed device; returns the device.

    The caller then marks the session verified with django_otp.login(request, device).
    """
    device = two_factor_device(actor)
    if device is None:
        raise ValidationError({"token": [_("Two-factor sign-in is not set up.")]})
    _check_code(user=actor, device=device, token=token, address=address, now=now)
    return device


@transaction.atomic
def two_factor_disable(*, actor: User) -> int:
    """A user whose role does not require two-factor sign-in turns it off for themselves.

    The view only offers this in a session verified with a code (the middleware sees to it).
    Required roles cannot: an administrator resets a lost authenticator instead.
    """
    if two_factor_required(actor):
        raise PermissionError(_("Your role must sign in with a code; it cannot be turned off."))
    removed, _details = TOTPDevice.objects.filter(user=actor).delete()
    audit_record(
        actor=actor,
        action="two_factor.disable",
        target=actor,
        after={"devices_removed": removed},
    )
    return removed


@transaction.atomic
def two_factor_reset(*, actor, user: User) -> int:
    """Remove every authenticator of the user (a lost phone); they must enrol again.

    Administrators only, or the command line (actor None). Returns how many were removed.
    Sessions verified with the removed device lose their verification on the next request.
    """
    if actor is not None and getattr(actor, "role", None) != Role.ADMINISTRATOR:
        raise PermissionError(_("Only administrators reset two-factor sign-in."))
    devices = TOTPDevice.objects.filter(user=user)
    before = {"devices": devices.count(), "confirmed": devices.filter(confirmed=True).count()}
    removed, _details = devices.delete()
    audit_record(
        actor=actor,
        actor_label="" if actor is not None else "command",
        action="two_factor.reset",
        target=user,
        before=before,
        after={"devices": 0, "confirmed": 0},
    )
    return removed

"""Staff users, their role and facilities, and personal API tokens."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("Administrator")
    FACILITY_MANAGER = "facility_manager", _("Facility manager")
    CASE_MANAGER = "case_manager", _("Case manager")
    PROGRAMME_STAFF = "programme_staff", _("Programme staff")
    HEALTH_STAFF = "health_staff", _("Health staff")
    ANALYST = "analyst", _("Analyst")


class User(AbstractUser):
    """A member of staff. Each has exactly one role and a set of facilities.

    What a role may see is decided in `whatworks.records.access`, never in views.
    """

    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    facilities = models.ManyToManyField(
        "records.Facility", blank=True, related_name="staff", verbose_name=_("facilities")
    )
    # Accounts created by `whatworks demo` carry published passwords; the login backend
    # refuses them unless the app runs in demo mode.
    is_demo_account = models.BooleanField(default=False, editable=False)
    # Login lockout (docs/security.md): failed password attempts since the last success; at
    # WHATWORKS_LOGIN_MAX_FAILURES the account is locked until an administrator unlocks it.
    failed_logins = models.PositiveSmallIntegerField(default=0, editable=False)
    locked_at = models.DateTimeField(null=True, blank=True, editable=False)

    # `whatworks createsuperuser` asks for the role too; every account has one.
    REQUIRED_FIELDS = ["role"]

    class Meta:
        verbose_name = _("staff user")
        verbose_name_plural = _("staff users")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="user_role_valid"
            ),
        ]

    @property
    def role_label(self) -> str:
        return Role(self.role).label if self.role in Role.values else ""


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 digest is stored; the token is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)  # looked up on every API call
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def digest_for(raw_token: str) -> str:
        return hashlib.sha256(raw_token.encode()).hexdigest()


class LoginFailure(models.Model):
    """One failed sign-in step from a network address: a wrong password or a wrong TOTP code.

    Counted per address over settings.LOGIN_ADDRESS_WINDOW_MINUTES to slow password spraying
    across many usernames, which the per-account lockout cannot see. Kept in the database so
    that every worker process shares the count; rows older than the window are pruned.
    """

    class Kind(models.TextChoices):
        PASSWORD = "password", _("Password")
        TOTP = "totp", _("Authenticator code")

    address = models.CharField(_("network address"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("failed sign-in")
        verbose_name_plural = _("failed sign-ins")
        indexes = [
            models.Index(fields=["address", "kind", "created_at"], name="loginfailure_addr_idx"),
            models.Index(fields=["created_at"], name="loginfailure_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["password", "totp"]), name="loginfailure_kind_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(address=""), name="loginfailure_address_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.address} {self.created_at:%Y-%m-%d %H:%M:%S}"

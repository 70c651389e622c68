"""The audit trail: one append-only row for every change, written in the change's transaction."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The previous hash of the first event in the chain.
GENESIS_HASH = "0" * 64


class AuditEvent(models.Model):
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("actor"),
    )
    # System actions (the demo loader, imports run from the command line) have no actor
    # user; they say who ran them here.
    actor_label = models.CharField(_("actor"), max_length=150)
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64)
    person = models.ForeignKey(
        "records.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
        verbose_name=_("person"),
    )
    before = models.JSONField(_("before"), null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(_("after"), null=True, blank=True, encoder=DjangoJSONEncoder)
    # Set by audit_record before hashing (not auto_now_add, which would overwrite it).
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    # Tamper evidence: each event's hash covers its content and the previous event's hash,
    # so altering, removing or reordering a row breaks the chain (`whatworks audit verify`).
    previous_hash = models.CharField(_("previous hash"), max_length=64, default=GENESIS_HASH)
    row_hash = models.CharField(_("hash"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The person page's change history for administrators.
            models.Index(fields=["person", "-created_at"], name="audit_person_time"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


class AuditChainHead(models.Model):
    """One row: the last event of the chain and its hash. Locked by every audit_record so
    that concurrent writers append one after the other, never both after the same event;
    and it shows when events were removed from the end of the chain."""

    last_event_id = models.BigIntegerField(null=True, blank=True)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("audit chain head")
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="audit_chain_single_head"),
        ]

    def __str__(self) -> str:
        return f"{self.last_event_id} {self.last_hash[:12]}"

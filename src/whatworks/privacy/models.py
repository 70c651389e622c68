"""What retention did to a person: one row per person, so re-running retention is a no-op."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class RetentionAction(models.TextChoices):
    PSEUDONYMISE = "pseudonymise", _("Pseudonymised")
    DELETE = "delete", _("Deleted")


class RetentionRecord(models.Model):
    """The last retention action applied to a person (a pseudonymised person may later be
    deleted; a deleted one is a tombstone and stays so)."""

    person = models.OneToOneField(
        "records.Person",
        on_delete=models.PROTECT,
        related_name="retention_record",
        verbose_name=_("person"),
    )
    action = models.CharField(_("action"), max_length=16, choices=RetentionAction.choices)
    applied_at = models.DateTimeField(_("applied at"))

    class Meta:
        verbose_name = _("retention record")
        verbose_name_plural = _("retention records")
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=RetentionAction.values), name="retention_action_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.action}"

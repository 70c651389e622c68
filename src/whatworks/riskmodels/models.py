"""Risk-instrument runs: validating an instrument in use, or fitting a transparent point
score, on the service's own releases and outcomes.

A run is created by an analyst, executed by a background task and never edited afterwards
except by that task and by the publication workflow: an analyst asks for a fitted score to be
published as an instrument version, and an administrator approves (the version is then
registered in the Assessment module) or rejects it, with a reason.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from whatworks.assessments.models import InstrumentVersion


class RunKind(models.TextChoices):
    VALIDATE = "validate", _("Validate an instrument")
    FIT = "fit", _("Fit a point score")


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class PublicationStatus(models.TextChoices):
    NONE = "", _("Not requested")
    REQUESTED = "requested", _("Awaiting approval")
    APPROVED = "approved", _("Published")
    REJECTED = "rejected", _("Rejected")


class RiskModelRun(models.Model):
    kind = models.CharField(_("kind"), max_length=12, choices=RunKind.choices)
    # The analyst's choices: outcome definition and window, cohort dates and facilities; for
    # validation the instrument; for fitting the features, limits, folds and group.
    parameters = models.JSONField(_("parameters"))
    followup_end_date = models.DateField(_("follow-up end date"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    cohort = models.JSONField(_("cohort"), default=dict, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True)
    instrument_definition = models.JSONField(_("instrument definition"), null=True, blank=True)
    model_card = models.TextField(_("model card"), blank=True)
    error = models.TextField(_("error"), blank=True)
    code_version = models.CharField(_("code version"), max_length=120, blank=True)
    input_sha256 = models.CharField(_("SHA-256 of the input frame"), max_length=64, blank=True)
    rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    publication = models.CharField(
        _("publication"),
        max_length=12,
        choices=PublicationStatus.choices,
        default=PublicationStatus.NONE,
        blank=True,
    )
    publication_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    publication_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    publication_decided_at = models.DateTimeField(null=True, blank=True)
    publication_note = models.TextField(_("decision note"), blank=True)
    published_version = models.ForeignKey(
        InstrumentVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("risk instrument run")
        verbose_name_plural = _("risk instrument runs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=RunKind.values), name="riskrun_kind"),
            models.CheckConstraint(condition=Q(status__in=RunStatus.values), name="riskrun_status"),
            models.CheckConstraint(
                condition=~Q(status=RunStatus.SUCCEEDED) | Q(result__isnull=False),
                name="riskrun_succeeded_has_result",
            ),
            models.CheckConstraint(
                condition=Q(publication="") | Q(kind=RunKind.FIT, status=RunStatus.SUCCEEDED),
                name="riskrun_publish_fitted_only",
            ),
            models.CheckConstraint(
                condition=~Q(publication=PublicationStatus.APPROVED)
                | Q(published_version__isnull=False),
                name="riskrun_published_has_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

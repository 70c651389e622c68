"""Programme evaluations run in the app: what was asked, how far the run got, what it found.

A run is created by an analyst (``services.evaluation_run_create``), executed by a background
task (``tasks.evaluation_run_execute``) and never edited afterwards except by that task. What
a run found is stored as the estimator's JSON (``EvaluationResult.to_dict()``) and the report
rendered from it, so a published figure can always be traced to its code version and to the
SHA-256 of the exact frame the estimator read.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from whatworks.treatment.models import Programme


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class EvaluationRun(models.Model):
    programme = models.ForeignKey(
        Programme,
        on_delete=models.PROTECT,
        related_name="evaluation_runs",
        verbose_name=_("programme"),
    )
    # The analyst's choices (see forms.EvaluationForm.parameters): treatment definition,
    # outcome definition and window, covariates, cohort, estimand and method.
    parameters = models.JSONField(_("parameters"))
    # Outcome records are taken as complete up to this date (inclusive): the day the run was
    # requested. A window counts for a release only when it has ended by then.
    followup_end_date = models.DateField(_("follow-up end date"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    progress_message = models.CharField(_("progress message"), max_length=200, blank=True)
    cohort = models.JSONField(_("cohort"), default=dict, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True)
    report_html = models.TextField(_("report"), blank=True)
    report_document = models.TextField(_("standalone report"), blank=True)
    report_pdf = models.BinaryField(_("PDF report"), blank=True, default=b"")
    error = models.TextField(_("error"), blank=True)
    code_version = models.CharField(_("code version"), max_length=120, blank=True)
    # The report is written in the language of the analyst who asked for it.
    language = models.CharField(_("language"), max_length=10, default="en")
    input_sha256 = models.CharField(_("SHA-256 of the input frame"), max_length=64, blank=True)
    rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    task_id = models.CharField(_("task ID"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("evaluation run")
        verbose_name_plural = _("evaluation runs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RunStatus.values), name="evaluation_run_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="evaluation_run_progress_at_most_100"
            ),
            models.CheckConstraint(
                condition=~Q(status=RunStatus.SUCCEEDED) | Q(result__isnull=False),
                name="evaluation_run_succeeded_has_result",
            ),
        ]
        indexes = [
            # Programme page: the latest succeeded run of a programme.
            models.Index(
                fields=["programme", "status", "-finished_at"], name="evaluation_run_latest"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme.code} #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in (RunStatus.QUEUED, RunStatus.RUNNING)

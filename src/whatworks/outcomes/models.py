"""Imports of police and court outcome extracts, and the queue of uncertain links.

An ``OutcomeImport`` is one run of ``whatworks import outcomes`` over one file (dry runs are
never stored). Rows the linkage is sure of become ordinary ``records.OutcomeEvent`` rows, keyed
by ``source_key`` (a hash of source and reference) so importing the same file again adds
nothing. Rows it is unsure of become a ``LinkReview`` that a person decides in the web app;
rows it cannot match at all are kept on the import (``unmatched_rows``) for the report.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from whatworks.records.choices import OutcomeEventType, OutcomeSource
from whatworks.records.models import OutcomeEvent, Person


class OutcomeImport(models.Model):
    file_name = models.CharField(_("file"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    # The file's one source, or blank when its rows came from several.
    source = models.CharField(_("source"), max_length=20, choices=OutcomeSource.choices, blank=True)
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("imported by"),
    )
    actor_label = models.CharField(max_length=150, blank=True)
    link_threshold = models.FloatField(_("link threshold"))
    review_threshold = models.FloatField(_("review threshold"))
    rows = models.PositiveIntegerField(_("rows"), default=0)
    linked = models.PositiveIntegerField(_("linked"), default=0)
    review = models.PositiveIntegerField(_("to review"), default=0)
    unmatched = models.PositiveIntegerField(_("unmatched"), default=0)
    events_created = models.PositiveIntegerField(_("events created"), default=0)
    reviews_created = models.PositiveIntegerField(_("reviews created"), default=0)
    already_imported = models.PositiveIntegerField(_("already imported"), default=0)
    # The extract's fields of each unmatched row, with its 0-based "row" index.
    unmatched_rows = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("outcome import")
        verbose_name_plural = _("outcome imports")
        ordering = ["-imported_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(review_threshold__gte=0)
                & Q(review_threshold__lte=models.F("link_threshold"))
                & Q(link_threshold__lte=1),
                name="outcome_import_thresholds_ordered",
            ),
            models.CheckConstraint(
                condition=Q(rows=models.F("linked") + models.F("review") + models.F("unmatched")),
                name="outcome_import_rows_add_up",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.imported_at:%Y-%m-%d %H:%M})"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class ReviewReason(models.TextChoices):
    UNCERTAIN = "uncertain", _("The match is uncertain")
    NO_RELEASE = "no_release", _("The person has no release before the event date")


class LinkReview(models.Model):
    """An extract row the linkage could not decide alone, with its candidate persons."""

    outcome_import = models.ForeignKey(
        OutcomeImport, on_delete=models.PROTECT, related_name="reviews"
    )
    row_index = models.PositiveIntegerField(_("row (0-based)"))
    first_name = models.CharField(_("first name"), max_length=150)
    last_name = models.CharField(_("last name"), max_length=150)
    date_of_birth = models.DateField(_("date of birth"))
    national_id = models.CharField(_("national ID"), max_length=32, blank=True)
    prison_number = models.CharField(_("prison number"), max_length=32, blank=True)
    event_type = models.CharField(_("event"), max_length=24, choices=OutcomeEventType.choices)
    event_date = models.DateField(_("event date"))
    offence_date = models.DateField(_("offence date"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=OutcomeSource.choices)
    source_reference = models.CharField(_("reference"), max_length=100)
    candidate = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("candidate"),
    )
    probability = models.FloatField(_("probability"), null=True, blank=True)
    # Up to three candidates, best first: [{"person_id": 12, "probability": 0.81}, ...]
    candidates = models.JSONField(default=list, blank=True)
    reason = models.CharField(
        _("why it is here"),
        max_length=16,
        choices=ReviewReason.choices,
        default=ReviewReason.UNCERTAIN,
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)
    event = models.ForeignKey(
        OutcomeEvent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("outcome event"),
    )

    class Meta:
        verbose_name = _("link review")
        verbose_name_plural = _("link reviews")
        ordering = ["event_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_reference"], name="link_review_source_reference_unique"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReviewStatus.values), name="link_review_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(probability__isnull=True)
                | (Q(probability__gte=0) & Q(probability__lte=1)),
                name="link_review_probability_range",
            ),
            # An accepted review points at its event; only accepted ones do.
            models.CheckConstraint(
                condition=(Q(status=ReviewStatus.ACCEPTED) & Q(event__isnull=False))
                | (~Q(status=ReviewStatus.ACCEPTED) & Q(event__isnull=True)),
                name="link_review_event_iff_accepted",
            ),
            models.CheckConstraint(
                condition=(Q(status=ReviewStatus.PENDING) & Q(decided_at__isnull=True))
                | (~Q(status=ReviewStatus.PENDING) & Q(decided_at__isnull=False)),
                name="link_review_decided_at_iff_decided",
            ),
            models.CheckConstraint(
                condition=Q(offence_date__isnull=True)
                | Q(offence_date__lte=models.F("event_date")),
                name="link_review_offence_not_after_event",
            ),
        ]
        indexes = [models.Index(fields=["status", "candidate"], name="link_review_queue")]

    def __str__(self) -> str:
        return f"{self.source} {self.source_reference} ({self.status})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

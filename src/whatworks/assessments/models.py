"""Assessments: a person's answers to a versioned instrument, scored on the server.

An assessment is pinned to the exact ``InstrumentVersion`` that scored it: the stored
definition (and its sha256) never changes, so a later version of the YAML file never changes
an old result. A professional override is stored beside the computed band, never instead
of it; ``effective_band`` is the one to act on.

Invariants live twice: in ``services.py`` (as field messages) and here as constraints.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from whatworks.analytics.instruments import Instrument
from whatworks.analytics.instruments.model import instrument_from_mapping
from whatworks.concurrency import lock_version_field
from whatworks.records.models import CustodyEpisode, Facility, Person

_BUILT_INSTRUMENTS: dict[str, Instrument] = {}


class InstrumentVersion(models.Model):
    """One version of an instrument file, frozen as JSON when first used."""

    slug = models.SlugField(_("instrument"), max_length=64)
    version = models.CharField(_("version"), max_length=20)
    name = models.CharField(_("name"), max_length=200, help_text=_("The English name."))
    definition = models.JSONField(_("definition"))
    sha256 = models.CharField(_("SHA-256 of the definition"), max_length=64)
    registered_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("instrument version")
        verbose_name_plural = _("instrument versions")
        ordering = ["slug", "registered_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "version"], name="instrument_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.slug} {self.version}"

    @property
    def instrument(self) -> Instrument:
        """The engine's instrument, rebuilt from the stored definition (not from the file).

        Building validates the definition against the schema, which is slow; a stored version
        never changes, so the built instrument is shared by its content hash.
        """
        built = _BUILT_INSTRUMENTS.get(self.sha256)
        if built is None:
            built = instrument_from_mapping(self.definition, source=f"{self.slug}@{self.version}")
            _BUILT_INSTRUMENTS[self.sha256] = built
        return built


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    COMPLETED = "completed", _("Completed")


class Assessment(models.Model):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="assessments")
    episode = models.ForeignKey(
        CustodyEpisode,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("custody episode"),
    )
    # The person's responsible facility when the assessment was started: the override-rate
    # dashboard groups by it, and it does not move when the person is transferred.
    facility = models.ForeignKey(
        Facility,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("facility"),
    )
    instrument_version = models.ForeignKey(
        InstrumentVersion,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("instrument version"),
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=AssessmentStatus.choices,
        default=AssessmentStatus.DRAFT,
    )
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    total = models.FloatField(_("total"), null=True, blank=True)
    band = models.CharField(_("band"), max_length=64, blank=True)
    domain_scores = models.JSONField(_("domain scores"), default=dict, blank=True)
    strengths = models.JSONField(_("strengths"), default=dict, blank=True)
    needs = models.JSONField(_("needs"), default=dict, blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assessments_done",
        verbose_name=_("assessed by"),
    )
    assessed_on = models.DateField(_("assessed on"))
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    next_due_date = models.DateField(_("next assessment due"), null=True, blank=True)
    override_band = models.CharField(_("override band"), max_length=64, blank=True)
    override_reason = models.TextField(_("reason for the override"), blank=True)
    override_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assessment_overrides_approved",
        verbose_name=_("override approved by"),
    )
    overridden_at = models.DateTimeField(_("overridden at"), null=True, blank=True)
    # Set by assessments_load for simulated or imported assessments; unique when set.
    import_key = models.CharField(_("import key"), max_length=64, blank=True)
    lock_version = lock_version_field()

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["-assessed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=AssessmentStatus.values), name="assessment_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=AssessmentStatus.COMPLETED)
                | (Q(total__isnull=False) & ~Q(band="") & Q(completed_at__isnull=False)),
                name="assessment_completed_has_result",
            ),
            models.CheckConstraint(
                condition=(
                    Q(override_band="")
                    & Q(override_reason="")
                    & Q(override_approved_by__isnull=True)
                    & Q(overridden_at__isnull=True)
                )
                | (
                    ~Q(override_band="")
                    & ~Q(override_reason="")
                    & Q(override_approved_by__isnull=False)
                    & Q(overridden_at__isnull=False)
                    & Q(status=AssessmentStatus.COMPLETED)
                ),
                name="assessment_override_all_or_nothing",
            ),
            models.CheckConstraint(
                condition=~Q(override_approved_by=F("assessed_by")),
                name="assessment_override_approver_not_assessor",
            ),
            models.UniqueConstraint(
                fields=["import_key"],
                condition=~Q(import_key=""),
                name="assessment_import_key_unique",
            ),
        ]
        indexes = [
            # A person's history per instrument, newest first (history page, latest result).
            models.Index(fields=["person", "status", "-assessed_on"], name="assessment_person"),
            # The reassessment-due list: completed assessments by due date.
            models.Index(fields=["status", "next_due_date"], name="assessment_due"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_version} · {self.person_id} · {self.assessed_on}"

    @property
    def slug(self) -> str:
        return self.instrument_version.slug

    @property
    def is_completed(self) -> bool:
        return self.status == AssessmentStatus.COMPLETED

    @property
    def is_overridden(self) -> bool:
        return bool(self.override_band)

    @property
    def effective_band(self) -> str | None:
        """The band to act on: the approved override when there is one, else the computed."""
        return self.override_band or self.band or None


class AssessmentStatusChange(models.Model):
    """Append-only status history of an assessment (draft → completed)."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.PROTECT, related_name="status_changes"
    )
    from_status = models.CharField(
        _("from"), max_length=16, choices=AssessmentStatus.choices, blank=True
    )
    to_status = models.CharField(_("to"), max_length=16, choices=AssessmentStatus.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("assessment status change")
        verbose_name_plural = _("assessment status changes")
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.assessment_id}: {self.from_status or '—'} → {self.to_status}"

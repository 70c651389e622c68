"""Health: diagnoses, health referrals and relapse prevention plans.

Nothing is deleted or overwritten. A correction to a diagnosis or a referral (a status
change included) is a new row that replaces the old one (``replaces``; the old row stops
being current). A relapse prevention plan is versioned like an intervention plan: an active
version is never edited, a change is a new draft version, and activating it supersedes the
previous one. The flags (substance use, mental health, co-occurring) are derived, never
stored: see ``flags.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from whatworks.records.models import CustodyEpisode, Person

# Below this many days of medication at release, the plan warns (continuity of treatment).
MEDICATION_SUPPLY_WARNING_DAYS = 14


class DiagnosisCategory(models.TextChoices):
    SUBSTANCE_USE_DISORDER = "substance_use_disorder", _("Substance use disorder")
    MENTAL_DISORDER = "mental_disorder", _("Mental disorder")
    OTHER = "other", _("Other")


class MentalDisorderType(models.TextChoices):
    DEPRESSION = "depression", _("Depression")
    ANXIETY = "anxiety", _("Anxiety")
    PSYCHOSIS = "psychosis", _("Psychosis")
    BIPOLAR = "bipolar", _("Bipolar disorder")
    PTSD = "ptsd", _("Post-traumatic stress disorder")
    PERSONALITY = "personality", _("Personality disorder")
    OTHER = "other", _("Other mental disorder")


class DiagnosisStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    RESOLVED = "resolved", _("Resolved")


class Diagnosis(models.Model):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="diagnoses")
    recorded_on = models.DateField(_("recorded on"))
    category = models.CharField(_("category"), max_length=32, choices=DiagnosisCategory.choices)
    # Only for mental disorders (a constraint says so).
    mental_disorder_type = models.CharField(
        _("type of mental disorder"), max_length=16, choices=MentalDisorderType.choices, blank=True
    )
    code = models.CharField(_("code (e.g. ICD-10 F10.2)"), max_length=32, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=DiagnosisStatus.choices, default="active"
    )
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("diagnosis")
        verbose_name_plural = _("diagnoses")
        ordering = ["-recorded_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__in=DiagnosisCategory.values), name="diagnosis_category_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=DiagnosisStatus.values), name="diagnosis_status_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(category=DiagnosisCategory.MENTAL_DISORDER)
                    & Q(mental_disorder_type__in=MentalDisorderType.values)
                )
                | (~Q(category=DiagnosisCategory.MENTAL_DISORDER) & Q(mental_disorder_type="")),
                name="diagnosis_type_iff_mental",
            ),
        ]
        indexes = [
            # Flags: a person's current active diagnoses.
            models.Index(fields=["person", "is_current", "status"], name="diagnosis_person_cur"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.category} {self.recorded_on}"


class HealthReferralStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ACCEPTED = "accepted", _("Accepted")
    COMPLETED = "completed", _("Completed")
    DECLINED = "declined", _("Declined")


OPEN_HEALTH_REFERRAL_STATUSES = (HealthReferralStatus.REQUESTED, HealthReferralStatus.ACCEPTED)


class HealthReferral(models.Model):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="health_referrals")
    to_service = models.CharField(_("referred to (service)"), max_length=200)
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=16, choices=HealthReferralStatus.choices, default="requested"
    )
    requested_on = models.DateField(_("requested on"))
    status_date = models.DateField(_("status date"))
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("health referral")
        verbose_name_plural = _("health referrals")
        ordering = ["-requested_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=HealthReferralStatus.values),
                name="health_referral_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status_date__gte=models.F("requested_on")),
                name="health_referral_status_after_request",
            ),
        ]
        indexes = [
            # Flags: does the person have an open referral?
            models.Index(fields=["person", "is_current", "status"], name="health_ref_person_cur"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.to_service} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_HEALTH_REFERRAL_STATUSES


class RelapsePlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    SUPERSEDED = "superseded", _("Superseded")


class RelapsePlan(models.Model):
    """One version of a person's relapse prevention plan."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="relapse_plans")
    episode = models.ForeignKey(
        CustodyEpisode, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=16, choices=RelapsePlanStatus.choices, default="draft"
    )
    high_risk_situations = models.TextField(_("high-risk situations and triggers"), blank=True)
    early_warning_signs = models.TextField(_("early warning signs"), blank=True)
    coping_strategies = models.TextField(_("coping strategies"), blank=True)
    # [{"name", "relation", "phone"}]
    supportive_contacts = models.JSONField(_("supportive contacts"), default=list, blank=True)
    release_accommodation = models.TextField(_("where they will stay after release"), blank=True)
    release_contact = models.TextField(_("who to call in the first days"), blank=True)
    appointment_place = models.CharField(
        _("treatment appointment: place"), max_length=200, blank=True
    )
    appointment_date = models.DateField(_("treatment appointment: date"), null=True, blank=True)
    medication_supply_days = models.PositiveSmallIntegerField(
        _("medication supply at release (days)"), null=True, blank=True
    )
    reviewed_on = models.DateField(_("reviewed on"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("relapse prevention plan")
        verbose_name_plural = _("relapse prevention plans")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["person", "version"], name="relapse_plan_version"),
            models.UniqueConstraint(
                fields=["person"], condition=Q(status="draft"), name="relapse_plan_one_draft"
            ),
            models.UniqueConstraint(
                fields=["person"], condition=Q(status="active"), name="relapse_plan_one_active"
            ),
            models.CheckConstraint(
                condition=Q(status__in=RelapsePlanStatus.values), name="relapse_plan_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} v{self.version} {self.status}"

    @property
    def is_draft(self) -> bool:
        return self.status == RelapsePlanStatus.DRAFT

    @property
    def medication_supply_short(self) -> bool:
        """Fewer days of medication than the warning threshold (not recorded: no warning)."""
        return (
            self.medication_supply_days is not None
            and self.medication_supply_days < MEDICATION_SUPPLY_WARNING_DAYS
        )

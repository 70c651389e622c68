"""Drug tests in custody and the monthly random selection lists.

Nothing is deleted or overwritten: a mistaken test is corrected by a new record that
supersedes it (``is_current`` false from then on), and a selection list, once drawn for a
facility and month, is kept with its seed, rules and candidates so the draw can be re-run and
checked. Vocabularies come from ``whatworks.analytics.drugtests`` (docs/drug-testing.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from whatworks.records.models import CustodyEpisode, Facility, Person


class TestReason(models.TextChoices):
    RANDOM = "random", _("Random")
    SCHEDULED = "scheduled", _("Scheduled")
    FOR_CAUSE = "for_cause", _("For cause")
    ADMISSION = "admission", _("Admission")
    PRE_RELEASE = "pre_release", _("Before release")
    PROGRAMME_COMPLIANCE = "programme_compliance", _("Programme compliance")


class SampleType(models.TextChoices):
    URINE = "urine", _("Urine")
    SALIVA = "saliva", _("Saliva (oral fluid)")
    HAIR = "hair", _("Hair")
    BREATH = "breath", _("Breath")
    BLOOD = "blood", _("Blood")


class SubstanceResult(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")
    DILUTE = "dilute", _("Dilute")
    INVALID = "invalid", _("Invalid")
    REFUSED = "refused", _("Refused")
    TAMPERED = "tampered", _("Tampered")


class TestOutcome(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEGATIVE = "negative", _("Negative")
    REFUSED_OR_TAMPERED = "refused_or_tampered", _("Refused or tampered")
    INVALID = "invalid", _("Invalid: test again")


class DrugTest(models.Model):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="drug_tests")
    episode = models.ForeignKey(
        CustodyEpisode, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="+", verbose_name=_("facility")
    )
    test_date = models.DateField(_("test date"))
    reason = models.CharField(_("reason"), max_length=24, choices=TestReason.choices)
    sample = models.CharField(_("sample"), max_length=8, choices=SampleType.choices)
    panel_slug = models.CharField(_("panel"), max_length=64)
    panel_version = models.CharField(_("panel version"), max_length=16)
    # substance id -> result, in panel order; substances not tested are left out.
    results = models.JSONField(_("results"), default=dict)
    outcome = models.CharField(_("outcome"), max_length=24, choices=TestOutcome.choices)
    confirmatory_results = models.JSONField(_("confirmatory results"), default=dict, blank=True)
    lab_reference = models.CharField(_("laboratory reference"), max_length=64, blank=True)
    # Chain of custody.
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("collected by"),
    )
    collected_at = models.DateTimeField(_("collected at"), null=True, blank=True)
    seal_number = models.CharField(_("seal number"), max_length=64, blank=True)
    # A positive asks staff to consider a substance-use referral (never made automatically).
    prompts_referral = models.BooleanField(default=False)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    is_current = models.BooleanField(default=True)
    correction_reason = models.TextField(_("reason for the correction"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    import_key = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("drug test")
        verbose_name_plural = _("drug tests")
        ordering = ["-test_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["seal_number"],
                condition=Q(is_current=True) & ~Q(seal_number=""),
                name="drugtest_seal_unique_current",
            ),
            models.UniqueConstraint(
                fields=["import_key"], condition=~Q(import_key=""), name="drugtest_import_key"
            ),
            models.CheckConstraint(
                condition=Q(reason__in=TestReason.values), name="drugtest_reason_valid"
            ),
            models.CheckConstraint(
                condition=Q(sample__in=SampleType.values), name="drugtest_sample_valid"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=TestOutcome.values), name="drugtest_outcome_valid"
            ),
        ]
        indexes = [
            # A person's tests, and "a current positive in the last 90 days" for the draw.
            models.Index(fields=["person", "is_current", "test_date"], name="drugtest_person"),
            # The positivity dashboard, by facility and month.
            models.Index(fields=["facility", "test_date"], name="drugtest_facility_date"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.test_date} ({self.outcome})"


class SelectionList(models.Model):
    """One facility's random selection for one month, drawn once and kept."""

    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="+", verbose_name=_("facility")
    )
    month = models.CharField(_("month"), max_length=7)  # YYYY-MM
    # month_seed() is a 64-bit unsigned integer: too large for a signed bigint column.
    seed = models.DecimalField(_("seed"), max_digits=20, decimal_places=0)
    rules = models.JSONField(_("rules"), default=dict)
    # The candidates the draw used (key, weights' reasons), so it can be re-run and checked.
    candidates = models.JSONField(default=list)
    # Keys are research IDs (they reveal nothing about the person).
    main = models.JSONField(_("main list"), default=list)
    reserve = models.JSONField(_("reserve list"), default=list)
    # The main list after reserve promotion, the reasons, and each substitution made.
    current_main = models.JSONField(default=list)
    untestable = models.JSONField(default=dict)
    substitutions = models.JSONField(default=list)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    drawn_by_label = models.CharField(max_length=150, blank=True)
    drawn_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("selection list")
        verbose_name_plural = _("selection lists")
        ordering = ["-month", "facility__code"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "month"], name="selection_one_per_month"),
        ]

    def __str__(self) -> str:
        return f"{self.facility_id} {self.month}"

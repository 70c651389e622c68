"""Community providers, referrals to them with their outcomes, and post-release follow-up.

A referral's status history is append-only (``ProviderReferralStatusChange``): every move,
the first one included, is a row saying who, when and why. Follow-up contacts are scheduled
per release (one row per month after release, unique per episode and month); a contact is
*missed* when it is marked so, or when it is still scheduled after its due date plus the
grace days (computed in ``selectors``, never stored, so no job has to run).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from whatworks.concurrency import lock_version_field
from whatworks.records.choices import Pathway
from whatworks.records.models import CustodyEpisode, Person


class ProviderKind(models.TextChoices):
    EMPLOYER = "employer", _("Employer")
    HOUSING = "housing", _("Housing")
    NGO = "ngo", _("Non-governmental organisation")
    HEALTH_SERVICE = "health_service", _("Health service")
    FAITH_GROUP = "faith_group", _("Faith group")
    EDUCATION_TRAINING = "education_training", _("Education and training")
    PUBLIC_AGENCY = "public_agency", _("Public agency")
    OTHER = "other", _("Other")


class CommunityProvider(models.Model):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=24, choices=ProviderKind.choices)
    # Lists of Pathway codes and of region names; validated in the service (a JSON list
    # works the same on SQLite and PostgreSQL, and the directory is filtered in Python).
    pathways = models.JSONField(_("pathways served"), default=list, blank=True)
    coverage_regions = models.JSONField(_("regions covered"), default=list, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    email = models.EmailField(_("email"), blank=True)
    contact_person = models.CharField(_("contact person"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("community provider")
        verbose_name_plural = _("community providers")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ProviderKind.values), name="community_provider_kind_valid"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="community_provider_name_set"),
        ]

    def __str__(self) -> str:
        return self.name

    def pathway_labels(self) -> list[str]:
        labels = dict(Pathway.choices)
        return [str(labels.get(code, code)) for code in self.pathways]


class ReferralStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    STARTED = "started", _("Started")
    COMPLETED = "completed", _("Completed")
    DID_NOT_ATTEND = "did_not_attend", _("Did not attend")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# The state machine: where each status may go next. Statuses with no way out are final.
TRANSITIONS: dict[str, frozenset[str]] = {
    ReferralStatus.PROPOSED: frozenset({ReferralStatus.SENT, ReferralStatus.WITHDRAWN}),
    ReferralStatus.SENT: frozenset(
        {ReferralStatus.ACCEPTED, ReferralStatus.DECLINED, ReferralStatus.WITHDRAWN}
    ),
    ReferralStatus.ACCEPTED: frozenset(
        {ReferralStatus.STARTED, ReferralStatus.DID_NOT_ATTEND, ReferralStatus.WITHDRAWN}
    ),
    ReferralStatus.STARTED: frozenset({ReferralStatus.COMPLETED, ReferralStatus.WITHDRAWN}),
    ReferralStatus.DECLINED: frozenset(),
    ReferralStatus.COMPLETED: frozenset(),
    ReferralStatus.DID_NOT_ATTEND: frozenset(),
    ReferralStatus.WITHDRAWN: frozenset(),
}
FINAL_STATUSES = frozenset(status for status, nexts in TRANSITIONS.items() if not nexts)
OPEN_STATUSES = frozenset(ReferralStatus.values) - FINAL_STATUSES


class OutcomeCode(models.TextChoices):
    ACHIEVED = "achieved", _("Achieved")
    PARTLY_ACHIEVED = "partly_achieved", _("Partly achieved")
    NOT_ACHIEVED = "not_achieved", _("Not achieved")


class ProviderReferral(models.Model):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="provider_referrals")
    # The custody episode the referral belongs to (the latest one when it was made).
    episode = models.ForeignKey(
        CustodyEpisode,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="provider_referrals",
    )
    provider = models.ForeignKey(
        CommunityProvider,
        on_delete=models.PROTECT,
        related_name="referrals",
        verbose_name=_("provider"),
    )
    pathway = models.CharField(_("pathway"), max_length=24, choices=Pathway.choices)
    referred_on = models.DateField(_("referred on"))
    status = models.CharField(
        _("status"), max_length=16, choices=ReferralStatus.choices, default="proposed"
    )
    status_date = models.DateField(_("status since"))
    outcome_code = models.CharField(
        _("outcome"), max_length=16, choices=OutcomeCode.choices, blank=True
    )
    outcome = models.TextField(_("outcome notes"), blank=True)
    outcome_date = models.DateField(_("outcome date"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    lock_version = lock_version_field()

    class Meta:
        verbose_name = _("provider referral")
        verbose_name_plural = _("provider referrals")
        ordering = ["-referred_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ReferralStatus.values),
                name="community_referral_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(pathway__in=Pathway.values), name="community_referral_pathway_valid"
            ),
            models.CheckConstraint(
                condition=Q(outcome_code="") | Q(outcome_code__in=OutcomeCode.values),
                name="community_referral_outcome_valid",
            ),
            # An outcome only on a finished referral, and then with its date.
            models.CheckConstraint(
                condition=Q(outcome_code="")
                | (Q(status__in=sorted(FINAL_STATUSES)) & Q(outcome_date__isnull=False)),
                name="community_referral_outcome_when_final",
            ),
            models.CheckConstraint(
                condition=Q(status_date__gte=models.F("referred_on")),
                name="community_referral_status_after_referral",
            ),
        ]
        indexes = [models.Index(fields=["person", "status"], name="community_referral_person")]

    def __str__(self) -> str:
        return f"{self.person_id} → {self.provider_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def next_statuses(self) -> list[str]:
        return [status for status in ReferralStatus.values if status in TRANSITIONS[self.status]]


class ProviderReferralStatusChange(models.Model):
    """Append-only: who moved a referral, to what, on which date, and why."""

    referral = models.ForeignKey(ProviderReferral, on_delete=models.PROTECT, related_name="changes")
    from_status = models.CharField(
        _("from"), max_length=16, choices=ReferralStatus.choices, blank=True
    )
    to_status = models.CharField(_("to"), max_length=16, choices=ReferralStatus.choices)
    effective_date = models.DateField(_("date"))
    note = models.TextField(_("note"), blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("provider referral status change")
        verbose_name_plural = _("provider referral status changes")
        ordering = ["effective_date", "id"]

    def __str__(self) -> str:
        return f"{self.referral_id}: {self.from_status or '—'} → {self.to_status}"


class FollowUpStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    DONE = "done", _("Done")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", _("Cancelled")


class ContactMode(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    PHONE = "phone", _("Phone")
    HOME_VISIT = "home_visit", _("Home visit")
    VIDEO = "video", _("Video call")
    OTHER = "other", _("Other")


class HousingStatus(models.TextChoices):
    STABLE = "stable", _("Stable")
    TEMPORARY = "temporary", _("Temporary")
    HOMELESS = "homeless", _("Homeless")
    UNKNOWN = "unknown", _("Unknown")


class EmploymentStatus(models.TextChoices):
    EMPLOYED = "employed", _("Employed")
    TRAINING = "training", _("In education or training")
    UNEMPLOYED = "unemployed", _("Unemployed")
    UNABLE_TO_WORK = "unable_to_work", _("Unable to work")
    UNKNOWN = "unknown", _("Unknown")


class SubstanceUse(models.TextChoices):
    NONE = "none", _("None")
    OCCASIONAL = "occasional", _("Occasional")
    PROBLEMATIC = "problematic", _("Problematic")
    UNKNOWN = "unknown", _("Unknown")


class TreatmentContinuity(models.TextChoices):
    CONTINUING = "continuing", _("Continuing")
    STOPPED = "stopped", _("Stopped")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")
    UNKNOWN = "unknown", _("Unknown")


class JusticeContact(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    UNKNOWN = "unknown", _("Unknown")


# What a done contact must say (besides its date and mode).
OUTCOME_FIELDS = (
    "housing_status",
    "employment_status",
    "substance_use",
    "treatment_continuity",
    "justice_contact",
)


class FollowUpContact(models.Model):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="follow_ups")
    episode = models.ForeignKey(
        CustodyEpisode,
        on_delete=models.PROTECT,
        related_name="follow_ups",
        verbose_name=_("release"),
    )
    month = models.PositiveSmallIntegerField(
        _("month after release"), validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    due_date = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=16, choices=FollowUpStatus.choices, default="scheduled"
    )
    contact_date = models.DateField(_("contact date"), null=True, blank=True)
    contact_mode = models.CharField(
        _("contact mode"), max_length=16, choices=ContactMode.choices, blank=True
    )
    housing_status = models.CharField(
        _("housing"), max_length=16, choices=HousingStatus.choices, blank=True
    )
    employment_status = models.CharField(
        _("employment"), max_length=16, choices=EmploymentStatus.choices, blank=True
    )
    substance_use = models.CharField(
        _("substance use"), max_length=16, choices=SubstanceUse.choices, blank=True
    )
    treatment_continuity = models.CharField(
        _("treatment continuity"), max_length=16, choices=TreatmentContinuity.choices, blank=True
    )
    justice_contact = models.CharField(
        _("contact with justice"), max_length=16, choices=JusticeContact.choices, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("follow-up contact")
        verbose_name_plural = _("follow-up contacts")
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["episode", "month"], name="community_followup_month"),
            models.CheckConstraint(
                condition=Q(status__in=FollowUpStatus.values),
                name="community_followup_status_valid",
            ),
            models.CheckConstraint(condition=Q(month__gte=1), name="community_followup_month_pos"),
            # A done contact has its date, its mode and every outcome field.
            models.CheckConstraint(
                condition=~Q(status=FollowUpStatus.DONE)
                | (
                    Q(contact_date__isnull=False)
                    & ~Q(contact_mode="")
                    & ~Q(housing_status="")
                    & ~Q(employment_status="")
                    & ~Q(substance_use="")
                    & ~Q(treatment_continuity="")
                    & ~Q(justice_contact="")
                ),
                name="community_followup_done_complete",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"], name="community_followup_due"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} month {self.month} ({self.status})"

"""Release preparation: the seven pathways, their support needs and tasks, the practical
arrangements made before release, and the handovers to community supervision and the person.

A preparation belongs to one custody episode: it opens a set number of weeks before the
expected release date and is carried into the handover. Nothing is deleted: tasks and
arrangements are cancelled, and each handover keeps the summary exactly as it was sent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from whatworks.community.models import CommunityProvider
from whatworks.concurrency import lock_version_field
from whatworks.records.choices import Pathway
from whatworks.records.models import CustodyEpisode, Person


class PathwayStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    SUPPORT_REQUIRED = "support_required", _("Support required")
    NOT_REQUIRED = "not_required", _("Not required")
    DECLINED = "declined", _("Declined by the person")
    DONE = "done", _("Done")


# A pathway in one of these states needs nothing more before release.
RESOLVED_PATHWAY_STATUSES = frozenset(
    {PathwayStatus.NOT_REQUIRED, PathwayStatus.DECLINED, PathwayStatus.DONE}
)


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class ArrangementKind(models.TextChoices):
    ID_DOCUMENT = "id_document", _("Identity document")
    BANK_ACCOUNT = "bank_account", _("Bank account")
    ACCOMMODATION = "accommodation", _("Accommodation")
    JOB_OFFER = "job_offer", _("Job offer")
    TRAINING_OFFER = "training_offer", _("Training or education place")
    BENEFIT = "benefit", _("Benefit or allowance")
    HEALTH_APPOINTMENT = "health_appointment", _("Health appointment")
    MEDICATION = "medication", _("Medication on release")


class ArrangementStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    APPLIED = "applied", _("Applied for")
    CONFIRMED = "confirmed", _("Confirmed")
    REFUSED = "refused", _("Refused")
    CANCELLED = "cancelled", _("Cancelled")


class IdDocumentType(models.TextChoices):
    NATIONAL_ID_CARD = "national_id_card", _("National identity card")
    BIRTH_CERTIFICATE = "birth_certificate", _("Birth certificate")
    PASSPORT = "passport", _("Passport")
    TAX_NUMBER = "tax_number", _("Tax or social security number")
    VOTER_CARD = "voter_card", _("Voter registration")
    WORK_CARD = "work_card", _("Work card")
    OTHER = "other", _("Other document")


class AccommodationType(models.TextChoices):
    FAMILY = "family", _("With family or partner")
    OWN_TENANCY = "own_tenancy", _("Own or rented home")
    SUPPORTED = "supported", _("Supported housing")
    HALFWAY_HOUSE = "halfway_house", _("Halfway house")
    SHELTER = "shelter", _("Shelter or hostel")
    OTHER = "other", _("Other")


# Shelters are arranged accommodation but not settled accommodation: the readiness list
# still counts a person released to a shelter as having an accommodation need.
SETTLED_ACCOMMODATION = frozenset(
    {
        AccommodationType.FAMILY,
        AccommodationType.OWN_TENANCY,
        AccommodationType.SUPPORTED,
        AccommodationType.HALFWAY_HOUSE,
    }
)

# The pathway each kind of arrangement serves.
ARRANGEMENT_PATHWAY = {
    ArrangementKind.ID_DOCUMENT: Pathway.FINANCE_ID,
    ArrangementKind.BANK_ACCOUNT: Pathway.FINANCE_ID,
    ArrangementKind.BENEFIT: Pathway.FINANCE_ID,
    ArrangementKind.ACCOMMODATION: Pathway.ACCOMMODATION,
    ArrangementKind.JOB_OFFER: Pathway.EDUCATION_WORK,
    ArrangementKind.TRAINING_OFFER: Pathway.EDUCATION_WORK,
    ArrangementKind.HEALTH_APPOINTMENT: Pathway.HEALTH,
    ArrangementKind.MEDICATION: Pathway.HEALTH,
}

# Which detail-type vocabulary applies to which kind (others take free text).
ARRANGEMENT_TYPES = {
    ArrangementKind.ID_DOCUMENT: IdDocumentType,
    ArrangementKind.ACCOMMODATION: AccommodationType,
}


class PreparationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    HANDED_OVER = "handed_over", _("Handed over")


class ReleasePreparation(models.Model):
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="release_preparations"
    )
    episode = models.OneToOneField(
        CustodyEpisode, on_delete=models.PROTECT, related_name="release_preparation"
    )
    started_on = models.DateField(_("started on"))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=PreparationStatus.choices,
        default=PreparationStatus.OPEN,
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("release preparation")
        verbose_name_plural = _("release preparations")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=PreparationStatus.values), name="prep_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} / {self.episode_id}"


class PathwayAssessment(models.Model):
    """Where one pathway stands for one release, with the support needs chosen from the
    catalogue (``support_needs.yaml`` or ``WHATWORKS_SUPPORT_NEEDS_FILE``)."""

    preparation = models.ForeignKey(
        ReleasePreparation, on_delete=models.CASCADE, related_name="pathways"
    )
    pathway = models.CharField(_("pathway"), max_length=20, choices=Pathway.choices)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=PathwayStatus.choices,
        default=PathwayStatus.NOT_STARTED,
    )
    needs = models.JSONField(_("support needs"), default=list, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    lock_version = lock_version_field()

    class Meta:
        verbose_name = _("pathway assessment")
        verbose_name_plural = _("pathway assessments")
        constraints = [
            models.UniqueConstraint(fields=["preparation", "pathway"], name="pathway_once"),
            models.CheckConstraint(condition=Q(pathway__in=Pathway.values), name="pathway_valid"),
            models.CheckConstraint(
                condition=Q(status__in=PathwayStatus.values), name="pathway_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pathway}: {self.status}"


class PathwayTask(models.Model):
    preparation = models.ForeignKey(
        ReleasePreparation, on_delete=models.CASCADE, related_name="tasks"
    )
    pathway = models.CharField(_("pathway"), max_length=20, choices=Pathway.choices)
    description = models.CharField(_("task"), max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="release_tasks",
        verbose_name=_("owner"),
    )
    due_date = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("pathway task")
        verbose_name_plural = _("pathway tasks")
        ordering = ["due_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(pathway__in=Pathway.values), name="task_pathway"),
            models.CheckConstraint(condition=Q(status__in=TaskStatus.values), name="task_status"),
            models.CheckConstraint(
                condition=Q(status=TaskStatus.DONE, completed_on__isnull=False)
                | (~Q(status=TaskStatus.DONE) & Q(completed_on__isnull=True)),
                name="task_completed_iff_done",
            ),
        ]

    def __str__(self) -> str:
        return self.description


class Arrangement(models.Model):
    """A practical arrangement for release: an ID application, a bank account, a place to
    live, a job or training offer, a benefit, a health appointment or medication."""

    preparation = models.ForeignKey(
        ReleasePreparation, on_delete=models.CASCADE, related_name="arrangements"
    )
    kind = models.CharField(_("arrangement"), max_length=24, choices=ArrangementKind.choices)
    detail_type = models.CharField(_("type"), max_length=40, blank=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ArrangementStatus.choices,
        default=ArrangementStatus.PLANNED,
    )
    description = models.CharField(_("details"), max_length=300, blank=True)
    provider = models.ForeignKey(
        CommunityProvider,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="arrangements",
        verbose_name=_("provider from the directory"),
    )
    provider_name = models.CharField(_("provider or organisation"), max_length=200, blank=True)
    applied_on = models.DateField(_("applied on"), null=True, blank=True)
    expected_on = models.DateField(_("expected on"), null=True, blank=True)
    confirmed_on = models.DateField(_("confirmed on"), null=True, blank=True)
    starts_on = models.DateField(_("starts or takes place on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    lock_version = lock_version_field()

    class Meta:
        verbose_name = _("arrangement")
        verbose_name_plural = _("arrangements")
        ordering = ["kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ArrangementKind.values), name="arrangement_kind"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ArrangementStatus.values), name="arrangement_status"
            ),
            models.CheckConstraint(
                condition=~Q(status=ArrangementStatus.CONFIRMED) | Q(confirmed_on__isnull=False),
                name="arrangement_confirmed_dated",
            ),
            models.CheckConstraint(
                condition=Q(applied_on__isnull=True)
                | Q(confirmed_on__isnull=True)
                | Q(confirmed_on__gte=F("applied_on")),
                name="arrangement_confirmed_after_applied",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.status}"

    @property
    def pathway(self) -> str:
        return ARRANGEMENT_PATHWAY[self.kind]

    @property
    def provider_label(self) -> str:
        """The directory provider's name, else the name typed in."""
        return self.provider.name if self.provider_id else self.provider_name

    @property
    def detail_type_label(self) -> str:
        choices = ARRANGEMENT_TYPES.get(self.kind)
        if choices is not None and self.detail_type in choices.values:
            return str(choices(self.detail_type).label)
        return self.detail_type


class HandoverRecipient(models.TextChoices):
    PROBATION = "probation", _("Community supervision (probation)")
    PERSON = "person", _("The person")


class Handover(models.Model):
    """One release summary as handed over: the content is kept as it was sent."""

    preparation = models.ForeignKey(
        ReleasePreparation, on_delete=models.PROTECT, related_name="handovers"
    )
    recipient = models.CharField(_("recipient"), max_length=12, choices=HandoverRecipient.choices)
    recipient_name = models.CharField(_("received by"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=10)
    handed_over_on = models.DateField(_("handed over on"))
    summary = models.JSONField(_("summary"))
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        ordering = ["-handed_over_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(recipient__in=HandoverRecipient.values), name="handover_recipient"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} {self.handed_over_on}"

"""Treatment: the programme catalogue, intervention plans, referrals, groups, sessions,
attendance and the facts earned remission is computed from.

History is kept, never overwritten: a plan is edited as a new version, a referral keeps
every status change with who, when, why and the days spent in the previous status, and a
correction to attendance is a new row that supersedes the old one. Remission itself is not
stored: it is recomputed from attendance, completions and faults by
``whatworks.analytics.treatment.remission`` so a rule change or a correction can never leave
a stale balance behind.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from whatworks.assessments.models import Assessment
from whatworks.concurrency import lock_version_field
from whatworks.records.models import CustodyEpisode, Facility, Person


class ProgrammeType(models.TextChoices):
    EDUCATION_LITERACY = "education_literacy", _("Education levelling: literacy")
    EDUCATION_PRIMARY = "education_primary", _("Education levelling: primary")
    EDUCATION_SECONDARY = "education_secondary", _("Education levelling: secondary")
    VOCATIONAL_TRADE = "vocational_trade", _("Vocational trade")
    PRISON_WORK = "prison_work", _("Prison work")
    COGNITIVE_BEHAVIOURAL = "cognitive_behavioural", _("Cognitive-behavioural")
    SUBSTANCE_USE = "substance_use", _("Substance-use treatment")
    VIOLENCE_PREVENTION = "violence_prevention", _("Violence prevention")
    FAMILY_PARENTING = "family_parenting", _("Family and parenting")
    LIFE_SKILLS = "life_skills", _("Life skills")
    FAITH = "faith", _("Faith")
    SPORT_RECREATION = "sport_recreation", _("Sport and recreation")
    CULTURE = "culture", _("Culture")


class EvidenceRating(models.TextChoices):
    EFFECTIVE = "effective", _("Effective")
    PROMISING = "promising", _("Promising")
    NO_EFFECT = "no_effect", _("No effect")
    NEGATIVE_EFFECT = "negative_effect", _("Negative effect")
    INSUFFICIENT_EVIDENCE = "insufficient_evidence", _("Insufficient evidence")
    NOT_RATED = "not_rated", _("Not rated")


class ProgrammeSetting(models.TextChoices):
    FACILITY = "facility", _("In a facility")
    COMMUNITY = "community", _("In the community")


class RemissionKind(models.TextChoices):
    STUDY = "study", _("Study")
    WORK = "work", _("Work")
    NONE = "none", _("Does not earn remission")


class Programme(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    programme_type = models.CharField(_("type"), max_length=32, choices=ProgrammeType.choices)
    # Central Eight domain ids of the RNR screener (never criminal_history: it cannot change).
    target_needs = models.JSONField(_("criminogenic needs targeted"), default=list, blank=True)
    eligible_sexes = models.JSONField(_("eligible sexes"), default=list, blank=True)
    min_age = models.PositiveSmallIntegerField(_("minimum age"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("maximum age"), null=True, blank=True)
    eligible_risk_bands = models.JSONField(_("eligible risk bands"), default=list, blank=True)
    min_literacy = models.CharField(_("minimum literacy"), max_length=16, blank=True)
    min_education = models.CharField(_("minimum education"), max_length=24, blank=True)
    max_education = models.CharField(_("maximum education"), max_length=24, blank=True)
    prerequisites = models.ManyToManyField(
        "self", symmetrical=False, blank=True, verbose_name=_("prerequisites")
    )
    dosage_hours = models.DecimalField(
        _("intended hours"), max_digits=7, decimal_places=2, validators=[MinValueValidator(0)]
    )
    dosage_sessions = models.PositiveIntegerField(_("intended sessions"))
    session_hours = models.DecimalField(
        _("hours per session"), max_digits=5, decimal_places=2, validators=[MinValueValidator(0)]
    )
    group_capacity = models.PositiveIntegerField(
        _("group capacity"), validators=[MinValueValidator(1)]
    )
    setting = models.CharField(
        _("delivered"), max_length=16, choices=ProgrammeSetting.choices, default="facility"
    )
    facilities = models.ManyToManyField(
        Facility, blank=True, related_name="programmes", verbose_name=_("offered at")
    )
    provider = models.CharField(_("provider"), max_length=200, blank=True)
    languages = models.JSONField(_("languages of delivery"), default=list, blank=True)
    adaptations = models.JSONField(_("adaptations offered"), default=list, blank=True)
    evidence_rating = models.CharField(
        _("evidence rating"),
        max_length=24,
        choices=EvidenceRating.choices,
        default=EvidenceRating.NOT_RATED,
    )
    evidence_source = models.TextField(_("source of the evidence rating"), blank=True)
    remission_kind = models.CharField(
        _("remission"), max_length=8, choices=RemissionKind.choices, default=RemissionKind.NONE
    )
    completes_school_level = models.BooleanField(
        _("completing it completes a school level"), default=False
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(programme_type__in=ProgrammeType.values), name="programme_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(evidence_rating__in=EvidenceRating.values),
                name="programme_evidence_valid",
            ),
            models.CheckConstraint(
                condition=Q(min_age__isnull=True)
                | Q(max_age__isnull=True)
                | Q(min_age__lte=models.F("max_age")),
                name="programme_age_range",
            ),
            models.CheckConstraint(
                condition=Q(group_capacity__gte=1), name="programme_capacity_pos"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class FidelityReview(models.Model):
    """One scored fidelity checklist for a programme (CPC-style; see docs/treatment.md)."""

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="fidelity_reviews"
    )
    facility = models.ForeignKey(
        Facility, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_on = models.DateField(_("reviewed on"))
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    checklist = models.CharField(_("checklist"), max_length=64)
    checklist_version = models.CharField(_("checklist version"), max_length=16)
    answers = models.JSONField(_("answers"), default=dict)
    percent = models.FloatField(_("score (%)"))
    band = models.CharField(_("band"), max_length=16)
    domain_percents = models.JSONField(default=dict)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("fidelity review")
        verbose_name_plural = _("fidelity reviews")
        ordering = ["-reviewed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.programme_id} {self.reviewed_on} {self.percent:.0f}%"


# --- intervention plans -----------------------------------------------------------------


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    SUPERSEDED = "superseded", _("Superseded")


class Agreement(models.TextChoices):
    AGREED = "agreed", _("Agreed")
    DID_NOT_AGREE = "did_not_agree", _("Did not agree")
    COULD_NOT_ANSWER = "could_not_answer", _("Could not answer")


class InterventionPlan(models.Model):
    """One version of a person's plan. Approved versions are never edited: a revision is a
    new draft version, and approving it supersedes the previous one."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="plans")
    episode = models.ForeignKey(
        CustodyEpisode, null=True, blank=True, on_delete=models.PROTECT, related_name="plans"
    )
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=16, choices=PlanStatus.choices, default=PlanStatus.DRAFT
    )
    assessment = models.ForeignKey(
        Assessment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="plans",
        verbose_name=_("based on assessment"),
    )
    risk_band = models.CharField(_("risk band"), max_length=16, blank=True)
    target_hours = models.DecimalField(_("target hours"), max_digits=7, decimal_places=2)
    # The system's proposal as it was made (reason codes and parameters, not sentences), so
    # the explanation can be shown in any language and audited later.
    proposal = models.JSONField(_("proposal"), default=dict, blank=True)
    agreement = models.CharField(
        _("person's agreement"), max_length=20, choices=Agreement.choices, blank=True
    )
    agreement_notes = models.TextField(_("notes on agreement"), blank=True)
    next_review_date = models.DateField(_("next review"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    lock_version = lock_version_field()

    class Meta:
        verbose_name = _("intervention plan")
        verbose_name_plural = _("intervention plans")
        ordering = ["person", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["person", "version"], name="plan_person_version"),
            models.UniqueConstraint(
                fields=["person"], condition=Q(status="approved"), name="plan_one_approved"
            ),
            models.UniqueConstraint(
                fields=["person"], condition=Q(status="draft"), name="plan_one_draft"
            ),
            models.CheckConstraint(
                condition=Q(status="draft")
                | (~Q(agreement="") & Q(approved_by__isnull=False) & Q(approved_at__isnull=False)),
                name="plan_approved_has_agreement",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} v{self.version} ({self.status})"

    @property
    def is_draft(self) -> bool:
        return self.status == PlanStatus.DRAFT


class GoalStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    ACHIEVED = "achieved", _("Achieved")
    NOT_ACHIEVED = "not_achieved", _("Not achieved")
    DROPPED = "dropped", _("Dropped")


class PlanGoal(models.Model):
    plan = models.ForeignKey(InterventionPlan, on_delete=models.CASCADE, related_name="goals")
    need = models.CharField(_("need area"), max_length=32, blank=True)
    description = models.TextField(_("goal"))
    programme = models.ForeignKey(
        Programme,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("programme"),
    )
    planned_hours = models.DecimalField(
        _("planned hours"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    target_date = models.DateField(_("target date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=GoalStatus.choices, default=GoalStatus.NOT_STARTED
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("goal")
        verbose_name_plural = _("goals")

    def __str__(self) -> str:
        return self.description[:60]


class StepOwner(models.TextChoices):
    PERSON = "person", _("The person")
    STAFF = "staff", _("Staff")
    PROVIDER = "provider", _("Provider")


class StepStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class PlanStep(models.Model):
    goal = models.ForeignKey(PlanGoal, on_delete=models.CASCADE, related_name="steps")
    description = models.TextField(_("step"))
    owner = models.CharField(_("owner"), max_length=16, choices=StepOwner.choices)
    owner_name = models.CharField(_("owner's name"), max_length=200, blank=True)
    target_date = models.DateField(_("target date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=StepStatus.choices, default=StepStatus.PENDING
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("step")
        verbose_name_plural = _("steps")

    def __str__(self) -> str:
        return self.description[:60]


class PlanReview(models.Model):
    plan = models.ForeignKey(InterventionPlan, on_delete=models.PROTECT, related_name="reviews")
    reviewed_on = models.DateField(_("reviewed on"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    notes = models.TextField(_("notes"))
    next_review_date = models.DateField(_("next review"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-reviewed_on", "-id"]
        verbose_name = _("plan review")
        verbose_name_plural = _("plan reviews")

    def __str__(self) -> str:
        return f"{self.plan_id} {self.reviewed_on}"


# --- referrals, groups, sessions, attendance ---------------------------------------------


class ReferralStatus(models.TextChoices):
    REFERRED = "referred", _("Referred")
    ASSESSED_SUITABLE = "assessed_suitable", _("Assessed suitable")
    SUITABLE_NOT_READY = "suitable_not_ready", _("Suitable but not ready")
    NOT_SUITABLE = "not_suitable", _("Not suitable")
    NOT_ELIGIBLE = "not_eligible", _("Not eligible")
    WAITLISTED = "waitlisted", _("Waitlisted")
    ALLOCATED = "allocated", _("Allocated")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    NOT_COMPLETED = "not_completed", _("Not completed")


class EndReason(models.TextChoices):
    WITHDRAWN_SELF = "withdrawn_self", _("Withdrawn by the person")
    REMOVED_STAFF = "removed_staff", _("Removed by staff")
    TRANSFERRED = "transferred", _("Transferred")
    RELEASED = "released", _("Released")
    HEALTH = "health", _("Health")
    SECURITY = "security", _("Security")
    OTHER = "other", _("Other")


class Referral(models.Model):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="referrals")
    episode = models.ForeignKey(
        CustodyEpisode, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="referrals")
    # Where the programme will be delivered; null for community delivery.
    facility = models.ForeignKey(
        Facility, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    plan = models.ForeignKey(
        InterventionPlan, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    status = models.CharField(
        _("status"), max_length=24, choices=ReferralStatus.choices, default="referred"
    )
    status_date = models.DateField(_("status since"))
    referral_date = models.DateField(_("referral date"))
    waitlisted_on = models.DateField(_("waitlisted on"), null=True, blank=True)
    group = models.ForeignKey(
        "ProgrammeGroup",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals",
        verbose_name=_("group"),
    )
    allocated_on = models.DateField(_("allocated on"), null=True, blank=True)
    started_on = models.DateField(_("started on"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    end_reason = models.CharField(
        _("reason not completed"), max_length=16, choices=EndReason.choices, blank=True
    )
    # Required when referring against the plan's recommendation or an eligibility rule.
    override_reason = models.TextField(_("reason for referring against the rules"), blank=True)
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    import_key = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    lock_version = lock_version_field()

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-referral_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ReferralStatus.values), name="referral_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="not_completed") | ~Q(end_reason=""),
                name="referral_not_completed_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["allocated", "in_progress"]) | Q(group__isnull=False),
                name="referral_allocated_has_group",
            ),
            models.UniqueConstraint(
                fields=["import_key"], condition=~Q(import_key=""), name="referral_import_key"
            ),
        ]
        indexes = [
            models.Index(fields=["programme", "facility", "status"], name="referral_waitlist"),
            models.Index(fields=["person", "status"], name="referral_person"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} → {self.programme_id} ({self.status})"


class ReferralStatusChange(models.Model):
    """Append-only: who moved a referral, when, why, and how long it sat in the old status."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="changes")
    from_status = models.CharField(
        _("from"), max_length=24, choices=ReferralStatus.choices, blank=True
    )
    to_status = models.CharField(_("to"), max_length=24, choices=ReferralStatus.choices)
    effective_date = models.DateField(_("date"))
    days_in_previous = models.PositiveIntegerField(_("days in previous status"), default=0)
    reason = models.TextField(_("reason"), blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["effective_date", "id"]
        verbose_name = _("referral status change")
        verbose_name_plural = _("referral status changes")

    def __str__(self) -> str:
        return f"{self.referral_id}: {self.from_status or '—'} → {self.to_status}"


class GroupStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    RUNNING = "running", _("Running")
    FINISHED = "finished", _("Finished")
    CANCELLED = "cancelled", _("Cancelled")


class ProgrammeGroup(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="groups")
    facility = models.ForeignKey(
        Facility, null=True, blank=True, on_delete=models.PROTECT, related_name="groups"
    )
    name = models.CharField(_("name"), max_length=200)
    capacity = models.PositiveIntegerField(_("capacity"), validators=[MinValueValidator(1)])
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    schedule_note = models.CharField(_("schedule"), max_length=200, blank=True)
    facilitators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("facilitators")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=GroupStatus.choices, default=GroupStatus.PLANNED
    )
    import_key = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["-start_date", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="group_capacity_pos"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="group_dates_ordered",
            ),
            models.UniqueConstraint(
                fields=["import_key"], condition=~Q(import_key=""), name="group_import_key"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class GroupSession(models.Model):
    group = models.ForeignKey(ProgrammeGroup, on_delete=models.PROTECT, related_name="sessions")
    session_date = models.DateField(_("date"))
    start_time = models.TimeField(_("start time"))
    hours = models.DecimalField(
        _("hours"), max_digits=5, decimal_places=2, validators=[MinValueValidator(0)]
    )
    room = models.CharField(_("room"), max_length=100, blank=True)
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("facilitator"),
    )
    cancelled = models.BooleanField(_("cancelled"), default=False)
    import_key = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["session_date", "start_time"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "session_date", "start_time"], name="session_group_slot"
            ),
            models.UniqueConstraint(
                fields=["import_key"], condition=~Q(import_key=""), name="session_import_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group} {self.session_date} {self.start_time:%H:%M}"


class AttendanceStatus(models.TextChoices):
    ATTENDED = "attended", _("Attended")
    LATE = "late", _("Late")
    EXCUSED = "excused", _("Excused absence")
    UNEXCUSED = "unexcused", _("Unexcused absence")


class ExcuseReason(models.TextChoices):
    HEALTH = "health", _("Health")
    COURT = "court", _("Court")
    LOCKDOWN = "lockdown", _("Lockdown")
    TRANSFER = "transfer", _("Transfer")
    VISIT = "visit", _("Visit")
    OTHER = "other", _("Other")


class Attendance(models.Model):
    """One person's attendance at one session. A correction is a new row that supersedes
    this one (``is_current`` false from then on), so what was first recorded stays visible."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="attendance")
    session = models.ForeignKey(GroupSession, on_delete=models.PROTECT, related_name="attendance")
    status = models.CharField(_("attendance"), max_length=16, choices=AttendanceStatus.choices)
    excuse_reason = models.CharField(
        _("reason for absence"), max_length=16, choices=ExcuseReason.choices, blank=True
    )
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=2)
    note = models.TextField(_("note"), blank=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    is_current = models.BooleanField(default=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["session__session_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "session"],
                condition=Q(is_current=True),
                name="attendance_one_current",
            ),
            models.CheckConstraint(
                condition=Q(status__in=AttendanceStatus.values), name="attendance_status_valid"
            ),
            models.CheckConstraint(
                condition=(Q(status="excused") & ~Q(excuse_reason=""))
                | (~Q(status="excused") & Q(excuse_reason="")),
                name="attendance_excuse_reason",
            ),
            models.CheckConstraint(condition=Q(hours__gte=0), name="attendance_hours_nonneg"),
        ]
        indexes = [models.Index(fields=["referral", "is_current"], name="attendance_referral")]

    def __str__(self) -> str:
        return f"{self.referral_id} @ {self.session_id}: {self.status}"


# --- earned remission -------------------------------------------------------------------


class DisciplinaryFault(models.Model):
    """A serious disciplinary fault and the judge's decision on remitted time (LEP art. 127).

    ``revoked_fraction`` is the share of remitted time the judge revoked ("1/3", "1/6"), or
    empty while no decision is recorded."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="faults")
    episode = models.ForeignKey(
        CustodyEpisode, on_delete=models.PROTECT, related_name="faults", null=True, blank=True
    )
    fault_date = models.DateField(_("date of the fault"))
    description = models.TextField(_("description"))
    revoked_fraction = models.CharField(_("share of remitted time revoked"), max_length=8)
    decision_reference = models.CharField(_("decision reference"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    import_key = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("disciplinary fault")
        verbose_name_plural = _("disciplinary faults")
        ordering = ["-fault_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["import_key"], condition=~Q(import_key=""), name="fault_import_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.fault_date}"

"""Core prison records: facilities, persons, custody episodes with movements, outcome events.

Invariants live twice: in the services (as field-level messages for users) and here as
database constraints (so no code path, import or shell session can break them).
"""

from __future__ import annotations

import datetime
import secrets

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from whatworks.records.choices import (
    AdmissionType,
    EducationLevel,
    FacilityType,
    Gender,
    LegalStatus,
    Literacy,
    MovementKind,
    OffenceCategory,
    OutcomeEventType,
    OutcomeSource,
    PopulationSex,
    ReleaseType,
    SecurityLevel,
    Sex,
)

EARLIEST_DATE = datetime.date(1900, 1, 1)

facility_code_validator = RegexValidator(
    r"^[A-Z0-9][A-Z0-9-]{1,31}$",
    _("Use 2–32 capital letters, digits and hyphens, for example CL-RM-CP01."),
)
country_code_validator = RegexValidator(
    r"^[A-Z]{2}$", _("Use a two-letter ISO 3166 country code, for example CL.")
)


class Facility(models.Model):
    code = models.CharField(
        _("code"), max_length=32, unique=True, validators=[facility_code_validator]
    )
    name = models.CharField(_("name"), max_length=200)
    region = models.CharField(_("region"), max_length=100)
    facility_type = models.CharField(_("type"), max_length=20, choices=FacilityType.choices)
    security_level = models.CharField(
        _("security level"), max_length=20, choices=SecurityLevel.choices
    )
    capacity = models.PositiveIntegerField(_("capacity"), validators=[MinValueValidator(1)])
    population_sex = models.CharField(
        _("population sex"), max_length=10, choices=PopulationSex.choices
    )

    class Meta:
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="facility_capacity_pos"),
            models.CheckConstraint(
                condition=Q(facility_type__in=FacilityType.values), name="facility_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


def new_research_id() -> str:
    """A random pseudonym: it carries nothing derived from the person, so it reveals nothing."""
    return "R" + secrets.token_hex(8).upper()


class Person(models.Model):
    prison_number = models.CharField(_("prison number"), max_length=32, unique=True)
    national_id = models.CharField(_("national ID"), max_length=32, blank=True)
    first_names = models.CharField(_("first names"), max_length=150)
    last_names = models.CharField(_("last names"), max_length=150)
    date_of_birth = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=16, choices=Sex.choices)
    gender = models.CharField(
        _("gender"), max_length=16, choices=Gender.choices, default=Gender.NOT_RECORDED
    )
    nationality = models.CharField(
        _("nationality"), max_length=2, validators=[country_code_validator]
    )
    languages = models.JSONField(
        _("languages"), default=list, blank=True, help_text=_("ISO 639 codes, main first.")
    )
    literacy = models.CharField(
        _("literacy"), max_length=16, choices=Literacy.choices, default=Literacy.NOT_RECORDED
    )
    education_level = models.CharField(
        _("education"),
        max_length=24,
        choices=EducationLevel.choices,
        default=EducationLevel.NOT_RECORDED,
    )
    support_needs = models.JSONField(_("disability or learning needs"), default=list, blank=True)
    support_needs_notes = models.TextField(_("notes on needs"), blank=True)
    research_id = models.CharField(
        _("research ID"), max_length=20, unique=True, default=new_research_id, editable=False
    )
    # The facility responsible for the person: where they are held, or where their last
    # episode ended. Maintained only by the custody services; every access check joins it.
    current_facility = models.ForeignKey(
        Facility,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="persons",
        verbose_name=_("facility"),
    )
    # A tombstone: set when this record was merged into another (records/merge.py); its
    # rows now belong to that person and it no longer appears anywhere.
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="merged_duplicates",
        verbose_name=_("merged into"),
        db_index=False,  # the partial index person_merged_into below
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["last_names", "first_names", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["national_id"],
                condition=~Q(national_id=""),
                name="person_national_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(date_of_birth__gte=EARLIEST_DATE), name="person_dob_plausible"
            ),
            models.CheckConstraint(condition=Q(sex__in=Sex.values), name="person_sex_valid"),
        ]
        indexes = [
            # The person list (web and API) pages through persons in `ordering`: with the
            # whole ordering in the index, PostgreSQL reads one page off the index instead of
            # sorting every person in scope (docs/load.md). One index for the administrator's
            # list over all facilities, one for staff of given facilities.
            models.Index(fields=["last_names", "first_names", "id"], name="person_name_order"),
            models.Index(
                fields=["current_facility", "last_names", "first_names", "id"],
                name="person_fac_name_order",
            ),
            # Tombstones are few: index only them. An index that also held the live persons
            # (merged_into IS NULL, nearly every row) would tempt PostgreSQL to fetch every
            # person through it and filter, instead of using the search and ordering indexes.
            models.Index(
                fields=["merged_into"],
                condition=models.Q(merged_into__isnull=False),
                name="person_merged_into",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.prison_number})"

    @property
    def full_name(self) -> str:
        return f"{self.first_names} {self.last_names}"


class CustodyEpisode(models.Model):
    """One continuous period in custody, from admission to release."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="custody_episodes")
    admission_facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="+", verbose_name=_("admitted to")
    )
    # Where the person is now, or was when released; history is in the movements.
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="episodes", verbose_name=_("facility")
    )
    admission_date = models.DateField(_("admission date"))
    admission_type = models.CharField(
        _("admission type"), max_length=16, choices=AdmissionType.choices
    )
    legal_status = models.CharField(_("legal status"), max_length=16, choices=LegalStatus.choices)
    main_offence_category = models.CharField(
        _("main offence"), max_length=32, choices=OffenceCategory.choices
    )
    sentence_date = models.DateField(_("sentence date"), null=True, blank=True)
    sentence_length_days = models.PositiveIntegerField(
        _("sentence length (days)"), null=True, blank=True
    )
    expected_release_date = models.DateField(_("expected release date"), null=True, blank=True)
    release_date = models.DateField(_("release date"), null=True, blank=True)
    release_type = models.CharField(
        _("release type"), max_length=20, choices=ReleaseType.choices, blank=True
    )
    # The key of the row this episode came from in an import, so re-running it is safe.
    source_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("custody episode")
        verbose_name_plural = _("custody episodes")
        ordering = ["-admission_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(release_date__isnull=True) | Q(release_date__gte=F("admission_date")),
                name="episode_release_after_admission",
            ),
            models.CheckConstraint(
                condition=(Q(release_date__isnull=True) & Q(release_type=""))
                | (Q(release_date__isnull=False) & ~Q(release_type="")),
                name="episode_release_type_iff_released",
            ),
            models.CheckConstraint(
                condition=Q(expected_release_date__isnull=True)
                | Q(expected_release_date__gte=F("admission_date")),
                name="episode_expected_release_after_admission",
            ),
            models.CheckConstraint(
                # Someone transferred in from another jurisdiction was sentenced there first.
                condition=Q(sentence_date__isnull=True)
                | Q(sentence_date__gte=F("admission_date"))
                | Q(admission_type=AdmissionType.TRANSFER_IN),
                name="episode_sentence_after_admission",
            ),
            models.CheckConstraint(
                condition=Q(sentence_length_days__isnull=True) | Q(sentence_length_days__gte=1),
                name="episode_sentence_length_positive",
            ),
            models.CheckConstraint(
                condition=Q(admission_date__gte=EARLIEST_DATE), name="episode_admission_plausible"
            ),
            # A person is in at most one open episode at a time.
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(release_date__isnull=True),
                name="episode_one_open_per_person",
            ),
        ]
        indexes = [
            # Dashboard: releases due soon, by facility.
            models.Index(fields=["facility", "expected_release_date"], name="episode_fac_expected"),
            # Dashboard: admissions and releases per month.
            models.Index(fields=["admission_date"], name="episode_admission"),
            models.Index(fields=["release_date"], name="episode_release"),
        ]

    def __str__(self) -> str:
        return f"{self.person.prison_number} {self.admission_date}"

    @property
    def is_open(self) -> bool:
        return self.release_date is None


class CustodyMovement(models.Model):
    """Append-only history of an episode: its admission, each transfer and its release."""

    episode = models.ForeignKey(CustodyEpisode, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(_("movement"), max_length=16, choices=MovementKind.choices)
    movement_date = models.DateField(_("date"))
    from_facility = models.ForeignKey(
        Facility,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("from"),
    )
    to_facility = models.ForeignKey(
        Facility,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("to"),
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("custody movement")
        verbose_name_plural = _("custody movements")
        ordering = ["movement_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind=MovementKind.ADMISSION)
                    & Q(from_facility__isnull=True)
                    & Q(to_facility__isnull=False)
                )
                | (
                    Q(kind=MovementKind.TRANSFER)
                    & Q(from_facility__isnull=False)
                    & Q(to_facility__isnull=False)
                    & ~Q(from_facility=F("to_facility"))
                )
                | (
                    Q(kind=MovementKind.RELEASE)
                    & Q(from_facility__isnull=False)
                    & Q(to_facility__isnull=True)
                ),
                name="movement_facilities_match_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.movement_date}"


class OutcomeEvent(models.Model):
    """A contact with the justice system after release, as reported by its source."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="outcome_events")
    event_type = models.CharField(_("event"), max_length=24, choices=OutcomeEventType.choices)
    event_date = models.DateField(_("event date"))
    offence_date = models.DateField(_("offence date"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=OutcomeSource.choices)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    source_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("outcome event")
        verbose_name_plural = _("outcome events")
        ordering = ["-event_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(offence_date__isnull=True) | Q(offence_date__lte=F("event_date")),
                name="outcome_offence_not_after_event",
            ),
            models.CheckConstraint(
                condition=Q(event_type__in=OutcomeEventType.values), name="outcome_type_valid"
            ),
        ]
        indexes = [
            # Recidivism measurement scans events by person in date order.
            models.Index(fields=["person", "event_date"], name="outcome_person_date"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_date}"

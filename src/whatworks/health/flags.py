"""The health flags of a person, derived from diagnoses and assessments, never stored.

- Substance-use need: an active substance use disorder diagnosis, or the latest AUDIT in
  zone III or IV, or the substance-abuse need of the latest RNR screener, or a positive drug
  test in the last 90 days (a positive result feeds responsivity and the relapse plan).
- Mental-health need: an active mental disorder diagnosis, or the latest K6 at 13 or more
  (serious psychological distress).
- Co-occurring: both.

Each flag carries its sources (clinical detail: for health record viewers only; callers
decide). Nothing here checks access or writes; selectors do both.
"""

from __future__ import annotations

import dataclasses
import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from whatworks.assessments.models import Assessment, AssessmentStatus
from whatworks.health.models import (
    OPEN_HEALTH_REFERRAL_STATUSES,
    Diagnosis,
    DiagnosisCategory,
    DiagnosisStatus,
    HealthReferral,
)
from whatworks.records.models import Person

K6_SERIOUS_DISTRESS = 13
AUDIT_FLAG_BANDS = frozenset({"zone_iii", "zone_iv"})
RNR_SUBSTANCE_DOMAIN = "substance_abuse"


@dataclasses.dataclass(frozen=True)
class FlagSource:
    kind: str  # "diagnosis", "audit", "k6", "rnr-screener", "drug-test"
    description: str
    day: datetime.date | None


@dataclasses.dataclass(frozen=True)
class HealthFlags:
    substance_use: tuple[FlagSource, ...]
    mental_health: tuple[FlagSource, ...]
    has_open_referral: bool

    @property
    def substance_use_need(self) -> bool:
        return bool(self.substance_use)

    @property
    def mental_health_need(self) -> bool:
        return bool(self.mental_health)

    @property
    def co_occurring(self) -> bool:
        return self.substance_use_need and self.mental_health_need

    @property
    def suggest_referral(self) -> bool:
        """A mental-health (or co-occurring) need and no open health referral."""
        return self.mental_health_need and not self.has_open_referral


def _latest(person: Person, slug: str) -> Assessment | None:
    return (
        Assessment.objects.filter(
            person=person, instrument_version__slug=slug, status=AssessmentStatus.COMPLETED
        )
        .defer("answers")
        .order_by("-assessed_on", "-id")
        .first()
    )


def _active_diagnoses(person: Person, category: str) -> list[Diagnosis]:
    return list(
        Diagnosis.objects.filter(
            person=person, is_current=True, status=DiagnosisStatus.ACTIVE, category=category
        ).order_by("-recorded_on", "-id")
    )


def _diagnosis_source(diagnosis: Diagnosis) -> FlagSource:
    label = diagnosis.get_category_display()
    if diagnosis.mental_disorder_type:
        label = f"{label}: {diagnosis.get_mental_disorder_type_display()}"
    if diagnosis.code:
        label = f"{label} ({diagnosis.code})"
    return FlagSource("diagnosis", str(label), diagnosis.recorded_on)


RECENT_POSITIVE_DAYS = 90


def _recent_positive_test(person: Person) -> datetime.date | None:
    """The date of the person's latest current positive drug test within 90 days."""
    from whatworks.drugtests.models import DrugTest

    since = timezone.localdate() - datetime.timedelta(days=RECENT_POSITIVE_DAYS)
    return (
        DrugTest.objects.filter(
            person=person, is_current=True, outcome="positive", test_date__gte=since
        )
        .order_by("-test_date")
        .values_list("test_date", flat=True)
        .first()
    )


def substance_use_sources(person: Person) -> tuple[FlagSource, ...]:
    sources = [
        _diagnosis_source(row)
        for row in _active_diagnoses(person, DiagnosisCategory.SUBSTANCE_USE_DISORDER)
    ]
    audit = _latest(person, "audit")
    if audit is not None and audit.effective_band in AUDIT_FLAG_BANDS:
        sources.append(
            FlagSource(
                "audit",
                _("Latest AUDIT: %(total)s points, %(band)s")
                % {"total": f"{audit.total:g}", "band": audit.effective_band},
                audit.assessed_on,
            )
        )
    positive = _recent_positive_test(person)
    if positive is not None:
        sources.append(
            FlagSource("drug-test", _("Positive drug test in the last 90 days"), positive)
        )
    screener = _latest(person, "rnr-screener")
    if screener is not None and (screener.needs or {}).get(RNR_SUBSTANCE_DOMAIN, {}).get("is_need"):
        sources.append(
            FlagSource(
                "rnr-screener",
                _("Latest RNR screener: substance abuse is a need"),
                screener.assessed_on,
            )
        )
    return tuple(sources)


def mental_health_sources(person: Person) -> tuple[FlagSource, ...]:
    sources = [
        _diagnosis_source(row)
        for row in _active_diagnoses(person, DiagnosisCategory.MENTAL_DISORDER)
    ]
    k6 = _latest(person, "k6")
    if k6 is not None and k6.total is not None and k6.total >= K6_SERIOUS_DISTRESS:
        sources.append(
            FlagSource(
                "k6",
                _("Latest K6: %(total)s points (13 or more)") % {"total": f"{k6.total:g}"},
                k6.assessed_on,
            )
        )
    return tuple(sources)


def has_mental_health_need(person: Person) -> bool:
    return bool(mental_health_sources(person))


def health_flags(person: Person) -> HealthFlags:
    return HealthFlags(
        substance_use=substance_use_sources(person),
        mental_health=mental_health_sources(person),
        has_open_referral=HealthReferral.objects.filter(
            person=person, is_current=True, status__in=OPEN_HEALTH_REFERRAL_STATUSES
        ).exists(),
    )

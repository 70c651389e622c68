"""The bridge between the database and the pure treatment rules in
``whatworks.analytics.treatment``: builds their inputs from rows and reads the configuration.

Nothing here writes; services and selectors call it after access has been checked.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from fractions import Fraction

from django.conf import settings
from django.db.models import QuerySet

from whatworks.analytics.treatment import (
    DosagePolicy,
    LevelCompletion,
    NeedScore,
    PersonProfile,
    ProgrammeOption,
    RemissionResult,
    RemissionRules,
    StudyRecord,
    WaitlistWeights,
    WorkRecord,
    compute_remission,
    load_remission_rules,
)
from whatworks.analytics.treatment import Fault as FaultRecord
from whatworks.assessments.models import Assessment, AssessmentStatus
from whatworks.assessments.selectors import needs_for_planning
from whatworks.records.models import CustodyEpisode, Facility, Person
from whatworks.treatment.models import (
    Attendance,
    AttendanceStatus,
    DisciplinaryFault,
    Programme,
    Referral,
    ReferralStatus,
    RemissionKind,
)

ACTIVE_REFERRAL_STATUSES = (
    ReferralStatus.REFERRED,
    ReferralStatus.ASSESSED_SUITABLE,
    ReferralStatus.SUITABLE_NOT_READY,
    ReferralStatus.WAITLISTED,
    ReferralStatus.ALLOCATED,
    ReferralStatus.IN_PROGRESS,
)
PRESENT_STATUSES = (AttendanceStatus.ATTENDED, AttendanceStatus.LATE)
LEARNING_SUPPORT_NEEDS = {"learning_disability", "intellectual_disability", "neurodivergent"}


def dosage_policy() -> DosagePolicy:
    return DosagePolicy.from_mapping({"target_hours": dict(settings.TREATMENT_DOSAGE_HOURS)})


def waitlist_weights() -> WaitlistWeights:
    return WaitlistWeights.from_mapping(dict(settings.TREATMENT_WAITLIST_WEIGHTS))


def review_months(band: str | None) -> int:
    months = settings.TREATMENT_REVIEW_MONTHS
    return int(months.get(band or "", months.get("moderate", 6)))


def remission_rules() -> RemissionRules | None:
    """The rules in force, or None when the service has no earned remission."""
    name = settings.TREATMENT_REMISSION_RULES
    if not name or name == "none":
        return None
    return load_remission_rules(name)


def age_on(person: Person, day: datetime.date) -> int:
    born = person.date_of_birth
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _latest_rnr(person: Person) -> Assessment | None:
    return (
        Assessment.objects.filter(
            person=person,
            instrument_version__slug="rnr-screener",
            status=AssessmentStatus.COMPLETED,
        )
        .select_related("instrument_version")
        .order_by("-assessed_on", "-id")
        .first()
    )


def _responsivity(assessment: Assessment | None) -> dict[str, object]:
    """The screener's responsivity answers, with choices as option codes (answers store
    option indexes) and yes/no as booleans."""
    if assessment is None:
        return {}
    items = {item.id: item for item in assessment.instrument_version.instrument.items}
    answers = {}
    for key, value in (assessment.answers or {}).items():
        item = items.get(key)
        if item is None or getattr(item, "role", None) != "responsivity":
            continue
        if item.type == "single_choice" and isinstance(value, int) and item.options:
            answers[key] = item.options[value].code if 0 <= value < len(item.options) else None
        else:
            answers[key] = value
    return answers


# The screener's reading item, for people whose literacy is not in the person record.
_LITERACY_FROM_SCREENER = {
    "reads_well": "literate",
    "with_difficulty": "limited",
    "cannot": "illiterate",
}


def _health_mental_health_need(person: Person) -> bool:
    # Imported here: health depends on assessments and records, not on treatment's import.
    from whatworks.health.flags import has_mental_health_need

    return has_mental_health_need(person)


def person_profile(person: Person, *, today: datetime.date) -> tuple[PersonProfile, dict]:
    """The person as the RNR rules see them, and the planning needs it came from."""
    planning = needs_for_planning(person)
    needs = {
        domain: NeedScore(
            score=float(need["score"]),
            threshold=float(need["threshold"]),
            is_need=bool(need["is_need"]),
        )
        for domain, need in planning.get("needs", {}).items()
    }
    responsivity = _responsivity(_latest_rnr(person)) if planning else {}
    support = tuple(person.support_needs or ())
    if responsivity.get("resp_learning_cognitive") and "learning_disability" not in support:
        support += ("learning_disability",)
    literacy = person.literacy
    if literacy == "not_recorded":
        literacy = _LITERACY_FROM_SCREENER.get(str(responsivity.get("resp_literacy")), literacy)
    languages = tuple(person.languages or ())
    if responsivity.get("resp_language") == "interpreter":
        # The person needs an interpreter: no delivery language can be assumed to fit.
        languages = ()
    finished = Referral.objects.filter(person=person, status=ReferralStatus.COMPLETED)
    active = Referral.objects.filter(person=person, status__in=ACTIVE_REFERRAL_STATUSES)
    profile = PersonProfile(
        risk_band=planning.get("effective_band"),
        needs=needs,
        sex=person.sex,
        age=age_on(person, today),
        literacy=literacy,
        education_level=person.education_level,
        languages=languages,
        support_needs=support,
        mental_health_flag="mental_health" in support
        or bool(responsivity.get("resp_mental_health"))
        or _health_mental_health_need(person),
        completed=frozenset(str(pk) for pk in finished.values_list("programme_id", flat=True)),
        active=frozenset(str(pk) for pk in active.values_list("programme_id", flat=True)),
    )
    return profile, planning


def programme_option(programme: Programme, *, offered_here: bool = True) -> ProgrammeOption:
    return ProgrammeOption(
        key=str(programme.pk),
        name=programme.name,
        programme_type=programme.programme_type,
        target_needs=tuple(programme.target_needs or ()),
        dosage_hours=float(programme.dosage_hours),
        evidence_rating=programme.evidence_rating,
        eligible_sexes=tuple(programme.eligible_sexes or ()),
        min_age=programme.min_age,
        max_age=programme.max_age,
        eligible_risk_bands=tuple(programme.eligible_risk_bands or ()),
        min_literacy=programme.min_literacy or None,
        min_education=programme.min_education or None,
        max_education=programme.max_education or None,
        prerequisites=tuple(str(pk) for pk in programme.prerequisites.values_list("pk", flat=True)),
        languages=tuple(programme.languages or ()),
        adaptations=tuple(programme.adaptations or ()),
        offered_here=offered_here,
    )


def programme_options(facility: Facility | None) -> list[ProgrammeOption]:
    """Every active programme, marked as offered here or not for the person's facility."""
    programmes = Programme.objects.filter(is_active=True).prefetch_related("facilities")
    options = []
    for programme in programmes:
        offered = {facility_row.pk for facility_row in programme.facilities.all()}
        here = facility is not None and (not offered or facility.pk in offered)
        options.append(programme_option(programme, offered_here=here))
    return options


def present_hours(referrals: QuerySet[Referral]) -> Decimal:
    total = Decimal(0)
    for hours in Attendance.objects.filter(
        referral__in=referrals, is_current=True, status__in=PRESENT_STATUSES
    ).values_list("hours", flat=True):
        total += hours
    return total


def episode_remission(
    episode: CustodyEpisode, rules: RemissionRules, *, as_of: datetime.date
) -> RemissionResult:
    """Earned remission in one custody episode, from attendance, completions and faults."""
    attendance = (
        Attendance.objects.filter(
            referral__person_id=episode.person_id,
            referral__episode=episode,
            is_current=True,
            status__in=PRESENT_STATUSES,
            referral__programme__remission_kind__in=[RemissionKind.STUDY, RemissionKind.WORK],
        )
        .values_list("session__session_date", "hours", "referral__programme__remission_kind")
        .order_by("session__session_date")
    )
    study = [
        StudyRecord(day=day, hours=float(hours))
        for day, hours, kind in attendance
        if kind == RemissionKind.STUDY
    ]
    work = [
        WorkRecord(day=day, hours=float(hours))
        for day, hours, kind in attendance
        if kind == RemissionKind.WORK
    ]
    completions = [
        LevelCompletion(day=ended_on, level=programme_type)
        for ended_on, programme_type in Referral.objects.filter(
            person_id=episode.person_id,
            episode=episode,
            status=ReferralStatus.COMPLETED,
            programme__completes_school_level=True,
            ended_on__isnull=False,
        ).values_list("ended_on", "programme__programme_type")
    ]
    faults = [
        FaultRecord(day=fault.fault_date, revoked_fraction=Fraction(fault.revoked_fraction))
        for fault in DisciplinaryFault.objects.filter(episode=episode).order_by("fault_date")
        if fault.revoked_fraction
    ]
    return compute_remission(
        rules, study=study, work=work, completions=completions, faults=faults, as_of=as_of
    )

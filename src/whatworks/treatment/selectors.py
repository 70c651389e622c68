"""Reads for treatment. Person-level reads start from the access helpers; the dashboard
returns aggregates only, with small counts suppressed as in the recidivism figures."""

from __future__ import annotations

import dataclasses
import datetime
import statistics
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import get_language

from whatworks.analytics.recidivism.suppression import Suppression, wilson_interval
from whatworks.analytics.treatment import (
    EDUCATION_AND_WORK_TYPES,
    NEED_DOMAINS,
    RISK_BANDS,
    STATIC_DOMAINS,
    WaitlistCandidate,
    projected_release,
    rank_waitlist,
)
from whatworks.assessments.models import Assessment, AssessmentStatus
from whatworks.records.access import facilities_in_scope, persons_visible_to
from whatworks.records.models import CustodyEpisode, Facility, Person
from whatworks.treatment import access, rules
from whatworks.treatment.models import (
    Attendance,
    AttendanceStatus,
    FidelityReview,
    GroupSession,
    GroupStatus,
    InterventionPlan,
    PlanStatus,
    Programme,
    ProgrammeGroup,
    Referral,
    ReferralStatus,
)

S = ReferralStatus
SUPPRESSION = Suppression(min_count=10)


def _today() -> datetime.date:
    return timezone.localdate()


# --- catalogue ---------------------------------------------------------------------------


def catalogue(*, viewer, include_inactive: bool = False) -> QuerySet[Programme]:
    if not access.can_view_catalogue(viewer):
        return Programme.objects.none()
    programmes = Programme.objects.prefetch_related(
        "facilities",
        Prefetch(
            "fidelity_reviews",
            queryset=FidelityReview.objects.order_by("-reviewed_on", "-id"),
            to_attr="reviews_newest_first",
        ),
    )
    return programmes if include_inactive else programmes.filter(is_active=True)


def latest_fidelity(programme: Programme) -> FidelityReview | None:
    reviews = getattr(programme, "reviews_newest_first", None)
    if reviews is None:
        return programme.fidelity_reviews.order_by("-reviewed_on", "-id").first()
    return reviews[0] if reviews else None


# --- a person's treatment ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Dosage:
    target_hours: Decimal | None
    criminogenic_hours: Decimal
    education_work_hours: Decimal
    other_hours: Decimal

    @property
    def total_hours(self) -> Decimal:
        return self.criminogenic_hours + self.education_work_hours + self.other_hours

    @property
    def share_of_target(self) -> float | None:
        if not self.target_hours:
            return None
        return float(self.criminogenic_hours / self.target_hours)


def _episode_referrals(person: Person, episode: CustodyEpisode | None) -> QuerySet[Referral]:
    referrals = Referral.objects.filter(person=person)
    return referrals.filter(episode=episode) if episode else referrals.filter(episode__isnull=True)


def dosage_for(person: Person, episode: CustodyEpisode | None, target: Decimal | None) -> Dosage:
    """Hours attended in the episode, split the way the risk principle counts them:
    programmes that target a criminogenic need count toward the plan's dosage; education
    and work are counted apart (they target school/work only when that is a need)."""
    rows = (
        Attendance.objects.filter(
            referral__in=_episode_referrals(person, episode),
            is_current=True,
            status__in=rules.PRESENT_STATUSES,
        )
        .values("referral__programme__programme_type", "referral__programme__target_needs")
        .annotate(hours=Sum("hours"))
    )
    criminogenic = education_work = other = Decimal(0)
    for row in rows:
        hours = row["hours"] or Decimal(0)
        if row["referral__programme__programme_type"] in EDUCATION_AND_WORK_TYPES:
            education_work += hours
        elif row["referral__programme__target_needs"]:
            criminogenic += hours
        else:
            other += hours
    return Dosage(target, criminogenic, education_work, other)


@dataclasses.dataclass(frozen=True)
class ReferralRow:
    referral: Referral
    hours: Decimal
    sessions_present: int
    sessions_recorded: int


@dataclasses.dataclass(frozen=True)
class RemissionSummary:
    rules_name: str
    result: Any
    expected_release: datetime.date | None
    projected_release: datetime.date | None


@dataclasses.dataclass(frozen=True)
class PersonTreatment:
    approved_plan: InterventionPlan | None
    draft_plan: InterventionPlan | None
    plan_versions: list[InterventionPlan]
    referrals: list[ReferralRow]
    dosage: Dosage
    remission: RemissionSummary | None
    episode: CustodyEpisode | None


def referral_rows(referrals: QuerySet[Referral]) -> list[ReferralRow]:
    referrals = referrals.select_related("programme", "facility", "group").annotate(
        hours=Sum(
            "attendance__hours",
            filter=Q(attendance__is_current=True, attendance__status__in=rules.PRESENT_STATUSES),
        ),
        present=Count(
            "attendance",
            filter=Q(attendance__is_current=True, attendance__status__in=rules.PRESENT_STATUSES),
        ),
        recorded=Count("attendance", filter=Q(attendance__is_current=True)),
    )
    return [
        ReferralRow(referral, referral.hours or Decimal(0), referral.present, referral.recorded)
        for referral in referrals
    ]


def current_episode(person: Person) -> CustodyEpisode | None:
    """The open episode (where new plans and referrals attach), else the latest one: the
    episode whose hours and remission the person's pages show."""
    return (
        person.custody_episodes.filter(release_date__isnull=True).order_by("-id").first()
        or person.custody_episodes.order_by("-admission_date", "-id").first()
    )


def person_treatment(*, viewer, person: Person) -> PersonTreatment:
    """Everything on a person's treatment page. ``person`` came from an access helper."""
    if not persons_visible_to(viewer).filter(pk=person.pk).exists():
        raise Person.DoesNotExist
    plans = list(access.plans_visible_to(viewer).filter(person=person).order_by("-version"))
    approved = next((plan for plan in plans if plan.status == PlanStatus.APPROVED), None)
    draft = next((plan for plan in plans if plan.status == PlanStatus.DRAFT), None)
    episode = current_episode(person)
    referrals = referral_rows(
        access.referrals_visible_to(viewer).filter(person=person).order_by("-referral_date", "-id")
    )
    dosage = dosage_for(person, episode, approved.target_hours if approved else None)
    return PersonTreatment(
        approved_plan=approved,
        draft_plan=draft,
        plan_versions=plans,
        referrals=referrals,
        dosage=dosage,
        remission=remission_for(viewer=viewer, person=person, episode=episode),
        episode=episode,
    )


def _in_active_language(texts) -> str:
    """One of a rules file's texts (keyed en / es / pt-br) in the active language."""
    if isinstance(texts, str):
        return texts
    language = (get_language() or "en").lower()
    for key in (language, language.split("-")[0], "en"):
        if key in texts:
            return texts[key]
    return next(iter(texts.values()), "")


def remission_for(*, viewer, person: Person, episode: CustodyEpisode | None):
    remission_rules = rules.remission_rules()
    if remission_rules is None or episode is None or not access.can_view_remission(viewer):
        return None
    result = rules.episode_remission(episode, remission_rules, as_of=_today())
    return RemissionSummary(
        rules_name=_in_active_language(remission_rules.name),
        result=result,
        expected_release=episode.expected_release_date,
        projected_release=projected_release(episode.expected_release_date, result),
    )


REVIEW_DUE_WITHIN_DAYS = 30


def plan_reviews_due(*, viewer, today: datetime.date | None = None) -> QuerySet[InterventionPlan]:
    """Approved plans whose review is overdue or due within 30 days, overdue first, for
    the people the viewer plans for."""
    if not access.can_plan(viewer):
        return InterventionPlan.objects.none()
    horizon = (today or _today()) + datetime.timedelta(days=REVIEW_DUE_WITHIN_DAYS)
    return (
        access.plans_visible_to(viewer)
        .filter(status=PlanStatus.APPROVED, next_review_date__lte=horizon)
        .select_related("person", "person__current_facility")
        .order_by("next_review_date", "person__last_names")
    )


def plan_goals(plan: InterventionPlan):
    return plan.goals.select_related("programme").prefetch_related("steps")


# --- waitlists ---------------------------------------------------------------------------


def _latest_rnr_by_person(person_ids) -> dict[int, Assessment]:
    latest: dict[int, Assessment] = {}
    for assessment in (
        Assessment.objects.filter(
            person_id__in=person_ids,
            instrument_version__slug="rnr-screener",
            status=AssessmentStatus.COMPLETED,
        )
        .defer("answers", "instrument_version__definition")
        .order_by("person_id", "-assessed_on", "-id")
    ):
        latest.setdefault(assessment.person_id, assessment)
    return latest


def _need_ratio(assessment: Assessment | None, target_needs: list[str]) -> float | None:
    if assessment is None or not target_needs:
        return None
    ratios = [
        float(need["score"]) / float(need["threshold"])
        for domain, need in (assessment.needs or {}).items()
        if domain in target_needs and float(need.get("threshold") or 0) > 0
    ]
    return max(ratios) if ratios else None


@dataclasses.dataclass(frozen=True)
class WaitlistEntry:
    referral: Referral
    rank: int
    score: float
    components: dict[str, float]
    reasons: tuple
    risk_band: str | None
    days_waiting: int
    days_to_release: int | None


def waitlist(*, viewer, programme: Programme, facility: Facility | None) -> list[WaitlistEntry]:
    """People waiting for a programme at a facility, ranked by risk, need, time to release
    and time waiting (weights from the configuration), each with its explanation."""
    today = _today()
    waiting = list(
        access.referrals_visible_to(viewer)
        .filter(programme=programme, facility=facility, status=S.WAITLISTED)
        .select_related("person", "episode")
    )
    latest = _latest_rnr_by_person([referral.person_id for referral in waiting])
    candidates, by_key = [], {}
    programme_days = max(1, -(-programme.dosage_sessions // 2)) * 7
    for referral in waiting:
        assessment = latest.get(referral.person_id)
        expected = referral.episode.expected_release_date if referral.episode else None
        candidate = WaitlistCandidate(
            key=str(referral.pk),
            risk_band=assessment.effective_band if assessment else None,
            need_ratio=_need_ratio(assessment, programme.target_needs),
            days_to_release=(expected - today).days if expected else None,
            days_waiting=(today - (referral.waitlisted_on or referral.status_date)).days,
            programme_days=programme_days,
        )
        candidates.append(candidate)
        by_key[candidate.key] = (referral, candidate)
    ranked = rank_waitlist(candidates, rules.waitlist_weights())
    return [
        WaitlistEntry(
            referral=by_key[row.key][0],
            rank=row.rank,
            score=row.score,
            components=dict(row.components),
            reasons=row.reasons,
            risk_band=by_key[row.key][1].risk_band,
            days_waiting=by_key[row.key][1].days_waiting,
            days_to_release=by_key[row.key][1].days_to_release,
        )
        for row in ranked
    ]


@dataclasses.dataclass(frozen=True)
class WaitlistSummary:
    programme: Programme
    facility: Facility | None
    waiting: int
    median_days_waiting: float | None
    longest_days_waiting: int | None
    capacity: int
    occupied: int

    @property
    def free_places(self) -> int:
        return max(0, self.capacity - self.occupied)


def waitlist_overview(*, viewer) -> list[WaitlistSummary]:
    """Per programme and facility: people waiting, waiting time, places and free places.

    Facility programmes only: community referrals have no facility scope yet (ADR 0004)."""
    if not access.can_view_referrals(viewer) and not access.can_view_treatment_dashboard(viewer):
        return []
    today = _today()
    scope = facilities_in_scope(viewer)
    waiting: dict[tuple[int, int | None], list[int]] = defaultdict(list)
    for programme_id, facility_id, since in Referral.objects.filter(
        status=S.WAITLISTED, facility__in=scope
    ).values_list("programme_id", "facility_id", "waitlisted_on"):
        waiting[(programme_id, facility_id)].append((today - since).days if since else 0)
    places: dict[tuple[int, int | None], list[int]] = defaultdict(lambda: [0, 0])
    for group in ProgrammeGroup.objects.filter(
        facility__in=scope, status__in=[GroupStatus.PLANNED, GroupStatus.RUNNING]
    ).annotate(
        occupied=Count("referrals", filter=Q(referrals__status__in=[S.ALLOCATED, S.IN_PROGRESS]))
    ):
        key = (group.programme_id, group.facility_id)
        places[key][0] += group.capacity
        places[key][1] += group.occupied
    keys = set(waiting) | set(places)
    programmes = Programme.objects.in_bulk({key[0] for key in keys})
    facilities = Facility.objects.in_bulk({key[1] for key in keys if key[1]})
    rows = []
    for key in keys:
        days = waiting.get(key, [])
        rows.append(
            WaitlistSummary(
                programme=programmes[key[0]],
                facility=facilities.get(key[1]),
                waiting=len(days),
                median_days_waiting=statistics.median(days) if days else None,
                longest_days_waiting=max(days) if days else None,
                capacity=places[key][0] if key in places else 0,
                occupied=places[key][1] if key in places else 0,
            )
        )
    rows.sort(key=lambda row: (row.programme.name, row.facility.name if row.facility else ""))
    return rows


# --- groups and registers ----------------------------------------------------------------


def groups_for(*, viewer, programme: Programme | None = None) -> QuerySet[ProgrammeGroup]:
    groups = access.groups_visible_to(viewer).select_related("programme", "facility")
    if programme is not None:
        groups = groups.filter(programme=programme)
    return groups.annotate(
        occupied=Count("referrals", filter=Q(referrals__status__in=[S.ALLOCATED, S.IN_PROGRESS]))
    )


def group_members(group: ProgrammeGroup) -> list[ReferralRow]:
    return referral_rows(group.referrals.select_related("person").order_by("person__last_names"))


@dataclasses.dataclass(frozen=True)
class RegisterLine:
    referral: Referral
    attendance: Attendance | None
    history: list[Attendance]


def session_register(session: GroupSession) -> list[RegisterLine]:
    """Who is expected at a session (in the group on that date) and what is recorded."""
    day = session.session_date
    referrals = (
        session.group.referrals.filter(
            Q(allocated_on__lte=day) | Q(allocated_on__isnull=True),
            Q(ended_on__gte=day) | Q(ended_on__isnull=True),
        )
        .exclude(status=S.WAITLISTED)
        .select_related("person")
        .order_by("person__last_names", "person__first_names")
    )
    records = defaultdict(list)
    for attendance in session.attendance.order_by("recorded_at", "id"):
        records[attendance.referral_id].append(attendance)
    lines = []
    for referral in referrals:
        history = records.get(referral.pk, [])
        current = next((row for row in history if row.is_current), None)
        lines.append(RegisterLine(referral, current, history))
    return lines


# --- dashboard ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Proportion:
    """A published share: counts under the suppression threshold are withheld."""

    numerator: int
    denominator: int

    @property
    def suppressed(self) -> bool:
        complement = self.denominator - self.numerator
        return (
            self.denominator < SUPPRESSION.min_count
            or SUPPRESSION.disclosive(self.numerator)
            or SUPPRESSION.disclosive(complement)
        )

    @property
    def rate(self) -> float | None:
        if self.suppressed or not self.denominator:
            return None
        return self.numerator / self.denominator

    @property
    def interval(self) -> tuple[float, float] | None:
        if self.rate is None:
            return None
        return wilson_interval(self.numerator, self.denominator)


@dataclasses.dataclass(frozen=True)
class NeedCoverage:
    need: str
    coverage: Proportion


@dataclasses.dataclass(frozen=True)
class RiskAdherence:
    band: str
    target_hours: float
    persons: int
    median_hours: float | None
    meeting_target: Proportion
    intensive_hours_share: Proportion  # share with any non-education/work programme hours

    @property
    def suppressed(self) -> bool:
        return self.persons < SUPPRESSION.min_count


@dataclasses.dataclass(frozen=True)
class DeliveryRate:
    programme: Programme
    facility: Facility | None
    attendance: Proportion
    completion: Proportion


@dataclasses.dataclass(frozen=True)
class TreatmentDashboard:
    persons_in_custody: int
    need_coverage: list[NeedCoverage]
    risk_adherence: list[RiskAdherence]
    waitlists: list[WaitlistSummary]
    delivery: list[DeliveryRate]
    suppression_min_count: int


def _in_custody(scope) -> QuerySet[CustodyEpisode]:
    return CustodyEpisode.objects.filter(release_date__isnull=True, facility__in=scope)


def treatment_dashboard(*, viewer) -> TreatmentDashboard:
    """Whether the risk and need principles are followed, in the viewer's facilities."""
    if not access.can_view_treatment_dashboard(viewer):
        raise PermissionError("This role cannot see the treatment dashboard.")
    scope = facilities_in_scope(viewer)
    episodes = list(_in_custody(scope).values_list("id", "person_id"))
    person_ids = [person_id for _episode, person_id in episodes]
    latest = _latest_rnr_by_person(person_ids)
    coverage = _need_coverage(episodes, latest)
    adherence = _risk_adherence(episodes, latest)
    return TreatmentDashboard(
        persons_in_custody=len(person_ids),
        need_coverage=coverage,
        risk_adherence=adherence,
        waitlists=waitlist_overview(viewer=viewer),
        delivery=_delivery_rates(scope),
        suppression_min_count=SUPPRESSION.min_count,
    )


def _need_coverage(episodes, latest) -> list[NeedCoverage]:
    engaged = defaultdict(set)  # person id -> needs targeted by a programme they are in
    for person_id, target_needs in Referral.objects.filter(
        episode_id__in=[episode_id for episode_id, _person in episodes],
        status__in=[S.ALLOCATED, S.IN_PROGRESS, S.COMPLETED],
    ).values_list("person_id", "programme__target_needs"):
        engaged[person_id].update(target_needs or [])
    rows = []
    for need in NEED_DOMAINS:
        if need in STATIC_DOMAINS:
            continue
        with_need = [
            person_id
            for _episode, person_id in episodes
            if person_id in latest and (latest[person_id].needs or {}).get(need, {}).get("is_need")
        ]
        covered = sum(1 for person_id in with_need if need in engaged[person_id])
        rows.append(NeedCoverage(need, Proportion(covered, len(with_need))))
    return rows


def _risk_adherence(episodes, latest) -> list[RiskAdherence]:
    targets = rules.dosage_policy().target_hours
    hours_by_episode: dict[int, dict[str, Decimal]] = defaultdict(
        lambda: {"criminogenic": Decimal(0), "intensive": Decimal(0)}
    )
    for episode_id, programme_type, target_needs, hours in (
        Attendance.objects.filter(
            referral__episode_id__in=[episode_id for episode_id, _person in episodes],
            is_current=True,
            status__in=rules.PRESENT_STATUSES,
        )
        .values_list(
            "referral__episode_id",
            "referral__programme__programme_type",
            "referral__programme__target_needs",
        )
        .annotate(hours=Sum("hours"))
    ):
        if programme_type not in EDUCATION_AND_WORK_TYPES and target_needs:
            hours_by_episode[episode_id]["criminogenic"] += hours or 0
            hours_by_episode[episode_id]["intensive"] += hours or 0
    rows = []
    for band in RISK_BANDS:
        in_band = [
            episode_id
            for episode_id, person_id in episodes
            if person_id in latest and latest[person_id].effective_band == band
        ]
        hours = [float(hours_by_episode[episode_id]["criminogenic"]) for episode_id in in_band]
        target = float(targets.get(band, 0))
        meeting = sum(1 for value in hours if value >= target) if target else 0
        intensive = sum(
            1 for episode_id in in_band if hours_by_episode[episode_id]["intensive"] > 0
        )
        suppressed = len(in_band) < SUPPRESSION.min_count
        rows.append(
            RiskAdherence(
                band=band,
                target_hours=target,
                persons=len(in_band),
                median_hours=None if suppressed or not hours else statistics.median(hours),
                meeting_target=Proportion(meeting if target else len(in_band), len(in_band)),
                intensive_hours_share=Proportion(intensive, len(in_band)),
            )
        )
    return rows


def _delivery_rates(scope) -> list[DeliveryRate]:
    attendance = defaultdict(lambda: [0, 0])
    for programme_id, facility_id, status, count in (
        Attendance.objects.filter(is_current=True, referral__facility__in=scope)
        .values_list("referral__programme_id", "referral__facility_id", "status")
        .annotate(count=Count("id"))
    ):
        key = (programme_id, facility_id)
        attendance[key][1] += count
        if status in (AttendanceStatus.ATTENDED, AttendanceStatus.LATE):
            attendance[key][0] += count
    completion = defaultdict(lambda: [0, 0])
    for programme_id, facility_id, status, count in (
        Referral.objects.filter(
            facility__in=scope,
            status__in=[S.COMPLETED, S.NOT_COMPLETED],
            started_on__isnull=False,
        )
        .values_list("programme_id", "facility_id", "status")
        .annotate(count=Count("id"))
    ):
        key = (programme_id, facility_id)
        completion[key][1] += count
        if status == S.COMPLETED:
            completion[key][0] += count
    keys = set(attendance) | set(completion)
    programmes = Programme.objects.in_bulk({key[0] for key in keys})
    facilities = Facility.objects.in_bulk({key[1] for key in keys if key[1]})
    rows = [
        DeliveryRate(
            programme=programmes[key[0]],
            facility=facilities.get(key[1]),
            attendance=Proportion(*attendance[key]),
            completion=Proportion(*completion[key]),
        )
        for key in keys
    ]
    rows.sort(key=lambda row: (row.programme.name, row.facility.name if row.facility else ""))
    return rows

"""Reads for health. Every read starts from ``health.access``; reads of diagnoses (and of
the clinical sources of the flags) write a ``health.read`` audit event."""

from __future__ import annotations

import dataclasses
import datetime

from django.db import transaction

from whatworks.audit.services import audit_record
from whatworks.health import access
from whatworks.health.flags import FlagSource, health_flags
from whatworks.health.models import Diagnosis, HealthReferral, RelapsePlan, RelapsePlanStatus
from whatworks.records.access import persons_visible_to
from whatworks.records.models import CustodyEpisode, Person

# The relapse prevention plan is reviewed within this many days before the expected release.
PRE_RELEASE_REVIEW_DAYS = 30


def _audit_read(viewer, person: Person, what: str) -> None:
    with transaction.atomic():
        audit_record(
            actor=viewer,
            action="health.read",
            target=None,
            person=person,
            object_type=f"health.{what}",
            object_id=str(person.pk),
        )


def diagnosis_list(*, viewer, person: Person) -> list[Diagnosis]:
    """Every diagnosis row of the person (corrections included), newest first. Audited."""
    if not access.can_view_health_records(viewer):
        return []
    rows = list(
        access.diagnoses_visible_to(viewer)
        .filter(person=person)
        .select_related("recorded_by")
        .order_by("-recorded_on", "-id")
    )
    _audit_read(viewer, person, "diagnoses")
    return rows


def health_referral_list(*, viewer, person: Person) -> list[HealthReferral]:
    return list(
        access.health_referrals_visible_to(viewer)
        .filter(person=person)
        .select_related("recorded_by")
        .order_by("-requested_on", "-id")
    )


@dataclasses.dataclass(frozen=True)
class FlagView:
    substance_use_need: bool
    mental_health_need: bool
    co_occurring: bool
    suggest_referral: bool
    # Empty unless the viewer may see health records.
    substance_use_sources: tuple[FlagSource, ...] = ()
    mental_health_sources: tuple[FlagSource, ...] = ()


def person_flags(*, viewer, person: Person) -> FlagView | None:
    """The flags for flag viewers; their clinical sources for health record viewers only
    (that read is audited)."""
    if not access.can_view_flags(viewer):
        return None
    flags = health_flags(person)
    with_sources = access.can_view_health_records(viewer)
    if with_sources:
        _audit_read(viewer, person, "flag_sources")
    return FlagView(
        substance_use_need=flags.substance_use_need,
        mental_health_need=flags.mental_health_need,
        co_occurring=flags.co_occurring,
        suggest_referral=flags.suggest_referral,
        substance_use_sources=flags.substance_use if with_sources else (),
        mental_health_sources=flags.mental_health if with_sources else (),
    )


def relapse_plans(*, viewer, person: Person) -> list[RelapsePlan]:
    """Every version, newest first."""
    return list(access.relapse_plans_visible_to(viewer).filter(person=person).order_by("-version"))


def latest_episode(person: Person) -> CustodyEpisode | None:
    return person.custody_episodes.order_by("-admission_date", "-id").first()


def review_window_start(episode: CustodyEpisode | None) -> datetime.date | None:
    """First day on which a review counts as the pre-release review (inclusive)."""
    if episode is None or episode.expected_release_date is None:
        return None
    return episode.expected_release_date - datetime.timedelta(days=PRE_RELEASE_REVIEW_DAYS)


def pre_release_review_done(plan: RelapsePlan | None, episode: CustodyEpisode | None) -> bool:
    start = review_window_start(episode)
    return bool(
        plan is not None and start is not None and plan.reviewed_on and plan.reviewed_on >= start
    )


@dataclasses.dataclass(frozen=True)
class ReviewDue:
    person: Person
    episode: CustodyEpisode
    plan: RelapsePlan | None  # the active plan, or None when there is none yet
    overdue: bool  # the expected release date has passed


def relapse_reviews_due(*, viewer, today: datetime.date) -> list[ReviewDue]:
    """Persons in custody whose expected release is within the review window (or past) and
    whose active plan has no review in that window; soonest release first."""
    if not access.can_edit_relapse_plans(viewer):
        return []
    horizon = today + datetime.timedelta(days=PRE_RELEASE_REVIEW_DAYS)
    episodes = (
        CustodyEpisode.objects.filter(
            person__in=persons_visible_to(viewer),
            release_date__isnull=True,
            expected_release_date__isnull=False,
            expected_release_date__lte=horizon,
        )
        .select_related("person", "person__current_facility")
        .order_by("expected_release_date", "id")
    )
    active = {
        plan.person_id: plan
        for plan in RelapsePlan.objects.filter(
            person__in=[episode.person_id for episode in episodes],
            status=RelapsePlanStatus.ACTIVE,
        )
    }
    rows = []
    for episode in episodes:
        plan = active.get(episode.person_id)
        if pre_release_review_done(plan, episode):
            continue
        rows.append(
            ReviewDue(
                person=episode.person,
                episode=episode,
                plan=plan,
                overdue=episode.expected_release_date < today,
            )
        )
    return rows

"""Reads for the community app. Person data starts from ``records.access``; a person out of
the viewer's scope gives nothing, exactly as a missing one. The follow-up counts and the
outcomes summary are aggregates, with counts from 1 to 9 suppressed (``treatment``'s rule).

A follow-up contact is *missed* when it is recorded as missed, or when it is still scheduled
and its due date plus ``WHATWORKS_FOLLOWUP_GRACE_DAYS`` is before today. That second case is
computed here on every read, never stored, so no scheduled job is needed. A scheduled contact
whose person was back in custody (a later admission) by its due date is neither due nor
missed: it shows as cancelled, "back in custody".
"""

from __future__ import annotations

import dataclasses
import datetime
import unicodedata
from collections import Counter, defaultdict

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from whatworks.community import access
from whatworks.community.conf import followup_months, grace_days
from whatworks.community.models import (
    CommunityProvider,
    EmploymentStatus,
    FollowUpContact,
    FollowUpStatus,
    HousingStatus,
    ProviderReferral,
    ProviderReferralStatusChange,
)
from whatworks.records.access import facilities_in_scope, persons_visible_to
from whatworks.records.models import CustodyEpisode, Facility, Person
from whatworks.service_helpers import today as _today
from whatworks.treatment.selectors import SUPPRESSION, Proportion

DUE_SOON_DAYS = 30
MISSED_LOOKBACK_DAYS = 365

# --- providers ---------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Case- and accent-insensitive form ("Valparaíso" matches "valparaiso")."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def provider_covers_region(provider: CommunityProvider, region: str) -> bool:
    """Whether one of the provider's regions matches ``region`` (a facility's region or
    free text): equal, or one contains the other, ignoring case and accents."""
    wanted = _fold(region)
    if not wanted:
        return True
    return any(
        wanted == _fold(r) or wanted in _fold(r) or (_fold(r) and _fold(r) in wanted)
        for r in provider.coverage_regions
    )


def provider_list(
    *,
    viewer,
    kind: str = "",
    pathway: str = "",
    region: str = "",
    q: str = "",
    active: bool | None = True,
) -> list[CommunityProvider]:
    """The directory, filtered. ``active=None`` lists active and inactive providers; ``q``
    searches name, contact person, address, notes and regions (case and accents ignored)."""
    if not access.can_view_providers(viewer):
        return []
    providers = CommunityProvider.objects.all()
    if kind:
        providers = providers.filter(kind=kind)
    if active is not None:
        providers = providers.filter(active=active)
    rows = list(providers)
    if pathway:
        rows = [p for p in rows if pathway in p.pathways]
    if region:
        rows = [p for p in rows if provider_covers_region(p, region)]
    if q:
        needle = _fold(q)
        rows = [
            p
            for p in rows
            if needle
            in _fold(" ".join([p.name, p.contact_person, p.address, p.notes, *p.coverage_regions]))
        ]
    return rows


def provider_by_id(*, viewer, provider_id: int) -> CommunityProvider:
    """One provider, or ``CommunityProvider.DoesNotExist`` (also for a role without access)."""
    if not access.can_view_providers(viewer):
        raise CommunityProvider.DoesNotExist
    return CommunityProvider.objects.get(pk=provider_id)


def providers_for_person(*, viewer, person: Person, pathway: str = "") -> list[CommunityProvider]:
    """Active providers for a referral: those covering the region of the person's facility
    first, then the others (a provider may serve people from elsewhere)."""
    rows = provider_list(viewer=viewer, pathway=pathway)
    region = person.current_facility.region if person.current_facility_id else ""
    return sorted(rows, key=lambda p: (not provider_covers_region(p, region), _fold(p.name)))


# --- provider referrals ------------------------------------------------------------------


def person_referrals(*, viewer, person: Person) -> list[ProviderReferral]:
    """The person's provider referrals, newest first, with ``provider`` loaded and
    ``changes`` (the status history, oldest first) prefetched. Empty out of scope."""
    if not access.can_view_community_records(viewer):
        return []
    return list(
        ProviderReferral.objects.filter(person=person, person__in=persons_visible_to(viewer))
        .select_related("provider", "created_by")
        .prefetch_related(
            Prefetch(
                "changes",
                queryset=ProviderReferralStatusChange.objects.select_related("changed_by"),
            )
        )
    )


# --- follow-up ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FollowUpRow:
    """A follow-up contact as staff see it. ``status`` is the effective status: the stored
    one, except ``missed`` for a scheduled contact past its due date plus the grace days.
    ``overdue``: still scheduled, past its due date, within the grace days."""

    contact: FollowUpContact
    status: str
    overdue: bool
    back_in_custody: bool = False

    @property
    def missed(self) -> bool:
        return self.status == FollowUpStatus.MISSED

    @property
    def status_label(self) -> str:
        if self.back_in_custody:
            return _("Back in custody")
        return str(FollowUpStatus(self.status).label)


def with_custody_flag(contacts: QuerySet[FollowUpContact]) -> QuerySet[FollowUpContact]:
    """Annotate ``back_in_custody``: the person was admitted again after this release and
    on or before the contact's due date."""
    later = CustodyEpisode.objects.filter(
        person_id=OuterRef("person_id"),
        admission_date__gte=OuterRef("episode__release_date"),
        admission_date__lte=OuterRef("due_date"),
    ).exclude(pk=OuterRef("episode_id"))
    return contacts.annotate(back_in_custody=Exists(later))


def effective_status(
    contact: FollowUpContact, *, today: datetime.date, grace: int | None = None
) -> str:
    """The stored status, except: a scheduled contact of a person back in custody by its due
    date is ``cancelled`` (needs ``with_custody_flag``), and a scheduled contact past its due
    date plus the grace days is ``missed``."""
    grace = grace_days() if grace is None else grace
    if contact.status != FollowUpStatus.SCHEDULED:
        return contact.status
    if getattr(contact, "back_in_custody", False):
        return FollowUpStatus.CANCELLED
    if contact.due_date + datetime.timedelta(days=grace) < today:
        return FollowUpStatus.MISSED
    return contact.status


def _row(contact: FollowUpContact, today: datetime.date, grace: int) -> FollowUpRow:
    status = effective_status(contact, today=today, grace=grace)
    overdue = status == FollowUpStatus.SCHEDULED and contact.due_date < today
    back = contact.status == FollowUpStatus.SCHEDULED and getattr(contact, "back_in_custody", False)
    return FollowUpRow(contact=contact, status=status, overdue=overdue, back_in_custody=back)


def person_followups(
    *, viewer, person: Person, today: datetime.date | None = None
) -> list[FollowUpRow]:
    """Every follow-up contact of the person (all releases), by due date. Empty out of
    scope."""
    if not access.can_view_community_records(viewer):
        return []
    today = today or _today()
    grace = grace_days()
    contacts = FollowUpContact.objects.filter(
        person=person, person__in=persons_visible_to(viewer)
    ).select_related("episode", "recorded_by")
    return [_row(contact, today, grace) for contact in with_custody_flag(contacts)]


def _missed_q(today: datetime.date, grace: int) -> Q:
    """Missed contacts; the queryset must carry ``with_custody_flag``."""
    return Q(status=FollowUpStatus.MISSED) | Q(
        status=FollowUpStatus.SCHEDULED,
        back_in_custody=False,
        due_date__lt=today - datetime.timedelta(days=grace),
    )


@dataclasses.dataclass(frozen=True)
class FacilityFollowUpCounts:
    facility: Facility
    due_soon: int | None  # None: suppressed (1 to 9) for viewers who see counts only
    missed: int | None


@dataclasses.dataclass(frozen=True)
class FollowUpOverview:
    today: datetime.date
    within_days: int
    grace_days: int
    identifiable: bool  # False for analysts: no rows, suppressed counts
    due_soon: list[FollowUpRow]
    missed: list[FollowUpRow]
    facilities: list[FacilityFollowUpCounts]


def _suppress(count: int) -> int | None:
    return None if SUPPRESSION.disclosive(count) else count


def followups_due(
    *, viewer, today: datetime.date | None = None, within_days: int = DUE_SOON_DAYS
) -> FollowUpOverview:
    """Scheduled contacts due in the next ``within_days`` days (and those past their due
    date but still within the grace days), missed contacts of the last year, and counts per
    releasing facility. Person viewers get their scope's rows; analysts get counts only,
    with 1 to 9 suppressed."""
    today = today or _today()
    grace = grace_days()
    identifiable = access.can_view_community_records(viewer)
    if identifiable:
        contacts = FollowUpContact.objects.filter(person__in=persons_visible_to(viewer))
    elif access.can_view_followup_counts(viewer):
        contacts = FollowUpContact.objects.filter(episode__facility__in=facilities_in_scope(viewer))
    else:
        contacts = FollowUpContact.objects.none()
    contacts = with_custody_flag(contacts)
    due_q = Q(
        status=FollowUpStatus.SCHEDULED,
        back_in_custody=False,
        due_date__gte=today - datetime.timedelta(days=grace),
        due_date__lte=today + datetime.timedelta(days=within_days),
    )
    missed_q = _missed_q(today, grace) & Q(
        due_date__gte=today - datetime.timedelta(days=MISSED_LOOKBACK_DAYS)
    )
    due_rows: list[FollowUpRow] = []
    missed_rows: list[FollowUpRow] = []
    counts: dict[int, Counter] = defaultdict(Counter)
    for contact in (
        contacts.filter(due_q | missed_q)
        .select_related("person", "episode__facility")
        .order_by("due_date", "id")
    ):
        row = _row(contact, today, grace)
        key = "missed" if row.missed else "due_soon"
        counts[contact.episode.facility_id][key] += 1
        if identifiable:
            (missed_rows if row.missed else due_rows).append(row)
    facilities = {f.pk: f for f in Facility.objects.filter(pk__in=list(counts))}
    per_facility = [
        FacilityFollowUpCounts(
            facility=facilities[pk],
            due_soon=counts[pk]["due_soon"] if identifiable else _suppress(counts[pk]["due_soon"]),
            missed=counts[pk]["missed"] if identifiable else _suppress(counts[pk]["missed"]),
        )
        for pk in sorted(counts, key=lambda pk: facilities[pk].code)
    ]
    missed_rows.sort(key=lambda row: (row.contact.due_date, row.contact.pk), reverse=True)
    return FollowUpOverview(
        today=today,
        within_days=within_days,
        grace_days=grace,
        identifiable=identifiable,
        due_soon=due_rows,
        missed=missed_rows,
        facilities=per_facility,
    )


@dataclasses.dataclass(frozen=True)
class FollowUpMonthSummary:
    """One follow-up month's figures. Counts from 1 to 9 are ``None`` (suppressed); each
    distribution is a ``Proportion`` of the done contacts (``.rate`` is None when
    suppressed)."""

    month: int
    done: int | None
    missed: int | None
    housing: dict[str, Proportion]
    employment: dict[str, Proportion]


def followup_outcomes_summary(
    *, viewer, today: datetime.date | None = None
) -> list[FollowUpMonthSummary]:
    """Per configured follow-up month (1, 3, 6, 12 by default): contacts done and missed,
    and the housing and employment status at the done contacts, for releases from the
    facilities in the viewer's scope (``records.access.facilities_in_scope``)."""
    today = today or _today()
    grace = grace_days()
    contacts: QuerySet[FollowUpContact] = with_custody_flag(
        FollowUpContact.objects.filter(episode__facility__in=facilities_in_scope(viewer))
    )
    done: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for month, housing, employment in contacts.filter(status=FollowUpStatus.DONE).values_list(
        "month", "housing_status", "employment_status"
    ):
        done[month].append((housing, employment))
    missed = Counter(contacts.filter(_missed_q(today, grace)).values_list("month", flat=True))
    summary = []
    for month in followup_months():
        rows = done.get(month, [])
        housing = Counter(h for h, _ in rows)
        employment = Counter(e for _, e in rows)
        summary.append(
            FollowUpMonthSummary(
                month=month,
                done=_suppress(len(rows)),
                missed=_suppress(missed.get(month, 0)),
                housing={
                    code: Proportion(housing.get(code, 0), len(rows))
                    for code in HousingStatus.values
                },
                employment={
                    code: Proportion(employment.get(code, 0), len(rows))
                    for code in EmploymentStatus.values
                },
            )
        )
    return summary

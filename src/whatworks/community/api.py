"""Read-only JSON endpoints for the community app, scoped exactly like the web pages.

A person outside the caller's scope is a 404, like a missing one; a role without access
gets 403. Follow-up findings on substance use and treatment continuity are null for roles
that do not see health data, and contact with justice for roles that do not see police and
court records.
"""

from __future__ import annotations

import datetime

from django.http import Http404
from ninja import Router, Schema

from whatworks.community import access, selectors
from whatworks.records.access import access_person_by_id
from whatworks.records.models import Person

router = Router(tags=["community"])


class ProviderOut(Schema):
    id: int
    name: str
    kind: str
    pathways: list[str]
    coverage_regions: list[str]
    address: str
    phone: str
    email: str
    contact_person: str
    active: bool


class ProviderStatusChangeOut(Schema):
    from_status: str
    to_status: str
    effective_date: datetime.date
    note: str


class ProviderReferralOut(Schema):
    id: int
    provider_id: int
    provider_name: str
    pathway: str
    referred_on: datetime.date
    status: str
    status_date: datetime.date
    outcome_code: str
    outcome: str
    outcome_date: datetime.date | None
    lock_version: int
    history: list[ProviderStatusChangeOut]


class FollowUpOut(Schema):
    id: int
    episode_id: int
    month: int
    due_date: datetime.date
    status: str  # effective: a scheduled contact past due + grace days is "missed"
    recorded_status: str
    overdue: bool
    back_in_custody: bool
    contact_date: datetime.date | None
    contact_mode: str
    housing_status: str
    employment_status: str
    substance_use: str | None
    treatment_continuity: str | None
    justice_contact: str | None


class PersonCommunityOut(Schema):
    person_id: int
    referrals: list[ProviderReferralOut]
    follow_ups: list[FollowUpOut]


def _provider_out(provider) -> dict:
    return {
        field: getattr(provider, field)
        for field in (
            "id",
            "name",
            "kind",
            "pathways",
            "coverage_regions",
            "address",
            "phone",
            "email",
            "contact_person",
            "active",
        )
    }


@router.get("/community/providers", response=list[ProviderOut])
def provider_list(
    request,
    kind: str = "",
    pathway: str = "",
    region: str = "",
    q: str = "",
    active: str = "active",
):
    if not access.can_view_providers(request.user):
        raise PermissionError
    providers = selectors.provider_list(
        viewer=request.user,
        kind=kind,
        pathway=pathway,
        region=region,
        q=q,
        active={"inactive": False, "all": None}.get(active, True),
    )
    return [_provider_out(provider) for provider in providers]


@router.get("/persons/{person_id}/community", response=PersonCommunityOut)
def person_community(request, person_id: int):
    if not access.can_view_community_records(request.user):
        raise PermissionError
    try:
        person = access_person_by_id(request.user, person_id)
    except Person.DoesNotExist:
        raise Http404 from None
    referrals = [
        {
            "id": referral.pk,
            "provider_id": referral.provider_id,
            "provider_name": referral.provider.name,
            "pathway": referral.pathway,
            "referred_on": referral.referred_on,
            "status": referral.status,
            "status_date": referral.status_date,
            "outcome_code": referral.outcome_code,
            "outcome": referral.outcome,
            "outcome_date": referral.outcome_date,
            "lock_version": referral.lock_version,
            "history": [
                {
                    "from_status": change.from_status,
                    "to_status": change.to_status,
                    "effective_date": change.effective_date,
                    "note": change.note,
                }
                for change in referral.changes.all()
            ],
        }
        for referral in selectors.person_referrals(viewer=request.user, person=person)
    ]
    show_health = access.can_see_health_outcomes(request.user)
    show_justice = access.can_see_justice_outcomes(request.user)
    follow_ups = [
        {
            "id": row.contact.pk,
            "episode_id": row.contact.episode_id,
            "month": row.contact.month,
            "due_date": row.contact.due_date,
            "status": row.status,
            "recorded_status": row.contact.status,
            "overdue": row.overdue,
            "back_in_custody": row.back_in_custody,
            "contact_date": row.contact.contact_date,
            "contact_mode": row.contact.contact_mode,
            "housing_status": row.contact.housing_status,
            "employment_status": row.contact.employment_status,
            # Withheld (null) from roles that do not see health data or police records.
            "substance_use": row.contact.substance_use if show_health else None,
            "treatment_continuity": row.contact.treatment_continuity if show_health else None,
            "justice_contact": row.contact.justice_contact if show_justice else None,
        }
        for row in selectors.person_followups(viewer=request.user, person=person)
    ]
    return {"person_id": person.pk, "referrals": referrals, "follow_ups": follow_ups}

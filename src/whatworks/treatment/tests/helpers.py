"""Programmes, groups and assessed persons for the treatment tests."""

from __future__ import annotations

import datetime
from decimal import Decimal

from whatworks.assessments.tests.helpers import completed, rnr_answers
from whatworks.treatment import services


def make_programme(code: str = "CBT-1", **overrides):
    data = {
        "code": code,
        "name": f"Programme {code}",
        "programme_type": "cognitive_behavioural",
        "target_needs": ["antisocial_attitudes", "antisocial_personality"],
        "dosage_hours": Decimal("60"),
        "dosage_sessions": 30,
        "session_hours": Decimal("2"),
        "group_capacity": 12,
        "setting": "facility",
        "evidence_rating": "effective",
        "evidence_source": "CrimeSolutions: CBT for adults (effective)",
        "remission_kind": "none",
    }
    data.update(overrides)
    facilities = data.pop("facilities", None)
    return services.programme_save(actor=None, data=data, facilities=facilities)


def assess(actor, person, *, high: bool = True, assessed_on: datetime.date | None = None):
    """A completed RNR screener: every risk item at the top (very high risk, every need) or
    at the bottom (low risk, no need)."""
    return completed(actor, person, "rnr-screener", rnr_answers(high=high), assessed_on=assessed_on)


def approved_plan(actor, person, *, agreement: str = "agreed"):
    plan = services.plan_propose(actor=actor, person=person)
    return services.plan_approve(actor=actor, plan=plan, agreement=agreement)


def running_group(programme, facility, *, start: datetime.date, capacity: int | None = None):
    return services.group_create(
        actor=None,
        programme=programme,
        facility=facility,
        name=f"{programme.code} group",
        start_date=start,
        capacity=capacity,
    )


def allocated(actor, referral, group, *, day: datetime.date):
    """Move a fresh referral through suitability and the waitlist into ``group``."""
    for status in ("assessed_suitable", "waitlisted"):
        referral = services.referral_transition(
            actor=actor, referral=referral, to_status=status, effective_date=day
        )
    return services.referral_transition(
        actor=actor, referral=referral, to_status="allocated", group=group, effective_date=day
    )

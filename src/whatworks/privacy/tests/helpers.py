"""A richly recorded person for the privacy tests: one or more rows in every section,
made with the apps' own services (as staff would), plus persons released long ago."""

from __future__ import annotations

import datetime

from conftest import admission_data, person_data

DAY = datetime.date(2026, 3, 2)
NOTE = "Lives with his sister Ana at Calle Falsa 123"


def rich_person(person, facility, other_facility, *, staff):
    """Give ``person`` (held at ``facility``, admitted 2024-01-15) a record in every
    section; they end released on 2026-06-01 from ``other_facility``."""
    from whatworks.assessments.tests.helpers import completed, rnr_answers
    from whatworks.community import services as community
    from whatworks.community.tests.helpers import provider
    from whatworks.drugtests import services as drugtests
    from whatworks.health import services as health
    from whatworks.outcomes.tests.helpers import link_review_for
    from whatworks.privacy.models import RetentionRecord
    from whatworks.records import services as records
    from whatworks.reintegration import selectors as reintegration_selectors
    from whatworks.reintegration import services as reintegration
    from whatworks.treatment import services as treatment
    from whatworks.treatment.tests.helpers import allocated, make_programme

    episode = person.custody_episodes.get()
    programme = make_programme(facilities=[facility, other_facility])
    ngo = provider(actor=None)
    answers = {**rnr_answers(high=True), "resp_first_language": "Mapudungun"}
    completed(staff, person, "rnr-screener", answers)
    plan = treatment.plan_propose(actor=staff, person=person)
    goal = treatment.plan_goal_save(
        actor=staff, plan=plan, data={"description": "Finish the programme", "need": ""}
    )
    treatment.plan_step_save(
        actor=staff, goal=goal, data={"description": "Attend", "owner": "staff"}
    )
    plan = treatment.plan_approve(actor=staff, plan=plan, agreement="agreed", agreement_notes=NOTE)
    treatment.plan_review_record(actor=staff, plan=plan, notes=NOTE, reviewed_on=DAY)

    referral = treatment.referral_create(
        actor=staff, person=person, programme=programme, referral_date=DAY, override_reason="x"
    )
    group = treatment.group_create(
        actor=staff, programme=programme, facility=facility, name="Group", start_date=DAY
    )
    referral = allocated(staff, referral, group, day=DAY)
    session = treatment.session_create(
        actor=staff, group=group, session_date=DAY, start_time=datetime.time(10), hours=2
    )
    treatment.attendance_record(
        actor=staff, session=session, referral=referral, status="attended", note=NOTE
    )
    treatment.disciplinary_fault_record(
        actor=staff, person=person, fault_date=DAY, description=NOTE, revoked_fraction="1/6"
    )

    health.diagnosis_record(
        actor=None,
        person=person,
        data={"recorded_on": DAY, "status": "active", "code": "F32.1", "category": "other"},
    )
    health.health_referral_create(
        actor=None, person=person, data={"to_service": "Mental health", "reason": NOTE}
    )
    health.relapse_plan_save(actor=None, person=person, data={"coping_strategies": NOTE})
    drugtests.drug_test_record(
        actor=None,
        person=person,
        test_date=DAY,
        reason="random",
        sample="urine",
        results={"cannabis": "negative"},
    )

    preparation = reintegration.preparation_start(actor=staff, episode=episode)
    reintegration.task_create(
        actor=staff,
        preparation=preparation,
        data={
            "pathway": "family",
            "description": NOTE,
            "owner": staff,
            "due_date": datetime.date(2026, 12, 1),
        },
    )
    reintegration.arrangement_create(
        actor=staff,
        preparation=preparation,
        data={
            "kind": "accommodation",
            "detail_type": "family",
            "status": "planned",
            "notes": NOTE,
        },
    )
    summary = reintegration_selectors.release_summary(viewer=staff, person=person, language="es")
    reintegration.handover_record(
        actor=staff,
        preparation=preparation,
        recipient="probation",
        handed_over_on=datetime.date(2026, 3, 20),
        summary=summary,
        language="es",
    )
    community_referral = community.provider_referral_create(
        actor=staff,
        person=person,
        data={"provider": ngo, "pathway": "accommodation", "referred_on": DAY, "notes": NOTE},
    )
    community.provider_referral_transition(
        actor=staff,
        referral=community_referral,
        data={"to_status": "sent", "effective_date": DAY, "note": NOTE},
    )

    records.custody_transfer(
        actor=staff,
        episode=episode,
        to_facility=other_facility,
        movement_date=datetime.date(2026, 4, 1),
        reason=NOTE,
    )
    records.custody_release(
        actor=staff,
        episode=episode,
        release_date=datetime.date(2026, 6, 1),
        release_type="end_of_sentence",
    )
    event = records.outcome_event_record(
        actor=staff,
        person=person,
        data={
            "event_type": "rearrest",
            "event_date": datetime.date(2026, 7, 1),
            "source": "police",
            "reference": "PDI-77",
        },
    )
    link_review_for(
        person,
        event_date=datetime.date(2026, 7, 1),
        source_reference="PDI-77",
        file_name="police.csv",
        status="accepted",
        decided_by=staff,
        decided_at=event.recorded_at,
        event=event,
    )
    RetentionRecord.objects.create(
        person=person, action="pseudonymise", applied_at=event.recorded_at
    )
    person.refresh_from_db()
    return person


def released_long_ago(facility, number: int, *, release: datetime.date, notes: str = NOTE):
    """A person admitted in 2010 and released on ``release`` through the services, with a
    note on their needs and on their release movement."""
    from whatworks.records import services as records

    episode = records.person_admit(
        actor=None,
        person_data=person_data(
            prison_number=f"CL-{number:07d}",
            national_id=f"{number}-K",
            support_needs_notes=notes,
        ),
        facility=facility,
        admission_data=admission_data(
            admission_date=datetime.date(2010, 1, 10),
            sentence_date=datetime.date(2010, 1, 10),
            expected_release_date=release,
        ),
    )
    records.custody_release(
        actor=None, episode=episode, release_date=release, release_type="end_of_sentence"
    )
    return episode.person

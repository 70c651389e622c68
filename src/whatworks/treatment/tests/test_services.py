"""Treatment services: plans, the referral life cycle, capacity, sessions, attendance,
custody changes and faults — each write validated and audited."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from whatworks.audit.models import AuditEvent
from whatworks.records.services import custody_release, custody_transfer
from whatworks.treatment import services
from whatworks.treatment.models import (
    Attendance,
    InterventionPlan,
    PlanStatus,
    Referral,
    ReferralStatusChange,
)
from whatworks.treatment.tests.helpers import (
    allocated,
    approved_plan,
    assess,
    make_programme,
    running_group,
)

pytestmark = pytest.mark.django_db

DAY = datetime.date(2025, 3, 3)  # a Monday, in the past


@pytest.fixture
def cbt(facility_a):
    return make_programme("CBT-1", facilities=[facility_a])


@pytest.fixture
def substance(facility_a):
    return make_programme(
        "SUD-1",
        programme_type="substance_use",
        target_needs=["substance_abuse"],
        dosage_hours=Decimal("120"),
        facilities=[facility_a],
    )


@pytest.fixture
def assessed(alice, person_in_a):
    assess(alice, person_in_a, high=True)
    return person_in_a


# --- plans ---------------------------------------------------------------------------------


def test_proposed_plan_follows_risk_and_need(alice, assessed, cbt, substance):
    plan = services.plan_propose(actor=alice, person=assessed)
    assert plan.status == PlanStatus.DRAFT and plan.version == 1
    # Every risk item at the top: very high risk, so the risk principle asks for 300 hours.
    assert plan.risk_band == "very_high"
    assert plan.target_hours == Decimal("300")
    programmes = [goal.programme.code for goal in plan.goals.all()]
    assert set(programmes) == {"CBT-1", "SUD-1"}
    assert all(goal.steps.count() == 1 for goal in plan.goals.all())
    # The proposal keeps its reasons as codes, so they can be explained in any language.
    item_codes = {reason["code"] for item in plan.proposal["items"] for reason in item["reasons"]}
    assert "targets_need" in item_codes
    assert AuditEvent.objects.filter(action="plan.propose", object_id=str(plan.pk)).exists()


def test_plan_without_goals_is_refused(alice, person_in_a):
    assess(alice, person_in_a, high=False)  # low risk, no need, no programme offered
    plan = services.plan_propose(actor=alice, person=person_in_a)
    assert plan.goals.count() == 0
    with pytest.raises(ValidationError) as error:
        services.plan_approve(actor=alice, plan=plan, agreement="agreed")
    assert "goals" in error.value.message_dict


def test_approval_needs_the_persons_answer_and_keeps_every_version(alice, assessed, cbt):
    plan = services.plan_propose(actor=alice, person=assessed)
    with pytest.raises(ValidationError) as error:
        services.plan_approve(actor=alice, plan=plan, agreement="")
    assert "agreement" in error.value.message_dict
    first = services.plan_approve(actor=alice, plan=plan, agreement="did_not_agree")
    assert first.next_review_date is not None
    draft = services.plan_revise(actor=alice, plan=first)
    assert draft.version == 2 and draft.goals.count() == first.goals.count()
    services.plan_goal_save(
        actor=alice,
        plan=draft,
        data={"description": "Find work for release", "need": "school_work"},
    )
    goal = draft.goals.get(description="Find work for release")
    services.plan_step_save(actor=alice, goal=goal, data={"description": "CV", "owner": "staff"})
    second = services.plan_approve(actor=alice, plan=draft, agreement="agreed")
    first.refresh_from_db()
    assert first.status == PlanStatus.SUPERSEDED and second.status == PlanStatus.APPROVED
    assert first.goals.count() == 1 and second.goals.count() == 2
    assert InterventionPlan.objects.filter(person=assessed).count() == 2


def test_approved_plan_changes_only_progress(alice, assessed, cbt):
    plan = approved_plan(alice, assessed)
    goal = plan.goals.first()
    with pytest.raises(ValidationError):
        services.plan_goal_save(actor=alice, plan=plan, goal=goal, data={"description": "new"})
    updated = services.plan_goal_save(
        actor=alice, plan=plan, goal=goal, data={"status": "in_progress"}
    )
    assert updated.status == "in_progress"


def test_programme_staff_cannot_plan(pablo, assessed, cbt):
    with pytest.raises(PermissionError):
        services.plan_propose(actor=pablo, person=assessed)


# --- referrals -----------------------------------------------------------------------------


def test_referral_against_the_plan_needs_an_override_reason(alice, assessed, cbt, facility_a):
    # Faith programmes target no criminogenic need, so the plan never proposes one.
    other = make_programme("FE-1", programme_type="faith", target_needs=[], facilities=[facility_a])
    plan = approved_plan(alice, assessed)
    assert not plan.goals.filter(programme=other).exists()
    with pytest.raises(ValidationError) as error:
        services.referral_create(actor=alice, person=assessed, programme=other)
    assert "override_reason" in error.value.message_dict
    referral = services.referral_create(
        actor=alice, person=assessed, programme=other, override_reason="Asked by the court"
    )
    assert referral.override_reason == "Asked by the court"
    # The plan's own programme needs no reason.
    in_plan = services.referral_create(actor=alice, person=assessed, programme=cbt)
    assert in_plan.override_reason == ""


def test_ineligible_referral_names_the_rule(alice, assessed, facility_a):
    womens = make_programme("W-1", eligible_sexes=["female"], facilities=[facility_a])
    with pytest.raises(ValidationError) as error:
        services.referral_create(actor=alice, person=assessed, programme=womens)
    assert "override_reason" in error.value.message_dict


def test_referral_life_cycle_records_who_when_why_and_days(alice, pablo, assessed, cbt, facility_a):
    approved_plan(alice, assessed)
    referral = services.referral_create(
        actor=alice, person=assessed, programme=cbt, referral_date=DAY
    )
    group = running_group(cbt, facility_a, start=DAY)
    steps = [
        ("assessed_suitable", DAY + datetime.timedelta(days=5), {}),
        ("waitlisted", DAY + datetime.timedelta(days=5), {}),
        ("allocated", DAY + datetime.timedelta(days=40), {"group": group}),
        ("in_progress", DAY + datetime.timedelta(days=41), {}),
        ("completed", DAY + datetime.timedelta(days=120), {}),
    ]
    for status, day, extra in steps:
        referral = services.referral_transition(
            actor=pablo, referral=referral, to_status=status, effective_date=day, **extra
        )
    changes = list(ReferralStatusChange.objects.filter(referral=referral))
    assert [change.to_status for change in changes] == [
        "referred",
        "assessed_suitable",
        "waitlisted",
        "allocated",
        "in_progress",
        "completed",
    ]
    assert [change.days_in_previous for change in changes] == [0, 5, 0, 35, 1, 79]
    assert all(change.changed_by is not None for change in changes)
    assert referral.ended_on == DAY + datetime.timedelta(days=120)


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([], "allocated"),  # must be assessed and waitlisted first
        ([], "completed"),
        (["assessed_suitable"], "in_progress"),
        (["not_suitable"], "assessed_suitable"),  # terminal
    ],
)
def test_illegal_transitions_are_refused(alice, pablo, assessed, cbt, path, illegal):
    approved_plan(alice, assessed)
    referral = services.referral_create(actor=alice, person=assessed, programme=cbt)
    for status in path:
        referral = services.referral_transition(
            actor=pablo, referral=referral, to_status=status, reason="seen"
        )
    with pytest.raises(ValidationError) as error:
        services.referral_transition(actor=pablo, referral=referral, to_status=illegal)
    assert "to_status" in error.value.message_dict


def test_not_completed_needs_a_reason(alice, assessed, cbt):
    approved_plan(alice, assessed)
    referral = services.referral_create(actor=alice, person=assessed, programme=cbt)
    with pytest.raises(ValidationError) as error:
        services.referral_transition(actor=alice, referral=referral, to_status="not_completed")
    assert "end_reason" in error.value.message_dict
    ended = services.referral_transition(
        actor=alice, referral=referral, to_status="not_completed", end_reason="withdrawn_self"
    )
    assert ended.end_reason == "withdrawn_self"


def test_case_manager_cannot_allocate(alice, assessed, cbt):
    approved_plan(alice, assessed)
    referral = services.referral_create(actor=alice, person=assessed, programme=cbt)
    with pytest.raises(PermissionError):
        services.referral_transition(actor=alice, referral=referral, to_status="assessed_suitable")


def test_allocation_over_capacity_is_refused(alice, pablo, facility_a, cbt):
    from conftest import admission_data, person_data
    from whatworks.records.services import person_admit

    group = running_group(cbt, facility_a, start=DAY, capacity=1)
    referrals = []
    for number in (11, 12):
        person = person_admit(
            actor=None,
            person_data=person_data(prison_number=f"CL-00000{number}"),
            facility=facility_a,
            admission_data=admission_data(),
        ).person
        assess(alice, person, high=True)
        approved_plan(alice, person)
        referrals.append(
            services.referral_create(actor=alice, person=person, programme=cbt, referral_date=DAY)
        )
    allocated(pablo, referrals[0], group, day=DAY)
    with pytest.raises(ValidationError) as error:
        allocated(pablo, referrals[1], group, day=DAY)
    assert "1 of 1" in error.value.message_dict["group"][0]


# --- sessions and attendance ---------------------------------------------------------------


@pytest.fixture
def in_group(alice, pablo, assessed, cbt, facility_a):
    approved_plan(alice, assessed)
    referral = services.referral_create(
        actor=alice, person=assessed, programme=cbt, referral_date=DAY
    )
    group = running_group(cbt, facility_a, start=DAY)
    return allocated(pablo, referral, group, day=DAY), group


def _session(pablo, group, day=DAY, start="09:00", hours="2", **extra):
    return services.session_create(
        actor=pablo,
        group=group,
        session_date=day,
        start_time=datetime.time.fromisoformat(start),
        hours=hours,
        **extra,
    )


def test_double_booked_sessions_are_refused(pablo, fabio, in_group, cbt, facility_a):
    _referral, group = in_group
    _session(pablo, group, facilitator=pablo, room="Aula 1")
    with pytest.raises(ValidationError) as error:
        _session(pablo, group, start="10:00")
    assert "start_time" in error.value.message_dict
    other = running_group(cbt, facility_a, start=DAY)
    with pytest.raises(ValidationError) as error:
        _session(pablo, other, start="10:30", facilitator=pablo)
    assert "facilitator" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        _session(pablo, other, start="10:30", facilitator=fabio, room="aula 1")
    assert "room" in error.value.message_dict
    assert _session(pablo, other, start="11:00", facilitator=pablo, room="Aula 1")


def test_attendance_counts_hours_and_starts_the_programme(pablo, in_group):
    referral, group = in_group
    first = _session(pablo, group)
    second = _session(pablo, group, day=DAY + datetime.timedelta(days=2))
    services.attendance_record(actor=pablo, session=first, referral=referral, status="attended")
    referral.refresh_from_db()
    assert referral.status == "in_progress" and referral.started_on == DAY
    services.attendance_record(
        actor=pablo, session=second, referral=referral, status="late", hours="1.5"
    )
    total = sum(row.hours for row in Attendance.objects.filter(referral=referral, is_current=True))
    assert total == Decimal("3.5")


def test_attendance_for_a_future_session_is_refused(pablo, in_group):
    referral, group = in_group
    future = _session(pablo, group, day=datetime.date.today() + datetime.timedelta(days=7))
    with pytest.raises(ValidationError) as error:
        services.attendance_record(
            actor=pablo, session=future, referral=referral, status="attended"
        )
    assert "session" in error.value.message_dict


def test_excused_absence_needs_a_reason_and_counts_no_hours(pablo, in_group):
    referral, group = in_group
    session = _session(pablo, group)
    with pytest.raises(ValidationError) as error:
        services.attendance_record(
            actor=pablo, session=session, referral=referral, status="excused"
        )
    assert "excuse_reason" in error.value.message_dict
    row = services.attendance_record(
        actor=pablo, session=session, referral=referral, status="excused", excuse_reason="court"
    )
    assert row.hours == 0


def test_correction_keeps_the_history(pablo, in_group):
    referral, group = in_group
    session = _session(pablo, group)
    original = services.attendance_record(
        actor=pablo, session=session, referral=referral, status="unexcused"
    )
    with pytest.raises(ValidationError):
        services.attendance_record(
            actor=pablo, session=session, referral=referral, status="attended"
        )
    with pytest.raises(ValidationError) as error:
        services.attendance_correct(actor=pablo, attendance=original, status="attended", reason="")
    assert "reason" in error.value.message_dict
    correction = services.attendance_correct(
        actor=pablo, attendance=original, status="attended", reason="Register was mixed up"
    )
    original.refresh_from_db()
    assert not original.is_current and correction.supersedes == original
    assert correction.hours == Decimal("2")
    assert Attendance.objects.filter(referral=referral).count() == 2
    assert AuditEvent.objects.filter(action="attendance.correct").count() == 1


def test_person_cannot_attend_two_overlapping_sessions(
    alice, pablo, in_group, assessed, facility_a
):
    referral, group = in_group
    life = make_programme(
        "LIFE-2", programme_type="life_skills", target_needs=[], facilities=[facility_a]
    )
    other_group = running_group(life, facility_a, start=DAY)
    other_referral = services.referral_create(
        actor=alice, person=assessed, programme=life, override_reason="Asked", referral_date=DAY
    )
    other_referral = allocated(pablo, other_referral, other_group, day=DAY)
    first = _session(pablo, group)
    clash = _session(pablo, other_group, start="10:00")
    services.attendance_record(actor=pablo, session=first, referral=referral, status="attended")
    with pytest.raises(ValidationError) as error:
        services.attendance_record(
            actor=pablo, session=clash, referral=other_referral, status="attended"
        )
    assert "session" in error.value.message_dict


# --- custody changes -----------------------------------------------------------------------


def test_transfer_and_release_end_enrolments_with_that_reason(
    alice, fabio, pablo, in_group, facility_b, assessed
):
    referral, _group = in_group
    episode = assessed.custody_episodes.get()
    custody_transfer(
        actor=None,
        episode=episode,
        to_facility=facility_b,
        movement_date=DAY + datetime.timedelta(days=10),
    )
    referral.refresh_from_db()
    assert referral.status == "not_completed" and referral.end_reason == "transferred"
    assert referral.ended_on == DAY + datetime.timedelta(days=10)
    change = referral.changes.last()
    assert change.to_status == "not_completed"


def test_release_ends_waiting_referrals(alice, pablo, assessed, cbt):
    approved_plan(alice, assessed)
    referral = services.referral_create(actor=alice, person=assessed, programme=cbt)
    for status in ("assessed_suitable", "waitlisted"):
        referral = services.referral_transition(actor=pablo, referral=referral, to_status=status)
    custody_release(
        actor=None,
        episode=assessed.custody_episodes.get(),
        release_date=datetime.date.today(),
        release_type="end_of_sentence",
    )
    referral = Referral.objects.get(pk=referral.pk)
    assert (referral.status, referral.end_reason) == ("not_completed", "released")


# --- remission -----------------------------------------------------------------------------


def test_fault_revocation_above_the_legal_limit_is_refused(fabio, assessed):
    with pytest.raises(ValidationError) as error:
        services.disciplinary_fault_record(
            actor=fabio,
            person=assessed,
            fault_date=DAY,
            description="Fight",
            revoked_fraction="1/2",
        )
    assert "revoked_fraction" in error.value.message_dict
    fault = services.disciplinary_fault_record(
        actor=fabio, person=assessed, fault_date=DAY, description="Fight", revoked_fraction="1/3"
    )
    assert fault.revoked_fraction == "1/3"


def test_case_manager_cannot_record_faults(alice, assessed):
    with pytest.raises(PermissionError):
        services.disciplinary_fault_record(
            actor=alice, person=assessed, fault_date=DAY, description="x", revoked_fraction="1/3"
        )


def test_an_absence_does_not_start_the_programme(pablo, in_group):
    referral, group = in_group
    session = _session(pablo, group)
    services.attendance_record(
        actor=pablo, session=session, referral=referral, status="excused", excuse_reason="health"
    )
    referral.refresh_from_db()
    assert referral.status == "allocated"


def test_a_schedule_with_a_clash_is_refused_whole_naming_the_date(pablo, in_group):
    _referral, group = in_group
    _session(pablo, group, day=DAY + datetime.timedelta(days=7))  # the second Monday
    with pytest.raises(ValidationError) as error:
        services.sessions_schedule(
            actor=pablo,
            group=group,
            weekdays=[0],
            start_time=datetime.time(9),
            hours="2",
            first_date=DAY,
            count=3,
        )
    assert (DAY + datetime.timedelta(days=7)).isoformat() in error.value.message_dict["start_time"][
        0
    ]
    assert group.sessions.count() == 1
    with pytest.raises(ValidationError) as error:
        services.sessions_schedule(
            actor=pablo,
            group=group,
            weekdays=["monday"],
            start_time=datetime.time(9),
            hours="2",
            first_date=DAY,
            count=3,
        )
    assert "weekdays" in error.value.message_dict

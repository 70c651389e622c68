"""A person's treatment pages through HTTP, persona by persona, and what bad input does."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from whatworks.treatment import services
from whatworks.treatment.models import InterventionPlan, PlanStatus, Referral
from whatworks.treatment.tests.helpers import (
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
def assessed(alice, person_in_a):
    assess(alice, person_in_a, high=True)
    return person_in_a


# --- the plan ------------------------------------------------------------------------------


def test_alice_proposes_edits_and_approves_a_plan(client, alice, assessed, cbt):
    client.force_login(alice)
    page = client.get(reverse("person-treatment", args=[assessed.pk]))
    assert page.status_code == 200
    assert reverse("plan-propose", args=[assessed.pk]) in page.content.decode()

    response = client.post(reverse("plan-propose", args=[assessed.pk]))
    plan = InterventionPlan.objects.get()
    assert response.url == reverse("plan-detail", args=[plan.pk])
    detail = client.get(response.url).content.decode()
    assert "Why these programmes" in detail
    assert cbt.name in detail
    assert "Evidence rating: Effective." in detail  # a reason rendered from its code

    goal = plan.goals.get()
    response = client.post(
        reverse("goal-edit", args=[plan.pk, goal.pk]),
        {
            "need": "antisocial_attitudes",
            "description": "Think before acting",
            "programme": str(cbt.pk),
            "planned_hours": "60",
            "target_date": "2026-01-31",
            "status": "not_started",
        },
    )
    assert response.url == reverse("plan-detail", args=[plan.pk])
    goal.refresh_from_db()
    assert goal.description == "Think before acting"

    response = client.post(
        reverse("plan-approve", args=[plan.pk]), {"agreement": "agreed", "agreement_notes": ""}
    )
    assert response.url == reverse("person-treatment", args=[assessed.pk])
    plan.refresh_from_db()
    assert (plan.status, plan.agreement, plan.approved_by) == ("approved", "agreed", alice)

    page = client.get(response.url).content.decode()
    assert "Think before acting" in page
    assert reverse("plan-revise", args=[plan.pk]) in page
    assert reverse("plan-review", args=[plan.pk]) in page
    assert "<progress" in page


def test_the_page_follows_the_users_language(client, alice, assessed, cbt):
    approved_plan(alice, assessed)
    client.force_login(alice)
    client.cookies["django_language"] = "es"
    page = client.get(
        reverse("person-treatment", args=[assessed.pk]), HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()
    assert '<html lang="es">' in page
    assert "Estado" in page  # "Status", already in the catalogue
    assert 'id="why"' in page  # the explanation section is there, in whatever words


def test_approving_a_plan_without_goals_shows_the_error(client, alice, assessed, cbt):
    plan = services.plan_propose(actor=alice, person=assessed)
    for goal in plan.goals.all():
        services.plan_goal_delete(actor=alice, goal=goal)
    client.force_login(alice)
    response = client.post(reverse("plan-approve", args=[plan.pk]), {"agreement": "agreed"})
    assert response.status_code == 400
    assert "at least one goal" in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT


def test_goal_and_step_status_change_on_the_approved_plan(client, alice, assessed, cbt):
    plan = approved_plan(alice, assessed)
    goal = plan.goals.get()
    step = goal.steps.get()
    client.force_login(alice)
    response = client.post(
        reverse("goal-edit", args=[plan.pk, goal.pk]), {f"goal-{goal.pk}-status": "in_progress"}
    )
    assert response.url == reverse("person-treatment", args=[assessed.pk])
    response = client.post(
        reverse("step-edit", args=[plan.pk, goal.pk, step.pk]), {f"step-{step.pk}-status": "done"}
    )
    assert response.status_code == 302
    goal.refresh_from_db()
    step.refresh_from_db()
    assert (goal.status, step.status) == ("in_progress", "done")


def test_revise_and_review(client, alice, assessed, cbt):
    plan = approved_plan(alice, assessed)
    client.force_login(alice)
    response = client.post(
        reverse("plan-review", args=[plan.pk]), {"notes": "On track", "reviewed_on": ""}
    )
    assert response.url == reverse("person-treatment", args=[assessed.pk])
    assert plan.reviews.get().notes == "On track"
    response = client.post(reverse("plan-revise", args=[plan.pk]))
    draft = InterventionPlan.objects.get(status=PlanStatus.DRAFT)
    assert response.url == reverse("plan-detail", args=[draft.pk])
    assert draft.version == 2 and draft.goals.count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {"need": "nonsense", "description": "x", "status": "not_started"},
        {"description": "x", "planned_hours": "lots", "status": "not_started"},
        {"description": "x", "programme": "abc", "status": "not_started"},
        {"description": "", "status": "bogus"},
        {"description": "x", "target_date": "31/31/2025", "status": "not_started"},
    ],
)
def test_garbage_goal_posts_are_400(client, alice, assessed, cbt, data):
    plan = services.plan_propose(actor=alice, person=assessed)
    client.force_login(alice)
    response = client.post(reverse("goal-new", args=[plan.pk]), data)
    assert response.status_code == 400
    assert plan.goals.count() == 1


def test_new_step_and_goal_delete(client, alice, assessed, cbt):
    plan = services.plan_propose(actor=alice, person=assessed)
    goal = plan.goals.get()
    client.force_login(alice)
    response = client.post(
        reverse("step-new", args=[plan.pk, goal.pk]),
        {"description": "Meet the tutor", "owner": "staff", "status": "pending"},
    )
    assert response.status_code == 302
    assert goal.steps.count() == 2
    response = client.post(
        reverse("step-new", args=[plan.pk, goal.pk]), {"description": "x", "owner": "nobody"}
    )
    assert response.status_code == 400
    response = client.post(reverse("goal-delete", args=[plan.pk, goal.pk]))
    assert response.url == reverse("plan-detail", args=[plan.pk])
    assert not plan.goals.exists()


# --- who may see and do what -----------------------------------------------------------------


def test_bruno_gets_404_for_alices_person(client, alice, bruno, assessed, cbt):
    plan = approved_plan(alice, assessed)
    client.force_login(bruno)
    for url in [
        reverse("person-treatment", args=[assessed.pk]),
        reverse("plan-detail", args=[plan.pk]),
        reverse("referral-new", args=[assessed.pk]),
        reverse("plan-review", args=[plan.pk]),
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("plan-revise", args=[plan.pk])).status_code == 404
    assert client.post(reverse("plan-propose", args=[assessed.pk])).status_code == 404


def test_carla_sees_no_person_treatment(client, alice, carla, assessed, cbt):
    plan = approved_plan(alice, assessed)
    client.force_login(carla)
    assert client.get(reverse("person-treatment", args=[assessed.pk])).status_code in (403, 404)
    assert client.get(reverse("plan-detail", args=[plan.pk])).status_code in (403, 404)


def test_helena_reads_but_cannot_plan(client, alice, helena, assessed, cbt):
    plan = services.plan_propose(actor=alice, person=assessed)
    client.force_login(helena)
    page = client.get(reverse("plan-detail", args=[plan.pk]))
    assert page.status_code == 200
    assert reverse("plan-approve", args=[plan.pk]) not in page.content.decode()
    response = client.post(reverse("plan-approve", args=[plan.pk]), {"agreement": "agreed"})
    assert response.status_code == 403
    assert client.get(reverse("referral-new", args=[assessed.pk])).status_code == 403


def test_the_person_page_has_a_treatment_section(client, alice, carla, assessed, cbt):
    approved_plan(alice, assessed)
    client.force_login(alice)
    page = client.get(reverse("person-detail", args=[assessed.pk])).content.decode()
    assert reverse("person-treatment", args=[assessed.pk]) in page
    assert "target hours" in page


# --- referrals -----------------------------------------------------------------------------


def test_referral_through_the_form_needs_a_reason_only_against_the_plan(
    client, alice, assessed, cbt, facility_a
):
    other = make_programme("ART-1", programme_type="culture", target_needs=[])
    approved_plan(alice, assessed)
    client.force_login(alice)
    url = reverse("referral-new", args=[assessed.pk])
    assert client.get(url).status_code == 200

    response = client.post(url, {"programme": str(cbt.pk), "facility": str(facility_a.pk)})
    referral = Referral.objects.get()
    assert response.url == reverse("referral-detail", args=[referral.pk])
    assert referral.override_reason == ""

    response = client.post(url, {"programme": str(other.pk), "facility": str(facility_a.pk)})
    assert response.status_code == 400
    assert "does not recommend" in response.content.decode()
    response = client.post(
        url,
        {
            "programme": str(other.pk),
            "facility": str(facility_a.pk),
            "override_reason": "Asked for it; it keeps him busy",
        },
    )
    assert response.status_code == 302
    assert Referral.objects.get(programme=other).override_reason.startswith("Asked")


@pytest.mark.parametrize(
    "data", [{"programme": "x"}, {"programme": "999999"}, {"facility": "zz"}, {}]
)
def test_garbage_referral_posts_are_400(client, alice, assessed, cbt, data):
    client.force_login(alice)
    response = client.post(reverse("referral-new", args=[assessed.pk]), data)
    assert response.status_code == 400
    assert not Referral.objects.exists()


def _waitlisted(alice, pablo, person, programme):
    referral = services.referral_create(
        actor=alice, person=person, programme=programme, override_reason="x", referral_date=DAY
    )
    for status in ("assessed_suitable", "waitlisted"):
        referral = services.referral_transition(
            actor=pablo, referral=referral, to_status=status, effective_date=DAY
        )
    return referral


def test_the_transition_form_offers_only_the_allowed_moves(
    client, alice, pablo, assessed, cbt, facility_a
):
    referral = _waitlisted(alice, pablo, assessed, cbt)
    group = running_group(cbt, facility_a, start=DAY)
    url = reverse("referral-detail", args=[referral.pk])

    client.force_login(alice)
    page = client.get(url).content.decode()
    assert 'value="not_completed"' in page
    assert 'value="allocated"' not in page
    response = client.post(url, {"to_status": "allocated", "group": str(group.pk)})
    assert response.status_code in (400, 403)
    referral.refresh_from_db()
    assert referral.status == "waitlisted"

    client.force_login(pablo)
    page = client.get(url).content.decode()
    assert 'value="allocated"' in page and 'value="not_completed"' in page
    assert 'value="completed"' not in page
    assert "0 of 12 places taken" in page
    response = client.post(
        url, {"to_status": "allocated", "group": str(group.pk), "effective_date": "2025-03-04"}
    )
    assert response.url == url
    referral.refresh_from_db()
    assert (referral.status, referral.group) == ("allocated", group)
    page = client.get(url).content.decode()
    assert "Waitlisted" in page and "Allocated" in page  # the status history


@pytest.mark.parametrize(
    "data",
    [
        {"to_status": "completed"},
        {"to_status": "allocated", "group": "abc"},
        {"to_status": "allocated", "group": "999999"},
        {"to_status": "not_completed", "end_reason": "bored"},
        {"to_status": "not_completed", "end_reason": "other", "effective_date": "2999-01-01"},
        {"to_status": "allocated"},
    ],
)
def test_garbage_transitions_are_400(client, alice, pablo, assessed, cbt, facility_a, data):
    referral = _waitlisted(alice, pablo, assessed, cbt)
    client.force_login(pablo)
    response = client.post(reverse("referral-detail", args=[referral.pk]), data)
    assert response.status_code == 400
    referral.refresh_from_db()
    assert referral.status == "waitlisted"


def test_bruno_cannot_open_the_referral(client, alice, bruno, pablo, assessed, cbt):
    referral = _waitlisted(alice, pablo, assessed, cbt)
    client.force_login(bruno)
    assert client.get(reverse("referral-detail", args=[referral.pk])).status_code == 404


# --- earned remission --------------------------------------------------------------------


def test_remission_shows_the_days_earned_by_study(
    client, alice, pablo, fabio, assessed, facility_a
):
    school = make_programme(
        "EDU-1",
        name="Primary school",
        programme_type="education_primary",
        target_needs=[],
        remission_kind="study",
        session_hours=Decimal("4"),
        facilities=[facility_a],
    )
    referral = _waitlisted(alice, pablo, assessed, school)
    group = running_group(school, facility_a, start=DAY)
    referral = services.referral_transition(
        actor=pablo, referral=referral, to_status="allocated", group=group, effective_date=DAY
    )
    for offset in range(1, 4):
        session = services.session_create(
            actor=pablo,
            group=group,
            session_date=DAY + datetime.timedelta(days=offset),
            start_time=datetime.time(9, 0),
            hours=Decimal("4"),
        )
        services.attendance_record(
            actor=pablo, session=session, referral=referral, status="attended"
        )
    client.force_login(fabio)
    page = client.get(reverse("person-treatment", args=[assessed.pk])).content.decode()
    assert "Earned remission" in page
    assert 'class="treatment-total">1<' in page
    assert "1 day(s) remitted for 12 hours of study" in page
    assert reverse("fault-new", args=[assessed.pk]) in page

    response = client.post(
        reverse("fault-new", args=[assessed.pk]),
        {"fault_date": "2025-03-10", "description": "Fight", "revoked_fraction": "1/2"},
    )
    assert response.status_code == 400  # above the legal limit
    response = client.post(
        reverse("fault-new", args=[assessed.pk]),
        {"fault_date": "2025-03-10", "description": "Fight", "revoked_fraction": "1/3"},
    )
    assert response.url == reverse("person-treatment", args=[assessed.pk])

    client.force_login(alice)
    assert client.get(reverse("fault-new", args=[assessed.pk])).status_code == 403


def test_every_form_page_opens(client, alice, fabio, pablo, assessed, cbt):
    plan = approved_plan(alice, assessed)
    services.plan_review_record(actor=alice, plan=plan, notes="Fine")
    draft = services.plan_revise(actor=alice, plan=plan)
    goal = draft.goals.get()
    step = goal.steps.get()
    client.force_login(alice)
    for url in [
        reverse("plan-detail", args=[plan.pk]),
        reverse("plan-detail", args=[draft.pk]),
        reverse("plan-review", args=[plan.pk]),
        reverse("goal-new", args=[draft.pk]),
        reverse("goal-edit", args=[draft.pk, goal.pk]),
        reverse("step-new", args=[draft.pk, goal.pk]),
        reverse("step-edit", args=[draft.pk, goal.pk, step.pk]),
        reverse("person-treatment", args=[assessed.pk]),
    ]:
        assert client.get(url).status_code == 200, url
    client.force_login(fabio)
    assert client.get(reverse("fault-new", args=[assessed.pk])).status_code == 200
    client.force_login(pablo)
    page = client.get(reverse("person-treatment", args=[assessed.pk])).content.decode()
    assert reverse("plan-propose", args=[assessed.pk]) not in page
    assert reverse("referral-new", args=[assessed.pk]) not in page
    assert client.get(reverse("person-detail", args=[assessed.pk])).status_code == 200


def test_a_goal_of_another_plan_is_404(client, alice, assessed, cbt, person_in_b, bruno):
    plan = services.plan_propose(actor=alice, person=assessed)
    assess(bruno, person_in_b, high=True)
    other = services.plan_propose(actor=bruno, person=person_in_b)
    goal = services.plan_goal_save(actor=bruno, plan=other, data={"description": "Work"})
    client.force_login(alice)
    assert client.get(reverse("goal-edit", args=[plan.pk, goal.pk])).status_code == 404
    assert client.get(reverse("goal-edit", args=[plan.pk, 999999])).status_code == 404


def test_plan_reviews_due_lists_overdue_first_in_scope(client, alice, bruno, pablo, person_in_a):
    import datetime as _datetime

    from whatworks.treatment.models import InterventionPlan
    from whatworks.treatment.tests.helpers import approved_plan, assess, make_programme

    assess(alice, person_in_a, high=True)
    make_programme("CBT-R", facilities=[person_in_a.current_facility])
    plan = approved_plan(alice, person_in_a)
    InterventionPlan.objects.filter(pk=plan.pk).update(
        next_review_date=_datetime.date.today() - _datetime.timedelta(days=3)
    )
    client.force_login(alice)
    response = client.get("/plans/due/")
    assert response.status_code == 200
    assert person_in_a.full_name in response.content.decode()
    assert "overdue" in response.content.decode()
    client.force_login(bruno)
    assert person_in_a.full_name not in client.get("/plans/due/").content.decode()
    client.force_login(pablo)
    assert client.get("/plans/due/").status_code == 403

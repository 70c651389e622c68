"""Optimistic locking of plans and referrals (issue 10): two editors load the same version;
the first save wins, the second is refused with a message naming who changed the record,
and nothing of it is written."""

from __future__ import annotations

import datetime
import threading
import time

import pytest
from django.db import OperationalError, close_old_connections, connection
from django.urls import reverse

from whatworks.accounts.services import api_token_create
from whatworks.audit.models import AuditEvent
from whatworks.concurrency import StaleEdit
from whatworks.treatment import services
from whatworks.treatment.models import InterventionPlan, PlanGoal, Referral
from whatworks.treatment.tests.helpers import approved_plan, assess, make_programme

DAY = datetime.date(2025, 3, 3)


@pytest.fixture
def cbt(facility_a):
    return make_programme("CBT-1", facilities=[facility_a])


@pytest.fixture
def draft(alice, person_in_a, cbt):
    assess(alice, person_in_a, high=True)
    return services.plan_propose(actor=alice, person=person_in_a)


@pytest.fixture
def referral(alice, person_in_a, cbt):
    assess(alice, person_in_a, high=True)
    approved_plan(alice, person_in_a)
    return services.referral_create(
        actor=alice, person=person_in_a, programme=cbt, referral_date=DAY
    )


@pytest.mark.django_db
def test_second_goal_edit_on_a_stale_plan_is_refused(alice, fabio, draft):
    goal = draft.goals.first()
    loaded = draft.lock_version  # both editors open the same version
    services.plan_goal_save(
        actor=alice,
        plan=draft,
        goal=goal,
        data={"description": "Alice's goal"},
        expected_version=loaded,
    )
    events = AuditEvent.objects.count()
    with pytest.raises(StaleEdit) as error:
        services.plan_goal_save(
            actor=fabio,
            plan=draft,
            goal=goal,
            data={"description": "Fabio's goal"},
            expected_version=loaded,
        )
    message = error.value.message_dict["__all__"][0]
    assert "This plan was changed by another user" in message
    assert alice.get_full_name() or alice.get_username() in message
    assert "Your changes were not saved" in message
    assert PlanGoal.objects.get(pk=goal.pk).description == "Alice's goal"
    assert InterventionPlan.objects.get(pk=draft.pk).lock_version == loaded + 1
    assert AuditEvent.objects.count() == events  # nothing of the refused save


@pytest.mark.django_db
def test_stale_approval_is_refused_and_a_current_one_passes(alice, fabio, draft):
    loaded = draft.lock_version
    services.plan_step_save(
        actor=alice,
        goal=draft.goals.first(),
        data={"description": "Meet the tutor", "owner": "staff"},
        expected_version=loaded,
    )
    with pytest.raises(StaleEdit):
        services.plan_approve(actor=fabio, plan=draft, agreement="agreed", expected_version=loaded)
    assert InterventionPlan.objects.get(pk=draft.pk).status == "draft"
    current = InterventionPlan.objects.get(pk=draft.pk).lock_version
    approved = services.plan_approve(
        actor=fabio, plan=draft, agreement="agreed", expected_version=current
    )
    assert approved.status == "approved" and approved.lock_version == current + 1


@pytest.mark.django_db
def test_no_version_means_no_check_but_the_version_still_moves(alice, draft):
    before = draft.lock_version
    services.plan_goal_save(
        actor=alice, plan=draft, goal=draft.goals.first(), data={"description": "x"}
    )
    services.plan_goal_save(
        actor=alice, plan=draft, goal=draft.goals.first(), data={"description": "y"}
    )
    assert InterventionPlan.objects.get(pk=draft.pk).lock_version == before + 2


@pytest.mark.django_db
def test_second_referral_transition_on_a_stale_version_is_refused(fabio, pablo, referral):
    loaded = referral.lock_version
    services.referral_transition(
        actor=pablo,
        referral=referral,
        to_status="assessed_suitable",
        effective_date=DAY,
        expected_version=loaded,
    )
    with pytest.raises(StaleEdit) as error:
        services.referral_transition(
            actor=fabio,
            referral=referral,
            to_status="not_suitable",
            reason="Not motivated",
            effective_date=DAY,
            expected_version=loaded,
        )
    assert "This referral was changed by another user" in error.value.messages[0]
    stored = Referral.objects.get(pk=referral.pk)
    assert stored.status == "assessed_suitable"
    assert [c.to_status for c in stored.changes.all()] == ["referred", "assessed_suitable"]


def _race(calls):
    """Run ``calls`` in threads that start together; each returns "won", "stale" or an
    exception. A thread finding SQLite busy retries, as a person pressing Save again would,
    with the same stale version."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            for _attempt in range(50):
                try:
                    call()
                except OperationalError as error:  # SQLite: "database table is locked"
                    if "locked" not in str(error):
                        raise
                    time.sleep(0.05)
                    continue
                results[index] = "won"
                break
        except StaleEdit:
            results[index] = "stale"
        except Exception as error:
            results[index] = error
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_referral_transitions_exactly_one_wins(fabio, pablo, referral):
    loaded = Referral.objects.get(pk=referral.pk).lock_version

    def accept():
        services.referral_transition(
            actor=pablo,
            referral=referral,
            to_status="assessed_suitable",
            effective_date=DAY,
            expected_version=loaded,
        )

    def decline():
        services.referral_transition(
            actor=fabio,
            referral=referral,
            to_status="not_suitable",
            reason="Not motivated",
            effective_date=DAY,
            expected_version=loaded,
        )

    results = _race([accept, decline])
    assert sorted(map(str, results)) == ["stale", "won"], results
    stored = Referral.objects.get(pk=referral.pk)
    winner = "assessed_suitable" if results[0] == "won" else "not_suitable"
    assert stored.status == winner
    assert stored.lock_version == loaded + 1
    assert [c.to_status for c in stored.changes.all()] == ["referred", winner]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_plan_edits_exactly_one_wins(alice, fabio, draft):
    goal = draft.goals.first()
    loaded = InterventionPlan.objects.get(pk=draft.pk).lock_version

    def edit(actor, text):
        return lambda: services.plan_goal_save(
            actor=actor, plan=draft, goal=goal, data={"description": text}, expected_version=loaded
        )

    results = _race([edit(alice, "Alice's goal"), edit(fabio, "Fabio's goal")])
    assert sorted(map(str, results)) == ["stale", "won"], results
    winner = "Alice's goal" if results[0] == "won" else "Fabio's goal"
    assert PlanGoal.objects.get(pk=goal.pk).description == winner
    assert InterventionPlan.objects.get(pk=draft.pk).lock_version == loaded + 1


# --- through the web and the API ------------------------------------------------------------


@pytest.mark.django_db
def test_web_goal_form_carries_the_version_and_a_stale_save_is_409_with_input_kept(
    client, alice, fabio, draft
):
    goal = draft.goals.first()
    url = reverse("goal-edit", args=[draft.pk, goal.pk])
    client.force_login(alice)
    page = client.get(url).content.decode()
    assert f'name="lock_version" value="{draft.lock_version}"' in page
    # Fabio saves first, from his own page.
    services.plan_goal_save(
        actor=fabio,
        plan=draft,
        goal=goal,
        data={"description": "Fabio's goal"},
        expected_version=draft.lock_version,
    )
    form = {
        "description": "Alice's careful wording",
        "status": "not_started",
        "lock_version": str(draft.lock_version),
    }
    response = client.post(url, form)
    assert response.status_code == 409
    body = response.content.decode()
    assert "This plan was changed by another user after you opened it" in body
    assert "Alice&#x27;s careful wording" in body  # what she typed is still in the form
    assert PlanGoal.objects.get(pk=goal.pk).description == "Fabio's goal"
    # With the current version the save goes through.
    form["lock_version"] = str(InterventionPlan.objects.get(pk=draft.pk).lock_version)
    assert client.post(url, form).status_code == 302
    assert PlanGoal.objects.get(pk=goal.pk).description == "Alice's careful wording"


@pytest.mark.django_db
def test_web_stale_referral_transition_is_refused(client, fabio, pablo, referral):
    url = reverse("referral-detail", args=[referral.pk])
    client.force_login(pablo)
    assert (
        f'name="lock_version" value="{referral.lock_version}"' in client.get(url).content.decode()
    )
    services.referral_transition(
        actor=fabio, referral=referral, to_status="assessed_suitable", effective_date=DAY
    )
    response = client.post(
        url,
        {
            "to_status": "not_suitable",
            "reason": "Not motivated",
            "effective_date": DAY.isoformat(),
            "lock_version": str(referral.lock_version),
        },
    )
    assert response.status_code == 409
    assert "This referral was changed by another user" in response.content.decode()
    assert Referral.objects.get(pk=referral.pk).status == "assessed_suitable"


def _bearer(user) -> dict:
    _, raw = api_token_create(actor=user, user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.mark.django_db
def test_api_returns_the_version_and_answers_409_to_a_stale_transition(
    client, fabio, pablo, referral
):
    headers = _bearer(pablo)
    url = f"/api/v1/referrals/{referral.pk}"
    loaded = client.get(url, **headers).json()["lock_version"]
    assert loaded == referral.lock_version

    def move(to_status, **extra):
        return client.post(
            f"{url}/transitions",
            {"to_status": to_status, "effective_date": DAY.isoformat(), **extra},
            content_type="application/json",
            **headers,
        )

    first = move("assessed_suitable", lock_version=loaded)
    assert first.status_code == 200 and first.json()["lock_version"] == loaded + 1
    stale = move("not_suitable", reason="Not motivated", lock_version=loaded)
    assert stale.status_code == 409
    assert "This referral was changed by another user" in stale.json()["detail"]
    assert Referral.objects.get(pk=referral.pk).status == "assessed_suitable"
    # A version no database integer holds is a field error, not a server error.
    assert move("waitlisted", lock_version=10**20).status_code == 422
    # Without a version there is no check (clients written before locking keep working).
    assert move("waitlisted").status_code == 200


@pytest.mark.django_db
def test_api_plan_read_gives_the_version_and_a_stale_approval_is_409(
    client, alice, bruno, fabio, draft
):
    headers = _bearer(alice)
    read = client.get(f"/api/v1/plans/{draft.pk}", **headers)
    assert read.status_code == 200 and read.json()["lock_version"] == draft.lock_version
    assert client.get(f"/api/v1/plans/{draft.pk}", **_bearer(bruno)).status_code == 404
    services.plan_step_save(
        actor=fabio,
        goal=draft.goals.first(),
        data={"description": "Meet the tutor", "owner": "staff"},
    )
    stale = client.post(
        f"/api/v1/plans/{draft.pk}/approve",
        {"agreement": "agreed", "lock_version": draft.lock_version},
        content_type="application/json",
        **headers,
    )
    assert stale.status_code == 409
    assert InterventionPlan.objects.get(pk=draft.pk).status == "draft"


@pytest.mark.django_db
def test_web_progress_forms_on_the_approved_plan_carry_the_version(
    client, alice, fabio, person_in_a, cbt
):
    assess(alice, person_in_a, high=True)
    plan = approved_plan(alice, person_in_a)
    goal = plan.goals.first()
    client.force_login(alice)
    page = client.get(reverse("person-treatment", args=[person_in_a.pk])).content.decode()
    field = f"goal-{goal.pk}-lock_version"
    assert f'name="{field}" value="{plan.lock_version}"' in page
    services.plan_goal_save(actor=fabio, plan=plan, goal=goal, data={"status": "achieved"})
    response = client.post(
        reverse("goal-edit", args=[plan.pk, goal.pk]),
        {f"goal-{goal.pk}-status": "dropped", field: str(plan.lock_version)},
    )
    assert response.status_code == 409
    assert PlanGoal.objects.get(pk=goal.pk).status == "achieved"


@pytest.mark.django_db
def test_web_stale_approval_is_409_with_the_notes_kept(client, alice, fabio, draft):
    client.force_login(alice)
    page = client.get(reverse("plan-detail", args=[draft.pk])).content.decode()
    assert f'name="lock_version" value="{draft.lock_version}"' in page
    services.plan_goal_save(
        actor=fabio, plan=draft, goal=draft.goals.first(), data={"description": "Changed"}
    )
    response = client.post(
        reverse("plan-approve", args=[draft.pk]),
        {
            "agreement": "agreed",
            "agreement_notes": "Agreed after a long talk",
            "lock_version": str(draft.lock_version),
        },
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "This plan was changed by another user" in body
    assert "Agreed after a long talk" in body
    assert InterventionPlan.objects.get(pk=draft.pk).status == "draft"

"""Who may see and do what in treatment, persona by persona (rules in treatment/access.py)."""

import datetime

import pytest

from whatworks.treatment import access, services
from whatworks.treatment.models import InterventionPlan, ProgrammeGroup, Referral
from whatworks.treatment.tests.helpers import approved_plan, assess, make_programme, running_group

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(alice, pablo, person_in_a, facility_a, facility_b):
    assess(alice, person_in_a, high=True)
    programme = make_programme("CBT-A", facilities=[facility_a, facility_b])
    plan = approved_plan(alice, person_in_a)
    referral = services.referral_create(actor=alice, person=person_in_a, programme=programme)
    group_a = running_group(programme, facility_a, start=datetime.date(2025, 1, 6))
    group_b = running_group(programme, facility_b, start=datetime.date(2025, 1, 6))
    return plan, referral, group_a, group_b


@pytest.mark.parametrize(
    ("persona", "sees_plan", "sees_referral", "sees_group_a"),
    [
        ("alice", True, True, True),  # case manager at A
        ("fabio", True, True, True),  # facility manager at A
        ("pablo", True, True, True),  # programme staff at A
        ("helena", True, False, False),  # health staff: reads plans to coordinate care
        ("dora", True, True, True),  # administrator
        ("bruno", False, False, False),  # case manager at B
        ("carla", False, False, False),  # analyst: aggregates only
    ],
)
def test_person_level_scope(request, world, persona, sees_plan, sees_referral, sees_group_a):
    plan, referral, group_a, _group_b = world
    user = request.getfixturevalue(persona)
    assert access.plans_visible_to(user).filter(pk=plan.pk).exists() is sees_plan
    assert access.referrals_visible_to(user).filter(pk=referral.pk).exists() is sees_referral
    assert access.groups_visible_to(user).filter(pk=group_a.pk).exists() is sees_group_a


def test_out_of_scope_looks_like_missing(world, bruno, pablo):
    plan, referral, _group_a, group_b = world
    with pytest.raises(InterventionPlan.DoesNotExist):
        access.access_plan_by_id(bruno, plan.pk)
    with pytest.raises(Referral.DoesNotExist):
        access.access_referral_by_id(bruno, referral.pk)
    with pytest.raises(ProgrammeGroup.DoesNotExist):
        access.access_group_for_delivery(pablo, group_b.pk)
    with pytest.raises(InterventionPlan.DoesNotExist):
        access.access_plan_for_edit(pablo, plan.pk)  # programme staff read plans, never edit


@pytest.mark.parametrize(
    ("persona", "plan", "refer", "deliver", "catalogue", "faults", "dashboard"),
    [
        ("alice", True, True, False, False, False, False),
        ("fabio", True, True, True, True, True, True),
        ("pablo", False, False, True, True, False, False),
        ("helena", False, False, False, False, False, False),
        ("dora", True, True, True, True, True, True),
        ("carla", False, False, False, False, False, True),
    ],
)
def test_role_abilities(request, persona, plan, refer, deliver, catalogue, faults, dashboard):
    user = request.getfixturevalue(persona)
    assert access.can_plan(user) is plan
    assert access.can_refer(user) is refer
    assert access.can_deliver(user) is deliver
    assert access.can_edit_catalogue(user) is catalogue
    assert access.can_record_faults(user) is faults
    assert access.can_view_treatment_dashboard(user) is dashboard
    assert access.can_view_catalogue(user)


def test_inactive_staff_can_do_nothing(alice):
    alice.is_active = False
    alice.save()
    assert not access.can_view_catalogue(alice)
    assert not access.plans_visible_to(alice).exists()


def test_programme_staff_cannot_record_attendance_for_another_facility(world, pablo, bruno):
    _plan, _referral, _group_a, group_b = world
    with pytest.raises(ProgrammeGroup.DoesNotExist):
        access.access_group_for_delivery(pablo, group_b.pk)
    with pytest.raises(ProgrammeGroup.DoesNotExist):
        access.access_group_for_delivery(bruno, group_b.pk)  # bruno refers; he does not deliver

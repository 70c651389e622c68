"""The access chokepoints, persona by persona (see conftest and records/access.py)."""

import pytest

from whatworks.records.access import (
    access_person_by_id,
    access_person_for_edit,
    can_view_change_history,
    can_view_outcomes,
    facilities_in_scope,
    persons_visible_to,
)
from whatworks.records.models import Person


def test_case_managers_see_only_their_facility(alice, bruno, person_in_a, person_in_b):
    assert list(persons_visible_to(alice)) == [person_in_a]
    assert list(persons_visible_to(bruno)) == [person_in_b]


def test_out_of_scope_looks_exactly_like_missing(alice, person_in_b):
    with pytest.raises(Person.DoesNotExist) as forbidden:
        access_person_by_id(alice, person_in_b.pk)
    with pytest.raises(Person.DoesNotExist) as missing:
        access_person_by_id(alice, 987654)
    assert type(forbidden.value) is type(missing.value)
    assert str(forbidden.value) == str(missing.value)


def test_administrator_sees_everyone_and_history(dora, person_in_a, person_in_b):
    assert set(persons_visible_to(dora)) == {person_in_a, person_in_b}
    assert can_view_change_history(dora)


def test_analyst_sees_no_person_but_every_facility(carla, person_in_a, person_in_b):
    assert not persons_visible_to(carla).exists()
    with pytest.raises(Person.DoesNotExist):
        access_person_by_id(carla, person_in_a.pk)
    assert facilities_in_scope(carla).count() == 2


@pytest.mark.parametrize("persona", ["fabio", "pablo", "helena"])
def test_facility_staff_see_their_facility(request, persona, person_in_a, person_in_b):
    user = request.getfixturevalue(persona)
    assert list(persons_visible_to(user)) == [person_in_a]


def test_only_record_keepers_see_outcomes(alice, fabio, pablo, helena, carla, dora):
    assert [can_view_outcomes(u) for u in (alice, fabio, pablo, helena, carla, dora)] == [
        True,
        True,
        False,
        False,
        False,
        True,
    ]
    assert not any(can_view_change_history(u) for u in (alice, fabio, pablo, helena, carla))


def test_programme_staff_cannot_edit(pablo, person_in_a):
    with pytest.raises(Person.DoesNotExist):
        access_person_for_edit(pablo, person_in_a.pk)


def test_scope_follows_transfers(alice, bruno, dora, person_in_a, facility_b):
    import datetime

    from whatworks.records.services import custody_transfer

    custody_transfer(
        actor=dora,
        episode=person_in_a.custody_episodes.get(),
        to_facility=facility_b,
        movement_date=datetime.date(2024, 2, 1),
    )
    assert not persons_visible_to(alice).exists()
    assert person_in_a in persons_visible_to(bruno)


def test_inactive_users_see_nothing(alice, person_in_a):
    alice.is_active = False
    alice.save()
    assert not persons_visible_to(alice).exists()

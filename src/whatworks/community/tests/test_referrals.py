"""Provider referrals: the state machine, the history rows, outcomes, scope and audit."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from whatworks.audit.models import AuditEvent
from whatworks.community import selectors, services
from whatworks.community.models import ProviderReferral
from whatworks.community.tests.helpers import provider
from whatworks.records.models import Person

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 2)


def _refer(actor, person, ngo, **data):
    return services.provider_referral_create(
        actor=actor,
        person=person,
        data={"provider": ngo, "pathway": "accommodation", "referred_on": DAY, **data},
    )


def _move(actor, referral, to_status, day=DAY, **data):
    return services.provider_referral_transition(
        actor=actor,
        referral=referral,
        data={"to_status": to_status, "effective_date": day, **data},
    )


def test_life_cycle_to_completed_with_history_and_audit(alice, dora, person_in_a):
    ngo = provider(dora)
    referral = _refer(alice, person_in_a, ngo)
    assert referral.status == "proposed" and referral.episode is not None
    _move(alice, referral, "sent", note="Emailed Rosa")
    _move(alice, referral, "accepted", datetime.date(2026, 3, 9))
    _move(alice, referral, "started", datetime.date(2026, 3, 16))
    with pytest.raises(ValidationError) as error:
        _move(alice, referral, "completed", datetime.date(2026, 6, 1))
    assert "outcome_code" in error.value.message_dict
    done = _move(
        alice,
        referral,
        "completed",
        datetime.date(2026, 6, 1),
        outcome_code="achieved",
        outcome="Tenancy signed",
    )
    assert done.status == "completed" and done.outcome_date == datetime.date(2026, 6, 1)
    history = [(c.from_status, c.to_status) for c in done.changes.all()]
    assert history == [
        ("", "proposed"),
        ("proposed", "sent"),
        ("sent", "accepted"),
        ("accepted", "started"),
        ("started", "completed"),
    ]
    assert done.changes.all()[1].note == "Emailed Rosa"
    assert all(change.changed_by == alice for change in done.changes.all())
    actions = AuditEvent.objects.filter(person=person_in_a, action__startswith="community.")
    assert actions.filter(action="community.referral_transition").count() == 4
    last = actions.filter(action="community.referral_transition").order_by("id").last()
    assert last.before["status"] == "started" and last.after["outcome_code"] == "achieved"


@pytest.mark.parametrize(
    ("path", "invalid"),
    [
        ([], "accepted"),  # proposed -> accepted skips sending
        (["sent"], "completed"),
        (["sent", "declined"], "sent"),  # declined is final
        (["withdrawn"], "proposed"),
        (["sent", "accepted"], "proposed"),
    ],
)
def test_invalid_transitions_are_refused_without_history(alice, dora, person_in_a, path, invalid):
    referral = _refer(alice, person_in_a, provider(dora))
    for status in path:
        _move(alice, referral, status)
    with pytest.raises(ValidationError) as error:
        _move(alice, referral, invalid)
    assert "to_status" in error.value.message_dict
    referral.refresh_from_db()
    assert referral.changes.count() == len(path) + 1


def test_dates_and_outcome_rules(alice, dora, person_in_a):
    referral = _refer(alice, person_in_a, provider(dora))
    with pytest.raises(ValidationError) as error:
        _move(alice, referral, "sent", datetime.date(2026, 3, 1), outcome_code="achieved")
    assert set(error.value.message_dict) == {"effective_date", "outcome_code"}
    _move(alice, referral, "withdrawn")
    services.provider_referral_outcome_record(
        actor=alice,
        referral=referral,
        data={"outcome_code": "not_achieved", "outcome_date": datetime.date(2026, 3, 5)},
    )
    referral.refresh_from_db()
    assert referral.outcome_code == "not_achieved"


def test_referral_checks_provider_and_pathway(alice, dora, person_in_a):
    ngo = provider(dora)
    with pytest.raises(ValidationError) as error:
        _refer(alice, person_in_a, ngo, pathway="health", referred_on=datetime.date(2999, 1, 1))
    assert set(error.value.message_dict) == {"pathway", "referred_on"}
    services.provider_deactivate(actor=dora, provider=ngo)
    with pytest.raises(ValidationError) as error:
        _refer(alice, person_in_a, ngo)
    assert "provider" in error.value.message_dict


def test_roles_and_scope(alice, bruno, pablo, fabio, dora, person_in_a):
    ngo = provider(dora)
    with pytest.raises(PermissionError):
        _refer(pablo, person_in_a, ngo)
    with pytest.raises(Person.DoesNotExist):
        _refer(bruno, person_in_a, ngo)
    referral = _refer(fabio, person_in_a, ngo)
    with pytest.raises(Person.DoesNotExist):
        _move(bruno, referral, "sent")
    assert selectors.person_referrals(viewer=bruno, person=person_in_a) == []
    assert selectors.person_referrals(viewer=pablo, person=person_in_a) == [referral]
    assert ProviderReferral.objects.get().status == "proposed"


def test_person_page_and_forms(client, alice, bruno, carla, dora, person_in_a):
    ngo = provider(dora)
    page = reverse("person-community", args=[person_in_a.pk])
    client.force_login(alice)
    response = client.post(
        reverse("community-referral-new", args=[person_in_a.pk]),
        {
            "provider": ngo.pk,
            "pathway": "accommodation",
            "referred_on": "2026-03-02",
            "status": "sent",
        },
    )
    assert response.status_code == 302
    referral = ProviderReferral.objects.get()
    transition = reverse("community-referral-transition", args=[referral.pk])
    response = client.post(transition, {"to_status": "completed", "effective_date": "2026-03-03"})
    assert response.status_code == 400  # not a next status of "sent"
    response = client.post(transition, {"to_status": "accepted", "effective_date": "2026-03-03"})
    assert response.status_code == 302
    response = client.get(page)
    assert response.status_code == 200 and ngo.name in response.text
    client.force_login(bruno)
    assert client.get(page).status_code == 404
    assert client.get(transition).status_code == 404
    client.force_login(carla)
    assert client.get(page).status_code == 403

"""Optimistic locking of provider referrals (issue 10)."""

import datetime

import pytest
from django.urls import reverse

from whatworks.accounts.services import api_token_create
from whatworks.community import services
from whatworks.community.models import ProviderReferral
from whatworks.community.tests.helpers import provider
from whatworks.concurrency import StaleEdit

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 2)


@pytest.fixture
def referral(alice, dora, person_in_a):
    return services.provider_referral_create(
        actor=alice,
        person=person_in_a,
        data={"provider": provider(dora), "pathway": "accommodation", "referred_on": DAY},
    )


def test_second_transition_on_a_stale_version_is_refused(alice, fabio, referral):
    loaded = referral.lock_version
    services.provider_referral_transition(
        actor=alice,
        referral=referral,
        data={"to_status": "sent", "effective_date": DAY},
        expected_version=loaded,
    )
    with pytest.raises(StaleEdit) as error:
        services.provider_referral_transition(
            actor=fabio,
            referral=referral,
            data={"to_status": "cancelled", "effective_date": DAY},
            expected_version=loaded,
        )
    assert "This referral was changed by another user" in error.value.messages[0]
    stored = ProviderReferral.objects.get(pk=referral.pk)
    assert stored.status == "sent" and stored.lock_version == loaded + 1
    assert [c.to_status for c in stored.changes.all()] == ["proposed", "sent"]


def test_web_stale_transition_is_409_with_the_note_kept(client, alice, fabio, referral):
    url = reverse("community-referral-transition", args=[referral.pk])
    client.force_login(alice)
    page = client.get(url).content.decode()
    assert f'name="lock_version" value="{referral.lock_version}"' in page
    services.provider_referral_transition(
        actor=fabio, referral=referral, data={"to_status": "sent", "effective_date": DAY}
    )
    response = client.post(
        url,
        {
            "to_status": "cancelled",
            "effective_date": DAY.isoformat(),
            "note": "Alice's note",
            "lock_version": str(referral.lock_version),
        },
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "This referral was changed by another user" in body
    assert "Alice&#x27;s note" in body
    assert ProviderReferral.objects.get(pk=referral.pk).status == "sent"


def test_api_lists_the_version(client, alice, referral):
    _, raw = api_token_create(actor=alice, user=alice, name="test")
    response = client.get(
        f"/api/v1/persons/{referral.person_id}/community", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert response.json()["referrals"][0]["lock_version"] == referral.lock_version

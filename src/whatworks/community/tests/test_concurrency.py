"""Optimistic locking of provider referrals (issue 10)."""

import datetime

import pytest

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

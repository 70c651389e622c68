"""Optimistic locking of assessments (issue 10): the second of two editors who loaded the
same version is refused and nothing of their save is written."""

import pytest

from whatworks.assessments import services
from whatworks.assessments.models import Assessment
from whatworks.assessments.tests.helpers import completed, k6_answers, rnr_answers
from whatworks.audit.models import AuditEvent
from whatworks.concurrency import StaleEdit

pytestmark = pytest.mark.django_db


@pytest.fixture
def k6_draft(alice, person_in_a):
    return services.assessment_start(actor=alice, person=person_in_a, instrument_slug="k6")


def test_second_draft_save_on_a_stale_version_is_refused(alice, fabio, k6_draft):
    loaded = k6_draft.lock_version
    first = k6_answers([1, 1, 1, 1, 1, 1])
    services.assessment_save_draft(
        actor=alice, assessment=k6_draft, answers=first, expected_version=loaded
    )
    events = AuditEvent.objects.count()
    with pytest.raises(StaleEdit) as error:
        services.assessment_save_draft(
            actor=fabio,
            assessment=k6_draft,
            answers=k6_answers([4, 4, 4, 4, 4, 4]),
            expected_version=loaded,
        )
    message = error.value.messages[0]
    assert "This assessment was changed by another user" in message
    assert alice.get_username() in message or alice.get_full_name() in message
    stored = Assessment.objects.get(pk=k6_draft.pk)
    assert stored.answers == first
    assert stored.lock_version == loaded + 1
    assert AuditEvent.objects.count() == events


def test_completing_a_stale_draft_is_refused(alice, fabio, k6_draft):
    loaded = k6_draft.lock_version
    services.assessment_save_draft(
        actor=alice, assessment=k6_draft, answers={}, expected_version=loaded
    )
    with pytest.raises(StaleEdit):
        services.assessment_complete(
            actor=fabio,
            assessment=k6_draft,
            answers=k6_answers([4, 4, 4, 4, 4, 4]),
            expected_version=loaded,
        )
    assert Assessment.objects.get(pk=k6_draft.pk).status == "draft"
    done = services.assessment_complete(
        actor=fabio,
        assessment=k6_draft,
        answers=k6_answers([4, 4, 4, 4, 4, 4]),
        expected_version=loaded + 1,
    )
    assert done.status == "completed"


def test_a_stale_override_is_refused(alice, fabio, dora, person_in_a):
    rnr = completed(alice, person_in_a, "rnr-screener", rnr_answers(high=False))
    loaded = rnr.lock_version
    services.assessment_override(
        actor=alice,
        assessment=rnr,
        band="high",
        reason="Recent violent incident",
        approver=fabio,
        expected_version=loaded,
    )
    with pytest.raises(StaleEdit):
        services.assessment_override(
            actor=alice,
            assessment=rnr,
            band="medium",
            reason="Second opinion",
            approver=dora,
            expected_version=loaded,
        )
    stored = Assessment.objects.get(pk=rnr.pk)
    assert (stored.override_band, stored.override_reason) == ("high", "Recent violent incident")

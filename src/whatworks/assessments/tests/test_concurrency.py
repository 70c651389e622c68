"""Optimistic locking of assessments (issue 10): the second of two editors who loaded the
same version is refused and nothing of their save is written."""

import pytest
from django.urls import reverse

from whatworks.accounts.services import api_token_create
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


def _posted(values, version, action="save"):
    data = {item: str(value) for item, value in k6_answers(values).items()}
    data[action] = "1"
    data["lock_version"] = str(version)
    return data


def test_web_stale_draft_save_is_409_with_the_answers_kept(client, alice, fabio, k6_draft):
    url = reverse("assessment-edit", args=[k6_draft.pk])
    client.force_login(alice)
    assert (
        f'name="lock_version" value="{k6_draft.lock_version}"' in client.get(url).content.decode()
    )
    services.assessment_save_draft(
        actor=fabio, assessment=k6_draft, answers=k6_answers([0, 0, 0, 0, 0, 0])
    )
    response = client.post(url, _posted([3, 3, 3, 3, 3, 3], k6_draft.lock_version))
    assert response.status_code == 409
    body = response.content.decode()
    assert "This assessment was changed by another user" in body
    first_item = next(iter(k6_answers([3, 3, 3, 3, 3, 3])))
    assert f'name="{first_item}" value="3" id="id_{first_item}_3" checked' in body  # kept
    assert Assessment.objects.get(pk=k6_draft.pk).answers == k6_answers([0, 0, 0, 0, 0, 0])


def test_web_completing_an_assessment_someone_else_completed_says_so(
    client, alice, fabio, k6_draft
):
    client.force_login(alice)
    services.assessment_complete(
        actor=fabio, assessment=k6_draft, answers=k6_answers([0, 0, 0, 0, 0, 0])
    )
    response = client.post(
        reverse("assessment-edit", args=[k6_draft.pk]),
        _posted([4, 4, 4, 4, 4, 4], k6_draft.lock_version, action="complete"),
        follow=True,
    )
    assert "This assessment was changed by another user" in response.content.decode()
    assert Assessment.objects.get(pk=k6_draft.pk).total == 0


def test_api_returns_the_version_and_answers_409_to_a_stale_draft(client, alice, k6_draft):
    _, raw = api_token_create(actor=alice, user=alice, name="test")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    url = f"/api/v1/assessments/{k6_draft.pk}"
    loaded = client.get(url, **headers).json()["lock_version"]

    def put(values, **extra):
        return client.put(
            f"{url}/draft",
            {"answers": k6_answers(values), **extra},
            content_type="application/json",
            **headers,
        )

    assert put([1, 1, 1, 1, 1, 1], lock_version=loaded).json()["lock_version"] == loaded + 1
    stale = put([2, 2, 2, 2, 2, 2], lock_version=loaded)
    assert stale.status_code == 409
    assert "This assessment was changed" in stale.json()["detail"]
    assert Assessment.objects.get(pk=k6_draft.pk).answers == k6_answers([1, 1, 1, 1, 1, 1])
    assert put([2, 2, 2, 2, 2, 2]).status_code == 200  # no version: no check

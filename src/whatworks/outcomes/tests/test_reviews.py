"""Deciding review items (services and pages), and who sees the queue and the import log."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from whatworks.audit.models import AuditEvent
from whatworks.outcomes.models import LinkReview, ReviewStatus
from whatworks.outcomes.services import link_review_accept, link_review_reject
from whatworks.outcomes.tests.helpers import review_row, run_import, write_csv
from whatworks.records.models import OutcomeEvent, Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(tmp_path, jose):
    """One pending review item whose candidate is José (facility A)."""
    run_import(write_csv(tmp_path / "r.csv", [review_row()]))
    return LinkReview.objects.get()


@pytest.fixture
def review_b(tmp_path, maria):
    """One pending review item whose candidate is María (facility B)."""
    run_import(write_csv(tmp_path / "b.csv", [review_row(national_id="22222222-2")]))
    return LinkReview.objects.get(candidate=maria)


# --- services ---------------------------------------------------------------------------


def test_alice_accepts_and_the_event_is_josés(alice, review, jose):
    decided = link_review_accept(actor=alice, review=review)
    assert decided.status == ReviewStatus.ACCEPTED and decided.decided_by == alice
    event = OutcomeEvent.objects.get()
    assert (event.person, event.reference, event.event_type) == (
        jose,
        "PDI-REVIEW-11111111-1",
        "rearrest",
    )
    assert decided.event == event
    assert AuditEvent.objects.filter(
        action="outcome.link_accept", actor=alice, person=jose
    ).exists()
    # Accepting again changes nothing; importing the file again creates nothing.
    assert link_review_accept(actor=alice, review=review).event == event
    assert OutcomeEvent.objects.count() == 1


def test_reimport_after_acceptance_is_already_imported(tmp_path, alice, review):
    link_review_accept(actor=alice, review=review)
    output = run_import(write_csv(tmp_path / "again.csv", [review_row()]))
    assert output["summary"]["already_imported"] == 1
    assert OutcomeEvent.objects.count() == 1 and LinkReview.objects.count() == 1


def test_alice_rejects_with_a_reason(alice, review):
    with pytest.raises(ValidationError) as caught:
        link_review_reject(actor=alice, review=review, reason="  ")
    assert "reason" in caught.value.message_dict
    decided = link_review_reject(actor=alice, review=review, reason="Different person")
    assert decided.status == ReviewStatus.REJECTED and decided.decision_reason == "Different person"
    assert OutcomeEvent.objects.count() == 0
    with pytest.raises(ValidationError):
        link_review_accept(actor=alice, review=review)
    assert AuditEvent.objects.filter(action="outcome.link_reject", actor=alice).exists()


def test_bruno_cannot_decide_a_review_of_someone_out_of_his_scope(bruno, review):
    with pytest.raises(LinkReview.DoesNotExist):
        link_review_accept(actor=bruno, review=review)
    with pytest.raises(LinkReview.DoesNotExist):
        link_review_reject(actor=bruno, review=review, reason="no")
    assert LinkReview.objects.get().status == ReviewStatus.PENDING


def test_helena_and_carla_cannot_decide(helena, carla, review):
    for user in (helena, carla):
        with pytest.raises(PermissionError):
            link_review_accept(actor=user, review=review)
        with pytest.raises(PermissionError):
            link_review_reject(actor=user, review=review, reason="no")


def test_dora_decides_anywhere_but_only_among_the_candidates(dora, review, maria):
    with pytest.raises(ValidationError) as caught:
        link_review_accept(actor=dora, review=review, person=maria)
    assert "person" in caught.value.message_dict
    assert link_review_accept(actor=dora, review=review).status == ReviewStatus.ACCEPTED


def test_alice_cannot_accept_for_a_person_out_of_her_scope(alice, review, maria):
    review.candidates = [*review.candidates, {"person_id": maria.pk, "probability": 0.6}]
    review.save()
    with pytest.raises(Person.DoesNotExist):
        link_review_accept(actor=alice, review=review, person=maria)
    assert OutcomeEvent.objects.count() == 0


def test_accept_needs_a_release_before_the_event(tmp_path, alice, person_in_a):
    person_in_a.national_id = "33333333-3"
    person_in_a.save()
    run_import(write_csv(tmp_path / "h.csv", [review_row(national_id="33333333-3")]))
    held = LinkReview.objects.get()
    with pytest.raises(ValidationError) as caught:
        link_review_accept(actor=alice, review=held)
    assert "no release before this date" in caught.value.message_dict["person"][0]


# --- pages ------------------------------------------------------------------------------


def test_queue_shows_alice_only_her_facilitys_items(client, alice, review, review_b):
    client.force_login(alice)
    response = client.get(reverse("outcome-review-queue"))
    assert response.status_code == 200
    assert list(response.context["reviews"]) == [review]


def test_dora_sees_every_item(client, dora, review, review_b):
    client.force_login(dora)
    response = client.get(reverse("outcome-review-queue"))
    assert set(response.context["reviews"]) == {review, review_b}


@pytest.mark.parametrize("persona", ["pablo", "helena", "carla"])
def test_programme_health_and_analysts_get_403(client, request, persona, review):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("outcome-review-queue")).status_code == 403
    assert client.get(reverse("outcome-review-detail", args=[review.pk])).status_code == 403
    response = client.post(reverse("outcome-review-accept", args=[review.pk]))
    assert response.status_code == 403


def test_out_of_scope_item_is_404_like_a_missing_one(client, bruno, review):
    client.force_login(bruno)
    assert client.get(reverse("outcome-review-detail", args=[review.pk])).status_code == 404
    assert client.get(reverse("outcome-review-detail", args=[999999])).status_code == 404
    response = client.post(reverse("outcome-review-accept", args=[review.pk]))
    assert response.status_code == 404
    assert LinkReview.objects.get().status == ReviewStatus.PENDING


def test_detail_compares_side_by_side_with_classes_not_styles(client, alice, review):
    client.force_login(alice)
    response = client.get(reverse("outcome-review-detail", args=[review.pk]))
    assert response.status_code == 200
    fields = {str(f.label): f.agreement for f in response.context["fields"]}
    assert fields == {
        "First names": "disagree",
        "Last names": "disagree",
        "Date of birth": "disagree",
        "National ID": "agree",
        "Prison number": "missing",
    }
    html = response.content.decode()
    assert 'class="compare--agree"' in html and 'class="compare--disagree"' in html
    assert "outcomes/outcomes.css" in html
    assert "style=" not in html


def test_accept_from_the_page_goes_to_the_person_with_the_event(client, alice, review, jose):
    client.force_login(alice)
    response = client.post(
        reverse("outcome-review-accept", args=[review.pk]), {"person": jose.pk}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("person-detail", args=[jose.pk])
    assert [e.reference for e in response.context["outcome_events"]] == [review.source_reference]
    assert client.get(reverse("outcome-review-queue")).context["reviews"] == []


def test_reject_from_the_page_needs_a_reason(client, alice, review):
    client.force_login(alice)
    url = reverse("outcome-review-reject", args=[review.pk])
    assert client.post(url, {"reason": ""}).status_code == 400
    response = client.post(url, {"reason": "Not him"})
    assert response.status_code == 302
    assert LinkReview.objects.get().status == ReviewStatus.REJECTED


def test_import_log_for_administrators_and_facility_managers(client, dora, fabio, alice, review):
    client.force_login(alice)
    assert client.get(reverse("outcome-import-list")).status_code == 403
    client.force_login(fabio)
    response = client.get(reverse("outcome-import-list"))
    assert response.status_code == 200 and len(response.context["imports"]) == 1
    assert response.context["show_unmatched"] is False
    client.force_login(dora)
    assert client.get(reverse("outcome-import-list")).context["show_unmatched"] is True


def test_a_refused_accept_shows_the_reason_on_the_page(client, tmp_path, alice, person_in_a):
    person_in_a.national_id = "33333333-3"
    person_in_a.save()
    run_import(write_csv(tmp_path / "h.csv", [review_row(national_id="33333333-3")]))
    held = LinkReview.objects.get()
    client.force_login(alice)
    response = client.post(reverse("outcome-review-accept", args=[held.pk]))
    assert response.status_code == 400
    assert "no release before this date" in response.content.decode()
    assert OutcomeEvent.objects.count() == 0

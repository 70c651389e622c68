"""Reads: health-data answers (audited), scope, the due list, override rates, needs."""

import datetime

import pytest

from whatworks.assessments import selectors, services
from whatworks.assessments.access import access_assessment_by_id, assessments_visible_to
from whatworks.assessments.models import Assessment
from whatworks.assessments.tests.helpers import completed, k6_answers, rnr_answers
from whatworks.audit.models import AuditEvent

TODAY = datetime.date(2026, 6, 1)


@pytest.fixture
def k6_of_jose(alice, person_in_a):
    return completed(alice, person_in_a, "k6", k6_answers([3, 3, 3, 2, 2, 2]))


def test_health_staff_see_k6_answers_and_every_read_is_audited(helena, k6_of_jose):
    assessment = access_assessment_by_id(helena, k6_of_jose.pk)
    for _ in range(2):
        assert selectors.assessment_answers(viewer=helena, assessment=assessment) == k6_answers(
            [3, 3, 3, 2, 2, 2]
        )
    reads = AuditEvent.objects.filter(action="assessment.read_answers", actor=helena)
    assert reads.count() == 2
    assert reads.first().object_id == str(k6_of_jose.pk)


@pytest.mark.parametrize("persona", ["alice", "fabio", "dora"])
def test_others_see_the_k6_band_but_not_the_answers(request, persona, k6_of_jose):
    viewer = request.getfixturevalue(persona)
    assessment = access_assessment_by_id(viewer, k6_of_jose.pk)
    assert assessment.band == "serious_distress"
    assert selectors.assessment_answers(viewer=viewer, assessment=assessment) is None
    assert not AuditEvent.objects.filter(action="assessment.read_answers").exists()


def test_rnr_answers_reach_assessors_without_a_health_audit(alice, person_in_a):
    rnr = completed(alice, person_in_a, "rnr-screener", rnr_answers(high=False))
    assert selectors.assessment_answers(viewer=alice, assessment=rnr)
    assert not AuditEvent.objects.filter(action="assessment.read_answers").exists()


def test_programme_staff_see_completed_rnr_screeners_only(alice, pablo, person_in_a, k6_of_jose):
    rnr = completed(alice, person_in_a, "rnr-screener", rnr_answers(high=True))
    services.assessment_start(actor=alice, person=person_in_a, instrument_slug="rnr-screener")
    assert list(assessments_visible_to(pablo)) == [rnr]
    assert selectors.assessment_answers(viewer=pablo, assessment=rnr) is None


def test_health_staff_do_not_see_the_rnr_screener(alice, helena, person_in_a, k6_of_jose):
    completed(alice, person_in_a, "rnr-screener", rnr_answers(high=True))
    assert list(assessments_visible_to(helena)) == [k6_of_jose]


def test_analysts_see_no_person_level_assessment(carla, k6_of_jose):
    assert not assessments_visible_to(carla).exists()
    with pytest.raises(Assessment.DoesNotExist):
        access_assessment_by_id(carla, k6_of_jose.pk)


def test_out_of_scope_looks_like_missing(bruno, k6_of_jose):
    with pytest.raises(Assessment.DoesNotExist):
        access_assessment_by_id(bruno, k6_of_jose.pk)
    with pytest.raises(Assessment.DoesNotExist):
        access_assessment_by_id(bruno, 999_999)


# --- reassessment due list -----------------------------------------------------------------


def _rnr(actor, person, assessed_on, *, high=True):
    return completed(actor, person, "rnr-screener", rnr_answers(high=high), assessed_on=assessed_on)


def test_due_list_puts_overdue_first_and_keeps_only_the_latest(
    alice, bruno, person_in_a, person_in_b, facility_a
):
    from conftest import admission_data, person_data
    from whatworks.records.services import person_admit

    other = person_admit(
        actor=None,
        person_data=person_data(prison_number="CL-0000003", first_names="Pedro"),
        facility=facility_a,
        admission_data=admission_data(),
    ).person
    third = person_admit(
        actor=None,
        person_data=person_data(prison_number="CL-0000004", first_names="Luis"),
        facility=facility_a,
        admission_data=admission_data(),
    ).person
    soon = _rnr(alice, person_in_a, datetime.date(2025, 12, 20))  # due 2026-06-20
    overdue = _rnr(alice, other, datetime.date(2025, 10, 1))  # due 2026-04-01
    _rnr(alice, third, datetime.date(2025, 10, 1))  # superseded by the next one
    _rnr(alice, third, datetime.date(2026, 5, 1))  # due 2026-11-01: not within 30 days
    _rnr(bruno, person_in_b, datetime.date(2025, 10, 1))  # facility B: not alice's
    assert selectors.reassessment_due_list(viewer=alice, today=TODAY) == [overdue, soon]
    assert [a.person for a in selectors.reassessment_due_list(viewer=bruno, today=TODAY)] == [
        person_in_b
    ]


def test_due_list_is_empty_for_roles_that_do_not_assess(alice, pablo, carla, person_in_a):
    _rnr(alice, person_in_a, datetime.date(2025, 1, 1))
    assert selectors.reassessment_due_list(viewer=pablo, today=TODAY) == []
    assert selectors.reassessment_due_list(viewer=carla, today=TODAY) == []


# --- override rates --------------------------------------------------------------------------


def test_override_rates_by_facility_and_instrument(
    alice, bruno, fabio, dora, carla, person_in_a, person_in_b
):
    rows = [_rnr(alice, person_in_a, datetime.date(2026, 1, d), high=False) for d in range(1, 11)]
    services.assessment_override(
        actor=alice, assessment=rows[0], band="high", reason="x", approver=fabio
    )
    completed(alice, person_in_a, "k6", k6_answers([0] * 6))
    _rnr(bruno, person_in_b, datetime.date(2026, 1, 1))
    figures = {
        (r.facility_code, r.instrument): (r.completed, r.overridden, r.rate, r.within_policy)
        for r in selectors.override_rates(viewer=dora)
    }
    assert figures == {
        ("CL-A-01", "k6"): (1, 0, 0.0, False),
        ("CL-A-01", "rnr-screener"): (10, 1, 0.1, True),
        ("CL-B-01", "rnr-screener"): (1, 0, 0.0, False),
    }
    assert {r.facility_code for r in selectors.override_rates(viewer=carla)} == {
        "CL-A-01",
        "CL-B-01",
    }
    assert {r.facility_code for r in selectors.override_rates(viewer=fabio)} == {"CL-A-01"}


# --- needs for planning -------------------------------------------------------------------


def test_needs_for_planning_uses_the_latest_completed_rnr_screener(alice, person_in_a):
    assert selectors.needs_for_planning(person_in_a) == {}
    _rnr(alice, person_in_a, datetime.date(2025, 1, 1), high=True)
    latest = _rnr(alice, person_in_a, datetime.date(2025, 6, 1), high=False)
    needs = selectors.needs_for_planning(person_in_a)
    assert needs["assessment_id"] == latest.pk
    assert needs["band"] == "low" and needs["validated"] is False
    assert needs["need_domains"] == []
    assert set(needs["needs"]) == {
        "criminal_history",
        "antisocial_attitudes",
        "antisocial_associates",
        "antisocial_personality",
        "family_marital",
        "school_work",
        "leisure_recreation",
        "substance_abuse",
    }
    _rnr(alice, person_in_a, datetime.date(2025, 9, 1), high=True)
    assert "criminal_history" in selectors.needs_for_planning(person_in_a)["need_domains"]

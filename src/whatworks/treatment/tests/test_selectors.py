"""Treatment reads: waitlist ranking, dosage accounting, remission from attendance, the
dashboard's suppression, and that every reason code has a translated sentence."""

import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from conftest import admission_data, person_data
from whatworks.analytics.treatment import REASON_CODES, Reason
from whatworks.records.services import person_admit
from whatworks.treatment import labels, selectors, services
from whatworks.treatment.tests.helpers import (
    allocated,
    approved_plan,
    assess,
    make_programme,
    running_group,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


def _admit(facility, number: str, *, release_in_days: int, **person):
    admitted = TODAY - datetime.timedelta(days=400)
    return person_admit(
        actor=None,
        person_data=person_data(prison_number=number, **person),
        facility=facility,
        admission_data=admission_data(
            admission_date=admitted,
            sentence_date=admitted,
            sentence_length_days=400 + release_in_days,
            expected_release_date=TODAY + datetime.timedelta(days=release_in_days),
        ),
    ).person


def _waitlisted(actor, delivery, person, programme, *, days_ago: int):
    day = TODAY - datetime.timedelta(days=days_ago)
    referral = services.referral_create(
        actor=actor, person=person, programme=programme, referral_date=day, override_reason="x"
    )
    for status in ("assessed_suitable", "waitlisted"):
        referral = services.referral_transition(
            actor=delivery, referral=referral, to_status=status, effective_date=day
        )
    return referral


def test_every_reason_code_has_a_sentence_in_every_language():
    for code in REASON_CODES:
        assert code in labels.REASON_TEMPLATES, code
    # A sentence with its parameters filled in, in Spanish, never the bare code.
    with translation.override("es"):
        text = labels.reason_text(
            Reason("targets_need", {"need": "substance_abuse", "score": 3, "threshold": 1})
        )
    assert "3" in text and text != "targets_need"


def test_waitlist_puts_high_risk_and_soon_released_people_first(alice, pablo, facility_a):
    programme = make_programme("CBT-W", facilities=[facility_a])
    high_long = _admit(facility_a, "CL-0000101", release_in_days=2000)
    low_long = _admit(facility_a, "CL-0000102", release_in_days=2000)
    low_soon = _admit(facility_a, "CL-0000103", release_in_days=30)
    assess(alice, high_long, high=True)
    assess(alice, low_long, high=False)
    assess(alice, low_soon, high=False)
    for person in (high_long, low_long, low_soon):
        _waitlisted(alice, pablo, person, programme, days_ago=10)
    ranked = selectors.waitlist(viewer=pablo, programme=programme, facility=facility_a)
    order = [entry.referral.person.prison_number for entry in ranked]
    assert order == ["CL-0000101", "CL-0000103", "CL-0000102"]
    assert [entry.rank for entry in ranked] == [1, 2, 3]
    soon = ranked[1]
    assert soon.days_to_release == 30
    codes = {reason.code for reason in soon.reasons}
    # Released before the programme's 15 weeks end: the explanation says to continue outside.
    assert {"waitlist_release", "release_before_programme_ends"} <= codes
    assert soon.components["release"] > ranked[2].components["release"]


def test_waitlist_overview_counts_places_and_waiting(alice, pablo, facility_a):
    programme = make_programme("CBT-O", facilities=[facility_a], group_capacity=8)
    running_group(programme, facility_a, start=TODAY - datetime.timedelta(days=5))
    for number, days in (("CL-0000111", 10), ("CL-0000112", 30)):
        person = _admit(facility_a, number, release_in_days=900)
        _waitlisted(alice, pablo, person, programme, days_ago=days)
    [row] = selectors.waitlist_overview(viewer=pablo)
    assert (row.waiting, row.median_days_waiting, row.longest_days_waiting) == (2, 20, 30)
    assert (row.capacity, row.occupied, row.free_places) == (8, 0, 8)


def _attend(pablo, referral, group, days: list[int], hours: str, start: int):
    for offset in days:
        session = services.session_create(
            actor=pablo,
            group=group,
            session_date=TODAY - datetime.timedelta(days=offset),
            start_time=datetime.time(start),
            hours=hours,
        )
        services.attendance_record(
            actor=pablo, session=session, referral=referral, status="attended"
        )


def test_dosage_splits_criminogenic_from_education_and_work(alice, pablo, person_in_a, facility_a):
    assess(alice, person_in_a, high=True)
    cbt = make_programme("CBT-D", facilities=[facility_a])
    school = make_programme(
        "EDU-D",
        programme_type="education_secondary",
        target_needs=["school_work"],
        remission_kind="study",
        facilities=[facility_a],
    )
    plan = approved_plan(alice, person_in_a)
    start = TODAY - datetime.timedelta(days=30)
    # Same day, different hours: CBT in the morning, school in the afternoon.
    for programme, days, hours, hour in (
        (cbt, [20, 18], "2.5", 9),
        (school, [20, 19, 17], "4", 14),
    ):
        referral = services.referral_create(
            actor=alice,
            person=person_in_a,
            programme=programme,
            referral_date=start,
            override_reason="x",
        )
        group = running_group(programme, facility_a, start=start)
        referral = allocated(pablo, referral, group, day=start)
        _attend(pablo, referral, group, days, hours, hour)
    treatment = selectors.person_treatment(viewer=alice, person=person_in_a)
    assert treatment.dosage.criminogenic_hours == Decimal("5")
    assert treatment.dosage.education_work_hours == Decimal("12")
    assert treatment.dosage.target_hours == plan.target_hours == Decimal("300")
    assert treatment.dosage.share_of_target == pytest.approx(5 / 300)
    # Brazil's LEP: 12 hours of study over 3 days remit 1 day.
    remission = treatment.remission
    assert remission.result.study_days == 1 and remission.result.total_days == 1
    expected = person_in_a.custody_episodes.get().expected_release_date
    assert remission.projected_release == expected - datetime.timedelta(days=1)


def test_dashboard_suppresses_small_counts(alice, pablo, carla, fabio, person_in_a, facility_a):
    assess(alice, person_in_a, high=True)
    dashboard = selectors.treatment_dashboard(viewer=carla)
    assert dashboard.persons_in_custody == 1
    coverage = {row.need: row.coverage for row in dashboard.need_coverage}
    assert coverage["substance_abuse"].denominator == 1
    assert coverage["substance_abuse"].suppressed and coverage["substance_abuse"].rate is None
    very_high = next(row for row in dashboard.risk_adherence if row.band == "very_high")
    assert very_high.persons == 1 and very_high.suppressed and very_high.median_hours is None
    with pytest.raises(PermissionError):
        selectors.treatment_dashboard(viewer=alice)
    assert selectors.treatment_dashboard(viewer=fabio).persons_in_custody == 1


def test_coverage_counts_people_in_programmes_that_target_their_need(
    alice, pablo, carla, facility_a
):
    programme = make_programme(
        "SUD-C",
        programme_type="substance_use",
        target_needs=["substance_abuse"],
        facilities=[facility_a],
        group_capacity=30,
    )
    group = running_group(programme, facility_a, start=TODAY - datetime.timedelta(days=60))
    for index in range(25):
        person = _admit(facility_a, f"CL-00002{index:02d}", release_in_days=500)
        assess(alice, person, high=True)
        if index < 12:
            referral = services.referral_create(
                actor=alice,
                person=person,
                programme=programme,
                override_reason="x",
                referral_date=TODAY - datetime.timedelta(days=50),
            )
            allocated(pablo, referral, group, day=TODAY - datetime.timedelta(days=50))
    dashboard = selectors.treatment_dashboard(viewer=carla)
    coverage = {row.need: row.coverage for row in dashboard.need_coverage}
    assert coverage["substance_abuse"].numerator == 12
    assert coverage["substance_abuse"].denominator == 25
    assert coverage["substance_abuse"].rate == pytest.approx(12 / 25)
    low, high = coverage["substance_abuse"].interval
    assert low < 12 / 25 < high

"""The assessment services: scoring through the engine, validation, pinning, overrides."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from whatworks.analytics.instruments import load_instrument, score
from whatworks.assessments import services
from whatworks.assessments.models import (
    Assessment,
    AssessmentStatus,
    AssessmentStatusChange,
    InstrumentVersion,
)
from whatworks.assessments.tests.helpers import (
    audit_answers,
    completed,
    k6_answers,
    rnr_answers,
)
from whatworks.audit.models import AuditEvent

K6_VECTORS = [
    [0, 0, 0, 0, 0, 0],
    [2, 2, 2, 2, 2, 2],  # 12: the last total without serious distress
    [2, 2, 2, 2, 2, 3],  # 13: the published cut-off
    [4, 4, 4, 4, 4, 4],
]
AUDIT_VECTORS = [
    [1, 1, 1, 1, 1, 1, 1, 0, 0, 0],  # 7
    [1, 1, 1, 1, 1, 1, 1, 1, 0, 0],  # 8
    [4, 4, 3, 1, 1, 1, 1, 0, 0, 0],  # 15
    [4, 4, 4, 1, 1, 1, 1, 0, 0, 0],  # 16
    [4, 4, 4, 1, 1, 1, 2, 0, 1, 0],  # 19 (item 9: option 1 scores 2)
    [4, 4, 4, 4, 4, 4, 4, 4, 2, 2],  # 40
]


@pytest.mark.parametrize("values", K6_VECTORS)
def test_k6_scores_through_the_service_equal_the_engine(alice, person_in_a, values):
    assessment = completed(alice, person_in_a, "k6", k6_answers(values))
    expected = score(load_instrument("k6"), k6_answers(values))
    assert (assessment.total, assessment.band) == (expected.total, expected.band)
    assert assessment.domain_scores == expected.domains
    assert assessment.status == AssessmentStatus.COMPLETED


def test_k6_boundary_is_12_and_13(alice, person_in_a):
    assert completed(alice, person_in_a, "k6", k6_answers([2] * 6)).band == "no_serious_distress"
    thirteen = completed(alice, person_in_a, "k6", k6_answers([2, 2, 2, 2, 2, 3]))
    assert (thirteen.total, thirteen.band) == (13, "serious_distress")


@pytest.mark.parametrize("values", AUDIT_VECTORS)
def test_audit_scores_through_the_service_equal_the_engine(helena, person_in_a, values):
    assessment = completed(helena, person_in_a, "audit", audit_answers(values))
    expected = score(load_instrument("audit"), audit_answers(values))
    assert (assessment.total, assessment.band) == (expected.total, expected.band)


def test_audit_zone_boundaries(helena, person_in_a):
    results = {
        total: completed(helena, person_in_a, "audit", audit_answers(values))
        for total, values in [
            (7, [1, 1, 1, 1, 1, 1, 1, 0, 0, 0]),
            (8, [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]),
            (15, [4, 4, 3, 1, 1, 1, 1, 0, 0, 0]),
            (16, [4, 4, 4, 1, 1, 1, 1, 0, 0, 0]),
            (19, [4, 4, 4, 1, 1, 1, 2, 0, 1, 0]),
            (20, [4, 4, 4, 1, 1, 1, 3, 0, 1, 0]),
        ]
    }
    assert all(result.total == total for total, result in results.items())
    bands = {total: result.band for total, result in results.items()}
    assert bands == {
        7: "zone_i",
        8: "zone_ii",
        15: "zone_ii",
        16: "zone_iii",
        19: "zone_iii",
        20: "zone_iv",
    }


def test_start_pins_the_current_version_and_records_the_status(alice, person_in_a):
    assessment = services.assessment_start(actor=alice, person=person_in_a, instrument_slug="k6")
    version = assessment.instrument_version
    assert (version.slug, version.version) == ("k6", "1.0")
    assert len(version.sha256) == 64
    assert assessment.episode == person_in_a.custody_episodes.get()
    assert assessment.facility == person_in_a.current_facility
    assert list(assessment.status_changes.values_list("from_status", "to_status")) == [
        ("", "draft")
    ]
    assert AuditEvent.objects.filter(action="assessment.start", person=person_in_a).exists()
    # A second start reuses the stored version.
    services.assessment_start(actor=alice, person=person_in_a, instrument_slug="k6")
    assert InstrumentVersion.objects.filter(slug="k6").count() == 1


def test_unknown_instrument_is_a_validation_error(alice, person_in_a):
    for slug in ["nope", "../../etc/passwd", "k6.yaml", ""]:
        with pytest.raises(ValidationError) as error:
            services.assessment_start(actor=alice, person=person_in_a, instrument_slug=slug)
        assert "instrument" in error.value.message_dict


def test_completion_is_blocked_and_names_the_missing_items(alice, person_in_a):
    assessment = services.assessment_start(actor=alice, person=person_in_a, instrument_slug="k6")
    answers = k6_answers([1, 1, 1, 1, 1, 1])
    del answers["k6_3_restless"], answers["k6_6_worthless"]
    with pytest.raises(ValidationError) as error:
        services.assessment_complete(actor=alice, assessment=assessment, answers=answers)
    errors = error.value.message_dict
    assert "k6_3_restless" in errors and "k6_6_worthless" in errors
    assert "k6_3_restless, k6_6_worthless" in " ".join(errors["answers"])
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.DRAFT and assessment.total is None


def test_a_draft_keeps_partial_answers(alice, person_in_a):
    assessment = services.assessment_start(actor=alice, person=person_in_a, instrument_slug="k6")
    services.assessment_save_draft(
        actor=alice, assessment=assessment, answers={"k6_1_nervous": 3, "k6_2_hopeless": None}
    )
    assessment.refresh_from_db()
    assert assessment.answers == {"k6_1_nervous": 3}
    assert assessment.status == AssessmentStatus.DRAFT


@pytest.mark.parametrize(
    "answers, item",
    [
        ({"k6_1_nervous": 5}, "k6_1_nervous"),
        ({"k6_2_hopeless": -1}, "k6_2_hopeless"),
        ({"k6_2_hopeless": True}, "k6_2_hopeless"),
        ({"k6_4_depressed": "lots"}, "k6_4_depressed"),
        ({"k6_5_effort": [1, 2]}, "k6_5_effort"),
        ({"not_an_item": 1}, "answers"),
    ],
)
def test_out_of_range_or_wrong_answers_are_refused_naming_the_item(
    alice, person_in_a, answers, item
):
    assessment = services.assessment_start(actor=alice, person=person_in_a, instrument_slug="k6")
    with pytest.raises(ValidationError) as error:
        services.assessment_save_draft(actor=alice, assessment=assessment, answers=answers)
    assert item in error.value.message_dict
    if item != "answers":
        assert item in error.value.message_dict[item][0]


@pytest.mark.parametrize("garbage", ["[1, 2]", 42, [1, 2, 3], "k6"])
def test_garbage_answers_are_a_validation_error(alice, person_in_a, garbage):
    assessment = services.assessment_start(actor=alice, person=person_in_a, instrument_slug="k6")
    with pytest.raises(ValidationError):
        services.assessment_complete(actor=alice, assessment=assessment, answers=garbage)


def test_a_completed_assessment_cannot_change(alice, person_in_a):
    assessment = completed(alice, person_in_a, "k6", k6_answers([0] * 6))
    with pytest.raises(ValidationError):
        services.assessment_save_draft(actor=alice, assessment=assessment, answers={})
    with pytest.raises(ValidationError):
        services.assessment_complete(
            actor=alice, assessment=assessment, answers=k6_answers([4] * 6)
        )
    assert AssessmentStatusChange.objects.filter(assessment=assessment).count() == 2


def test_health_staff_use_only_k6_and_audit(helena, person_in_a, pablo, carla):
    with pytest.raises(PermissionError):
        services.assessment_start(actor=helena, person=person_in_a, instrument_slug="rnr-screener")
    for persona in (pablo, carla):
        with pytest.raises(PermissionError):
            services.assessment_start(actor=persona, person=person_in_a, instrument_slug="k6")


def test_an_assessor_cannot_assess_a_person_outside_their_facilities(bruno, person_in_a):
    from whatworks.records.models import Person

    with pytest.raises(Person.DoesNotExist):
        services.assessment_start(actor=bruno, person=person_in_a, instrument_slug="k6")


# --- version pinning ------------------------------------------------------------------------


def _k6_definition(version: str, serious_from: int) -> dict:
    instrument = load_instrument("k6")
    definition = services._builtin_definition(instrument)
    definition["version"] = version
    definition["bands"][0]["max"] = serious_from - 1
    definition["bands"][1]["min"] = serious_from
    return definition


def test_a_later_version_never_changes_an_old_assessment(alice, person_in_a):
    old = completed(alice, person_in_a, "k6", k6_answers([2, 2, 2, 2, 2, 1]))  # 11
    draft = services.assessment_start(actor=alice, person=person_in_a, instrument_slug="k6")
    newer = services.instrument_version_register(
        actor=None, definition=_k6_definition("2.0", serious_from=10)
    )
    assert newer.version == "2.0" and newer.sha256 != old.instrument_version.sha256

    old.refresh_from_db()
    assert (old.instrument_version.version, old.total, old.band) == (
        "1.0",
        11,
        "no_serious_distress",
    )
    # A draft started on 1.0 is completed and scored with 1.0, not the newer cut-off.
    draft = services.assessment_complete(
        actor=alice, assessment=draft, answers=k6_answers([2, 2, 2, 2, 2, 1])
    )
    assert (draft.instrument_version.version, draft.band) == ("1.0", "no_serious_distress")
    # An assessment on the newer version scores with its own bands.
    on_newer = Assessment.objects.create(
        person=person_in_a,
        instrument_version=newer,
        assessed_on=datetime.date(2026, 1, 1),
    )
    on_newer = services.assessment_complete(
        actor=alice, assessment=on_newer, answers=k6_answers([2, 2, 2, 2, 2, 1])
    )
    assert on_newer.band == "serious_distress"


def test_the_same_version_with_different_content_is_refused(alice, person_in_a):
    services.assessment_start(actor=alice, person=person_in_a, instrument_slug="k6")
    with pytest.raises(ValidationError) as error:
        services.instrument_version_register(
            actor=None, definition=_k6_definition("1.0", serious_from=10)
        )
    assert "new version" in error.value.message_dict["definition"][0]


# --- reassessment date ----------------------------------------------------------------------


def test_next_due_date_follows_the_rule_and_the_expected_release(alice, person_in_a):
    # José's expected release is 15 January 2027; the RNR screener wants an assessment in
    # the 90 days before it (from 17 October 2026); high risk: every 6 months.
    high = completed(
        alice,
        person_in_a,
        "rnr-screener",
        rnr_answers(high=True),
        assessed_on=datetime.date(2025, 3, 1),
    )
    assert high.band == "very_high"
    assert high.next_due_date == datetime.date(2025, 9, 1)
    late = completed(
        alice,
        person_in_a,
        "rnr-screener",
        rnr_answers(high=True),
        assessed_on=datetime.date(2026, 8, 1),
    )
    assert late.next_due_date == datetime.date(2026, 10, 17)
    assert completed(alice, person_in_a, "k6", k6_answers([0] * 6)).next_due_date is None


# --- overrides ------------------------------------------------------------------------------


@pytest.fixture
def rnr_low(alice, person_in_a):
    return completed(alice, person_in_a, "rnr-screener", rnr_answers(high=False))


def test_an_override_is_stored_beside_the_computed_band(alice, fabio, rnr_low):
    assessment = services.assessment_override(
        actor=alice,
        assessment=rnr_low,
        band="high",
        reason="Recent violent incident",
        approver=fabio,
    )
    assessment.refresh_from_db()
    assert (assessment.band, assessment.override_band, assessment.effective_band) == (
        "low",
        "high",
        "high",
    )
    assert assessment.override_approved_by == fabio and assessment.overridden_at is not None
    event = AuditEvent.objects.get(action="assessment.override")
    assert event.after["computed_band"] == "low" and event.after["override_band"] == "high"


@pytest.mark.parametrize(
    "band, reason, approver_name, field",
    [
        ("high", "  ", "fabio", "reason"),
        ("low", "Because", "fabio", "band"),  # the computed band
        ("extreme", "Because", "fabio", "band"),  # not a band of the instrument
        ("high", "Because", "alice", "approver"),  # the assessor
        ("high", "Because", "pablo", "approver"),  # not a manager
        ("high", "Because", None, "approver"),
    ],
)
def test_override_rules(request, alice, fabio, pablo, rnr_low, band, reason, approver_name, field):
    approver = request.getfixturevalue(approver_name) if approver_name else None
    with pytest.raises(ValidationError) as error:
        services.assessment_override(
            actor=alice, assessment=rnr_low, band=band, reason=reason, approver=approver
        )
    assert field in error.value.message_dict
    rnr_low.refresh_from_db()
    assert rnr_low.override_band == ""


def test_a_facility_manager_of_another_facility_cannot_approve(alice, rnr_low, facility_b):
    from conftest import _make_user

    other_manager = _make_user("felipe", "facility_manager", [facility_b])
    with pytest.raises(ValidationError) as error:
        services.assessment_override(
            actor=alice, assessment=rnr_low, band="high", reason="x", approver=other_manager
        )
    assert "approver" in error.value.message_dict


def test_an_administrator_may_approve_and_a_draft_cannot_be_overridden(
    alice, dora, person_in_a, rnr_low
):
    services.assessment_override(
        actor=alice, assessment=rnr_low, band="moderate", reason="x", approver=dora
    )
    draft = services.assessment_start(actor=alice, person=person_in_a, instrument_slug="k6")
    with pytest.raises(ValidationError):
        services.assessment_override(
            actor=alice, assessment=draft, band="serious_distress", reason="x", approver=dora
        )


def test_the_database_refuses_a_partial_override_or_a_completed_row_without_band(rnr_low, fabio):
    with pytest.raises(IntegrityError), transaction.atomic():
        Assessment.objects.filter(pk=rnr_low.pk).update(override_band="high")
    with pytest.raises(IntegrityError), transaction.atomic():
        Assessment.objects.filter(pk=rnr_low.pk).update(band="")
    with pytest.raises(IntegrityError), transaction.atomic():
        Assessment.objects.filter(pk=rnr_low.pk).update(
            override_band="high",
            override_reason="x",
            override_approved_by=rnr_low.assessed_by,
            overridden_at=rnr_low.completed_at,
        )

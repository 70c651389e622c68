"""Flags, access, audited reads and the relapse plan's life cycle across release."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from whatworks.assessments.tests.helpers import audit_answers, completed, k6_answers
from whatworks.audit.models import AuditEvent
from whatworks.health import selectors, services
from whatworks.health.flags import health_flags
from whatworks.health.models import RelapsePlanStatus
from whatworks.records.services import custody_release
from whatworks.treatment import rules

pytestmark = pytest.mark.django_db

DIAGNOSIS = {"recorded_on": datetime.date(2025, 1, 10), "status": "active", "code": "F32.1"}


def _mental(helena, person):
    return services.diagnosis_record(
        actor=helena,
        person=person,
        data={**DIAGNOSIS, "category": "mental_disorder", "mental_disorder_type": "depression"},
    )


def _substance(helena, person):
    return services.diagnosis_record(
        actor=helena,
        person=person,
        data={**DIAGNOSIS, "category": "substance_use_disorder", "code": "F10.2"},
    )


PLAN = {
    "high_risk_situations": "Old friends at the bar",
    "coping_strategies": "Call my sister; go to a meeting",
    "supportive_contacts": [{"name": "Ana", "relation": "sister", "phone": "555-0101"}],
    "release_accommodation": "With my sister",
    "appointment_place": "CESFAM Centro",
    "appointment_date": datetime.date(2027, 1, 20),
    "medication_supply_days": 7,
}


def test_k6_of_13_or_more_flags_mental_health(helena, person_in_a):
    completed(helena, person_in_a, "k6", k6_answers([3, 3, 3, 2, 1, 1]))
    flags = health_flags(person_in_a)
    assert flags.mental_health_need and not flags.substance_use_need
    assert flags.suggest_referral


def test_low_k6_does_not_flag(helena, person_in_a):
    completed(helena, person_in_a, "k6", k6_answers([1, 1, 1, 1, 1, 1]))
    assert not health_flags(person_in_a).mental_health_need


def test_audit_zone_iii_flags_substance_use(helena, person_in_a):
    completed(helena, person_in_a, "audit", audit_answers([4, 2, 2, 2, 2, 2, 2, 2, 0, 0]))
    assert health_flags(person_in_a).substance_use_need


def test_diagnoses_give_co_occurring_and_a_referral_clears_the_prompt(helena, person_in_a):
    _mental(helena, person_in_a)
    _substance(helena, person_in_a)
    flags = health_flags(person_in_a)
    assert flags.co_occurring and flags.suggest_referral
    services.health_referral_create(
        actor=helena,
        person=person_in_a,
        data={"to_service": "Mental health team", "reason": "Depression and alcohol"},
    )
    assert not health_flags(person_in_a).suggest_referral


def test_a_resolved_diagnosis_is_a_new_row_and_no_longer_flags(helena, person_in_a):
    diagnosis = _mental(helena, person_in_a)
    correction = services.diagnosis_correct(
        actor=helena, diagnosis=diagnosis, data={"status": "resolved"}
    )
    diagnosis.refresh_from_db()
    assert correction.replaces == diagnosis and not diagnosis.is_current
    assert not health_flags(person_in_a).mental_health_need


def test_case_manager_cannot_record_a_diagnosis(alice, person_in_a):
    with pytest.raises(PermissionError):
        _mental(alice, person_in_a)


def test_alice_sees_flags_but_not_diagnoses(client, alice, helena, person_in_a):
    _mental(helena, person_in_a)
    client.force_login(alice)
    response = client.get(reverse("person-health", args=[person_in_a.pk]))
    assert response.status_code == 200
    assert response.context["flags"].mental_health_need
    assert response.context["flags"].mental_health_sources == ()
    assert response.context["diagnoses"] == []
    assert b"F32.1" not in response.content
    assert not AuditEvent.objects.filter(action="health.read").exists()


def test_health_staff_reads_diagnoses_and_the_read_is_audited(client, helena, person_in_a):
    _mental(helena, person_in_a)
    client.force_login(helena)
    response = client.get(reverse("person-health", args=[person_in_a.pk]))
    assert b"F32.1" in response.content
    reads = AuditEvent.objects.filter(action="health.read", actor=helena, person=person_in_a)
    assert reads.filter(object_type="health.diagnoses").count() == 1


def test_bruno_out_of_scope_gets_404(client, bruno, person_in_a):
    client.force_login(bruno)
    assert client.get(reverse("person-health", args=[person_in_a.pk])).status_code == 404


def test_person_page_shows_the_health_section(client, alice, helena, person_in_a):
    _mental(helena, person_in_a)
    client.force_login(alice)
    response = client.get(reverse("person-detail", args=[person_in_a.pk]))
    assert b"consider a health referral" in response.content


def test_person_profile_mental_health_flag_from_a_diagnosis(helena, person_in_a):
    today = timezone.localdate()
    assert not rules.person_profile(person_in_a, today=today)[0].mental_health_flag
    _mental(helena, person_in_a)
    assert rules.person_profile(person_in_a, today=today)[0].mental_health_flag


def test_relapse_plan_life_cycle_across_release(client, alice, helena, pablo, person_in_a):
    episode = person_in_a.custody_episodes.get()
    today = timezone.localdate()
    episode.expected_release_date = today + datetime.timedelta(days=20)
    episode.save(update_fields=["expected_release_date"])

    draft = services.relapse_plan_save(actor=alice, person=person_in_a, data=PLAN)
    assert draft.version == 1 and draft.is_draft and draft.medication_supply_short
    active = services.relapse_plan_activate(actor=alice, plan=draft)
    assert active.status == RelapsePlanStatus.ACTIVE

    due = selectors.relapse_reviews_due(viewer=helena, today=today)
    assert [row.plan for row in due] == [active]
    services.relapse_plan_review(actor=helena, plan=active, reviewed_on=today)
    assert selectors.relapse_reviews_due(viewer=alice, today=today) == []

    custody_release(
        actor=alice, episode=episode, release_date=today, release_type="end_of_sentence"
    )
    client.force_login(pablo)
    response = client.get(reverse("person-health", args=[person_in_a.pk]))
    assert response.status_code == 200 and response.context["active_plan"] == active
    assert b"less than 14 days" in response.content

    second = services.relapse_plan_save(
        actor=helena, person=person_in_a, data={"medication_supply_days": 30}
    )
    services.relapse_plan_activate(actor=helena, plan=second)
    active.refresh_from_db()
    assert active.status == RelapsePlanStatus.SUPERSEDED
    assert second.version == 2 and second.coping_strategies == PLAN["coping_strategies"]
    assert not second.medication_supply_short


def test_programme_staff_cannot_edit_the_plan(pablo, person_in_a):
    with pytest.raises(PermissionError):
        services.relapse_plan_save(actor=pablo, person=person_in_a, data=PLAN)


def test_activation_needs_situations_and_strategies(alice, person_in_a):
    from django.core.exceptions import ValidationError

    draft = services.relapse_plan_save(actor=alice, person=person_in_a, data={})
    with pytest.raises(ValidationError) as error:
        services.relapse_plan_activate(actor=alice, plan=draft)
    assert "coping_strategies" in error.value.message_dict


def test_printable_page_has_no_inline_style(client, alice, person_in_a):
    plan = services.relapse_plan_save(actor=alice, person=person_in_a, data=PLAN)
    client.force_login(alice)
    response = client.get(reverse("relapse-plan-print", args=[plan.pk]))
    assert response.status_code == 200
    assert b"print-page" in response.content
    assert b"style=" not in response.content and b"<style" not in response.content


def test_views_record_a_diagnosis_and_edit_the_plan(client, helena, person_in_a):
    client.force_login(helena)
    response = client.post(
        reverse("diagnosis-new", args=[person_in_a.pk]),
        {"recorded_on": "2025-01-10", "category": "mental_disorder", "status": "active"},
    )
    assert response.status_code == 400  # the type of mental disorder is missing
    response = client.post(
        reverse("diagnosis-new", args=[person_in_a.pk]),
        {
            "recorded_on": "2025-01-10",
            "category": "mental_disorder",
            "mental_disorder_type": "anxiety",
            "status": "active",
        },
    )
    assert response.status_code == 302
    response = client.post(
        reverse("relapse-plan-edit", args=[person_in_a.pk]),
        {"coping_strategies": "Walk", "contact_0_name": "Ana", "contact_0_phone": "1"},
    )
    assert response.status_code == 302
    assert client.get(reverse("relapse-reviews-due")).status_code == 200

"""Merging duplicate person records (records/merge.py) and `whatworks persons`."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from conftest import admission_data, person_data
from whatworks.audit.chain import verify_chain
from whatworks.audit.models import AuditEvent
from whatworks.records import merge
from whatworks.records.merge import person_merge, person_relations, unhandled_relations
from whatworks.records.models import Person
from whatworks.records.services import custody_release, outcome_event_record, person_admit

DAY = datetime.date(2026, 3, 2)
RELEASED = datetime.date(2026, 3, 20)


def fill_records(person, facility, *, staff, programme, provider):
    """At least one row of every kind that points at a person, made with the apps'
    services where there is one (as the authorization sweep builds them)."""
    from whatworks.community import services as community
    from whatworks.drugtests import services as drugtests
    from whatworks.health import services as health
    from whatworks.outcomes.tests.helpers import link_review_for
    from whatworks.reintegration import services as reintegration
    from whatworks.treatment import services as treatment
    from whatworks.treatment.models import DisciplinaryFault
    from whatworks.treatment.tests.helpers import approved_plan, assess

    episode = person.custody_episodes.get()
    assess(staff, person)
    approved_plan(staff, person)
    treatment.referral_create(
        actor=staff, person=person, programme=programme, referral_date=DAY, override_reason="x"
    )
    DisciplinaryFault.objects.create(
        person=person, episode=episode, fault_date=DAY, description="Fight", revoked_fraction=""
    )
    health.diagnosis_record(
        actor=None,
        person=person,
        data={"recorded_on": DAY, "status": "active", "code": "F32.1", "category": "other"},
    )
    health.health_referral_create(
        actor=None, person=person, data={"to_service": "Mental health", "reason": "Low mood"}
    )
    relapse = health.relapse_plan_save(
        actor=None,
        person=person,
        data={"coping_strategies": "Call my sister", "high_risk_situations": "Payday"},
    )
    health.relapse_plan_activate(actor=None, plan=relapse)
    drugtests.drug_test_record(
        actor=None,
        person=person,
        test_date=DAY,
        reason="random",
        sample="urine",
        results={"cannabis": "negative"},
    )
    reintegration.preparation_start(actor=staff, episode=episode)
    community.provider_referral_create(
        actor=staff,
        person=person,
        data={"provider": provider, "pathway": "accommodation", "referred_on": DAY},
    )
    link_review_for(person, event_date=DAY, source_reference=f"PDI-{person.pk}")


@pytest.fixture
def programme(facility_a, facility_b):
    from whatworks.treatment.tests.helpers import make_programme

    return make_programme(facilities=[facility_a, facility_b])


@pytest.fixture
def ngo(db):
    from whatworks.community.tests.helpers import provider

    return provider(actor=None)


@pytest.fixture
def duplicate(facility_b, dora, programme, ngo):
    """José registered a second time at facility B (a national ID, other spelling), with
    records in every app, released in March 2026 and rearrested in April."""
    episode = person_admit(
        actor=None,
        person_data=person_data(
            prison_number="CL-0000099",
            national_id="12.345.678-5",
            first_names="Jose Ignacio",
            literacy="not_recorded",
            education_level="secondary",
        ),
        facility=facility_b,
        admission_data=admission_data(admission_date=datetime.date(2023, 6, 1)),
    )
    person = episode.person
    fill_records(person, facility_b, staff=dora, programme=programme, provider=ngo)
    custody_release(
        actor=dora, episode=episode, release_date=RELEASED, release_type="end_of_sentence"
    )
    outcome_event_record(
        actor=dora,
        person=person,
        data={
            "event_type": "rearrest",
            "event_date": datetime.date(2026, 4, 10),
            "source": "police",
        },
    )
    return person


# Kinds of rows whose presence refuses the merge (tested on their own below).
REFUSING = {"privacy.retentionrecord.person"}


def counts(person) -> dict[str, int]:
    return {
        relation.label: relation.model._base_manager.filter(**{relation.field.name: person}).count()
        for relation in person_relations()
        if relation.label not in merge.SKIPPED and relation.label not in REFUSING
    }


def test_every_relation_to_a_person_is_handled():
    """A new model pointing at Person with a unique constraint on it needs a resolver in
    records/merge.py before a merge can move its rows."""
    assert unhandled_relations() == []


def test_an_unresolved_unique_constraint_is_named_and_stops_the_merge(
    monkeypatch, dora, person_in_a, duplicate
):
    monkeypatch.setitem(merge.RESOLVERS, "treatment.interventionplan.person", merge.Resolver())
    assert (
        "treatment.interventionplan.person: plan_one_approved, plan_one_draft, plan_person_version"
        in unhandled_relations()
    )
    with pytest.raises(RuntimeError, match=r"treatment\.interventionplan\.person"):
        person_merge(actor=dora, keep=person_in_a, duplicate=duplicate, reason="same person")
    assert Person.objects.get(pk=duplicate.pk).merged_into is None


def test_merge_moves_every_row_settles_clashes_and_leaves_a_tombstone(
    dora, person_in_a, duplicate, facility_a, programme, ngo
):
    from whatworks.health.models import RelapsePlan
    from whatworks.outcomes.models import LinkReview
    from whatworks.treatment.models import InterventionPlan

    keep = person_in_a
    fill_records(keep, facility_a, staff=dora, programme=programme, provider=ngo)
    before_keep, before_dup = counts(keep), counts(duplicate)
    kinds_made = {label for label, count in before_dup.items() if count}
    # The fixture must make a row of every kind that exists, so a new relation is covered.
    expected = set(before_dup) - {"records.person.merged_into"}  # tested on its own below
    assert kinds_made == expected, f"no duplicate rows for {expected - kinds_made}"
    dup_audit = AuditEvent.objects.filter(person=duplicate).count()

    result = person_merge(
        actor=dora, keep=keep, duplicate=duplicate, reason="Same fingerprints (ticket 4411)"
    )

    assert result.moved == {label: count for label, count in before_dup.items() if count}
    assert counts(duplicate) == dict.fromkeys(before_dup, 0)
    after_keep = {label: before_keep[label] + before_dup[label] for label in before_keep}
    after_keep["records.person.merged_into"] = 1  # the tombstone itself
    assert counts(keep) == after_keep
    # Both had an approved plan and an active relapse plan: the keeper's stay current, the
    # duplicate's are superseded and numbered after the keeper's.
    plans = InterventionPlan.objects.filter(person=keep).order_by("version")
    assert [(plan.version, plan.status) for plan in plans] == [
        (1, "approved"),
        (2, "superseded"),
    ]
    relapse = RelapsePlan.objects.filter(person=keep).order_by("version")
    assert [(plan.version, plan.status) for plan in relapse] == [(1, "active"), (2, "superseded")]
    assert {entry["table"] for entry in result.resolved} == {
        "treatment.interventionplan",
        "health.relapseplan",
    }
    # Missing identifiers are filled, differing ones only listed.
    keep.refresh_from_db()
    duplicate.refresh_from_db()
    assert result.filled == {"national_id": "12.345.678-5", "education_level": "secondary"}
    assert keep.national_id == "12.345.678-5"
    assert keep.education_level == "secondary"
    assert keep.first_names == "José Ignacio"
    assert result.differences == {"first_names": ["José Ignacio", "Jose Ignacio"]}
    # The keeper is still held at A; the duplicate's stay at B overlapped José's at A.
    assert keep.current_facility == facility_a
    assert [warning["warning"] for warning in result.warnings] == ["overlapping_episodes"]
    # The tombstone.
    assert duplicate.merged_into == keep
    assert duplicate.national_id == ""
    assert duplicate.prison_number == "CL-0000099"
    # Pending link reviews name the keeper in their candidate lists too.
    for review in LinkReview.objects.filter(candidate=keep):
        assert [item["person_id"] for item in review.candidates] == [keep.pk]
    # The audit trail: the duplicate's history untouched, one merge event, chain intact.
    assert AuditEvent.objects.filter(person=duplicate).count() == dup_audit
    event = AuditEvent.objects.get(action="person.merge")
    assert event.person == keep
    assert event.actor == dora
    assert event.after["keep"] == keep.pk
    assert event.after["duplicate"] == duplicate.pk
    assert event.after["moved"] == result.moved
    assert event.after["reason"] == "Same fingerprints (ticket 4411)"
    assert event.after["resolved"] == result.resolved
    assert verify_chain().ok
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert "Audit chain intact" in out.getvalue()


def test_dry_run_reports_the_same_and_changes_nothing(dora, person_in_a, duplicate):
    before = counts(duplicate)
    events = AuditEvent.objects.count()
    preview = person_merge(
        actor=dora, keep=person_in_a, duplicate=duplicate, reason="x", dry_run=True
    )
    assert preview.dry_run
    assert preview.moved == {label: count for label, count in before.items() if count}
    assert counts(duplicate) == before
    assert Person.objects.get(pk=duplicate.pk).merged_into is None
    assert AuditEvent.objects.count() == events
    done = person_merge(actor=dora, keep=person_in_a, duplicate=duplicate, reason="x")
    assert done.moved == preview.moved
    assert done.filled == preview.filled


def test_the_released_persons_facility_follows_an_open_episode_moved_to_the_keeper(
    dora, facility_a, facility_b
):
    """The keeper only had a closed stay at A; the duplicate is held at B now."""
    old = person_admit(
        actor=None,
        person_data=person_data(),
        facility=facility_a,
        admission_data=admission_data(admission_date=datetime.date(2020, 1, 1)),
    )
    custody_release(
        actor=None,
        episode=old,
        release_date=datetime.date(2021, 1, 1),
        release_type="end_of_sentence",
    )
    now = person_admit(
        actor=None,
        person_data=person_data(prison_number="CL-0000050"),
        facility=facility_b,
        admission_data=admission_data(),
    )
    result = person_merge(actor=dora, keep=old.person, duplicate=now.person, reason="same")
    keep = Person.objects.get(pk=old.person.pk)
    assert keep.current_facility == facility_b
    event = AuditEvent.objects.get(action="person.merge")
    assert event.after["current_facility"] == [facility_a.pk, facility_b.pk]
    assert keep.custody_episodes.count() == 2
    assert result.warnings == []
    assert result.differences == {}


@pytest.mark.parametrize("who", ["alice", "fabio", "carla", "pablo", "helena"])
def test_only_administrators_merge(request, who, person_in_a, person_in_b):
    with pytest.raises(PermissionError):
        person_merge(
            actor=request.getfixturevalue(who), keep=person_in_a, duplicate=person_in_b, reason="x"
        )


def test_refusals_name_the_field(dora, person_in_a, person_in_b, duplicate):
    with pytest.raises(ValidationError) as same:
        person_merge(actor=dora, keep=person_in_a, duplicate=person_in_a, reason="")
    assert set(same.value.message_dict) == {"duplicate", "reason"}

    # Two open episodes: one person cannot be held twice.
    with pytest.raises(ValidationError) as both_held:
        person_merge(actor=dora, keep=person_in_a, duplicate=person_in_b, reason="same")
    assert "in custody now" in both_held.value.message_dict["duplicate"][0]
    assert "CL-A-01" in both_held.value.message_dict["duplicate"][0]

    person_merge(actor=dora, keep=person_in_a, duplicate=duplicate, reason="same")
    with pytest.raises(ValidationError) as again:
        person_merge(actor=dora, keep=person_in_a, duplicate=duplicate, reason="same")
    assert "already merged into CL-0000001" in again.value.message_dict["duplicate"][0]
    with pytest.raises(ValidationError) as tombstone_kept:
        person_merge(actor=dora, keep=duplicate, duplicate=person_in_b, reason="same")
    assert "keep" in tombstone_kept.value.message_dict
    assert AuditEvent.objects.filter(action="person.merge").count() == 1


def test_two_draft_plans_are_refused(dora, person_in_a, duplicate):
    from whatworks.treatment import services as treatment
    from whatworks.treatment.tests.helpers import assess

    assess(dora, person_in_a)
    treatment.plan_propose(actor=dora, person=person_in_a)
    treatment.plan_revise(actor=dora, plan=duplicate.plans.get())
    with pytest.raises(ValidationError) as refused:
        person_merge(actor=dora, keep=person_in_a, duplicate=duplicate, reason="same")
    assert "draft intervention plan" in refused.value.message_dict["duplicate"][0]


# --- the command ------------------------------------------------------------------------


def run(*args) -> str:
    out = io.StringIO()
    call_command("persons", *args, stdout=out)
    return out.getvalue()


def test_command_dry_run_then_merge_by_prison_number(dora, person_in_a, duplicate):
    preview = run("merge", "CL-0000001", "CL-0000099", "--reason", "same", "--dry-run")
    assert "Dry run" in preview
    assert "treatment.interventionplan.person" in preview
    assert Person.objects.get(pk=duplicate.pk).merged_into is None

    done = run("merge", str(person_in_a.pk), "CL-0000099", "--reason", "same", "--actor", "dora")
    assert "Merged" in done
    assert Person.objects.get(pk=duplicate.pk).merged_into_id == person_in_a.pk
    assert AuditEvent.objects.get(action="person.merge").actor == dora


def test_command_refusals_are_clear(dora, alice, person_in_a, person_in_b):
    with pytest.raises(CommandError, match="No person"):
        run("merge", "CL-0000001", "CL-NOPE", "--reason", "same")
    with pytest.raises(CommandError, match="in custody now"):
        run("merge", "CL-0000001", "CL-0000002", "--reason", "same")
    with pytest.raises(CommandError, match="No staff user"):
        run("merge", "CL-0000001", "CL-0000002", "--reason", "same", "--actor", "nobody")
    with pytest.raises(CommandError, match="administrators"):
        run("merge", "CL-0000001", "CL-0000002", "--reason", "same", "--actor", "alice")


def test_a_record_under_retention_is_not_merged(dora, person_in_a, duplicate):
    from django.apps import apps
    from django.utils import timezone

    if not apps.is_installed("whatworks.privacy") or "retentionrecord" not in {
        model._meta.model_name for model in apps.get_app_config("privacy").get_models()
    }:
        pytest.skip("no retention records in this build")
    retention = apps.get_model("privacy", "RetentionRecord")
    retention.objects.create(person=duplicate, action="pseudonymise", applied_at=timezone.now())
    with pytest.raises(ValidationError) as refused:
        person_merge(actor=dora, keep=person_in_a, duplicate=duplicate, reason="same")
    assert "retention" in refused.value.message_dict["duplicate"][0]


def test_moved_rows_with_a_lock_version_move_it_on(dora, person_in_a, duplicate):
    from whatworks.treatment.models import InterventionPlan

    plan = duplicate.plans.get()
    version = getattr(plan, merge.LOCK_FIELD, None)
    if version is None:
        pytest.skip("no optimistic locking in this build")
    person_merge(actor=dora, keep=person_in_a, duplicate=duplicate, reason="same")
    assert getattr(InterventionPlan.objects.get(pk=plan.pk), merge.LOCK_FIELD) == version + 1


def test_likely_duplicates_by_national_id_or_name_and_birth(person_in_a, person_in_b, duplicate):
    from whatworks.records.merge import likely_duplicates

    pairs = likely_duplicates()
    assert [(pair.first, pair.second, pair.why) for pair in pairs] == [
        (person_in_a, duplicate, "name_dob")
    ]
    assert pairs[0].score > 0.9
    Person.objects.filter(pk=person_in_b.pk).update(national_id="12345678-5")
    pairs = likely_duplicates()
    assert (person_in_b, duplicate, "national_id") in [(p.first, p.second, p.why) for p in pairs]
    assert "No likely duplicates" not in run("duplicates")
    Person.objects.filter(pk=person_in_b.pk).update(national_id="")
    person_merge(actor=None, keep=person_in_a, duplicate=duplicate, reason="same")
    assert likely_duplicates() == []
    assert "No likely duplicates" in run("duplicates")


# --- the page ---------------------------------------------------------------------------


def test_merge_page_is_for_administrators(client, alice, fabio, dora):
    from django.urls import reverse

    merge_link = f'href="{reverse("person-merge")}"'
    for user in (alice, fabio):
        client.force_login(user)
        assert client.get(reverse("person-merge")).status_code == 403
        assert client.post(reverse("person-merge"), {}).status_code == 403
        assert merge_link not in client.get(reverse("person-list")).content.decode()
    client.force_login(dora)
    assert merge_link in client.get(reverse("person-list")).content.decode()


def test_merge_page_previews_then_merges(client, dora, person_in_a, duplicate):
    from django.urls import reverse

    client.force_login(dora)
    url = reverse("person-merge")
    assert client.get(url).status_code == 200
    data = {"keep": "CL-0000001", "duplicate": "CL-0000099", "reason": "Same fingerprints"}
    preview = client.post(url, data)
    assert preview.status_code == 200
    body = preview.content.decode()
    assert "Intervention plans" in body
    assert 'name="confirm"' in body
    assert Person.objects.get(pk=duplicate.pk).merged_into is None

    done = client.post(url, {**data, "confirm": "1"})
    assert done.status_code == 302
    assert done["Location"] == reverse("person-detail", args=[person_in_a.pk])
    assert Person.objects.get(pk=duplicate.pk).merged_into_id == person_in_a.pk
    assert AuditEvent.objects.get(action="person.merge").actor == dora


def test_merge_page_shows_refusals_next_to_the_fields(client, dora, person_in_a, person_in_b):
    from django.urls import reverse

    client.force_login(dora)
    url = reverse("person-merge")
    unknown = client.post(url, {"keep": "CL-0000001", "duplicate": "CL-NOPE", "reason": "x"})
    assert unknown.status_code == 400
    assert "No person with this prison number" in unknown.content.decode()
    both_held = client.post(url, {"keep": "CL-0000001", "duplicate": "CL-0000002", "reason": "x"})
    assert both_held.status_code == 400
    assert "in custody now" in both_held.content.decode()
    assert not AuditEvent.objects.filter(action="person.merge").exists()


def test_a_merged_record_disappears_from_lists_and_its_page_leads_to_the_kept_person(
    client, dora, bruno, person_in_a, duplicate
):
    from django.urls import reverse

    from whatworks.records.access import persons_visible_to

    person_merge(actor=dora, keep=person_in_a, duplicate=duplicate, reason="same")
    assert not persons_visible_to(dora).filter(pk=duplicate.pk).exists()
    client.force_login(dora)
    old_page = client.get(reverse("person-detail", args=[duplicate.pk]))
    # The old address (bookmarks, links in notes) sends an administrator on to the kept person.
    assert old_page.status_code == 302
    assert old_page["Location"] == reverse("person-detail", args=[person_in_a.pk])
    # Someone who may not see the kept person learns nothing: missing, as any other.
    client.force_login(bruno)
    assert client.get(reverse("person-detail", args=[duplicate.pk])).status_code == 404


def test_records_merged_earlier_point_at_the_final_keeper(dora, facility_a, facility_b):
    """A merged into B, then B into C: A's tombstone points at C, one step away."""
    persons = []
    for number in (11, 12, 13):
        episode = person_admit(
            actor=None,
            person_data=person_data(prison_number=f"CL-00000{number}"),
            facility=facility_a,
            admission_data=admission_data(),
        )
        custody_release(
            actor=None,
            episode=episode,
            release_date=datetime.date(2024, 2, number),
            release_type="end_of_sentence",
        )
        persons.append(episode.person)
    first, second, third = persons
    person_merge(actor=dora, keep=second, duplicate=first, reason="same")
    result = person_merge(actor=dora, keep=third, duplicate=second, reason="same")
    assert result.moved["records.person.merged_into"] == 1
    assert Person.objects.get(pk=first.pk).merged_into == third
    assert Person.objects.get(pk=second.pk).merged_into == third
    assert third.custody_episodes.count() == 3


def test_imports_after_a_merge_land_on_the_kept_record(dora, person_in_a, duplicate):
    """A later extract still carrying the duplicate's prison number must not write to the
    tombstone, and record linkage must not offer the tombstone as a candidate."""
    from whatworks.outcomes.services import persons_frame
    from whatworks.records.selectors import person_ids_by_prison_number

    person_merge(actor=dora, keep=person_in_a, duplicate=duplicate, reason="same")
    ids = person_ids_by_prison_number([duplicate.prison_number, person_in_a.prison_number])
    assert ids == {
        duplicate.prison_number: person_in_a.pk,
        person_in_a.prison_number: person_in_a.pk,
    }
    assert str(duplicate.pk) not in persons_frame()["person_key"].to_list()
    assert str(person_in_a.pk) in persons_frame()["person_key"].to_list()

"""Everything held about one person, section by section: the one list both subject access
and retention work from.

Each ``Section`` names a model with a relation path to ``records.Person`` and says, for
every foreign key of that model that leads (directly or through another section's rows) to
the person, how it is covered:

- ``lookups``: ORM paths from the model to the person; a row is the person's when any of
  them matches (OR).
- ``same_person``: foreign keys to rows that always belong to the same person as the row
  itself (a plan's episode, a drug test's corrected row), so no lookup is needed.

``privacy/tests/test_coverage.py`` walks Django's model meta from ``Person`` and fails when a
model or a foreign key on the way is not covered here, so a new model that references a
person cannot be left out of the export (or out of retention) silently.

``free_text`` are the fields pseudonymisation blanks (notes, reasons, descriptions, names of
third parties, references that lead back to other systems); ``cleared_json`` are JSON fields
it empties, with the empty value. ``exclude`` are fields never exported (internal import
keys, hashes, other persons' ids).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclasses.dataclass(frozen=True)
class Section:
    name: str
    model_label: str
    title: Promise
    lookups: tuple[str, ...]
    same_person: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    free_text: tuple[str, ...] = ()
    cleared_json: tuple[tuple[str, Any], ...] = ()
    # Link reviews name a candidate; a review rejected for this person is about somebody
    # else (the extract row's identifiers are that other person's), unless it is linked.
    skip_rejected_candidates: bool = False

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)

    def condition(self, person) -> Q:
        condition = Q()
        for lookup in self.lookups:
            condition |= Q(**{lookup: person})
        return condition

    def queryset(self, person) -> QuerySet:
        rows = self.model._default_manager.filter(self.condition(person))
        if self.skip_rejected_candidates:
            rows = rows.exclude(Q(status="rejected") & ~Q(event__person=person))
        return rows.distinct().order_by("pk")


# Parents before children: retention deletes in the reverse order.
SECTIONS: tuple[Section, ...] = (
    # Duplicate records merged into this person (records/merge.py): their rows were moved
    # here, but the duplicate's own identity and its audit events stay on the duplicate.
    Section(
        "merged_records",
        "records.Person",
        _("Duplicate records merged into this one"),
        lookups=("merged_into",),
        exclude=("research_id",),
    ),
    Section(
        "custody_episodes",
        "records.CustodyEpisode",
        _("Custody episodes"),
        lookups=("person",),
        exclude=("source_key",),
    ),
    Section(
        "custody_movements",
        "records.CustodyMovement",
        _("Custody movements"),
        lookups=("episode__person",),
        free_text=("reason",),
    ),
    Section(
        "outcome_events",
        "records.OutcomeEvent",
        _("Contacts with the justice system after release"),
        lookups=("person",),
        exclude=("source_key",),
        free_text=("reference",),
    ),
    Section(
        "outcome_link_reviews",
        "outcomes.LinkReview",
        _("Police and court records reviewed for a link"),
        lookups=("event__person", "candidate"),
        exclude=("candidates",),
        free_text=(
            "first_name",
            "last_name",
            "national_id",
            "prison_number",
            "source_reference",
            "decision_reason",
        ),
        skip_rejected_candidates=True,
    ),
    Section(
        "assessments",
        "assessments.Assessment",
        _("Assessments and answers"),
        lookups=("person",),
        same_person=("episode",),
        exclude=("import_key",),
        free_text=("override_reason",),
    ),
    Section(
        "assessment_status_changes",
        "assessments.AssessmentStatusChange",
        _("Assessment status history"),
        lookups=("assessment__person",),
    ),
    Section(
        "intervention_plans",
        "treatment.InterventionPlan",
        _("Intervention plans"),
        lookups=("person",),
        same_person=("episode", "assessment"),
        free_text=("agreement_notes",),
    ),
    Section(
        "plan_goals",
        "treatment.PlanGoal",
        _("Plan goals"),
        lookups=("plan__person",),
        free_text=("description",),
    ),
    Section(
        "plan_steps",
        "treatment.PlanStep",
        _("Plan steps"),
        lookups=("goal__plan__person",),
        free_text=("description", "owner_name"),
    ),
    Section(
        "plan_reviews",
        "treatment.PlanReview",
        _("Plan reviews"),
        lookups=("plan__person",),
        free_text=("notes",),
    ),
    Section(
        "programme_referrals",
        "treatment.Referral",
        _("Programme referrals"),
        lookups=("person",),
        same_person=("episode", "plan"),
        exclude=("import_key",),
        free_text=("override_reason",),
    ),
    Section(
        "programme_referral_status_changes",
        "treatment.ReferralStatusChange",
        _("Programme referral status history"),
        lookups=("referral__person",),
        free_text=("reason",),
    ),
    Section(
        "attendance",
        "treatment.Attendance",
        _("Programme attendance"),
        lookups=("referral__person",),
        same_person=("supersedes",),
        free_text=("note",),
    ),
    Section(
        "disciplinary_faults",
        "treatment.DisciplinaryFault",
        _("Disciplinary faults"),
        lookups=("person",),
        same_person=("episode",),
        exclude=("import_key",),
        free_text=("description", "decision_reference"),
    ),
    Section(
        "drug_tests",
        "drugtests.DrugTest",
        _("Drug tests"),
        lookups=("person",),
        same_person=("episode", "supersedes"),
        exclude=("import_key",),
        free_text=("correction_reason", "lab_reference", "seal_number"),
    ),
    Section(
        "diagnoses",
        "health.Diagnosis",
        _("Diagnoses"),
        lookups=("person",),
        same_person=("replaces",),
        free_text=("notes",),
    ),
    Section(
        "health_referrals",
        "health.HealthReferral",
        _("Health referrals"),
        lookups=("person",),
        same_person=("replaces",),
        free_text=("reason", "notes"),
    ),
    Section(
        "relapse_plans",
        "health.RelapsePlan",
        _("Relapse prevention plans"),
        lookups=("person",),
        same_person=("episode",),
        free_text=(
            "high_risk_situations",
            "early_warning_signs",
            "coping_strategies",
            "release_accommodation",
            "release_contact",
            "appointment_place",
        ),
        cleared_json=(("supportive_contacts", []),),
    ),
    Section(
        "release_preparations",
        "reintegration.ReleasePreparation",
        _("Release preparation"),
        lookups=("person",),
        same_person=("episode",),
    ),
    Section(
        "release_pathways",
        "reintegration.PathwayAssessment",
        _("Release preparation pathways"),
        lookups=("preparation__person",),
        free_text=("notes",),
    ),
    Section(
        "release_tasks",
        "reintegration.PathwayTask",
        _("Release preparation tasks"),
        lookups=("preparation__person",),
        free_text=("description",),
    ),
    Section(
        "release_arrangements",
        "reintegration.Arrangement",
        _("Release arrangements"),
        lookups=("preparation__person",),
        free_text=("description", "provider_name", "notes"),
    ),
    Section(
        "release_handovers",
        "reintegration.Handover",
        _("Release summary handovers"),
        lookups=("preparation__person",),
        free_text=("recipient_name", "notes"),
        cleared_json=(("summary", {}),),
    ),
    Section(
        "provider_referrals",
        "community.ProviderReferral",
        _("Referrals to community providers"),
        lookups=("person",),
        same_person=("episode",),
        free_text=("outcome", "notes"),
    ),
    Section(
        "provider_referral_status_changes",
        "community.ProviderReferralStatusChange",
        _("Community referral status history"),
        lookups=("referral__person",),
        free_text=("note",),
    ),
    Section(
        "follow_up_contacts",
        "community.FollowUpContact",
        _("Follow-up contacts after release"),
        lookups=("person",),
        same_person=("episode",),
        free_text=("notes",),
    ),
    Section(
        "retention",
        "privacy.RetentionRecord",
        _("Retention applied"),
        lookups=("person",),
    ),
    # The audit trail is hash-chained: never changed or deleted by retention (docs/privacy.md).
    Section(
        "audit_events",
        "audit.AuditEvent",
        _("Who recorded, changed or viewed your records, and when"),
        lookups=("person", "person__merged_into"),
        exclude=("previous_hash", "row_hash"),
    ),
)

# Sections retention never deletes or blanks row by row: the audit trail (hash chain), its
# own record, and merged duplicates (Person rows, treated like the person: see services).
RETENTION_KEEPS = frozenset({"audit_events", "retention", "merged_records"})

SECTIONS_BY_MODEL: dict[str, Section] = {section.model_label: section for section in SECTIONS}

# Person fields and what each retention action does with them (tested against the model).
PERSON_EXCLUDED_FROM_EXPORT = ("research_id",)


def section_by_name(name: str) -> Section:
    return next(section for section in SECTIONS if section.name == name)

"""Subject access exports and the retention rules (docs/privacy.md).

Every write is audited in its own transaction: an export is audited as it is produced (if
rendering fails, no event says it was handed out); each person's retention change and its
audit event commit together or not at all.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import zipfile
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from whatworks.accounts.models import Role
from whatworks.audit.services import audit_record
from whatworks.privacy import export
from whatworks.privacy.models import RetentionAction, RetentionRecord
from whatworks.privacy.sections import RETENTION_KEEPS, SECTIONS
from whatworks.records.choices import EducationLevel, Gender, Literacy, Sex
from whatworks.records.models import EARLIEST_DATE, CustodyEpisode, Person
from whatworks.service_helpers import require, today

# --- subject access -------------------------------------------------------------------------


def can_request_subject_access(user) -> bool:
    """A subject access request is a formal one: administrators only."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.role == Role.ADMINISTRATOR
    )


@dataclasses.dataclass(frozen=True)
class SubjectAccessExport:
    person_id: int
    data: dict[str, Any]
    json_bytes: bytes
    pdf_bytes: bytes
    generated_on: datetime.date

    @property
    def stem(self) -> str:
        # No name or prison number in a file name: file names end up in logs and listings.
        return f"subject-access-{self.person_id}-{self.generated_on.isoformat()}"

    def zip_bytes(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{self.stem}.json", self.json_bytes)
            archive.writestr(f"{self.stem}.pdf", self.pdf_bytes)
        return buffer.getvalue()


def subject_access_export(
    *, actor, person: Person, language: str | None = None, actor_label: str = ""
) -> SubjectAccessExport:
    """All data held about ``person`` as JSON and PDF, audited as ``privacy.subject_access``.

    ``actor`` None is the command line (``actor_label`` says who ran it)."""
    if actor is not None:
        require(can_request_subject_access(actor), "Only administrators export subject access.")
    language = language or settings.LANGUAGE_CODE
    with transaction.atomic():
        data = export.collect(person)
        json_bytes = export.as_json(data)
        pdf_bytes = export.as_pdf(data, language=language)
        audit_record(
            actor=actor,
            action="privacy.subject_access",
            target=person,
            person=person,
            after={
                "language": language,
                "rows": {name: len(rows) for name, rows in data["sections"].items() if rows},
            },
            actor_label=actor_label,
        )
    return SubjectAccessExport(
        person_id=person.pk,
        data=data,
        json_bytes=json_bytes,
        pdf_bytes=pdf_bytes,
        generated_on=timezone.localdate(data["generated_at"]),
    )


# --- retention ------------------------------------------------------------------------------

# The dated facts that count as activity (docs/privacy.md): (model, lookup to the person,
# date field). The retention clock runs from the latest of them.
ACTIVITY_DATES: tuple[tuple[str, str, str], ...] = (
    ("records.CustodyEpisode", "person", "release_date"),
    ("records.CustodyEpisode", "person", "admission_date"),
    ("records.OutcomeEvent", "person", "event_date"),
    ("community.FollowUpContact", "person", "contact_date"),
    ("community.ProviderReferral", "person", "status_date"),
    ("community.ProviderReferral", "person", "outcome_date"),
    ("drugtests.DrugTest", "person", "test_date"),
    ("assessments.Assessment", "person", "assessed_on"),
    ("health.HealthReferral", "person", "status_date"),
    ("health.Diagnosis", "person", "recorded_on"),
    ("treatment.Referral", "person", "status_date"),
    ("treatment.DisciplinaryFault", "person", "fault_date"),
)


def retention_cutoff(on: datetime.date, years: int) -> datetime.date:
    """``on`` minus ``years`` years (29 February becomes 28 February)."""
    try:
        return on.replace(year=on.year - years)
    except ValueError:
        return on.replace(year=on.year - years, day=28)


@dataclasses.dataclass(frozen=True)
class RetentionCandidate:
    person_id: int
    research_id: str
    last_release: datetime.date
    last_activity: datetime.date


def retention_candidates(
    *, action: str, on: datetime.date | None = None, years: int | None = None
) -> list[RetentionCandidate]:
    """Persons due for ``action``: released, none of their episodes open, no activity
    (ACTIVITY_DATES) on or after the cutoff and no pending link review naming them; minus
    those the action was already applied to (and, for pseudonymise, those deleted)."""
    from django.apps import apps

    on = on or today()
    years = settings.RETENTION_YEARS if years is None else years
    cutoff = retention_cutoff(on, years)
    open_persons = CustodyEpisode.objects.filter(release_date__isnull=True).values("person_id")
    persons = (
        Person.objects.filter(custody_episodes__isnull=False)
        .exclude(pk__in=open_persons)
        .annotate(last_release=Max("custody_episodes__release_date"))
        .filter(last_release__lt=cutoff)
    )
    done = [RetentionAction.DELETE]
    if action == RetentionAction.PSEUDONYMISE:
        done.append(RetentionAction.PSEUDONYMISE)
    persons = persons.exclude(retention_record__action__in=done)
    for label, lookup, field in ACTIVITY_DATES:
        recent = apps.get_model(label).objects.filter(**{f"{field}__gte": cutoff})
        persons = persons.exclude(pk__in=recent.values(f"{lookup}_id"))
    # A police or court record still waiting for a decision on whether it is this person's.
    pending = apps.get_model("outcomes.LinkReview").objects.filter(status="pending")
    persons = persons.exclude(pk__in=pending.values("candidate_id"))
    return _with_last_activity(persons.order_by("pk"))


def _with_last_activity(persons) -> list[RetentionCandidate]:
    """The candidates with their last activity: one query per kind of activity."""
    from django.apps import apps

    chosen = persons.values("pk")  # a subquery: no list of ids, however many
    persons = list(persons)
    latest = {person.pk: person.last_release for person in persons}
    for label, lookup, field in ACTIVITY_DATES:
        key = f"{lookup}_id"
        rows = (
            apps.get_model(label)
            .objects.filter(**{f"{key}__in": chosen})
            .values(key)
            .annotate(latest=Max(field))
        )
        for row in rows:
            if row["latest"] is not None and row["latest"] > latest[row[key]]:
                latest[row[key]] = row["latest"]
    return [
        RetentionCandidate(person.pk, person.research_id, person.last_release, latest[person.pk])
        for person in persons
    ]


def _identities(person: Person) -> list[Person]:
    """The person's row and the duplicates merged into it: each carries identifiers."""
    return list(Person.objects.filter(Q(pk=person.pk) | Q(merged_into=person)).order_by("pk"))


def _pseudonym(person: Person, prefix: str) -> str:
    return f"{prefix}-{person.research_id}"


def _blank_free_text(person: Person) -> dict[str, int]:
    changed = {}
    for section in SECTIONS:
        if section.name in RETENTION_KEEPS or not (section.free_text or section.cleared_json):
            continue
        values: dict[str, Any] = {name: "" for name in section.free_text}
        values.update(dict(section.cleared_json))
        rows = section.model._default_manager.filter(
            pk__in=list(section.queryset(person).values_list("pk", flat=True))
        )
        count = rows.update(**values)
        if section.name == "outcome_link_reviews":
            # The extract row's date of birth, like the person's: 1 July of the year.
            for review in rows:
                review.date_of_birth = datetime.date(review.date_of_birth.year, 7, 1)
                review.save(update_fields=["date_of_birth"])
        if count:
            changed[section.name] = count
    answers = _blank_text_answers(person)
    if answers:
        changed["assessment_text_answers"] = answers
    return changed


def _blank_text_answers(person: Person) -> int:
    """Free-text answers of assessments (items of type "text" in the pinned definition)."""
    from whatworks.assessments.models import Assessment

    blanked = 0
    for assessment in Assessment.objects.filter(person=person).select_related("instrument_version"):
        items = assessment.instrument_version.definition.get("items", [])
        text_ids = {item.get("id") for item in items if item.get("type") == "text"}
        answers = dict(assessment.answers or {})
        found = [key for key in text_ids if answers.get(key) not in (None, "")]
        if found:
            answers.update({key: "" for key in found})
            Assessment.objects.filter(pk=assessment.pk).update(answers=answers)
            blanked += len(found)
    return blanked


def _mark(person: Person, action: str) -> None:
    RetentionRecord.objects.update_or_create(
        person=person, defaults={"action": action, "applied_at": timezone.now()}
    )


@transaction.atomic
def person_pseudonymise(*, actor, person: Person, actor_label: str = "retention") -> dict:
    """Remove the person's identifiers and every free-text note about them; keep the
    structured records (dates, codes, results) so outcome statistics stay valid."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    if RetentionRecord.objects.filter(person=person).exists():
        return {}  # already pseudonymised or deleted: nothing to do
    changed = _blank_free_text(person)
    for row in _identities(person):
        Person.objects.filter(pk=row.pk).update(
            prison_number=_pseudonym(row, "PSEUDO"),
            national_id="",
            first_names="",
            last_names="",
            date_of_birth=datetime.date(row.date_of_birth.year, 7, 1),
            support_needs_notes="",
            updated_at=timezone.now(),
        )
    _mark(person, RetentionAction.PSEUDONYMISE)
    # Counts only: an audit event is never changed afterwards, so it must carry nothing
    # that identifies the person.
    audit_record(
        actor=actor,
        action="privacy.retention.pseudonymise",
        target=person,
        person=person,
        after={"rows_blanked": changed},
        actor_label=actor_label,
    )
    return changed


@transaction.atomic
def person_delete(*, actor, person: Person, actor_label: str = "retention") -> dict:
    """Delete everything held about the person but the audit trail, and keep a tombstone
    Person row with no identifying data for the audit events to point at."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    if RetentionRecord.objects.filter(person=person, action=RetentionAction.DELETE).exists():
        return {}  # already a tombstone
    deleted = {}
    for section in reversed(SECTIONS):
        if section.name in RETENTION_KEEPS:
            continue
        model = section.model
        ids = list(section.queryset(person).values_list("pk", flat=True))
        if not ids:
            continue
        rows = model._default_manager.filter(pk__in=ids)
        # Corrections point at the row they replace (PROTECT): unhook them first.
        for name in section.same_person:
            field = model._meta.get_field(name)
            if field.related_model is model:
                rows.update(**{name: None})
        rows.delete()
        deleted[section.name] = len(ids)
    # Link reviews that named this person but were rejected are about someone else: they
    # stay, pointing at the tombstone (see docs/privacy.md).
    for row in _identities(person):
        _tombstone(row)
    _mark(person, RetentionAction.DELETE)
    audit_record(
        actor=actor,
        action="privacy.retention.delete",
        target=person,
        person=person,
        after={"rows_deleted": deleted},
        actor_label=actor_label,
    )
    return deleted


def _tombstone(person: Person) -> None:
    Person.objects.filter(pk=person.pk).update(
        prison_number=_pseudonym(person, "DELETED"),
        national_id="",
        first_names="",
        last_names="",
        date_of_birth=EARLIEST_DATE,
        sex=Sex.NOT_RECORDED,
        gender=Gender.NOT_RECORDED,
        nationality="ZZ",
        languages=[],
        literacy=Literacy.NOT_RECORDED,
        education_level=EducationLevel.NOT_RECORDED,
        support_needs=[],
        support_needs_notes="",
        current_facility=None,
        updated_at=timezone.now(),
    )


@dataclasses.dataclass
class RetentionReport:
    action: str
    dry_run: bool
    cutoff: datetime.date | None
    candidates: list[RetentionCandidate]
    changes: dict[int, dict] = dataclasses.field(default_factory=dict)
    failures: dict[int, str] = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "dry_run": self.dry_run,
            "cutoff": self.cutoff.isoformat() if self.cutoff else None,
            "persons": [
                {
                    "person_id": c.person_id,
                    "research_id": c.research_id,
                    "last_release": c.last_release.isoformat(),
                    "last_activity": c.last_activity.isoformat(),
                    "rows": self.changes.get(c.person_id, {}),
                    "error": self.failures.get(c.person_id),
                }
                for c in self.candidates
            ],
        }


def retention_apply(
    *,
    actor=None,
    action: str | None = None,
    dry_run: bool = False,
    on: datetime.date | None = None,
    years: int | None = None,
    actor_label: str = "retention",
) -> RetentionReport:
    """Apply ``action`` (default: settings.RETENTION_ACTION) to every candidate, one person
    per transaction. "off" does nothing."""
    action = settings.RETENTION_ACTION if action is None else action
    if action not in ("off", *RetentionAction.values):
        raise ValueError(f"unknown retention action {action!r}")
    on = on or today()
    years = settings.RETENTION_YEARS if years is None else years
    if action == "off":
        return RetentionReport(action, dry_run, None, [])
    candidates = retention_candidates(action=action, on=on, years=years)
    report = RetentionReport(action, dry_run, retention_cutoff(on, years), candidates)
    if dry_run:
        return report
    apply = person_pseudonymise if action == RetentionAction.PSEUDONYMISE else person_delete
    for candidate in candidates:
        person = Person.objects.get(pk=candidate.person_id)
        try:
            report.changes[candidate.person_id] = apply(
                actor=actor, person=person, actor_label=actor_label
            )
        except DatabaseError as error:
            # This person's transaction rolled back whole; go on with the others and say so.
            report.failures[candidate.person_id] = f"{type(error).__name__}: {error}"
    return report

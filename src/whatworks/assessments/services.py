"""Writes to assessments. Each service validates, writes and audits in one transaction.

Scoring happens only here, through the instrument engine (``whatworks.analytics.instruments``);
a client never sends a total or a band. Services raise ``ValidationError`` with a dict of
field -> messages; answer problems are keyed by the item id, so forms and the API show them
next to the question.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.resources
import json
from collections.abc import Mapping
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from whatworks.analytics.instruments import (
    AnswerError,
    Instrument,
    InstrumentError,
    load_instrument,
    next_reassessment_date,
    score,
)
from whatworks.analytics.instruments.model import instrument_from_mapping
from whatworks.assessments.access import can_approve_override, can_assess
from whatworks.assessments.models import (
    Assessment,
    AssessmentStatus,
    AssessmentStatusChange,
    InstrumentVersion,
)
from whatworks.audit.services import audit_record
from whatworks.concurrency import claim
from whatworks.records.access import persons_visible_to
from whatworks.records.models import Person

ANSWERS_FIELD = "answers"


def _today() -> datetime.date:
    return timezone.localdate()


def definition_sha256(definition: Mapping[str, Any]) -> str:
    """SHA-256 of the definition as canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _builtin_definition(instrument: Instrument) -> dict[str, Any]:
    """The parsed YAML of a built-in instrument (``instrument.source`` is builtin/<file>)."""
    package = importlib.resources.files("whatworks.analytics.instruments")
    return yaml.safe_load(package.joinpath(instrument.source).read_text("utf-8"))


def instrument_version_register(*, actor, definition: Mapping[str, Any]) -> InstrumentVersion:
    """Store one version of an instrument definition, or return the identical stored one.

    A definition whose slug and version are already stored with different content is
    refused: the file changed without a version bump, and old assessments must keep the
    definition that scored them.
    """
    try:
        instrument = instrument_from_mapping(dict(definition), source="definition")
    except InstrumentError as error:
        raise ValidationError({"definition": error.errors}) from None
    definition = json.loads(json.dumps(definition, default=str))
    digest = definition_sha256(definition)
    with transaction.atomic():
        existing = (
            InstrumentVersion.objects.select_for_update()
            .filter(slug=instrument.slug, version=instrument.version)
            .first()
        )
        if existing is not None:
            if existing.sha256 != digest:
                raise ValidationError(
                    {
                        "definition": [
                            _(
                                "Instrument %(slug)s version %(version)s is already registered "
                                "with different content: give the changed file a new version."
                            )
                            % {"slug": instrument.slug, "version": instrument.version}
                        ]
                    }
                )
            return existing
        stored = InstrumentVersion.objects.create(
            slug=instrument.slug,
            version=instrument.version,
            name=instrument.name["en"],
            definition=definition,
            sha256=digest,
        )
        audit_record(
            actor=actor,
            action="instrument_version.register",
            target=stored,
            after={"slug": stored.slug, "version": stored.version, "sha256": digest},
        )
        return stored


def instrument_version_current(*, actor, slug: str) -> InstrumentVersion:
    """The version of the built-in instrument ``slug`` shipped now, stored on first use; for
    a service's own instrument (a published local score), its latest registered version."""
    try:
        instrument = load_instrument(slug) if slug and "/" not in slug and "." not in slug else None
    except InstrumentError:
        instrument = None
    if instrument is None:
        local = (
            InstrumentVersion.objects.filter(slug=str(slug)[:64])
            .order_by("-registered_at", "-id")
            .first()
        )
        if local is not None:
            return local
        raise ValidationError(
            {"instrument": [_("Unknown instrument: %(slug)s") % {"slug": str(slug)[:64]}]}
        )
    stored = InstrumentVersion.objects.filter(
        slug=instrument.slug, version=instrument.version
    ).first()
    if stored is not None:
        return stored
    return instrument_version_register(actor=actor, definition=_builtin_definition(instrument))


# --- answers ------------------------------------------------------------------------------


def clean_answers(instrument: Instrument, answers: Any) -> dict[str, Any]:
    """Check every answer against its item; unanswered items are dropped.

    Raises ``ValidationError`` keyed by item id (``answers`` for problems with the whole
    mapping), with the item named in each message.
    """
    if answers is None:
        return {}
    if not isinstance(answers, Mapping):
        raise ValidationError(
            {ANSWERS_FIELD: [_("Answers must be an object of item id to answer.")]}
        )
    known = {item.id for item in instrument.items}
    errors: dict[str, list[str]] = {}
    unknown = sorted(str(key) for key in answers if key not in known)
    if unknown:
        errors[ANSWERS_FIELD] = [
            _("Unknown item(s): %(items)s") % {"items": ", ".join(unknown)[:500]}
        ]
    cleaned: dict[str, Any] = {}
    for item in instrument.items:
        value = answers.get(item.id)
        if value is None or value == "" or value == []:
            continue
        try:
            score(instrument, {item.id: value}, require_complete=False)
        except (AnswerError, TypeError, ValueError) as error:
            errors[item.id] = [
                _("%(item)s: not a valid answer (%(problem)s).")
                % {"item": item.id, "problem": str(error)[:300]}
            ]
            continue
        cleaned[item.id] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def _missing_errors(instrument: Instrument, answers: dict[str, Any]) -> dict[str, list[str]]:
    missing = [item.id for item in instrument.items if item.required and item.id not in answers]
    errors: dict[str, list[str]] = {
        item_id: [_("%(item)s: this question needs an answer.") % {"item": item_id}]
        for item_id in missing
    }
    if missing:
        errors[ANSWERS_FIELD] = [
            _("Answer every required question before completing: %(items)s")
            % {"items": ", ".join(missing)}
        ]
    return errors


def _status_change(assessment: Assessment, actor, from_status: str, to_status: str) -> None:
    AssessmentStatusChange.objects.create(
        assessment=assessment,
        from_status=from_status,
        to_status=to_status,
        changed_by=actor if getattr(actor, "pk", None) else None,
    )


def _require_assessor(actor, slug: str) -> None:
    if actor is not None and not can_assess(actor, slug):
        raise PermissionError("This role cannot use this instrument.")


def _require_in_scope(actor, person: Person) -> None:
    if actor is not None and not persons_visible_to(actor).filter(pk=person.pk).exists():
        raise Person.DoesNotExist


def _require_draft(assessment: Assessment) -> None:
    if assessment.status != AssessmentStatus.DRAFT:
        raise ValidationError(
            {"__all__": [_("This assessment is completed; its answers cannot change.")]}
        )


# --- the workflow -------------------------------------------------------------------------


@transaction.atomic
def assessment_start(*, actor, person: Person, instrument_slug: str) -> Assessment:
    """Open a draft assessment of ``person`` with the current version of an instrument."""
    version = instrument_version_current(actor=actor, slug=instrument_slug)
    _require_assessor(actor, version.slug)
    _require_in_scope(actor, person)
    episode = person.custody_episodes.filter(release_date__isnull=True).first()
    assessment = Assessment.objects.create(
        person=person,
        episode=episode,
        facility_id=person.current_facility_id,
        instrument_version=version,
        assessed_by=actor if getattr(actor, "pk", None) else None,
        assessed_on=_today(),
    )
    _status_change(assessment, actor, "", AssessmentStatus.DRAFT)
    audit_record(
        actor=actor,
        action="assessment.start",
        target=assessment,
        person=person,
        after={"instrument": version.slug, "version": version.version, "status": "draft"},
    )
    return assessment


@transaction.atomic
def assessment_save_draft(
    *, actor, assessment: Assessment, answers: Any, expected_version: int | None = None
) -> Assessment:
    """Keep partial answers; every given answer must be valid for its item.

    ``expected_version`` (every write here): the ``lock_version`` the editor loaded; if the
    assessment changed since, ``StaleEdit`` is raised and nothing is written. None: no check.
    """
    assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
    _require_assessor(actor, assessment.slug)
    claim(assessment, expected_version)
    _require_draft(assessment)
    assessment.answers = clean_answers(assessment.instrument_version.instrument, answers)
    assessment.save(update_fields=["answers"])
    # Answers are not copied into the audit trail: K6 and AUDIT answers are health data.
    audit_record(
        actor=actor,
        action="assessment.save_draft",
        target=assessment,
        person=assessment.person,
        after={"answered_items": sorted(assessment.answers)},
    )
    return assessment


def _result_fields(
    assessment: Assessment, answers: dict[str, Any], assessed_on: datetime.date
) -> None:
    instrument = assessment.instrument_version.instrument
    errors = _missing_errors(instrument, answers)
    if errors:
        raise ValidationError(errors)
    try:
        result = score(instrument, answers, sex=None)
    except AnswerError as error:  # checked item by item already; kept as a safety net
        raise ValidationError({ANSWERS_FIELD: [str(error)]}) from None
    if result.band is None:
        raise ValidationError({ANSWERS_FIELD: [_("The total falls outside every band.")]})
    assessment.answers = answers
    assessment.total = result.total
    assessment.band = result.band
    assessment.domain_scores = result.domains
    assessment.strengths = result.strengths
    assessment.needs = result.needs
    assessment.assessed_on = assessed_on
    assessment.next_due_date = _next_due(assessment, result.band)


def _next_due(assessment: Assessment, band: str) -> datetime.date | None:
    episode = assessment.episode
    if episode is None or episode.release_date is not None:
        episode = assessment.person.custody_episodes.filter(release_date__isnull=True).first()
    expected_release = episode.expected_release_date if episode is not None else None
    return next_reassessment_date(
        assessment.instrument_version.instrument, band, assessment.assessed_on, expected_release
    )


@transaction.atomic
def assessment_complete(
    *,
    actor,
    assessment: Assessment,
    answers: Any,
    assessed_on: datetime.date | None = None,
    expected_version: int | None = None,
) -> Assessment:
    """Score the answers on the server and complete the assessment.

    Missing required answers block completion and are named one by one. The next due date
    comes from the instrument's reassessment rule and the open episode's expected release.
    """
    assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
    _require_assessor(actor, assessment.slug)
    claim(assessment, expected_version)
    _require_draft(assessment)
    assessed_on = assessed_on or _today()
    if assessed_on > _today():
        raise ValidationError({"assessed_on": [_("This date is in the future.")]})
    cleaned = clean_answers(assessment.instrument_version.instrument, answers)
    _result_fields(assessment, cleaned, assessed_on)
    assessment.status = AssessmentStatus.COMPLETED
    assessment.completed_at = timezone.now()
    if getattr(actor, "pk", None):
        assessment.assessed_by = actor
    assessment.full_clean(validate_constraints=True)
    assessment.save()
    _status_change(assessment, actor, AssessmentStatus.DRAFT, AssessmentStatus.COMPLETED)
    audit_record(
        actor=actor,
        action="assessment.complete",
        target=assessment,
        person=assessment.person,
        after={
            "status": "completed",
            "total": assessment.total,
            "band": assessment.band,
            "next_due_date": assessment.next_due_date,
        },
    )
    return assessment


@transaction.atomic
def assessment_override(
    *,
    actor,
    assessment: Assessment,
    band: str,
    reason: str,
    approver,
    expected_version: int | None = None,
) -> Assessment:
    """Record a professional override beside the computed band, with its reason and approver.

    The approver is a facility manager (of the person's facility) or an administrator, and
    not the person who did the assessment. The next due date follows the overriding band.
    """
    assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
    _require_assessor(actor, assessment.slug)
    claim(assessment, expected_version)
    errors: dict[str, list[str]] = {}
    if assessment.status != AssessmentStatus.COMPLETED:
        errors.setdefault("__all__", []).append(_("Only a completed assessment can be overridden."))
    if assessment.is_overridden:
        errors.setdefault("__all__", []).append(_("This assessment is already overridden."))
    instrument = assessment.instrument_version.instrument
    codes = [b.code for b in instrument.bands]
    if band not in codes:
        errors.setdefault("band", []).append(
            _("Choose one of the instrument's bands: %(codes)s") % {"codes": ", ".join(codes)}
        )
    elif band == assessment.band:
        errors.setdefault("band", []).append(_("The override must differ from the computed band."))
    reason = (reason or "").strip()
    if not reason:
        errors.setdefault("reason", []).append(_("Give the reason for the override."))
    if approver is None or not getattr(approver, "pk", None):
        errors.setdefault("approver", []).append(_("Choose who approved the override."))
    else:
        if approver.pk == assessment.assessed_by_id:
            errors.setdefault("approver", []).append(
                _("The approver must be someone other than the assessor.")
            )
        if not can_approve_override(approver) or not (
            persons_visible_to(approver).filter(pk=assessment.person_id).exists()
        ):
            errors.setdefault("approver", []).append(
                _(
                    "The approver must be a facility manager of this person's facility or an "
                    "administrator."
                )
            )
    if errors:
        raise ValidationError(errors)
    assessment.override_band = band
    assessment.override_reason = reason
    assessment.override_approved_by = approver
    assessment.overridden_at = timezone.now()
    assessment.next_due_date = _next_due(assessment, band)
    assessment.save(
        update_fields=[
            "override_band",
            "override_reason",
            "override_approved_by",
            "overridden_at",
            "next_due_date",
        ]
    )
    audit_record(
        actor=actor,
        action="assessment.override",
        target=assessment,
        person=assessment.person,
        after={
            "computed_band": assessment.band,
            "override_band": band,
            "override_reason": reason,
            "override_approved_by": approver.get_username(),
            "next_due_date": assessment.next_due_date,
        },
    )
    return assessment

"""Writes to the core records. Each service validates, writes and audits in one transaction.

Services take the acting user as ``actor`` and raise ``django.core.exceptions.ValidationError``
with a dict of field -> messages, which forms and the API show next to the fields.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from whatworks.audit.services import audit_record, snapshot
from whatworks.records.access import can_edit_records, facility_assignable_by
from whatworks.records.choices import (
    AdmissionType,
    FacilityType,
    LegalStatus,
    MovementKind,
    OutcomeEventType,
    PopulationSex,
    Sex,
    SupportNeed,
)
from whatworks.records.models import (
    EARLIEST_DATE,
    CustodyEpisode,
    CustodyMovement,
    Facility,
    OutcomeEvent,
    Person,
)
from whatworks.records.signals import person_left_facility

PERSON_FIELDS = [
    "prison_number",
    "national_id",
    "first_names",
    "last_names",
    "date_of_birth",
    "sex",
    "gender",
    "nationality",
    "languages",
    "literacy",
    "education_level",
    "support_needs",
    "support_needs_notes",
]
ADMISSION_FIELDS = [
    "admission_date",
    "admission_type",
    "legal_status",
    "main_offence_category",
    "sentence_date",
    "sentence_length_days",
    "expected_release_date",
]


def _today() -> datetime.date:
    return timezone.localdate()


def _require_editor(actor) -> None:
    if actor is not None and not can_edit_records(actor):
        raise PermissionError("This role cannot change prison records.")


def _not_in_future(errors: dict[str, list[str]], field: str, value: datetime.date | None):
    if value is not None and value > _today():
        errors.setdefault(field, []).append(_("This date is in the future."))


def _before_records_began(errors: dict[str, list[str]], field: str, value) -> bool:
    """A date before the models' plausibility bound, as a message on the field (the check
    constraint alone would only say that a constraint is violated)."""
    if value is not None and value < EARLIEST_DATE:
        errors.setdefault(field, []).append(
            _("Dates before %(date)s are not accepted.") % {"date": EARLIEST_DATE.isoformat()}
        )
        return True
    return False


def _collect_full_clean(
    instance, errors: dict[str, list[str]], exclude: list[str] | None = None
) -> None:
    """Run the model's own validation, adding its messages to ``errors``."""
    try:
        instance.full_clean(exclude=exclude, validate_constraints=True)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            merged = errors.setdefault(field, [])
            merged.extend(message for message in messages if message not in merged)


def _raise_if_any(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def _clean_language_codes(errors, languages) -> list[str]:
    if languages in (None, ""):
        return []
    if isinstance(languages, str):
        languages = [code for code in languages.replace(";", ",").split(",")]
    codes = [str(code).strip().lower() for code in languages if str(code).strip()]
    bad = [code for code in codes if not (2 <= len(code) <= 3 and code.isalpha())]
    if bad:
        errors.setdefault("languages", []).append(
            _("Use ISO 639 language codes such as es, pt or arn; not valid: %(codes)s")
            % {"codes": ", ".join(bad)}
        )
    return codes


def _clean_support_needs(errors, needs) -> list[str]:
    if needs in (None, ""):
        return []
    if isinstance(needs, str):
        needs = needs.replace(";", ",").split(",")
    codes = [str(code).strip() for code in needs if str(code).strip()]
    unknown = [code for code in codes if code not in SupportNeed.values]
    if unknown:
        errors.setdefault("support_needs", []).append(
            _("Unknown need: %(codes)s") % {"codes": ", ".join(unknown)}
        )
    return codes


# --- facilities -------------------------------------------------------------------------


@transaction.atomic
def facility_create(*, actor, **fields: Any) -> Facility:
    if actor is not None and actor.role != "administrator":
        raise PermissionError("Only administrators create facilities.")
    facility = Facility(**fields)
    errors: dict[str, list[str]] = {}
    _collect_full_clean(facility, errors)
    _raise_if_any(errors)
    facility.save()
    audit_record(actor=actor, action="facility.create", target=facility, after=snapshot(facility))
    return facility


# --- persons and custody ------------------------------------------------------------------


def _validate_person(person: Person, errors: dict[str, list[str]]) -> None:
    person.languages = _clean_language_codes(errors, person.languages)
    person.support_needs = _clean_support_needs(errors, person.support_needs)
    person.nationality = (person.nationality or "").upper()
    person.national_id = (person.national_id or "").strip()
    if (
        person.national_id
        and Person.objects.exclude(pk=person.pk).filter(national_id=person.national_id).exists()
    ):
        errors.setdefault("national_id", []).append(
            _("Another person already has this national ID.")
        )
    _not_in_future(errors, "date_of_birth", person.date_of_birth)
    exclude = ["current_facility"]
    if _before_records_began(errors, "date_of_birth", person.date_of_birth):
        exclude.append("date_of_birth")
    _collect_full_clean(person, errors, exclude=exclude)


def _validate_admission(
    episode: CustodyEpisode, person: Person, errors: dict[str, list[str]]
) -> None:
    _not_in_future(errors, "admission_date", episode.admission_date)
    _not_in_future(errors, "sentence_date", episode.sentence_date)
    facility = episode.facility
    if facility.facility_type == FacilityType.COMMUNITY_OFFICE:
        errors.setdefault("facility", []).append(
            _("A community office does not hold people in custody.")
        )
    if (
        person.sex in (Sex.MALE, Sex.FEMALE)
        and facility.population_sex != PopulationSex.MIXED
        and facility.population_sex != person.sex
    ):
        errors.setdefault("facility", []).append(
            _("This facility holds women only.")
            if facility.population_sex == PopulationSex.FEMALE
            else _("This facility holds men only.")
        )
    if (
        episode.admission_date
        and person.date_of_birth
        and episode.admission_date < person.date_of_birth
    ):
        errors.setdefault("admission_date", []).append(_("Admission is before birth."))
    if episode.admission_date:
        if episode.expected_release_date and episode.expected_release_date < episode.admission_date:
            errors.setdefault("expected_release_date", []).append(
                _("The expected release cannot be before admission.")
            )
        if (
            episode.sentence_date
            and episode.sentence_date < episode.admission_date
            and episode.admission_type != AdmissionType.TRANSFER_IN
        ):
            errors.setdefault("sentence_date", []).append(
                _("The sentence date cannot be before admission, except for a transfer in.")
            )
    if episode.legal_status == LegalStatus.SENTENCED and not episode.sentence_length_days:
        errors.setdefault("sentence_length_days", []).append(
            _("A sentenced admission needs the sentence length.")
        )
    if episode.admission_date and person.pk:
        overlapping = person.custody_episodes.exclude(pk=episode.pk).filter(
            admission_date__lte=episode.admission_date
        )
        open_episode = person.custody_episodes.exclude(pk=episode.pk).filter(
            release_date__isnull=True
        )
        if open_episode.exists():
            errors.setdefault("admission_date", []).append(
                _("This person is already in custody; release or transfer them instead.")
            )
        elif overlapping.filter(release_date__gte=episode.admission_date).exists():
            errors.setdefault("admission_date", []).append(
                _("This admission overlaps an earlier custody episode.")
            )
        elif (
            person.custody_episodes.exclude(pk=episode.pk)
            .filter(admission_date__gt=episode.admission_date)
            .exists()
        ):
            errors.setdefault("admission_date", []).append(
                _("A later custody episode exists; admissions are recorded in date order.")
            )
    exclude = ["person"]
    if _before_records_began(errors, "admission_date", episode.admission_date):
        exclude.append("admission_date")
    _collect_full_clean(episode, errors, exclude=exclude)


def _check_facility_allowed(actor, facility: Facility, field: str = "facility") -> None:
    if actor is not None and not facility_assignable_by(actor, facility):
        raise ValidationError({field: [_("You cannot place people in this facility.")]})


@transaction.atomic
def person_admit(
    *, actor, person_data: dict[str, Any], facility: Facility, admission_data: dict[str, Any]
) -> CustodyEpisode:
    """Intake: register a new person and open their first custody episode."""
    _require_editor(actor)
    _check_facility_allowed(actor, facility)
    errors: dict[str, list[str]] = {}
    person = Person(**{key: value for key, value in person_data.items() if key in PERSON_FIELDS})
    _validate_person(person, errors)
    episode = CustodyEpisode(
        person=person,
        admission_facility=facility,
        facility=facility,
        **{key: value for key, value in admission_data.items() if key in ADMISSION_FIELDS},
    )
    _validate_admission(episode, person, errors)
    _raise_if_any(errors)
    person.current_facility = facility
    person.save()
    episode.person = person
    episode.save()
    CustodyMovement.objects.create(
        episode=episode,
        kind=MovementKind.ADMISSION,
        movement_date=episode.admission_date,
        to_facility=facility,
        reason=episode.admission_type,
    )
    audit_record(
        actor=actor, action="person.create", target=person, person=person, after=snapshot(person)
    )
    audit_record(
        actor=actor,
        action="custody.admit",
        target=episode,
        person=person,
        after=snapshot(episode),
    )
    return episode


@transaction.atomic
def person_update(*, actor, person: Person, data: dict[str, Any]) -> Person:
    _require_editor(actor)
    person = Person.objects.select_for_update().get(pk=person.pk)
    before = snapshot(person, PERSON_FIELDS)
    for key, value in data.items():
        if key in PERSON_FIELDS:
            setattr(person, key, value)
    errors: dict[str, list[str]] = {}
    _validate_person(person, errors)
    _raise_if_any(errors)
    person.save()
    audit_record(
        actor=actor,
        action="person.update",
        target=person,
        person=person,
        before=before,
        after=snapshot(person, PERSON_FIELDS),
    )
    return person


@transaction.atomic
def custody_admit(
    *, actor, person: Person, facility: Facility, admission_data: dict[str, Any]
) -> CustodyEpisode:
    """Open a new custody episode for a person already registered (a readmission)."""
    _require_editor(actor)
    _check_facility_allowed(actor, facility)
    person = Person.objects.select_for_update().get(pk=person.pk)
    episode = CustodyEpisode(
        person=person,
        admission_facility=facility,
        facility=facility,
        **{key: value for key, value in admission_data.items() if key in ADMISSION_FIELDS},
    )
    errors: dict[str, list[str]] = {}
    _validate_admission(episode, person, errors)
    _raise_if_any(errors)
    episode.save()
    CustodyMovement.objects.create(
        episode=episode,
        kind=MovementKind.ADMISSION,
        movement_date=episode.admission_date,
        to_facility=facility,
        reason=episode.admission_type,
    )
    before = {"current_facility_id": person.current_facility_id}
    person.current_facility = facility
    person.save(update_fields=["current_facility", "updated_at"])
    audit_record(
        actor=actor, action="custody.admit", target=episode, person=person, after=snapshot(episode)
    )
    audit_record(
        actor=actor,
        action="person.facility_change",
        target=person,
        person=person,
        before=before,
        after={"current_facility_id": facility.pk},
    )
    return episode


def _locked_open_episode(episode: CustodyEpisode) -> CustodyEpisode:
    episode = (
        CustodyEpisode.objects.select_for_update()
        .select_related("facility", "person")
        .get(pk=episode.pk)
    )
    if episode.release_date is not None:
        raise ValidationError(
            {"release_date": [_("This episode has ended; no further movements can be added.")]}
        )
    return episode


def _last_movement_date(episode: CustodyEpisode) -> datetime.date:
    last = episode.movements.order_by("-movement_date", "-id").first()
    return last.movement_date if last else episode.admission_date


@transaction.atomic
def custody_transfer(
    *,
    actor,
    episode: CustodyEpisode,
    to_facility: Facility,
    movement_date: datetime.date,
    reason: str = "",
) -> CustodyMovement:
    _require_editor(actor)
    _check_facility_allowed(actor, to_facility, field="to_facility")
    episode = _locked_open_episode(episode)
    errors: dict[str, list[str]] = {}
    if movement_date is None:
        errors["movement_date"] = [_("This field is required.")]
    else:
        _not_in_future(errors, "movement_date", movement_date)
        if movement_date < _last_movement_date(episode):
            errors.setdefault("movement_date", []).append(
                _("A transfer cannot be dated before the episode's last movement.")
            )
    if to_facility.pk == episode.facility_id:
        errors.setdefault("to_facility", []).append(_("The person is already in this facility."))
    if to_facility.facility_type == FacilityType.COMMUNITY_OFFICE:
        errors.setdefault("to_facility", []).append(
            _("A community office does not hold people in custody.")
        )
    if errors:
        raise ValidationError(errors)
    movement = CustodyMovement.objects.create(
        episode=episode,
        kind=MovementKind.TRANSFER,
        movement_date=movement_date,
        from_facility=episode.facility,
        to_facility=to_facility,
        reason=reason,
    )
    before = {"facility_id": episode.facility_id}
    episode.facility = to_facility
    episode.save(update_fields=["facility"])
    Person.objects.filter(pk=episode.person_id).update(current_facility=to_facility)
    audit_record(
        actor=actor,
        action="custody.transfer",
        target=episode,
        person=episode.person,
        before=before,
        after={"facility_id": to_facility.pk, "movement_date": movement_date, "reason": reason},
    )
    person_left_facility.send(
        sender=CustodyMovement,
        actor=actor,
        episode=episode,
        person=episode.person,
        kind=MovementKind.TRANSFER,
        movement_date=movement_date,
        from_facility=movement.from_facility,
    )
    return movement


@transaction.atomic
def custody_release(
    *,
    actor,
    episode: CustodyEpisode,
    release_date: datetime.date,
    release_type: str,
) -> CustodyEpisode:
    _require_editor(actor)
    episode = _locked_open_episode(episode)
    if actor is not None and not facility_assignable_by(actor, episode.facility):
        raise ValidationError(
            {"release_date": [_("You cannot release people from this facility.")]}
        )
    errors: dict[str, list[str]] = {}
    if release_date is None:
        errors["release_date"] = [_("This field is required.")]
    else:
        _not_in_future(errors, "release_date", release_date)
        if release_date < episode.admission_date:
            errors.setdefault("release_date", []).append(_("Release cannot be before admission."))
        elif release_date < _last_movement_date(episode):
            errors.setdefault("release_date", []).append(
                _("Release cannot be before the episode's last transfer.")
            )
    before = snapshot(episode, ["release_date", "release_type"])
    episode.release_date = release_date
    episode.release_type = release_type or ""
    if not episode.release_type:
        errors.setdefault("release_type", []).append(_("This field is required."))
    _collect_full_clean(episode, errors)
    _raise_if_any(errors)
    episode.save(update_fields=["release_date", "release_type"])
    CustodyMovement.objects.create(
        episode=episode,
        kind=MovementKind.RELEASE,
        movement_date=release_date,
        from_facility=episode.facility,
        reason=release_type,
    )
    audit_record(
        actor=actor,
        action="custody.release",
        target=episode,
        person=episode.person,
        before=before,
        after=snapshot(episode, ["release_date", "release_type"]),
    )
    person_left_facility.send(
        sender=CustodyMovement,
        actor=actor,
        episode=episode,
        person=episode.person,
        kind=MovementKind.RELEASE,
        movement_date=release_date,
        from_facility=episode.facility,
    )
    return episode


# --- outcome events -----------------------------------------------------------------------


@transaction.atomic
def outcome_event_record(*, actor, person: Person, data: dict[str, Any]) -> OutcomeEvent:
    """Record a contact with justice after release (rearrest, charge, reconviction…)."""
    _require_editor(actor)
    fields = ["event_type", "event_date", "offence_date", "source", "reference"]
    event = OutcomeEvent(person=person, **{key: data.get(key) for key in fields if key in data})
    event.reference = event.reference or ""
    errors: dict[str, list[str]] = {}
    _not_in_future(errors, "event_date", event.event_date)
    _not_in_future(errors, "offence_date", event.offence_date)
    if event.event_type == OutcomeEventType.TECHNICAL_VIOLATION and event.offence_date:
        errors.setdefault("offence_date", []).append(
            _("A technical violation has no offence date.")
        )
    if (
        event.event_date
        and not person.custody_episodes.filter(release_date__lt=event.event_date).exists()
    ):
        errors.setdefault("event_date", []).append(
            _("Outcome events follow a release; this person has no release before this date.")
        )
    _collect_full_clean(event, errors, exclude=["person"])
    _raise_if_any(errors)
    event.save()
    audit_record(
        actor=actor, action="outcome.record", target=event, person=person, after=snapshot(event)
    )
    return event

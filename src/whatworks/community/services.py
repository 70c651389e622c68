"""Writes for the community app: providers, provider referrals and follow-up contacts.

Each service is atomic, checks the actor's role and scope, validates (field -> messages, all
errors at once), writes, and records an audit event in the same transaction. ``actor=None``
is the system (imports, commands, the demo).
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from whatworks.audit.services import audit_record, snapshot
from whatworks.community import access
from whatworks.community.conf import add_months, followup_months
from whatworks.community.models import (
    FINAL_STATUSES,
    OUTCOME_FIELDS,
    TRANSITIONS,
    CommunityProvider,
    FollowUpContact,
    FollowUpStatus,
    OutcomeCode,
    ProviderReferral,
    ProviderReferralStatusChange,
    ReferralStatus,
)
from whatworks.concurrency import claim
from whatworks.records.choices import Pathway, ReleaseType
from whatworks.records.models import CustodyEpisode, Person
from whatworks.service_helpers import (
    actor_or_none,
    add_error,
    date_not_future,
    raise_if_any,
    require_person_in_scope,
    today,
)
from whatworks.service_helpers import require as _require

# Releases after which nobody is followed up in the community.
NO_FOLLOWUP_RELEASE_TYPES = frozenset({ReleaseType.DEATH, ReleaseType.ESCAPE, ReleaseType.TRANSFER})

PROVIDER_TEXT_FIELDS = ["name", "kind", "address", "phone", "email", "contact_person", "notes"]
PROVIDER_FIELDS = [*PROVIDER_TEXT_FIELDS, "pathways", "coverage_regions", "active"]


def _full_clean(instance: models.Model, errors: dict[str, list[str]], exclude=()) -> None:
    try:
        instance.full_clean(
            exclude=list(exclude), validate_unique=False, validate_constraints=False
        )
    except ValidationError as error:
        for field, field_messages in error.message_dict.items():
            for message in field_messages:
                if message not in errors.get(field, []):
                    add_error(errors, field, message)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ("" if value is None else str(value))


def _as_list(value: Any) -> list[str]:
    """A list of strings from a list, or from text separated by commas or new lines."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.replace("\n", ",").split(",")
    return [_text(item) for item in value if _text(item)]


# --- providers ---------------------------------------------------------------------------


def _apply_provider(provider: CommunityProvider, data: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    for field in PROVIDER_TEXT_FIELDS:
        if field in data:
            setattr(provider, field, _text(data[field]))
    if "active" in data:
        provider.active = bool(data["active"])
    if "pathways" in data:
        codes = _as_list(data["pathways"])
        unknown = [code for code in codes if code not in Pathway.values]
        if unknown:
            add_error(
                errors,
                "pathways",
                _("Unknown pathway: %(codes)s.") % {"codes": ", ".join(unknown)},
            )
        # Keep the catalogue's order, without repeats.
        provider.pathways = [code for code in Pathway.values if code in codes]
    if "coverage_regions" in data:
        regions: list[str] = []
        for region in _as_list(data["coverage_regions"]):
            if len(region) > 100:
                add_error(errors, "coverage_regions", _("A region name has at most 100 letters."))
            elif region.casefold() not in {r.casefold() for r in regions}:
                regions.append(region)
        provider.coverage_regions = regions
    if not provider.name:
        add_error(errors, "name", _("This field is required."))
    _full_clean(provider, errors, exclude=["created_by", "pathways", "coverage_regions"])
    raise_if_any(errors)


@transaction.atomic
def provider_create(*, actor, data: dict[str, Any]) -> CommunityProvider:
    """Add a provider to the directory (administrators and facility managers)."""
    _require(actor is None or access.can_manage_providers(actor), "This role cannot add providers.")
    provider = CommunityProvider(created_by=actor_or_none(actor))
    _apply_provider(provider, {"active": True, **data})
    provider.save()
    audit_record(
        actor=actor,
        action="community.provider_create",
        target=provider,
        after=snapshot(provider, PROVIDER_FIELDS),
    )
    return provider


@transaction.atomic
def provider_update(*, actor, provider: CommunityProvider, data: dict[str, Any]):
    """Change a provider's details (administrators and facility managers)."""
    _require(
        actor is None or access.can_manage_providers(actor), "This role cannot edit providers."
    )
    provider = CommunityProvider.objects.select_for_update().get(pk=provider.pk)
    before = snapshot(provider, PROVIDER_FIELDS)
    _apply_provider(provider, data)
    provider.save()
    audit_record(
        actor=actor,
        action="community.provider_update",
        target=provider,
        before=before,
        after=snapshot(provider, PROVIDER_FIELDS),
    )
    return provider


@transaction.atomic
def provider_deactivate(*, actor, provider: CommunityProvider) -> CommunityProvider:
    """Take a provider out of the directory's default view and out of new referrals.
    Existing referrals keep it; ``provider_update(data={"active": True})`` brings it back."""
    _require(
        actor is None or access.can_manage_providers(actor),
        "This role cannot deactivate providers.",
    )
    provider = CommunityProvider.objects.select_for_update().get(pk=provider.pk)
    if not provider.active:
        raise ValidationError({"active": [_("This provider is already inactive.")]})
    provider.active = False
    provider.save(update_fields=["active", "updated_at"])
    audit_record(
        actor=actor,
        action="community.provider_deactivate",
        target=provider,
        before={"active": True},
        after={"active": False},
    )
    return provider


# --- provider referrals ------------------------------------------------------------------

REFERRAL_AUDIT_FIELDS = ["provider_id", "pathway", "referred_on", "status", "status_date"]
OUTCOME_AUDIT_FIELDS = ["status", "status_date", "outcome_code", "outcome", "outcome_date"]
INITIAL_STATUSES = (ReferralStatus.PROPOSED, ReferralStatus.SENT)


def _require_writer(actor, person: Person) -> None:
    _require(
        actor is None or access.can_write_community_records(actor),
        "This role cannot record community referrals or follow-up.",
    )
    require_person_in_scope(actor, person)


def _provider_from(value: Any) -> CommunityProvider | None:
    if isinstance(value, CommunityProvider):
        value = value.pk  # read it again: it may have been deactivated meanwhile
    if value in (None, ""):
        return None
    try:
        return CommunityProvider.objects.get(pk=int(value))
    except (ValueError, TypeError, CommunityProvider.DoesNotExist):
        return None


def _latest_episode(person: Person) -> CustodyEpisode | None:
    return person.custody_episodes.order_by("-admission_date", "-id").first()


@transaction.atomic
def provider_referral_create(*, actor, person: Person, data: dict[str, Any]) -> ProviderReferral:
    """Refer a person to a provider for one pathway. ``data``: provider (instance or id),
    pathway, referred_on (default today), status (``proposed`` default, or ``sent``), notes."""
    _require_writer(actor, person)
    errors: dict[str, list[str]] = {}
    provider = _provider_from(data.get("provider"))
    if provider is None:
        add_error(errors, "provider", _("Choose a provider from the directory."))
    elif not provider.active:
        add_error(errors, "provider", _("This provider is no longer active."))
    pathway = _text(data.get("pathway"))
    if pathway not in Pathway.values:
        add_error(errors, "pathway", _("Choose a pathway."))
    elif provider is not None and provider.pathways and pathway not in provider.pathways:
        add_error(errors, "pathway", _("This provider does not serve this pathway."))
    referred_on = data.get("referred_on") or today()
    date_not_future(errors, "referred_on", referred_on)
    status = _text(data.get("status")) or ReferralStatus.PROPOSED
    if status not in INITIAL_STATUSES:
        add_error(errors, "status", _("A new referral is proposed or sent."))
    raise_if_any(errors)
    referral = ProviderReferral.objects.create(
        person=person,
        episode=_latest_episode(person),
        provider=provider,
        pathway=pathway,
        referred_on=referred_on,
        status=status,
        status_date=referred_on,
        notes=_text(data.get("notes")),
        created_by=actor_or_none(actor),
    )
    ProviderReferralStatusChange.objects.create(
        referral=referral,
        from_status="",
        to_status=status,
        effective_date=referred_on,
        note=_text(data.get("notes")),
        changed_by=actor_or_none(actor),
    )
    audit_record(
        actor=actor,
        action="community.referral_create",
        target=referral,
        person=person,
        after=snapshot(referral, REFERRAL_AUDIT_FIELDS),
    )
    return referral


def _check_outcome(
    errors: dict[str, list[str]],
    referral: ProviderReferral,
    *,
    status: str,
    code: str,
    outcome_date: datetime.date | None,
    required: bool,
) -> None:
    if code and code not in OutcomeCode.values:
        add_error(errors, "outcome_code", _("Choose an outcome."))
    elif code and status not in FINAL_STATUSES:
        add_error(errors, "outcome_code", _("An outcome is recorded when the referral ends."))
    elif required and not code:
        add_error(errors, "outcome_code", _("Say whether the goal was achieved."))
    elif code:
        date_not_future(errors, "outcome_date", outcome_date)
        if outcome_date and outcome_date < referral.referred_on:
            add_error(errors, "outcome_date", _("The outcome cannot be before the referral."))


@transaction.atomic
def provider_referral_transition(
    *,
    actor,
    referral: ProviderReferral,
    data: dict[str, Any],
    expected_version: int | None = None,
) -> ProviderReferral:
    """Move a referral to its next status (``TRANSITIONS``) and append a history row.

    ``data``: to_status, effective_date (default today), note, and when the referral ends:
    outcome_code (required for ``completed``), outcome (text), outcome_date (default the
    effective date). ``expected_version``: the referral's ``lock_version`` the editor loaded;
    a referral changed since raises ``StaleEdit`` and nothing is written. None: no check."""
    locked = ProviderReferral.objects.select_for_update().select_related("person")
    referral = locked.get(pk=referral.pk)
    _require_writer(actor, referral.person)
    claim(referral, expected_version)
    errors: dict[str, list[str]] = {}
    to_status = _text(data.get("to_status"))
    if to_status not in ReferralStatus.values:
        add_error(errors, "to_status", _("Choose a status."))
    elif to_status not in TRANSITIONS[referral.status]:
        add_error(
            errors,
            "to_status",
            _("A referral cannot go from “%(from)s” to “%(to)s”.")
            % {
                "from": ReferralStatus(referral.status).label,
                "to": ReferralStatus(to_status).label,
            },
        )
    effective = data.get("effective_date") or today()
    date_not_future(errors, "effective_date", effective)
    if effective < referral.status_date:
        add_error(
            errors, "effective_date", _("The date cannot be before the current status began.")
        )
    code = _text(data.get("outcome_code"))
    outcome_date = data.get("outcome_date") or (effective if code else None)
    _check_outcome(
        errors,
        referral,
        status=to_status,
        code=code,
        outcome_date=outcome_date,
        required=to_status == ReferralStatus.COMPLETED,
    )
    raise_if_any(errors)
    before = snapshot(referral, OUTCOME_AUDIT_FIELDS)
    from_status = referral.status
    referral.status = to_status
    referral.status_date = effective
    if code:
        referral.outcome_code = code
        referral.outcome = _text(data.get("outcome"))
        referral.outcome_date = outcome_date
    referral.save()
    ProviderReferralStatusChange.objects.create(
        referral=referral,
        from_status=from_status,
        to_status=to_status,
        effective_date=effective,
        note=_text(data.get("note")),
        changed_by=actor_or_none(actor),
    )
    audit_record(
        actor=actor,
        action="community.referral_transition",
        target=referral,
        person=referral.person,
        before=before,
        after=snapshot(referral, OUTCOME_AUDIT_FIELDS),
    )
    return referral


@transaction.atomic
def provider_referral_outcome_record(
    *,
    actor,
    referral: ProviderReferral,
    data: dict[str, Any],
    expected_version: int | None = None,
) -> ProviderReferral:
    """Record (or correct) the outcome of a referral that has ended: outcome_code, outcome,
    outcome_date (default today). The change is audited with before and after."""
    locked = ProviderReferral.objects.select_for_update().select_related("person")
    referral = locked.get(pk=referral.pk)
    _require_writer(actor, referral.person)
    claim(referral, expected_version)
    errors: dict[str, list[str]] = {}
    code = _text(data.get("outcome_code"))
    outcome_date = data.get("outcome_date") or today()
    if referral.status not in FINAL_STATUSES:
        add_error(errors, "outcome_code", _("An outcome is recorded when the referral ends."))
    else:
        _check_outcome(
            errors,
            referral,
            status=referral.status,
            code=code,
            outcome_date=outcome_date,
            required=True,
        )
    raise_if_any(errors)
    before = snapshot(referral, OUTCOME_AUDIT_FIELDS)
    referral.outcome_code = code
    referral.outcome = _text(data.get("outcome"))
    referral.outcome_date = outcome_date
    referral.save(update_fields=["outcome_code", "outcome", "outcome_date"])
    audit_record(
        actor=actor,
        action="community.referral_outcome",
        target=referral,
        person=referral.person,
        before=before,
        after=snapshot(referral, OUTCOME_AUDIT_FIELDS),
    )
    return referral


# --- follow-up ---------------------------------------------------------------------------


def followup_due_dates(release_date: datetime.date) -> dict[int, datetime.date]:
    """Month -> due date (release date plus calendar months, day clamped to month end)."""
    return {month: add_months(release_date, month) for month in followup_months()}


def episode_gets_followup(episode: CustodyEpisode) -> bool:
    return bool(episode.release_date) and episode.release_type not in NO_FOLLOWUP_RELEASE_TYPES


@transaction.atomic
def followup_schedule_create(*, actor, episode: CustodyEpisode) -> list[FollowUpContact]:
    """Create the episode's missing follow-up contacts (one per configured month) and return
    the ones created. Idempotent: months already scheduled are left alone, so a second call
    returns ``[]``. Releases by death, escape or transfer to another jurisdiction get no
    schedule (``[]``); an episode not yet released is a ``ValidationError``."""
    # Locked, so two requests scheduling the same release at once cannot collide.
    episode = CustodyEpisode.objects.select_for_update().select_related("person").get(pk=episode.pk)
    _require_writer(actor, episode.person)
    if not episode.release_date:
        raise ValidationError({"episode": [_("This custody episode has not ended in release.")]})
    if not episode_gets_followup(episode):
        return []
    existing = set(episode.follow_ups.values_list("month", flat=True))
    created = [
        FollowUpContact.objects.create(
            person=episode.person, episode=episode, month=month, due_date=due
        )
        for month, due in followup_due_dates(episode.release_date).items()
        if month not in existing
    ]
    if created:
        audit_record(
            actor=actor,
            action="community.followup_schedule_create",
            target=episode,
            person=episode.person,
            after={
                "months": [contact.month for contact in created],
                "due_dates": [contact.due_date for contact in created],
            },
        )
    return created


@dataclasses.dataclass(frozen=True)
class BackfillResult:
    checked: int
    releases_scheduled: int
    contacts_created: int


def followup_schedules_backfill(
    *, actor, since: datetime.date, until: datetime.date
) -> BackfillResult:
    """Create the missing follow-up schedules of every release between ``since`` and
    ``until`` (releases recorded before the community app, or loaded by an import that sends
    no release signal). Idempotent: a second run creates nothing."""
    episodes = (
        CustodyEpisode.objects.filter(release_date__gte=since, release_date__lte=until)
        .exclude(release_type__in=NO_FOLLOWUP_RELEASE_TYPES)
        .order_by("release_date", "id")
    )
    checked = scheduled = created = 0
    for episode in episodes:
        checked += 1
        contacts = followup_schedule_create(actor=actor, episode=episode)
        if contacts:
            scheduled += 1
            created += len(contacts)
    return BackfillResult(checked, scheduled, created)


CONTACT_FIELDS = ["status", "contact_date", "contact_mode", *OUTCOME_FIELDS, "notes"]
RECORDABLE_STATUSES = (FollowUpStatus.DONE, FollowUpStatus.MISSED, FollowUpStatus.CANCELLED)


@transaction.atomic
def followup_contact_record(
    *, actor, contact: FollowUpContact, data: dict[str, Any]
) -> FollowUpContact:
    """Record what happened at a scheduled follow-up: ``done`` (with contact_date,
    contact_mode and every outcome field), ``missed`` (once it is due) or ``cancelled``
    (with a note saying why). A recorded contact may be recorded again (a correction);
    the audit event keeps the values before and after."""
    locked = FollowUpContact.objects.select_for_update().select_related("person", "episode")
    contact = locked.get(pk=contact.pk)
    _require_writer(actor, contact.person)
    errors: dict[str, list[str]] = {}
    before = snapshot(contact, CONTACT_FIELDS)
    status = _text(data.get("status"))
    if status not in RECORDABLE_STATUSES:
        add_error(errors, "status", _("Choose done, missed or cancelled."))
    contact.status = status or contact.status
    contact.notes = _text(data.get("notes"))
    contact.contact_date = data.get("contact_date") or None
    contact.contact_mode = _text(data.get("contact_mode"))
    for field in OUTCOME_FIELDS:
        setattr(contact, field, _text(data.get(field)))
    release = contact.episode.release_date
    if contact.contact_date:
        date_not_future(errors, "contact_date", contact.contact_date)
        if release and contact.contact_date < release:
            add_error(errors, "contact_date", _("The contact cannot be before the release."))
    if status == FollowUpStatus.DONE:
        if not contact.contact_date:
            add_error(errors, "contact_date", _("Say when the contact took place."))
        if not contact.contact_mode:
            add_error(errors, "contact_mode", _("Say how the contact took place."))
        for field in OUTCOME_FIELDS:
            if not getattr(contact, field):
                add_error(errors, field, _("Choose one (“unknown” if it was not asked)."))
    elif status in (FollowUpStatus.MISSED, FollowUpStatus.CANCELLED):
        # No contact took place: nothing is known about the person's situation.
        contact.contact_date = None
        contact.contact_mode = ""
        for field in OUTCOME_FIELDS:
            setattr(contact, field, "")
        if status == FollowUpStatus.MISSED and contact.due_date > today():
            add_error(errors, "status", _("A contact cannot be missed before it is due."))
        if status == FollowUpStatus.CANCELLED and not contact.notes:
            add_error(errors, "notes", _("Say why the contact is cancelled."))
    _full_clean(contact, errors, exclude=["person", "episode", "recorded_by"])
    raise_if_any(errors)
    contact.recorded_by = actor_or_none(actor)
    contact.save()
    audit_record(
        actor=actor,
        action="community.followup_contact_record",
        target=contact,
        person=contact.person,
        before=before,
        after=snapshot(contact, CONTACT_FIELDS),
    )
    return contact

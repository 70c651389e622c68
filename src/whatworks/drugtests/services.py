"""Writes to drug testing. Each service checks the actor's role and scope, validates, writes
and audits in one transaction. Problems are raised as ``ValidationError`` with a dict of
field -> messages; a role that may not act raises ``PermissionError``.

A positive test never creates a referral: it records a prompt (``prompts_referral``) that the
person's treatment page shows until a substance-use referral is open. Staff decide.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from whatworks.analytics.drugtests import (
    TEST_REASONS,
    Candidate,
    PanelError,
    PanelResultError,
    ReserveExhaustedError,
    SelectionRules,
    draw,
    load_panel,
    promote_reserve,
    test_outcome,
    validate_results,
)
from whatworks.analytics.drugtests import SelectionList as DrawnList
from whatworks.audit.services import audit_record, snapshot
from whatworks.drugtests import access
from whatworks.drugtests.models import DrugTest, SelectionList, TestOutcome
from whatworks.records.access import facilities_in_scope, persons_visible_to
from whatworks.records.models import CustodyEpisode, Facility, Person
from whatworks.service_helpers import (
    add_error as _add,
)
from whatworks.service_helpers import (
    require as _require,
)
from whatworks.treatment.models import ProgrammeType, Referral, ReferralStatus

DEFAULT_PANEL = "standard-panel"
RECENT_POSITIVE_DAYS = 90
MONTH_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
IN_TREATMENT = (ReferralStatus.ALLOCATED, ReferralStatus.IN_PROGRESS)
# A referral that is still going somewhere: the prompt is not needed while one exists.
OPEN_REFERRAL = (
    ReferralStatus.REFERRED,
    ReferralStatus.ASSESSED_SUITABLE,
    ReferralStatus.SUITABLE_NOT_READY,
    ReferralStatus.WAITLISTED,
    ReferralStatus.ALLOCATED,
    ReferralStatus.IN_PROGRESS,
)
TEST_FIELDS = [
    "test_date",
    "reason",
    "sample",
    "panel_slug",
    "panel_version",
    "results",
    "outcome",
    "confirmatory_results",
    "lab_reference",
    "seal_number",
]


def has_open_substance_referral(person: Person) -> bool:
    return Referral.objects.filter(
        person=person,
        programme__programme_type=ProgrammeType.SUBSTANCE_USE,
        status__in=OPEN_REFERRAL,
    ).exists()


def positive_prompt(person: Person) -> DrugTest | None:
    """The latest current positive test asking for a referral, unless one is open."""
    test = (
        DrugTest.objects.filter(person=person, is_current=True, prompts_referral=True)
        .order_by("-test_date", "-id")
        .first()
    )
    if test is None or has_open_substance_referral(person):
        return None
    return test


def _panel(slug: str, errors):
    try:
        return load_panel(slug or DEFAULT_PANEL)
    except (PanelError, KeyError, FileNotFoundError, ValueError):
        _add(errors, "panel_slug", _("Unknown test panel."))
        return None


def _check_results(panel, sample: str, results, errors, field: str) -> dict[str, str]:
    try:
        return validate_results(panel, sample, dict(results or {}))
    except PanelResultError as error:
        for key, message in error.errors.items():
            if key == "sample":
                _add(errors, "sample", _("This panel is not run on this sample type."))
            elif key == "results":
                _add(errors, field, _("Record at least one substance."))
            elif key in panel.substance_ids:
                _add(errors, f"{field}.{key}", str(message))
            else:
                _add(
                    errors,
                    field,
                    _("%(substance)s is not on the %(panel)s panel.")
                    % {"substance": key, "panel": panel.slug},
                )
        return {}


def _clean(
    *,
    person: Person,
    data: Mapping[str, Any],
    replacing: DrugTest | None = None,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    test_date = data.get("test_date")
    if not isinstance(test_date, datetime.date):
        _add(errors, "test_date", _("Enter the date of the test."))
    elif test_date > today:
        _add(errors, "test_date", _("The test date cannot be in the future."))
    reason = data.get("reason") or ""
    if reason not in TEST_REASONS:
        _add(errors, "reason", _("Choose the reason for the test."))
    sample = data.get("sample") or ""
    panel = _panel(data.get("panel_slug") or DEFAULT_PANEL, errors)
    results: dict[str, str] = {}
    confirmatory: dict[str, str] = {}
    if panel is not None:
        results = _check_results(panel, sample, data.get("results"), errors, "results")
        if data.get("confirmatory_results"):
            confirmatory = _check_results(
                panel, sample, data["confirmatory_results"], errors, "confirmatory_results"
            )
    collected_at = data.get("collected_at")
    if collected_at is not None and collected_at > timezone.now():
        _add(errors, "collected_at", _("The collection time cannot be in the future."))
    seal = (data.get("seal_number") or "").strip()
    if seal:
        clash = DrugTest.objects.filter(seal_number=seal, is_current=True)
        if replacing is not None:
            clash = clash.exclude(pk=replacing.pk)
        if clash.exists():
            _add(errors, "seal_number", _("This seal number is already recorded on another test."))
    if errors:
        raise ValidationError(errors)
    # A confirmatory laboratory result, when given, is what the outcome rests on.
    outcome = test_outcome({**results, **confirmatory})
    return {
        "test_date": test_date,
        "reason": reason,
        "sample": sample,
        "panel_slug": panel.slug,
        "panel_version": panel.version,
        "results": results,
        "confirmatory_results": confirmatory,
        "outcome": outcome,
        "lab_reference": (data.get("lab_reference") or "").strip(),
        "seal_number": seal,
        "collected_at": collected_at,
        "collected_by": data.get("collected_by"),
    }, errors


def _check_actor(actor, person: Person) -> None:
    _require(actor is None or access.can_record_tests(actor), "This role cannot record tests.")
    if actor is not None and not persons_visible_to(actor).filter(pk=person.pk).exists():
        raise Person.DoesNotExist


@transaction.atomic
def drug_test_record(*, actor, person: Person, import_key: str = "", **data) -> DrugTest:
    """Record one test. ``data``: test_date, reason, sample, results ({substance: result}),
    and optionally panel_slug, confirmatory_results, lab_reference, seal_number,
    collected_by, collected_at, episode."""
    _check_actor(actor, person)
    fields, _errors = _clean(person=person, data=data)
    episode = data.get("episode") or (
        CustodyEpisode.objects.filter(person=person, release_date__isnull=True).first()
    )
    test = DrugTest.objects.create(
        person=person,
        episode=episode,
        facility_id=person.current_facility_id or (episode.facility_id if episode else None),
        prompts_referral=fields["outcome"] == TestOutcome.POSITIVE,
        recorded_by=actor if getattr(actor, "pk", None) else None,
        import_key=import_key,
        **fields,
    )
    audit_record(
        actor=actor,
        action="drugtest.record",
        target=test,
        person=person,
        after={**snapshot(test, TEST_FIELDS), "prompts_referral": test.prompts_referral},
    )
    return test


@transaction.atomic
def drug_test_correct(*, actor, test: DrugTest, correction_reason: str, **data) -> DrugTest:
    """Correct a mistaken test with a new record that supersedes it; nothing is deleted."""
    test = DrugTest.objects.select_for_update().select_related("person").get(pk=test.pk)
    _check_actor(actor, test.person)
    errors: dict[str, list[str]] = {}
    if not test.is_current:
        _add(errors, "__all__", _("This test was already corrected; correct the newest record."))
    if not (correction_reason or "").strip():
        _add(errors, "correction_reason", _("Say why the test is being corrected."))
    try:
        fields, _errors = _clean(person=test.person, data=data, replacing=test)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    before = snapshot(test, TEST_FIELDS)
    test.is_current = False
    test.save(update_fields=["is_current"])
    correction = DrugTest.objects.create(
        person=test.person,
        episode=test.episode,
        facility=test.facility,
        prompts_referral=fields["outcome"] == TestOutcome.POSITIVE,
        supersedes=test,
        correction_reason=correction_reason.strip(),
        recorded_by=actor if getattr(actor, "pk", None) else None,
        **fields,
    )
    audit_record(
        actor=actor,
        action="drugtest.correct",
        target=correction,
        person=test.person,
        before=before,
        after={**snapshot(correction, TEST_FIELDS), "reason": correction_reason.strip()},
    )
    return correction


# --- monthly selection ----------------------------------------------------------------------


def _month_start(month: str) -> datetime.date:
    year, number = month.split("-")
    return datetime.date(int(year), int(number), 1)


def selection_candidates(facility: Facility, month: str) -> list[Candidate]:
    """Everyone in custody at the facility, weighted by treatment and recent positives.

    "Recent" is the 90 days before the first day of the month, so a draw re-run later
    uses the same facts."""
    start = _month_start(month)
    episodes = CustodyEpisode.objects.filter(facility=facility, release_date__isnull=True)
    people = dict(episodes.values_list("person_id", "person__research_id"))
    treated = set(
        Referral.objects.filter(
            person_id__in=people,
            programme__programme_type=ProgrammeType.SUBSTANCE_USE,
            status__in=IN_TREATMENT,
        ).values_list("person_id", flat=True)
    )
    positive = set(
        DrugTest.objects.filter(
            person_id__in=people,
            is_current=True,
            outcome=TestOutcome.POSITIVE,
            test_date__gte=start - datetime.timedelta(days=RECENT_POSITIVE_DAYS),
            test_date__lt=start,
        ).values_list("person_id", flat=True)
    )
    return [
        Candidate(
            key=research_id,
            in_substance_treatment=person_id in treated,
            recent_positive=person_id in positive,
        )
        for person_id, research_id in people.items()
    ]


@transaction.atomic
def selection_list_draw(
    *,
    actor,
    facility: Facility,
    month: str,
    seed: int | None = None,
    rules: Mapping[str, Any] | None = None,
    actor_label: str = "",
) -> SelectionList:
    """Draw the month's list for a facility, or return the one already drawn (never redrawn)."""
    _require(
        actor is None or access.can_manage_selection(actor), "This role cannot draw selections."
    )
    if actor is not None and not facilities_in_scope(actor).filter(pk=facility.pk).exists():
        raise Facility.DoesNotExist
    errors: dict[str, list[str]] = {}
    if not MONTH_PATTERN.match(month or ""):
        _add(errors, "month", _("Write the month as YYYY-MM, for example 2025-03."))
    if seed is not None and seed < 0:
        _add(errors, "seed", _("The seed must be zero or a positive whole number."))
    try:
        selection_rules = SelectionRules.from_mapping(rules or {})
    except ValueError as error:
        _add(errors, "rules", str(error))
    if errors:
        raise ValidationError(errors)
    existing = SelectionList.objects.filter(facility=facility, month=month).first()
    if existing is not None:
        return existing
    candidates = selection_candidates(facility, month)
    drawn = draw(candidates, facility=facility.code, month=month, seed=seed, rules=selection_rules)
    selection = SelectionList.objects.create(
        facility=facility,
        month=month,
        seed=drawn.seed,
        rules={
            "target_rate": selection_rules.target_rate,
            "treatment_weight": selection_rules.treatment_weight,
            "recent_positive_weight": selection_rules.recent_positive_weight,
            "reserve_share": selection_rules.reserve_share,
        },
        candidates=[
            {
                "key": c.key,
                "in_substance_treatment": c.in_substance_treatment,
                "recent_positive": c.recent_positive,
            }
            for c in sorted(candidates, key=lambda c: c.key)
        ],
        main=list(drawn.main),
        reserve=list(drawn.reserve),
        current_main=list(drawn.main),
        drawn_by=actor if getattr(actor, "pk", None) else None,
        drawn_by_label=actor_label or (actor.get_username() if actor is not None else "system"),
    )
    audit_record(
        actor=actor,
        actor_label=actor_label,
        action="drugtest.selection_draw",
        target=selection,
        after={**drawn.to_dict(), "candidates": len(candidates)},
    )
    return selection


def as_drawn(selection: SelectionList) -> DrawnList:
    return DrawnList(
        facility=selection.facility.code,
        month=selection.month,
        seed=int(selection.seed),
        main=tuple(selection.main),
        reserve=tuple(selection.reserve),
        weights={},
    )


@transaction.atomic
def selection_list_mark_untestable(
    *, actor, selection: SelectionList, person: Person, reason: str
) -> SelectionList:
    """Record that a selected person cannot be tested; the next reserve takes their place."""
    _require(
        actor is None or access.can_manage_selection(actor), "This role cannot manage selections."
    )
    selection = (
        SelectionList.objects.select_for_update().select_related("facility").get(pk=selection.pk)
    )
    if (
        actor is not None
        and not facilities_in_scope(actor).filter(pk=selection.facility_id).exists()
    ):
        raise SelectionList.DoesNotExist
    errors: dict[str, list[str]] = {}
    key = person.research_id
    if not (reason or "").strip():
        _add(errors, "reason", _("Give the reason this person cannot be tested."))
    if key not in selection.main and key not in selection.reserve:
        _add(errors, "person", _("This person is on neither the main nor the reserve list."))
    if errors:
        raise ValidationError(errors)
    untestable = {**selection.untestable, key: reason.strip()}
    try:
        main, substitutions = promote_reserve(as_drawn(selection), untestable=untestable)
    except ReserveExhaustedError:
        raise ValidationError(
            {
                "__all__": [
                    _(
                        "The reserve list has run out: nobody is left to take this person's "
                        "place. Record the shortfall."
                    )
                ]
            }
        ) from None
    before = {"current_main": selection.current_main, "untestable": selection.untestable}
    selection.current_main = list(main)
    selection.untestable = untestable
    selection.substitutions = [s.to_dict() for s in substitutions]
    selection.save(update_fields=["current_main", "untestable", "substitutions"])
    audit_record(
        actor=actor,
        action="drugtest.selection_untestable",
        target=selection,
        person=person,
        before=before,
        after={"current_main": selection.current_main, "untestable": untestable},
    )
    return selection

"""Merging two records of the same human being: ``person_merge(actor=, keep=, duplicate=, ...)``.

Every row that points at the duplicate ``Person`` is moved to the one kept. The relations
are found through model meta (every foreign key or one-to-one to ``records.Person`` in every
installed app), so a new app's rows move without a change here. A relation whose model has
a unique constraint involving the person needs an explicit *resolver* below, which says how
a clash is settled; ``unhandled_relations()`` names any that lack one, a test keeps it empty,
and ``person_merge`` refuses to run while it is not.

Rules (docs/how-to/merge-persons.md says the same for operators):

- Administrators only (or the system, from the command line): a merge moves rows between
  facilities' scopes and touches health data, so no facility role decides it.
- Refused, with a message naming the field: the same person twice, a person already merged
  (either side), no reason given, both persons in custody now (two open episodes), both
  with a draft intervention plan or a draft relapse plan (someone's unfinished work would
  be lost: approve or activate one first), and a record pseudonymised or deleted under the
  retention policy (privacy app).
- Moved rows that carry optimistic locking's ``lock_version`` have it moved on, so an edit
  form opened before the merge is refused rather than saved over the moved row.
- Clashes settled, each written to the audit event: if both have an approved intervention
  plan (or an active relapse plan), the keeper's stays current and the duplicate's becomes
  superseded; the duplicate's plan versions are renumbered after the keeper's, in order.
- Identity: values missing on the kept record (national ID, languages, literacy, ...) are
  filled from the duplicate; differing values are never overwritten, they are listed in the
  result. Custody episodes that overlap in time are moved and listed as a warning.
- The duplicate becomes a tombstone (``merged_into`` = the kept person); it keeps its prison
  number and research ID; records merged into the duplicate earlier now point at the kept
  person (one step to the live record). Audit events about it stay as they are (the chain is never
  rewritten), and one ``person.merge`` event records both ids, the counts moved per table,
  the resolutions, fills, differences and the reason.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.utils.translation import gettext as _

from whatworks.accounts.models import Role
from whatworks.audit.services import audit_record
from whatworks.records.access import is_active_staff
from whatworks.records.choices import EducationLevel, Gender, Literacy
from whatworks.records.models import CustodyEpisode, Person
from whatworks.service_helpers import add_error, raise_if_any, require

# Optimistic locking's version column (whatworks/concurrency.py): moved rows move it on.
LOCK_FIELD = "lock_version"

# Relations that are deliberately not moved, and why.
SKIPPED: dict[str, str] = {
    "audit.auditevent.person": "audit events are hash-chained and stay as they were written",
}
# (records.person.merged_into is moved like any other: records merged earlier into the
# duplicate then point at the kept person, so a tombstone is always one step from it.)

# Identity fields compared between the two records; a value missing on the kept record is
# filled from the duplicate (the "empty" value is given), a differing one is only listed.
IDENTITY_FIELDS: dict[str, Any] = {
    "national_id": "",
    "first_names": "",
    "last_names": "",
    "date_of_birth": None,
    "sex": "",
    "gender": Gender.NOT_RECORDED,
    "nationality": "",
    "languages": [],
    "literacy": Literacy.NOT_RECORDED,
    "education_level": EducationLevel.NOT_RECORDED,
    "support_needs": [],
    "support_needs_notes": "",
}


@dataclasses.dataclass(frozen=True)
class Relation:
    model: type[models.Model]
    field: models.Field

    @property
    def label(self) -> str:
        return f"{self.model._meta.label_lower}.{self.field.name}"


def person_relations() -> list[Relation]:
    """Every concrete foreign key or one-to-one to Person, in every installed app
    (auto-created many-to-many tables included)."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is Person:
                found.append(Relation(model, field))
    return sorted(found, key=lambda relation: relation.label)


def unique_constraints_on(relation: Relation) -> set[str]:
    """Names of the uniqueness rules that involve the relation's field."""
    field, meta = relation.field, relation.model._meta
    names = set()
    if field.unique:
        names.add(f"{field.name} (unique)")
    for constraint in meta.constraints:
        if not isinstance(constraint, models.UniqueConstraint):
            continue
        in_fields = {field.name, field.attname} & set(constraint.fields or ())
        expressions = str(constraint.expressions or "")
        if in_fields or field.name in expressions or field.attname in expressions:
            names.add(constraint.name)
    for together in meta.unique_together:
        if field.name in together:
            names.add("unique_together " + ",".join(together))
    return names


# --- resolvers --------------------------------------------------------------------------


@dataclasses.dataclass
class MergeContext:
    keep: Person
    duplicate: Person
    resolved: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    warnings: list[dict[str, Any]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Resolver:
    """How one relation's clashes are settled. ``handles`` names the unique constraints it
    settles; ``check`` adds refusals to ``errors`` before anything is written;
    ``before_move`` changes the duplicate's rows so the move cannot break a constraint;
    ``after_move`` tidies up once the rows are the keeper's."""

    handles: frozenset[str] = frozenset()
    check: Callable[[MergeContext, dict], None] | None = None
    before_move: Callable[[MergeContext, Relation], None] | None = None
    after_move: Callable[[MergeContext, Relation], None] | None = None


def _episode_end(episode: CustodyEpisode) -> datetime.date:
    return episode.release_date or datetime.date.max


def _check_episodes(ctx: MergeContext, errors: dict) -> None:
    kept = list(CustodyEpisode.objects.filter(person=ctx.keep).select_related("facility"))
    dups = list(CustodyEpisode.objects.filter(person=ctx.duplicate).select_related("facility"))
    kept_open = [episode for episode in kept if episode.is_open]
    dup_open = [episode for episode in dups if episode.is_open]
    if kept_open and dup_open:
        add_error(
            errors,
            "duplicate",
            _(
                "Both persons are in custody now (open episodes at %(keep)s and %(duplicate)s). "
                "One person cannot be held twice: release or correct one episode first."
            )
            % {"keep": kept_open[0].facility.code, "duplicate": dup_open[0].facility.code},
        )
        return
    for mine in kept:
        for theirs in dups:
            # Touching ends (released and admitted the same day, as in a transfer) are fine.
            if mine.admission_date < _episode_end(theirs) and theirs.admission_date < _episode_end(
                mine
            ):
                ctx.warnings.append(
                    {
                        "warning": "overlapping_episodes",
                        "keep_episode": mine.pk,
                        "duplicate_episode": theirs.pk,
                    }
                )


def _versioned_before_move(current_status: str, superseded: str) -> Callable:
    """Versioned plans: one current (approved/active) version per person. The keeper's
    current version stays; the duplicate's is superseded. The duplicate's versions are
    renumbered after the keeper's highest, keeping their order."""

    def before_move(ctx: MergeContext, relation: Relation) -> None:
        model = relation.model
        table = model._meta.label_lower
        mine = model._base_manager.filter(person=ctx.keep)
        theirs = model._base_manager.filter(person=ctx.duplicate).order_by("version", "pk")
        if mine.filter(status=current_status).exists():
            for plan in theirs.filter(status=current_status):
                model._base_manager.filter(pk=plan.pk).update(status=superseded)
                ctx.resolved.append(
                    {
                        "table": table,
                        "id": plan.pk,
                        "status": [current_status, superseded],
                        "because": f"the kept person has a {current_status} version",
                    }
                )
        highest = mine.aggregate(highest=models.Max("version"))["highest"] or 0
        for offset, plan in enumerate(theirs, start=1):
            new_version = highest + offset
            if plan.version != new_version:
                model._base_manager.filter(pk=plan.pk).update(version=new_version)
                ctx.resolved.append(
                    {"table": table, "id": plan.pk, "version": [plan.version, new_version]}
                )

    return before_move


def _check_no_two_drafts(model_label: str, message: Callable[[], str]) -> Callable:
    def check(ctx: MergeContext, errors: dict) -> None:
        model = apps.get_model(model_label)
        drafts = model._base_manager.filter(person__in=[ctx.keep, ctx.duplicate], status="draft")
        if len(set(drafts.values_list("person_id", flat=True))) > 1:
            add_error(errors, "duplicate", message())

    return check


def _linkreview_after_move(ctx: MergeContext, relation: Relation) -> None:
    """Pending reviews list candidate person ids in JSON too: point them at the keeper
    (once, with the better probability). Decided reviews are history and stay as they are."""
    model = relation.model
    for review in model._base_manager.filter(status="pending"):
        candidates = review.candidates or []
        if not any(item.get("person_id") == ctx.duplicate.pk for item in candidates):
            continue
        merged: dict[int, dict] = {}
        for item in candidates:
            item = {**item}
            if item.get("person_id") == ctx.duplicate.pk:
                item["person_id"] = ctx.keep.pk
            best = merged.get(item["person_id"])
            if best is None or (item.get("probability") or 0) > (best.get("probability") or 0):
                merged[item["person_id"]] = item
        ordered = sorted(merged.values(), key=lambda item: -(item.get("probability") or 0))
        model._base_manager.filter(pk=review.pk).update(candidates=ordered)


def _check_no_retention(ctx: MergeContext, errors: dict) -> None:
    """A record pseudonymised or deleted under the retention policy is no longer anyone
    identifiable: merging it would attach its rows to a named person again."""
    model = apps.get_model("privacy", "RetentionRecord")
    for field, person in (("keep", ctx.keep), ("duplicate", ctx.duplicate)):
        if model._base_manager.filter(person=person).exists():
            add_error(
                errors,
                field,
                _(
                    "This record was pseudonymised or deleted under the retention policy "
                    "and cannot be merged."
                ),
            )


def _resolvers() -> dict[str, Resolver]:
    return {
        "privacy.retentionrecord.person": Resolver(
            handles=frozenset({"person (unique)"}), check=_check_no_retention
        ),
        "records.custodyepisode.person": Resolver(
            handles=frozenset({"episode_one_open_per_person"}), check=_check_episodes
        ),
        "treatment.interventionplan.person": Resolver(
            handles=frozenset({"plan_person_version", "plan_one_approved", "plan_one_draft"}),
            check=_check_no_two_drafts(
                "treatment.InterventionPlan",
                lambda: _(
                    "Both persons have a draft intervention plan. Approve one of them "
                    "(or finish it) before merging, so that no one's work is lost."
                ),
            ),
            before_move=_versioned_before_move("approved", "superseded"),
        ),
        "health.relapseplan.person": Resolver(
            handles=frozenset(
                {"relapse_plan_version", "relapse_plan_one_draft", "relapse_plan_one_active"}
            ),
            check=_check_no_two_drafts(
                "health.RelapsePlan",
                lambda: _(
                    "Both persons have a draft relapse prevention plan. Activate one of them "
                    "before merging, so that no one's work is lost."
                ),
            ),
            before_move=_versioned_before_move("active", "superseded"),
        ),
        "outcomes.linkreview.candidate": Resolver(after_move=_linkreview_after_move),
    }


RESOLVERS: dict[str, Resolver] = _resolvers()


def resolvers() -> dict[str, Resolver]:
    return RESOLVERS


def unhandled_relations() -> list[str]:
    """Relations a merge could not move safely: a unique constraint involving the person
    that no resolver settles. Must be empty (tested); ``person_merge`` refuses otherwise."""
    problems = []
    for relation in person_relations():
        if relation.label in SKIPPED:
            continue
        needed = unique_constraints_on(relation)
        handled = resolvers().get(relation.label, Resolver()).handles
        if needed - handled:
            problems.append(f"{relation.label}: {', '.join(sorted(needed - handled))}")
    return problems


# --- the service ------------------------------------------------------------------------


@dataclasses.dataclass
class MergeResult:
    keep_id: int
    duplicate_id: int
    moved: dict[str, int]
    resolved: list[dict[str, Any]]
    filled: dict[str, Any]
    differences: dict[str, list[Any]]
    warnings: list[dict[str, Any]]
    dry_run: bool

    @property
    def total_moved(self) -> int:
        return sum(self.moved.values())


class _DryRun(Exception):
    def __init__(self, result: MergeResult):
        self.result = result


def _is_empty(value: Any, empty: Any) -> bool:
    return value in (None, "", []) or value == empty


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime.date) else value


def _compare_identity(keep: Person, duplicate: Person) -> tuple[dict, dict]:
    filled, differences = {}, {}
    for name, empty in IDENTITY_FIELDS.items():
        mine, theirs = getattr(keep, name), getattr(duplicate, name)
        if _is_empty(theirs, empty) or mine == theirs:
            continue
        if _is_empty(mine, empty):
            filled[name] = _jsonable(theirs)
        else:
            differences[name] = [_jsonable(mine), _jsonable(theirs)]
    return filled, differences


def _responsible_facility_id(keep: Person) -> int | None:
    """The facility of the open episode, else of the last one to end (as the custody
    services keep it), else what the kept record had."""
    episodes = CustodyEpisode.objects.filter(person=keep)
    current = episodes.filter(release_date__isnull=True).first()
    if current is None:
        current = episodes.order_by("-release_date", "-admission_date", "-pk").first()
    return current.facility_id if current is not None else keep.current_facility_id


def can_merge_persons(user) -> bool:
    """Merging moves records across facilities' scopes and touches health data: administrators."""
    return is_active_staff(user) and user.role == Role.ADMINISTRATOR


def person_merge(
    *, actor, keep: Person, duplicate: Person, reason: str, dry_run: bool = False
) -> MergeResult:
    """Move everything that belongs to ``duplicate`` onto ``keep`` and leave a tombstone.

    With ``dry_run`` the whole merge runs and is rolled back, so what it reports is exactly
    what a real merge would do. Raises ``PermissionError`` for a non-administrator and
    ``ValidationError`` (field -> messages) for a refused merge."""
    require(
        actor is None or can_merge_persons(actor),
        _("Only administrators can merge person records."),
    )
    try:
        with transaction.atomic():
            result = _merge(actor=actor, keep=keep, duplicate=duplicate, reason=reason)
            if dry_run:
                raise _DryRun(result)
    except _DryRun as rolled_back:
        rolled_back.result.dry_run = True
        return rolled_back.result
    return result


def _merge(*, actor, keep: Person, duplicate: Person, reason: str) -> MergeResult:
    errors: dict[str, list[str]] = {}
    reason = (reason or "").strip()
    if not reason:
        add_error(errors, "reason", _("Say why these two records are the same person."))
    if keep.pk == duplicate.pk:
        add_error(errors, "duplicate", _("A person cannot be merged into themselves."))
        raise_if_any(errors)
    # Both persons are locked in id order, so two merges that share a person wait for each
    # other instead of each holding one and deadlocking.
    locked = {
        person.pk: person
        for person in Person.objects.select_for_update()
        .filter(pk__in=[keep.pk, duplicate.pk])
        .order_by("pk")
    }
    if keep.pk not in locked:
        add_error(errors, "keep", _("This person does not exist."))
    if duplicate.pk not in locked:
        add_error(errors, "duplicate", _("This person does not exist."))
    raise_if_any(errors)
    keep, duplicate = locked[keep.pk], locked[duplicate.pk]
    if duplicate.merged_into_id is not None:
        add_error(
            errors,
            "duplicate",
            _("This record was already merged into %(other)s.")
            % {"other": duplicate.merged_into.prison_number},
        )
    if keep.merged_into_id is not None:
        add_error(
            errors,
            "keep",
            _("This record was merged into %(other)s; keep that one instead.")
            % {"other": keep.merged_into.prison_number},
        )
    problems = unhandled_relations()
    if problems:
        # A programming gap, not the user's: a new model needs a resolver here.
        raise RuntimeError("person_merge cannot move: " + "; ".join(problems))
    raise_if_any(errors)

    ctx = MergeContext(keep=keep, duplicate=duplicate)
    relations = [relation for relation in person_relations() if relation.label not in SKIPPED]
    for relation in relations:
        resolver = resolvers().get(relation.label)
        if resolver is not None and resolver.check is not None:
            resolver.check(ctx, errors)
    raise_if_any(errors)

    filled, differences = _compare_identity(keep, duplicate)
    moved: dict[str, int] = {}
    for relation in relations:
        resolver = resolvers().get(relation.label) or Resolver()
        if resolver.before_move is not None:
            resolver.before_move(ctx, relation)
        changes: dict[str, Any] = {relation.field.name: keep}
        if any(field.name == LOCK_FIELD for field in relation.model._meta.concrete_fields):
            # An edit form opened before the merge must not save over the moved row.
            changes[LOCK_FIELD] = models.F(LOCK_FIELD) + 1
        count = relation.model._base_manager.filter(**{relation.field.name: duplicate}).update(
            **changes
        )
        if count:
            moved[relation.label] = count
        if resolver.after_move is not None:
            resolver.after_move(ctx, relation)

    fill_values = {name: getattr(duplicate, name) for name in filled}
    # The national ID is unique: the tombstone gives it up before the keeper takes it.
    if "national_id" in filled:
        duplicate.national_id = ""
    duplicate.merged_into = keep
    duplicate.save(update_fields=["national_id", "merged_into", "updated_at"])
    for name, value in fill_values.items():
        setattr(keep, name, value)
    facility_before = keep.current_facility_id
    keep.current_facility_id = _responsible_facility_id(keep)
    keep.save()

    result = MergeResult(
        keep_id=keep.pk,
        duplicate_id=duplicate.pk,
        moved=moved,
        resolved=ctx.resolved,
        filled=filled,
        differences=differences,
        warnings=ctx.warnings,
        dry_run=False,
    )
    audit_record(
        actor=actor,
        action="person.merge",
        target=keep,
        person=keep,
        after={
            "keep": keep.pk,
            "duplicate": duplicate.pk,
            "duplicate_prison_number": duplicate.prison_number,
            "duplicate_research_id": duplicate.research_id,
            "moved": moved,
            "resolved": ctx.resolved,
            "filled": filled,
            "differences": differences,
            "warnings": ctx.warnings,
            "current_facility": [facility_before, keep.current_facility_id],
            "reason": reason,
        },
    )
    return result


# --- finding likely duplicates ----------------------------------------------------------


# Persons sharing one birth date beyond this are compared within the same initial only.
LARGE_BIRTH_GROUP = 200


@dataclasses.dataclass(frozen=True)
class LikelyDuplicate:
    first: Person
    second: Person
    score: float
    why: str  # "national_id" or "name_dob"


def likely_duplicates(*, threshold: float = 0.9) -> list[LikelyDuplicate]:
    """Pairs of live (not merged) records that are probably one person, best first, with
    the linkage's rules (analytics/linkage, docs/linkage.md): the same national ID once
    normalised ("15.381.135-0" and "15381135-0"), or the same date of birth and names
    whose normalised forms are at least ``threshold`` similar. For an administrator's
    review before ``person_merge``; nothing is decided here."""
    from difflib import SequenceMatcher

    from whatworks.analytics.linkage import normalise_name, normalise_national_id

    rows = list(
        Person.objects.filter(merged_into__isnull=True)
        .order_by("pk")
        .values_list("pk", "national_id", "first_names", "last_names", "date_of_birth")
    )
    found: dict[tuple[int, int], tuple[float, str]] = {}
    by_national_id: dict[str, list[int]] = {}
    by_birth: dict[datetime.date, list[tuple[int, str]]] = {}
    for pk, national_id, first, last, born in rows:
        key = normalise_national_id(national_id)
        if key:
            by_national_id.setdefault(key, []).append(pk)
        by_birth.setdefault(born, []).append((pk, normalise_name(f"{first} {last}")))
    for ids in by_national_id.values():
        for index, left in enumerate(ids):
            for right in ids[index + 1 :]:
                found[left, right] = (1.0, "national_id")
    blocks: list[list[tuple[int, str]]] = []
    for group in by_birth.values():
        if len(group) <= LARGE_BIRTH_GROUP:
            blocks.append(group)
            continue
        # A placeholder birth date (1 January) gathers thousands: compare within the same
        # initial only, so the work stays linear in practice.
        by_initial: dict[str, list[tuple[int, str]]] = {}
        for pk, name in group:
            by_initial.setdefault(name[:1], []).append((pk, name))
        blocks.extend(by_initial.values())
    matcher = SequenceMatcher(autojunk=False)
    for group in blocks:
        for index, (left, left_name) in enumerate(group):
            matcher.set_seq2(left_name)  # analysed once, compared with the rest
            for right, right_name in group[index + 1 :]:
                if (left, right) in found:
                    continue
                matcher.set_seq1(right_name)
                # Cheap upper bounds first: most pairs fail them.
                if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
                    continue
                score = matcher.ratio()
                if score >= threshold:
                    found[left, right] = (round(score, 3), "name_dob")
    persons = Person.objects.in_bulk({pk for pair in found for pk in pair})
    pairs = [
        LikelyDuplicate(persons[left], persons[right], score, why)
        for (left, right), (score, why) in found.items()
    ]
    return sorted(pairs, key=lambda pair: (-pair.score, pair.first.pk, pair.second.pk))

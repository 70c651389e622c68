"""Writes for outcome imports: importing a checked extract, and deciding review items.

``outcome_import`` is all or nothing: one transaction per file; a dry run does all the same
work (linkage included) and rolls it back. Every created event and every decision is
audited; the import itself has one audit event with its counts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from whatworks.audit.services import audit_record, snapshot
from whatworks.outcomes.access import access_link_review, can_import, can_review_links
from whatworks.outcomes.extract import Extract, ExtractRow, RowError, source_key
from whatworks.outcomes.models import LinkReview, OutcomeImport, ReviewReason, ReviewStatus
from whatworks.records.models import CustodyEpisode, OutcomeEvent, Person
from whatworks.service_helpers import (
    actor_or_none,
    add_error,
    raise_if_any,
    require,
    require_person_in_scope,
)

DEFAULT_LINK_THRESHOLD = 0.95
DEFAULT_REVIEW_THRESHOLD = 0.50
BATCH_SIZE = 500
MAX_CANDIDATES = 3


class ExtractInvalid(Exception):
    """The extract has problems; nothing was written. ``errors`` lists them all."""

    def __init__(self, extract: Extract, errors: list[RowError]):
        super().__init__(f"{extract.file_name}: {len(errors)} problem(s)")
        self.extract = extract
        self.errors = errors


class _DryRunRollback(Exception):
    pass


@dataclass(frozen=True)
class RowLink:
    row: int
    person_id: int | None
    status: str
    probability: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "person_id": self.person_id,
            "status": self.status,
            "probability": self.probability,
        }


@dataclass
class ImportResult:
    links: list[RowLink]
    summary: dict[str, Any]
    outcome_import: OutcomeImport | None = None
    already_imported_rows: list[int] = field(default_factory=list)


# --- linkage ------------------------------------------------------------------------------


def records_frame(rows: list[ExtractRow]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row": [row.row for row in rows],
            "first_name": [row.first_name for row in rows],
            "last_name": [row.last_name for row in rows],
            "date_of_birth": [row.date_of_birth for row in rows],
            "national_id": [row.national_id or None for row in rows],
            "prison_number": [row.prison_number or None for row in rows],
        },
        schema={
            "row": pl.Int64,
            "first_name": pl.Utf8,
            "last_name": pl.Utf8,
            "date_of_birth": pl.Date,
            "national_id": pl.Utf8,
            "prison_number": pl.Utf8,
        },
    )


def persons_frame() -> pl.DataFrame:
    """Every person in the service (an import links against all of them), in one query.

    Records merged into another (records/merge.py) are left out: their identifiers were
    copied to the kept record where it had none, and a link must land on the kept record.
    """
    values = (
        Person.objects.filter(merged_into__isnull=True)
        .order_by("pk")
        .values_list(
            "pk", "first_names", "last_names", "date_of_birth", "national_id", "prison_number"
        )
    )
    rows = [
        (str(pk), first, last, birth, national_id or None, prison_number or None)
        for pk, first, last, birth, national_id, prison_number in values
    ]
    return pl.DataFrame(
        rows,
        schema={
            "person_key": pl.Utf8,
            "first_names": pl.Utf8,
            "last_names": pl.Utf8,
            "date_of_birth": pl.Date,
            "national_id": pl.Utf8,
            "prison_number": pl.Utf8,
        },
        orient="row",
    )


def link_rows(rows: list[ExtractRow], *, link_threshold: float, review_threshold: float):
    """The linkage's decision for each row, keyed by row index."""
    from whatworks.analytics.linkage import LinkThresholds, link_records

    if not rows:
        return {}
    persons = persons_frame()
    thresholds = LinkThresholds(link=link_threshold, review=review_threshold)
    if persons.height == 0:
        return {}
    decisions = link_records(records_frame(rows), persons, thresholds=thresholds)
    return {decision.row: decision for decision in decisions}


def _first_releases(person_ids: set[int]) -> dict[int, Any]:
    firsts: dict[int, Any] = {}
    ids = sorted(person_ids)
    for start in range(0, len(ids), BATCH_SIZE):
        batch = ids[start : start + BATCH_SIZE]
        for person_id, release_date in CustodyEpisode.objects.filter(
            person_id__in=batch, release_date__isnull=False
        ).values_list("person_id", "release_date"):
            if person_id not in firsts or release_date < firsts[person_id]:
                firsts[person_id] = release_date
    return firsts


def _existing(rows: list[ExtractRow]) -> set[int]:
    """Indexes of rows already stored, as an event or as a review item."""
    by_key = {row.source_key: row.row for row in rows}
    by_pair = {(row.source, row.source_reference): row.row for row in rows}
    found: set[int] = set()
    keys = list(by_key)
    for start in range(0, len(keys), BATCH_SIZE):
        batch = keys[start : start + BATCH_SIZE]
        for key in OutcomeEvent.objects.filter(source_key__in=batch).values_list(
            "source_key", flat=True
        ):
            found.add(by_key[key])
    by_source: dict[str, list[str]] = defaultdict(list)
    for source, reference in by_pair:
        by_source[source].append(reference)
    for source, references in by_source.items():
        for start in range(0, len(references), BATCH_SIZE):
            batch = references[start : start + BATCH_SIZE]
            for reference in LinkReview.objects.filter(
                source=source, source_reference__in=batch
            ).values_list("source_reference", flat=True):
                found.add(by_pair[(source, reference)])
    return found


# --- the import ---------------------------------------------------------------------------


def outcome_import(
    *,
    actor,
    extract: Extract,
    link_threshold: float = DEFAULT_LINK_THRESHOLD,
    review_threshold: float = DEFAULT_REVIEW_THRESHOLD,
    dry_run: bool = False,
    actor_label: str = "",
) -> ImportResult:
    """Link a checked extract to persons and store it, all or nothing.

    Raises ``ExtractInvalid`` (nothing written) when the extract has problems, and
    ``ValidationError`` for bad thresholds. Rows already stored (same source and reference,
    as an event or as a review item) are reported and not written again.
    """
    require(actor is None or can_import(actor), "This role cannot import outcome extracts.")
    errors: dict[str, list[str]] = {}
    for name, value in (("link_threshold", link_threshold), ("review_threshold", review_threshold)):
        if not 0.0 <= value <= 1.0:
            add_error(errors, name, _("A probability between 0 and 1."))
    if not errors and review_threshold > link_threshold:
        add_error(
            errors, "review_threshold", _("The review threshold cannot exceed the link threshold.")
        )
    raise_if_any(errors)
    if extract.errors:
        raise ExtractInvalid(extract, extract.errors)

    result: ImportResult | None = None
    try:
        with transaction.atomic():
            result = _import(
                actor=actor,
                actor_label=actor_label,
                extract=extract,
                link_threshold=link_threshold,
                review_threshold=review_threshold,
                dry_run=dry_run,
            )
            if dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        pass
    except IntegrityError as error:
        # Another import stored some of the same rows while this one ran.
        raise ExtractInvalid(
            extract,
            [
                RowError(
                    None, "", _("The records changed during the import (%s); run it again.") % error
                )
            ],
        ) from None
    assert result is not None
    if dry_run:
        result.outcome_import = None
        result.summary["import_id"] = None
    return result


def _import(*, actor, actor_label, extract, link_threshold, review_threshold, dry_run):
    rows = extract.rows
    decisions = link_rows(rows, link_threshold=link_threshold, review_threshold=review_threshold)
    already = _existing(rows)

    linked_ids = {
        int(decision.person_key)
        for decision in decisions.values()
        if decision.status == "linked" and decision.person_key
    }
    first_release = _first_releases(linked_ids)

    links: list[RowLink] = []
    to_create: list[tuple[ExtractRow, int]] = []
    to_review: list[tuple[ExtractRow, Any, str, int | None]] = []
    unmatched_rows: list[dict[str, Any]] = []
    for row in rows:
        decision = decisions.get(row.row)
        status = decision.status if decision else "unmatched"
        probability = decision.probability if decision else None
        person_id = int(decision.person_key) if decision and decision.person_key else None
        reason = ReviewReason.UNCERTAIN
        if status == "linked":
            released = first_release.get(person_id)
            if released is None or released >= row.event_date:
                # A sure match but no release before the event: a person must look.
                status, reason = "review", ReviewReason.NO_RELEASE
        if status == "review" and person_id is None and decision and decision.candidates:
            person_id = int(decision.candidates[0].person_key)
            probability = decision.candidates[0].probability
        if status == "unmatched":
            person_id = None
        links.append(RowLink(row.row, person_id, status, probability))
        if row.row in already:
            continue
        if status == "linked":
            to_create.append((row, person_id))
        elif status == "review":
            to_review.append((row, decision, reason, person_id))
        else:
            unmatched_rows.append(row.as_dict())

    counts = {
        status: sum(1 for link in links if link.status == status)
        for status in ("linked", "review", "unmatched")
    }
    sources = extract.sources
    record = OutcomeImport.objects.create(
        file_name=extract.file_name[:255],
        sha256=extract.sha256,
        encoding=extract.encoding,
        source=next(iter(sources)) if len(sources) == 1 else "",
        actor=actor_or_none(actor),
        actor_label=actor_label or (actor.get_username() if actor is not None else "system"),
        link_threshold=link_threshold,
        review_threshold=review_threshold,
        rows=len(rows),
        linked=counts["linked"],
        review=counts["review"],
        unmatched=counts["unmatched"],
        events_created=len(to_create),
        reviews_created=len(to_review),
        already_imported=len(already),
        unmatched_rows=unmatched_rows,
    )

    events = [
        OutcomeEvent(
            person_id=person_id,
            event_type=row.event_type,
            event_date=row.event_date,
            offence_date=row.offence_date,
            source=row.source,
            reference=row.source_reference,
            source_key=row.source_key,
        )
        for row, person_id in to_create
    ]
    OutcomeEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)
    new_keys = [event.source_key for event in events]
    for start in range(0, len(new_keys), BATCH_SIZE):
        batch = new_keys[start : start + BATCH_SIZE]
        for event in OutcomeEvent.objects.filter(source_key__in=batch).select_related("person"):
            audit_record(
                actor=actor,
                actor_label=actor_label,
                action="outcome.record",
                target=event,
                person=event.person,
                after={**snapshot(event), "outcome_import_id": record.pk},
            )

    reviews = []
    for row, decision, reason, person_id in to_review:
        candidates = [
            {"person_id": int(candidate.person_key), "probability": candidate.probability}
            for candidate in (decision.candidates if decision else ())
        ][:MAX_CANDIDATES]
        if person_id is not None and not any(c["person_id"] == person_id for c in candidates):
            candidates = [
                {"person_id": person_id, "probability": decision.probability},
                *candidates,
            ]
            candidates = candidates[:MAX_CANDIDATES]
        probability = next(
            (c["probability"] for c in candidates if c["person_id"] == person_id), None
        )
        reviews.append(
            LinkReview(
                outcome_import=record,
                row_index=row.row,
                first_name=row.first_name,
                last_name=row.last_name,
                date_of_birth=row.date_of_birth,
                national_id=row.national_id,
                prison_number=row.prison_number,
                event_type=row.event_type,
                event_date=row.event_date,
                offence_date=row.offence_date,
                source=row.source,
                source_reference=row.source_reference,
                candidate_id=person_id,
                probability=probability,
                candidates=candidates,
                reason=reason,
            )
        )
    LinkReview.objects.bulk_create(reviews, batch_size=BATCH_SIZE)

    summary = {
        "file": extract.file_name,
        "sha256": extract.sha256,
        "encoding": extract.encoding,
        "dry_run": dry_run,
        "rows": len(rows),
        **counts,
        "events_created": len(to_create),
        "reviews_created": len(to_review),
        "already_imported": len(already),
        "link_threshold": link_threshold,
        "review_threshold": review_threshold,
        "import_id": record.pk,
    }
    audit_record(
        actor=actor,
        actor_label=actor_label,
        action="outcome.import",
        target=record,
        after={key: value for key, value in summary.items() if key != "import_id"},
    )
    return ImportResult(
        links=links,
        summary=summary,
        outcome_import=record,
        already_imported_rows=sorted(already),
    )


# --- deciding review items ----------------------------------------------------------------


def _locked_review(actor, review: LinkReview) -> LinkReview:
    """The review, locked; out of the actor's scope it is missing (DoesNotExist)."""
    require(actor is None or can_review_links(actor), "This role cannot decide record links.")
    if actor is not None:
        access_link_review(actor, review.pk)
    # Lock the review only: the candidate is a nullable (outer) join PostgreSQL will not lock.
    return (
        LinkReview.objects.select_for_update(of=("self",))
        .select_related("candidate")
        .get(pk=review.pk)
    )


@transaction.atomic
def link_review_accept(*, actor, review: LinkReview, person: Person | None = None) -> LinkReview:
    """Accept the link: the row becomes an outcome event of ``person`` (default: the best
    candidate). Idempotent: the event is keyed by source and reference."""
    review = _locked_review(actor, review)
    chosen = person or review.candidate
    errors: dict[str, list[str]] = {}
    if chosen is None:
        add_error(errors, "person", _("Choose the person this record belongs to."))
        raise_if_any(errors)
    require_person_in_scope(actor, chosen)
    candidate_ids = {c.get("person_id") for c in review.candidates} | {review.candidate_id}
    if chosen.pk not in candidate_ids:
        add_error(errors, "person", _("Choose one of the candidates shown."))
    if review.status == ReviewStatus.ACCEPTED:
        if review.event is not None and review.event.person_id == chosen.pk:
            return review
        add_error(errors, "status", _("This record has already been linked."))
    elif review.status == ReviewStatus.REJECTED:
        add_error(errors, "status", _("This record has already been rejected."))
    raise_if_any(errors)
    key = source_key(review.source, review.source_reference)
    event = OutcomeEvent.objects.filter(source_key=key).first()
    if event is not None and event.person_id != chosen.pk:
        add_error(errors, "person", _("This record is already an event of another person."))
    if (
        event is None
        and not chosen.custody_episodes.filter(release_date__lt=review.event_date).exists()
    ):
        add_error(
            errors,
            "person",
            _("Outcome events follow a release; this person has no release before this date."),
        )
    raise_if_any(errors)
    if event is None:
        event = OutcomeEvent(
            person=chosen,
            event_type=review.event_type,
            event_date=review.event_date,
            offence_date=review.offence_date,
            source=review.source,
            reference=review.source_reference,
            source_key=key,
        )
        event.full_clean(validate_constraints=True)
        event.save()
        audit_record(
            actor=actor,
            action="outcome.record",
            target=event,
            person=chosen,
            after={**snapshot(event), "link_review_id": review.pk},
        )
    before = snapshot(review, ["status", "candidate_id", "event_id"])
    review.status = ReviewStatus.ACCEPTED
    review.candidate = chosen
    review.event = event
    review.decided_by = actor_or_none(actor)
    review.decided_at = timezone.now()
    review.save()
    audit_record(
        actor=actor,
        action="outcome.link_accept",
        target=review,
        person=chosen,
        before=before,
        after=snapshot(review, ["status", "candidate_id", "event_id"]),
    )
    return review


@transaction.atomic
def link_review_reject(*, actor, review: LinkReview, reason: str) -> LinkReview:
    """Reject the link: the row is about none of the candidates. The reason is required."""
    review = _locked_review(actor, review)
    if review.candidate is not None:
        require_person_in_scope(actor, review.candidate)
    errors: dict[str, list[str]] = {}
    reason = (reason or "").strip()
    if not reason:
        add_error(errors, "reason", _("Say why the record is not this person."))
    if review.status == ReviewStatus.ACCEPTED:
        add_error(errors, "status", _("This record has already been linked."))
    elif review.status == ReviewStatus.REJECTED:
        return review
    raise_if_any(errors)
    review.status = ReviewStatus.REJECTED
    review.decision_reason = reason
    review.decided_by = actor_or_none(actor)
    review.decided_at = timezone.now()
    review.save()
    audit_record(
        actor=actor,
        action="outcome.link_reject",
        target=review,
        person=review.candidate,
        before={"status": ReviewStatus.PENDING},
        after={"status": review.status, "reason": reason},
    )
    return review

"""Loading simulated (or extracted) completed assessments, all or nothing.

Each row is scored by the instrument engine, exactly as an assessment completed in the app;
the table never supplies a total or a band. Rows are keyed by ``assessment_key`` (stored as
``Assessment.import_key``), so loading the same table again adds nothing, and a bad row
anywhere rolls the whole load back. One summary audit event records the load.
"""

from __future__ import annotations

import datetime
import json

import polars as pl
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from whatworks.analytics.instruments import AnswerError, next_reassessment_date, score
from whatworks.assessments.models import (
    Assessment,
    AssessmentStatus,
    AssessmentStatusChange,
    InstrumentVersion,
)
from whatworks.assessments.services import instrument_version_current
from whatworks.audit.services import audit_record
from whatworks.records.models import CustodyEpisode, Person
from whatworks.records.selectors import person_ids_by_prison_number

COLUMNS = ("assessment_key", "prison_number", "instrument", "version", "assessed_on", "answers")
# Optional: ``episode_key`` (the records import's ``CustodyEpisode.source_key``); without it,
# the episode is the one the person was in on ``assessed_on``.
BATCH_SIZE = 500


class AssessmentImportError(Exception):
    """The table cannot be loaded; the message names the row and the problem."""


def _episode_on(episodes: list[CustodyEpisode], day: datetime.date) -> CustodyEpisode | None:
    """The episode the person was in on ``day`` (admission and release both inclusive)."""
    for episode in episodes:
        if episode.admission_date <= day and (
            episode.release_date is None or day <= episode.release_date
        ):
            return episode
    return None


def _version(cache: dict, slug: str, version: str, row: int) -> InstrumentVersion:
    key = (slug, version)
    if key not in cache:
        stored = InstrumentVersion.objects.filter(slug=slug, version=version).first()
        if stored is None:
            try:
                stored = instrument_version_current(actor=None, slug=slug)
            except ValidationError:
                raise AssessmentImportError(f"row {row}: unknown instrument {slug!r}") from None
            if stored.version != version:
                raise AssessmentImportError(
                    f"row {row}: {slug} version {version!r} is not registered "
                    f"(the built-in is {stored.version})"
                )
        cache[key] = stored
    return cache[key]


def assessments_load(*, table: pl.DataFrame, actor_label: str) -> int:
    """Load completed assessments; returns how many were added (0 on a repeated load).

    Columns: ``assessment_key``, ``prison_number``, ``instrument``, ``version``,
    ``assessed_on`` (date), ``answers`` (JSON text: item id -> answer), and optionally
    ``episode_key``. The persons (and episodes) must be loaded first.
    """
    missing = [column for column in COLUMNS if column not in table.columns]
    if missing:
        raise AssessmentImportError(f"assessments: missing column(s) {', '.join(missing)}")
    with transaction.atomic():
        existing = set(
            Assessment.objects.exclude(import_key="").values_list("import_key", flat=True)
        )
        rows = [r for r in table.iter_rows(named=True) if str(r["assessment_key"]) not in existing]
        numbers = {str(r["prison_number"]) for r in rows}
        kept_ids = person_ids_by_prison_number(numbers)
        kept = Person.objects.in_bulk(set(kept_ids.values()))
        persons = {number: kept[person_id] for number, person_id in kept_ids.items()}
        episodes: dict[int, list[CustodyEpisode]] = {}
        for episode in CustodyEpisode.objects.filter(person__in=persons.values()).order_by(
            "admission_date"
        ):
            episodes.setdefault(episode.person_id, []).append(episode)
        versions: dict = {}
        now = timezone.now()
        new: list[Assessment] = []
        seen: set[str] = set()
        for number, row in enumerate(rows, start=2):  # row 1 is the header
            key = str(row["assessment_key"])
            if key in seen:
                raise AssessmentImportError(f"row {number}: duplicate assessment_key {key}")
            seen.add(key)
            person = persons.get(str(row["prison_number"]))
            if person is None:
                raise AssessmentImportError(
                    f"row {number}: unknown prison_number {row['prison_number']}"
                )
            version = _version(versions, str(row["instrument"]), str(row["version"]), number)
            assessed_on = row["assessed_on"]
            if not isinstance(assessed_on, datetime.date):
                raise AssessmentImportError(f"row {number}: assessed_on is not a date")
            try:
                answers = json.loads(row["answers"] or "{}")
                result = score(version.instrument, answers)
            except (AnswerError, ValueError, TypeError) as error:
                raise AssessmentImportError(f"row {number}: answers: {error}") from None
            if result.band is None:
                raise AssessmentImportError(f"row {number}: total outside every band")
            person_episodes = episodes.get(person.pk, [])
            episode = next(
                (
                    e
                    for e in person_episodes
                    if e.source_key and e.source_key == row.get("episode_key")
                ),
                None,
            ) or _episode_on(person_episodes, assessed_on)
            expected_release = episode.expected_release_date if episode else None
            new.append(
                Assessment(
                    person=person,
                    episode=episode,
                    facility_id=episode.facility_id if episode else person.current_facility_id,
                    instrument_version=version,
                    status=AssessmentStatus.COMPLETED,
                    answers=answers,
                    total=result.total,
                    band=result.band,
                    domain_scores=result.domains,
                    strengths=result.strengths,
                    needs=result.needs,
                    assessed_on=assessed_on,
                    completed_at=now,
                    next_due_date=next_reassessment_date(
                        version.instrument, result.band, assessed_on, expected_release
                    ),
                    import_key=key,
                )
            )
        created = Assessment.objects.bulk_create(new, batch_size=BATCH_SIZE)
        AssessmentStatusChange.objects.bulk_create(
            [
                AssessmentStatusChange(
                    assessment=assessment, from_status="", to_status=AssessmentStatus.COMPLETED
                )
                for assessment in created
            ],
            batch_size=BATCH_SIZE,
        )
        audit_record(
            actor=None,
            actor_label=actor_label,
            action="assessment.import",
            target=None,
            object_type="assessments.assessment",
            object_id="",
            after={"added": len(created), "skipped_existing": table.height - len(created)},
        )
    return len(created)

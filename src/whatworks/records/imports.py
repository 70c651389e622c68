"""Loading a whole extract (the simulator's tables) into the records, all or nothing.

Used by the demo and by `whatworks load-extract`. Rows are keyed by their natural keys
(facility code, prison number, episode key, event key), so loading the same extract again
adds nothing, and a failure anywhere rolls the whole load back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
from django.db import IntegrityError, transaction

from whatworks.audit.services import audit_record
from whatworks.records.models import (
    CustodyEpisode,
    CustodyMovement,
    Facility,
    OutcomeEvent,
    Person,
)
from whatworks.records.selectors import person_ids_by_prison_number

TABLES = ("facilities", "persons", "custody_episodes", "movements", "outcome_events")
BATCH_SIZE = 500


class ExtractError(Exception):
    """The extract cannot be loaded; the message names the file, row and field."""


@dataclass(frozen=True)
class LoadSummary:
    facilities: int
    persons: int
    custody_episodes: int
    movements: int
    outcome_events: int

    @property
    def total(self) -> int:
        return (
            self.facilities
            + self.persons
            + self.custody_episodes
            + self.movements
            + self.outcome_events
        )


def read_extract(directory: Path) -> dict[str, pl.DataFrame]:
    """Read the Parquet tables of an extract folder written by `whatworks simulate`."""
    tables = {}
    for name in TABLES:
        path = directory / f"{name}.parquet"
        if not path.exists():
            raise ExtractError(f"{path}: file is missing")
        tables[name] = pl.read_parquet(path)
    return tables


def _text(value) -> str:
    return "" if value is None else str(value)


def _split_codes(value) -> list[str]:
    return [code for code in _text(value).split(";") if code]


def _require_columns(tables: dict[str, pl.DataFrame], name: str, columns: list[str]) -> None:
    missing = [column for column in columns if column not in tables[name].columns]
    if missing:
        raise ExtractError(f"{name}: missing column(s) {', '.join(missing)}")


@transaction.atomic
def extract_load(*, tables: dict[str, pl.DataFrame], actor=None, actor_label: str) -> LoadSummary:
    for name in TABLES:
        if name not in tables:
            raise ExtractError(f"{name}: table is missing")
    _require_columns(tables, "facilities", ["code", "name", "region", "facility_type"])
    _require_columns(tables, "persons", ["prison_number", "first_names", "last_names"])
    _require_columns(tables, "custody_episodes", ["episode_key", "prison_number", "facility"])

    existing_codes = set(Facility.objects.values_list("code", flat=True))
    new_facilities = [
        Facility(
            code=row["code"],
            name=row["name"],
            region=row["region"],
            facility_type=row["facility_type"],
            security_level=row["security_level"],
            capacity=row["capacity"],
            population_sex=row["population_sex"],
        )
        for row in tables["facilities"].iter_rows(named=True)
        if row["code"] not in existing_codes
    ]
    Facility.objects.bulk_create(new_facilities, batch_size=BATCH_SIZE)
    facility_ids = dict(Facility.objects.values_list("code", "id"))

    existing_numbers = set(Person.objects.values_list("prison_number", flat=True))
    new_persons = [
        Person(
            prison_number=row["prison_number"],
            national_id=_text(row.get("national_id")),
            first_names=row["first_names"],
            last_names=row["last_names"],
            date_of_birth=row["date_of_birth"],
            sex=row["sex"],
            gender=row.get("gender") or "not_recorded",
            nationality=row["nationality"],
            languages=_split_codes(row.get("languages")),
            literacy=row.get("literacy") or "not_recorded",
            education_level=row.get("education_level") or "not_recorded",
            support_needs=_split_codes(row.get("needs_codes")),
        )
        for row in tables["persons"].iter_rows(named=True)
        if row["prison_number"] not in existing_numbers
    ]
    Person.objects.bulk_create(new_persons, batch_size=BATCH_SIZE)
    person_ids = person_ids_by_prison_number()

    existing_episodes = set(
        CustodyEpisode.objects.filter(source_key__isnull=False).values_list("source_key", flat=True)
    )
    episode_rows = [
        row
        for row in tables["custody_episodes"].iter_rows(named=True)
        if row["episode_key"] not in existing_episodes
    ]
    try:
        new_episodes = [
            CustodyEpisode(
                person_id=person_ids[row["prison_number"]],
                admission_facility_id=facility_ids[row["admission_facility"]],
                facility_id=facility_ids[row["facility"]],
                admission_date=row["admission_date"],
                admission_type=row["admission_type"],
                legal_status=row["legal_status"],
                main_offence_category=row["main_offence_category"],
                sentence_date=row["sentence_date"],
                sentence_length_days=row["sentence_length_days"],
                expected_release_date=row["expected_release_date"],
                release_date=row["release_date"],
                release_type=_text(row["release_type"]),
                source_key=row["episode_key"],
            )
            for row in episode_rows
        ]
    except KeyError as error:
        raise ExtractError(f"custody_episodes: unknown person or facility {error}") from None
    _bulk_create_checked(CustodyEpisode, new_episodes, "custody_episodes")
    episode_ids = dict(
        CustodyEpisode.objects.filter(source_key__isnull=False).values_list("source_key", "id")
    )

    new_episode_keys = {row["episode_key"] for row in episode_rows}
    new_movements = [
        CustodyMovement(
            episode_id=episode_ids[row["episode_key"]],
            kind=row["kind"],
            movement_date=row["movement_date"],
            from_facility_id=facility_ids.get(row["from_facility"]),
            to_facility_id=facility_ids.get(row["to_facility"]),
            reason=_text(row["reason"]),
        )
        for row in tables["movements"].iter_rows(named=True)
        if row["episode_key"] in new_episode_keys
    ]
    _bulk_create_checked(CustodyMovement, new_movements, "movements")

    # The responsible facility is that of each person's latest episode.
    latest = (
        tables["custody_episodes"]
        .sort("admission_date")
        .group_by("prison_number")
        .agg(pl.col("facility").last())
    )
    touched = {row["prison_number"] for row in episode_rows}
    updates = []
    for prison_number, facility_code in latest.iter_rows():
        if prison_number in touched:
            updates.append(
                Person(
                    pk=person_ids[prison_number], current_facility_id=facility_ids[facility_code]
                )
            )
    Person.objects.bulk_update(updates, ["current_facility"], batch_size=BATCH_SIZE)

    existing_events = set(
        OutcomeEvent.objects.filter(source_key__isnull=False).values_list("source_key", flat=True)
    )
    try:
        new_events = [
            OutcomeEvent(
                person_id=person_ids[row["prison_number"]],
                event_type=row["event_type"],
                event_date=row["event_date"],
                offence_date=row["offence_date"],
                source=row["source"],
                reference=_text(row["reference"]),
                source_key=row["event_key"],
            )
            for row in tables["outcome_events"].iter_rows(named=True)
            if row["event_key"] not in existing_events
        ]
    except KeyError as error:
        raise ExtractError(f"outcome_events: unknown person {error}") from None
    _bulk_create_checked(OutcomeEvent, new_events, "outcome_events")

    summary = LoadSummary(
        facilities=len(new_facilities),
        persons=len(new_persons),
        custody_episodes=len(new_episodes),
        movements=len(new_movements),
        outcome_events=len(new_events),
    )
    if summary.total:
        audit_record(
            actor=actor,
            actor_label=actor_label,
            action="extract.load",
            target=None,
            object_type="extract",
            object_id=actor_label,
            after=summary.__dict__,
        )
    return summary


def _bulk_create_checked(model, objects, table: str) -> None:
    try:
        with transaction.atomic():
            model.objects.bulk_create(objects, batch_size=BATCH_SIZE)
    except IntegrityError as error:
        raise ExtractError(f"{table}: a row breaks a rule of the records ({error})") from None

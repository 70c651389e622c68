"""Small fixtures for outcome import tests: released persons and extract files."""

from __future__ import annotations

import csv
import datetime
import io
import json

from django.core.management import call_command

from conftest import admission_data, person_data
from whatworks.records.services import custody_release, person_admit

HEADER = [
    "first_name",
    "last_name",
    "date_of_birth",
    "national_id",
    "prison_number",
    "event_type",
    "event_date",
    "offence_date",
    "source_reference",
]
RELEASED_ON = datetime.date(2024, 6, 1)


def released_person(facility, *, number, national_id, first, last, birth, released=RELEASED_ON):
    episode = person_admit(
        actor=None,
        person_data=person_data(
            prison_number=number,
            national_id=national_id,
            first_names=first,
            last_names=last,
            date_of_birth=birth,
        ),
        facility=facility,
        admission_data=admission_data(),
    )
    custody_release(
        actor=None, episode=episode, release_date=released, release_type="end_of_sentence"
    )
    return episode.person


def row(**overrides) -> dict:
    data = {
        "first_name": "José Ignacio",
        "last_name": "Muñoz Rojas",
        "date_of_birth": "1990-04-12",
        "national_id": "11111111-1",
        "prison_number": "",
        "event_type": "rearrest",
        "event_date": "2025-02-03",
        "offence_date": "2025-02-01",
        "source_reference": "PDI-0001",
    }
    data.update(overrides)
    return data


def linked_row(**overrides):
    return row(source_reference="PDI-LINK", **overrides)


def review_row(national_id="11111111-1", **overrides):
    """The right national ID but nothing else in common: the linkage asks a person."""
    data = {
        "first_name": "Pedro",
        "last_name": "Soto Vera",
        "date_of_birth": "1970-01-01",
        "national_id": national_id,
        "event_date": "2025-03-10",
        "offence_date": "",
        "source_reference": f"PDI-REVIEW-{national_id}",
    }
    data.update(overrides)
    return row(**data)


def unmatched_row(**overrides):
    data = {
        "first_name": "Zacarías",
        "last_name": "Quiroga Ulloa",
        "date_of_birth": "1961-11-11",
        "national_id": "99999999-9",
        "source_reference": "PDI-NONE",
    }
    data.update(overrides)
    return row(**data)


def write_csv(path, rows, *, header=HEADER, encoding="utf-8", delimiter=","):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, delimiter=delimiter, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def run_import(path, *args) -> dict:
    """The command's JSON output."""
    out = io.StringIO()
    call_command("import", "outcomes", str(path), "--format", "json", *args, stdout=out)
    return json.loads(out.getvalue())


def link_review_for(person, *, event_date, source_reference, file_name=None, **fields):
    """An extract row waiting in the review queue with ``person`` as its candidate, without
    running an import; ``fields`` overrides or adds LinkReview fields (status, event...)."""
    from whatworks.outcomes.models import LinkReview, OutcomeImport

    outcome_import = OutcomeImport.objects.create(
        file_name=file_name or f"extract-{person.pk}.csv",
        sha256=f"{person.pk:064d}",
        link_threshold=0.9,
        review_threshold=0.5,
        rows=1,
        review=1,
    )
    values = {
        "outcome_import": outcome_import,
        "row_index": 0,
        "first_name": person.first_names,
        "last_name": person.last_names,
        "date_of_birth": person.date_of_birth,
        "prison_number": person.prison_number,
        "event_type": "rearrest",
        "event_date": event_date,
        "source": "police",
        "source_reference": source_reference,
        "candidate": person,
        "probability": 0.7,
        "candidates": [{"person_id": person.pk, "probability": 0.7}],
        **fields,
    }
    return LinkReview.objects.create(**values)

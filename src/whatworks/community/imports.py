"""Loading the simulator's ``followup_contacts`` table (docs/simulator.md §5d), all or
nothing.

Contacts are keyed by (release, month), so loading the same extract again adds nothing.
Persons and custody episodes must be loaded first. A bad row stops the whole load with a
message naming the table, the row and the field.
"""

from __future__ import annotations

import polars as pl
from django.db import transaction

from whatworks.audit.services import audit_record
from whatworks.community.models import (
    ContactMode,
    EmploymentStatus,
    FollowUpContact,
    FollowUpStatus,
    HousingStatus,
    SubstanceUse,
    TreatmentContinuity,
)
from whatworks.records.models import CustodyEpisode

TABLE = "followup_contacts"
REQUIRED = ("episode_key", "month", "due_date", "status")
BATCH_SIZE = 1000
CODED = {
    "housing_status": HousingStatus,
    "employment_status": EmploymentStatus,
    "substance_use": SubstanceUse,
    "treatment_continuity": TreatmentContinuity,
}


class FollowUpImportError(Exception):
    """The table cannot be loaded; the message names the table, row and field."""


def _fail(row: int, field: str, message: str) -> FollowUpImportError:
    # Row numbers count the header as row 1, as in a spreadsheet of the CSV file.
    return FollowUpImportError(f"{TABLE}: row {row}: {field}: {message}")


def _contact(row_number: int, row: dict, episode: tuple[int, int]) -> FollowUpContact:
    episode_id, person_id = episode
    status = row["status"]
    if status not in (FollowUpStatus.DONE, FollowUpStatus.MISSED):
        raise _fail(row_number, "status", f"{status!r} is not done or missed")
    contact = FollowUpContact(
        person_id=person_id,
        episode_id=episode_id,
        month=int(row["month"]),
        due_date=row["due_date"],
        status=status,
    )
    if status == FollowUpStatus.MISSED:
        return contact
    if row.get("contact_date") is None:
        raise _fail(row_number, "contact_date", "a done contact needs its date")
    contact.contact_date = row["contact_date"]
    # The simulator does not model how the contact was made.
    contact.contact_mode = ContactMode.IN_PERSON
    for field, choices in CODED.items():
        value = row.get(field) or "unknown"
        if value not in choices.values:
            raise _fail(row_number, field, f"{value!r} is not one of {', '.join(choices.values)}")
        setattr(contact, field, value)
    justice = row.get("justice_contact")
    contact.justice_contact = "unknown" if justice is None else ("yes" if justice else "no")
    return contact


@transaction.atomic
def followups_load(*, table: pl.DataFrame, actor_label: str) -> int:
    """Load the followup_contacts table; returns how many contacts were added."""
    missing = [column for column in REQUIRED if column not in table.columns]
    if missing:
        raise FollowUpImportError(f"{TABLE}: missing column(s) {', '.join(missing)}")
    episodes = {
        key: (pk, person_id)
        for key, pk, person_id in CustodyEpisode.objects.exclude(source_key=None).values_list(
            "source_key", "id", "person_id"
        )
    }
    existing = set(FollowUpContact.objects.values_list("episode_id", "month"))
    new: list[FollowUpContact] = []
    for row_number, row in enumerate(table.iter_rows(named=True), start=2):
        episode = episodes.get(row["episode_key"])
        if episode is None:
            raise _fail(row_number, "episode_key", f"unknown release {row['episode_key']!r}")
        if (episode[0], int(row["month"])) in existing:
            continue
        new.append(_contact(row_number, row, episode))
    FollowUpContact.objects.bulk_create(new, batch_size=BATCH_SIZE)
    if new:
        audit_record(
            actor=None,
            action="community.followup_import",
            target=None,
            object_type="community.followupcontact",
            object_id=TABLE,
            after={"rows": len(new)},
            actor_label=actor_label,
        )
    return len(new)

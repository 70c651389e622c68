"""Loading a treatment extract (the simulator's programme tables), all or nothing.

Tables: ``programmes``, ``programme_groups``, ``programme_sessions``, ``programme_referrals``,
``programme_attendance`` and optionally ``disciplinary_faults`` (columns in
docs/simulator.md). Programmes are keyed by code and the other rows by their keys (stored as
``import_key``), so loading the same extract again adds nothing. Persons and custody
episodes must be loaded first (``records.imports.extract_load``). A bad row stops the whole
load with a message naming the table, the row and the field.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import polars as pl
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from whatworks.audit.services import audit_record
from whatworks.records.models import CustodyEpisode, Facility
from whatworks.records.selectors import person_ids_by_prison_number
from whatworks.treatment import services
from whatworks.treatment.models import (
    Attendance,
    AttendanceStatus,
    DisciplinaryFault,
    EndReason,
    ExcuseReason,
    GroupSession,
    GroupStatus,
    Programme,
    ProgrammeGroup,
    Referral,
    ReferralStatus,
    ReferralStatusChange,
)

BATCH_SIZE = 1000
REQUIRED = {
    "programmes": ("code", "name", "programme_type", "dosage_hours", "dosage_sessions"),
    "programme_groups": ("group_key", "programme_code", "facility", "start_date", "capacity"),
    "programme_sessions": ("session_key", "group_key", "session_date", "start_time", "hours"),
    "programme_referrals": (
        "referral_key",
        "prison_number",
        "programme_code",
        "referral_date",
        "status",
        "status_date",
    ),
    "programme_attendance": ("referral_key", "session_key", "status", "hours"),
}
# The simulator's referrals start at the waitlist; the app's history starts at the referral.
_PATH_TO = {
    "not_suitable": ["referred", "not_suitable"],
    "waitlisted": ["referred", "assessed_suitable", "waitlisted"],
    "allocated": ["referred", "assessed_suitable", "waitlisted", "allocated"],
    "in_progress": ["referred", "assessed_suitable", "waitlisted", "allocated", "in_progress"],
    "completed": [
        "referred",
        "assessed_suitable",
        "waitlisted",
        "allocated",
        "in_progress",
        "completed",
    ],
}


class TreatmentImportError(Exception):
    """The extract cannot be loaded; the message names the table, row and field."""


@dataclass(frozen=True)
class TreatmentLoadSummary:
    programmes: int
    groups: int
    sessions: int
    referrals: int
    attendance: int
    faults: int

    @property
    def total(self) -> int:
        return (
            self.programmes
            + self.groups
            + self.sessions
            + self.referrals
            + self.attendance
            + self.faults
        )


def _fail(table: str, row: int, field: str, message: str) -> TreatmentImportError:
    # Row numbers count the header as row 1, as in a spreadsheet of the CSV file.
    return TreatmentImportError(f"{table}: row {row}: {field}: {message}")


def _split(value) -> list[str]:
    return [part for part in ("" if value is None else str(value)).split(";") if part]


def _rows(tables: dict[str, pl.DataFrame], name: str):
    return enumerate(tables[name].iter_rows(named=True), start=2)


def _check_tables(tables: dict[str, pl.DataFrame]) -> None:
    for name, columns in REQUIRED.items():
        if name not in tables:
            raise TreatmentImportError(f"{name}: table is missing")
        missing = [column for column in columns if column not in tables[name].columns]
        if missing:
            raise TreatmentImportError(f"{name}: missing column(s) {', '.join(missing)}")


def _bulk(model, objects, table: str) -> list:
    try:
        with transaction.atomic():
            return model.objects.bulk_create(objects, batch_size=BATCH_SIZE)
    except IntegrityError as error:
        raise TreatmentImportError(
            f"{table}: a row breaks a rule of the records ({error})"
        ) from None


def _insert_many(model, rows: list[dict], table: str) -> None:
    """Insert rows already validated here, with one prepared statement (``executemany``).
    Values must be ready for the driver: ints, strings, booleans, Decimal, and datetimes
    already prepared by the field (``_db_datetime``).

    The demo loads about 90,000 attendance rows; the ORM's ``bulk_create`` spends most of its
    time preparing each value, ``executemany`` a tenth of it. Constraints still apply."""
    if not rows:
        return
    fields = [model._meta.get_field(name) for name in rows[0]]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    table_name = connection.ops.quote_name(model._meta.db_table)
    # Names come from the model's metadata, never from the extract; values are parameters.
    sql = f"INSERT INTO {table_name} ({columns}) VALUES ({marks})"  # noqa: S608
    values = [[row[field.name] for field in fields] for row in rows]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, values)
    except IntegrityError as error:
        raise TreatmentImportError(
            f"{table}: a row breaks a rule of the records ({error})"
        ) from None


def _programmes(tables, facility_ids) -> tuple[dict[str, int], int]:
    existing = dict(Programme.objects.values_list("code", "id"))
    offered_at: dict[str, set[int]] = defaultdict(set)
    for _row, group in _rows(tables, "programme_groups"):
        if group["facility"] in facility_ids:
            offered_at[group["programme_code"]].add(facility_ids[group["facility"]])
    added = 0
    for row_number, row in _rows(tables, "programmes"):
        code = str(row["code"])
        if code in existing:
            continue
        data = {
            "code": code,
            "name": row["name"],
            "programme_type": row["programme_type"],
            "target_needs": _split(row.get("target_needs")),
            "eligible_sexes": _split(row.get("eligible_sexes")),
            "min_age": row.get("min_age"),
            "max_age": row.get("max_age"),
            "eligible_risk_bands": _split(row.get("eligible_risk_bands")),
            "min_literacy": row.get("min_literacy") or "",
            "min_education": row.get("min_education") or "",
            "max_education": row.get("max_education") or "",
            "dosage_hours": row["dosage_hours"],
            "dosage_sessions": row["dosage_sessions"],
            "session_hours": row.get("session_hours") or 0,
            "group_capacity": row.get("group_capacity") or 1,
            "setting": row.get("setting") or "facility",
            "provider": row.get("provider") or "",
            "languages": _split(row.get("languages")),
            "adaptations": _split(row.get("adaptations")),
            "evidence_rating": row.get("evidence_rating") or "not_rated",
            "evidence_source": row.get("evidence_source") or "",
            "remission_kind": row.get("remission_kind") or "none",
            "completes_school_level": bool(row.get("completes_school_level")),
        }
        try:
            programme = services.programme_save(
                actor=None,
                data=data,
                facilities=list(Facility.objects.filter(pk__in=offered_at.get(code, ()))),
            )
        except ValidationError as error:
            field, messages = next(iter(error.message_dict.items()))
            raise _fail("programmes", row_number, field, "; ".join(messages)) from None
        existing[code] = programme.pk
        added += 1
    return existing, added


def _groups(tables, programme_ids, facility_ids, today) -> tuple[dict[str, ProgrammeGroup], int]:
    existing = {group.import_key: group for group in ProgrammeGroup.objects.exclude(import_key="")}
    new = []
    for row_number, row in _rows(tables, "programme_groups"):
        key = str(row["group_key"])
        if key in existing:
            continue
        if row["programme_code"] not in programme_ids:
            raise _fail("programme_groups", row_number, "programme_code", "unknown programme")
        facility = row.get("facility")
        if facility and facility not in facility_ids:
            raise _fail("programme_groups", row_number, "facility", f"unknown facility {facility}")
        start, end = row["start_date"], row.get("end_date")
        if end is not None and end < today:
            status = GroupStatus.FINISHED
        elif start <= today:
            status = GroupStatus.RUNNING
        else:
            status = GroupStatus.PLANNED
        new.append(
            ProgrammeGroup(
                programme_id=programme_ids[row["programme_code"]],
                facility_id=facility_ids.get(facility) if facility else None,
                name=key,
                capacity=row["capacity"],
                start_date=start,
                end_date=end,
                status=status,
                import_key=key,
            )
        )
    for group in _bulk(ProgrammeGroup, new, "programme_groups"):
        existing[group.import_key] = group
    return existing, len(new)


def _sessions(tables, groups) -> tuple[dict[str, int], int]:
    existing = dict(GroupSession.objects.exclude(import_key="").values_list("import_key", "id"))
    new = []
    for row_number, row in _rows(tables, "programme_sessions"):
        key = str(row["session_key"])
        if key in existing:
            continue
        group = groups.get(str(row["group_key"]))
        if group is None:
            raise _fail("programme_sessions", row_number, "group_key", "unknown group")
        try:
            start = datetime.time.fromisoformat(str(row["start_time"]))
        except ValueError:
            raise _fail(
                "programme_sessions", row_number, "start_time", "not a time (HH:MM)"
            ) from None
        new.append(
            {
                "group": group.pk,
                "session_date": connection.ops.adapt_datefield_value(row["session_date"]),
                "start_time": connection.ops.adapt_timefield_value(start),
                "hours": Decimal(str(row["hours"])),
                "room": "",
                "cancelled": False,
                "import_key": key,
            }
        )
    _insert_many(GroupSession, new, "programme_sessions")
    existing = dict(GroupSession.objects.exclude(import_key="").values_list("import_key", "id"))
    return existing, len(new)


def _referrals(tables, programme_ids, facility_ids, groups) -> tuple[dict[str, int], int]:
    existing = dict(Referral.objects.exclude(import_key="").values_list("import_key", "id"))
    rows = [
        (number, row)
        for number, row in _rows(tables, "programme_referrals")
        if str(row["referral_key"]) not in existing
    ]
    persons = person_ids_by_prison_number({str(row["prison_number"]) for _n, row in rows})
    episodes = dict(
        CustodyEpisode.objects.filter(
            source_key__in={str(row.get("episode_key")) for _n, row in rows}
        ).values_list("source_key", "id")
    )
    new, histories = [], []
    for row_number, row in rows:
        status = row["status"]
        if status not in _PATH_TO and status != ReferralStatus.NOT_COMPLETED:
            raise _fail("programme_referrals", row_number, "status", f"unknown status {status}")
        person_id = persons.get(str(row["prison_number"]))
        if person_id is None:
            raise _fail("programme_referrals", row_number, "prison_number", "unknown person")
        if row["programme_code"] not in programme_ids:
            raise _fail("programme_referrals", row_number, "programme_code", "unknown programme")
        end_reason = row.get("end_reason") or ""
        if status == ReferralStatus.NOT_COMPLETED and end_reason not in EndReason.values:
            raise _fail("programme_referrals", row_number, "end_reason", f"unknown {end_reason!r}")
        group = groups.get(str(row.get("group_key"))) if row.get("group_key") else None
        if status in ("allocated", "in_progress") and group is None:
            raise _fail(
                "programme_referrals", row_number, "group_key", "an allocation needs a group"
            )
        start, end = row.get("start_date"), row.get("end_date")
        new.append(
            Referral(
                person_id=person_id,
                episode_id=episodes.get(str(row.get("episode_key"))),
                programme_id=programme_ids[row["programme_code"]],
                facility_id=facility_ids.get(row.get("facility")),
                status=status,
                status_date=row["status_date"],
                referral_date=row["referral_date"],
                waitlisted_on=row["referral_date"] if status != "not_suitable" else None,
                group=group,
                allocated_on=start if group else None,
                started_on=start
                if status in ("in_progress", "completed", "not_completed") and group
                else None,
                ended_on=end if status in ("completed", "not_completed", "not_suitable") else None,
                end_reason=end_reason if status == ReferralStatus.NOT_COMPLETED else "",
                import_key=str(row["referral_key"]),
            )
        )
        histories.append(_history(row, status, group is not None))
    created = _bulk(Referral, new, "programme_referrals")
    changed_at = _db_datetime(ReferralStatusChange, "changed_at", timezone.now())
    changes = [
        {
            "referral": referral.pk,
            "from_status": from_status,
            "to_status": to_status,
            "effective_date": connection.ops.adapt_datefield_value(day),
            "days_in_previous": days,
            "reason": "",
            "changed_at": changed_at,
        }
        for referral, history in zip(created, histories, strict=True)
        for from_status, to_status, day, days in history
    ]
    _insert_many(ReferralStatusChange, changes, "programme_referrals")
    existing.update({referral.import_key: referral.pk for referral in created})
    return existing, len(created)


def _history(row, status: str, has_group: bool) -> list[tuple[str, str, datetime.date, int]]:
    """The status changes a simulated referral went through, with their dates."""
    if status == ReferralStatus.NOT_COMPLETED:
        path = (
            ["referred", "assessed_suitable", "waitlisted", "allocated", "in_progress"]
            if has_group
            else ["referred", "assessed_suitable", "waitlisted"]
        ) + ["not_completed"]
    else:
        path = _PATH_TO[status]
    referred = row["referral_date"]
    start = row.get("start_date") or row["status_date"]
    end = row.get("end_date") or row["status_date"]
    dates = {
        "referred": referred,
        "assessed_suitable": referred,
        "waitlisted": referred,
        "not_suitable": row["status_date"],
        "allocated": start,
        "in_progress": start,
        "completed": end,
        "not_completed": end,
    }
    history, previous = [], None
    for step in path:
        day = max(dates[step], previous[1]) if previous else dates[step]
        history.append(
            (
                previous[0] if previous else "",
                step,
                day,
                (day - previous[1]).days if previous else 0,
            )
        )
        previous = (step, day)
    return history


def _db_datetime(model, name: str, value: datetime.datetime):
    return model._meta.get_field(name).get_db_prep_save(value, connection)


def _attendance(tables, referrals, sessions) -> int:
    now = _db_datetime(Attendance, "recorded_at", timezone.now())
    existing = set(
        Attendance.objects.filter(is_current=True).values_list("referral_id", "session_id")
    )
    new = []
    for row_number, row in _rows(tables, "programme_attendance"):
        referral_id = referrals.get(str(row["referral_key"]))
        session_id = sessions.get(str(row["session_key"]))
        if referral_id is None:
            raise _fail("programme_attendance", row_number, "referral_key", "unknown referral")
        if session_id is None:
            raise _fail("programme_attendance", row_number, "session_key", "unknown session")
        if (referral_id, session_id) in existing:
            continue
        status = row["status"]
        if status not in AttendanceStatus.values:
            raise _fail("programme_attendance", row_number, "status", f"unknown {status!r}")
        excuse = row.get("excuse_reason") or ""
        if status == AttendanceStatus.EXCUSED and excuse not in ExcuseReason.values:
            raise _fail("programme_attendance", row_number, "excuse_reason", "needs a reason")
        new.append(
            {
                "referral": referral_id,
                "session": session_id,
                "status": status,
                "excuse_reason": excuse if status == AttendanceStatus.EXCUSED else "",
                "hours": Decimal(str(row["hours"] or 0)),
                "note": "",
                "is_current": True,
                "recorded_at": now,
            }
        )
        existing.add((referral_id, session_id))
    _insert_many(Attendance, new, "programme_attendance")
    return len(new)


def _faults(tables) -> int:
    if "disciplinary_faults" not in tables:
        return 0
    existing = set(
        DisciplinaryFault.objects.exclude(import_key="").values_list("import_key", flat=True)
    )
    table = tables["disciplinary_faults"]
    persons = person_ids_by_prison_number(table["prison_number"].unique().to_list())
    episodes = dict(CustodyEpisode.objects.exclude(source_key=None).values_list("source_key", "id"))
    new, seen = [], defaultdict(int)
    for row_number, row in _rows(tables, "disciplinary_faults"):
        base = f"{row['prison_number']}:{row['fault_date']}"
        seen[base] += 1
        key = f"{base}:{seen[base]}"
        if key in existing:
            continue
        person_id = persons.get(str(row["prison_number"]))
        if person_id is None:
            raise _fail("disciplinary_faults", row_number, "prison_number", "unknown person")
        new.append(
            DisciplinaryFault(
                person_id=person_id,
                episode_id=episodes.get(str(row.get("episode_key"))),
                fault_date=row["fault_date"],
                description=f"{row.get('severity') or 'serious'} disciplinary fault (imported)",
                revoked_fraction=str(row.get("revoked_fraction") or ""),
                import_key=key,
            )
        )
    _bulk(DisciplinaryFault, new, "disciplinary_faults")
    return len(new)


@transaction.atomic
def treatment_load(
    *, tables: dict[str, pl.DataFrame], actor_label: str, today: datetime.date
) -> TreatmentLoadSummary:
    """Load the programme tables of an extract; returns what was added."""
    _check_tables(tables)
    facility_ids = dict(Facility.objects.values_list("code", "id"))
    programme_ids, programmes = _programmes(tables, facility_ids)
    groups, group_count = _groups(tables, programme_ids, facility_ids, today)
    sessions, session_count = _sessions(tables, groups)
    referrals, referral_count = _referrals(tables, programme_ids, facility_ids, groups)
    summary = TreatmentLoadSummary(
        programmes=programmes,
        groups=group_count,
        sessions=session_count,
        referrals=referral_count,
        attendance=_attendance(tables, referrals, sessions),
        faults=_faults(tables),
    )
    if summary.total:
        audit_record(
            actor=None,
            actor_label=actor_label,
            action="treatment.import",
            target=None,
            object_type="treatment",
            object_id=actor_label,
            after=summary.__dict__,
        )
    return summary

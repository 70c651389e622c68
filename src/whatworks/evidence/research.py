"""The research extract: the only way record-level data leaves the service for research.

``research_extract_write(out=..., today=...)`` writes, into one folder, record-level tables
(CSV and Parquet, UTF-8) keyed only by pseudonyms, small-cell-safe aggregates and a
``manifest.json`` that says what every file and column holds, then records an audit event.
See docs/research-extract.md for what is in it, what is not and why.

Pseudonyms. A person is identified only by ``Person.research_id`` (a random pseudonym,
stable across extracts so that a research team can add later follow-up). A custody episode
is identified by ``episode_id``, a random token drawn afresh for every extract, so episodes
cannot be linked to the database or across extracts. No database ID, prison number,
national ID, name or free-text field is ever read into the frames written here: every query
below names the columns it takes.

Dates. Exact dates are quasi-identifiers (a release date and a facility can be matched to a
court record or a news story), but recidivism research needs exact intervals. So every date
of a person is written as a day number counted from the person's own anchor, the date of
their first admission. The anchor itself is never written, only its month (``anchor_month``
in persons.csv), so intervals between a person's dates are exact while their calendar
placement is known only to within that month. (Counting from the first of the month instead
would give the exact dates back: anchor_month plus the day number.) Dates of birth are cut
to the year.

Small categories. ``sex``, ``gender``, ``nationality`` and ``main_language`` values held
by fewer than ``SUPPRESSION.min_count`` persons in the extract are written as ``"other"``:
a rare gender, nationality or language in one facility can single a person out. The list
of languages is not written, only how many there are.
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from whatworks.analytics.recidivism import Suppression
from whatworks.assessments.models import Assessment, AssessmentStatus
from whatworks.audit.services import audit_record
from whatworks.community.models import FollowUpContact, ProviderReferral
from whatworks.drugtests.models import DrugTest
from whatworks.records.models import CustodyEpisode, OutcomeEvent, Person
from whatworks.reintegration.models import Arrangement
from whatworks.treatment.models import AttendanceStatus, Referral, ReferralStatus

# The evidence dashboard's rule (treatment.selectors.SUPPRESSION, analytics.recidivism):
# counts from 1 to 9 are withheld; 0 is shown.
SUPPRESSION = Suppression(min_count=10)
OTHER = "other"
FORMAT_VERSION = 1
AUDIT_ACTION = "research_extract.create"

# Columns no file may ever hold (the tests check every written file against this list).
FORBIDDEN_COLUMNS = frozenset(
    {
        "id",
        "pk",
        "person_id",
        "prison_number",
        "national_id",
        "first_names",
        "last_names",
        "name",
        "date_of_birth",
        "languages",
        "support_needs",
        "support_needs_notes",
        "notes",
        "note",
        "description",
        "reason",
        "override_reason",
        "correction_reason",
        "agreement_notes",
        "outcome",
        "reference",
        "decision_reference",
        "lab_reference",
        "seal_number",
        "address",
        "phone",
        "email",
        "contact_person",
        "provider_name",
        "recipient_name",
        "answers",
        "source_key",
        "import_key",
    }
)


def _col(name: str, dtype, definition: str) -> tuple[str, Any, str]:
    return (name, dtype, definition)


RID = _col("research_id", pl.String, "The person's research pseudonym (random, no meaning).")
EPISODE = _col(
    "episode_id",
    pl.String,
    "Pseudonym of the custody episode, drawn afresh for this extract; links the tables of "
    "this extract only. Empty when the record belongs to no episode.",
)


def _day(name: str, what: str) -> tuple[str, Any, str]:
    return _col(
        name,
        pl.Int32,
        f"{what}, as days after the person's first admission (see persons.anchor_month).",
    )


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[tuple[str, Any, str], ...]

    @property
    def schema(self) -> dict[str, Any]:
        return {name: dtype for name, dtype, _ in self.columns}


TABLES: tuple[Table, ...] = (
    Table(
        "persons",
        "One row per person with at least one custody episode.",
        (
            RID,
            _col("year_of_birth", pl.Int32, "Year of birth (the full date is not exported)."),
            _col(
                "sex",
                pl.String,
                "Sex (code); 'other' when fewer than 10 persons in the extract share it.",
            ),
            _col(
                "gender",
                pl.String,
                "Gender (code); 'other' when fewer than 10 persons in the extract share it.",
            ),
            _col(
                "nationality",
                pl.String,
                "ISO 3166 country code; 'other' when fewer than 10 persons in the extract "
                "share it.",
            ),
            _col(
                "main_language",
                pl.String,
                "ISO 639 code of the first language listed; 'other' when fewer than 10 "
                "persons in the extract share it; empty when none is recorded.",
            ),
            _col("language_count", pl.Int32, "How many languages are recorded."),
            _col("literacy", pl.String, "Literacy (code)."),
            _col("education_level", pl.String, "Highest education level (code)."),
            _col(
                "anchor_month",
                pl.String,
                "YYYY-MM of the person's first admission. Day 0 of every *_day column of this "
                "person is the (unwritten) date of that admission, somewhere in this month.",
            ),
        ),
    ),
    Table(
        "custody_episodes",
        "One row per custody episode (admission to release, or still in custody).",
        (
            RID,
            EPISODE,
            _col("admission_facility", pl.String, "Code of the admitting facility."),
            _col("facility", pl.String, "Code of the current or releasing facility."),
            _col("facility_type", pl.String, "Type of that facility (code)."),
            _day("admission_day", "Admission date"),
            _col("admission_type", pl.String, "Admission type (code)."),
            _col("legal_status", pl.String, "Legal status (code)."),
            _col("main_offence_category", pl.String, "Main offence category (code)."),
            _col("sentence_length_days", pl.Int32, "Sentence length in days, when sentenced."),
            _day("release_day", "Release date (empty while in custody)"),
            _col("release_type", pl.String, "Release type (code), empty while in custody."),
            _col("days_in_custody", pl.Int32, "Release date minus admission date, in days."),
        ),
    ),
    Table(
        "outcome_events",
        "Reoffending and justice events (police, courts, prison service) of the persons.",
        (
            RID,
            _col("event_type", pl.String, "Event type (code)."),
            _day("event_day", "Event date"),
            _day("offence_day", "Offence date, when known"),
            _col("source", pl.String, "Source of the record (code)."),
        ),
    ),
    Table(
        "assessments",
        "Completed assessments: results only, never the answers.",
        (
            RID,
            EPISODE,
            _col("instrument", pl.String, "Instrument slug."),
            _col("instrument_version", pl.String, "Instrument version."),
            _day("assessed_day", "Assessment date"),
            _col("total", pl.Float64, "Total score."),
            _col("band", pl.String, "Band computed from the total."),
            _col("effective_band", pl.String, "Band acted on: the approved override, else band."),
            _col("overridden", pl.Boolean, "Whether an override was approved."),
            _col("domain_scores", pl.String, "Domain scores as a JSON object {domain: score}."),
        ),
    ),
    Table(
        "programme_referrals",
        "Referrals to programmes, their status and the hours attended.",
        (
            RID,
            EPISODE,
            _col("programme", pl.String, "Programme code."),
            _col("programme_type", pl.String, "Programme type (code)."),
            _col("facility", pl.String, "Code of the facility delivering it."),
            _col("status", pl.String, "Current status (code)."),
            _day("referral_day", "Referral date"),
            _day("started_day", "Start date"),
            _day("ended_day", "End date"),
            _col("end_reason", pl.String, "Why it ended (code)."),
            _col("completed", pl.Boolean, "Whether the status is completed."),
            _col("sessions_attended", pl.Int32, "Sessions attended (present or late)."),
            _col("hours_attended", pl.Float64, "Hours attended (current attendance records)."),
        ),
    ),
    Table(
        "drug_tests",
        "Drug tests (the current record of each, corrections applied): date and outcome only.",
        (
            RID,
            EPISODE,
            _day("test_day", "Test date"),
            _col("test_outcome", pl.String, "Test outcome (code)."),
        ),
    ),
    Table(
        "release_arrangements",
        "Practical arrangements for release (ID, bank account, housing, work ...): coded "
        "kind and status only.",
        (
            RID,
            EPISODE,
            _col("kind", pl.String, "Arrangement kind (code)."),
            _col("status", pl.String, "Status (code)."),
            _day("confirmed_day", "Date confirmed"),
            _day("starts_day", "Date it starts or takes place"),
        ),
    ),
    Table(
        "community_referrals",
        "Referrals to community providers after release: coded fields only.",
        (
            RID,
            EPISODE,
            _col("pathway", pl.String, "Pathway (code)."),
            _col("provider_kind", pl.String, "Kind of provider (code), never its name."),
            _day("referred_day", "Referral date"),
            _col("status", pl.String, "Status (code)."),
            _col("outcome_code", pl.String, "Outcome (code)."),
            _day("outcome_day", "Outcome date"),
        ),
    ),
    Table(
        "follow_ups",
        "Post-release follow-up contacts (months 1, 3, 6, 12 ...): coded outcomes only.",
        (
            RID,
            EPISODE,
            _col("month", pl.Int32, "Months after release the contact is scheduled for."),
            _col("status", pl.String, "Contact status (code)."),
            _day("contact_day", "Contact date"),
            _col("contact_mode", pl.String, "Contact mode (code)."),
            _col("housing_status", pl.String, "Housing (code)."),
            _col("employment_status", pl.String, "Employment (code)."),
            _col("substance_use", pl.String, "Substance use (code)."),
            _col("treatment_continuity", pl.String, "Treatment continuity (code)."),
            _col("justice_contact", pl.String, "Justice contact (code)."),
        ),
    ),
)

AGGREGATE_COLUMNS = (
    _col("measure", pl.String, "What is counted: admissions, releases or programme_completions."),
    _col("facility", pl.String, "Facility code."),
    _col("year", pl.Int32, "Calendar year of the admission, release or completion (exact)."),
    _col("sex", pl.String, "Sex (code)."),
    _col("count", pl.Int64, "The count; empty when suppressed."),
    _col("suppressed", pl.Boolean, "True when the count was 1 to 9 and is withheld."),
)
AGGREGATES = Table(
    "aggregates",
    "Counts by measure × facility × year × sex with small-cell suppression; safe to publish "
    "on their own. Only non-empty cells are listed; a missing combination is a count of 0.",
    AGGREGATE_COLUMNS,
)

REMOVED = (
    "Names, prison numbers, national IDs, database IDs and import keys are not exported; "
    "persons are identified by research_id and episodes by a pseudonym drawn for this "
    "extract only. Dates of birth are cut to the year. Every other date is written as days "
    "after the person's first admission, whose date is not written (only its month), so "
    "intervals are exact but calendar dates are known "
    "only to the month of first admission. No free text is exported: notes, descriptions, "
    "reasons (overrides, corrections, status changes, movements), goals, plan steps, "
    "addresses, provider names and contacts, outcome notes, laboratory and decision "
    "references, seal numbers. Assessment answers (of any instrument, including the "
    "health instruments), assessment needs and strengths, drug-test substance results, "
    "health records, disability and support needs, disciplinary faults and the list of "
    "languages are not exported. Sexes, genders, nationalities and main languages shared by "
    "fewer than 10 persons are written as 'other'."
)


def _token() -> str:
    return "E" + secrets.token_hex(6)


class _Dates:
    """Turns a person's dates into days after their anchor (the date of their first
    admission)."""

    def __init__(self, anchors: dict[str, datetime.date]):
        self.anchors = anchors

    def __call__(self, research_id: str, date: datetime.date | None) -> int | None:
        anchor = self.anchors.get(research_id)
        if date is None or anchor is None:
            return None
        return (date - anchor).days


def _frame(table: Table, rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=table.schema, orient="row")


def _rare_to_other(values: list[str | None]) -> list[str | None]:
    counts = Counter(value for value in values if value)
    return [
        value if not value or counts[value] >= SUPPRESSION.min_count else OTHER for value in values
    ]


def _persons_and_episodes() -> tuple[dict[str, pl.DataFrame], _Dates, dict[int, str]]:
    episode_rows = list(
        CustodyEpisode.objects.order_by("person__research_id", "admission_date", "pk").values_list(
            "pk",
            "person__research_id",
            "admission_facility__code",
            "facility__code",
            "facility__facility_type",
            "admission_date",
            "admission_type",
            "legal_status",
            "main_offence_category",
            "sentence_length_days",
            "release_date",
            "release_type",
        )
    )
    anchors: dict[str, datetime.date] = {}
    for row in episode_rows:
        rid, admitted = row[1], row[5]
        if rid not in anchors or admitted < anchors[rid]:
            anchors[rid] = admitted
    day = _Dates(anchors)
    episode_ids: dict[int, str] = {}
    episodes = []
    for (
        pk,
        rid,
        admit_fac,
        fac,
        fac_type,
        admitted,
        a_type,
        legal,
        offence,
        length,
        rel,
        r_type,
    ) in episode_rows:
        token = episode_ids.setdefault(pk, _token())
        episodes.append(
            (
                rid,
                token,
                admit_fac,
                fac,
                fac_type,
                day(rid, admitted),
                a_type,
                legal,
                offence,
                length,
                day(rid, rel),
                r_type or None,
                (rel - admitted).days if rel else None,
            )
        )
    person_rows = list(
        Person.objects.filter(custody_episodes__isnull=False)
        .distinct()
        .order_by("research_id")
        .values_list(
            "research_id",
            "date_of_birth",
            "sex",
            "gender",
            "nationality",
            "languages",
            "literacy",
            "education_level",
        )
    )
    sexes = _rare_to_other([row[2] for row in person_rows])
    genders = _rare_to_other([row[3] for row in person_rows])
    nationalities = _rare_to_other([row[4] for row in person_rows])
    main_languages = _rare_to_other(
        [(row[5][0] if isinstance(row[5], list) and row[5] else None) for row in person_rows]
    )
    persons = [
        (
            rid,
            birth.year,
            sexes[index],
            genders[index],
            nationalities[index],
            main_languages[index],
            len(languages) if isinstance(languages, list) else 0,
            literacy,
            education,
            f"{anchors[rid]:%Y-%m}",
        )
        for index, (rid, birth, _, _, _, languages, literacy, education) in enumerate(person_rows)
    ]
    frames = {
        "persons": _frame(TABLES[0], persons),
        "custody_episodes": _frame(TABLES[1], episodes),
    }
    return frames, day, episode_ids


def _record_tables(day: _Dates, episode_ids: dict[int, str]) -> dict[str, pl.DataFrame]:
    tables = {table.name: table for table in TABLES}
    frames: dict[str, pl.DataFrame] = {}

    def episode(pk: int | None) -> str | None:
        return episode_ids.get(pk) if pk is not None else None

    frames["outcome_events"] = _frame(
        tables["outcome_events"],
        [
            (rid, kind, day(rid, when), day(rid, offence), source)
            for rid, kind, when, offence, source in OutcomeEvent.objects.order_by(
                "person__research_id", "event_date", "pk"
            ).values_list(
                "person__research_id", "event_type", "event_date", "offence_date", "source"
            )
        ],
    )
    frames["assessments"] = _frame(
        tables["assessments"],
        [
            (
                rid,
                episode(ep),
                slug,
                version,
                day(rid, assessed),
                total,
                band or None,
                override or band or None,
                bool(override),
                json.dumps(domains or {}, sort_keys=True, ensure_ascii=False),
            )
            for rid, ep, slug, version, assessed, total, band, override, domains in (
                Assessment.objects.filter(status=AssessmentStatus.COMPLETED)
                .order_by("person__research_id", "assessed_on", "pk")
                .values_list(
                    "person__research_id",
                    "episode_id",
                    "instrument_version__slug",
                    "instrument_version__version",
                    "assessed_on",
                    "total",
                    "band",
                    "override_band",
                    "domain_scores",
                )
            )
        ],
    )
    present = Q(
        attendance__is_current=True,
        attendance__status__in=[AttendanceStatus.ATTENDED, AttendanceStatus.LATE],
    )
    referrals = (
        Referral.objects.annotate(
            sessions=Count("attendance", filter=present),
            hours=Sum("attendance__hours", filter=Q(attendance__is_current=True)),
        )
        .order_by("person__research_id", "referral_date", "pk")
        .values_list(
            "person__research_id",
            "episode_id",
            "programme__code",
            "programme__programme_type",
            "facility__code",
            "status",
            "referral_date",
            "started_on",
            "ended_on",
            "end_reason",
            "sessions",
            "hours",
        )
    )
    frames["programme_referrals"] = _frame(
        tables["programme_referrals"],
        [
            (
                rid,
                episode(ep),
                code,
                kind,
                facility,
                status,
                day(rid, referred),
                day(rid, started),
                day(rid, ended),
                end_reason or None,
                status == ReferralStatus.COMPLETED,
                sessions,
                float(hours or 0),
            )
            for rid, ep, code, kind, facility, status, referred, started, ended, end_reason, sessions, hours in referrals  # noqa: E501
        ],
    )
    frames["drug_tests"] = _frame(
        tables["drug_tests"],
        [
            (rid, episode(ep), day(rid, tested), outcome)
            for rid, ep, tested, outcome in DrugTest.objects.filter(is_current=True)
            .order_by("person__research_id", "test_date", "pk")
            .values_list("person__research_id", "episode_id", "test_date", "outcome")
        ],
    )
    frames["release_arrangements"] = _frame(
        tables["release_arrangements"],
        [
            (rid, episode(ep), kind, status, day(rid, confirmed), day(rid, starts))
            for rid, ep, kind, status, confirmed, starts in Arrangement.objects.order_by(
                "preparation__person__research_id", "pk"
            ).values_list(
                "preparation__person__research_id",
                "preparation__episode",
                "kind",
                "status",
                "confirmed_on",
                "starts_on",
            )
        ],
    )
    provider_referrals = ProviderReferral.objects.order_by(
        "person__research_id", "referred_on", "pk"
    ).values_list(
        "person__research_id",
        "episode_id",
        "pathway",
        "provider__kind",
        "referred_on",
        "status",
        "outcome_code",
        "outcome_date",
    )
    frames["community_referrals"] = _frame(
        tables["community_referrals"],
        [
            (
                rid,
                episode(ep),
                pathway,
                kind,
                day(rid, referred),
                status,
                code or None,
                day(rid, on),
            )
            for rid, ep, pathway, kind, referred, status, code, on in provider_referrals
        ],
    )
    frames["follow_ups"] = _frame(
        tables["follow_ups"],
        [
            (
                rid,
                episode(ep),
                month,
                status,
                day(rid, contacted),
                *(value or None for value in coded),
            )
            for rid, ep, month, status, contacted, *coded in FollowUpContact.objects.order_by(
                "person__research_id", "due_date", "pk"
            ).values_list(
                "person__research_id",
                "episode_id",
                "month",
                "status",
                "contact_date",
                "contact_mode",
                "housing_status",
                "employment_status",
                "substance_use",
                "treatment_continuity",
                "justice_contact",
            )
        ],
    )
    # Only persons of the persons table (everyone with a custody episode).
    known = pl.Series(list(day.anchors), dtype=pl.String)
    return {
        name: frame.filter(pl.col("research_id").is_in(known.implode()))
        for name, frame in frames.items()
    }


def suppress_counts(frame: pl.DataFrame, column: str = "count") -> pl.DataFrame:
    """Withhold counts from 1 to ``SUPPRESSION.min_count - 1``: the count becomes null and
    ``suppressed`` true. Zero and counts of 10 or more are shown as they are."""
    disclosive = (pl.col(column) > 0) & (pl.col(column) < SUPPRESSION.min_count)
    return frame.with_columns(
        pl.when(disclosive).then(None).otherwise(pl.col(column)).alias(column),
        disclosive.alias("suppressed"),
    )


def _aggregates() -> pl.DataFrame:
    """Exact-year counts, computed from the database rather than from the coarsened tables."""
    counts: dict[tuple[str, str, int, str], int] = defaultdict(int)
    for facility, admitted, sex in CustodyEpisode.objects.values_list(
        "admission_facility__code", "admission_date", "person__sex"
    ):
        counts[("admissions", facility, admitted.year, sex)] += 1
    for facility, released, sex in CustodyEpisode.objects.filter(
        release_date__isnull=False
    ).values_list("facility__code", "release_date", "person__sex"):
        counts[("releases", facility, released.year, sex)] += 1
    for facility, ended, sex in Referral.objects.filter(
        status=ReferralStatus.COMPLETED, ended_on__isnull=False
    ).values_list("facility__code", "ended_on", "person__sex"):
        counts[("programme_completions", facility, ended.year, sex)] += 1
    ordered = sorted(counts.items(), key=lambda item: tuple(str(part or "") for part in item[0]))
    rows = [(*key, count) for key, count in ordered]
    frame = pl.DataFrame(
        rows,
        schema={
            "measure": pl.String,
            "facility": pl.String,
            "year": pl.Int32,
            "sex": pl.String,
            "count": pl.Int64,
        },
        orient="row",
    )
    return suppress_counts(frame)


def build_research_extract() -> dict[str, pl.DataFrame]:
    """Every table of the extract, by name, as frames (nothing written)."""
    frames, day, episode_ids = _persons_and_episodes()
    frames.update(_record_tables(day, episode_ids))
    frames["aggregates"] = _aggregates()
    return frames


def _replace(path: Path, write) -> None:
    """Write through a temporary file in the same folder, then rename over ``path``, so a
    re-run overwrites cleanly and a crash never leaves half a file under the final name."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _manifest(frames: dict[str, pl.DataFrame], *, extract_id: str, today: datetime.date):
    files = {}
    for table in (*TABLES, AGGREGATES):
        files[table.name] = {
            "files": [f"{table.name}.csv", f"{table.name}.parquet"],
            "description": table.description,
            "rows": frames[table.name].height,
            "columns": [
                {"name": name, "type": str(dtype), "definition": definition}
                for name, dtype, definition in table.columns
            ],
        }
    return {
        "format_version": FORMAT_VERSION,
        "extract_id": extract_id,
        "extract_date": today.isoformat(),
        "created_at": timezone.now().isoformat(timespec="seconds"),
        "encoding": "UTF-8",
        "keys": "research_id (person) and episode_id (custody episode, this extract only)",
        "dates": (
            "Every *_day column counts days after the person's first admission, whose date "
            "is not written, only its month (persons.anchor_month): intervals are exact, "
            "calendar dates are known to "
            "the month of the first admission. Aggregates use exact calendar years."
        ),
        "suppression": {
            "rule": (
                f"Counts from 1 to {SUPPRESSION.min_count - 1} are replaced by an empty value "
                "and flagged suppressed=true; 0 and counts of "
                f"{SUPPRESSION.min_count} or more are shown. Same threshold as the evidence "
                "dashboard."
            ),
            "min_count": SUPPRESSION.min_count,
            "applies_to": ["aggregates"],
        },
        "removed": REMOVED,
        "handling": (
            "Record-level tables are pseudonymous personal data: keep them on the approved "
            "research environment, do not link them to other data without approval, and "
            "publish only aggregates that meet the suppression rule."
        ),
        "tables": files,
    }


def research_extract_write(*, out: Path, today: datetime.date) -> dict[str, int]:
    """Write the research extract into ``out`` and audit it; return the row count per table.

    Files of an earlier extract in ``out`` are replaced; the folder's other files are left
    alone.
    """
    out.mkdir(parents=True, exist_ok=True)
    extract_id = secrets.token_hex(8)
    with transaction.atomic():
        frames = build_research_extract()
        rows = {name: frame.height for name, frame in frames.items()}
        for name, frame in frames.items():
            _replace(out / f"{name}.csv", frame.write_csv)
            _replace(out / f"{name}.parquet", frame.write_parquet)
        manifest = _manifest(frames, extract_id=extract_id, today=today)
        _replace(
            out / "manifest.json",
            lambda path: path.write_text(
                json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            ),
        )
        audit_record(
            actor=None,
            action=AUDIT_ACTION,
            target=None,
            object_type="research_extract",
            object_id=extract_id,
            after={"extract_date": today.isoformat(), "rows": rows},
            actor_label="command",
        )
    return rows

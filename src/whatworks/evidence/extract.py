"""The evidence extract: the dashboard's releases and outcome events, for `whatworks recidivism`.

``evidence_extract_write(out=..., today=...)`` writes ``releases.csv`` and ``events.csv`` so
that ``whatworks recidivism --releases ... --events ...`` gives the evidence dashboard's
figures exactly (rates, intervals, breakdowns, exclusions and the Kaplan-Meier curve). See
docs/research-extract.md ("The evidence extract") for the columns and what is hidden.

Keys. ``release_id`` and ``person_id`` are random tokens drawn afresh for every extract: no
database ID and no research ID is written, so a row cannot be joined to the database, to the
research extract or to another evidence extract.

Dates. As in the research extract, the calendar date of a record is hidden while the
intervals between a person's dates stay exact: every date of a person (releases, the end of
follow-up, events, offences) is moved by the same number of days, drawn at random for that
person and not written. The recidivism definitions count in calendar years and months
(a window ends on the release's anniversary; 29 February plus a year is 28 February), so a
shift is only allowed where it cannot change that arithmetic: it keeps each release and the
end of follow-up inside its calendar month and on days 1 to 28 (a date on the 29th to 31st is
not moved, and neither is the rest of that person's timeline). For a date on days 1 to 28,
adding years and months never lands past the end of a month, so the interval from it to any
anniversary depends only on its month and year, which the shift keeps; every comparison the
engine makes is between dates of one person, which all move together. The figures are
therefore the same to the day, while the day of the month of a written date is not the real
one. ``cohort_year`` and ``age_band`` are computed from the real dates before the shift.

What the shift cannot hide: the end of follow-up is the extract's date for everyone, so
whoever knows that date can undo a person's shift. The extract's date is not written in the
files, but the files are pseudonymous personal data all the same and are handled like the
research extract.
"""

from __future__ import annotations

import datetime
import os
import secrets
import tempfile
from pathlib import Path

import polars as pl
from django.db import transaction

from whatworks.accounts.models import Role
from whatworks.audit.services import audit_record
from whatworks.evidence.selectors import release_frames
from whatworks.web.spreadsheets import safe_frame

AUDIT_ACTION = "evidence_extract.create"
# The last day of the month that exists in every month: dates on days 1..SAFE_LAST_DAY can move
# within their month without changing any calendar-year or calendar-month arithmetic.
SAFE_LAST_DAY = 28

RELEASE_COLUMNS = (
    "release_id",
    "person_id",
    "release_date",
    "release_type",
    "followup_end_date",
    "facility",
    "facility_type",
    "cohort_year",
    "sex",
    "age_band",
)
EVENT_COLUMNS = ("person_id", "event_type", "event_date", "offence_date")


class ServiceScope:
    """A stand-in viewer with an administrator's scope (every facility) for whole-service
    extracts run from the console, where whoever can run commands already holds the database.
    """

    is_authenticated = True
    is_active = True
    role = Role.ADMINISTRATOR


def shift_bounds(day: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """The shifts (in days) that keep a date with day of month ``day`` calendar-equivalent:
    within its month on days 1..28, or not at all for a date on the 29th to the 31st."""
    movable = day <= SAFE_LAST_DAY
    low = pl.when(movable).then(1 - day).otherwise(0)
    high = pl.when(movable).then(SAFE_LAST_DAY - day).otherwise(0)
    return low.cast(pl.Int32), high.cast(pl.Int32)


def _tokens(prefix: str, count: int) -> list[str]:
    tokens: set[str] = set()
    while len(tokens) < count:
        tokens.add(prefix + secrets.token_hex(6))
    ordered = list(tokens)
    secrets.SystemRandom().shuffle(ordered)
    return ordered


def pseudonymise(
    releases: pl.DataFrame, events: pl.DataFrame, *, today: datetime.date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The dashboard's (releases, events) frames with fresh random keys and shifted dates.

    Each person's dates move by one random number of days within the bounds of
    ``shift_bounds`` for every release of theirs and for ``today`` (the end of follow-up).
    """
    today_low, today_high = (
        (1 - today.day, SAFE_LAST_DAY - today.day) if today.day <= SAFE_LAST_DAY else (0, 0)
    )
    low, high = shift_bounds(pl.col("release_date").dt.day().cast(pl.Int32))
    bounds = (
        releases.group_by("person_id")
        .agg(low.max().alias("_low"), high.min().alias("_high"))
        .sort("person_id")
    )
    draw = secrets.SystemRandom()
    shifts = [
        draw.randint(max(lo, today_low), min(hi, today_high))
        for lo, hi in bounds.select("_low", "_high").iter_rows()
    ]
    people = bounds.select(
        "person_id",
        pl.Series("_shift", shifts, dtype=pl.Int32),
        pl.Series("_token", _tokens("PER-", bounds.height), dtype=pl.String),
    )

    def shifted(column: str) -> pl.Expr:
        return (pl.col(column) + pl.duration(days=pl.col("_shift"))).alias(column)

    new_releases = (
        releases.join(people, on="person_id", how="left")
        .with_columns(
            pl.Series("release_id", _tokens("REL-", releases.height), dtype=pl.String),
            pl.col("_token").alias("person_id"),
            shifted("release_date"),
            shifted("followup_end_date"),
        )
        .select(RELEASE_COLUMNS)
        .sort("release_id")
    )
    new_events = (
        events.join(people, on="person_id", how="inner")
        .with_columns(
            pl.col("_token").alias("person_id"),
            shifted("event_date"),
            shifted("offence_date"),
        )
        .select(EVENT_COLUMNS)
        .sort("person_id", "event_date", "event_type")
    )
    return new_releases, new_events


def evidence_extract_frames(*, today: datetime.date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The whole service's releases and events, pseudonymised for the extract."""
    releases, events = release_frames(viewer=ServiceScope(), today=today)
    return pseudonymise(releases, events, today=today)


def _replace(path: Path, frame: pl.DataFrame) -> None:
    """Write the CSV to a temporary file beside ``path`` and rename it over the old one."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        # Text columns (facility codes) never start a spreadsheet formula.
        safe_frame(frame).write_csv(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def evidence_extract_write(*, out: Path, today: datetime.date) -> dict[str, int]:
    """Write releases.csv and events.csv into ``out`` and audit it; return the row counts."""
    out.mkdir(parents=True, exist_ok=True)
    extract_id = secrets.token_hex(8)
    with transaction.atomic():
        releases, events = evidence_extract_frames(today=today)
        _replace(out / "releases.csv", releases)
        _replace(out / "events.csv", events)
        rows = {"releases": releases.height, "events": events.height}
        audit_record(
            actor=None,
            action=AUDIT_ACTION,
            target=None,
            object_type="evidence_extract",
            object_id=extract_id,
            after={"extract_date": today.isoformat(), "rows": rows},
            actor_label="command",
        )
    return rows

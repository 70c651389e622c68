"""The recidivism engine: releases and events in, follow-ups, window rates and a curve out.

Everything per release is computed with vectorised Polars joins and group-bys (events are
joined to releases by person, filtered to the follow-up and aggregated), so a national
extract of a million releases runs on one machine. The exact semantics are documented in
docs/recidivism.md; in short, for a counted release and a window of N years:

* window end = release_date + N calendar years (29 February + 1 year = 28 February);
* the release recidivates when a counted event has release_date < date <= window end (and,
  with a waiting period of M months, its proven date <= window end + M months);
* the release is eligible when followup_end_date >= window end + M months.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import polars as pl

from whatworks.analytics.recidivism.definitions import (
    EXCLUDED_BY_DEFAULT,
    TECHNICAL_VIOLATION,
    Definition,
    DefinitionError,
)
from whatworks.analytics.recidivism.suppression import (
    Suppression,
    WindowCell,
    apply_primary,
    apply_secondary,
)
from whatworks.analytics.recidivism.survival import KaplanMeierCurve, kaplan_meier

RELEASE_COLUMNS = ("release_id", "person_id", "release_date", "release_type", "followup_end_date")
EVENT_COLUMNS = ("person_id", "event_type", "event_date")
OPTIONAL_RELEASE_DATES = ("death_date", "deportation_date")
OPTIONAL_EVENT_DATES = ("offence_date", "conviction_date")

# Every reason appears in ``excluded``, with 0 when nothing was excluded for it.
RELEASE_REASONS = (
    "death",
    "transfer",
    "escape",
    "release_type_not_counted",
    "release_type_missing",
    "release_date_missing",
    "followup_end_date_missing",
    "followup_end_before_release",
    "died_during_followup",
    "deported_during_followup",
)
EVENT_REASONS = (
    "events_unknown_person",
    "events_type_not_counted",
    "events_date_missing",
    "events_duplicate",
    "events_no_counted_release",
    "events_before_release",
    "events_after_followup_end",
)


class RecidivismInputError(ValueError):
    """Input that cannot be measured; the message names the file, the column and the row."""


@dataclasses.dataclass(frozen=True)
class RecidivismResult:
    """What :func:`measure` returns. ``to_dict()`` is the JSON of ``whatworks recidivism``.

    ``windows`` and ``groups`` hold the published cells (after suppression and rounding);
    ``followups`` is the record-level table, one row per counted release, carrying the
    pseudonymous ``release_id`` and ``person_id`` as given.
    """

    definition: Definition
    windows: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    excluded: dict[str, int]
    km: KaplanMeierCurve
    followups: pl.DataFrame
    by: tuple[str, ...] = ()
    suppression: Suppression | None = None
    totals: dict[str, int] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "definition": self.definition.to_dict(),
            "windows": self.windows,
            "by": list(self.by),
            "groups": self.groups,
            "excluded": self.excluded,
            "totals": self.totals,
            "suppression": self.suppression.to_dict() if self.suppression else None,
            "km": self.km.to_dict(),
        }


# -- input checks ------------------------------------------------------------------------


def _rows(mask_frame: pl.DataFrame, mask: pl.Expr, limit: int = 5) -> list[int]:
    """1-based row numbers (data rows, header not counted) where ``mask`` holds."""
    return (
        mask_frame.with_row_index("_row", offset=1)
        .filter(mask)
        .head(limit)
        .get_column("_row")
        .to_list()
    )


def _check_columns(frame: pl.DataFrame, required: list[str], source: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise RecidivismInputError(
            f"{source}: missing column(s) {', '.join(map(repr, missing))}; "
            f"columns present: {', '.join(frame.columns) or '(none)'}"
        )


def _as_dates(frame: pl.DataFrame, columns: list[str], source: str) -> pl.DataFrame:
    """Dates stay dates; datetimes become dates; ISO text is parsed (errors name the row)."""
    converted = []
    for column in columns:
        dtype = frame.schema[column]
        if dtype == pl.Date:
            continue
        if isinstance(dtype, pl.Datetime):
            converted.append(pl.col(column).dt.date())
        elif dtype in (pl.String, pl.Null):
            text = pl.col(column).cast(pl.String).str.strip_chars()
            parsed = (
                pl.when(text == "").then(None).otherwise(text).str.to_date("%Y-%m-%d", strict=False)
            )
            bad = frame.select(
                (text.is_not_null() & (text != "") & parsed.is_null()).alias("_bad")
            ).get_column("_bad")
            if bad.any():
                rows = _rows(frame, bad)
                value = frame.get_column(column)[rows[0] - 1]
                raise RecidivismInputError(
                    f"{source}, column {column!r}, row {rows[0]}: cannot read {value!r} as a "
                    f"date (expected YYYY-MM-DD); {int(bad.sum())} such row(s) in all, "
                    f"first rows {', '.join(map(str, rows))}"
                )
            converted.append(parsed.alias(column))
        else:
            raise RecidivismInputError(
                f"{source}, column {column!r}: expected dates (YYYY-MM-DD), got type {dtype}"
            )
    return frame.with_columns(converted) if converted else frame


def _check_not_null(frame: pl.DataFrame, columns: list[str], source: str) -> None:
    counts = frame.select(pl.col(columns).null_count()).row(0)
    for column, count in zip(columns, counts, strict=True):
        if count:
            rows = _rows(frame, pl.col(column).is_null())
            raise RecidivismInputError(
                f"{source}, column {column!r}, row {rows[0]}: value missing "
                f"({count} row(s) in all, first rows {', '.join(map(str, rows))})"
            )


def _check_unique_release_ids(frame: pl.DataFrame, source: str) -> None:
    duplicated = frame.select(pl.col("release_id").is_duplicated()).to_series()
    if duplicated.any():
        first_value = frame.filter(duplicated).get_column("release_id")[0]
        rows = _rows(frame, pl.col("release_id") == first_value)
        raise RecidivismInputError(
            f"{source}, column 'release_id', rows {', '.join(map(str, rows))}: release ID "
            f"{first_value!r} appears more than once ({int(duplicated.sum())} rows share an "
            "ID with another row); each release needs its own ID"
        )


# -- the measurement ---------------------------------------------------------------------


def measure(
    releases: pl.DataFrame,
    events: pl.DataFrame,
    definition: Definition,
    *,
    windows: list[int] | None = None,
    event_types: list[str] | None = None,
    by: list[str] | None = None,
    suppression: Suppression | None = Suppression(),  # noqa: B008 - frozen, immutable
    sources: tuple[str, str] = ("releases", "events"),
    allow_unknown_people: bool = False,
) -> RecidivismResult:
    """Measure recidivism of ``releases`` from ``events`` under ``definition``.

    Parameters
    ----------
    releases : one row per release: ``release_id, person_id, release_date, release_type,
        followup_end_date`` (dates as ``pl.Date`` or ISO text), optional ``death_date`` and
        ``deportation_date``, and any columns named in ``by``.
    events : one row per event: ``person_id, event_type, event_date``, optional
        ``offence_date`` and ``conviction_date``.
    definition : from :func:`load_definition`.
    windows, event_types : override the definition's (recorded in ``definition.modified``).
    by : columns of ``releases`` to break the rates down by (all combinations).
    suppression : publication rules; ``None`` publishes exact small counts (internal use).
    sources : names of the two inputs in error messages (file names in the CLI).
    allow_unknown_people : count events of people with no release in ``excluded`` instead
        of raising :class:`RecidivismInputError`.

    Examples
    --------
    >>> import datetime as dt
    >>> releases = pl.DataFrame({"release_id": ["R1", "R2"], "person_id": ["P1", "P2"],
    ...     "release_date": [dt.date(2020, 1, 10)] * 2, "release_type": ["parole"] * 2,
    ...     "followup_end_date": [dt.date(2024, 1, 1)] * 2})
    >>> events = pl.DataFrame({"person_id": ["P1"], "event_type": ["reconviction"],
    ...     "event_date": [dt.date(2021, 5, 1)]})
    >>> from whatworks.analytics.recidivism.definitions import load_definition
    >>> result = measure(releases, events, load_definition(), suppression=None)
    >>> result.windows[0]["recidivists"], result.windows[0]["eligible"]
    (1, 2)
    """
    try:
        definition = definition.with_overrides(windows=windows, event_types=event_types)
    except DefinitionError as error:
        raise RecidivismInputError(str(error)) from None
    by = list(dict.fromkeys(by or []))
    release_source, event_source = sources

    releases, events = _prepare_inputs(releases, events, definition, by, sources)

    # Unknown people: events of a person with no release at all in the releases input.
    known = releases.select(pl.col("person_id").unique())
    unknown_mask = ~pl.col("person_id").is_in(known.get_column("person_id").implode())
    unknown_count = events.select(unknown_mask.sum()).item()
    if unknown_count and not allow_unknown_people:
        rows = _rows(events, unknown_mask)
        person = events.get_column("person_id")[rows[0] - 1]
        people = events.filter(unknown_mask).get_column("person_id").n_unique()
        raise RecidivismInputError(
            f"{event_source}, column 'person_id', row {rows[0]}: person {person!r} has no "
            f"release in {release_source} ({unknown_count} event row(s) of {people} unknown "
            f"people in all, first rows {', '.join(map(str, rows))}). Check that both files "
            "use the same IDs (--map renames columns), or pass --allow-unknown-people "
            "(allow_unknown_people=True) to count them in 'excluded' and continue"
        )
    excluded = dict.fromkeys((*RELEASE_REASONS, *EVENT_REASONS), 0)
    excluded["events_unknown_person"] = int(unknown_count)
    if unknown_count:
        events = events.filter(~unknown_mask)

    counted, release_reasons = _counted_releases(releases, definition)
    excluded.update(release_reasons)

    prepared, event_reasons = _counted_events(events, definition)
    excluded.update(event_reasons)

    followups, work, event_accounting = _follow_up(counted, prepared, definition, by)
    events_counted = event_accounting.pop("_events_in_followup")
    excluded.update(event_accounting)

    cells_overall, cells_groups = _window_cells(work, definition, by)
    if suppression is not None:
        apply_primary(cells_overall, suppression)
        for cells in cells_groups.values():
            apply_primary(cells, suppression)
        for index in range(len(definition.windows)):
            apply_secondary([cells[index] for cells in cells_groups.values()])

    windows_out = [cell.publish(suppression) for cell in cells_overall]
    groups_out = [
        {"by": dict(key), "windows": [cell.publish(suppression) for cell in cells]}
        for key, cells in cells_groups.items()
    ]
    rounder = suppression.round if suppression else (lambda count: count)
    excluded = {reason: rounder(count) for reason, count in excluded.items()}
    totals = {
        "releases": rounder(int(releases.height)),
        "releases_counted": rounder(int(counted.height)),
        "events": rounder(int(events.height + unknown_count)),
        "events_counted": rounder(int(events_counted)),
    }
    curve = kaplan_meier(
        followups.get_column("duration_days").to_numpy(),
        followups.get_column("event").to_numpy(),
    )
    return RecidivismResult(
        definition=definition,
        windows=windows_out,
        groups=groups_out,
        excluded=excluded,
        km=curve,
        followups=followups,
        by=tuple(by),
        suppression=suppression,
        totals=totals,
    )


def measure_technical_violation_variants(
    releases: pl.DataFrame, events: pl.DataFrame, definition: Definition, **kwargs: Any
) -> dict[str, RecidivismResult]:
    """The same measure with and without technical violations, to publish side by side
    (domain guide §5). Keyword arguments are those of :func:`measure`."""
    base = kwargs.pop("event_types", None) or list(definition.event_types)
    with_types = list(dict.fromkeys([*base, TECHNICAL_VIOLATION]))
    without_types = [t for t in base if t != TECHNICAL_VIOLATION]
    if not without_types:
        raise RecidivismInputError(
            "the definition counts only technical violations, so it has no variant without them"
        )
    return {
        "with_technical_violations": measure(
            releases, events, definition, event_types=with_types, **kwargs
        ),
        "without_technical_violations": measure(
            releases, events, definition, event_types=without_types, **kwargs
        ),
    }


def _prepare_inputs(
    releases: pl.DataFrame,
    events: pl.DataFrame,
    definition: Definition,
    by: list[str],
    sources: tuple[str, str],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    release_source, event_source = sources
    if not isinstance(releases, pl.DataFrame) or not isinstance(events, pl.DataFrame):
        raise RecidivismInputError("releases and events must be polars DataFrames")
    _check_columns(releases, [*RELEASE_COLUMNS, *by], release_source)
    clash = [c for c in by if c.startswith("_") or c in ("release_id", "person_id")]
    if clash:
        raise RecidivismInputError(
            f"{release_source}: cannot break down by {', '.join(map(repr, clash))}"
        )
    required_events = list(EVENT_COLUMNS)
    if definition.date_basis == "offence_date":
        required_events.append("offence_date")
    _check_columns(events, required_events, event_source)

    release_dates = [
        "release_date",
        "followup_end_date",
        *[c for c in OPTIONAL_RELEASE_DATES if c in releases.columns],
    ]
    releases = releases.select(dict.fromkeys([*RELEASE_COLUMNS, *release_dates[2:], *by]).keys())
    releases = _as_dates(releases, release_dates, release_source)
    _check_not_null(releases, ["release_id", "person_id"], release_source)
    _check_unique_release_ids(releases, release_source)

    event_dates = ["event_date", *[c for c in OPTIONAL_EVENT_DATES if c in events.columns]]
    events = events.select("person_id", "event_type", *event_dates)
    events = _as_dates(events, event_dates, event_source)
    _check_not_null(events, ["person_id"], event_source)

    release_type, event_type = releases.schema["person_id"], events.schema["person_id"]
    if release_type != event_type:
        releases = releases.with_columns(pl.col("person_id").cast(pl.String))
        events = events.with_columns(pl.col("person_id").cast(pl.String))
    for frame_name, column in (("releases", "release_type"), ("events", "event_type")):
        frame = releases if frame_name == "releases" else events
        if frame.schema[column] != pl.String:
            frame = frame.with_columns(pl.col(column).cast(pl.String))
            if frame_name == "releases":
                releases = frame
            else:
                events = frame
    return releases, events


def _counted_releases(
    releases: pl.DataFrame, definition: Definition
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Releases that start a follow-up, with the follow-up end used, and exclusion counts."""
    release_type = pl.col("release_type")
    release_date = pl.col("release_date")
    followup_end = pl.col("followup_end_date")
    counted_types = list(definition.release_types)

    def during_followup(column: str) -> pl.Expr:
        return (pl.col(column) > release_date) & (pl.col(column) <= followup_end)

    reason = (
        pl.when(release_date.is_null())
        .then(pl.lit("release_date_missing"))
        .when(release_type.is_null())
        .then(pl.lit("release_type_missing"))
        .when(~release_type.is_in(counted_types) & release_type.is_in(EXCLUDED_BY_DEFAULT))
        .then(release_type)
        .when(~release_type.is_in(counted_types))
        .then(pl.lit("release_type_not_counted"))
        .when(followup_end.is_null())
        .then(pl.lit("followup_end_date_missing"))
        .when(followup_end < release_date)
        .then(pl.lit("followup_end_before_release"))
    )
    if definition.deaths == "exclude" and "death_date" in releases.columns:
        reason = reason.when(during_followup("death_date")).then(pl.lit("died_during_followup"))
    if definition.deportations == "exclude" and "deportation_date" in releases.columns:
        reason = reason.when(during_followup("deportation_date")).then(
            pl.lit("deported_during_followup")
        )
    releases = releases.with_columns(reason.otherwise(None).alias("_reason"))
    counts = releases.filter(pl.col("_reason").is_not_null()).group_by("_reason").len().iter_rows()
    reasons = {str(name): int(count) for name, count in counts}

    # The end of follow-up actually used: deaths and deportations censor when so defined.
    end = followup_end
    for column, handling in (
        ("death_date", definition.deaths),
        ("deportation_date", definition.deportations),
    ):
        if handling == "censor" and column in releases.columns:
            end = pl.min_horizontal(
                end,
                pl.when(pl.col(column).is_not_null())
                .then(pl.max_horizontal(pl.col(column), release_date))
                .otherwise(followup_end),
            )
    counted = (
        releases.filter(pl.col("_reason").is_null())
        .drop("_reason")
        .with_row_index("_idx")
        .with_columns(end.alias("_end"))
    )
    return counted, reasons


def _counted_events(
    events: pl.DataFrame, definition: Definition
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Events of the counted types with their measuring date and proven date, deduplicated."""
    reasons: dict[str, int] = {}
    typed = events.filter(pl.col("event_type").is_in(list(definition.event_types)))
    reasons["events_type_not_counted"] = events.height - typed.height
    has_conviction = "conviction_date" in typed.columns
    proven = (
        pl.coalesce(pl.col("conviction_date"), pl.col("event_date"))
        if has_conviction
        else pl.col("event_date")
    )
    if definition.date_basis == "offence_date":
        date = pl.col("offence_date")
    elif definition.date_basis == "conviction_date":
        date = proven
    else:
        date = pl.col("event_date")
    dated = typed.filter(date.is_not_null())
    reasons["events_date_missing"] = typed.height - dated.height
    # Identical rows are one event recorded twice.
    unique = dated.unique(maintain_order=False)
    reasons["events_duplicate"] = dated.height - unique.height
    prepared = unique.select("person_id", date.alias("_date"), proven.alias("_proven"))
    return prepared, reasons


def _follow_up(
    counted: pl.DataFrame, events: pl.DataFrame, definition: Definition, by: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, int]]:
    wait = definition.waiting_period_months
    release_date = pl.col("release_date")
    window_columns = []
    for years in definition.windows:
        window_end = release_date.dt.offset_by(f"{years}y")
        proven_end = window_end.dt.offset_by(f"{wait}mo") if wait else window_end
        window_columns += [
            window_end.alias(f"_end_{years}"),
            proven_end.alias(f"_proven_end_{years}"),
            (pl.col("_end") >= proven_end).alias(f"_eligible_{years}"),
        ]
    curve_end = pl.col("_end").dt.offset_by(f"-{wait}mo") if wait else pl.col("_end")
    counted = counted.with_columns(window_columns).with_columns(
        pl.max_horizontal(curve_end, release_date).alias("_curve_end")
    )

    # Account for counted-type events that fall in no follow-up.
    per_person = counted.group_by("person_id").agg(
        pl.col("release_date").min().alias("_first_release"), pl.col("_end").max().alias("_last")
    )
    classified = (
        events.lazy()
        .join(per_person.lazy(), on="person_id", how="left")
        .select(
            pl.col("_first_release").is_null().sum().alias("events_no_counted_release"),
            (pl.col("_date") <= pl.col("_first_release")).sum().alias("events_before_release"),
            (pl.col("_date") > pl.col("_last")).sum().alias("events_after_followup_end"),
        )
        .collect()
        .row(0, named=True)
    )
    accounting = {name: int(value or 0) for name, value in classified.items()}

    date, proven = pl.col("_date"), pl.col("_proven")
    in_window = {
        years: (date <= pl.col(f"_end_{years}")) & (proven <= pl.col(f"_proven_end_{years}"))
        for years in definition.windows
    }
    pair_columns = [
        "_idx",
        "person_id",
        "release_date",
        "_end",
        "_curve_end",
        *[f"_end_{y}" for y in definition.windows],
        *[f"_proven_end_{y}" for y in definition.windows],
    ]
    per_release = (
        counted.lazy()
        .select(pair_columns)
        .join(events.lazy(), on="person_id", how="inner")
        .filter((date > release_date) & (date <= pl.col("_end")))
        .group_by("_idx")
        .agg(
            date.filter((date <= pl.col("_curve_end")) & (proven <= pl.col("_end")))
            .min()
            .alias("_first"),
            pl.len().alias("_events_in_followup"),
            *[in_window[y].any().alias(f"_hit_{y}") for y in definition.windows],
            *[in_window[y].sum().alias(f"_count_{y}") for y in definition.windows],
        )
        .collect()
    )
    accounting["_events_in_followup"] = int(per_release.get_column("_events_in_followup").sum())
    work = counted.join(per_release, on="_idx", how="left").sort("_idx")
    days_to_event = (pl.col("_first") - release_date).dt.total_days()
    curve_days = (pl.col("_curve_end") - release_date).dt.total_days()
    work = work.with_columns(
        days_to_event.cast(pl.Int32).alias("days_to_event"),
        pl.col("_first").is_not_null().alias("event"),
        pl.coalesce(days_to_event, curve_days).cast(pl.Int32).alias("duration_days"),
        *[
            pl.when(pl.col(f"_eligible_{y}"))
            .then(pl.col(f"_hit_{y}").fill_null(False))
            .otherwise(None)
            .alias(f"recidivated_within_{y}y")
            for y in definition.windows
        ],
        *[pl.col(f"_count_{y}").fill_null(0) for y in definition.windows],
    )
    followups = work.select(
        "release_id",
        "person_id",
        "release_date",
        "followup_end_date",
        "days_to_event",
        "event",
        "duration_days",
        *[f"recidivated_within_{y}y" for y in definition.windows],
        *by,
    )
    return followups, work, accounting


def _window_cells(
    work: pl.DataFrame, definition: Definition, by: list[str]
) -> tuple[list[WindowCell], dict[tuple[tuple[str, Any], ...], list[WindowCell]]]:
    aggregations = []
    for years in definition.windows:
        eligible = pl.col(f"_eligible_{years}")
        aggregations += [
            eligible.sum().alias(f"eligible_{years}"),
            (eligible & pl.col(f"recidivated_within_{years}y")).sum().alias(f"hit_{years}"),
            pl.when(eligible)
            .then(pl.col(f"_count_{years}"))
            .otherwise(0)
            .sum()
            .alias(f"events_{years}"),
        ]
    event_based = definition.counting == "event"

    def cells(row: dict[str, Any]) -> list[WindowCell]:
        return [
            WindowCell(
                years=years,
                eligible=int(row[f"eligible_{years}"] or 0),
                recidivists=int(row[f"hit_{years}"] or 0),
                events=int(row[f"events_{years}"] or 0) if event_based else None,
            )
            for years in definition.windows
        ]

    overall = cells(work.select(aggregations).row(0, named=True))
    groups: dict[tuple[tuple[str, Any], ...], list[WindowCell]] = {}
    if by:
        table = work.group_by(by).agg(aggregations).sort(by, nulls_last=True)
        for row in table.iter_rows(named=True):
            key = tuple((column, _json_value(row[column])) for column in by)
            groups[key] = cells(row)
    return overall, groups


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value

"""Earned remission (time credits): days off a sentence earned by study and work.

The rules of a jurisdiction are data (``builtin/*.yaml``, validated against
``remission_schema.json``); the built-in ``br-lep`` is Brazil's Lei de Execução Penal,
art. 126-127. :func:`compute_remission` replays the records in date order with exact
arithmetic (integers and :class:`~fractions.Fraction`, never floats), so that the result is
the same on every machine and can be checked by hand. Each day earned or lost is a
:class:`RemissionLine` with a :class:`Reason`. The arithmetic, with worked examples, is in
``docs/treatment-rules.md``.

>>> import datetime
>>> rules = load_remission_rules("br-lep")
>>> days = [StudyRecord(datetime.date(2026, 3, d), 4) for d in range(1, 10)]
>>> compute_remission(rules, study=days).study_days
3
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from whatworks.analytics.treatment.common import (
    DefinitionFiles,
    Reason,
    number,
    reason,
    schema_problems,
)

SCHEMA = "remission_schema.json"
REASON_CODES = (
    "study_days_remitted",
    "study_hours_over_daily_limit",
    "work_days_remitted",
    "work_day_too_short",
    "school_level_bonus",
    "revocation",
)
LINE_KINDS = ("study", "work", "bonus", "revocation")

Hours = float | int | Fraction | Decimal


class RemissionRulesError(ValueError):
    """A rules file or name that cannot be used; one ``<file>: <field path>: <message>``
    line per problem, also in ``errors``."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or [message]


@dataclasses.dataclass(frozen=True)
class RemissionRules:
    """One jurisdiction's rules. Build with :func:`load_remission_rules`."""

    slug: str
    version: str
    jurisdiction: str
    name: Mapping[str, str]
    citation: str
    study_hours_per_day_remitted: int
    study_min_days: int
    work_days_per_day_remitted: int
    min_work_hours_per_day: Fraction
    school_level_bonus_fraction: Fraction
    max_revocation_fraction: Fraction
    description: Mapping[str, str] | None = None
    source: str = ""

    @property
    def max_study_hours_per_day(self) -> Fraction:
        """The study hours that can count on one calendar day (12 / 3 = 4 in Brazil): the
        law spreads the 12 hours over at least 3 days."""
        return Fraction(self.study_hours_per_day_remitted, self.study_min_days)


@dataclasses.dataclass(frozen=True)
class StudyRecord:
    day: datetime.date
    hours: Hours


@dataclasses.dataclass(frozen=True)
class WorkRecord:
    day: datetime.date
    hours: Hours


@dataclasses.dataclass(frozen=True)
class LevelCompletion:
    """A school level certified as completed on ``day`` (``level``: e.g. ``"primary"``)."""

    day: datetime.date
    level: str


@dataclasses.dataclass(frozen=True)
class Fault:
    """A serious disciplinary fault; the judge revoked ``revoked_fraction`` (0 to the
    maximum of the rules) of the days remitted until then."""

    day: datetime.date
    revoked_fraction: Fraction


@dataclasses.dataclass(frozen=True)
class RemissionLine:
    """Days earned (positive) or revoked (negative) on ``day``; a line with 0 days explains
    hours that did not count (over the daily limit, or a working day too short)."""

    day: datetime.date
    kind: str
    days: int
    reason: Reason


@dataclasses.dataclass(frozen=True)
class RemissionResult:
    """The outcome of :func:`compute_remission`.

    ``total_days = study_days + work_remitted_days + bonus_days - revoked_days``, which is
    also the sum of ``lines[*].days``. ``carried_study_hours`` and ``carried_work_days`` are
    what still counts toward the next remitted day.
    """

    rules: str
    study_hours_counted: Fraction
    study_hours_not_counted: Fraction
    study_days: int
    work_days_counted: int
    work_remitted_days: int
    bonus_days: int
    revoked_days: int
    total_days: int
    carried_study_hours: Fraction
    carried_work_days: int
    lines: tuple[RemissionLine, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; hours as numbers, dates as ISO strings."""
        return {
            "rules": self.rules,
            "study_hours_counted": number(self.study_hours_counted),
            "study_hours_not_counted": number(self.study_hours_not_counted),
            "study_days": self.study_days,
            "work_days_counted": self.work_days_counted,
            "work_remitted_days": self.work_remitted_days,
            "bonus_days": self.bonus_days,
            "revoked_days": self.revoked_days,
            "total_days": self.total_days,
            "carried_study_hours": number(self.carried_study_hours),
            "carried_work_days": self.carried_work_days,
            "lines": [
                {
                    "day": line.day.isoformat(),
                    "kind": line.kind,
                    "days": line.days,
                    "reason": line.reason.to_dict(),
                }
                for line in self.lines
            ],
        }


# --- rules files ---------------------------------------------------------------------------


def _semantic_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    for field in ("school_level_bonus_fraction", "max_revocation_fraction"):
        if Fraction(data[field]) > 1:
            problems.append((field, f"{data[field]} is above 1"))
    return problems


def remission_rules_from_mapping(data: Any, source: str = "<mapping>") -> RemissionRules:
    """Validate a parsed rules file and build :class:`RemissionRules`."""
    problems = schema_problems(SCHEMA, data) or _semantic_problems(data)
    if problems:
        lines = [f"{source}: {where}: {message}" for where, message in problems]
        raise RemissionRulesError("\n".join(lines), lines)
    return RemissionRules(
        slug=data["slug"],
        version=data["version"],
        jurisdiction=data["jurisdiction"],
        name=dict(data["name"]),
        citation=" ".join(data["citation"].split()),
        study_hours_per_day_remitted=data["study_hours_per_day_remitted"],
        study_min_days=data["study_min_days"],
        work_days_per_day_remitted=data["work_days_per_day_remitted"],
        min_work_hours_per_day=_exact(data["min_work_hours_per_day"]),
        school_level_bonus_fraction=Fraction(data["school_level_bonus_fraction"]),
        max_revocation_fraction=Fraction(data["max_revocation_fraction"]),
        description=data.get("description"),
        source=source,
    )


_FILES = DefinitionFiles(
    kind="remission rules",
    marker_key="study_hours_per_day_remitted",
    from_mapping=remission_rules_from_mapping,
    error_type=RemissionRulesError,
)


def list_remission_rules() -> list[str]:
    """The slugs of the built-in rules, sorted."""
    return _FILES.names()


def load_remission_rules(name: str | Path = "br-lep") -> RemissionRules:
    """Built-in rules by slug, or a rules YAML file by path."""
    return _FILES.load(name)


# --- arithmetic ------------------------------------------------------------------------------


def _exact(value: Hours) -> Fraction:
    """Hours as an exact fraction; a float is read as the decimal it prints as (0.1 is 1/10)."""
    if isinstance(value, bool):
        raise TypeError("hours must be a number, not a bool")
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


def _summed_by_day(records: Iterable[StudyRecord | WorkRecord], what: str) -> dict:
    totals: dict[datetime.date, Fraction] = defaultdict(Fraction)
    for record in records:
        hours = _exact(record.hours)
        if hours < 0:
            raise ValueError(f"{what} on {record.day.isoformat()}: hours cannot be negative")
        totals[record.day] += hours
    for day, hours in totals.items():
        if hours > 24:
            raise ValueError(f"{what} on {day.isoformat()}: {number(hours)} hours in one day")
    return totals


def compute_remission(
    rules: RemissionRules,
    *,
    study: Iterable[StudyRecord] = (),
    work: Iterable[WorkRecord] = (),
    completions: Iterable[LevelCompletion] = (),
    faults: Iterable[Fault] = (),
    as_of: datetime.date | None = None,
) -> RemissionResult:
    """Replay the records in date order and return the days remitted.

    Records dated after ``as_of`` (inclusive end) are ignored; records of one kind on the
    same day are summed first. On one day the order is: faults (the count restarts on the
    date of the fault, so that day's study and work belong to the new count), then study,
    then work, then level completions (a level completed today includes today's study).

    * study: at most ``12 / 3 = 4`` hours count per day, the rest is reported; every 12
      counted hours remit 1 day, the remainder carries forward;
    * work: a day of at least 6 hours counts; every 3 counted days remit 1 day;
    * completion: ``floor(study days remitted since the previous completion * 1/3)``;
    * fault: ``floor(f * net days remitted so far)`` revoked, carried hours and days lost.

    Raises ValueError for negative hours, more than 24 hours in a day, or a fault fraction
    below 0 or above the maximum (the message names the date).
    """
    faults = list(faults)
    for fault in faults:
        fraction = Fraction(fault.revoked_fraction)
        if not 0 <= fraction <= rules.max_revocation_fraction:
            raise ValueError(
                f"fault on {fault.day.isoformat()}: revoked fraction {fraction} is outside 0 to"
                f" {rules.max_revocation_fraction} ({rules.slug})"
            )

    def kept(day: datetime.date) -> bool:
        return as_of is None or day <= as_of

    study_by_day = _summed_by_day((r for r in study if kept(r.day)), "study")
    work_by_day = _summed_by_day((r for r in work if kept(r.day)), "work")
    completions_by_day: dict[datetime.date, list[str]] = defaultdict(list)
    for completion in completions:
        if kept(completion.day):
            completions_by_day[completion.day].append(completion.level)
    faults_by_day: dict[datetime.date, list[Fraction]] = defaultdict(list)
    for fault in faults:
        if kept(fault.day):
            faults_by_day[fault.day].append(Fraction(fault.revoked_fraction))

    daily_limit = rules.max_study_hours_per_day
    hours_per_day = rules.study_hours_per_day_remitted
    days_per_day = rules.work_days_per_day_remitted
    lines: list[RemissionLine] = []
    study_carry = Fraction(0)
    work_carry = 0
    counted_hours = Fraction(0)
    uncounted_hours = Fraction(0)
    study_days = work_days = work_remitted = bonus_days = revoked_days = 0
    study_days_since_completion = 0

    days = sorted({*study_by_day, *work_by_day, *completions_by_day, *faults_by_day})
    for day in days:
        for fraction in faults_by_day.get(day, []):
            net = study_days + work_remitted + bonus_days - revoked_days
            revoked = math.floor(fraction * net)
            revoked_days += revoked
            line_reason = reason(
                "revocation",
                fraction=str(fraction),
                net_days_before=net,
                days=revoked,
                lost_study_hours=number(study_carry),
                lost_work_days=work_carry,
            )
            lines.append(RemissionLine(day, "revocation", -revoked, line_reason))
            study_carry = Fraction(0)
            work_carry = 0
        hours = study_by_day.get(day, Fraction(0))
        if hours:
            counted = min(hours, daily_limit)
            counted_hours += counted
            if hours > counted:
                uncounted_hours += hours - counted
                line_reason = reason(
                    "study_hours_over_daily_limit",
                    hours=number(hours),
                    counted=number(counted),
                    limit=number(daily_limit),
                )
                lines.append(RemissionLine(day, "study", 0, line_reason))
            study_carry += counted
            earned = math.floor(study_carry / hours_per_day)
            if earned:
                study_carry -= earned * hours_per_day
                study_days += earned
                study_days_since_completion += earned
                line_reason = reason(
                    "study_days_remitted",
                    days=earned,
                    hours_used=earned * hours_per_day,
                    carried_hours=number(study_carry),
                )
                lines.append(RemissionLine(day, "study", earned, line_reason))
        hours = work_by_day.get(day, Fraction(0))
        if hours >= rules.min_work_hours_per_day:
            work_days += 1
            work_carry += 1
            earned = work_carry // days_per_day
            if earned:
                work_carry -= earned * days_per_day
                work_remitted += earned
                line_reason = reason(
                    "work_days_remitted",
                    days=earned,
                    work_days_used=earned * days_per_day,
                    carried_days=work_carry,
                )
                lines.append(RemissionLine(day, "work", earned, line_reason))
        elif hours:
            line_reason = reason(
                "work_day_too_short",
                hours=number(hours),
                min_hours=number(rules.min_work_hours_per_day),
            )
            lines.append(RemissionLine(day, "work", 0, line_reason))
        for level in completions_by_day.get(day, []):
            bonus = math.floor(study_days_since_completion * rules.school_level_bonus_fraction)
            bonus_days += bonus
            line_reason = reason(
                "school_level_bonus",
                level=level,
                study_days=study_days_since_completion,
                fraction=str(rules.school_level_bonus_fraction),
                days=bonus,
            )
            lines.append(RemissionLine(day, "bonus", bonus, line_reason))
            study_days_since_completion = 0

    return RemissionResult(
        rules=rules.slug,
        study_hours_counted=counted_hours,
        study_hours_not_counted=uncounted_hours,
        study_days=study_days,
        work_days_counted=work_days,
        work_remitted_days=work_remitted,
        bonus_days=bonus_days,
        revoked_days=revoked_days,
        total_days=study_days + work_remitted + bonus_days - revoked_days,
        carried_study_hours=study_carry,
        carried_work_days=work_carry,
        lines=tuple(lines),
    )


def projected_release(
    expected_release: datetime.date | None, result: RemissionResult
) -> datetime.date | None:
    """``expected_release`` brought forward by the days remitted (None stays None)."""
    if expected_release is None:
        return None
    return expected_release - datetime.timedelta(days=result.total_days)

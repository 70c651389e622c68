"""Scoring answers against an instrument, and the next reassessment date.

>>> from whatworks.analytics.instruments import load_instrument
>>> result = score(load_instrument("k6"), [2, 2, 2, 2, 2, 3])
>>> result.total, result.band
(13, 'serious_distress')
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from whatworks.analytics.instruments.model import (
    Domain,
    Instrument,
    InstrumentError,
    Item,
    Scoring,
    TableRow,
)


class AnswerError(ValueError):
    """Answers that cannot be scored; the message names the item and the problem."""


@dataclasses.dataclass(frozen=True)
class ScoreResult:
    """The outcome of :func:`score`.

    ``domains`` holds risk domains and ``strengths`` strength domains (``domain_id ->
    score``); a score is ``None`` when one of its items is unanswered, and then so are the
    ``total`` and ``band`` that depend on it. ``needs`` has one entry per criminogenic domain:
    ``{"score", "threshold", "is_need"}`` where ``is_need`` is ``score >= threshold``
    (``None`` when either is unknown). ``responsivity`` maps each answered responsivity item
    to its answer as given. ``missing`` lists unanswered required items in item order.
    """

    instrument: str
    version: str
    total: float | None
    band: str | None
    domains: dict[str, float | None]
    needs: dict[str, dict[str, Any]]
    responsivity: dict[str, Any]
    strengths: dict[str, float | None]
    missing: list[str]
    sex: str | None = None
    item_scores: dict[str, float | None] = dataclasses.field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.missing

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``instrument``, ``version``, ``total``, ``band``, ``domains``, then
        ``needs``, ``strengths``, ``responsivity``, ``missing``, ``sex`` and ``item_scores``."""
        return {
            "instrument": self.instrument,
            "version": self.version,
            "total": self.total,
            "band": self.band,
            "domains": dict(self.domains),
            "needs": {k: dict(v) for k, v in self.needs.items()},
            "strengths": dict(self.strengths),
            "responsivity": dict(self.responsivity),
            "missing": list(self.missing),
            "sex": self.sex,
            "item_scores": dict(self.item_scores),
        }


def _tidy(value: float | None) -> float | None:
    """Whole numbers as ``int``, others rounded to 6 decimals (no float noise in output)."""
    if value is None:
        return None
    value = round(float(value), 6)
    return int(value) if value.is_integer() else value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _answers_by_item(instrument: Instrument, answers: Any) -> dict[str, Any]:
    items = instrument.items
    if isinstance(answers, Mapping):
        unknown = [str(key) for key in answers if key not in {item.id for item in items}]
        if unknown:
            raise AnswerError(f"unknown item id(s): {', '.join(unknown)}")
        return dict(answers)
    if isinstance(answers, Sequence) and not isinstance(answers, str | bytes):
        if len(answers) > len(items):
            raise AnswerError(
                f"too many answers: {len(answers)} given, {instrument.slug} has {len(items)} items"
            )
        return {item.id: answer for item, answer in zip(items, answers, strict=False)}
    raise AnswerError("answers must be a list in item order or a mapping of item id to answer")


def _choice_index(item: Item, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise AnswerError(f"item {item.id}: expected an option index, got {value!r}")
    if not 0 <= value < len(item.options):
        raise AnswerError(
            f"item {item.id}: option {value} is out of range (0 to {len(item.options) - 1})"
        )
    return value


def _lookup(table: tuple[TableRow, ...], raw: float, what: str) -> float:
    for position, row in enumerate(table):
        upper = table[position + 1].min if position + 1 < len(table) else row.max
        if row.min <= raw <= row.max or (row.max < raw < upper):
            return row.score
    raise AnswerError(f"{what}: {_tidy(raw)} is outside the lookup table")


def _item_score(item: Item, value: Any) -> float | None:
    """Check one answer and return its score (``None`` for items that are not scored)."""
    if item.type == "single_choice":
        return item.options[_choice_index(item, value)].score
    if item.type == "multiple_choice":
        if not isinstance(value, list | tuple):
            raise AnswerError(f"item {item.id}: expected a list of option indexes, got {value!r}")
        indexes = [_choice_index(item, v) for v in value]
        if len(set(indexes)) != len(indexes):
            raise AnswerError(f"item {item.id}: an option is chosen more than once")
        return sum(item.options[i].score for i in indexes)
    if item.type == "yes_no":
        if value is True or value is False or value in (0, 1):
            if _is_number(value) and not isinstance(value, int):
                raise AnswerError(f"item {item.id}: expected yes/no (true/false or 1/0)")
            return item.yes_score if value else item.no_score
        raise AnswerError(f"item {item.id}: expected yes/no (true/false or 1/0), got {value!r}")
    if item.type == "number":
        if not _is_number(value):
            raise AnswerError(f"item {item.id}: expected a number, got {value!r}")
        if (item.min is not None and value < item.min) or (
            item.max is not None and value > item.max
        ):
            raise AnswerError(
                f"item {item.id}: {value} is out of range ({_tidy(item.min)} to {_tidy(item.max)})"
            )
        return _lookup(item.table, value, f"item {item.id}") if item.table else value
    if not isinstance(value, str):
        raise AnswerError(f"item {item.id}: expected text, got {value!r}")
    return None


def _combine(scoring: Scoring, parts: dict[str, float | None], what: str) -> float | None:
    if any(value is None for value in parts.values()):
        return None
    if scoring.method == "weighted_sum":
        raw = sum(scoring.weights.get(name, 1) * value for name, value in parts.items())
    else:
        raw = sum(parts.values())
    if scoring.method == "lookup":
        return _lookup(scoring.table, raw, what)
    return raw


def _band(instrument: Instrument, total: float | None, sex: str | None) -> str | None:
    if total is None:
        return None
    bands = instrument.bands_for(sex)
    for position, band in enumerate(bands):
        upper = bands[position + 1].min if position + 1 < len(bands) else band.max
        if band.min <= total <= band.max or band.max < total < upper:
            return band.code
    return None


def score(
    instrument: Instrument,
    answers: Sequence[Any] | Mapping[str, Any],
    *,
    sex: str | None = None,
    require_complete: bool = True,
) -> ScoreResult:
    """Score ``answers`` against ``instrument``.

    ``answers`` is a list in item order (``None`` for unanswered) or a mapping of item id to
    answer: an option index (single choice), a list of option indexes (multiple choice), a
    number, ``True``/``False`` or ``1``/``0`` (yes/no), or a string (text). Raises
    :class:`AnswerError` for an unknown item, a wrong type, an out-of-range answer or too
    many answers, and, when ``require_complete``, for missing required answers (listing all).
    ``sex`` picks the bands for that sex when the instrument has them.
    """
    given = _answers_by_item(instrument, answers)
    item_scores: dict[str, float | None] = {}
    responsivity: dict[str, Any] = {}
    missing: list[str] = []
    unanswered: set[str] = set()
    for item in instrument.items:
        value = given.get(item.id)
        if value is None or value == "":
            if item.required:
                missing.append(item.id)
            if item.scored:
                unanswered.add(item.id)
                # An optional scored item left blank counts 0; a required one is unknown.
                item_scores[item.id] = None if item.required else 0
            continue
        item_score = _item_score(item, value)
        if item.role == "responsivity":
            responsivity[item.id] = value
        elif item.scored:
            item_scores[item.id] = item_score
    if missing and require_complete:
        raise AnswerError(f"missing answers for item(s): {', '.join(missing)}")

    domain_scores: dict[str, float | None] = {}
    for domain in instrument.domains:
        parts = {i.id: item_scores[i.id] for i in instrument.items if i.domain == domain.id}
        domain_scores[domain.id] = _tidy(_combine(domain.scoring, parts, f"domain {domain.id}"))
    risk = {d.id: domain_scores[d.id] for d in instrument.domains if d.kind == "risk"}
    strengths = {d.id: domain_scores[d.id] for d in instrument.domains if d.kind == "strength"}
    total = _combine(instrument.total, risk, "total")
    if total is not None and instrument.total.strengths == "subtract":
        total = None if None in strengths.values() else total - sum(strengths.values())
    total = _tidy(total)
    return ScoreResult(
        instrument=instrument.slug,
        version=instrument.version,
        total=total,
        band=_band(instrument, total, sex),
        domains=risk,
        needs={d.id: _need(d, domain_scores[d.id]) for d in instrument.domains if d.criminogenic},
        responsivity=responsivity,
        strengths=strengths,
        missing=missing,
        sex=sex,
        item_scores={key: _tidy(value) for key, value in item_scores.items()},
    )


def _need(domain: Domain, domain_score: float | None) -> dict[str, Any]:
    threshold = domain.need_threshold
    is_need = None if domain_score is None or threshold is None else domain_score >= threshold
    return {"score": domain_score, "threshold": _tidy(threshold), "is_need": is_need}


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` plus whole months; the 31st becomes the last day of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def next_reassessment_date(
    instrument: Instrument,
    band: str,
    assessed_on: datetime.date,
    expected_release_date: datetime.date | None,
) -> datetime.date | None:
    """When the person should next be assessed, or ``None`` when no rule asks for it.

    The periodic date is ``assessed_on`` plus the months of the interval listing ``band``.
    With ``before_release_days`` and an ``expected_release_date``, there must also be an
    assessment in the ``before_release_days`` before release (window start inclusive):

    - assessed before that window: the earlier of the periodic date and the window start;
    - assessed inside the window (on or before the release date): the pre-release
      assessment is done; the periodic date if it falls before release, else ``None``;
    - assessed after the expected release date (the date has passed): the periodic date.
    """
    known = {b.code for b in instrument.bands} | {
        b.code for bands in instrument.bands_by_sex.values() for b in bands
    }
    if band not in known:
        raise InstrumentError(f"{instrument.slug}: unknown band {band!r}")
    months = next((i.months for i in instrument.reassessment_intervals if band in i.bands), None)
    periodic = add_months(assessed_on, months) if months is not None else None
    if expected_release_date is None or instrument.before_release_days is None:
        return periodic
    window_start = expected_release_date - datetime.timedelta(days=instrument.before_release_days)
    if assessed_on < window_start:
        return window_start if periodic is None else min(periodic, window_start)
    if assessed_on <= expected_release_date:
        return periodic if periodic is not None and periodic < expected_release_date else None
    return periodic

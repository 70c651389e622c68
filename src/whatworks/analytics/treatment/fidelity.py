"""Programme fidelity: how closely a programme follows "What Works" practice.

A checklist (``builtin/cpc-style.yaml``, validated against ``checklist_schema.json``) groups
yes/no items into domains, each item worth 1 or 2 points. The score is the share of the
applicable points answered yes, and the band uses the published CPC cut-offs (domain guide
§7). The built-in items are our own wording: the CPC 2.0 items are proprietary and are only
the inspiration, so a result here is not a CPC score.

>>> checklist = load_checklist()
>>> answers = {item.id: "yes" for domain in checklist.domains for item in domain.items}
>>> result = score_checklist(checklist, answers)
>>> result.percent, result.band
(100.0, 'very_high')
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import Any

from whatworks.analytics.treatment.common import DefinitionFiles, schema_problems

SCHEMA = "checklist_schema.json"
ANSWERS = ("yes", "no", "not_applicable")
FIDELITY_BANDS = ("low", "moderate", "high", "very_high")
ALL_ITEMS = "(all items)"  # the FidelityAnswerError key when no item applies


class ChecklistError(ValueError):
    """A checklist file or name that cannot be used; one ``<file>: <field path>: <message>``
    line per problem, also in ``errors``."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or [message]


class FidelityAnswerError(ValueError):
    """Answers that cannot be scored; ``errors`` maps each item id to its problem."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("\n".join(f"{key}: {message}" for key, message in errors.items()))
        self.errors = dict(errors)


@dataclasses.dataclass(frozen=True)
class ChecklistItem:
    id: str
    text: Mapping[str, str]
    points: int


@dataclasses.dataclass(frozen=True)
class ChecklistDomain:
    id: str
    name: Mapping[str, str]
    items: tuple[ChecklistItem, ...]


@dataclasses.dataclass(frozen=True)
class Checklist:
    """One fidelity checklist. Build with :func:`load_checklist`."""

    slug: str
    version: str
    name: Mapping[str, str]
    citation: str
    domains: tuple[ChecklistDomain, ...]
    description: Mapping[str, str] | None = None
    source: str = ""

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for domain in self.domains for item in domain.items)


@dataclasses.dataclass(frozen=True)
class FidelityResult:
    """The outcome of :func:`score_checklist`.

    ``percent`` is ``100 * points / possible`` over applicable items (not rounded; the band
    rounds it). ``domain_percents`` is None for a domain whose items are all not applicable.
    """

    percent: float
    band: str
    points: int
    possible: int
    domain_percents: Mapping[str, float | None]


def _semantic_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    domain_ids: set[str] = set()
    item_ids: set[str] = set()
    for d_index, domain in enumerate(data["domains"]):
        if domain["id"] in domain_ids:
            problems.append((f"domains/{d_index}/id", f"duplicate domain id {domain['id']!r}"))
        domain_ids.add(domain["id"])
        for i_index, item in enumerate(domain["items"]):
            if item["id"] in item_ids:
                where = f"domains/{d_index}/items/{i_index}/id"
                problems.append((where, f"duplicate item id {item['id']!r}"))
            item_ids.add(item["id"])
    return problems


def checklist_from_mapping(data: Any, source: str = "<mapping>") -> Checklist:
    """Validate a parsed checklist file and build a :class:`Checklist`."""
    problems = schema_problems(SCHEMA, data) or _semantic_problems(data)
    if problems:
        lines = [f"{source}: {where}: {message}" for where, message in problems]
        raise ChecklistError("\n".join(lines), lines)
    return Checklist(
        slug=data["slug"],
        version=data["version"],
        name=dict(data["name"]),
        citation=" ".join(data["citation"].split()),
        description=data.get("description"),
        domains=tuple(
            ChecklistDomain(
                id=domain["id"],
                name=dict(domain["name"]),
                items=tuple(
                    ChecklistItem(item["id"], dict(item["text"]), item["points"])
                    for item in domain["items"]
                ),
            )
            for domain in data["domains"]
        ),
        source=source,
    )


_FILES = DefinitionFiles(
    kind="checklist",
    marker_key="domains",
    from_mapping=checklist_from_mapping,
    error_type=ChecklistError,
)


def list_checklists() -> list[str]:
    """The slugs of the built-in checklists, sorted."""
    return _FILES.names()


def load_checklist(name: str | Path = "cpc-style") -> Checklist:
    """A built-in checklist by slug, or a checklist YAML file by path."""
    return _FILES.load(name)


def _whole_percent(percent: Fraction) -> int:
    """Round half up to a whole percent (45.5 -> 46), exactly."""
    return math.floor(percent + Fraction(1, 2))


def _band(percent: Fraction) -> str:
    whole = _whole_percent(percent)
    if whole >= 65:
        return "very_high"
    if whole >= 55:
        return "high"
    if whole >= 46:
        return "moderate"
    return "low"


def fidelity_band(percent: float) -> str:
    """The CPC band of ``percent`` after rounding half up to a whole percent.

    ``>= 65`` very_high, ``55-64`` high, ``46-54`` moderate, ``<= 45`` low; so 45.4 is low
    and 45.5 is moderate. A float is read as the decimal it prints as.
    """
    if isinstance(percent, bool) or not 0 <= percent <= 100:
        raise ValueError(f"percent must be from 0 to 100, not {percent!r}")
    exact = Fraction(repr(percent)) if isinstance(percent, float) else Fraction(percent)
    return _band(exact)


def score_checklist(checklist: Checklist, answers: Mapping[str, str]) -> FidelityResult:
    """Score ``answers`` (item id -> ``"yes"``, ``"no"`` or ``"not_applicable"``).

    A not-applicable item leaves both the points and the possible points. Raises
    :class:`FidelityAnswerError` listing every missing, unknown or invalid answer, or when
    no item applies (a score of nothing would be meaningless).
    """
    errors: dict[str, str] = {}
    known = set(checklist.item_ids)
    for item_id in checklist.item_ids:
        if item_id not in answers:
            errors[item_id] = "missing answer"
        elif answers[item_id] not in ANSWERS:
            errors[item_id] = f"answer must be yes, no or not_applicable, not {answers[item_id]!r}"
    for item_id in answers:
        if item_id not in known:
            errors[item_id] = f"unknown item in checklist {checklist.slug!r}"
    if errors:
        raise FidelityAnswerError(errors)
    points = possible = 0
    domain_percents: dict[str, float | None] = {}
    for domain in checklist.domains:
        applicable = [item for item in domain.items if answers[item.id] != "not_applicable"]
        domain_possible = sum(item.points for item in applicable)
        domain_points = sum(item.points for item in applicable if answers[item.id] == "yes")
        points += domain_points
        possible += domain_possible
        domain_percents[domain.id] = (
            round(100 * domain_points / domain_possible, 6) if domain_possible else None
        )
    if not possible:
        raise FidelityAnswerError({ALL_ITEMS: "every item is not applicable: nothing to score"})
    exact = Fraction(100 * points, possible)
    return FidelityResult(
        percent=round(float(exact), 6),
        band=_band(exact),
        points=points,
        possible=possible,
        domain_percents=MappingProxyType(domain_percents),
    )

"""Monthly random selection for drug testing: a main list and an ordered reserve list.

The method, with the exact weighting and sampling, is in ``docs/drug-testing.md``. In short:

* Candidates with an ``excluded_reason`` (already released, in hospital...) are not eligible.
  The eligible ones are **sorted by key** before drawing, so input order never matters.
* Each eligible person gets a weight
  ``1 * treatment_weight (if in substance treatment) * recent_positive_weight (if a recent
  positive)``.
* The main list has ``ceil(target_rate * eligible count)`` people; the reserve list has
  ``max(1, ceil(reserve_share * main size))`` (fewer only when nobody else is eligible).
* Sampling is weighted and **without replacement**, by Efraimidis-Spirakis keys: each person
  draws ``u ~ Uniform(0, 1)`` from ``numpy.random.Generator(PCG64(seed))`` in key order and
  gets the key ``log(u) / weight``; people are ranked by that key, largest first. The first
  ones form the main list and the next ones the reserve, in order. This is the same as
  drawing one person at a time with probability proportional to weight among those not yet
  drawn, so the reserve is drawn "from the rest in the same weighted way".
* The seed defaults to :func:`month_seed` (SHA-256 of facility and month), so the same
  facility, month, candidates and rules always give the same lists.

>>> people = [Candidate(f"p{n:02d}") for n in range(20)]
>>> lists = draw(people, facility="north", month="2026-03")
>>> len(lists.main), len(lists.reserve)
(2, 1)
>>> draw(reversed(people), facility="north", month="2026-03") == lists
True
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

MONTH_PATTERN = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


class ReserveExhaustedError(ValueError):
    """More people on the main list cannot be tested than the reserve list can replace.

    ``untested`` lists the main-list keys left without a replacement; the list is never
    shortened silently."""

    def __init__(self, message: str, untested: tuple[str, ...]) -> None:
        super().__init__(message)
        self.untested = untested


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One person who could be drawn. ``key`` is any stable identifier (not a name).

    ``excluded_reason`` (e.g. ``"released"``) makes the person ineligible this month."""

    key: str
    in_substance_treatment: bool = False
    recent_positive: bool = False
    excluded_reason: str | None = None


@dataclasses.dataclass(frozen=True)
class SelectionRules:
    """How many to draw and how to weight them.

    ``target_rate``: the share of the eligible population on the main list each month
    (0 < rate ≤ 1). ``treatment_weight`` and ``recent_positive_weight`` multiply a person's
    weight (both > 0; they combine, so both together give 2 * 3 = 6 by default).
    ``reserve_share``: the reserve list length as a share of the main list (≥ 0; the reserve
    always has at least 1 person when anyone is left)."""

    target_rate: float = 0.10
    treatment_weight: float = 2.0
    recent_positive_weight: float = 3.0
    reserve_share: float = 0.5

    def __post_init__(self) -> None:
        for name in ("target_rate", "treatment_weight", "recent_positive_weight", "reserve_share"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"selection rules: {name} must be a number, not {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"selection rules: {name} must be finite, not {value!r}")
        if not 0 < self.target_rate <= 1:
            raise ValueError(
                "selection rules: target_rate must be above 0 and at most 1,"
                f" not {self.target_rate}"
            )
        for name in ("treatment_weight", "recent_positive_weight"):
            if getattr(self, name) <= 0:
                raise ValueError(
                    f"selection rules: {name} must be greater than 0, not {getattr(self, name)}"
                )
        if self.reserve_share < 0:
            raise ValueError(
                f"selection rules: reserve_share cannot be negative, not {self.reserve_share}"
            )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SelectionRules:
        """Rules from a mapping (a settings file, a form); unknown keys are an error."""
        if not isinstance(data, Mapping):
            raise ValueError("selection rules: expected a mapping of rule names to numbers")
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"selection rules: unknown setting(s) {', '.join(unknown)};"
                f" known: {', '.join(sorted(known))}"
            )
        return cls(**dict(data))

    def weight(self, candidate: Candidate) -> float:
        weight = 1.0
        if candidate.in_substance_treatment:
            weight *= self.treatment_weight
        if candidate.recent_positive:
            weight *= self.recent_positive_weight
        return weight

    def main_size(self, eligible_count: int) -> int:
        # round() first so that 0.1 * 30 (3.0000000000000004 in floats) is 3, not 4.
        return math.ceil(round(self.target_rate * eligible_count, 9))

    def reserve_size(self, main_size: int, remaining: int) -> int:
        wanted = max(1, math.ceil(round(self.reserve_share * main_size, 9)))
        return min(wanted, remaining)


@dataclasses.dataclass(frozen=True)
class SelectionList:
    """One facility's lists for one month. ``main`` and ``reserve`` are in draw order;
    ``weights`` holds every eligible person's weight; ``excluded`` maps each ineligible key
    to its reason."""

    facility: str
    month: str
    seed: int
    main: tuple[str, ...]
    reserve: tuple[str, ...]
    weights: Mapping[str, float]
    excluded: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", MappingProxyType(dict(self.weights)))
        object.__setattr__(self, "excluded", MappingProxyType(dict(self.excluded)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SelectionList):
            return NotImplemented
        return self.to_dict() == other.to_dict() and dict(self.weights) == dict(other.weights)

    def __hash__(self) -> int:
        return hash((self.facility, self.month, self.seed, self.main, self.reserve))

    def to_dict(self) -> dict[str, Any]:
        """What to store: enough to show, and with the candidates to re-create, the draw."""
        return {
            "facility": self.facility,
            "month": self.month,
            "seed": self.seed,
            "main": list(self.main),
            "reserve": list(self.reserve),
        }


@dataclasses.dataclass(frozen=True)
class Substitution:
    """A person on a list who was not tested, and why.

    ``list_name`` is ``"main"`` or ``"reserve"``. For a main-list person ``replaced_by`` is
    the reserve who took the place; a reserve who could not be tested is skipped
    (``replaced_by`` is ``None``)."""

    key: str
    reason: str
    list_name: str
    replaced_by: str | None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _check_facility_and_month(facility: str, month: str) -> None:
    if not isinstance(facility, str) or not facility.strip():
        raise ValueError("facility must be a non-empty string")
    if not isinstance(month, str) or not MONTH_PATTERN.match(month):
        raise ValueError(f"month must be written YYYY-MM (e.g. 2026-03), not {month!r}")


def month_seed(facility: str, month: str) -> int:
    """The default seed: the first 8 bytes of ``SHA-256("<facility>\\n<month>")`` (UTF-8),
    read as a big-endian unsigned integer.

    >>> month_seed("north", "2026-03") == month_seed("north", "2026-03")
    True
    """
    _check_facility_and_month(facility, month)
    digest = hashlib.sha256(f"{facility}\n{month}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def draw(
    candidates: Iterable[Candidate],
    *,
    facility: str,
    month: str,
    seed: int | None = None,
    rules: SelectionRules | None = None,
) -> SelectionList:
    """Draw one month's main and reserve lists (the method is in the module docstring)."""
    _check_facility_and_month(facility, month)
    rules = rules or SelectionRules()
    if seed is None:
        seed = month_seed(facility, month)
    elif isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")

    eligible: list[Candidate] = []
    excluded: dict[str, str] = {}
    seen: set[str] = set()
    for candidate in candidates:
        if not isinstance(candidate.key, str) or not candidate.key:
            raise ValueError(f"every candidate needs a non-empty string key, not {candidate.key!r}")
        if candidate.key in seen:
            raise ValueError(f"candidate {candidate.key!r} appears more than once")
        seen.add(candidate.key)
        if candidate.excluded_reason:
            excluded[candidate.key] = candidate.excluded_reason
        else:
            eligible.append(candidate)
    eligible.sort(key=lambda candidate: candidate.key)

    keys = [candidate.key for candidate in eligible]
    weights = np.array([rules.weight(candidate) for candidate in eligible], dtype=float)
    rng = np.random.Generator(np.random.PCG64(seed))
    uniforms = rng.random(len(keys))
    # 1 - u lies in (0, 1], so the logarithm is finite; larger key = drawn earlier.
    ranking_keys = np.log1p(-uniforms) / weights if len(keys) else np.array([])
    order = np.argsort(-ranking_keys, kind="stable")
    ranked = [keys[index] for index in order]

    main_size = rules.main_size(len(keys))
    reserve_size = rules.reserve_size(main_size, len(keys) - main_size)
    return SelectionList(
        facility=facility,
        month=month,
        seed=seed,
        main=tuple(ranked[:main_size]),
        reserve=tuple(ranked[main_size : main_size + reserve_size]),
        weights={key: float(weight) for key, weight in zip(keys, weights, strict=True)},
        excluded=excluded,
    )


def promote_reserve(
    selection: SelectionList, *, untestable: Mapping[str, str]
) -> tuple[tuple[str, ...], tuple[Substitution, ...]]:
    """Replace each main-list person who cannot be tested by the next reserve, in order.

    ``untestable`` maps a key (on the main or reserve list) to the recorded reason (e.g.
    ``"released"``, ``"court_hearing"``). A reserve who is also untestable is skipped, with
    the reason recorded. Returns the updated main list (each replacement takes the place of
    the person replaced) and every :class:`Substitution`, in the order they were made.

    Raises ``ValueError`` for a key on neither list or an empty reason, and
    :class:`ReserveExhaustedError` when the reserve runs out.
    """
    listed = set(selection.main) | set(selection.reserve)
    for key, why in untestable.items():
        if key not in listed:
            raise ValueError(f"{key!r} is on neither the main nor the reserve list")
        if not isinstance(why, str) or not why.strip():
            raise ValueError(f"{key!r}: a reason is required for not testing a person")

    reserve = list(selection.reserve)
    next_reserve = 0
    main: list[str] = []
    substitutions: list[Substitution] = []
    untested: list[str] = []
    for key in selection.main:
        if key not in untestable:
            main.append(key)
            continue
        replacement = None
        while next_reserve < len(reserve) and replacement is None:
            candidate = reserve[next_reserve]
            next_reserve += 1
            if candidate in untestable:
                substitutions.append(
                    Substitution(candidate, untestable[candidate], "reserve", None)
                )
            else:
                replacement = candidate
        if replacement is None:
            untested.append(key)
            continue
        substitutions.append(Substitution(key, untestable[key], "main", replacement))
        main.append(replacement)
    if untested:
        raise ReserveExhaustedError(
            f"{selection.facility} {selection.month}: the reserve list ran out;"
            f" {len(untested)} person(s) on the main list cannot be replaced"
            f" ({', '.join(untested)}). Draw a larger reserve or record the shortfall.",
            tuple(untested),
        )
    return tuple(main), tuple(substitutions)

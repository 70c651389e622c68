"""Ranking a programme's waiting list by risk, need, time to release and time waited.

A first-come-first-served list gives places to whoever asked first, often low-risk people
with long sentences, while high-risk people about to be released leave untreated. The rank
here puts risk and need first (the risk and need principles) and moves people released soon
*up* rather than out: someone who cannot finish inside gets a reason saying the programme
must continue in the community. Time waited breaks the stalemate, so nobody waits forever.

Each component is in [0, 1] before weighting (see ``docs/treatment-rules.md``):

* risk: low 0, moderate 0.5, high 0.85, very high 1, not assessed 0.5;
* need: ``clip(need_ratio / 2, 0, 1)`` (twice the threshold or more is 1), unknown 0.5;
* release: ``1 - clip(days_to_release / release_horizon_days, 0, 1)``, unknown 0.25;
* waiting: ``clip(days_waiting / waiting_cap_days, 0, 1)``.

``score = Σ weight · component / Σ weights``, rounded to 6 decimals so that float noise never
decides a rank. Rank 1 is the highest score; ties go to the longer wait, then the key.

>>> ranked = rank_waitlist([
...     WaitlistCandidate("a", "moderate", 1.0, 30, 10),
...     WaitlistCandidate("b", "moderate", 1.0, 3000, 10),
... ])
>>> [(r.key, r.rank, r.score) for r in ranked]
[('a', 1, 0.539117), ('b', 2, 0.355556)]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from whatworks.analytics.treatment.common import RISK_BANDS, Reason, number, reason

REASON_CODES = (
    "waitlist_risk",
    "waitlist_need",
    "waitlist_need_unknown",
    "waitlist_release",
    "waitlist_release_unknown",
    "waitlist_waiting",
    "release_before_programme_ends",
)

RISK_COMPONENT = MappingProxyType({"low": 0.0, "moderate": 0.5, "high": 0.85, "very_high": 1.0})
UNKNOWN_RISK = 0.5
UNKNOWN_NEED = 0.5
UNKNOWN_RELEASE = 0.25
COMPONENTS = ("risk", "need", "release", "waiting")


def _clip(value: float) -> float:
    return min(max(value, 0.0), 1.0)


@dataclasses.dataclass(frozen=True)
class WaitlistWeights:
    """How much each component counts; weights are relative (divided by their sum)."""

    risk: float = 0.4
    need: float = 0.3
    release: float = 0.2
    waiting: float = 0.1
    release_horizon_days: int = 365
    waiting_cap_days: int = 180

    def __post_init__(self) -> None:
        for name in COMPONENTS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name}: a weight must be a number >= 0")
        if self.total <= 0:
            raise ValueError("risk, need, release, waiting: the weights must not all be 0")
        for name in ("release_horizon_days", "waiting_cap_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: must be a whole number of days >= 1")

    @property
    def total(self) -> float:
        return self.risk + self.need + self.release + self.waiting

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> WaitlistWeights:
        """From configuration; keys left out keep their default, an unknown key is named."""
        if not isinstance(data, Mapping):
            raise ValueError("waitlist weights: must be a mapping")
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown key in the waitlist weights")
        return cls(**data)


@dataclasses.dataclass(frozen=True)
class WaitlistCandidate:
    """A person waiting for a place.

    ``need_ratio`` is the highest score / threshold among the programme's target needs;
    ``days_to_release`` is None when unknown (on remand, for instance) and negative when the
    date has passed; ``programme_days`` is the programme's expected duration.
    """

    key: str
    risk_band: str | None
    need_ratio: float | None
    days_to_release: int | None
    days_waiting: int
    programme_days: int | None = None

    def __post_init__(self) -> None:
        if self.risk_band is not None and self.risk_band not in RISK_BANDS:
            raise ValueError(f"{self.key}: unknown risk band {self.risk_band!r}")
        if self.need_ratio is not None and self.need_ratio < 0:
            raise ValueError(f"{self.key}: need_ratio cannot be negative")
        if self.days_waiting < 0:
            raise ValueError(f"{self.key}: days_waiting cannot be negative")
        if self.programme_days is not None and self.programme_days < 0:
            raise ValueError(f"{self.key}: programme_days cannot be negative")


@dataclasses.dataclass(frozen=True)
class RankedCandidate:
    """One place in the ranking. ``components`` holds each component's weighted contribution
    (``weight · component / Σ weights``, 6 decimals), so the four add up to ``score``
    (give or take the rounding)."""

    key: str
    rank: int
    score: float
    components: Mapping[str, float]
    reasons: tuple[Reason, ...]


def _score(candidate: WaitlistCandidate, weights: WaitlistWeights) -> RankedCandidate:
    raw: dict[str, float] = {}
    raw["risk"] = (
        RISK_COMPONENT[candidate.risk_band] if candidate.risk_band is not None else UNKNOWN_RISK
    )
    raw["need"] = (
        _clip(candidate.need_ratio / 2) if candidate.need_ratio is not None else UNKNOWN_NEED
    )
    if candidate.days_to_release is None:
        raw["release"] = UNKNOWN_RELEASE
    else:
        raw["release"] = 1 - _clip(candidate.days_to_release / weights.release_horizon_days)
    raw["waiting"] = _clip(candidate.days_waiting / weights.waiting_cap_days)
    contributions = {
        name: round(getattr(weights, name) * raw[name] / weights.total, 6) for name in COMPONENTS
    }
    score = round(sum(getattr(weights, n) * raw[n] for n in COMPONENTS) / weights.total, 6)

    def part(name: str) -> dict[str, float | int]:
        return {"component": number(raw[name]), "contribution": number(contributions[name])}

    reasons = [
        reason("waitlist_risk", risk_band=candidate.risk_band or "not_assessed", **part("risk"))
    ]
    if candidate.need_ratio is None:
        reasons.append(reason("waitlist_need_unknown", **part("need")))
    else:
        reasons.append(
            reason("waitlist_need", need_ratio=number(candidate.need_ratio), **part("need"))
        )
    if candidate.days_to_release is None:
        reasons.append(reason("waitlist_release_unknown", **part("release")))
    else:
        reasons.append(
            reason("waitlist_release", days_to_release=candidate.days_to_release, **part("release"))
        )
    reasons.append(
        reason("waitlist_waiting", days_waiting=candidate.days_waiting, **part("waiting"))
    )
    if (
        candidate.days_to_release is not None
        and candidate.programme_days is not None
        and candidate.days_to_release < candidate.programme_days
    ):
        reasons.append(
            reason(
                "release_before_programme_ends",
                days_to_release=candidate.days_to_release,
                programme_days=candidate.programme_days,
            )
        )
    return RankedCandidate(
        key=candidate.key,
        rank=0,
        score=number(score),
        components=MappingProxyType(contributions),
        reasons=tuple(reasons),
    )


def rank_waitlist(
    candidates: Sequence[WaitlistCandidate],
    weights: WaitlistWeights = WaitlistWeights(),
) -> list[RankedCandidate]:
    """Candidates from rank 1 (highest score) down; ties: longer wait first, then key.

    Ranks are 1, 2, 3, … with no shared ranks, so the order is total and reproducible.
    """
    keys = [c.key for c in candidates]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValueError(f"duplicate candidate keys: {', '.join(duplicates)}")
    scored = [(_score(c, weights), c) for c in candidates]
    scored.sort(key=lambda pair: (-pair[0].score, -pair[1].days_waiting, pair[1].key))
    return [
        dataclasses.replace(result, rank=position)
        for position, (result, _) in enumerate(scored, start=1)
    ]

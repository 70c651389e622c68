"""Wilson intervals and publication safety: small-cell suppression, secondary suppression
and rounding of published counts (domain guide §8)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

# Two-sided 95%: the 0.975 quantile of the standard normal distribution.
Z_95 = 1.959963984540054


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion.

    With p = successes / trials and n = trials::

        centre = (p + z²/2n) / (1 + z²/n)
        half   = z / (1 + z²/n) * sqrt(p(1 - p)/n + z²/4n²)

    >>> low, high = wilson_interval(40, 100)
    >>> round(low, 4), round(high, 4)
    (0.3094, 0.498)
    """
    if trials <= 0:
        return (math.nan, math.nan)
    n = float(trials)
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclasses.dataclass(frozen=True)
class Suppression:
    """Publication rules. Counts from 1 to ``min_count - 1`` are suppressed (0 stays), then
    secondary suppression protects them; published counts are rounded to ``rounding`` (for
    example 5) when set. Rates and intervals come from the unrounded counts."""

    min_count: int = 10
    rounding: int | None = None

    def __post_init__(self) -> None:
        if self.min_count < 0:
            raise ValueError("min_count must be 0 or more")
        if self.rounding is not None and self.rounding < 1:
            raise ValueError("rounding must be a positive base, such as 5")

    def to_dict(self) -> dict[str, Any]:
        return {"min_count": self.min_count, "rounding": self.rounding}

    def disclosive(self, count: int | None) -> bool:
        return count is not None and 0 < count < self.min_count

    def round(self, count: int | None) -> int | None:
        if count is None or not self.rounding:
            return count
        # Round half up to the nearest multiple of the base.
        return math.floor(count / self.rounding + 0.5) * self.rounding


@dataclasses.dataclass
class WindowCell:
    """The figures of one window for one group (or overall), before publication rules."""

    years: int
    eligible: int
    recidivists: int
    events: int | None = None
    suppressed: bool = False
    suppressed_reason: str | None = None

    @property
    def rate(self) -> float | None:
        return self.recidivists / self.eligible if self.eligible else None

    def counts(self) -> list[int]:
        values = [self.eligible, self.recidivists]
        if self.events is not None:
            values.append(self.events)
        return values

    def publish(self, suppression: Suppression | None) -> dict[str, Any]:
        """The cell as published: ``years, eligible, recidivists, rate, ci_low, ci_high,
        suppressed`` and, for event-based counting, ``events`` and ``events_per_release``."""
        out: dict[str, Any] = {"years": self.years}
        if self.suppressed:
            out.update(eligible=None, recidivists=None, rate=None, ci_low=None, ci_high=None)
            out.update(suppressed=True)
            if self.events is not None:
                out.update(events=None, events_per_release=None)
            return out
        low, high = wilson_interval(self.recidivists, self.eligible)
        rounder = suppression.round if suppression else (lambda c: c)
        out.update(
            eligible=rounder(self.eligible),
            recidivists=rounder(self.recidivists),
            rate=self.rate,
            ci_low=None if math.isnan(low) else low,
            ci_high=None if math.isnan(high) else high,
            suppressed=False,
        )
        if self.events is not None:
            out.update(
                events=rounder(self.events),
                events_per_release=self.events / self.eligible if self.eligible else None,
            )
        return out


def apply_primary(cells: list[WindowCell], suppression: Suppression) -> None:
    for cell in cells:
        if any(suppression.disclosive(count) for count in cell.counts()):
            cell.suppressed = True
            cell.suppressed_reason = "small_count"


def apply_secondary(group_cells: list[WindowCell]) -> None:
    """Within one breakdown and window: if exactly one group is suppressed, also suppress the
    unsuppressed group with the fewest eligible releases (preferring groups with some), so the
    suppressed cell cannot be recovered as the overall figure minus the others."""
    suppressed = [c for c in group_cells if c.suppressed]
    if len(suppressed) != 1:
        return
    candidates = [c for c in group_cells if not c.suppressed]
    if not candidates:
        return
    candidates.sort(key=lambda c: (c.eligible == 0, c.eligible, c.recidivists))
    candidates[0].suppressed = True
    candidates[0].suppressed_reason = "secondary"

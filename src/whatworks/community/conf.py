"""The follow-up settings, parsed and checked. A value that cannot be used stops the
start-up (``CommunityConfig.ready``), naming the variable, like ``whatworks.environment``."""

from __future__ import annotations

import calendar
import datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_MONTHS = (1, 3, 6, 12)
DEFAULT_GRACE_DAYS = 14
MAX_MONTHS = 120


def followup_months() -> tuple[int, ...]:
    """The months after release at which a follow-up contact is due, sorted, unique."""
    raw = getattr(settings, "WHATWORKS_FOLLOWUP_MONTHS", None)
    if raw is None:
        return DEFAULT_MONTHS
    if isinstance(raw, str):
        raw = [item.strip() for item in raw.split(",") if item.strip()]
    months: set[int] = set()
    for item in raw:
        try:
            month = int(item)
        except (TypeError, ValueError):
            raise ImproperlyConfigured(
                f"WHATWORKS_FOLLOWUP_MONTHS: {item!r} is not a whole number of months"
            ) from None
        if not 1 <= month <= MAX_MONTHS:
            raise ImproperlyConfigured(
                f"WHATWORKS_FOLLOWUP_MONTHS: {month} must be between 1 and {MAX_MONTHS}"
            )
        months.add(month)
    if not months:
        raise ImproperlyConfigured("WHATWORKS_FOLLOWUP_MONTHS: give at least one month")
    return tuple(sorted(months))


def grace_days() -> int:
    """Days after the due date before a scheduled contact counts as missed."""
    raw = getattr(settings, "WHATWORKS_FOLLOWUP_GRACE_DAYS", DEFAULT_GRACE_DAYS)
    try:
        days = int(str(raw).strip())
    except ValueError:
        raise ImproperlyConfigured(
            f"WHATWORKS_FOLLOWUP_GRACE_DAYS must be a whole number of days, got {raw!r}"
        ) from None
    if days < 0:
        raise ImproperlyConfigured(f"WHATWORKS_FOLLOWUP_GRACE_DAYS must be 0 or more, got {days}")
    return days


def add_months(day: datetime.date, months: int) -> datetime.date:
    """Calendar months later; the day is clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))

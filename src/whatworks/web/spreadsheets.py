"""Formula-injection protection for every CSV and XLSX the web app writes for users.

The rule lives in ``whatworks.analytics.spreadsheets`` (no Django there, so the analytics
CLIs share it); this module adds Django's lazy translation strings, which are text too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.functional import Promise

from whatworks.analytics.spreadsheets import FORMULA_PREFIXES, safe_frame
from whatworks.analytics.spreadsheets import safe_cell as _safe_cell

__all__ = ["FORMULA_PREFIXES", "safe_cell", "safe_frame", "safe_row"]


def safe_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` if it is text a spreadsheet would run as a formula."""
    if isinstance(value, Promise):
        value = str(value)
    return _safe_cell(value)


def safe_row(values: Iterable[Any]) -> list[Any]:
    """Every cell of a row through :func:`safe_cell`."""
    return [safe_cell(value) for value in values]

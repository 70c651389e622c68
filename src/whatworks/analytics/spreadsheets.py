"""Cells that a spreadsheet program will not run: protection against formula injection.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read
by Excel, LibreOffice and Google Sheets as a formula, so a name such as
``=HYPERLINK("http://x","y")`` typed into a record would become a live link (or worse) in
whoever opens an export. Following OWASP ("CSV Injection"), such text is written with a
leading single quote, which makes it plain text. Numbers stay numbers: only ``str`` values
are touched, and text that is exactly a number (``-12``, ``+3.5``) is left alone because a
spreadsheet reads it as that number, never as a formula.

Pure Python and polars only (no Django), so the analytics CLIs can use it; the web side
re-exports it from ``whatworks.web.spreadsheets``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBER_RE = re.compile(_NUMBER)
_FORMULA_START = r"^[=+\-@\t\r]"


def safe_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` if it is text a spreadsheet would run as a formula."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_PREFIXES)
        and not _NUMBER_RE.fullmatch(value)
    ):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """Every cell of a row through :func:`safe_cell`."""
    return [safe_cell(value) for value in values]


def safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every text column neutralised (numeric and date columns untouched)."""
    import polars as pl

    text_columns = [
        name
        for name, dtype in frame.schema.items()
        if dtype == pl.String or isinstance(dtype, (pl.Categorical, pl.Enum))
    ]
    if not text_columns:
        return frame
    expressions = []
    for name in text_columns:
        column = pl.col(name).cast(pl.String)
        risky = column.str.contains(_FORMULA_START) & ~column.str.contains(f"^{_NUMBER}$")
        expressions.append(pl.when(risky).then(pl.lit("'") + column).otherwise(column).alias(name))
    return frame.with_columns(expressions)

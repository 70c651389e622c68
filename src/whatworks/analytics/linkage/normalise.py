"""Normalisation of names and identifiers before they are compared.

Names lose accents, case, punctuation and extra spaces ("José-Ignacio  MUÑOZ" ->
"jose ignacio munoz"). National identity numbers keep only their digits and check
character ("15.381.135-0", "15381135-0" and "153811350" are the same RUT; a CPF
"123.456.789-09" becomes "12345678909"). Prison numbers ignore case, spaces and
punctuation ("cl 1000037" == "CL-1000037").
"""

from __future__ import annotations

import unicodedata

import polars as pl

# Surname particles that carry no identifying information ("Souza da Silva", "del Río").
PARTICLES = frozenset({"da", "das", "de", "del", "do", "dos", "e", "la", "las", "los", "y"})


def normalise_name(value: str | None) -> str:
    """Lower case ASCII words separated by single spaces; ``""`` for a missing name.

    >>> normalise_name("  José-Ignacio  MUÑOZ ")
    'jose ignacio munoz'
    >>> normalise_name("Conceição d'Ávila")
    'conceicao d avila'
    >>> normalise_name(None)
    ''
    """
    if not value:
        return ""
    decomposed = unicodedata.normalize("NFKD", value)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    cleaned = "".join(c if c.isalnum() else " " for c in ascii_only)
    return " ".join(cleaned.split())


def normalise_national_id(value: str | None) -> str | None:
    """Digits and check character only, upper case, without leading zeros; None if empty.

    >>> normalise_national_id("15.381.135-0")
    '153811350'
    >>> normalise_national_id("15381135-0") == normalise_national_id("153811350")
    True
    >>> normalise_national_id("9.876.543-k")
    '9876543K'
    >>> normalise_national_id(" - ") is None
    True
    """
    if not value:
        return None
    kept = "".join(c for c in str(value) if c.isalnum()).upper().lstrip("0")
    return kept or None


def normalise_prison_number(value: str | None) -> str | None:
    """Prison number compared without case, spaces or punctuation; None if empty.

    >>> normalise_prison_number(" cl-1000037 ")
    'CL1000037'
    """
    if not value:
        return None
    kept = "".join(c for c in str(value) if c.isalnum()).upper()
    return kept or None


def surname_tokens(surnames: str) -> list[str]:
    """Normalised surname words without particles ("Souza da Silva" -> souza, silva)."""
    words = normalise_name(surnames).split()
    kept = [w for w in words if w not in PARTICLES]
    return kept or words


def _swap_day_month(iso: str | None) -> str | None:
    if iso is None:
        return None
    year, month, day = iso[0:4], iso[5:7], iso[8:10]
    if day == month or int(day) > 12:
        return None
    return f"{year}-{day}-{month}"


def _as_dates(values: pl.Series) -> pl.Series:
    """Dates from a Date, Datetime, ISO text or all-null column; unparseable text is null."""
    if values.dtype == pl.Date:
        return values
    if values.dtype == pl.Null:
        return values.cast(pl.Date)
    if isinstance(values.dtype, pl.Datetime):
        return values.dt.date()
    if values.dtype == pl.Utf8:
        return values.str.strip_chars().str.to_date("%Y-%m-%d", strict=False)
    return pl.Series(values.name, [None] * len(values), dtype=pl.Date)


def comparison_frame(
    unique_id: list[str],
    given_names: list[str | None],
    surnames: list[str | None],
    date_of_birth: pl.Series,
    national_id: list[str | None],
    prison_number: list[str | None],
) -> pl.DataFrame:
    """The columns Splink compares, one row per input row (both sides use this shape).

    ``given_names``/``first_name``: all given names and the first one; ``surnames`` without
    particles, ``surname1``/``surname2`` the first and last of them (surname2 null when
    there is only one), ``surname_key`` the surnames in alphabetical order (for blocking
    on swapped surnames; null with one surname); ``dob`` ISO text, ``dob_swapped`` the
    same date with day and month swapped when that is a valid different date,
    ``dob_year`` and ``dob_month_day`` for blocking; identifiers normalised.
    """
    given = [normalise_name(v) for v in given_names]
    tokens = [surname_tokens(v or "") for v in surnames]
    dob_text = _as_dates(date_of_birth).dt.strftime("%Y-%m-%d").to_list()
    frame = pl.DataFrame(
        {
            "unique_id": unique_id,
            "given_names": [g or None for g in given],
            "first_name": [g.split()[0] if g else None for g in given],
            "surnames": [" ".join(t) or None for t in tokens],
            "surname1": [t[0] if t else None for t in tokens],
            "surname2": [t[-1] if len(t) > 1 else None for t in tokens],
            "surname_key": [" ".join(sorted(t)) if len(t) > 1 else None for t in tokens],
            "dob": dob_text,
            "dob_swapped": [_swap_day_month(d) for d in dob_text],
            "dob_year": [int(d[:4]) if d else None for d in dob_text],
            "dob_month_day": [d[5:] if d else None for d in dob_text],
            "national_id": [normalise_national_id(v) for v in national_id],
            "prison_number": [normalise_prison_number(v) for v in prison_number],
        },
        schema={
            "unique_id": pl.Utf8,
            "given_names": pl.Utf8,
            "first_name": pl.Utf8,
            "surnames": pl.Utf8,
            "surname1": pl.Utf8,
            "surname2": pl.Utf8,
            "surname_key": pl.Utf8,
            "dob": pl.Utf8,
            "dob_swapped": pl.Utf8,
            "dob_year": pl.Int64,
            "dob_month_day": pl.Utf8,
            "national_id": pl.Utf8,
            "prison_number": pl.Utf8,
        },
    )
    return frame

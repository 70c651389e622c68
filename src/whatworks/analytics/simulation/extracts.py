"""Noisy police and court extracts of the simulated outcome events, with the true links.

Police and court systems type names, dates and numbers themselves: a second given name is
dropped, the mother's surname is dropped or put first, accents vanish, everything is upper
case, a letter slips, day and month are swapped, the national id is missing or written
without dots and hyphen, and the prison number is rarely known to the police. Extracts
also hold people who were never in prison (decoys), some sharing a surname with someone
who was. ``extract_links`` records the true person of every row so that linkage can be
scored (see whatworks.analytics.linkage and docs/linkage.md).
"""

from __future__ import annotations

import datetime
import unicodedata
from dataclasses import dataclass

import numpy as np
import polars as pl

from whatworks.analytics.simulation.names import (
    CULTURE_OF_NATIONALITY,
    brazilian_cpf,
    chilean_rut,
    person_names,
)

POLICE_EVENTS = ("rearrest",)
COURT_EVENTS = ("charge", "reconviction")
EXTRACT_COLUMNS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "national_id",
    "prison_number",
    "event_type",
    "event_date",
    "offence_date",
    "source_reference",
)
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class ExtractNoise:
    """Probabilities of each kind of error, per extract row (each drawn independently).

    - ``drop_second_given_name``: "José Ignacio" -> "José" (when there are two).
    - ``drop_second_surname``: "Muñoz Rojas" -> "Muñoz" (when there are two).
    - ``swap_surnames``: "Muñoz Rojas" -> "Rojas Muñoz" (when there are two, not dropped).
    - ``strip_accents``: "Muñoz" -> "Munoz"; ``upper_case``: "MUÑOZ".
    - ``typo``: one character substituted, deleted, inserted or transposed in the given
      names or the surnames.
    - ``swap_day_month``: 1984-01-12 -> 1984-12-01 (only when the swapped date is valid
      and different).
    - ``year_off_by_one``: birth year one more or one less (rare).
    - ``national_id_missing``; ``national_id_reformatted`` (of the ids present): digits and
      check character only ("15381135-0" or "153811350"); ``national_id_typo`` (of the
      ids present): one digit changed.
    - ``police_prison_number`` / ``court_prison_number``: share of rows that carry the
      prison number (the police rarely know it; courts often do).
    - ``decoy_share``: share of each extract's rows about people not in the persons table;
      ``decoy_shares_surname``: share of decoys whose first surname is taken from a real
      person.
    """

    drop_second_given_name: float = 0.30
    drop_second_surname: float = 0.15
    swap_surnames: float = 0.05
    strip_accents: float = 0.50
    upper_case: float = 0.40
    typo: float = 0.10
    swap_day_month: float = 0.03
    year_off_by_one: float = 0.01
    national_id_missing: float = 0.40
    national_id_reformatted: float = 0.40
    national_id_typo: float = 0.01
    police_prison_number: float = 0.05
    court_prison_number: float = 0.50
    decoy_share: float = 0.15
    decoy_shares_surname: float = 0.40


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


_PARTICLES = frozenset({"da", "das", "de", "del", "do", "dos"})


def _name_units(names: str) -> list[str]:
    """Names as units, a particle kept with the name it precedes ("Souza", "da Silva")."""
    units: list[str] = []
    pending = ""
    for word in names.split():
        if word.lower() in _PARTICLES:
            pending = f"{pending}{word} "
        else:
            units.append(pending + word)
            pending = ""
    if pending:
        units.append(pending.strip())
    return units


def _typo(text: str, u: np.ndarray) -> str:
    """One edit at a position inside a word (u: four uniform draws)."""
    if len(text) < 3:
        return text
    position = 1 + int(u[0] * (len(text) - 2))
    letter = _LETTERS[int(u[1] * len(_LETTERS))]
    kind = int(u[2] * 4)
    if kind == 0:
        return text[:position] + letter + text[position + 1 :]
    if kind == 1:
        return text[:position] + text[position + 1 :]
    if kind == 2:
        return text[:position] + letter + text[position:]
    return text[: position - 1] + text[position] + text[position - 1] + text[position + 1 :]


def _noisy_row(
    first_names: str,
    last_names: str,
    dob: datetime.date | None,
    national_id: str | None,
    prison_number: str | None,
    prison_number_share: float,
    noise: ExtractNoise,
    u: np.ndarray,
) -> tuple[str, str, datetime.date | None, str | None, str | None]:
    given = _name_units(first_names)
    if len(given) > 1 and u[0] < noise.drop_second_given_name:
        given = given[:1]
    surnames = _name_units(last_names)
    if len(surnames) > 1:
        if u[1] < noise.drop_second_surname:
            surnames = surnames[:-1]
        elif u[1] < noise.drop_second_surname + noise.swap_surnames:
            surnames = [surnames[-1], *surnames[:-1]]
    first, last = " ".join(given), " ".join(surnames)
    if u[2] < noise.typo:
        if u[3] < 0.5:
            first = _typo(first, u[4:7])
        else:
            last = _typo(last, u[4:7])
    if u[7] < noise.strip_accents:
        first, last = _strip_accents(first), _strip_accents(last)
    if u[8] < noise.upper_case:
        first, last = first.upper(), last.upper()
    if dob is not None:
        if u[9] < noise.swap_day_month and dob.day <= 12 and dob.day != dob.month:
            dob = dob.replace(month=dob.day, day=dob.month)
        elif u[10] < noise.year_off_by_one:
            year = dob.year + (1 if u[11] < 0.5 else -1)
            dob = dob.replace(year=year, day=min(dob.day, 28) if dob.month == 2 else dob.day)
    if national_id is not None:
        if u[12] < noise.national_id_missing:
            national_id = None
        else:
            if u[13] < noise.national_id_typo:
                digits = [i for i, c in enumerate(national_id) if c.isdigit()]
                if digits:
                    at = digits[int(u[14] * len(digits))]
                    new = str((int(national_id[at]) + 1 + int(u[15] * 8)) % 10)
                    national_id = national_id[:at] + new + national_id[at + 1 :]
            if u[16] < noise.national_id_reformatted:
                compact = national_id.replace(".", "")
                national_id = compact.replace("-", "") if u[17] < 0.5 else compact
    if prison_number is not None and u[18] >= prison_number_share:
        prison_number = None
    return first, last, dob, national_id, prison_number


def _decoys(
    rng: np.random.Generator,
    count: int,
    persons: pl.DataFrame,
    noise: ExtractNoise,
    taken_ids: set[str],
) -> list[tuple[str, str, datetime.date, str | None]]:
    """People not in the persons table, named like the simulator names people."""
    if count == 0:
        return []
    nationalities = persons.get_column("nationality").to_list() if persons.height else ["CL"]
    picks = rng.integers(0, len(nationalities), count)
    cultures = [CULTURE_OF_NATIONALITY.get(nationalities[i], "chilean") for i in picks]
    female = rng.random(count) < 0.1
    firsts, lasts = person_names(rng, cultures, female)
    real_surnames = persons.get_column("last_names").to_list() if persons.height else []
    share = rng.random(count)
    donors = rng.integers(0, max(1, len(real_surnames)), count)
    start = datetime.date(1950, 1, 1).toordinal()
    days = rng.integers(0, datetime.date(2006, 12, 31).toordinal() - start, count)
    numbers = rng.integers(5_000_000, 26_000_000, count)
    cpf_numbers = rng.integers(1, 999_999_999, count)
    decoys = []
    for i in range(count):
        last = lasts[i]
        if real_surnames and share[i] < noise.decoy_shares_surname:
            donor = real_surnames[int(donors[i])].split()
            own = last.split()
            last = " ".join([donor[0], *own[1:]]) if len(own) > 1 else donor[0]
        if cultures[i] == "brazilian":
            national_id = brazilian_cpf(int(cpf_numbers[i]))
        else:
            national_id = chilean_rut(int(numbers[i]))
        if national_id in taken_ids:
            national_id = None
        dob = datetime.date.fromordinal(start + int(days[i]))
        decoys.append((firsts[i], last, dob, national_id))
    return decoys


def _extract(
    source: str,
    event_types: tuple[str, ...],
    persons: pl.DataFrame,
    outcome_events: pl.DataFrame,
    rng: np.random.Generator,
    noise: ExtractNoise,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    events = outcome_events.filter(pl.col("event_type").is_in(list(event_types)))
    people = {row["prison_number"]: row for row in persons.iter_rows(named=True)}
    events = events.filter(pl.col("prison_number").is_in(list(people)))
    real = events.height
    decoy_count = (
        round(real * noise.decoy_share / (1.0 - noise.decoy_share))
        if noise.decoy_share < 1.0
        else 0
    )
    taken_ids = {v for v in persons.get_column("national_id").to_list() if v}
    decoys = _decoys(rng, decoy_count, persons, noise, taken_ids)
    share = noise.police_prison_number if source == "police" else noise.court_prison_number
    total = real + decoy_count
    draws = rng.random((total, 19))
    order = rng.permutation(total)  # decoys interleaved among the real rows

    event_rows = list(events.iter_rows(named=True))
    dates = [e["event_date"] for e in event_rows if e["event_date"] is not None]
    first_day = min(dates).toordinal() if dates else datetime.date(2021, 1, 1).toordinal()
    last_day = max(dates).toordinal() if dates else datetime.date(2026, 1, 1).toordinal()
    decoy_days = rng.integers(first_day, last_day + 1, decoy_count)
    decoy_lags = rng.integers(0, 60, decoy_count)
    decoy_types = rng.integers(0, len(event_types), decoy_count)
    references = {e["reference"] for e in event_rows}
    reference_unique = len(references) == real

    rows: list[dict[str, object]] = []
    links: list[str | None] = []
    for i in range(total):
        u = draws[i]
        if i < real:
            event = event_rows[i]
            person = people[event["prison_number"]]
            first, last, dob, national_id, prison_number = _noisy_row(
                person["first_names"],
                person["last_names"],
                person["date_of_birth"],
                person["national_id"],
                person["prison_number"],
                share,
                noise,
                u,
            )
            reference = event["reference"] if reference_unique else event["event_key"]
            rows.append(
                {
                    "first_name": first,
                    "last_name": last,
                    "date_of_birth": dob,
                    "national_id": national_id,
                    "prison_number": prison_number,
                    "event_type": event["event_type"],
                    "event_date": event["event_date"],
                    "offence_date": event["offence_date"],
                    "source_reference": reference,
                }
            )
            links.append(person["prison_number"])
        else:
            d = i - real
            first_names, last_names, dob, national_id = decoys[d]
            first, last, dob, national_id, _ = _noisy_row(
                first_names, last_names, dob, national_id, None, 0.0, noise, u
            )
            event_date = datetime.date.fromordinal(int(decoy_days[d]))
            rows.append(
                {
                    "first_name": first,
                    "last_name": last,
                    "date_of_birth": dob,
                    "national_id": national_id,
                    "prison_number": None,
                    "event_type": event_types[int(decoy_types[d])],
                    "event_date": event_date,
                    "offence_date": event_date - datetime.timedelta(days=int(decoy_lags[d])),
                    "source_reference": f"{source.upper()}-X{d + 1:06d}",
                }
            )
            links.append(None)
    schema = {
        "first_name": pl.Utf8,
        "last_name": pl.Utf8,
        "date_of_birth": pl.Date,
        "national_id": pl.Utf8,
        "prison_number": pl.Utf8,
        "event_type": pl.Utf8,
        "event_date": pl.Date,
        "offence_date": pl.Date,
        "source_reference": pl.Utf8,
    }
    extract = pl.DataFrame([rows[j] for j in order], schema=schema, orient="row")
    link_frame = pl.DataFrame(
        {
            "source": [source] * total,
            "row": list(range(total)),
            "prison_number": [links[j] for j in order],
        },
        schema={"source": pl.Utf8, "row": pl.Int64, "prison_number": pl.Utf8},
    )
    return extract, link_frame


def noisy_extracts(
    persons: pl.DataFrame,
    outcome_events: pl.DataFrame,
    *,
    seed: int,
    noise: ExtractNoise = ExtractNoise(),
) -> dict[str, pl.DataFrame]:
    """``extract_police`` (rearrests), ``extract_court`` (charges and reconvictions) and
    ``extract_links`` (source, 0-based row in that extract, true prison number or null for
    decoys). Same inputs and seed give identical frames."""
    # Children 11 and 12 of the seed: the simulator itself uses children 0-10, and the
    # extracts' noise must not replay the draws that made the persons.
    streams = np.random.SeedSequence(seed).spawn(13)[11:]
    rngs = [np.random.Generator(np.random.PCG64(s)) for s in streams]
    police, police_links = _extract(
        "police", POLICE_EVENTS, persons, outcome_events, rngs[0], noise
    )
    court, court_links = _extract("court", COURT_EVENTS, persons, outcome_events, rngs[1], noise)
    return {
        "extract_police": police,
        "extract_court": court,
        "extract_links": pl.concat([police_links, court_links]),
    }


def persons_for_linkage(persons: pl.DataFrame) -> pl.DataFrame:
    """The simulator's persons table in the shape ``link_records`` expects (the prison
    number is the person key, as the true links name it)."""
    return persons.select(
        pl.col("prison_number").alias("person_key"),
        "first_names",
        "last_names",
        "date_of_birth",
        "national_id",
        "prison_number",
    )


def records_for_linkage(extract: pl.DataFrame) -> pl.DataFrame:
    """A simulated extract in the shape ``link_records`` expects (row = 0-based data row,
    as in ``extract_links``)."""
    return extract.with_row_index("row").select(
        pl.col("row").cast(pl.Int64),
        "first_name",
        "last_name",
        "date_of_birth",
        "national_id",
        "prison_number",
    )

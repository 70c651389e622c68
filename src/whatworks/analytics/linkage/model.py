"""The Splink model: comparisons, fixed m-probabilities, u estimated from the persons table.

Why fixed m: expectation maximisation needs many pairs and a fair share of true matches;
an extract of 0, 1 or 30 rows, or one where every row already matched on an identifier,
makes EM diverge or fail. The m-probabilities (how often a true match falls in each level)
describe the data-entry process of police and court systems, not the population, so they
are stated once here (PRIOR_M) and documented in docs/linkage.md.

Why u from persons: u (how often two different people fall in each level) depends on the
population's name and birth-date frequencies. Pairs of distinct rows of the persons table
are, by construction, different people, so Splink's random sampling over the persons table
alone (a ``dedupe_only`` model, with the caller's seed) measures u without any labels.
With fewer than ``MIN_PERSONS_FOR_U`` persons the sample is too small and the documented
``PRIOR_U`` values are used instead. Every u is floored at ``U_FLOOR`` so that a level never
seen among non-matches cannot produce an infinite weight.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import warnings
from collections.abc import Iterator
from typing import Any

import duckdb
import polars as pl

MIN_PERSONS_FOR_U = 50
U_FLOOR = 1e-6
U_MAX_PAIRS = 500_000

# Each comparison: output name, then (label, SQL condition, prior m, prior u) per level,
# most specific first; the null level comes first and the else level last.
_TOKENS_L = "string_split(given_names_l, ' ')"
_TOKENS_R = "string_split(given_names_r, ' ')"
_SURNAMES_L = "string_split(surnames_l, ' ')"
_SURNAMES_R = "string_split(surnames_r, ' ')"

COMPARISONS: tuple[tuple[str, tuple[tuple[str, str, float, float], ...]], ...] = (
    (
        "first_name",
        (
            ("null", "first_name_l IS NULL OR first_name_r IS NULL", 0.0, 0.0),
            ("all given names equal", "given_names_l = given_names_r", 0.55, 0.004),
            ("first given name equal", "first_name_l = first_name_r", 0.30, 0.02),
            (
                "a given name shared",
                f"list_has_any({_TOKENS_L}, {_TOKENS_R})",
                0.04,
                0.02,
            ),
            (
                "first name typo (Jaro-Winkler >= 0.92)",
                "jaro_winkler_similarity(first_name_l, first_name_r) >= 0.92",
                0.07,
                0.005,
            ),
            (
                "first name similar (Jaro-Winkler >= 0.80)",
                "jaro_winkler_similarity(first_name_l, first_name_r) >= 0.80",
                0.02,
                0.05,
            ),
            ("else", "ELSE", 0.02, 0.90),
        ),
    ),
    (
        "surnames",
        (
            ("null", "surnames_l IS NULL OR surnames_r IS NULL", 0.0, 0.0),
            ("all surnames equal", "surnames_l = surnames_r", 0.61, 0.0005),
            (
                "one surname missing, or surnames swapped",
                f"list_has_all({_SURNAMES_L}, {_SURNAMES_R}) "
                f"OR list_has_all({_SURNAMES_R}, {_SURNAMES_L})",
                0.22,
                0.005,
            ),
            (
                "surnames typo (Jaro-Winkler >= 0.92)",
                "jaro_winkler_similarity(surnames_l, surnames_r) >= 0.92",
                0.10,
                0.002,
            ),
            (
                "a surname shared",
                f"list_has_any({_SURNAMES_L}, {_SURNAMES_R})",
                0.04,
                0.06,
            ),
            (
                "first surname similar (Jaro-Winkler >= 0.85)",
                "jaro_winkler_similarity(surname1_l, surname1_r) >= 0.85",
                0.02,
                0.05,
            ),
            ("else", "ELSE", 0.01, 0.88),
        ),
    ),
    (
        "date_of_birth",
        (
            ("null", "dob_l IS NULL OR dob_r IS NULL", 0.0, 0.0),
            ("exact", "dob_l = dob_r", 0.88, 0.0001),
            ("day and month swapped", "dob_l = dob_swapped_r", 0.03, 0.0001),
            ("one character differs", "levenshtein(dob_l, dob_r) <= 1", 0.05, 0.002),
            (
                "year off by one",
                "substr(dob_l, 6) = substr(dob_r, 6) AND abs(dob_year_l - dob_year_r) = 1",
                0.015,
                0.0002,
            ),
            ("else", "ELSE", 0.025, 0.9975),
        ),
    ),
    (
        "national_id",
        (
            ("null", "national_id_l IS NULL OR national_id_r IS NULL", 0.0, 0.0),
            ("exact", "national_id_l = national_id_r", 0.95, U_FLOOR),
            (
                "one digit differs or two swapped",
                "damerau_levenshtein(national_id_l, national_id_r) <= 1",
                0.03,
                0.0001,
            ),
            ("else", "ELSE", 0.02, 0.9999),
        ),
    ),
)

# Record-to-person pairs are only scored when one of these holds (each is an equi-join,
# so DuckDB hashes it; the union is what Splink scores). See docs/linkage.md for sizes.
BLOCKING_RULES = (
    "l.national_id = r.national_id",
    "l.prison_number = r.prison_number",
    "l.dob = r.dob",
    "l.first_name = r.first_name AND l.surname1 = r.surname1",
    "l.surname_key = r.surname_key",
    "l.first_name = r.first_name AND l.surname1 = r.surname2",
    "l.first_name = r.first_name AND l.surname2 = r.surname1",
    "l.first_name = r.first_name AND l.dob_year = r.dob_year",
    "l.surname1 = r.surname1 AND l.dob_year = r.dob_year",
    "l.surname1 = r.surname2 AND l.dob_year = r.dob_year",
    "l.surname2 = r.surname1 AND l.dob_year = r.dob_year",
    "l.dob_month_day = r.dob_month_day AND l.surname1 = r.surname1",
)

PRIOR_M = {name: tuple(level[2] for level in levels) for name, levels in COMPARISONS}
PRIOR_U = {name: tuple(level[3] for level in levels) for name, levels in COMPARISONS}


def settings(
    link_type: str,
    u: dict[str, tuple[float, ...]],
    probability_two_random_records_match: float,
    blocking_rules: tuple[str, ...] = BLOCKING_RULES,
) -> dict[str, Any]:
    """A Splink settings dictionary with the fixed m and the given u per level."""
    comparisons = []
    for name, levels in COMPARISONS:
        level_dicts = []
        for index, (label, condition, m, _prior_u) in enumerate(levels):
            level: dict[str, Any] = {"sql_condition": condition, "label_for_charts": label}
            if index == 0:
                level["is_null_level"] = True
            else:
                level["m_probability"] = m
                level["u_probability"] = max(u[name][index], U_FLOOR)
            level_dicts.append(level)
        comparisons.append({"output_column_name": name, "comparison_levels": level_dicts})
    return {
        "link_type": link_type,
        "unique_id_column_name": "unique_id",
        "comparisons": comparisons,
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": rule} for rule in blocking_rules
        ],
        "probability_two_random_records_match": probability_two_random_records_match,
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": True,
        "additional_columns_to_retain": ["prison_number"],
    }


@contextlib.contextmanager
def quiet_splink() -> Iterator[None]:
    """Silence Splink's logging and warnings for the duration (the CLI prints JSON)."""
    logger = logging.getLogger("splink")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(previous)


def connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB without a progress bar; one thread keeps sampling reproducible."""
    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")
    con.execute("SET threads = 1")
    return con


def estimate_u(persons: pl.DataFrame, *, seed: int) -> tuple[dict[str, tuple[float, ...]], str]:
    """u per level from random pairs of distinct persons; the priors for small tables.

    ``persons`` is the comparison frame of the persons table. Returns the u values and
    where they came from ("sampled" or "prior").
    """
    if persons.height < MIN_PERSONS_FOR_U:
        return dict(PRIOR_U), "prior"
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI(connection())
    frame = db_api.register(persons.to_arrow(), table_name="persons_for_u")
    linker = Linker(
        frame,
        settings("dedupe_only", PRIOR_U, 1e-4, blocking_rules=()),
        log_level=None,
    )
    pairs = min(U_MAX_PAIRS, persons.height * (persons.height - 1) // 2)
    linker.training.estimate_u_using_random_sampling(
        max_pairs=pairs, seed=seed, min_count_per_level=None, num_chunks=1
    )
    model = linker.misc.save_model_to_json()
    estimated: dict[str, tuple[float, ...]] = {}
    for comparison in model["comparisons"]:
        name = comparison["output_column_name"]
        values = []
        for index, level in enumerate(comparison["comparison_levels"]):
            value = level.get("u_probability")
            if index == 0:
                values.append(0.0)
            elif value is None or value != value:  # untrained (no pairs in the level)
                values.append(U_FLOOR)
            else:
                values.append(max(float(value), U_FLOOR))
        estimated[name] = tuple(values)
    db_api.duckdb_con.close()
    return copy.deepcopy(estimated), "sampled"

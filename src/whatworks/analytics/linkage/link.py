"""Link extract rows (police, court) to persons: identifiers first, then Splink.

See docs/linkage.md for the method, the thresholds and the measured quality.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from whatworks.analytics.linkage import model
from whatworks.analytics.linkage.normalise import comparison_frame

# Prior share of extract rows that belong to someone in the persons table, used when too
# few rows carry a national id to measure it (see _in_system_rate).
IN_SYSTEM_PRIOR = 0.85
MIN_ROWS_FOR_RATE = 20
# Pairs below this probability are not kept as candidates at all.
CANDIDATE_FLOOR = 0.001
MAX_CANDIDATES = 3

RECORD_COLUMNS = ("row", "first_name", "last_name", "date_of_birth", "national_id", "prison_number")
PERSON_COLUMNS = (
    "person_key",
    "first_names",
    "last_names",
    "date_of_birth",
    "national_id",
    "prison_number",
)


@dataclass(frozen=True)
class LinkThresholds:
    """Probability cut-offs: ``>= link`` links automatically; ``review <= p < link`` goes to
    a person for review; below ``review`` the row stays unmatched."""

    link: float = 0.95
    review: float = 0.50

    def __post_init__(self) -> None:
        if not 0.0 <= self.review <= self.link <= 1.0:
            raise ValueError("thresholds need 0 <= review <= link <= 1")


@dataclass(frozen=True)
class Candidate:
    """A person who may be the one an extract row is about, with the match probability."""

    person_key: str
    probability: float


@dataclass(frozen=True)
class LinkDecision:
    """The outcome for one extract row.

    ``status`` is "linked", "review" or "unmatched"; ``method`` says what decided it:
    "national_id" or "prison_number" (deterministic; probability 1.0 when linked),
    "probabilistic" (Splink) or "none" (no candidate at all). ``candidates`` holds up to
    three persons, highest probability first, for the review screen.
    """

    row: int
    person_key: str | None
    status: str
    probability: float | None
    method: str
    candidates: tuple[Candidate, ...]


class LinkageInputError(ValueError):
    """An input frame lacks a required column."""


def _require(frame: pl.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise LinkageInputError(f"{name} is missing column(s): {', '.join(missing)}")


def _texts(frame: pl.DataFrame, column: str) -> list[str | None]:
    return frame.get_column(column).cast(pl.Utf8).to_list()


def _prepare(records: pl.DataFrame, persons: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    left = comparison_frame(
        [f"r{i}" for i in range(records.height)],
        _texts(records, "first_name"),
        _texts(records, "last_name"),
        records.get_column("date_of_birth"),
        _texts(records, "national_id"),
        _texts(records, "prison_number"),
    )
    right = comparison_frame(
        _texts(persons, "person_key"),
        _texts(persons, "first_names"),
        _texts(persons, "last_names"),
        persons.get_column("date_of_birth"),
        _texts(persons, "national_id"),
        _texts(persons, "prison_number"),
    )
    return left, right


def _deterministic(left: pl.DataFrame, right: pl.DataFrame) -> dict[str, dict[str, set[str]]]:
    """{record uid: {person_key: {methods}}} for equal national id or prison number."""
    found: dict[str, dict[str, set[str]]] = {}
    for column in ("national_id", "prison_number"):
        joined = (
            left.select("unique_id", column)
            .drop_nulls(column)
            .join(
                right.select(pl.col("unique_id").alias("person_key"), column).drop_nulls(column),
                on=column,
            )
        )
        for uid, key in joined.select("unique_id", "person_key").iter_rows():
            found.setdefault(uid, {}).setdefault(key, set()).add(column)
    return found


def _in_system_rate(left: pl.DataFrame, right: pl.DataFrame) -> float:
    """Share of rows with a national id whose id is in the persons table (or the prior)."""
    with_id = left.drop_nulls("national_id")
    if (
        with_id.height < MIN_ROWS_FOR_RATE
        or right.get_column("national_id").null_count() == right.height
    ):
        return IN_SYSTEM_PRIOR
    known = set(right.get_column("national_id").drop_nulls().to_list())
    hits = sum(1 for value in with_id.get_column("national_id").to_list() if value in known)
    return min(0.99, max(0.05, hits / with_id.height))


def _score(left: pl.DataFrame, right: pl.DataFrame, *, seed: int) -> pl.DataFrame:
    """Splink scores for blocked record-person pairs.

    Columns: uid (record), person_key, probability, probability_without_id (the same pair
    with the national-id evidence removed), conflict (first name, surnames and date of
    birth all in their "else" level).
    """
    from splink import DuckDBAPI, Linker

    u, _source = model.estimate_u(right, seed=seed)
    rate = _in_system_rate(left, right)
    prior = min(0.5, rate / right.height)
    db_api = DuckDBAPI(model.connection())
    try:
        records_sdf = db_api.register(left.to_arrow(), table_name="a_records")
        persons_sdf = db_api.register(right.to_arrow(), table_name="b_persons")
        linker = Linker(
            [records_sdf, persons_sdf],
            model.settings("link_only", u, prior),
            log_level=None,
        )
        predictions = linker.inference.predict(warning_mode="never")
        # Table names below come from Splink, never from the caller's data.
        table = predictions.physical_name
        cursor = db_api.duckdb_con.execute(f"SELECT * FROM {table} LIMIT 0")  # noqa: S608
        columns = {d[0] for d in cursor.description}
        # Splink puts the dataset that sorts first on the left; check rather than assume.
        record_side = "l"
        if "source_dataset_l" in columns:
            first = db_api.duckdb_con.execute(
                f"SELECT source_dataset_l FROM {table} LIMIT 1"  # noqa: S608
            ).fetchall()
            if first and first[0][0] != "a_records":
                record_side = "r"
        person_side = "r" if record_side == "l" else "l"
        frame = db_api.duckdb_con.sql(
            f"""
            SELECT unique_id_{record_side} AS uid,
                   unique_id_{person_side} AS person_key,
                   match_weight,
                   mw_national_id,
                   gamma_first_name = 0 AND gamma_surnames = 0
                       AND gamma_date_of_birth = 0 AS conflict
            FROM {table}
            WHERE match_probability >= {CANDIDATE_FLOOR}
               OR gamma_national_id > 0
               OR prison_number_l = prison_number_r
            """  # noqa: S608
        ).pl()
    finally:
        db_api.duckdb_con.close()
    weights = frame.get_column("match_weight").to_list()
    id_weights = frame.get_column("mw_national_id").to_list()
    return frame.select("uid", "person_key", "conflict").with_columns(
        pl.Series("probability", [_probability(w) for w in weights], dtype=pl.Float64),
        pl.Series(
            "probability_without_id",
            [_probability(w - b) for w, b in zip(weights, id_weights, strict=True)],
            dtype=pl.Float64,
        ),
    )


def _probability(weight: float) -> float:
    if weight > 60:
        return 1.0
    if weight < -60:
        return 0.0
    return 1.0 / (1.0 + 2.0 ** (-weight))


def link_records(
    records: pl.DataFrame,
    persons: pl.DataFrame,
    *,
    thresholds: LinkThresholds = LinkThresholds(),
    seed: int = 0,
) -> list[LinkDecision]:
    """One decision per record, in input order.

    1. Deterministic: a normalised national id, or a prison number (case, space and
       punctuation ignored), equal to exactly one person's links with probability 1.0 —
       unless first name, surnames and date of birth all disagree badly (each in its
       comparison's lowest level), which goes to "review" instead: a shared identifier
       with nothing else in common is more often a keying error than the same person.
       When the identifiers point at two or more persons the row goes to "review" with
       those persons as candidates. In both review cases the candidates' probabilities are
       Splink's with the national-id evidence taken out.
    2. Probabilistic: Splink (DuckDB) scores blocked record-person pairs on first name,
       surnames, date of birth and national id, with fixed m-probabilities and u estimated
       from the persons table (see ``model``). The best candidate decides: ``>= link``
       linked, ``>= review`` review, else unmatched. A best candidate above ``link`` whose
       runner-up is at least ``review`` goes to review (two plausible persons).

    Never raises on empty inputs or null identifiers; raises LinkageInputError if a
    required column is missing.
    """
    _require(records, RECORD_COLUMNS, "records")
    _require(persons, PERSON_COLUMNS, "persons")
    rows = [int(v) for v in records.get_column("row").to_list()]
    if records.height == 0:
        return []
    if persons.height == 0:
        return [LinkDecision(r, None, "unmatched", None, "none", ()) for r in rows]
    left, right = _prepare(records, persons)
    deterministic = _deterministic(left, right)
    with model.quiet_splink():
        scored = _score(left, right, seed=seed)
    by_record: dict[str, list[tuple[str, float, float, bool]]] = {}
    for uid, key, conflict, p, p_without_id in scored.iter_rows():
        by_record.setdefault(uid, []).append((key, p, p_without_id, bool(conflict)))

    decisions = []
    for index, row in enumerate(rows):
        uid = f"r{index}"
        pairs = by_record.get(uid, [])
        found = deterministic.get(uid, {})
        decisions.append(_decide(row, pairs, found, thresholds))
    return decisions


def _top(scores: dict[str, float]) -> tuple[Candidate, ...]:
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return tuple(Candidate(key, p) for key, p in ranked[:MAX_CANDIDATES])


def _decide(
    row: int,
    pairs: list[tuple[str, float, float, bool]],
    found: dict[str, set[str]],
    thresholds: LinkThresholds,
) -> LinkDecision:
    scores = {key: p for key, p, _, _ in pairs if p >= CANDIDATE_FLOOR}
    if found:
        method = (
            "national_id" if any("national_id" in m for m in found.values()) else "prison_number"
        )
        without_id = {key: p_wo for key, _, p_wo, _ in pairs}
        conflicts = {key for key, _, _, conflict in pairs if conflict}
        if len(found) == 1:
            (key,) = found
            if key not in conflicts:
                others = {k: p for k, p in scores.items() if k != key}
                candidates = (Candidate(key, 1.0), *_top(others)[: MAX_CANDIDATES - 1])
                return LinkDecision(row, key, "linked", 1.0, method, candidates)
            review_scores = {**scores, key: without_id.get(key, 0.0)}
        else:
            review_scores = {k: without_id.get(k, 0.0) for k in found}
        candidates = _top(review_scores)
        best = candidates[0]
        return LinkDecision(row, best.person_key, "review", best.probability, method, candidates)
    if not scores:
        return LinkDecision(row, None, "unmatched", None, "none", ())
    candidates = _top(scores)
    best = candidates[0]
    if best.probability >= thresholds.link:
        runner_up = candidates[1].probability if len(candidates) > 1 else 0.0
        status = "review" if runner_up >= thresholds.review else "linked"
    elif best.probability >= thresholds.review:
        status = "review"
    else:
        status = "unmatched"
    return LinkDecision(row, best.person_key, status, best.probability, "probabilistic", candidates)

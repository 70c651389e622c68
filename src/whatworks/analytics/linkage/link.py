"""Link extract rows (police, court) to persons: identifiers first, then Splink.

See docs/linkage.md for the method, the thresholds and the measured quality.
"""

from __future__ import annotations

import math
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
# Records scored per Splink run: about 4 GB at 20,000 records against 100,000 persons
# (docs/linkage.md), so a 80,000-row extract no longer needs 12 GB.
CHUNK_ROWS = 20_000
# Scored pairs with a match weight below this (odds < 1e-9) are dropped by DuckDB.
IGNORED_WEIGHT = -30.0

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
    """Share of rows with a national id whose id is in the persons table (or the prior),
    clipped to [0.05, 0.95]."""
    with_id = left.drop_nulls("national_id")
    if (
        with_id.height < MIN_ROWS_FOR_RATE
        or right.get_column("national_id").null_count() == right.height
    ):
        return IN_SYSTEM_PRIOR
    known = set(right.get_column("national_id").drop_nulls().to_list())
    hits = sum(1 for value in with_id.get_column("national_id").to_list() if value in known)
    return min(0.95, max(0.05, hits / with_id.height))


@dataclass
class _Scores:
    """Splink's output for one linkage run.

    ``pairs``: {record uid: [(person_key, weight, weight_without_id, conflict)]} for the
    pairs kept as candidates; ``rest``/``rest_without_id``: {record uid: summed odds of
    the blocked pairs not kept}; ``in_system``: the share of rows believed to be about
    someone in the persons table.
    """

    pairs: dict[str, list[tuple[str, float, float, bool]]]
    rest: dict[str, float]
    rest_without_id: dict[str, float]
    in_system: float
    u_source: str


def _score(left: pl.DataFrame, right: pl.DataFrame, *, seed: int) -> _Scores:
    """Score the blocked record-person pairs with Splink on DuckDB, ``CHUNK_ROWS`` records
    at a time so that memory stays bounded on large extracts (u and the in-system share
    are estimated once, over the whole input, so chunking does not change any score)."""
    u, u_source = model.estimate_u(right, seed=seed)
    rate = _in_system_rate(left, right)
    total = _Scores(pairs={}, rest={}, rest_without_id={}, in_system=rate, u_source=u_source)
    for start in range(0, left.height, CHUNK_ROWS):
        chunk = _score_chunk(left.slice(start, CHUNK_ROWS), right, u=u, rate=rate)
        total.pairs.update(chunk.pairs)
        total.rest.update(chunk.rest)
        total.rest_without_id.update(chunk.rest_without_id)
    return total


def _score_chunk(left: pl.DataFrame, right: pl.DataFrame, *, u, rate: float) -> _Scores:
    """Score one chunk of records against every person.

    A pair's weight is Splink's match weight (log2 Bayes factors plus the prior); the
    weight without id leaves out the national-id comparison; ``conflict`` is true when
    first name, surnames and date of birth are all in their lowest ("else") level.
    """
    from splink import DuckDBAPI, Linker

    prior = min(0.5, rate / right.height)
    floor_weight = math.log2(CANDIDATE_FLOOR / (1.0 - CANDIDATE_FLOOR))
    db_api = DuckDBAPI(model.connection())
    try:
        records_sdf = db_api.register(left.to_arrow(), table_name="a_records")
        persons_sdf = db_api.register(right.to_arrow(), table_name="b_persons")
        linker = Linker(
            [records_sdf, persons_sdf],
            model.settings("link_only", u, prior),
            log_level=None,
        )
        # Pairs with odds below 2**IGNORED_WEIGHT cannot change any probability that is
        # reported (they would add < 1e-9 each to a row's "rest"); dropping them inside
        # DuckDB keeps the scored table, and memory, small.
        predictions = linker.inference.predict(
            threshold_match_weight=IGNORED_WEIGHT, warning_mode="never"
        )
        con = db_api.duckdb_con
        # Table names below come from Splink, never from the caller's data.
        table = predictions.physical_name
        columns = {d[0] for d in con.execute(f"SELECT * FROM {table} LIMIT 0").description}  # noqa: S608
        # Splink puts the dataset that sorts first on the left; check rather than assume.
        record_side = "l"
        if "source_dataset_l" in columns:
            first = con.execute(f"SELECT source_dataset_l FROM {table} LIMIT 1").fetchall()  # noqa: S608
            if first and first[0][0] != "a_records":
                record_side = "r"
        person_side = "r" if record_side == "l" else "l"
        con.execute(
            f"""
            CREATE TEMP TABLE scored AS
            SELECT unique_id_{record_side} AS uid,
                   unique_id_{person_side} AS person_key,
                   match_weight AS weight,
                   match_weight - mw_national_id AS weight_without_id,
                   gamma_first_name = 0 AND gamma_surnames = 0
                       AND gamma_date_of_birth = 0 AS conflict,
                   match_weight >= {floor_weight}
                       OR gamma_national_id > 0
                       OR prison_number_l = prison_number_r AS kept
            FROM {table}
            """  # noqa: S608
        )
        kept = con.execute(
            "SELECT uid, person_key, weight, weight_without_id, conflict FROM scored "
            "WHERE kept ORDER BY uid, person_key"
        ).fetchall()
        rest_rows = con.execute(
            "SELECT uid, sum(power(2.0, least(weight, 1000))), "
            "sum(power(2.0, least(weight_without_id, 1000))) "
            "FROM scored WHERE NOT kept GROUP BY uid"
        ).fetchall()
    finally:
        db_api.duckdb_con.close()
    pairs: dict[str, list[tuple[str, float, float, bool]]] = {}
    for uid, key, weight, without_id, conflict in kept:
        pairs.setdefault(uid, []).append((key, float(weight), float(without_id), bool(conflict)))
    return _Scores(
        pairs=pairs,
        rest={uid: float(a) for uid, a, _ in rest_rows},
        rest_without_id={uid: float(b) for uid, _, b in rest_rows},
        in_system=rate,
        u_source="",
    )


def _posterior(weights: dict[str, float], rest: float, in_system: float) -> dict[str, float]:
    """P(the row is about person i) for each candidate, given it is about at most one.

    Splink's weight for a pair is log2 of the prior odds (in_system / persons) times the
    Bayes factor; the probability that the row is about none of them has prior weight
    1 - in_system. So p_i = odds_i / ((1 - in_system) + sum of all odds), where the sum
    includes the blocked pairs too weak to be kept (``rest``).
    """
    if not weights:
        return {}
    top = max(max(weights.values()), 0.0)
    scale = 2.0 ** (-top)
    none = (1.0 - in_system) * scale + rest * scale
    odds = {key: 2.0 ** (w - top) for key, w in weights.items()}
    total = none + sum(odds.values())
    return {key: o / total for key, o in odds.items()}


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
       When the identifiers point at two or more persons the row goes to "review". In
       both review cases the candidates' probabilities are computed as in step 2 but with
       the national-id evidence left out.
    2. Probabilistic: Splink (DuckDB) scores blocked record-person pairs on first name,
       surnames, date of birth and national id, with fixed m-probabilities and u
       estimated from the persons table (see ``model``). Because a row is about at most
       one person, the candidates' odds are normalised against each other and against
       "none of them" (see ``_posterior``): two similar candidates share the probability
       and so go to review. The best candidate decides: ``>= link`` linked, ``>= review``
       review, else unmatched (person_key still names the best candidate, if any).

    ``seed`` fixes the random sample used to estimate u; same inputs and seed give the
    same decisions. Never raises on empty inputs or null values; raises
    LinkageInputError if a required column is missing.
    """
    _require(records, RECORD_COLUMNS, "records")
    _require(persons, PERSON_COLUMNS, "persons")
    row_values = records.get_column("row").to_list()
    if any(v is None for v in row_values):
        raise LinkageInputError("records.row must not be null")
    rows = [int(v) for v in row_values]
    if records.height == 0:
        return []
    # A person listed twice is one person: keep the first row of each person_key.
    persons = persons.drop_nulls("person_key").unique(
        subset="person_key", keep="first", maintain_order=True
    )
    if persons.height == 0:
        return [LinkDecision(r, None, "unmatched", None, "none", ()) for r in rows]
    left, right = _prepare(records, persons)
    deterministic = _deterministic(left, right)
    with model.quiet_splink():
        scores = _score(left, right, seed=seed)
    decisions = []
    for index, row in enumerate(rows):
        uid = f"r{index}"
        decisions.append(
            _decide(
                row,
                scores.pairs.get(uid, []),
                deterministic.get(uid, {}),
                scores,
                uid,
                thresholds,
            )
        )
    return decisions


def _top(scores: dict[str, float]) -> tuple[Candidate, ...]:
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return tuple(Candidate(key, p) for key, p in ranked[:MAX_CANDIDATES] if p >= CANDIDATE_FLOOR)


def _decide(
    row: int,
    pairs: list[tuple[str, float, float, bool]],
    found: dict[str, set[str]],
    scores: _Scores,
    uid: str,
    thresholds: LinkThresholds,
) -> LinkDecision:
    posterior = _posterior(
        {key: w for key, w, _, _ in pairs}, scores.rest.get(uid, 0.0), scores.in_system
    )
    if found:
        by_id = any("national_id" in methods for methods in found.values())
        method = "national_id" if by_id else "prison_number"
        # A shared identifier whose pair Splink did not keep (its weight fell below
        # IGNORED_WEIGHT: name, surnames and birth date all disagree) is a conflict too.
        scored = {key for key, _, _, _ in pairs}
        conflicts = {key for key, _, _, conflict in pairs if conflict} | (set(found) - scored)
        if len(found) == 1 and not (set(found) & conflicts):
            (key,) = found
            others = {k: p for k, p in posterior.items() if k != key}
            candidates = (Candidate(key, 1.0), *_top(others)[: MAX_CANDIDATES - 1])
            return LinkDecision(row, key, "linked", 1.0, method, candidates)
        without_id = _posterior(
            {key: w for key, _, w, _ in pairs},
            scores.rest_without_id.get(uid, 0.0),
            scores.in_system,
        )
        without_id = {**dict.fromkeys(found, 0.0), **without_id}
        if len(found) > 1:
            without_id = {k: without_id[k] for k in found}
        ranked = sorted(without_id.items(), key=lambda item: (-item[1], item[0]))
        ranked = [(k, p) for k, p in ranked if k in found or p >= CANDIDATE_FLOOR]
        if not ranked:
            ranked = [(k, 0.0) for k in sorted(found)]
        candidates = tuple(Candidate(k, p) for k, p in ranked[:MAX_CANDIDATES])
        best = candidates[0]
        return LinkDecision(row, best.person_key, "review", best.probability, method, candidates)
    candidates = _top(posterior)
    if not candidates:
        return LinkDecision(row, None, "unmatched", None, "none", ())
    best = candidates[0]
    if best.probability >= thresholds.link:
        status = "linked"
    elif best.probability >= thresholds.review:
        status = "review"
    else:
        status = "unmatched"
    return LinkDecision(row, best.person_key, status, best.probability, "probabilistic", candidates)

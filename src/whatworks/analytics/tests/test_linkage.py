"""Record linkage of extract rows to persons: normalisation, each kind of noise, the
deterministic paths, robustness on awkward inputs, and quality on a simulated extract."""

from __future__ import annotations

import datetime
import logging

import polars as pl
import pytest

from whatworks.analytics.linkage import (
    Candidate,
    LinkageInputError,
    LinkDecision,
    LinkThresholds,
    link_quality,
    link_records,
    normalise_name,
    normalise_national_id,
    normalise_prison_number,
)
from whatworks.analytics.simulation import SimulationConfig, simulate
from whatworks.analytics.simulation.extracts import (
    noisy_extracts,
    persons_for_linkage,
    records_for_linkage,
)
from whatworks.analytics.simulation.names import brazilian_cpf, chilean_rut

D = datetime.date
RECORD_SCHEMA = {
    "row": pl.Int64,
    "first_name": pl.Utf8,
    "last_name": pl.Utf8,
    "date_of_birth": pl.Date,
    "national_id": pl.Utf8,
    "prison_number": pl.Utf8,
}
PERSON_SCHEMA = {
    "person_key": pl.Utf8,
    "first_names": pl.Utf8,
    "last_names": pl.Utf8,
    "date_of_birth": pl.Date,
    "national_id": pl.Utf8,
    "prison_number": pl.Utf8,
}

JOSE = "CL-9000001"  # José Ignacio Muñoz Rojas, 1984-03-11
NAMESAKE = "CL-9000002"  # José Ignacio Muñoz Rojas, 1971-09-28
SISTER = "CL-9000003"  # María Paz Muñoz Rojas, 1986-07-02
ANA = "BR-9000004"  # Ana Paula Souza da Silva, 1990-05-17
JOSE_RUT = chilean_rut(15381135)
SISTER_RUT = chilean_rut(16204175)
ANA_CPF = brazilian_cpf(123456789)


def _records(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=RECORD_SCHEMA, orient="row")


def _persons(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=PERSON_SCHEMA, orient="row")


def _simulated_persons(count: int, seed: int, country: str = "CL") -> pl.DataFrame:
    return persons_for_linkage(
        simulate(SimulationConfig(persons=count, seed=seed, country=country)).persons
    )


@pytest.fixture(scope="module")
def persons() -> pl.DataFrame:
    """Four hand-made persons among 400 simulated ones (so u is sampled, not the prior)."""
    hand_made = _persons(
        [
            (JOSE, "José Ignacio", "Muñoz Rojas", D(1984, 3, 11), JOSE_RUT, JOSE),
            (NAMESAKE, "José Ignacio", "Muñoz Rojas", D(1971, 9, 28), None, NAMESAKE),
            (SISTER, "María Paz", "Muñoz Rojas", D(1986, 7, 2), SISTER_RUT, SISTER),
            (ANA, "Ana Paula", "Souza da Silva", D(1990, 5, 17), ANA_CPF, ANA),
        ]
    )
    return pl.concat([hand_made, _simulated_persons(400, seed=11)])


# Each case: (description, first_name, last_name, date_of_birth, national_id,
# prison_number, expected person, expected status, expected method).
CASES = [
    (
        "accents stripped, upper case",
        "JOSE IGNACIO",
        "MUNOZ ROJAS",
        D(1984, 3, 11),
        None,
        None,
        JOSE,
        "linked",
        "probabilistic",
    ),
    (
        "second given name dropped",
        "José",
        "Muñoz Rojas",
        D(1984, 3, 11),
        None,
        None,
        JOSE,
        "linked",
        "probabilistic",
    ),
    (
        "second surname dropped",
        "José Ignacio",
        "Muñoz",
        D(1984, 3, 11),
        None,
        None,
        JOSE,
        "linked",
        "probabilistic",
    ),
    (
        "surnames swapped",
        "José Ignacio",
        "Rojas Muñoz",
        D(1984, 3, 11),
        None,
        None,
        JOSE,
        "linked",
        "probabilistic",
    ),
    (
        "typo in a given name",
        "Jose Ignasio",
        "Munoz Rojas",
        D(1984, 3, 11),
        None,
        None,
        JOSE,
        "linked",
        "probabilistic",
    ),
    (
        "typo in a surname",
        "José Ignacio",
        "Muñoz Rojaz",
        D(1984, 3, 11),
        None,
        None,
        JOSE,
        "linked",
        "probabilistic",
    ),
    (
        "day and month swapped",
        "José Ignacio",
        "Muñoz Rojas",
        D(1984, 11, 3),
        None,
        None,
        JOSE,
        "linked",
        "probabilistic",
    ),
    (
        "birth year off by one",
        "José Ignacio",
        "Muñoz Rojas",
        D(1985, 3, 11),
        None,
        None,
        JOSE,
        "linked",
        "probabilistic",
    ),
    (
        "spaces and punctuation",
        "  josé   ignacio ",
        "muñoz-rojas",
        D(1984, 3, 11),
        None,
        None,
        JOSE,
        "linked",
        "probabilistic",
    ),
    (
        "Brazilian, particle and surname dropped",
        "ANA PAULA",
        "SOUZA",
        D(1990, 5, 17),
        None,
        None,
        ANA,
        "linked",
        "probabilistic",
    ),
    (
        "RUT without dots, initials only",
        "J.",
        "M.",
        D(1984, 3, 11),
        "15381135-0",
        None,
        JOSE,
        "linked",
        "national_id",
    ),
    (
        "RUT without dots or hyphen",
        "Jose",
        "Munoz",
        D(1984, 3, 11),
        "153811350",
        None,
        JOSE,
        "linked",
        "national_id",
    ),
    ("CPF digits only", "Ana", "Silva", None, "12345678909", None, ANA, "linked", "national_id"),
    (
        "prison number in lower case with a space",
        "Maria",
        "Munoz",
        D(1986, 7, 2),
        None,
        "cl 9000003",
        SISTER,
        "linked",
        "prison_number",
    ),
    (
        "id of José, nothing else in common",
        "Pedro",
        "Soto Vera",
        D(1999, 12, 31),
        "15.381.135-0",
        None,
        JOSE,
        "review",
        "national_id",
    ),
    (
        "national id of José, prison number of his sister",
        "José",
        "Muñoz Rojas",
        D(1984, 3, 11),
        JOSE_RUT,
        SISTER,
        JOSE,
        "review",
        "national_id",
    ),
    (
        "a brother not in the system",
        "Cristián",
        "Muñoz Rojas",
        D(1979, 2, 14),
        None,
        None,
        None,
        "unmatched",
        None,
    ),
    ("nobody alike", "Wilner", "Dorvil", D(1966, 6, 6), None, None, None, "unmatched", None),
]


@pytest.fixture(scope="module")
def decisions(persons) -> list[LinkDecision]:
    rows = [(100 + i, *case[1:6]) for i, case in enumerate(CASES)]
    return link_records(_records(rows), persons, seed=3)


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c[0] for c in CASES])
def test_each_kind_of_noise_and_identifier_is_handled(decisions, index):
    _label, *_fields, person, status, method = CASES[index]
    decision = decisions[index]
    assert decision.row == 100 + index
    assert decision.status == status
    if status == "unmatched":
        assert (decision.probability or 0.0) < 0.5
        return
    assert decision.person_key == person
    assert decision.method == method
    assert decision.candidates[0].person_key == person
    assert 0.0 <= decision.probability <= 1.0
    if status == "linked" and method != "probabilistic":
        assert decision.probability == 1.0


def test_conflicting_identifiers_list_both_persons_for_review(decisions):
    decision = decisions[15]
    assert {c.person_key for c in decision.candidates} == {JOSE, SISTER}
    probabilities = [c.probability for c in decision.candidates]
    assert probabilities == sorted(probabilities, reverse=True)


def test_a_namesake_does_not_steal_the_link(decisions):
    second_name_dropped = decisions[1]
    assert NAMESAKE not in {c.person_key for c in second_name_dropped.candidates[:1]}


def test_at_most_three_candidates_highest_first(decisions):
    for decision in decisions:
        assert len(decision.candidates) <= 3
        probabilities = [c.probability for c in decision.candidates]
        assert probabilities == sorted(probabilities, reverse=True)
        assert all(0.0 <= p <= 1.0 for p in probabilities)


# -- normalisation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("José Ignacio", "jose ignacio"),
        ("  MUÑOZ   ROJAS ", "munoz rojas"),
        ("Núñez-Zúñiga", "nunez zuniga"),
        ("Conceição d'Ávila", "conceicao d avila"),
        ("Jean-Claude", "jean claude"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalise_name(raw, expected):
    assert normalise_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("15.381.135-0", "153811350"),
        ("15381135-0", "153811350"),
        ("153811350", "153811350"),
        (" 15 381 135 - 0 ", "153811350"),
        ("9.876.543-k", "9876543K"),
        ("09.876.543-K", "9876543K"),
        ("123.456.789-09", "12345678909"),
        ("12345678909", "12345678909"),
        ("", None),
        (None, None),
        ("-.", None),
    ],
)
def test_normalise_national_id(raw, expected):
    assert normalise_national_id(raw) == expected


def test_normalise_prison_number_ignores_case_spaces_and_hyphens():
    assert normalise_prison_number(" cl-1000037") == normalise_prison_number("CL 1000037")
    assert normalise_prison_number("  ") is None


# -- robustness -----------------------------------------------------------------------


def _one_person() -> pl.DataFrame:
    return _persons([(JOSE, "José Ignacio", "Muñoz Rojas", D(1984, 3, 11), JOSE_RUT, JOSE)])


def test_no_records_gives_no_decisions(persons):
    assert link_records(_records([]), persons) == []


def test_no_persons_leaves_every_row_unmatched():
    records = _records(
        [(5, "José", "Muñoz", D(1984, 3, 11), JOSE_RUT, None), (2, None, None, None, None, None)]
    )
    decisions = link_records(records, _persons([]))
    assert [(d.row, d.status, d.person_key, d.method) for d in decisions] == [
        (5, "unmatched", None, "none"),
        (2, "unmatched", None, "none"),
    ]


def test_one_record_and_one_person():
    records = _records([(0, "JOSE", "MUNOZ ROJAS", D(1984, 3, 11), None, None)])
    (decision,) = link_records(records, _one_person())
    assert decision.person_key == JOSE
    assert decision.status == "linked"
    assert decision.method == "probabilistic"


def test_all_records_deterministic():
    records = _records(
        [
            (0, "José", "Muñoz", D(1984, 3, 11), "15381135-0", None),
            (1, None, None, None, None, JOSE),
        ]
    )
    decisions = link_records(records, _one_person())
    assert [(d.status, d.method, d.probability) for d in decisions] == [
        ("linked", "national_id", 1.0),
        ("linked", "prison_number", 1.0),
    ]


def test_null_columns_of_any_type_never_crash(persons):
    records = pl.DataFrame(
        {
            "row": [3, 1, 2],
            "first_name": ["José Ignacio", None, "Ana Paula"],
            "last_name": ["Muñoz Rojas", None, "Souza da Silva"],
            "date_of_birth": [None, None, None],
            "national_id": [None, None, None],
            "prison_number": [None, None, None],
        }
    )
    decisions = link_records(records, persons)
    assert [d.row for d in decisions] == [3, 1, 2]
    assert decisions[1].status == "unmatched"
    assert all(d.status in {"linked", "review", "unmatched"} for d in decisions)
    # Names alone are not enough to link automatically (José has a namesake).
    assert decisions[0].status != "linked"
    nameless_persons = persons.with_columns(
        pl.lit(None).alias("national_id"), pl.lit(None).alias("prison_number")
    )
    again = link_records(records, nameless_persons)
    assert len(again) == 3


def test_a_missing_column_is_named():
    with pytest.raises(LinkageInputError, match="date_of_birth"):
        link_records(_records([]).drop("date_of_birth"), _one_person())


def test_same_inputs_and_seed_give_the_same_decisions(persons):
    rows = [(i, *case[1:6]) for i, case in enumerate(CASES[:8])]
    first = link_records(_records(rows), persons, seed=9)
    second = link_records(_records(rows), persons, seed=9)
    assert first == second


def test_an_identifier_with_nothing_else_in_common_is_never_linked(persons, monkeypatch):
    """In a large population the pair's weight falls below the level Splink keeps; the
    shared identifier alone must still go to review, never be linked automatically."""
    from whatworks.analytics.linkage import link as link_module

    monkeypatch.setattr(link_module, "IGNORED_WEIGHT", 0.0)
    rows = [
        (0, "Pedro", "Soto Vera", D(1999, 12, 31), None, JOSE),
        (1, "Pedro", "Soto Vera", D(1999, 12, 31), chilean_rut(20111222), JOSE),
        (2, "Pedro", "Soto Vera", D(1999, 12, 31), JOSE_RUT, None),
    ]
    decisions = link_records(_records(rows), persons, seed=3)
    assert [d.status for d in decisions] == ["review", "review", "review"]
    assert all(d.person_key == JOSE for d in decisions)


def test_scoring_in_chunks_gives_the_same_decisions(decisions, persons, monkeypatch):
    from whatworks.analytics.linkage import link as link_module

    monkeypatch.setattr(link_module, "CHUNK_ROWS", 4)
    rows = [(100 + i, *case[1:6]) for i, case in enumerate(CASES)]
    assert len(rows) > 8  # at least three chunks
    assert link_records(_records(rows), persons, seed=3) == decisions


def test_thresholds_move_rows_between_linked_and_review(decisions, persons):
    rows = [(i, *case[1:6]) for i, case in enumerate(CASES[:10])]
    strict = link_records(_records(rows), persons, seed=3, thresholds=LinkThresholds(link=1.0))
    assert {d.status for d in strict} == {"review"}
    with pytest.raises(ValueError, match="thresholds"):
        LinkThresholds(link=0.4, review=0.6)


def test_splink_logs_nothing_on_stdout(capsys, caplog, persons):
    caplog.set_level(logging.INFO)
    link_records(_records([(0, "José", "Muñoz", D(1984, 3, 11), None, None)]), persons)
    out = capsys.readouterr()
    assert out.out == ""
    assert not [
        r for r in caplog.records if r.name.startswith("splink") and r.levelno < logging.ERROR
    ]


# -- quality --------------------------------------------------------------------------


def test_link_quality_counts_and_rates():
    decisions = [
        LinkDecision(0, "A", "linked", 1.0, "national_id", (Candidate("A", 1.0),)),
        LinkDecision(1, "B", "linked", 0.97, "probabilistic", (Candidate("B", 0.97),)),
        LinkDecision(2, "C", "linked", 0.99, "probabilistic", (Candidate("C", 0.99),)),
        LinkDecision(
            3, "X", "review", 0.6, "probabilistic", (Candidate("X", 0.6), Candidate("D", 0.3))
        ),
        LinkDecision(4, None, "unmatched", None, "none", ()),
        LinkDecision(5, "E", "unmatched", 0.1, "probabilistic", (Candidate("E", 0.1),)),
    ]
    truth = {0: "A", 1: "Z", 2: None, 3: "D", 4: None, 5: "E"}
    quality = link_quality(decisions, truth)
    assert quality.linked_count == 3
    assert quality.review_count == 1
    assert quality.unmatched_count == 2
    assert quality.false_links == 2
    assert quality.decoys_linked == 1
    assert quality.precision == pytest.approx(1 / 3)
    assert quality.recall == pytest.approx(1 / 4)
    assert quality.recall_with_review == pytest.approx(2 / 4)
    empty = link_quality([], {})
    assert (empty.precision, empty.recall) == (1.0, 1.0)


@pytest.mark.parametrize("country", ["CL", "BR"])
def test_simulated_extracts_meet_the_product_targets(country):
    service = simulate(SimulationConfig(persons=1500, seed=4, country=country))
    extracts = noisy_extracts(service.persons, service.outcome_events, seed=4)
    persons = persons_for_linkage(service.persons)
    links = extracts["extract_links"]
    for source in ("police", "court"):
        records = records_for_linkage(extracts[f"extract_{source}"])
        truth = dict(
            links.filter(pl.col("source") == source).select("row", "prison_number").iter_rows()
        )
        quality = link_quality(link_records(records, persons, seed=4), truth)
        assert quality.precision >= 0.98, (source, quality)
        assert quality.recall >= 0.90, (source, quality)
        assert quality.recall_with_review >= quality.recall
        decoys = sum(1 for v in truth.values() if v is None)
        assert decoys > 50
        assert quality.decoys_linked <= 0.01 * decoys, (source, quality)


def test_text_dates_duplicate_persons_and_null_rows():
    persons = pl.DataFrame(
        {
            "person_key": ["A", "A", "B"],
            "first_names": ["José", "José", "Ana"],
            "last_names": ["Muñoz", "Muñoz", "Soto"],
            "date_of_birth": ["1984-03-11", "1984-03-11", "not a date"],
            "national_id": [None, None, None],
            "prison_number": [None, None, None],
        }
    )
    records = _records([(0, "Jose", "Munoz", D(1984, 3, 11), None, None)])
    (decision,) = link_records(records, persons)
    assert (decision.person_key, decision.status) == ("A", "linked")
    assert [c.person_key for c in decision.candidates] == ["A"]
    with pytest.raises(LinkageInputError, match="row"):
        link_records(records.with_columns(pl.lit(None, dtype=pl.Int64).alias("row")), persons)

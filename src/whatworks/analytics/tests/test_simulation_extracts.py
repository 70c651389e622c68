"""Noisy police and court extracts: shape, determinism, noise and decoys."""

from __future__ import annotations

import datetime
import unicodedata

import polars as pl
import pytest

from whatworks.analytics.simulation import SimulationConfig, simulate
from whatworks.analytics.simulation.extracts import EXTRACT_COLUMNS, ExtractNoise, noisy_extracts

NO_NOISE = ExtractNoise(
    drop_second_given_name=0.0,
    drop_second_surname=0.0,
    swap_surnames=0.0,
    strip_accents=0.0,
    upper_case=0.0,
    typo=0.0,
    swap_day_month=0.0,
    year_off_by_one=0.0,
    national_id_missing=0.0,
    national_id_reformatted=0.0,
    national_id_typo=0.0,
    police_prison_number=1.0,
    court_prison_number=1.0,
    decoy_share=0.0,
)


@pytest.fixture(scope="module")
def service():
    return simulate(SimulationConfig(persons=1500, seed=7))


@pytest.fixture(scope="module")
def extracts(service):
    return noisy_extracts(service.persons, service.outcome_events, seed=7)


def _joined(extracts, service, source: str) -> pl.DataFrame:
    """Extract rows with the true person's recorded fields (suffix _true); decoys dropped."""
    links = extracts["extract_links"].filter(pl.col("source") == source)
    rows = (
        extracts[f"extract_{source}"]
        .with_row_index("row")
        .with_columns(pl.col("row").cast(pl.Int64))
    )
    truth = service.persons.select(
        pl.col("prison_number").alias("true_key"),
        pl.col("first_names").alias("first_true"),
        pl.col("last_names").alias("last_true"),
        pl.col("date_of_birth").alias("dob_true"),
        pl.col("national_id").alias("id_true"),
    )
    return (
        rows.join(links.select("row", pl.col("prison_number").alias("true_key")), on="row")
        .drop_nulls("true_key")
        .join(truth, on="true_key")
    )


def test_extracts_have_the_agreed_columns_and_event_types(extracts, service):
    police, court = extracts["extract_police"], extracts["extract_court"]
    assert tuple(police.columns) == EXTRACT_COLUMNS
    assert tuple(court.columns) == EXTRACT_COLUMNS
    assert set(police.get_column("event_type")) == {"rearrest"}
    assert set(court.get_column("event_type")) == {"charge", "reconviction"}
    for frame in (police, court):
        assert frame.get_column("source_reference").n_unique() == frame.height
        assert frame.schema["date_of_birth"] == pl.Date
    links = extracts["extract_links"]
    assert links.columns == ["source", "row", "prison_number"]
    for source, frame in (("police", police), ("court", court)):
        rows = links.filter(pl.col("source") == source).get_column("row").to_list()
        assert rows == list(range(frame.height))
    # Every real rearrest, charge and reconviction appears once.
    events = service.outcome_events
    real = links.drop_nulls("prison_number")
    expected = events.filter(pl.col("event_type").is_in(["rearrest", "charge", "reconviction"]))
    assert real.height == expected.height


def test_same_seed_same_extracts_and_another_seed_differs(service, extracts):
    again = noisy_extracts(service.persons, service.outcome_events, seed=7)
    for name, frame in extracts.items():
        assert frame.equals(again[name]), name
    other = noisy_extracts(service.persons, service.outcome_events, seed=8)
    assert not other["extract_police"].equals(extracts["extract_police"])


def test_decoys_are_about_15_percent_and_some_share_a_real_surname(extracts, service):
    links = extracts["extract_links"]
    share = links.get_column("prison_number").null_count() / links.height
    assert share == pytest.approx(0.15, abs=0.01)
    police = extracts["extract_police"].with_row_index("row")
    decoy_rows = links.filter((pl.col("source") == "police") & pl.col("prison_number").is_null())
    decoys = police.filter(pl.col("row").is_in(decoy_rows.get_column("row").to_list()))
    real_first_surnames = {
        _plain(name.split()[0]) for name in service.persons.get_column("last_names").to_list()
    }
    sharing = sum(
        1
        for name in decoys.get_column("last_name").to_list()
        if _plain(name.split()[0]) in real_first_surnames
    )
    assert sharing >= 0.3 * decoys.height
    # Decoys never carry a prison number, nor a real person's national id.
    assert decoys.get_column("prison_number").null_count() == decoys.height
    real_ids = {
        v.replace(".", "").replace("-", "")
        for v in service.persons.get_column("national_id").drop_nulls()
    }
    decoy_ids = {
        v.replace(".", "").replace("-", "") for v in decoys.get_column("national_id").drop_nulls()
    }
    assert not decoy_ids & real_ids


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def test_each_kind_of_noise_occurs_at_roughly_its_rate(extracts, service):
    court = _joined(extracts, service, "court")
    police = _joined(extracts, service, "police")
    both = pl.concat([court.drop("row"), police.drop("row")])
    n = both.height
    rows = both.to_dicts()
    missing_id = sum(1 for r in rows if r["id_true"] and r["national_id"] is None)
    with_id = sum(1 for r in rows if r["id_true"])
    assert missing_id / with_id == pytest.approx(0.40, abs=0.05)
    reformatted = sum(1 for r in rows if r["national_id"] and "." not in r["national_id"])
    assert reformatted / (with_id - missing_id) == pytest.approx(0.40, abs=0.06)
    upper = sum(1 for r in rows if r["last_name"].isupper())
    assert upper / n == pytest.approx(0.40, abs=0.05)
    two_given = [r for r in rows if len(r["first_true"].split()) > 1]
    dropped = sum(1 for r in two_given if len(r["first_name"].split()) == 1)
    assert dropped / len(two_given) == pytest.approx(0.30, abs=0.06)
    swapped = sum(
        1
        for r in rows
        if r["date_of_birth"] != r["dob_true"]
        and r["date_of_birth"].day == r["dob_true"].month
        and r["date_of_birth"].month == r["dob_true"].day
    )
    assert 0 < swapped < 0.05 * n
    police_pn = police.get_column("prison_number").is_not_null().mean()
    court_pn = court.get_column("prison_number").is_not_null().mean()
    assert police_pn < 0.1 < 0.4 < court_pn


def test_without_noise_rows_copy_the_person(service):
    clean = noisy_extracts(service.persons, service.outcome_events, seed=1, noise=NO_NOISE)
    court = _joined(clean, service, "court")
    assert court.height == clean["extract_court"].height
    assert (court.get_column("first_name") == court.get_column("first_true")).all()
    assert (court.get_column("last_name") == court.get_column("last_true")).all()
    assert (court.get_column("date_of_birth") == court.get_column("dob_true")).all()
    assert (court.get_column("prison_number") == court.get_column("true_key")).all()


def test_day_month_swap_only_when_valid():
    persons = pl.DataFrame(
        {
            "prison_number": ["P1", "P2"],
            "national_id": [None, None],
            "first_names": ["Ana", "Juan"],
            "last_names": ["Soto Vera", "Pérez"],
            "date_of_birth": [datetime.date(1990, 1, 25), datetime.date(1990, 3, 3)],
            "nationality": ["CL", "CL"],
        },
        schema_overrides={"national_id": pl.Utf8},
    )
    events = pl.DataFrame(
        {
            "event_key": [f"E{i}" for i in range(40)],
            "prison_number": ["P1", "P2"] * 20,
            "event_type": ["rearrest"] * 40,
            "event_date": [datetime.date(2024, 1, 1)] * 40,
            "offence_date": [datetime.date(2023, 12, 1)] * 40,
            "source": ["police"] * 40,
            "reference": [f"Parte {i}" for i in range(40)],
        }
    )
    noise = ExtractNoise(swap_day_month=1.0, year_off_by_one=0.0, decoy_share=0.0)
    police = noisy_extracts(persons, events, seed=3, noise=noise)["extract_police"]
    # 25 January cannot be swapped and 3 March swaps to itself: the dates stay as they were.
    assert set(police.get_column("date_of_birth")) == {
        datetime.date(1990, 1, 25),
        datetime.date(1990, 3, 3),
    }


def test_empty_inputs_give_empty_extracts(service):
    result = noisy_extracts(service.persons, service.outcome_events.head(0), seed=1)
    assert result["extract_police"].height == 0
    assert result["extract_links"].height == 0
    assert tuple(result["extract_court"].columns) == EXTRACT_COLUMNS

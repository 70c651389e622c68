"""Recidivism engine: hand-computed small cases, publication rules, definitions, bad input.

Every expected figure below is worked out by hand in the comment beside it. No database.
"""

from __future__ import annotations

import datetime
import importlib.resources
import json
import subprocess
import sys
import textwrap

import polars as pl
import pytest

from whatworks.analytics.recidivism import (
    Definition,
    DefinitionError,
    RecidivismInputError,
    RecidivismResult,
    Suppression,
    list_definitions,
    load_definition,
    measure,
    measure_technical_violation_variants,
    render_csv,
    render_html,
    wilson_interval,
)
from whatworks.analytics.recidivism.definitions import definition_from_mapping

D = datetime.date
END = D(2030, 12, 31)


def releases_frame(*rows, **extra) -> pl.DataFrame:
    """rows: (release_id, person_id, release_date, release_type[, followup_end_date])."""
    full = [(*row, END) if len(row) == 4 else row for row in rows]
    data = {
        "release_id": [r[0] for r in full],
        "person_id": [r[1] for r in full],
        "release_date": [r[2] for r in full],
        "release_type": [r[3] for r in full],
        "followup_end_date": [r[4] for r in full],
        **extra,
    }
    return pl.DataFrame(
        data, schema_overrides={"release_date": pl.Date, "followup_end_date": pl.Date}
    )


def events_frame(*rows, offence=None, conviction=None) -> pl.DataFrame:
    """rows: (person_id, event_type, event_date)."""
    data = {
        "person_id": [r[0] for r in rows],
        "event_type": [r[1] for r in rows],
        "event_date": [r[2] for r in rows],
    }
    if offence is not None:
        data["offence_date"] = offence
    if conviction is not None:
        data["conviction_date"] = conviction
    return pl.DataFrame(
        data,
        schema={
            "person_id": pl.String,
            "event_type": pl.String,
            "event_date": pl.Date,
            **({"offence_date": pl.Date} if offence is not None else {}),
            **({"conviction_date": pl.Date} if conviction is not None else {}),
        },
    )


def custom(**settings) -> Definition:
    base = {
        "schema_version": 1,
        "slug": "test",
        "name": "Test definition",
        "version": "1.0",
        "citation": "Hand-made for the tests.",
        "event_types": ["reconviction"],
        "windows_years": [1, 2, 3],
    }
    return definition_from_mapping({**base, **settings}, source="test")


def window(result: RecidivismResult, years: int) -> dict:
    return next(w for w in result.windows if w["years"] == years)


def exact(releases, events, definition, **kwargs) -> RecidivismResult:
    return measure(releases, events, definition, suppression=None, **kwargs)


# -- semantics -----------------------------------------------------------------------------


def test_event_on_release_date_is_not_counted_and_on_the_anniversary_is():
    releases = releases_frame(
        ("R1", "P1", D(2020, 3, 1), "parole"),
        ("R2", "P2", D(2020, 3, 1), "parole"),
        ("R3", "P3", D(2020, 3, 1), "parole"),
    )
    events = events_frame(
        ("P1", "reconviction", D(2020, 3, 1)),  # on the release date: strict <, not counted
        ("P2", "reconviction", D(2021, 3, 1)),  # exactly release + 1 year: counted (<=)
        ("P3", "reconviction", D(2021, 3, 2)),  # one day later: outside 1y, inside 2y
    )
    result = exact(releases, events, custom())
    assert (window(result, 1)["eligible"], window(result, 1)["recidivists"]) == (3, 1)
    assert (window(result, 2)["eligible"], window(result, 2)["recidivists"]) == (3, 2)
    followups = result.followups.sort("release_id")
    # 2020-03-01 to 2021-03-01 is 365 days (no 29 February in between); +1 day for P3.
    assert followups["days_to_event"].to_list() == [None, 365, 366]
    assert followups["event"].to_list() == [False, True, True]
    # The event on the release date is before (not after) the release.
    assert result.excluded["events_before_release"] == 1


def test_incomplete_followup_is_left_out_not_counted_as_success():
    releases = releases_frame(
        ("R1", "P1", D(2020, 6, 1), "parole", D(2021, 5, 31)),  # one day short of 1 year
        ("R2", "P2", D(2020, 6, 1), "parole", D(2021, 6, 1)),  # exactly 1 year: eligible
        ("R3", "P3", D(2020, 6, 1), "parole", D(2021, 6, 1)),
    )
    events = events_frame(("P3", "reconviction", D(2021, 1, 1)))
    result = exact(releases, events, custom())
    # 1y: R2 (no event) and R3 (event) are eligible; R1 is out, not a success.
    assert (window(result, 1)["eligible"], window(result, 1)["recidivists"]) == (2, 1)
    assert window(result, 1)["rate"] == 0.5
    assert window(result, 2)["eligible"] == 0 and window(result, 2)["rate"] is None
    followups = result.followups.sort("release_id")
    assert followups["recidivated_within_1y"].to_list() == [None, False, True]
    # Censoring: R1 followed 364 days, R2 365 days, R3 has its event on day 214.
    assert followups["duration_days"].to_list() == [364, 365, 214]
    # Kaplan-Meier: the only event is at day 214 with 3 at risk: S = 2/3.
    assert result.km.times == [0.0, 214.0, 364.0, 365.0]
    assert result.km.survival[1] == pytest.approx(2 / 3)


def test_exclusions_are_counted_by_reason():
    releases = releases_frame(
        ("R1", "P1", D(2020, 1, 1), "end_of_sentence"),
        ("R2", "P2", D(2020, 1, 1), "death"),
        ("R3", "P3", D(2020, 1, 1), "transfer"),
        ("R4", "P4", D(2020, 1, 1), "escape"),
        ("R5", "P5", D(2020, 1, 1), "other"),  # Chile counts sentenced releases only
        ("R6", "P6", None, "parole"),
        ("R7", "P7", D(2020, 1, 1), "parole", D(2019, 1, 1)),
    )
    events = events_frame(("P2", "reconviction", D(2021, 1, 1)))
    result = exact(releases, events, load_definition("reconviction-3y-chile"))
    excluded = result.excluded
    assert (excluded["death"], excluded["transfer"], excluded["escape"]) == (1, 1, 1)
    assert excluded["release_type_not_counted"] == 1
    assert excluded["release_date_missing"] == 1
    assert excluded["followup_end_before_release"] == 1
    # P2's only release is a death: the event is in no follow-up.
    assert excluded["events_no_counted_release"] == 1
    assert result.followups["release_id"].to_list() == ["R1"]
    assert window(result, 3)["eligible"] == 1
    # The same "other" release is counted by a definition that lists it.
    assert exact(releases, events, custom()).excluded["release_type_not_counted"] == 0


def test_event_before_release_does_not_count_and_is_reported():
    releases = releases_frame(("R1", "P1", D(2020, 1, 1), "parole"))
    events = events_frame(("P1", "reconviction", D(2019, 12, 31)))
    result = exact(releases, events, custom())
    assert window(result, 1)["recidivists"] == 0
    assert result.excluded["events_before_release"] == 1


def test_a_person_released_twice_counts_twice():
    releases = releases_frame(
        ("R1", "P1", D(2015, 1, 1), "parole"),
        ("R2", "P1", D(2018, 1, 1), "parole"),
    )
    # One event in 2018-06: outside R1's 1-year window, inside R2's.
    events = events_frame(("P1", "reconviction", D(2018, 6, 1)))
    result = exact(releases, events, custom())
    assert (window(result, 1)["eligible"], window(result, 1)["recidivists"]) == (2, 1)
    # R1: 2015-01-01 + 3y = 2018-01-01 < 2018-06-01, so not within 3y either.
    assert (window(result, 3)["eligible"], window(result, 3)["recidivists"]) == (2, 1)


def test_event_based_counting_reports_the_number_of_events():
    releases = releases_frame(
        ("R1", "P1", D(2020, 1, 1), "parole"),
        ("R2", "P2", D(2020, 1, 1), "parole"),
    )
    events = events_frame(
        ("P1", "reconviction", D(2020, 2, 1)),
        ("P1", "reconviction", D(2020, 5, 1)),
        ("P1", "reconviction", D(2021, 6, 1)),  # after 1 year, inside 2
    )
    person = exact(releases, events, custom(counting="person"))
    assert window(person, 1)["recidivists"] == 1 and "events" not in window(person, 1)
    event = exact(releases, events, custom(counting="event"))
    first = window(event, 1)
    assert (first["recidivists"], first["events"], first["events_per_release"]) == (1, 2, 1.0)
    assert window(event, 2)["events"] == 3


def test_waiting_period_uk_style():
    definition = custom(date_basis="offence_date", waiting_period_months=6, windows_years=[1])
    releases = releases_frame(
        ("R1", "P1", D(2020, 1, 15), "parole"),
        ("R2", "P2", D(2020, 1, 15), "parole"),
        ("R3", "P3", D(2020, 1, 15), "parole"),
        ("R4", "P4", D(2020, 1, 15), "parole", D(2021, 7, 14)),  # one day short of 1y + 6m
    )
    events = events_frame(
        # offence in the year, convicted exactly 6 months after the window end: counted
        ("P1", "reconviction", D(2021, 7, 15)),
        # offence in the year, convicted a day too late: not counted
        ("P2", "reconviction", D(2021, 7, 16)),
        # offence after the window end (convicted quickly): not counted
        ("P3", "reconviction", D(2021, 2, 1)),
        ("P4", "reconviction", D(2020, 6, 1)),
        offence=[D(2020, 12, 1), D(2020, 12, 1), D(2021, 1, 16), D(2020, 5, 1)],
    )
    result = exact(releases, events, definition)
    # R4 is not eligible: followup_end_date < 2021-01-15 + 6 months = 2021-07-15.
    assert (window(result, 1)["eligible"], window(result, 1)["recidivists"]) == (3, 1)
    followups = result.followups.sort("release_id")
    assert followups["recidivated_within_1y"].to_list() == [True, False, False, None]


def test_offence_date_basis_needs_the_offence_date_column():
    releases = releases_frame(("R1", "P1", D(2020, 1, 15), "parole"))
    events = events_frame(("P1", "reconviction", D(2021, 7, 15)))
    with pytest.raises(RecidivismInputError, match=r"events: missing column\(s\) 'offence_date'"):
        exact(releases, events, load_definition("uk-proven-reoffending-1y"))


def test_29_february_window_ends_on_28_february():
    releases = releases_frame(
        ("R1", "P1", D(2020, 2, 29), "parole", D(2021, 2, 28)),  # exactly 1 year of follow-up
        ("R2", "P2", D(2020, 2, 29), "parole", D(2021, 2, 28)),
    )
    events = events_frame(
        ("P1", "reconviction", D(2021, 2, 28)),  # last day of the window: counted
        ("P2", "reconviction", D(2021, 3, 1)),  # a day after: not counted
    )
    result = exact(releases, events, custom(windows_years=[1]))
    assert (window(result, 1)["eligible"], window(result, 1)["recidivists"]) == (2, 1)


def test_duplicate_events_count_once_and_are_reported():
    releases = releases_frame(("R1", "P1", D(2020, 1, 1), "parole"))
    events = events_frame(
        ("P1", "reconviction", D(2020, 5, 1)),
        ("P1", "reconviction", D(2020, 5, 1)),
    )
    result = exact(releases, events, custom(counting="event"))
    assert (window(result, 1)["recidivists"], window(result, 1)["events"]) == (1, 1)
    assert result.excluded["events_duplicate"] == 1


def test_deaths_after_release_censor_by_default_and_can_exclude():
    releases = releases_frame(
        ("R1", "P1", D(2020, 1, 1), "parole"),
        ("R2", "P2", D(2020, 1, 1), "parole"),
        death_date=[D(2020, 6, 1), None],
    ).with_columns(pl.col("death_date").cast(pl.Date))
    events = events_frame()
    censor = exact(releases, events, custom())
    assert window(censor, 1)["eligible"] == 1  # R1 died before its window ended
    assert censor.followups.sort("release_id")["duration_days"].to_list()[0] == 152
    excluded = exact(releases, events, custom(deaths="exclude"))
    assert excluded.excluded["died_during_followup"] == 1
    ignored = exact(releases, events, custom(deaths="ignore"))
    assert window(ignored, 1)["eligible"] == 2


def test_followups_frame_has_the_agreed_columns():
    releases = releases_frame(("R1", "P1", D(2020, 1, 1), "parole"), facility=["North"])
    result = exact(releases, events_frame(), custom(), by=["facility"])
    assert result.followups.columns[:6] == [
        "release_id",
        "person_id",
        "release_date",
        "followup_end_date",
        "days_to_event",
        "event",
    ]
    assert "facility" in result.followups.columns


def test_technical_violation_variants():
    releases = releases_frame(
        ("R1", "P1", D(2020, 1, 1), "parole"), ("R2", "P2", D(2020, 1, 1), "parole")
    )
    events = events_frame(
        ("P1", "technical_violation", D(2020, 3, 1)), ("P2", "rearrest", D(2020, 3, 1))
    )
    variants = measure_technical_violation_variants(
        releases, events, load_definition("any-return-3y"), suppression=None
    )
    assert window(variants["with_technical_violations"], 3)["recidivists"] == 2
    assert window(variants["without_technical_violations"], 3)["recidivists"] == 1
    without = variants["without_technical_violations"].definition
    assert "technical_violation" not in without.event_types
    assert without.modified == ("event_types",)
    assert "technical violation" not in without.sentence
    html = render_html(variants["with_technical_violations"], variants)
    assert "without technical violations" in html


# -- publication safety --------------------------------------------------------------------


def test_wilson_interval_against_reference_value():
    # Reference: z = 1.959964, p = 0.4, n = 100:
    # centre = (0.4 + z²/200) / (1 + z²/100) = 0.419207 / 1.038415 = 0.403699
    # half = z / 1.038415 * sqrt(0.0024 + z²/40000) = 1.887454 * 0.049960 = 0.094297
    # -> (0.30940, 0.49800); R: binom::binom.wilson(40, 100) gives 0.3093997 0.4979992.
    low, high = wilson_interval(40, 100)
    assert low == pytest.approx(0.3094, abs=1e-4)
    assert high == pytest.approx(0.4980, abs=1e-4)
    assert wilson_interval(0, 10)[0] == 0.0


def _grouped(counts: dict[str, tuple[int, int]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Releases per facility: (releases, recidivists), all eligible for 1 year."""
    rel, ev, fac = [], [], []
    for facility, (n, k) in counts.items():
        for i in range(n):
            person = f"{facility}-{i}"
            rel.append((f"R{person}", person, D(2020, 1, 1), "parole"))
            fac.append(facility)
            if i < k:
                ev.append((person, "reconviction", D(2020, 6, 1)))
    return releases_frame(*rel, facility=fac), events_frame(*ev)


def test_small_cells_are_suppressed_and_zero_is_not():
    releases, events = _grouped({"A": (50, 20), "B": (40, 5), "C": (30, 0), "D": (60, 30)})
    result = measure(releases, events, custom(windows_years=[1]), by=["facility"])
    cells = {g["by"]["facility"]: g["windows"][0] for g in result.groups}
    # B has 5 recidivists (1-9): suppressed. Exactly one suppressed, so the next-smallest
    # group (C, 30 eligible) is suppressed too; C's 0 recidivists alone would not be.
    assert cells["B"]["suppressed"] and cells["B"]["recidivists"] is None
    assert cells["B"]["rate"] is None and cells["B"]["eligible"] is None
    assert cells["C"]["suppressed"]
    assert not cells["A"]["suppressed"] and cells["A"]["recidivists"] == 20
    assert not cells["D"]["suppressed"]
    assert window(result, 1)["recidivists"] == 55 and not window(result, 1)["suppressed"]


def test_zero_counts_alone_are_not_suppressed():
    releases, events = _grouped({"A": (50, 20), "C": (30, 0)})
    result = measure(releases, events, custom(windows_years=[1]), by=["facility"])
    assert not any(g["windows"][0]["suppressed"] for g in result.groups)


def test_two_suppressed_groups_need_no_secondary_suppression():
    releases, events = _grouped({"A": (50, 20), "B": (40, 5), "C": (8, 4), "D": (60, 30)})
    result = measure(releases, events, custom(windows_years=[1]), by=["facility"])
    suppressed = {g["by"]["facility"] for g in result.groups if g["windows"][0]["suppressed"]}
    assert suppressed == {"B", "C"}


def test_rounding_of_published_counts():
    releases, events = _grouped({"A": (52, 23)})
    result = measure(
        releases, events, custom(windows_years=[1]), suppression=Suppression(rounding=5)
    )
    cell = window(result, 1)
    assert (cell["eligible"], cell["recidivists"]) == (50, 25)
    assert cell["rate"] == pytest.approx(23 / 52)  # rates from the unrounded counts


def test_suppression_applies_to_the_overall_figure():
    releases, events = _grouped({"A": (5, 2)})
    result = measure(releases, events, custom(windows_years=[1]))
    assert window(result, 1)["suppressed"] and window(result, 1)["eligible"] is None


# -- definitions ---------------------------------------------------------------------------


def test_presets_carry_name_version_sentence_and_citation():
    definitions = list_definitions()
    slugs = [d.slug for d in definitions]
    assert slugs[0] == "reconviction-3y-chile"
    assert set(slugs) == {
        "reconviction-3y-chile",
        "uk-proven-reoffending-1y",
        "reincarceration-1-2-3y",
        "any-return-3y",
        "any-return-3y-without-technical-violations",
    }
    for definition in definitions:
        assert definition.name and definition.version and definition.citation
        assert definition.sentence.endswith(".") and definition.sentence.count(". ") == 0
    uk = load_definition("uk-proven-reoffending-1y")
    assert (uk.windows, uk.waiting_period_months, uk.date_basis) == ((1,), 6, "offence_date")
    assert load_definition("reincarceration-1-2-3y").windows == (1, 2, 3)
    chile = load_definition("reconviction-3y-chile")
    assert chile.release_types == ("end_of_sentence", "parole", "pardon")


def test_every_output_carries_the_definition():
    releases = releases_frame(("R1", "P1", D(2020, 1, 1), "parole"))
    result = measure(releases, events_frame(), load_definition())
    definition = result.to_dict()["definition"]
    assert definition["name"] == "Reconviction within 3 years (Gendarmería de Chile)"
    assert definition["version"] == "1.0" and definition["sentence"] and definition["citation"]
    assert definition["settings"]["windows_years"] == [3]
    assert result.definition.sentence in render_csv(result).splitlines()[0]
    assert result.definition.sentence in render_html(result)
    json.dumps(result.to_dict())  # serialisable


def test_definition_file_is_validated_against_the_schema(tmp_path):
    good = tmp_path / "mine.yaml"
    good.write_text(
        textwrap.dedent(
            """
            schema_version: 1
            slug: mine
            name: Rearrest in 2 years
            version: "2.1"
            citation: Local practice.
            event_types: [rearrest]
            windows_years: [2]
            """
        )
    )
    definition = load_definition(str(good))
    assert (definition.slug, definition.windows, definition.counting) == ("mine", (2,), "person")
    assert definition.release_types == ("end_of_sentence", "parole", "pardon", "other")
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text().replace("[rearrest]", "[arrest]").replace('"2.1"', "2.1"))
    with pytest.raises(DefinitionError) as error:
        load_definition(str(bad))
    assert "bad.yaml: event_types/0" in str(error.value)
    assert "bad.yaml: version" in str(error.value)
    with pytest.raises(DefinitionError, match="unknown definition"):
        load_definition("no-such-preset")


def test_overrides_are_recorded():
    definition = load_definition().with_overrides(windows=[1, 2], event_types=["rearrest"])
    assert definition.windows == (1, 2) and definition.event_types == ("rearrest",)
    assert definition.modified == ("windows_years", "event_types")


def test_package_data_is_found_through_importlib_resources():
    files = {p.name for p in importlib.resources.files("whatworks.analytics.recidivism").iterdir()}
    assert {"schema.json", "presets"} <= files
    presets = importlib.resources.files("whatworks.analytics.recidivism").joinpath("presets")
    assert len([p for p in presets.iterdir() if p.name.endswith(".yaml")]) == 5


def test_importing_the_package_does_not_import_django():
    code = (
        "import sys, whatworks.analytics.recidivism, whatworks.analytics.recidivism.cli; "
        "print(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "False"


# -- bad input -----------------------------------------------------------------------------


def test_missing_columns_name_the_source_and_column():
    releases = releases_frame(("R1", "P1", D(2020, 1, 1), "parole")).drop("release_type")
    with pytest.raises(RecidivismInputError, match=r"rel.csv: missing column\(s\) 'release_type'"):
        measure(releases, events_frame(), custom(), sources=("rel.csv", "ev.csv"))


def test_unparseable_dates_name_file_column_and_row():
    releases = releases_frame(
        ("R1", "P1", D(2020, 1, 1), "parole"), ("R2", "P2", D(2020, 1, 1), "parole")
    ).with_columns(pl.Series("release_date", ["2020-01-01", "2020-13-01"]))
    with pytest.raises(RecidivismInputError) as error:
        measure(releases, events_frame(), custom(), sources=("rel.csv", "ev.csv"))
    message = str(error.value)
    assert "rel.csv, column 'release_date', row 2" in message and "'2020-13-01'" in message


def test_unknown_people_are_an_error_unless_allowed():
    releases = releases_frame(("R1", "P1", D(2020, 1, 1), "parole"))
    events = events_frame(
        ("P1", "reconviction", D(2020, 5, 1)), ("P9", "reconviction", D(2020, 5, 1))
    )
    with pytest.raises(RecidivismInputError) as error:
        exact(releases, events, custom(), sources=("rel.csv", "ev.csv"))
    assert "ev.csv, column 'person_id', row 2: person 'P9' has no release in rel.csv" in str(
        error.value
    )
    result = exact(releases, events, custom(), allow_unknown_people=True)
    assert result.excluded["events_unknown_person"] == 1
    assert window(result, 1)["recidivists"] == 1


def test_duplicated_release_ids_name_the_rows():
    releases = releases_frame(
        ("R1", "P1", D(2020, 1, 1), "parole"),
        ("R2", "P2", D(2020, 1, 1), "parole"),
        ("R1", "P3", D(2021, 1, 1), "parole"),
    )
    with pytest.raises(RecidivismInputError, match=r"column 'release_id', rows 1, 3: release ID"):
        measure(releases, events_frame(), custom())


def test_dates_as_text_are_accepted_through_the_api():
    releases = releases_frame(("R1", "P1", D(2020, 1, 1), "parole")).with_columns(
        pl.col("release_date").cast(pl.String), pl.col("followup_end_date").cast(pl.String)
    )
    events = events_frame(("P1", "reconviction", D(2020, 5, 1))).with_columns(
        pl.col("event_date").cast(pl.String)
    )
    result = exact(releases, events, custom())
    assert window(result, 1)["recidivists"] == 1

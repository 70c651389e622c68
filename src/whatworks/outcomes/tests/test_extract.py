"""Reading extracts: encodings, date formats, XLSX, the mapping file, and every problem named
with its row and column (nothing touches the database here)."""

import datetime

import pytest

from whatworks.outcomes.extract import (
    ExtractFileError,
    load_mapping,
    mapping_from_dict,
    parse_extract,
)
from whatworks.outcomes.tests.helpers import HEADER, row, write_csv

TODAY = datetime.date(2026, 1, 15)


def parse(path, **kwargs):
    return parse_extract(path, today=TODAY, **kwargs)


def test_utf8_csv_with_iso_and_day_first_dates(tmp_path):
    path = write_csv(
        tmp_path / "pdi.csv",
        [row(), row(source_reference="PDI-0002", event_date="03/02/2025", offence_date="")],
    )
    extract = parse(path)
    assert extract.errors == []
    assert extract.encoding == "utf-8"
    first, second = extract.rows
    assert first.last_name == "Muñoz Rojas"
    assert first.event_date == second.event_date == datetime.date(2025, 2, 3)
    assert second.offence_date is None
    assert first.source == "police"  # derived from rearrest
    assert len(first.source_key) == 64 and first.source_key != second.source_key


def test_utf8_with_bom_and_semicolons(tmp_path):
    path = write_csv(tmp_path / "bom.csv", [row()], encoding="utf-8-sig", delimiter=";")
    extract = parse(path)
    assert extract.errors == []
    assert extract.encoding == "utf-8-sig"
    assert extract.rows[0].first_name == "José Ignacio"


def test_latin1_csv_keeps_accents(tmp_path):
    path = write_csv(
        tmp_path / "latin.csv",
        [row(first_name="Iñaki", last_name="Peñalosa Núñez")],
        encoding="latin-1",
    )
    extract = parse(path)
    assert extract.errors == []
    assert extract.encoding == "cp1252"
    assert (extract.rows[0].first_name, extract.rows[0].last_name) == ("Iñaki", "Peñalosa Núñez")


def test_xlsx_with_date_cells_and_numeric_ids(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(
        [
            "María José",
            "González Pérez",
            datetime.datetime(1985, 9, 30),
            12345678,
            "",
            "reconviction",
            datetime.date(2025, 3, 1),
            "2024-12-24",
            "TRIB-77",
        ]
    )
    path = tmp_path / "court.xlsx"
    workbook.save(path)
    extract = parse(path)
    assert extract.errors == []
    assert extract.encoding == "xlsx"
    only = extract.rows[0]
    assert only.date_of_birth == datetime.date(1985, 9, 30)
    assert only.national_id == "12345678"
    assert only.offence_date == datetime.date(2024, 12, 24)
    assert only.source == "court"


def test_mapping_file_renames_columns_codes_source_and_date_format(tmp_path):
    mapping_path = tmp_path / "carabineros.yaml"
    mapping_path.write_text(
        "columns:\n"
        "  NOMBRES: first_name\n"
        "  APELLIDOS: last_name\n"
        "  FECHA_NAC: date_of_birth\n"
        "  RUN: national_id\n"
        "  TIPO: event_type\n"
        "  FECHA: event_date\n"
        "  FOLIO: source_reference\n"
        "event_types:\n"
        "  DETENCION: rearrest\n"
        "  CONDENA: reconviction\n"
        "source: police\n"
        "date_format: '%d-%m-%Y'\n",
        encoding="utf-8",
    )
    header = ["NOMBRES", "APELLIDOS", "FECHA_NAC", "RUN", "TIPO", "FECHA", "FOLIO", "OTRA"]
    path = write_csv(
        tmp_path / "carabineros.csv",
        [
            {
                "NOMBRES": "José",
                "APELLIDOS": "Muñoz",
                "FECHA_NAC": "12-04-1990",
                "RUN": "11111111-1",
                "TIPO": "condena",
                "FECHA": "03-02-2025",
                "FOLIO": "F-1",
                "OTRA": "ignored",
            }
        ],
        header=header,
    )
    extract = parse(path, mapping=load_mapping(mapping_path))
    assert extract.errors == []
    only = extract.rows[0]
    assert (only.event_type, only.source) == ("reconviction", "police")
    assert only.date_of_birth == datetime.date(1990, 4, 12)


def test_a_bad_mapping_file_is_refused_with_every_problem(tmp_path):
    with pytest.raises(ExtractFileError) as caught:
        mapping_from_dict(
            {
                "columns": {"X": "nombre"},
                "event_types": {"D": "arrest"},
                "source": "army",
                "colour": "red",
            },
            name="bad.yaml",
        )
    message = str(caught.value)
    for expected in ("bad.yaml", "colour", "nombre", "arrest", "army"):
        assert expected in message


def test_missing_required_columns_are_named(tmp_path):
    header = [c for c in HEADER if c not in ("event_date", "source_reference")]
    path = write_csv(tmp_path / "short.csv", [row()], header=header)
    extract = parse(path)
    assert {(e.row, e.column) for e in extract.errors} == {
        (None, "event_date"),
        (None, "source_reference"),
    }
    assert extract.errors[0].as_text("short.csv").startswith("short.csv: header, column ")


BAD_ROWS = [
    (row(event_type="DETENCION"), "event_type", "Unknown event type “DETENCION”"),
    (row(event_date="2025-02-30"), "event_date", "“2025-02-30” is not a date"),
    (row(date_of_birth="12.04.1990"), "date_of_birth", "“12.04.1990” is not a date"),
    (row(event_date="1989-01-01", offence_date=""), "event_date", "before the date of birth"),
    (row(offence_date="2025-03-01"), "offence_date", "after the event date"),
    (row(event_date="2026-02-01"), "event_date", "in the future"),
    (row(first_name=" "), "first_name", "empty"),
    (row(last_name=""), "last_name", "empty"),
    (row(source_reference=""), "source_reference", "empty"),
    (row(event_type="technical_violation"), "offence_date", "no offence date"),
]


@pytest.mark.parametrize(("bad", "column", "message"), BAD_ROWS)
def test_each_bad_row_is_reported_with_row_and_column(tmp_path, bad, column, message):
    path = write_csv(tmp_path / "bad.csv", [row(source_reference="OK-1"), bad])
    extract = parse(path)
    assert [(e.row, e.column) for e in extract.errors] == [(1, column)]
    error = extract.errors[0]
    assert message in error.message
    assert error.as_text("bad.csv").startswith(f"bad.csv: data row 2 (index 1), column {column}: ")
    assert [r.row for r in extract.rows] == [0]


def test_duplicate_reference_names_the_first_row_and_all_errors_come_at_once(tmp_path):
    path = write_csv(
        tmp_path / "dup.csv",
        [row(), row(first_name="Pedro"), row(source_reference="X", event_type="nope")],
    )
    extract = parse(path)
    assert [(e.row, e.column) for e in extract.errors] == [
        (1, "source_reference"),
        (2, "event_type"),
    ]
    assert "data row 1 (index 0)" in extract.errors[0].message


def test_an_unknown_source_value_is_an_error(tmp_path):
    header = [*HEADER, "source"]
    path = write_csv(tmp_path / "s.csv", [{**row(), "source": "army"}], header=header)
    assert [(e.row, e.column) for e in parse(path).errors] == [(0, "source")]


def test_an_unreadable_file_is_a_file_error(tmp_path):
    with pytest.raises(ExtractFileError, match="cannot read"):
        parse(tmp_path / "missing.csv")
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(ExtractFileError, match="empty"):
        parse(tmp_path / "empty.csv")

"""CSV, XLSX and PDF exports: content types, the definition beside the figures, no persons."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.urls import reverse

from whatworks.analytics.recidivism import load_definition, wilson_interval
from whatworks.evidence.tests.test_selectors import release_people
from whatworks.records.models import Person


@pytest.fixture
def releases_ab(facility_a, facility_b):
    """24 people released from A in March 2020 (12 reconvicted), 3 from B (1 reconvicted)."""
    release_people(
        facility_a, 24, prefix="A", release_date=datetime.date(2020, 3, 1), reconvicted=12
    )
    release_people(facility_b, 3, prefix="B", release_date=datetime.date(2020, 5, 1), reconvicted=1)


def export(client, format, **query):
    return client.get(reverse("evidence-export", args=[format]), query)


def assert_no_person_data(text):
    for person in Person.objects.all():
        assert person.prison_number not in text
        assert person.last_names not in text
        assert person.research_id not in text  # aggregate exports hold no IDs at all


def test_csv_has_every_window_with_its_definition(client, carla, releases_ab):
    client.force_login(carla)
    response = export(client, "csv", breakdown="facility", windows="1,3")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="recidivism-reconviction-3y-chile-' in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    definition = load_definition("reconviction-3y-chile")
    assert {row["definition_sentence"] for row in rows} == {
        definition.with_overrides(windows=[1, 3]).sentence
    }
    assert {(row["definition"], row["definition_version"]) for row in rows} == {
        (definition.name, definition.version)
    }
    overall = [row for row in rows if row["breakdown"] == "all"]
    assert [(row["window_years"], row["eligible"], row["recidivists"]) for row in overall] == [
        ("1", "27", "0"),
        ("3", "27", "13"),
    ]
    by_facility = [row for row in rows if row["breakdown"] == "facility"]
    assert {row["group"] for row in by_facility} == {"CL-A-01", "CL-B-01"}
    suppressed = [row for row in by_facility if row["suppressed"] == "true"]
    assert suppressed and all(row["eligible"] == row["rate"] == "" for row in suppressed)
    assert_no_person_data(text)


def test_xlsx_has_the_four_sheets_and_the_definition(client, fabio, releases_ab):
    client.force_login(fabio)
    response = export(client, "xlsx", breakdown="sex")
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Rates", "Groups", "Not counted", "Definition"]
    definition = load_definition("reconviction-3y-chile")
    rates = workbook["Rates"]
    assert rates["A1"].value == f"{definition.name}, version {definition.version}"
    assert rates["A2"].value == definition.sentence
    low, high = wilson_interval(12, 24)
    assert [cell.value for cell in rates[6]] == pytest.approx([3, 24, 12, 0.5, low, high])
    assert rates["D6"].number_format == "0.0%"
    assert workbook["Groups"]["A6"].value == "Male"
    about = {row[0].value: row[1].value for row in workbook["Definition"].iter_rows()}
    assert about["In plain words"] == definition.sentence
    assert about["Source"] == definition.citation
    assert about["Scope"] == "Releases from your facilities: CL-A-01."
    text = "\n".join(
        str(cell.value) for sheet in workbook for row in sheet.iter_rows() for cell in row
    )
    assert_no_person_data(text)


def test_xlsx_shows_suppressed_cells_as_a_dash(client, carla, releases_ab):
    client.force_login(carla)
    workbook = openpyxl.load_workbook(
        io.BytesIO(export(client, "xlsx", breakdown="facility").content)
    )
    groups = [[cell.value for cell in row] for row in workbook["Groups"].iter_rows(min_row=6)]
    assert all(row[2:] == ["—"] * 5 for row in groups)
    assert (
        "counts from 1 to 9"
        in {row[0].value: row[1].value for row in workbook["Definition"].iter_rows()}["Suppression"]
    )


def test_pdf_is_a_pdf_with_the_chart(client, carla, releases_ab):
    client.force_login(carla)
    response = export(client, "pdf", breakdown="facility_type")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert 3_000 < len(response.content) < 500_000
    assert 'filename="recidivism-reconviction-3y-chile-' in response["Content-Disposition"]


def test_pdf_without_releases_still_renders(client, carla, db):
    client.force_login(carla)
    response = export(client, "pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")


def test_facility_managers_export_their_facilities_only(client, fabio, releases_ab):
    client.force_login(fabio)
    text = export(client, "csv", breakdown="facility").content.decode("utf-8-sig")
    assert "CL-A-01" in text
    assert "CL-B-01" not in text

"""Formula injection (issue 10, "Trust"): text that a spreadsheet would run as a formula is
written as text in every CSV and XLSX we produce; numbers stay numbers."""

from __future__ import annotations

import csv
import datetime
import io
import types

import openpyxl
import polars as pl
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils.translation import gettext_lazy

from whatworks.analytics.instruments.cli import main as instrument_main
from whatworks.analytics.recidivism import load_definition, measure
from whatworks.analytics.recidivism.report import render_csv
from whatworks.analytics.riskmodel import cli as riskmodel_cli
from whatworks.analytics.spreadsheets import safe_cell as pure_safe_cell
from whatworks.evidence.tests.test_selectors import release_people
from whatworks.records.models import Facility
from whatworks.web.spreadsheets import safe_cell, safe_frame, safe_row

LINK = '=HYPERLINK("http://x","y")'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (LINK, "'" + LINK),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("Ana =1", "Ana =1"),  # only the first character counts
        ("José Muñoz", "José Muñoz"),
        ("", ""),
        ("-12", "-12"),  # text that is exactly a number is that number, not a formula
        ("+3.5", "+3.5"),
        ("-1e3", "-1e3"),
        (-12, -12),
        (-0.25, -0.25),
        (7, 7),
        (None, None),
        (True, True),
        (datetime.date(2020, 1, 1), datetime.date(2020, 1, 1)),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected
    assert pure_safe_cell(value) == expected
    assert type(safe_cell(value)) is type(expected)


def test_lazy_translations_are_text_too():
    assert safe_row([gettext_lazy("=1+1"), 3]) == ["'=1+1", 3]


def test_safe_frame_touches_text_columns_only():
    frame = pl.DataFrame(
        {
            "name": [LINK, "+cmd", "Ana", None, "-5"],
            "count": [-1, 2, -3, 4, 5],
            "rate": [-0.5, 0.1, 0.2, None, 1.0],
        }
    )
    safe = safe_frame(frame)
    assert safe["name"].to_list() == ["'" + LINK, "'+cmd", "Ana", None, "-5"]
    assert safe["count"].to_list() == [-1, 2, -3, 4, 5] and safe["count"].dtype == pl.Int64
    assert safe["rate"].to_list() == [-0.5, 0.1, 0.2, None, 1.0]


# --- every writer --------------------------------------------------------------------------


@pytest.fixture
def risky_facility(facility_a, facility_b):
    """Releases from A and B; A's code (written outside the form's validation, e.g. by an
    old import) is a formula and its name starts with one."""
    release_people(
        facility_a, 24, prefix="A", release_date=datetime.date(2020, 3, 1), reconvicted=12
    )
    release_people(facility_b, 3, prefix="B", release_date=datetime.date(2020, 5, 1))
    Facility.objects.filter(pk=facility_a.pk).update(code=LINK, name="+cmd")
    return facility_a


def test_evidence_csv_export_neutralises_names(client, carla, risky_facility):
    client.force_login(carla)
    response = client.get(
        reverse("evidence-export", args=["csv"]), {"breakdown": "facility", "windows": "3"}
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    groups = {row["group"] for row in rows if row["breakdown"] == "facility"}
    assert groups == {"'" + LINK, "CL-B-01"}
    overall = [row for row in rows if row["breakdown"] == "all"]
    assert overall[0]["eligible"] == "27" and float(overall[0]["rate"]) == pytest.approx(12 / 27)


def test_evidence_xlsx_export_neutralises_names(client, carla, risky_facility):
    client.force_login(carla)
    response = client.get(
        reverse("evidence-export", args=["xlsx"]), {"breakdown": "facility", "windows": "3"}
    )
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]  # no formula
    labels = [cell.value for cell in workbook["Groups"]["A"][5:]]
    assert "'" + LINK + " · +cmd" in labels
    overall = [cell.value for cell in workbook["Rates"][6]]
    assert overall[1] == 27 and overall[3] == pytest.approx(12 / 27)  # numbers stay numbers


def test_evidence_extract_neutralises_text_columns(risky_facility, tmp_path):
    call_command("evidence_extract", "--out", str(tmp_path), "--today", "2026-01-01")
    releases = pl.read_csv(tmp_path / "releases.csv", infer_schema=False)
    assert set(releases["facility"]) == {"'" + LINK, "CL-B-01"}
    assert releases.height == 27


def test_riskmodel_score_output_neutralises_text(tmp_path, monkeypatch, capsys):
    source = tmp_path / "people.csv"
    pl.DataFrame({"name": [LINK, "+cmd", "Ana"], "prio": [-1, 0, 3]}).write_csv(source)
    instrument = types.SimpleNamespace(slug="local", version="1")
    monkeypatch.setattr(riskmodel_cli, "_load", lambda path: instrument)
    monkeypatch.setattr(
        riskmodel_cli, "_totals", lambda instrument, frame, path: ([-2, 1, 4], ["@low", "a", "b"])
    )
    out = tmp_path / "scored.csv"
    assert riskmodel_cli.main(["score", str(source), "--instrument", "x", "--out", str(out)]) == 0
    lines = out.read_text("utf-8").splitlines()
    assert lines == [
        "name,prio,score,band",
        '"\'=HYPERLINK(""http://x"",""y"")",-1,-2,\'@low',
        "'+cmd,0,1,a",
        "Ana,3,4,b",
    ]


def test_instrument_score_csv_neutralises_ids(tmp_path, capsys):
    rows = tmp_path / "answers.csv"
    rows.write_text(
        "id,audit_1,audit_2,audit_3,audit_4,audit_5,audit_6,audit_7,audit_8,audit_9,audit_10\n"
        "+cmd,1,1,1,1,1,1,1,0,0,0\n",
        "utf-8",
    )
    out = tmp_path / "scores.csv"
    assert instrument_main(["score-csv", "audit", str(rows), "--out", str(out)]) == 0
    assert out.read_text("utf-8").splitlines()[1] == "'+cmd,audit,1.0,7,zone_i,3,3,1"


def test_recidivism_csv_neutralises_group_values():
    end = datetime.date(2026, 1, 1)
    releases = pl.DataFrame(
        {
            "release_id": ["R1", "R2"],
            "person_id": ["P1", "P2"],
            "release_date": [datetime.date(2020, 1, 1)] * 2,
            "release_type": ["parole"] * 2,
            "followup_end_date": [end] * 2,
            "facility": [LINK, "CL-1"],
        }
    )
    events = pl.DataFrame(
        {"person_id": [], "event_type": [], "event_date": []},
        schema={"person_id": pl.String, "event_type": pl.String, "event_date": pl.Date},
    )
    result = measure(releases, events, load_definition(), by=["facility"])
    table = list(csv.reader(io.StringIO(render_csv(result).split("\n", 1)[1])))
    assert {row[1] for row in table[1:] if row[0] == "group"} == {"'" + LINK, "CL-1"}

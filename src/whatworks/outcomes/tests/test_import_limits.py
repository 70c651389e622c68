"""Outcome extracts are size-limited (WHATWORKS_MAX_IMPORT_MB) and must be CSV or XLSX by
content, whatever their name; both refusals name the file (issue 10, "Trust")."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from whatworks.outcomes.extract import ExtractFileError, parse_extract
from whatworks.outcomes.models import OutcomeImport
from whatworks.outcomes.tests.helpers import row, write_csv

TODAY = datetime.date(2026, 1, 15)


def test_a_file_above_the_limit_is_refused_before_it_is_read(tmp_path, settings):
    settings.WHATWORKS_MAX_IMPORT_MB = 1
    path = write_csv(tmp_path / "big.csv", [row()])
    with path.open("a", encoding="utf-8") as handle:
        handle.write("x" * (1024 * 1024))
    with pytest.raises(ExtractFileError, match=r"big\.csv: the file is 1\.0 MB, above the import"):
        parse_extract(path, today=TODAY)


def test_a_file_at_the_limit_is_read(tmp_path, settings):
    settings.WHATWORKS_MAX_IMPORT_MB = 1
    path = write_csv(tmp_path / "ok.csv", [row()])
    assert path.stat().st_size < 1024 * 1024
    assert parse_extract(path, today=TODAY).errors == []


def test_the_command_refuses_a_big_file_with_exit_2(tmp_path, settings, db):
    settings.WHATWORKS_MAX_IMPORT_MB = 1
    path = tmp_path / "huge.csv"
    path.write_bytes(b"first_name\n" + b"a\n" * (600 * 1024))
    with pytest.raises(CommandError, match=r"huge\.csv: .*WHATWORKS_MAX_IMPORT_MB") as caught:
        call_command("import", "outcomes", str(path), stdout=io.StringIO())
    assert caught.value.returncode == 2
    assert OutcomeImport.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("extract.csv", b"%PDF-1.7\n1 0 obj\n"),
        ("extract.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64),
        ("extract.csv", b"\x1f\x8b\x08\x00" + b"\x00" * 16),
        ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
    ],
)
def test_a_file_that_is_not_csv_or_xlsx_is_refused(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ExtractFileError, match=f"{name}: not a CSV or XLSX file"):
        parse_extract(path, today=TODAY)


def test_xlsx_named_csv_is_read_by_its_content(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    data = row()
    sheet.append(list(data))
    sheet.append(list(data.values()))
    path = tmp_path / "really-a-workbook.csv"
    workbook.save(path)
    extract = parse_extract(path, today=TODAY)
    assert extract.encoding == "xlsx" and extract.errors == [] and len(extract.rows) == 1


# --- web uploads (settings.py, "Upload limits") --------------------------------------------


def test_upload_limits_are_set_explicitly(settings, monkeypatch):
    monkeypatch.delenv("WHATWORKS_MAX_UPLOAD_MB", raising=False)
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == settings.WHATWORKS_MAX_UPLOAD_MB * 1024 * 1024
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE == 2_621_440
    assert settings.DATA_UPLOAD_MAX_NUMBER_FIELDS == 1000


def test_a_post_above_the_limit_is_refused_with_400(client, settings, db):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client.post(reverse("login"), {"username": "alice", "password": "x" * 2048})
    assert response.status_code == 400


def test_a_post_with_too_many_fields_is_refused_with_400(client, settings, db):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    response = client.post(reverse("login"), {f"field{i}": "x" for i in range(20)})
    assert response.status_code == 400

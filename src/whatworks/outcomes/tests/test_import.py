"""`whatworks import outcomes`: linking, all or nothing, idempotent, dry runs, the JSON output,
and imported events reaching the Evidence dashboard's frames."""

import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from whatworks.audit.models import AuditEvent
from whatworks.evidence.selectors import release_frames
from whatworks.outcomes.models import LinkReview, OutcomeImport, ReviewReason
from whatworks.outcomes.tests.helpers import linked_row, review_row, row, run_import, write_csv
from whatworks.records.models import OutcomeEvent

pytestmark = pytest.mark.django_db


def test_rows_are_linked_reviewed_or_left_unmatched(mixed_file, jose):
    output = run_import(mixed_file)
    assert set(output) == {"links", "summary"}
    assert output["links"] == [
        {"row": 0, "person_id": jose.pk, "status": "linked", "probability": 1.0},
        {
            "row": 1,
            "person_id": jose.pk,
            "status": "review",
            "probability": pytest.approx(output["links"][1]["probability"]),
        },
        {"row": 2, "person_id": None, "status": "unmatched", "probability": None},
    ]
    summary = output["summary"]
    assert summary["file"] == "pdi.csv" and summary["encoding"] == "utf-8"
    assert len(summary["sha256"]) == 64 and summary["dry_run"] is False
    assert (summary["linked"], summary["review"], summary["unmatched"]) == (1, 1, 1)
    assert (summary["events_created"], summary["reviews_created"]) == (1, 1)
    assert summary["already_imported"] == 0

    event = OutcomeEvent.objects.get()
    assert (event.person, event.event_type, event.source, event.reference) == (
        jose,
        "rearrest",
        "police",
        "PDI-LINK",
    )
    assert len(event.source_key) == 64
    review = LinkReview.objects.get()
    assert (review.candidate, review.row_index, review.status) == (jose, 1, "pending")
    assert review.candidates[0]["person_id"] == jose.pk
    record = OutcomeImport.objects.get()
    assert [r["row"] for r in record.unmatched_rows] == [2]
    assert record.actor is None and record.actor_label == "command"
    assert AuditEvent.objects.filter(action="outcome.import", object_id=str(record.pk)).exists()
    assert AuditEvent.objects.filter(action="outcome.record", person=jose).count() == 1


def test_importing_the_same_file_twice_adds_nothing(mixed_file):
    first = run_import(mixed_file)
    second = run_import(mixed_file)
    assert second["links"] == first["links"]
    for key in ("linked", "review", "unmatched", "rows"):
        assert second["summary"][key] == first["summary"][key]
    assert second["summary"]["events_created"] == second["summary"]["reviews_created"] == 0
    assert second["summary"]["already_imported"] == 2
    assert second["summary"]["already_imported_rows"] == [0, 1]
    assert OutcomeEvent.objects.count() == 1
    assert LinkReview.objects.count() == 1


def test_text_output_says_already_imported(mixed_file):
    run_import(mixed_file)
    out = io.StringIO()
    call_command("import", "outcomes", str(mixed_file), stdout=out)
    text = out.getvalue()
    assert "2 already imported" in text
    assert "data row 1 (index 0): linked" in text and "(already imported)" in text


def test_dry_run_reports_the_same_and_writes_nothing(mixed_file):
    dry = run_import(mixed_file, "--dry-run")
    assert dry["summary"]["dry_run"] is True
    assert dry["summary"]["events_created"] == 1 and dry["summary"]["import_id"] is None
    assert OutcomeEvent.objects.count() == 0
    assert LinkReview.objects.count() == OutcomeImport.objects.count() == 0
    assert not AuditEvent.objects.filter(action__startswith="outcome.").exists()
    real = run_import(mixed_file)
    assert real["links"] == dry["links"]


def test_one_bad_row_writes_nothing_and_reports_json_errors(tmp_path, jose):
    path = write_csv(tmp_path / "bad.csv", [linked_row(), review_row(), row(event_type="X")])
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import", "outcomes", str(path), "--format", "json", stdout=out)
    assert caught.value.returncode == 1
    assert json.loads(out.getvalue()) == {
        "file": "bad.csv",
        "errors": [
            {
                "row": 2,
                "column": "event_type",
                "message": "Unknown event type “X”; use one of rearrest, charge, "
                "reconviction, reincarceration, technical_violation or map it.",
            }
        ],
    }
    assert OutcomeEvent.objects.count() == LinkReview.objects.count() == 0
    assert OutcomeImport.objects.count() == 0


def test_text_errors_name_file_row_and_column(tmp_path, jose):
    path = write_csv(tmp_path / "bad.csv", [linked_row(offence_date="2025-12-01")])
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 problem"):
        call_command("import", "outcomes", str(path), stdout=out)
    assert out.getvalue().strip() == (
        "bad.csv: data row 1 (index 0), column offence_date: "
        "The offence date is after the event date."
    )


def test_usage_errors_exit_2(tmp_path, mixed_file, alice):
    for args in (
        [str(tmp_path / "nope.csv")],
        [str(mixed_file), "--actor", "nobody"],
        [str(mixed_file), "--actor", "alice"],  # case managers do not import
        [str(mixed_file), "--review-threshold", "0.9", "--link-threshold", "0.8"],
        [str(mixed_file), "--mapping", str(tmp_path / "nope.yaml")],
    ):
        with pytest.raises(CommandError) as caught:
            call_command("import", "outcomes", *args, stdout=io.StringIO())
        assert caught.value.returncode == 2, args
    assert OutcomeImport.objects.count() == 0


def test_actor_is_recorded(mixed_file, dora):
    run_import(mixed_file, "--actor", "dora")
    record = OutcomeImport.objects.get()
    assert record.actor == dora
    assert AuditEvent.objects.get(action="outcome.import").actor == dora


def test_a_sure_match_without_a_release_before_the_event_goes_to_review(tmp_path, person_in_a):
    person_in_a.national_id = "33333333-3"
    person_in_a.save()
    path = write_csv(
        tmp_path / "held.csv",
        [row(national_id="33333333-3", source_reference="HELD-1")],
    )
    output = run_import(path)
    assert output["links"][0]["status"] == "review"
    assert OutcomeEvent.objects.count() == 0
    review = LinkReview.objects.get()
    assert (review.candidate, review.reason) == (person_in_a, ReviewReason.NO_RELEASE)


def test_latin1_file_imports_and_reports_its_encoding(tmp_path, jose):
    path = write_csv(tmp_path / "latin.csv", [linked_row()], encoding="latin-1")
    output = run_import(path)
    assert output["summary"]["encoding"] == "cp1252"
    assert output["links"][0]["status"] == "linked"


def test_an_imported_rearrest_reaches_the_recidivism_frames(tmp_path, jose, dora):
    path = write_csv(tmp_path / "pdi.csv", [linked_row(event_date="2025-02-03")])
    run_import(path)
    releases, events = release_frames(viewer=dora, today=datetime.date(2026, 1, 1))
    assert jose.research_id in releases.get_column("person_id").to_list()
    mine = events.filter(events["person_id"] == jose.research_id)
    assert mine.select("event_type", "event_date").rows() == [
        ("rearrest", datetime.date(2025, 2, 3))
    ]


def test_a_mapped_latin1_court_extract_imports_through_the_command(tmp_path, jose):
    mapping = tmp_path / "tribunal.yaml"
    mapping.write_text(
        "columns: {NOMBRES: first_name, APELLIDOS: last_name, NACIMIENTO: date_of_birth,"
        " RUN: national_id, TIPO: event_type, FECHA: event_date, CAUSA: source_reference}\n"
        "event_types: {CONDENA: reconviction}\n",
        encoding="utf-8",
    )
    header = ["NOMBRES", "APELLIDOS", "NACIMIENTO", "RUN", "TIPO", "FECHA", "CAUSA"]
    path = write_csv(
        tmp_path / "tribunal.csv",
        [
            {
                "NOMBRES": "JOSÉ",
                "APELLIDOS": "MUÑOZ",
                "NACIMIENTO": "12/04/1990",
                "RUN": "11.111.111-1",
                "TIPO": "CONDENA",
                "FECHA": "15/09/2025",
                "CAUSA": "RIT-123-2025",
            }
        ],
        header=header,
        encoding="cp1252",
        delimiter=";",
    )
    output = run_import(path, "--mapping", str(mapping))
    assert output["summary"]["encoding"] == "cp1252"
    assert output["links"] == [
        {"row": 0, "person_id": jose.pk, "status": "linked", "probability": 1.0}
    ]
    event = OutcomeEvent.objects.get()
    assert (event.event_type, event.source, event.event_date) == (
        "reconviction",
        "court",
        datetime.date(2025, 9, 15),
    )

"""The issue's "done when": `whatworks evidence_extract` then `whatworks recidivism` gives the
dashboard's figures exactly, and the extract holds pseudonymous IDs only."""

import json

import polars as pl
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from whatworks.analytics.recidivism.cli import main as recidivism_main
from whatworks.evidence.tests.test_selectors import load_simulated_service
from whatworks.records.models import CustodyEpisode, Person


@pytest.fixture
def service(db):
    return load_simulated_service(persons=400, seed=5)


@pytest.mark.parametrize(
    ("definition", "breakdown", "windows"),
    [
        ("reconviction-3y-chile", "", ""),
        ("reincarceration-1-2-3y", "facility", ""),
        ("any-return-3y", "cohort_year", "1,2"),
        ("uk-proven-reoffending-1y", "age_band", ""),
    ],
)
def test_the_command_line_on_the_extract_gives_the_dashboards_figures(
    client, dora, service, tmp_path, definition, breakdown, windows
):
    today = timezone.localdate()
    call_command("evidence_extract", "--out", str(tmp_path), "--today", today.isoformat())
    arguments = [
        "--releases", str(tmp_path / "releases.csv"),
        "--events", str(tmp_path / "events.csv"),
        "--definition", definition,
        "--format", "json",
        "--out", str(tmp_path / "result.json"),
    ]  # fmt: skip
    if breakdown:
        arguments += ["--by", breakdown]
    if windows:
        arguments += ["--windows", windows]
    assert recidivism_main(arguments) == 0
    command_line = json.loads((tmp_path / "result.json").read_text())

    client.force_login(dora)
    response = client.get(
        reverse("evidence"),
        {"definition": definition, "breakdown": breakdown, "windows": windows},
    )
    assert response.status_code == 200
    dashboard = json.loads(json.dumps(response.context["report"].result))

    assert command_line["windows"] == dashboard["windows"]
    assert command_line["groups"] == dashboard["groups"]
    assert command_line["excluded"] == dashboard["excluded"]
    assert command_line["totals"] == dashboard["totals"]
    assert command_line["definition"] == dashboard["definition"]
    assert any(not window["suppressed"] for window in dashboard["windows"])


def test_the_extract_holds_pseudonymous_ids_only(service, tmp_path, capsys):
    call_command("evidence_extract", "--out", str(tmp_path / "new"))
    assert "releases" in capsys.readouterr().out
    releases = pl.read_csv(tmp_path / "new" / "releases.csv", infer_schema=False)
    events = pl.read_csv(tmp_path / "new" / "events.csv", infer_schema=False)
    assert releases.columns == [
        "release_id", "person_id", "release_date", "release_type", "followup_end_date",
        "facility", "facility_type", "cohort_year", "sex", "age_band",
    ]  # fmt: skip
    assert events.columns == ["person_id", "event_type", "event_date", "offence_date"]
    assert releases.height == CustodyEpisode.objects.filter(release_date__isnull=False).count()
    text = (tmp_path / "new" / "releases.csv").read_text() + (
        tmp_path / "new" / "events.csv"
    ).read_text()
    research_ids = set(Person.objects.values_list("research_id", flat=True))
    assert set(releases["person_id"]) <= research_ids
    for prison_number, last_names in Person.objects.values_list("prison_number", "last_names"):
        assert prison_number not in text
        assert last_names not in text


def test_a_bad_date_is_a_command_error(db, tmp_path):
    with pytest.raises(CommandError, match="not a date"):
        call_command("evidence_extract", "--out", str(tmp_path), "--today", "yesterday")

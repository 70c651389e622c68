"""The issue's "done when": `whatworks evidence_extract` then `whatworks recidivism` gives the
dashboard's figures exactly, while the extract holds neither database nor research IDs and
no real calendar day of a release or event (each person's dates move within their months)."""

import datetime
import json

import polars as pl
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from whatworks.analytics.recidivism.cli import main as recidivism_main
from whatworks.analytics.recidivism.definitions import load_definition
from whatworks.analytics.recidivism.engine import measure
from whatworks.audit.models import AuditEvent
from whatworks.evidence.extract import pseudonymise
from whatworks.evidence.tests.test_selectors import load_simulated_service
from whatworks.records.models import CustodyEpisode, OutcomeEvent, Person


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
    assert command_line.get("km") == dashboard["km"]
    assert any(not window["suppressed"] for window in dashboard["windows"])


def test_the_extract_holds_no_database_or_research_id(service, tmp_path, capsys):
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
    assert releases["release_id"].n_unique() == releases.height
    text = (tmp_path / "new" / "releases.csv").read_text() + (
        tmp_path / "new" / "events.csv"
    ).read_text()
    for research_id, prison_number, last_names in Person.objects.values_list(
        "research_id", "prison_number", "last_names"
    ):
        assert research_id not in text
        assert prison_number not in text
        assert last_names not in text
    episode_ids = {str(pk) for pk in CustodyEpisode.objects.values_list("pk", flat=True)}
    assert not set(releases["release_id"]) & episode_ids
    assert set(events["person_id"]) <= set(releases["person_id"])

    # Drawn afresh: a second extract cannot be joined to the first.
    call_command("evidence_extract", "--out", str(tmp_path / "again"))
    again = pl.read_csv(tmp_path / "again" / "releases.csv", infer_schema=False)
    assert not set(again["release_id"]) & set(releases["release_id"])
    assert not set(again["person_id"]) & set(releases["person_id"])


def _unshifted(releases: pl.DataFrame, events: pl.DataFrame, today: datetime.date):
    """The real dates back, from each person's shift (follow-up end minus the real today)."""
    shift = releases.select(
        "person_id",
        (pl.col("followup_end_date") - pl.lit(today)).dt.total_days().alias("shift"),
    ).unique()
    assert shift.group_by("person_id").len()["len"].max() == 1  # one shift per person
    back = pl.duration(days=pl.col("shift"))
    real_releases = releases.join(shift, on="person_id").with_columns(
        (pl.col("release_date") - back).alias("real")
    )
    real_events = events.join(shift, on="person_id").with_columns(
        (pl.col("event_date") - back).alias("real"),
        (pl.col("offence_date") - back).alias("real_offence"),
    )
    return shift, real_releases, real_events


def test_dates_move_within_their_month_and_intervals_stay_exact(service, tmp_path):
    today = timezone.localdate().replace(day=15)
    call_command("evidence_extract", "--out", str(tmp_path), "--today", today.isoformat())
    releases = pl.read_csv(tmp_path / "releases.csv", try_parse_dates=True)
    events = pl.read_csv(tmp_path / "events.csv", try_parse_dates=True)
    shift, real_releases, real_events = _unshifted(releases, events, today)

    # The dates written are not the real ones for most people ...
    assert (shift["shift"] != 0).sum() > shift.height / 2
    # ... but every release stays in its month, and on a day that exists in every month.
    assert (real_releases["release_date"].dt.month() == real_releases["real"].dt.month()).all()
    moved = real_releases.filter(pl.col("release_date") != pl.col("real"))
    assert moved["release_date"].dt.day().max() <= 28
    assert moved["real"].dt.day().max() <= 28

    # Undoing the shift gives the database's dates back: intervals are exact.
    database = sorted(
        CustodyEpisode.objects.filter(release_date__isnull=False).values_list(
            "release_date", "release_type", "facility__code"
        )
    )
    assert sorted(real_releases.select("real", "release_type", "facility").rows()) == database
    recorded = sorted(
        (event_date, event_type)
        for event_date, event_type in OutcomeEvent.objects.values_list("event_date", "event_type")
    )
    assert sorted(real_events.select("real", "event_type").rows()) == recorded
    assert (real_releases["cohort_year"].cast(pl.Int32) == real_releases["real"].dt.year()).all()


def _frames(release_dates, event_dates, person="R1"):
    releases = pl.DataFrame(
        {
            "release_id": [str(n) for n in range(len(release_dates))],
            "person_id": [person] * len(release_dates),
            "release_date": release_dates,
            "release_type": ["end_of_sentence"] * len(release_dates),
            "followup_end_date": [None] * len(release_dates),
            "facility": ["CL-A-01"] * len(release_dates),
            "facility_type": ["closed"] * len(release_dates),
            "cohort_year": [str(d.year) for d in release_dates],
            "sex": ["male"] * len(release_dates),
            "age_band": ["25–34"] * len(release_dates),
        },
        schema_overrides={"followup_end_date": pl.Date},
    )
    events = pl.DataFrame(
        {
            "person_id": [person] * len(event_dates),
            "event_type": ["reconviction"] * len(event_dates),
            "event_date": event_dates,
            "offence_date": [d - datetime.timedelta(days=40) for d in event_dates],
        }
    )
    return releases, events


@pytest.mark.parametrize(
    ("today", "release", "event"),
    [
        # A window ending on a leap day's anniversary, an event on that very day.
        (datetime.date(2026, 3, 10), datetime.date(2024, 2, 28), datetime.date(2025, 2, 28)),
        # The 31st: a month later is the 30th or the 28th; the date must not move.
        (datetime.date(2026, 6, 20), datetime.date(2024, 1, 31), datetime.date(2025, 1, 31)),
        # Follow-up ending on the 30th: nobody's dates can move.
        (datetime.date(2025, 8, 30), datetime.date(2024, 2, 29), datetime.date(2025, 2, 28)),
        # An event the day after the window ends.
        (datetime.date(2027, 12, 3), datetime.date(2024, 3, 1), datetime.date(2025, 3, 2)),
    ],
)
def test_calendar_edge_cases_give_the_same_figures(today, release, event):
    releases, events = _frames([release], [event])
    releases = releases.with_columns(pl.lit(today).alias("followup_end_date"))
    for slug in ("reincarceration-1-2-3y", "uk-proven-reoffending-1y", "reconviction-3y-chile"):
        definition = load_definition(slug)
        real = measure(releases, events, definition).to_dict()
        for _ in range(15):
            shifted_releases, shifted_events = pseudonymise(releases, events, today=today)
            if release.day > 28 or today.day > 28:
                assert shifted_releases["release_date"].to_list() == [release]
            result = measure(shifted_releases, shifted_events, definition).to_dict()
            assert result == real, (slug, shifted_releases["release_date"].to_list())


def test_an_extract_is_audited_and_warns_when_dates_cannot_move(service, tmp_path, capsys):
    call_command("evidence_extract", "--out", str(tmp_path), "--today", "2026-08-30")
    assert "no dates could be moved" in capsys.readouterr().err
    releases = pl.read_csv(tmp_path / "releases.csv", try_parse_dates=True)
    assert (releases["followup_end_date"] == datetime.date(2026, 8, 30)).all()
    event = AuditEvent.objects.get(action="evidence_extract.create")
    assert event.after["rows"]["releases"] == releases.height
    assert event.actor_label == "command"


def test_a_bad_date_is_a_command_error(db, tmp_path):
    with pytest.raises(CommandError, match="not a date"):
        call_command("evidence_extract", "--out", str(tmp_path), "--today", "yesterday")


def test_an_empty_service_gives_empty_files_with_the_columns(db, tmp_path):
    call_command("evidence_extract", "--out", str(tmp_path), "--today", "2026-03-10")
    releases = pl.read_csv(tmp_path / "releases.csv")
    events = pl.read_csv(tmp_path / "events.csv")
    assert releases.height == 0 and events.height == 0
    assert releases.columns[:3] == ["release_id", "person_id", "release_date"]


def test_an_unwritable_folder_is_a_command_error(db, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(CommandError, match="--out"):
        call_command("evidence_extract", "--out", str(blocker / "extract"))

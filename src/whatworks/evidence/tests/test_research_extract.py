"""`whatworks export research`: pseudonymous tables, suppressed aggregates, manifest, audit.

The identifying-data checks work on the written bytes, not on the frames: a name or prison
number that reaches any file by any route fails them.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import polars as pl
import pytest
from django.core.management import CommandError, call_command

from whatworks.analytics.simulation import SimulationConfig, simulate
from whatworks.audit.models import AuditEvent
from whatworks.community.models import CommunityProvider, FollowUpContact, ProviderReferral
from whatworks.drugtests.models import DrugTest
from whatworks.evidence.research import (
    AGGREGATES,
    AUDIT_ACTION,
    FORBIDDEN_COLUMNS,
    TABLES,
    suppress_counts,
)
from whatworks.records.models import CustodyEpisode, OutcomeEvent, Person
from whatworks.reintegration.models import Arrangement, ReleasePreparation

pytestmark = pytest.mark.django_db

EXTRACT_DATE = datetime.date(2026, 6, 30)
SECRET_TEXT = "ZZ-FREE-TEXT-MARKER"
TABLE_NAMES = [table.name for table in (*TABLES, AGGREGATES)]


@pytest.fixture(scope="module")
def service():
    return simulate(SimulationConfig(persons=250, seed=11, extract_date=EXTRACT_DATE))


@pytest.fixture
def loaded(service, person_in_a, person_in_b):
    """The simulated service plus José (released, with an event and a drug test carrying
    free text in every free-text field) and María (in custody)."""
    from whatworks.assessments.imports import assessments_load
    from whatworks.records.imports import extract_load
    from whatworks.treatment.imports import treatment_load

    extract_load(tables=service.tables(), actor_label="test")
    assessments_load(table=service.assessments, actor_label="test")
    treatment_load(tables=service.tables(), actor_label="test", today=EXTRACT_DATE)

    Person.objects.filter(pk=person_in_a.pk).update(
        national_id="12345678-9", support_needs_notes=SECRET_TEXT
    )
    episode = person_in_a.custody_episodes.get()
    CustodyEpisode.objects.filter(pk=episode.pk).update(
        release_date=datetime.date(2025, 3, 20), release_type="parole"
    )
    OutcomeEvent.objects.create(
        person=person_in_a,
        event_type="rearrest",
        event_date=datetime.date(2025, 9, 2),
        offence_date=datetime.date(2025, 8, 30),
        source="police",
        reference=SECRET_TEXT,
    )
    DrugTest.objects.create(
        person=person_in_a,
        episode=episode,
        facility=episode.facility,
        test_date=datetime.date(2024, 6, 3),
        reason="random",
        sample="urine",
        panel_slug="panel",
        panel_version="1",
        results={"cannabis": "positive"},
        outcome="positive",
        lab_reference=SECRET_TEXT,
        seal_number=SECRET_TEXT,
    )
    provider = CommunityProvider.objects.create(
        name=f"Fundación {SECRET_TEXT}",
        kind="ngo",
        address=SECRET_TEXT,
        phone=SECRET_TEXT,
        contact_person=SECRET_TEXT,
        notes=SECRET_TEXT,
    )
    ProviderReferral.objects.create(
        person=person_in_a,
        episode=episode,
        provider=provider,
        pathway="accommodation",
        referred_on=datetime.date(2025, 3, 1),
        status="completed",
        status_date=datetime.date(2025, 5, 1),
        outcome_code="achieved",
        outcome=SECRET_TEXT,
        outcome_date=datetime.date(2025, 5, 1),
        notes=SECRET_TEXT,
    )
    FollowUpContact.objects.create(
        person=person_in_a,
        episode=episode,
        month=1,
        due_date=datetime.date(2025, 4, 20),
        status="done",
        contact_date=datetime.date(2025, 4, 22),
        contact_mode="phone",
        housing_status="stable",
        employment_status="employed",
        substance_use="none",
        treatment_continuity="not_applicable",
        justice_contact="no",
        notes=SECRET_TEXT,
    )
    preparation = ReleasePreparation.objects.create(
        person=person_in_a, episode=episode, started_on=datetime.date(2024, 12, 1)
    )
    Arrangement.objects.create(
        preparation=preparation,
        kind="accommodation",
        detail_type=SECRET_TEXT,
        status="confirmed",
        description=SECRET_TEXT,
        provider_name=SECRET_TEXT,
        confirmed_on=datetime.date(2025, 2, 10),
        notes=SECRET_TEXT,
    )
    return {"jose": person_in_a, "maria": person_in_b, "episode": episode}


def export(out: Path, today: datetime.date = EXTRACT_DATE) -> None:
    call_command("export", "research", "--out", str(out), "--today", today.isoformat())


def written_bytes(out: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(out.iterdir()))


def test_the_command_writes_every_table_as_csv_and_parquet_and_a_manifest(loaded, tmp_path):
    export(tmp_path)

    expected = {f"{name}.{ext}" for name in TABLE_NAMES for ext in ("csv", "parquet")}
    assert {path.name for path in tmp_path.iterdir()} == expected | {"manifest.json"}
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["extract_date"] == "2026-06-30"
    assert manifest["suppression"]["min_count"] == 10
    assert "date" in manifest["removed"] and "free text" in manifest["removed"]
    for name in TABLE_NAMES:
        csv = pl.read_csv(tmp_path / f"{name}.csv", infer_schema_length=0)
        parquet = pl.read_parquet(tmp_path / f"{name}.parquet")
        entry = manifest["tables"][name]
        assert entry["rows"] == csv.height == parquet.height
        assert [column["name"] for column in entry["columns"]] == csv.columns == parquet.columns
        assert all(column["definition"] for column in entry["columns"])
    persons = pl.read_parquet(tmp_path / "persons.parquet")
    # Everyone with a custody episode: the simulated persons plus José and María.
    assert (
        persons.height == Person.objects.filter(custody_episodes__isnull=False).distinct().count()
    )
    assert persons.height > 200
    for name in TABLE_NAMES:
        assert manifest["tables"][name]["rows"] > 0, name


def test_no_file_has_an_identifying_or_free_text_column(loaded, tmp_path):
    export(tmp_path)

    for name in TABLE_NAMES:
        columns = set(pl.read_parquet(tmp_path / f"{name}.parquet").columns)
        assert not columns & FORBIDDEN_COLUMNS, name
        assert not {c for c in columns if c.endswith("_date") or "name" in c}, name
    persons = pl.read_parquet(tmp_path / "persons.parquet")
    assert "year_of_birth" in persons.columns
    assert "date_of_birth" not in persons.columns
    jose = persons.filter(pl.col("research_id") == loaded["jose"].research_id).row(0, named=True)
    assert jose["year_of_birth"] == 1990
    assert jose["anchor_month"] == "2024-01"


def test_names_prison_numbers_ids_and_free_text_of_the_persons_appear_in_no_file(loaded, tmp_path):
    export(tmp_path)
    data = written_bytes(tmp_path)

    people = list(Person.objects.all())
    assert len(people) > 200
    for person in people:
        for value in (person.prison_number, person.first_names, person.last_names):
            assert value.encode() not in data, value
        assert person.date_of_birth.isoformat().encode() not in data
        if person.national_id:
            assert person.national_id.encode() not in data
    assert b"12345678-9" not in data
    assert SECRET_TEXT.encode() not in data
    # Research IDs are there: the extract is keyed by them.
    assert loaded["jose"].research_id.encode() in data


def test_database_ids_are_not_written_and_episodes_get_a_fresh_pseudonym(loaded, tmp_path):
    export(tmp_path / "first")
    export(tmp_path / "second")

    first = pl.read_parquet(tmp_path / "first" / "custody_episodes.parquet")
    second = pl.read_parquet(tmp_path / "second" / "custody_episodes.parquet")
    database_ids = {str(pk) for pk in CustodyEpisode.objects.values_list("pk", flat=True)}
    assert not set(first.get_column("episode_id")) & database_ids
    assert first.get_column("episode_id").is_unique().all()
    # Same episodes, same order, different pseudonyms: extracts cannot be linked by episode.
    assert first.get_column("research_id").to_list() == second.get_column("research_id").to_list()
    assert not set(first.get_column("episode_id")) & set(second.get_column("episode_id"))
    # Tables of one extract link through the episode pseudonym.
    tests = pl.read_parquet(tmp_path / "first" / "drug_tests.parquet")
    assert set(tests.get_column("episode_id").drop_nulls()) <= set(first.get_column("episode_id"))


def test_dates_are_days_after_the_anchor_month_so_intervals_stay_exact(loaded, tmp_path):
    export(tmp_path)
    rid = loaded["jose"].research_id

    episode = (
        pl.read_parquet(tmp_path / "custody_episodes.parquet")
        .filter(pl.col("research_id") == rid)
        .row(0, named=True)
    )
    # Day 0 is the first admission, 2024-01-15 (only "2024-01" is written); released 2025-03-20.
    assert episode["admission_day"] == 0
    assert episode["release_day"] == (datetime.date(2025, 3, 20) - datetime.date(2024, 1, 15)).days
    assert (
        episode["days_in_custody"] == (datetime.date(2025, 3, 20) - datetime.date(2024, 1, 15)).days
    )
    event = (
        pl.read_parquet(tmp_path / "outcome_events.parquet")
        .filter(pl.col("research_id") == rid)
        .row(0, named=True)
    )
    released_to_event = datetime.date(2025, 9, 2) - datetime.date(2025, 3, 20)
    assert event["event_day"] - episode["release_day"] == released_to_event.days
    assert event["event_type"] == "rearrest"
    test = (
        pl.read_parquet(tmp_path / "drug_tests.parquet")
        .filter(pl.col("research_id") == rid)
        .row(0, named=True)
    )
    assert test == {
        "research_id": rid,
        "episode_id": episode["episode_id"],
        "test_day": (datetime.date(2024, 6, 3) - datetime.date(2024, 1, 15)).days,
        "test_outcome": "positive",
    }


def test_after_release_tables_hold_codes_and_days_only(loaded, tmp_path):
    export(tmp_path)
    rid = loaded["jose"].research_id
    anchor = datetime.date(2024, 1, 15)  # José's first admission

    def row(name):
        frame = pl.read_parquet(tmp_path / f"{name}.parquet")
        return (
            frame.filter(pl.col("research_id") == rid)
            .drop("research_id", "episode_id")
            .row(0, named=True)
        )

    assert row("community_referrals") == {
        "pathway": "accommodation",
        "provider_kind": "ngo",
        "referred_day": (datetime.date(2025, 3, 1) - anchor).days,
        "status": "completed",
        "outcome_code": "achieved",
        "outcome_day": (datetime.date(2025, 5, 1) - anchor).days,
    }
    assert row("follow_ups")["housing_status"] == "stable"
    assert row("follow_ups")["contact_day"] == (datetime.date(2025, 4, 22) - anchor).days
    assert row("release_arrangements") == {
        "kind": "accommodation",
        "status": "confirmed",
        "confirmed_day": (datetime.date(2025, 2, 10) - anchor).days,
        "starts_day": None,
    }


def test_the_day_count_starts_at_each_persons_first_admission_so_no_date_can_be_rebuilt(
    loaded, tmp_path
):
    export(tmp_path)

    episodes = pl.read_parquet(tmp_path / "custody_episodes.parquet")
    first = episodes.group_by("research_id").agg(pl.col("admission_day").min())
    # Were day 0 the first of anchor_month, anchor_month + admission_day would be the date.
    assert first.get_column("admission_day").unique().to_list() == [0]
    assert episodes.get_column("admission_day").min() == 0


def test_rare_nationalities_and_genders_are_written_as_other(loaded, tmp_path):
    Person.objects.filter(pk=loaded["maria"].pk).update(nationality="IS", gender="trans_woman")
    export(tmp_path)

    persons = pl.read_parquet(tmp_path / "persons.parquet")
    maria = persons.filter(pl.col("research_id") == loaded["maria"].research_id)
    assert maria.get_column("nationality").item() == "other"
    assert maria.get_column("gender").item() == "other"
    for column in ("sex", "gender", "nationality", "main_language"):
        shown = persons.filter(pl.col(column) != "other").group_by(column).len()
        assert shown.get_column("len").min() >= 10, column
    assert "languages" not in persons.columns


def test_assessments_carry_results_but_no_answers(loaded, tmp_path):
    export(tmp_path)

    assessments = pl.read_parquet(tmp_path / "assessments.parquet")
    assert assessments.height > 0
    assert "answers" not in assessments.columns
    assert assessments.get_column("total").null_count() < assessments.height
    domains = json.loads(assessments.get_column("domain_scores")[0])
    assert isinstance(domains, dict)


def test_aggregates_suppress_counts_from_1_to_9(loaded, tmp_path):
    export(tmp_path)

    aggregates = pl.read_csv(tmp_path / "aggregates.csv")
    assert aggregates.height > 0
    assert set(aggregates.get_column("measure")) >= {"admissions", "releases"}
    shown = aggregates.filter(~pl.col("suppressed")).get_column("count")
    assert shown.null_count() == 0
    assert shown.min() >= 10
    hidden = aggregates.filter(pl.col("suppressed"))
    assert hidden.height > 0  # José's facility-A release in 2025 is a count of 1
    assert hidden.get_column("count").null_count() == hidden.height
    jose_release = aggregates.filter(
        (pl.col("measure") == "releases") & (pl.col("facility") == "CL-A-01")
    )
    assert jose_release.get_column("suppressed").to_list() == [True]


def test_suppress_counts_keeps_zero_and_ten():
    frame = pl.DataFrame({"count": [0, 1, 9, 10, 250]})
    out = suppress_counts(frame)
    assert out.get_column("count").to_list() == [0, None, None, 10, 250]
    assert out.get_column("suppressed").to_list() == [False, True, True, False, False]


def test_rerunning_into_the_same_folder_overwrites_cleanly(loaded, tmp_path):
    (tmp_path / "readme.txt").write_text("keep me", encoding="utf-8")
    export(tmp_path)
    first = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    Person.objects.filter(pk=loaded["maria"].pk).update(sex="male")
    DrugTest.objects.all().delete()
    export(tmp_path, today=datetime.date(2026, 7, 1))

    second = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert second["extract_id"] != first["extract_id"]
    assert second["extract_date"] == "2026-07-01"
    assert second["tables"]["drug_tests"]["rows"] == 0
    assert pl.read_csv(tmp_path / "drug_tests.csv").height == 0
    assert pl.read_parquet(tmp_path / "drug_tests.parquet").height == 0
    assert (tmp_path / "readme.txt").read_text(encoding="utf-8") == "keep me"
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]


def test_each_extract_is_audited_with_its_row_counts(loaded, tmp_path):
    export(tmp_path)

    event = AuditEvent.objects.get(action=AUDIT_ACTION)
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert event.actor is None
    assert event.actor_label == "command"
    assert event.object_id == manifest["extract_id"]
    assert event.after["rows"] == {
        name: entry["rows"] for name, entry in manifest["tables"].items()
    }


def test_bad_arguments_give_a_clear_message(db, tmp_path):
    with pytest.raises(CommandError, match="--today"):
        call_command("export", "research", "--out", str(tmp_path), "--today", "30/06/2026")
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(CommandError, match="not a folder"):
        call_command("export", "research", "--out", str(blocker))

"""Loading a simulated extract: complete, consistent, idempotent and all-or-nothing."""

import datetime

import polars as pl
import pytest

from whatworks.analytics.simulation import SimulationConfig, simulate, write_extract
from whatworks.analytics.simulation import config as simulation_config
from whatworks.analytics.simulation import model as simulation_model
from whatworks.audit.models import AuditEvent
from whatworks.records import choices
from whatworks.records.imports import ExtractError, extract_load, read_extract
from whatworks.records.models import CustodyEpisode, CustodyMovement, OutcomeEvent, Person


@pytest.fixture(scope="module")
def service():
    return simulate(SimulationConfig(persons=150, seed=21, extract_date=datetime.date(2026, 6, 30)))


def tables_of(service) -> dict[str, pl.DataFrame]:
    return {name: frame for name, frame in service.tables().items() if name != "person_truth"}


def test_simulator_codes_are_the_records_codes():
    """The simulator cannot import Django, so its code lists are checked against ours here."""
    assert set(simulation_config.OFFENCE_CATEGORIES) == set(choices.OffenceCategory.values)
    assert set(simulation_config.NEEDS_CODES) <= set(choices.SupportNeed.values)
    assert set(simulation_model.ADMISSION_TYPES) == set(choices.AdmissionType.values)
    assert set(simulation_model.RELEASE_TYPES) == set(choices.ReleaseType.values)
    assert set(simulation_model.EVENT_TYPES) == set(choices.OutcomeEventType.values)
    assert set(simulation_model.EVENT_SOURCES) == set(choices.OutcomeSource.values)
    assert set(simulation_model.TRANSFER_REASONS) <= set(choices.TransferReason.values)
    assert set(simulation_model.SECURITY_LEVELS) == set(choices.SecurityLevel.values)


@pytest.mark.django_db
def test_load_is_complete_and_consistent(service):
    summary = extract_load(tables=tables_of(service), actor_label="test")
    assert summary.persons == service.persons.height == Person.objects.count()
    assert summary.custody_episodes == CustodyEpisode.objects.count()
    assert summary.outcome_events == OutcomeEvent.objects.count()
    assert CustodyMovement.objects.count() == service.movements.height
    # Each person's responsible facility is that of their latest episode.
    for person in Person.objects.select_related("current_facility")[:40]:
        latest = person.custody_episodes.order_by("-admission_date").first()
        assert person.current_facility_id == latest.facility_id
    assert AuditEvent.objects.get(action="extract.load").after["persons"] == summary.persons


@pytest.mark.django_db
def test_loading_again_adds_nothing(service):
    extract_load(tables=tables_of(service), actor_label="test")
    again = extract_load(tables=tables_of(service), actor_label="test")
    assert again.total == 0
    assert Person.objects.count() == service.persons.height
    assert AuditEvent.objects.filter(action="extract.load").count() == 1


@pytest.mark.django_db
def test_a_broken_row_loads_nothing_and_names_the_table(service):
    tables = tables_of(service)
    episodes = tables["custody_episodes"]
    released = episodes.filter(pl.col("release_date").is_not_null()).row(0, named=True)
    tables["custody_episodes"] = episodes.with_columns(
        pl.when(pl.col("episode_key") == released["episode_key"])
        .then(pl.col("admission_date") - pl.duration(days=1))
        .otherwise(pl.col("release_date"))
        .alias("release_date")
    )
    with pytest.raises(ExtractError, match="custody_episodes"):
        extract_load(tables=tables, actor_label="test")
    assert not Person.objects.exists() and not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_unknown_person_in_events_is_named(service):
    tables = tables_of(service)
    tables["outcome_events"] = tables["outcome_events"].with_columns(
        pl.lit("CL-NOBODY").alias("prison_number")
    )
    with pytest.raises(ExtractError, match="outcome_events: unknown person 'CL-NOBODY'"):
        extract_load(tables=tables, actor_label="test")
    assert not Person.objects.exists()


def test_read_extract_names_a_missing_file(service, tmp_path):
    write_extract(service, tmp_path)
    assert set(read_extract(tmp_path)) == {
        "facilities",
        "persons",
        "custody_episodes",
        "movements",
        "outcome_events",
    }
    (tmp_path / "movements.parquet").unlink()
    with pytest.raises(ExtractError, match=r"movements\.parquet: file is missing"):
        read_extract(tmp_path)

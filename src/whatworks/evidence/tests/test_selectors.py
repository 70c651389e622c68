"""The analysis frames: who is in them, which columns, and that only pseudonyms leave."""

import datetime

import polars as pl
import pytest
from django.utils import timezone

from conftest import admission_data, person_data
from whatworks.evidence.selectors import EVENTS_SCHEMA, RELEASES_SCHEMA, release_frames
from whatworks.records.imports import extract_load
from whatworks.records.models import CustodyEpisode, Person
from whatworks.records.services import custody_release, outcome_event_record, person_admit

TODAY = datetime.date(2026, 6, 30)


def release_people(
    facility,
    count,
    *,
    prefix,
    release_date,
    reconvicted=0,
    date_of_birth=datetime.date(1990, 4, 12),
    sex="male",
    release_type="end_of_sentence",
):
    """``count`` people admitted in 2019 and released on ``release_date`` from ``facility``;
    the first ``reconvicted`` of them are reconvicted on 1 June 2021."""
    persons = []
    for number in range(count):
        episode = person_admit(
            actor=None,
            person_data=person_data(
                prison_number=f"{prefix}-{number:04d}",
                date_of_birth=date_of_birth,
                sex=sex,
            ),
            facility=facility,
            admission_data=admission_data(
                admission_date=datetime.date(2019, 1, 10),
                sentence_date=datetime.date(2019, 1, 10),
                sentence_length_days=400,
                expected_release_date=datetime.date(2020, 2, 14),
            ),
        )
        custody_release(
            actor=None, episode=episode, release_date=release_date, release_type=release_type
        )
        if number < reconvicted:
            outcome_event_record(
                actor=None,
                person=episode.person,
                data={
                    "event_type": "reconviction",
                    "event_date": datetime.date(2021, 6, 1),
                    "offence_date": datetime.date(2021, 2, 1),
                    "source": "court",
                    "reference": "",
                },
            )
        persons.append(episode.person)
    return persons


@pytest.fixture
def releases_ab(facility_a, facility_b, person_in_a):
    """24 people released from A in March 2020 (12 reconvicted), 3 from B in May 2020 (1
    reconvicted), and José still held at A."""
    release_people(
        facility_a, 24, prefix="A", release_date=datetime.date(2020, 3, 1), reconvicted=12
    )
    release_people(
        facility_b,
        3,
        prefix="B",
        release_date=datetime.date(2020, 5, 1),
        reconvicted=1,
        sex="female",
        release_type="parole",
    )


def load_simulated_service(persons=400, seed=3, extract_date=None):
    """A small simulated service loaded through the real extract loader."""
    from whatworks.analytics.simulation import SimulationConfig, simulate

    service = simulate(
        SimulationConfig(
            persons=persons, seed=seed, extract_date=extract_date or timezone.localdate()
        )
    )
    tables = {name: frame for name, frame in service.tables().items() if name != "person_truth"}
    return extract_load(tables=tables, actor_label="test")


def test_carla_gets_every_release_with_the_documented_columns(carla, releases_ab):
    releases, events = release_frames(viewer=carla, today=TODAY)
    assert releases.schema == pl.Schema(RELEASES_SCHEMA)
    assert events.schema == pl.Schema(EVENTS_SCHEMA)
    assert releases.height == 27
    assert sorted(releases["facility"].unique()) == ["CL-A-01", "CL-B-01"]
    assert set(releases["followup_end_date"]) == {TODAY}
    assert set(releases["cohort_year"]) == {"2020"}
    assert events.height == 13
    assert set(events["event_type"]) == {"reconviction"}


def test_fabio_gets_the_releases_of_facility_a_only(fabio, releases_ab):
    releases, events = release_frames(viewer=fabio, today=TODAY)
    assert releases.height == 24
    assert set(releases["facility"]) == {"CL-A-01"}
    assert set(releases["facility_type"]) == {"closed"}
    assert events.height == 12
    assert set(events["person_id"]) <= set(releases["person_id"])


def test_only_pseudonymous_identifiers_leave(carla, releases_ab):
    releases, events = release_frames(viewer=carla, today=TODAY)
    research_ids = set(Person.objects.values_list("research_id", flat=True))
    assert set(releases["person_id"]) <= research_ids
    assert set(events["person_id"]) <= research_ids
    episode_ids = {str(pk) for pk in CustodyEpisode.objects.values_list("pk", flat=True)}
    assert set(releases["release_id"]) <= episode_ids
    text = releases.write_csv() + events.write_csv()
    for person in Person.objects.all():
        assert person.prison_number not in text
        assert person.last_names not in text
        assert person.date_of_birth.isoformat() not in text


def test_open_episodes_are_not_releases(carla, person_in_a):
    releases, events = release_frames(viewer=carla, today=TODAY)
    assert releases.height == 0
    assert events.height == 0
    assert releases.schema == pl.Schema(RELEASES_SCHEMA)


def test_cohort_years_filter_by_calendar_year_of_release(carla, facility_a, facility_b):
    release_people(facility_a, 2, prefix="A", release_date=datetime.date(2020, 12, 31))
    release_people(facility_a, 3, prefix="C", release_date=datetime.date(2021, 1, 1))
    release_people(facility_b, 4, prefix="D", release_date=datetime.date(2023, 7, 1))

    def years(cohort_years):
        releases, _ = release_frames(viewer=carla, today=TODAY, cohort_years=cohort_years)
        return releases["cohort_year"].value_counts().sort("cohort_year").rows()

    assert years(None) == [("2020", 2), ("2021", 3), ("2023", 4)]
    assert years([2020]) == [("2020", 2)]
    assert years([2021, 2022, 2023]) == [("2021", 3), ("2023", 4)]
    assert years([2020, 2023]) == [("2020", 2), ("2023", 4)]
    assert years([2019]) == []


@pytest.mark.parametrize(
    ("date_of_birth", "band"),
    [
        (datetime.date(2002, 3, 2), "under 18"),  # 17 the day before the 18th birthday
        (datetime.date(2002, 3, 1), "18–24"),  # 18 on the day of release
        (datetime.date(1995, 3, 2), "18–24"),  # 24 until the next day
        (datetime.date(1995, 3, 1), "25–34"),
        (datetime.date(1985, 3, 1), "35–44"),
        (datetime.date(1975, 3, 1), "45–54"),
        (datetime.date(1965, 3, 1), "55+"),
    ],
)
def test_age_band_is_the_age_on_the_release_date(carla, facility_a, date_of_birth, band):
    release_people(
        facility_a,
        1,
        prefix="A",
        release_date=datetime.date(2020, 3, 1),
        date_of_birth=date_of_birth,
    )
    releases, _ = release_frames(viewer=carla, today=TODAY)
    assert releases["age_band"].to_list() == [band]


def test_a_simulated_service_loads_into_frames_in_two_queries(carla, django_assert_max_num_queries):
    load_simulated_service(persons=200, seed=1)
    with django_assert_max_num_queries(3):  # facilities scope is a subquery
        releases, events = release_frames(viewer=carla, today=timezone.localdate())
    assert releases.height == CustodyEpisode.objects.filter(release_date__isnull=False).count()
    assert releases["age_band"].null_count() == 0
    assert events["person_id"].is_in(releases["person_id"].implode()).all()

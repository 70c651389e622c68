"""Seed a database with many persons, fast, for the load test (benchmarks/load/run.py).

    DATABASE_URL=postgres://... SECRET_KEY=x uv run python benchmarks/load/seed.py --persons 100000

Facilities come from the simulator's Chilean country profile; names follow its naming
customs (whatworks.analytics.simulation.names). Every person gets one to three custody
episodes with their movements (about 40% still in custody) and some an outcome event after a
release, so the detail and history endpoints have content. Rows are written with
bulk_create in batches, bypassing the services on purpose: this is a fixture for measuring
reads, not a way to enter records (no audit entries are written). Refuses to run on a
database that already holds persons, unless --force.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time

import numpy as np

BATCH = 5000


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whatworks.settings")
    import django

    django.setup()


def seed(*, persons: int, seed_value: int = 10, force: bool = False, out=sys.stdout) -> dict:
    from django.db import connection, transaction

    from whatworks.analytics.simulation.country import CHILE
    from whatworks.analytics.simulation.names import person_names
    from whatworks.records.choices import (
        AdmissionType,
        LegalStatus,
        MovementKind,
        OffenceCategory,
        OutcomeEventType,
        OutcomeSource,
        ReleaseType,
    )
    from whatworks.records.models import (
        CustodyEpisode,
        CustodyMovement,
        Facility,
        OutcomeEvent,
        Person,
        new_research_id,
    )

    if Person.objects.exists() and not force:
        raise SystemExit("The database already holds persons; pass --force to add more.")
    started = time.monotonic()
    rng = np.random.default_rng(seed_value)
    today = datetime.date.today()

    for profile in CHILE.facilities:
        Facility.objects.get_or_create(
            code=profile.code,
            defaults={
                "name": profile.name,
                "region": profile.region,
                "facility_type": profile.facility_type,
                "security_level": profile.security_level,
                "capacity": profile.capacity,
                "population_sex": profile.population_sex,
            },
        )
    custody = list(Facility.objects.exclude(facility_type="community_office").order_by("code"))
    weights = np.array([facility.capacity for facility in custody], dtype=float)
    weights /= weights.sum()

    offences = [value for value in OffenceCategory.values]
    release_types = [value for value in ReleaseType.values]
    first_number = Person.objects.count() + 1
    counts = {"persons": 0, "episodes": 0, "movements": 0, "outcome_events": 0}

    for start in range(0, persons, BATCH):
        n = min(BATCH, persons - start)
        female = rng.random(n) < 0.08
        first_names, last_names = person_names(rng, ["chilean"] * n, female)
        births = rng.integers(365 * 18, 365 * 70, n)
        facility_index = rng.choice(len(custody), size=n, p=weights)
        episode_counts = rng.choice([1, 2, 3], size=n, p=[0.6, 0.3, 0.1])
        in_custody = rng.random(n) < 0.4
        batch_persons = []
        for i in range(n):
            number = first_number + start + i
            batch_persons.append(
                Person(
                    prison_number=f"LT{number:08d}",
                    national_id=f"{number:08d}-L" if i % 3 else "",
                    first_names=first_names[i],
                    last_names=last_names[i],
                    date_of_birth=today - datetime.timedelta(days=int(births[i])),
                    sex="female" if female[i] else "male",
                    nationality="CL",
                    languages=["es"],
                    research_id=new_research_id(),
                    current_facility=custody[facility_index[i]],
                )
            )
        with transaction.atomic():
            created = Person.objects.bulk_create(batch_persons, batch_size=BATCH)
            episodes: list[CustodyEpisode] = []
            plan: list[tuple[int, bool]] = []  # (person index, open)
            for i, person in enumerate(created):
                facility = custody[facility_index[i]]
                # Episodes back in time, the last one open for those in custody.
                end = today - datetime.timedelta(days=int(rng.integers(0, 400)))
                spans = []
                for k in range(int(episode_counts[i])):
                    is_open = k == 0 and in_custody[i]
                    length = int(rng.integers(60, 1500))
                    admission = end - datetime.timedelta(days=length)
                    spans.append((admission, None if is_open else end, is_open))
                    end = admission - datetime.timedelta(days=int(rng.integers(30, 900)))
                for admission, release, is_open in reversed(spans):
                    sentence = int(rng.integers(90, 3650))
                    episodes.append(
                        CustodyEpisode(
                            person=person,
                            admission_facility=facility,
                            facility=facility,
                            admission_date=admission,
                            admission_type=AdmissionType.values[0],
                            legal_status=LegalStatus.values[-1],
                            main_offence_category=offences[int(rng.integers(len(offences)))],
                            sentence_date=admission + datetime.timedelta(days=30),
                            sentence_length_days=sentence,
                            expected_release_date=admission + datetime.timedelta(days=sentence),
                            release_date=release,
                            release_type=""
                            if release is None
                            else release_types[int(rng.integers(len(release_types)))],
                        )
                    )
                    plan.append((i, is_open))
            episodes = CustodyEpisode.objects.bulk_create(episodes, batch_size=BATCH)
            movements = []
            events = []
            for episode in episodes:
                movements.append(
                    CustodyMovement(
                        episode=episode,
                        kind=MovementKind.ADMISSION,
                        movement_date=episode.admission_date,
                        to_facility_id=episode.facility_id,
                    )
                )
                if episode.release_date is not None:
                    movements.append(
                        CustodyMovement(
                            episode=episode,
                            kind=MovementKind.RELEASE,
                            movement_date=episode.release_date,
                            from_facility_id=episode.facility_id,
                        )
                    )
                    if rng.random() < 0.15:
                        day = episode.release_date + datetime.timedelta(
                            days=int(rng.integers(1, 300))
                        )
                        if day <= today:
                            events.append(
                                OutcomeEvent(
                                    person_id=episode.person_id,
                                    event_type=OutcomeEventType.values[0],
                                    event_date=day,
                                    offence_date=day,
                                    source=OutcomeSource.values[0],
                                    reference=f"LT-{episode.pk}",
                                )
                            )
            CustodyMovement.objects.bulk_create(movements, batch_size=BATCH)
            OutcomeEvent.objects.bulk_create(events, batch_size=BATCH)
        counts["persons"] += len(created)
        counts["episodes"] += len(episodes)
        counts["movements"] += len(movements)
        counts["outcome_events"] += len(events)
        out.write(f"  {counts['persons']:>7} persons ({time.monotonic() - started:.0f} s)\n")
        out.flush()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    counts["seconds"] = round(time.monotonic() - started, 1)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--force", action="store_true", help="Add to a non-empty database.")
    args = parser.parse_args(argv)
    if args.persons < 1:
        parser.error("--persons must be at least 1")
    _setup_django()
    counts = seed(persons=args.persons, seed_value=args.seed, force=args.force)
    print(" ".join(f"{key}={value}" for key, value in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

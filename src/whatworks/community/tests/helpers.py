"""Small builders shared by the community tests."""

from __future__ import annotations

import datetime

from conftest import admission_data, person_data
from whatworks.community import services
from whatworks.records.services import person_admit

PROVIDER = {
    "name": "Fundación Nuevo Camino",
    "kind": "ngo",
    "pathways": ["accommodation", "education_work"],
    "coverage_regions": "Metropolitana\nValparaíso",
    "phone": "+56 2 2345 6789",
    "email": "contacto@nuevocamino.example",
    "contact_person": "Rosa Fuentes",
}


def provider(actor=None, **overrides):
    return services.provider_create(actor=actor, data={**PROVIDER, **overrides})


def released_person(facility, number: int, release_date: datetime.date):
    """A person admitted to ``facility`` and released on ``release_date`` without the
    release signal (as if released before the community app existed)."""
    episode = person_admit(
        actor=None,
        person_data=person_data(prison_number=f"CL-{number:07d}"),
        facility=facility,
        admission_data=admission_data(),
    )
    episode.release_date = release_date
    episode.release_type = "end_of_sentence"
    episode.save(update_fields=["release_date", "release_type"])
    return episode

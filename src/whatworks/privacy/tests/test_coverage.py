"""The export and retention cannot silently miss data: every model with a relation path to a
person, and every foreign key on that path, is covered by a section (privacy/sections.py)."""

from __future__ import annotations

from django.apps import apps
from django.db import models

from whatworks.privacy.sections import RETENTION_KEEPS, SECTIONS, SECTIONS_BY_MODEL
from whatworks.records.models import Person


def relations_to_person() -> list[tuple[type[models.Model], models.Field]]:
    """Every (model, foreign key) whose key leads to Person or to a model that does."""
    reached: set[type[models.Model]] = {Person}
    edges: list[tuple[type[models.Model], models.Field]] = []
    changed = True
    while changed:
        changed = False
        for model in apps.get_models():
            for field in model._meta.get_fields():
                if not (field.is_relation and field.concrete and field.related_model in reached):
                    continue
                if (model, field) not in edges:
                    edges.append((model, field))
                    changed = True
                if model not in reached:
                    reached.add(model)
                    changed = True
    return edges


def test_every_model_referencing_a_person_is_a_section():
    missing = sorted(
        {model._meta.label for model, _field in relations_to_person()}
        - set(SECTIONS_BY_MODEL)
        - {"records.Person"}
    )
    assert not missing, f"add a Section in privacy/sections.py for: {missing}"


def test_every_key_towards_a_person_is_followed_or_declared():
    uncovered = []
    for model, field in relations_to_person():
        section = SECTIONS_BY_MODEL.get(model._meta.label)
        if section is None:
            continue  # reported by the test above
        followed = any(lookup.split("__")[0] == field.name for lookup in section.lookups)
        if not followed and field.name not in section.same_person:
            uncovered.append(f"{model._meta.label}.{field.name}")
    assert not uncovered, f"add to the section's lookups or same_person: {uncovered}"


def test_declared_fields_exist():
    for section in SECTIONS:
        names = {field.name for field in section.model._meta.concrete_fields}
        declared = {
            *section.same_person,
            *section.exclude,
            *section.free_text,
            *(name for name, _empty in section.cleared_json),
            *(lookup.split("__")[0] for lookup in section.lookups),
        }
        assert declared <= names, (section.name, declared - names)


def test_every_free_text_field_is_blanked_by_pseudonymisation():
    """A new notes field on a person's record must be declared, or pseudonymised persons
    would keep it."""
    missed = [
        f"{section.model_label}.{field.name}"
        for section in SECTIONS
        if section.name not in RETENTION_KEEPS
        for field in section.model._meta.concrete_fields
        if isinstance(field, models.TextField) and field.name not in section.free_text
    ]
    assert not missed, f"declare as free_text in privacy/sections.py: {missed}"


# What pseudonymisation does with each Person field (services.person_pseudonymise). A new
# field fails here until someone decides whether it identifies the person.
PERSON_FIELDS = {
    "replaced": {"prison_number", "national_id", "first_names", "last_names", "date_of_birth"},
    "blanked": {"support_needs_notes"},
    "kept": {
        "id",
        "sex",
        "gender",
        "nationality",
        "languages",
        "literacy",
        "education_level",
        "support_needs",
        "research_id",
        "current_facility",
        "merged_into",
        "created_at",
        "updated_at",
    },
}


def test_every_person_field_has_a_retention_decision():
    names = {field.name for field in Person._meta.concrete_fields}
    assert names == set().union(*PERSON_FIELDS.values())

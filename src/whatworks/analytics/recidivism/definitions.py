"""Recidivism definitions as data: versioned YAML files validated against ``schema.json``.

A definition says what is counted (event types and which of their dates), which releases
start a follow-up, the windows, an optional waiting period for cases to be proven, person-
or event-based counting and how deaths and deportations after release are handled. The
built-in presets live in ``presets/*.yaml`` next to this module (package data).

>>> definition = load_definition("reconviction-3y-chile")
>>> definition.windows
(3,)
>>> definition.event_types
('reconviction',)
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.resources
import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from whatworks.analytics.packaged import packaged_yaml_texts

EVENT_TYPES = ("rearrest", "charge", "reconviction", "reincarceration", "technical_violation")
TECHNICAL_VIOLATION = "technical_violation"
DATE_BASES = ("event_date", "offence_date", "conviction_date")
# Release types that never start a follow-up unless a definition lists them; each is counted
# under its own name in ``excluded``.
EXCLUDED_BY_DEFAULT = ("death", "transfer", "escape")
DEFAULT_RELEASE_TYPES = ("end_of_sentence", "parole", "pardon", "other")
DEFAULT_DEFINITION = "reconviction-3y-chile"

_EVENT_LABELS = {
    "rearrest": "rearrest",
    "charge": "charge",
    "reconviction": "reconviction",
    "reincarceration": "reincarceration",
    "technical_violation": "technical violation",
}
_DATE_LABELS = {
    "event_date": "event date",
    "offence_date": "offence date",
    "conviction_date": "conviction date",
}


class DefinitionError(ValueError):
    """A definition file or name that cannot be used; the message says why and where."""


@dataclasses.dataclass(frozen=True)
class Definition:
    """One recidivism definition. Build with :func:`load_definition`.

    ``windows`` are follow-up windows in whole years; ``waiting_period_months`` is the extra
    time after a window's end for an event to be proven (UK style). ``modified`` lists the
    settings overridden after loading (for example by ``--windows``), so that an output never
    passes off a changed measure under the preset's name without saying so.
    """

    slug: str
    name: str
    version: str
    citation: str
    event_types: tuple[str, ...]
    windows: tuple[int, ...]
    date_basis: str = "event_date"
    release_types: tuple[str, ...] = DEFAULT_RELEASE_TYPES
    waiting_period_months: int = 0
    counting: str = "person"
    deaths: str = "censor"
    deportations: str = "censor"
    description: str = ""
    source: str = ""
    modified: tuple[str, ...] = ()

    @property
    def sentence(self) -> str:
        """The definition in one plain-language sentence (generated from the settings)."""
        events = _join_or([_EVENT_LABELS.get(t, t) for t in self.event_types])
        windows = _join_and([str(w) for w in self.windows])
        plural = "year" if self.windows == (1,) else "years"
        releases = _join_or([t.replace("_", " ") for t in self.release_types])
        waiting = (
            f" and proven no more than {self.waiting_period_months} months after the window ends"
            if self.waiting_period_months
            else ""
        )
        counting = (
            "each release counts once however many events follow (a person released twice "
            "counts twice)"
            + (
                ", and the number of events is reported alongside"
                if self.counting == "event"
                else ""
            )
        )
        return (
            f"Share of releases ({releases}) followed within {windows} {plural} by a {events}, "
            f"dated by its {_DATE_LABELS[self.date_basis]} after the release date and on or "
            f"before the anniversary{waiting}; {counting}, and only releases followed up for "
            "the whole window are included."
        )

    @property
    def includes_technical_violations(self) -> bool:
        return TECHNICAL_VIOLATION in self.event_types

    def settings(self) -> dict[str, Any]:
        """The measurement settings as a JSON-ready dict (the YAML fields minus metadata)."""
        return {
            "event_types": list(self.event_types),
            "date_basis": self.date_basis,
            "release_types": list(self.release_types),
            "windows_years": list(self.windows),
            "waiting_period_months": self.waiting_period_months,
            "counting": self.counting,
            "deaths": self.deaths,
            "deportations": self.deportations,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "name": self.name,
            "version": self.version,
            "sentence": self.sentence,
            "citation": self.citation,
            "description": self.description,
            "settings": self.settings(),
            "modified": list(self.modified),
        }

    def with_overrides(
        self,
        *,
        windows: list[int] | tuple[int, ...] | None = None,
        event_types: list[str] | tuple[str, ...] | None = None,
    ) -> Definition:
        """A copy with other windows or event types, recording what was changed."""
        changes: dict[str, Any] = {}
        modified = list(self.modified)
        if windows is not None:
            new_windows = tuple(sorted({int(w) for w in windows}))
            if not new_windows or min(new_windows) < 1:
                raise DefinitionError(f"windows must be whole years of 1 or more, got {windows}")
            if new_windows != self.windows:
                changes["windows"] = new_windows
                modified.append("windows_years")
        if event_types is not None:
            new_types = tuple(dict.fromkeys(event_types))
            unknown = [t for t in new_types if t not in EVENT_TYPES]
            if unknown or not new_types:
                raise DefinitionError(
                    f"unknown event type(s) {', '.join(map(repr, unknown)) or '(none given)'}; "
                    f"known: {', '.join(EVENT_TYPES)}"
                )
            if set(new_types) != set(self.event_types):
                changes["event_types"] = new_types
                modified.append("event_types")
        if not changes:
            return self
        return dataclasses.replace(self, modified=tuple(dict.fromkeys(modified)), **changes)


def _join_and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _join_or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


@functools.cache
def _schema() -> dict[str, Any]:
    text = importlib.resources.files(__package__).joinpath("schema.json").read_text("utf-8")
    return json.loads(text)


def schema() -> dict[str, Any]:
    """The JSON Schema every definition file is validated against."""
    return json.loads(json.dumps(_schema()))


def definition_from_mapping(data: Any, *, source: str = "<mapping>") -> Definition:
    """Validate a parsed YAML/JSON mapping and build a :class:`Definition`."""
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        lines = []
        for error in errors:
            where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
            lines.append(f"{source}: {where}: {error.message}")
        raise DefinitionError("invalid recidivism definition:\n" + "\n".join(lines))
    return Definition(
        slug=data["slug"],
        name=data["name"],
        version=data["version"],
        citation=" ".join(data["citation"].split()),
        event_types=tuple(data["event_types"]),
        windows=tuple(sorted(data["windows_years"])),
        date_basis=data.get("date_basis", "event_date"),
        release_types=tuple(data.get("release_types", DEFAULT_RELEASE_TYPES)),
        waiting_period_months=data.get("waiting_period_months", 0),
        counting=data.get("counting", "person"),
        deaths=data.get("deaths", "censor"),
        deportations=data.get("deportations", "censor"),
        description=" ".join(data.get("description", "").split()),
        source=source,
    )


def _parse_yaml(text: str, source: str) -> Definition:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise DefinitionError(f"{source}: not valid YAML: {error}") from None
    return definition_from_mapping(data, source=source)


@functools.cache
def _presets() -> dict[str, Definition]:
    presets = {}
    for name, text in packaged_yaml_texts(__package__, "presets"):
        definition = _parse_yaml(text, f"preset {name}")
        presets[definition.slug] = definition
    return presets


def list_definitions() -> list[Definition]:
    """The built-in presets, the default (Chile 3-year reconviction) first."""
    presets = _presets()
    return [presets[DEFAULT_DEFINITION]] + [
        d for slug, d in presets.items() if slug != DEFAULT_DEFINITION
    ]


def load_definition(name_or_path: str | Path = DEFAULT_DEFINITION) -> Definition:
    """A preset by slug, or a definition YAML file by path."""
    text = str(name_or_path)
    presets = _presets()
    if text in presets and not Path(text).suffix:
        return presets[text]
    path = Path(text)
    if path.suffix.lower() in (".yaml", ".yml", ".json") or path.exists():
        try:
            content = path.read_text("utf-8")
        except OSError as error:
            raise DefinitionError(f"{path}: cannot read definition file: {error}") from None
        return _parse_yaml(content, str(path))
    raise DefinitionError(
        f"unknown definition {text!r}: give a preset ({', '.join(presets)}) or a YAML file"
    )

"""What the treatment modules share: the vocabulary, :class:`Reason` and file validation.

Explanations are :class:`Reason` values (a machine code and its parameters), never English
sentences, because the Django layer translates them into en / es / pt-br. Every code is
listed in ``docs/treatment-rules.md`` with its parameters.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.resources
import json
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema
import yaml

from whatworks.analytics.packaged import packaged_yaml_texts

RISK_BANDS = ("low", "moderate", "high", "very_high")
NEED_DOMAINS = (
    "criminal_history",
    "antisocial_attitudes",
    "antisocial_associates",
    "antisocial_personality",
    "family_marital",
    "school_work",
    "leisure_recreation",
    "substance_abuse",
)
# Static needs describe the past: no programme can change them, so none is proposed for them.
STATIC_DOMAINS = ("criminal_history",)
PROGRAMME_TYPES = (
    "education_literacy",
    "education_primary",
    "education_secondary",
    "vocational_trade",
    "prison_work",
    "cognitive_behavioural",
    "substance_use",
    "violence_prevention",
    "family_parenting",
    "life_skills",
    "faith",
    "sport_recreation",
    "culture",
)
EDUCATION_AND_WORK_TYPES = (
    "education_literacy",
    "education_primary",
    "education_secondary",
    "vocational_trade",
    "prison_work",
)
# Also the preference order: an effective programme is proposed before a promising one.
EVIDENCE_RATINGS = (
    "effective",
    "promising",
    "insufficient_evidence",
    "not_rated",
    "no_effect",
    "negative_effect",
)
LITERACY_LEVELS = ("illiterate", "limited", "literate")  # ordered, lowest first
EDUCATION_LEVELS = (
    "none",
    "primary_incomplete",
    "primary",
    "secondary_incomplete",
    "secondary",
    "tertiary",
)  # ordered, lowest first
NOT_RECORDED = "not_recorded"  # literacy or education level unknown (not the same as "none")
ADAPTATIONS = ("low_literacy", "learning_needs", "mental_health", "interpreter", "women_only")
SUPPORT_NEEDS = (
    "learning_disability",
    "intellectual_disability",
    "hearing",
    "visual",
    "mobility",
    "mental_health",
    "neurodivergent",
)
LANGUAGES = ("en", "es", "pt-br")

ParamValue = str | int | float


@dataclasses.dataclass(frozen=True)
class Reason:
    """One explanation: a machine ``code`` and its ``params`` (strings and numbers only).

    The Django layer turns it into a sentence in the reader's language; this package never
    writes English for end users. ``params`` is copied into a read-only mapping.
    """

    code: str
    params: Mapping[str, ParamValue] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        params = dict(self.params)
        for name, value in params.items():
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise TypeError(f"reason {self.code}: parameter {name} must be a str or number")
        object.__setattr__(self, "params", MappingProxyType(params))

    def __hash__(self) -> int:
        return hash((self.code, tuple(sorted(self.params.items()))))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Reason):
            return NotImplemented
        return self.code == other.code and dict(self.params) == dict(other.params)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params)}


def reason(code: str, **params: ParamValue) -> Reason:
    return Reason(code, params)


def number(value: Fraction | float | int) -> int | float:
    """A parameter value without float noise: whole numbers as ``int``, others to 6 places."""
    value = Fraction(value) if not isinstance(value, float) else value
    if isinstance(value, Fraction) and value.denominator == 1:
        return int(value)
    rounded = round(float(value), 6)
    return int(rounded) if rounded.is_integer() else rounded


def parse_fraction(text: str) -> Fraction:
    """``"1/3"`` (as written in the rule files) to ``Fraction(1, 3)``."""
    return Fraction(text)


@functools.cache
def _schema(name: str) -> dict[str, Any]:
    text = importlib.resources.files(__package__).joinpath(name).read_text("utf-8")
    return json.loads(text)


def schema(name: str) -> dict[str, Any]:
    """A copy of the JSON Schema ``name`` (``remission_schema.json``, ``checklist_schema.json``)."""
    return json.loads(json.dumps(_schema(name)))


def schema_problems(name: str, data: Any) -> list[tuple[str, str]]:
    """Every way ``data`` breaks schema ``name``, as ``(path of the field, message)`` pairs."""
    validator = jsonschema.Draft202012Validator(_schema(name))
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    return [("/".join(str(p) for p in e.absolute_path) or "(top level)", e.message) for e in errors]


class DefinitionFiles:
    """The YAML definitions of one kind (fidelity checklists, remission rules): the built-in
    files in ``builtin/`` that carry ``marker_key``, and any file given by path.

    ``from_mapping(data, source)`` builds and validates one definition; problems raise
    ``error_type`` with ``<file>: <field path>: <message>``."""

    def __init__(self, *, kind: str, marker_key: str, from_mapping, error_type) -> None:
        self.kind = kind
        self.marker_key = marker_key
        self.from_mapping = from_mapping
        self.error_type = error_type

    def parse(self, text: str, source: str):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise self.error_type(f"{source}: (top level): not valid YAML: {error}") from None
        return self.from_mapping(data, source)

    @functools.cached_property
    def builtins(self) -> dict[str, Any]:
        found = {}
        for file_name, text in packaged_yaml_texts(__package__, "builtin"):
            data = yaml.safe_load(text)
            if isinstance(data, dict) and self.marker_key in data:
                definition = self.parse(text, f"builtin/{file_name}")
                found[definition.slug] = definition
        return found

    def names(self) -> list[str]:
        return sorted(self.builtins)

    def load(self, name: str | Path):
        """A built-in definition by slug, or a YAML file by path."""
        text = str(name)
        if text in self.builtins and not Path(text).suffix:
            return self.builtins[text]
        path = Path(text)
        if path.suffix.lower() in (".yaml", ".yml") or path.exists():
            try:
                content = path.read_text("utf-8")
            except OSError as error:
                message = f"{path}: (top level): cannot read the file: {error}"
                raise self.error_type(message) from None
            return self.parse(content, str(path))
        raise self.error_type(
            f"unknown {self.kind} {text!r}: give a built-in ({', '.join(self.names())})"
            " or a YAML file"
        )

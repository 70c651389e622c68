"""Drug test panels (which substances, in which samples) and the results recorded for them.

A panel is data (``builtin/*.yaml``, validated against ``panel_schema.json``); the built-in
``standard-panel`` covers cannabis, cocaine, opiates, amphetamines, benzodiazepines and
alcohol. :func:`validate_results` checks one test's results against its panel and
:func:`test_outcome` sums them up. The file format and the vocabulary are in
``docs/drug-testing.md``.

>>> panel = load_panel()
>>> results = validate_results(panel, "urine", {"cannabis": "negative", "cocaine": "positive"})
>>> test_outcome(results)
'positive'
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.resources
import json
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema
import yaml

from whatworks.analytics.packaged import packaged_yaml_texts
from whatworks.analytics.treatment.common import DefinitionFiles

SCHEMA = "panel_schema.json"
SAMPLE_TYPES = ("urine", "saliva", "hair", "breath", "blood")
# What a laboratory or officer records for one substance in one test.
RESULT_VALUES = ("negative", "positive", "dilute", "invalid", "refused", "tampered")
TEST_REASONS = (
    "random",
    "scheduled",
    "for_cause",
    "admission",
    "pre_release",
    "programme_compliance",
)
# What test_outcome returns for a whole test.
OUTCOMES = ("positive", "negative", "refused_or_tampered", "invalid")


class PanelError(ValueError):
    """A panel file or name that cannot be used; one ``<file>: <field path>: <message>``
    line per problem, also in ``errors``."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or [message]


class PanelResultError(ValueError):
    """Results that do not fit their panel. ``errors`` maps each bad key (a substance id,
    ``"sample"`` or ``"results"``) to a message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{key}: {message}" for key, message in self.errors.items()))


@dataclasses.dataclass(frozen=True)
class Substance:
    """One substance on a panel. ``samples`` are the sample types it can be tested in;
    ``screening_cutoffs_ng_ml`` maps a sample type to its screening cutoff, where one
    applies."""

    id: str
    name: Mapping[str, str]
    samples: tuple[str, ...]
    screening_cutoffs_ng_ml: Mapping[str, float]
    analyte: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", MappingProxyType(dict(self.name)))
        cutoffs = MappingProxyType(dict(self.screening_cutoffs_ng_ml))
        object.__setattr__(self, "screening_cutoffs_ng_ml", cutoffs)


@dataclasses.dataclass(frozen=True)
class Panel:
    """One panel. Build with :func:`load_panel` or :func:`panel_from_mapping`."""

    slug: str
    version: str
    name: Mapping[str, str]
    samples: tuple[str, ...]
    substances: tuple[Substance, ...]
    description: Mapping[str, str] | None = None
    source: str = ""

    def substance(self, substance_id: str) -> Substance:
        for substance in self.substances:
            if substance.id == substance_id:
                return substance
        raise KeyError(substance_id)

    @property
    def substance_ids(self) -> tuple[str, ...]:
        return tuple(substance.id for substance in self.substances)


# --- panel files -----------------------------------------------------------------------------


@functools.cache
def _schema() -> dict[str, Any]:
    text = importlib.resources.files(__package__).joinpath(SCHEMA).read_text("utf-8")
    return json.loads(text)


def schema() -> dict[str, Any]:
    """A copy of the panel JSON Schema."""
    return json.loads(json.dumps(_schema()))


def _schema_problems(data: Any) -> list[tuple[str, str]]:
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    return [("/".join(str(p) for p in e.absolute_path) or "(top level)", e.message) for e in errors]


def _semantic_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    seen: set[str] = set()
    for index, substance in enumerate(data["substances"]):
        where = f"substances/{index}"
        if substance["id"] in seen:
            problems.append((f"{where}/id", f"{substance['id']!r} appears more than once"))
        seen.add(substance["id"])
        samples = substance.get("samples", data["samples"])
        for sample in samples:
            if sample not in data["samples"]:
                problems.append(
                    (f"{where}/samples", f"{sample!r} is not one of the panel's samples")
                )
        for sample in substance.get("screening_cutoffs_ng_ml", {}):
            if sample not in samples:
                message = f"a cutoff for {sample!r}, which this substance is not tested in"
                problems.append((f"{where}/screening_cutoffs_ng_ml", message))
    return problems


def panel_from_mapping(data: Any, source: str = "<mapping>") -> Panel:
    """Validate a parsed panel file and build :class:`Panel`."""
    problems = _schema_problems(data) or _semantic_problems(data)
    if problems:
        lines = [f"{source}: {where}: {message}" for where, message in problems]
        raise PanelError("\n".join(lines), lines)
    substances = tuple(
        Substance(
            id=item["id"],
            name=item["name"],
            samples=tuple(item.get("samples", data["samples"])),
            screening_cutoffs_ng_ml=item.get("screening_cutoffs_ng_ml", {}),
            analyte=item.get("analyte", ""),
        )
        for item in data["substances"]
    )
    return Panel(
        slug=data["slug"],
        version=data["version"],
        name=MappingProxyType(dict(data["name"])),
        samples=tuple(data["samples"]),
        substances=substances,
        description=data.get("description"),
        source=source,
    )


class _PanelFiles(DefinitionFiles):
    """:class:`DefinitionFiles` reading the built-ins of this package, not of ``treatment``."""

    @functools.cached_property
    def builtins(self) -> dict[str, Any]:
        found = {}
        for file_name, text in packaged_yaml_texts(__package__, "builtin"):
            data = yaml.safe_load(text)
            if isinstance(data, dict) and self.marker_key in data:
                definition = self.parse(text, f"builtin/{file_name}")
                found[definition.slug] = definition
        return found


_FILES = _PanelFiles(
    kind="drug test panel",
    marker_key="substances",
    from_mapping=panel_from_mapping,
    error_type=PanelError,
)


def list_panels() -> list[str]:
    """The slugs of the built-in panels, sorted."""
    return _FILES.names()


def load_panel(name: str | Path = "standard-panel") -> Panel:
    """A built-in panel by slug, or a panel YAML file by path."""
    return _FILES.load(name)


# --- results ---------------------------------------------------------------------------------


def validate_results(panel: Panel, sample: str, results: Mapping[str, str]) -> dict[str, str]:
    """Check one test's results (substance id → result value) against ``panel``.

    Returns the results as a plain dict in panel order. Raises :class:`PanelResultError`
    listing every problem: a sample type the panel does not allow (key ``"sample"``), no
    results at all (key ``"results"``), and for each substance key: not on the panel, not
    testable in this sample, or a result outside :data:`RESULT_VALUES`. Substances of the
    panel that were not tested are simply left out; they are not negatives.
    """
    errors: dict[str, str] = {}
    if sample not in panel.samples:
        errors["sample"] = (
            f"{sample!r} is not a sample type of panel {panel.slug}"
            f" (allowed: {', '.join(panel.samples)})"
        )
    if not results:
        errors["results"] = "no result was recorded"
    ids = panel.substance_ids
    for key, value in results.items():
        if key not in ids:
            errors[key] = f"not a substance of panel {panel.slug} (substances: {', '.join(ids)})"
        elif sample in panel.samples and sample not in panel.substance(key).samples:
            allowed = ", ".join(panel.substance(key).samples)
            errors[key] = f"cannot be tested in {sample} (samples: {allowed})"
        elif value not in RESULT_VALUES:
            errors[key] = f"unknown result {value!r} (allowed: {', '.join(RESULT_VALUES)})"
    if errors:
        raise PanelResultError(errors)
    return {substance_id: results[substance_id] for substance_id in ids if substance_id in results}


def test_outcome(results: Mapping[str, str], *, refusal_counts_as_positive: bool = False) -> str:
    """The outcome of one whole test, from its per-substance results.

    In order of precedence:

    1. any ``positive`` → ``"positive"``;
    2. any ``refused`` or ``tampered`` → ``"refused_or_tampered"``, or ``"positive"`` when
       the programme's policy ``refusal_counts_as_positive`` is set (off by default: a
       refusal is recorded as what it is, and the programme decides what it means);
    3. any ``invalid`` or ``dilute`` → ``"invalid"`` (the sample cannot show a negative;
       test again);
    4. otherwise (all ``negative``) → ``"negative"``.
    """
    if not results:
        raise ValueError("a test outcome needs at least one result")
    values = set(results.values())
    unknown = sorted(values - set(RESULT_VALUES))
    if unknown:
        raise ValueError(f"unknown result(s) {', '.join(map(repr, unknown))}")
    if "positive" in values:
        return "positive"
    if values & {"refused", "tampered"}:
        return "positive" if refusal_counts_as_positive else "refused_or_tampered"
    if values & {"invalid", "dilute"}:
        return "invalid"
    return "negative"


# pytest would otherwise collect test_outcome as a test when it is imported into a test file.
test_outcome.__test__ = False  # type: ignore[attr-defined]

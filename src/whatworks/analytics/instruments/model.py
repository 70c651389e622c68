"""Assessment instruments as data: versioned YAML files validated against ``schema.json``.

An instrument lists its items (single choice, multiple choice, number, yes/no, text), the
domains they score into, how domain scores and the total are computed (a sum, a weighted sum
or a lookup table), the bands with their cut-offs (optionally by sex), which domains are
criminogenic needs and their thresholds, responsivity items, reassessment rules, and its
citation, licence and validation status. Every user-facing text is a ``{en, es, pt-br}``
mapping. The built-ins live in ``builtin/*.yaml`` next to this module (package data).

>>> k6 = load_instrument("k6")
>>> k6.slug, len(k6.items), k6.text(k6.bands[1], "es")
('k6', 6, 'Malestar psicológico grave')
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

LANGUAGES = ("en", "es", "pt-br")
DEFAULT_LANGUAGE = "en"
ITEM_TYPES = ("single_choice", "multiple_choice", "number", "yes_no", "text")
CHOICE_TYPES = ("single_choice", "multiple_choice")
SCORING_METHODS = ("sum", "weighted_sum", "lookup")

Text = dict[str, str]


class InstrumentError(ValueError):
    """An instrument file or name that cannot be used.

    The message has one line per problem, each ``<file>: <path of the field>: <message>``;
    the same lines are in ``errors``.
    """

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or [message]


@dataclasses.dataclass(frozen=True)
class Option:
    """One answer of a choice item; answers refer to it by its 0-based position."""

    label: Text
    score: float
    code: str | None = None


@dataclasses.dataclass(frozen=True)
class TableRow:
    """A lookup row: a raw score from ``min`` to ``max`` (both inclusive) gives ``score``."""

    min: float
    max: float
    score: float


@dataclasses.dataclass(frozen=True)
class Scoring:
    """How a domain score (from its items) or the total (from the risk domains) is computed."""

    method: str = "sum"
    weights: dict[str, float] = dataclasses.field(default_factory=dict)
    table: tuple[TableRow, ...] = ()
    strengths: str = "ignore"  # the total only: "ignore" or "subtract"


@dataclasses.dataclass(frozen=True)
class Item:
    id: str
    type: str
    text: Text
    domain: str | None = None
    role: str = "scored"  # or "responsivity": recorded, never scored
    required: bool = True
    options: tuple[Option, ...] = ()
    yes_score: float = 1
    no_score: float = 0
    min: float | None = None
    max: float | None = None
    table: tuple[TableRow, ...] = ()
    help: Text | None = None

    @property
    def scored(self) -> bool:
        return self.role == "scored" and self.type != "text"


@dataclasses.dataclass(frozen=True)
class Domain:
    id: str
    name: Text
    kind: str = "risk"  # or "strength": reported apart, not in the total unless subtracted
    scoring: Scoring = Scoring()
    criminogenic: bool = False
    static: bool = False
    need_threshold: float | None = None


@dataclasses.dataclass(frozen=True)
class Band:
    """A band of totals from ``min`` to ``max``, both inclusive."""

    code: str
    label: Text
    min: float
    max: float
    description: Text | None = None


@dataclasses.dataclass(frozen=True)
class ReassessmentInterval:
    bands: tuple[str, ...]
    months: int


@dataclasses.dataclass(frozen=True)
class Instrument:
    """One assessment instrument. Build with :func:`load_instrument`."""

    slug: str
    version: str
    name: Text
    citation: str
    licence: str
    validated: bool
    items: tuple[Item, ...]
    domains: tuple[Domain, ...]
    total: Scoring
    bands: tuple[Band, ...]
    bands_by_sex: dict[str, tuple[Band, ...]] = dataclasses.field(default_factory=dict)
    validation_note: Text | None = None
    description: Text | None = None
    instructions: Text | None = None
    reassessment_intervals: tuple[ReassessmentInterval, ...] = ()
    before_release_days: int | None = None
    source: str = ""
    # Optional: how the instrument was validated on outcomes (data, outcome, n, events,
    # auc, auc_low, auc_high, ...); see schema.json.
    validation: dict[str, Any] | None = None

    def item(self, item_id: str) -> Item:
        return self._items_by_id[item_id]

    def domain(self, domain_id: str) -> Domain:
        return self._domains_by_id[domain_id]

    @functools.cached_property
    def _items_by_id(self) -> dict[str, Item]:
        return {item.id: item for item in self.items}

    @functools.cached_property
    def _domains_by_id(self) -> dict[str, Domain]:
        return {domain.id: domain for domain in self.domains}

    def bands_for(self, sex: str | None = None) -> tuple[Band, ...]:
        """The bands for ``sex`` when the file has its own list, else the general bands."""
        if sex is not None and sex in self.bands_by_sex:
            return self.bands_by_sex[sex]
        return self.bands

    def band(self, code: str, sex: str | None = None) -> Band:
        for band in (*self.bands_for(sex), *self.bands):
            if band.code == code:
                return band
        raise KeyError(code)

    def text(self, obj_or_key: Any, language: str = DEFAULT_LANGUAGE) -> str:
        """The text of ``obj_or_key`` in ``language``, falling back to English.

        ``obj_or_key`` is a ``{en, es, pt-br}`` mapping; an item, domain, band or option
        (its text, name or label); or a key: ``"name"``, an item id, a domain id or a band
        code. ``language`` is matched loosely: ``"pt"``/``"pt-BR"`` mean ``"pt-br"``,
        ``"es-CL"`` means ``"es"``.
        """
        texts = obj_or_key
        if isinstance(obj_or_key, str):
            texts = self._lookup_text(obj_or_key)
        elif isinstance(obj_or_key, Item):
            texts = obj_or_key.text
        elif isinstance(obj_or_key, Domain):
            texts = obj_or_key.name
        elif isinstance(obj_or_key, Band | Option):
            texts = obj_or_key.label
        if not isinstance(texts, dict):
            raise KeyError(f"no text for {obj_or_key!r} in instrument {self.slug!r}")
        return texts.get(normalise_language(language)) or texts[DEFAULT_LANGUAGE]

    def _lookup_text(self, key: str) -> Text:
        if key == "name":
            return self.name
        if key in self._items_by_id:
            return self._items_by_id[key].text
        if key in self._domains_by_id:
            return self._domains_by_id[key].name
        for band in (*self.bands, *(b for bands in self.bands_by_sex.values() for b in bands)):
            if band.code == key:
                return band.label
        raise KeyError(f"no item, domain or band {key!r} in instrument {self.slug!r}")

    def to_dict(self) -> dict[str, Any]:
        """A summary for listings (JSON-ready)."""
        return {
            "slug": self.slug,
            "version": self.version,
            "name": dict(self.name),
            "validated": self.validated,
            "validation_note": dict(self.validation_note) if self.validation_note else None,
            "citation": self.citation,
            "licence": self.licence,
        }


def normalise_language(language: str) -> str:
    code = (language or DEFAULT_LANGUAGE).lower().replace("_", "-")
    if code in LANGUAGES:
        return code
    base = code.split("-")[0]
    return "pt-br" if base == "pt" else base


@functools.cache
def _schema() -> dict[str, Any]:
    text = importlib.resources.files(__package__).joinpath("schema.json").read_text("utf-8")
    return json.loads(text)


def schema() -> dict[str, Any]:
    """The JSON Schema every instrument file is validated against."""
    return json.loads(json.dumps(_schema()))


def _path(parts: Any) -> str:
    return "/".join(str(p) for p in parts) or "(top level)"


def validation_errors(data: Any) -> list[tuple[str, str]]:
    """Every problem in a parsed instrument as ``(path of the field, message)`` pairs."""
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        return [(_path(error.absolute_path), error.message) for error in errors]
    return _semantic_errors(data)


def _semantic_errors(data: dict[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    domain_ids: dict[str, dict[str, Any]] = {}
    for index, domain in enumerate(data["domains"]):
        if domain["id"] in domain_ids:
            problems.append((f"domains/{index}/id", f"duplicate domain id {domain['id']!r}"))
        domain_ids[domain["id"]] = domain
    item_ids: set[str] = set()
    items_in_domain: dict[str, list[str]] = {d: [] for d in domain_ids}
    option_sets = data.get("option_sets", {})
    for index, item in enumerate(data["items"]):
        where = f"items/{index}"
        if item["id"] in item_ids:
            problems.append((f"{where}/id", f"duplicate item id {item['id']!r}"))
        item_ids.add(item["id"])
        kind = item["type"]
        scored = item.get("role", "scored") == "scored" and kind != "text"
        if kind in CHOICE_TYPES:
            if ("options" in item) == ("option_set" in item):
                problems.append((where, "a choice item needs exactly one of options, option_set"))
            elif "option_set" in item and item["option_set"] not in option_sets:
                problems.append(
                    (f"{where}/option_set", f"unknown option set {item['option_set']!r}")
                )
        else:
            for field in ("options", "option_set"):
                if field in item:
                    problems.append((f"{where}/{field}", f"a {kind} item has no options"))
        if kind == "text" and item.get("role", "scored") == "scored":
            problems.append((f"{where}/role", "a text item is never scored: use responsivity"))
        if kind == "number" and "min" in item and "max" in item and item["min"] > item["max"]:
            problems.append((f"{where}/max", "max is below min"))
        if "table" in item:
            if kind != "number":
                problems.append((f"{where}/table", "only number items have a lookup table"))
            problems.extend(_range_errors(item["table"], f"{where}/table", "row"))
        if "domain" in item:
            if item["domain"] not in domain_ids:
                problems.append((f"{where}/domain", f"unknown domain {item['domain']!r}"))
            elif not scored:
                problems.append((f"{where}/domain", "only scored items belong to a domain"))
            else:
                items_in_domain[item["domain"]].append(item["id"])
        elif scored:
            problems.append((f"{where}/domain", "a scored item needs a domain"))
    for index, domain in enumerate(data["domains"]):
        where = f"domains/{index}"
        scoring = domain.get("scoring", {"method": "sum"})
        problems.extend(_scoring_errors(scoring, f"{where}/scoring", items_in_domain[domain["id"]]))
        if not items_in_domain[domain["id"]]:
            problems.append((where, f"domain {domain['id']!r} has no scored items"))
        if "need_threshold" in domain and not domain.get("criminogenic", False):
            problems.append((f"{where}/need_threshold", "only criminogenic domains have one"))
    risk_domains = [d for d, v in domain_ids.items() if v.get("kind", "risk") == "risk"]
    if not risk_domains:
        problems.append(("domains", "at least one domain must be of kind risk"))
    problems.extend(_scoring_errors(data["total"], "total", risk_domains))
    band_codes = set()
    problems.extend(_range_errors(data["bands"], "bands", "band"))
    band_codes.update(b["code"] for b in data["bands"])
    for sex, bands in data.get("bands_by_sex", {}).items():
        problems.extend(_range_errors(bands, f"bands_by_sex/{sex}", "band"))
        band_codes.update(b["code"] for b in bands)
    for index, interval in enumerate(data.get("reassessment", {}).get("intervals", [])):
        for position, code in enumerate(interval["bands"]):
            if code not in band_codes:
                problems.append(
                    (f"reassessment/intervals/{index}/bands/{position}", f"unknown band {code!r}")
                )
    return problems


def _scoring_errors(scoring: dict[str, Any], where: str, parts: list[str]) -> list:
    problems = []
    method = scoring["method"]
    if method == "weighted_sum":
        for name in scoring.get("weights", {}):
            if name not in parts:
                problems.append((f"{where}/weights/{name}", f"{name!r} is not a part of this sum"))
    elif "weights" in scoring:
        problems.append((f"{where}/weights", f"weights need method weighted_sum, not {method}"))
    if method == "lookup":
        if "table" not in scoring:
            problems.append((where, "method lookup needs a table"))
        else:
            problems.extend(_range_errors(scoring["table"], f"{where}/table", "row"))
    elif "table" in scoring:
        problems.append((f"{where}/table", f"a table needs method lookup, not {method}"))
    return problems


def _range_errors(rows: list[dict[str, Any]], where: str, noun: str) -> list[tuple[str, str]]:
    """Ranges must run upwards with no overlap and no gap (``min`` and ``max`` inclusive).

    The next range starts above the previous ``max`` and at most 1 above it, so that every
    whole number is covered; a fractional total between two ranges falls in the lower one.
    """
    problems = []
    codes = set()
    for index, row in enumerate(rows):
        if "code" in row:
            if row["code"] in codes:
                problems.append((f"{where}/{index}/code", f"duplicate band code {row['code']!r}"))
            codes.add(row["code"])
        if row["min"] > row["max"]:
            problems.append((f"{where}/{index}/max", f"max {row['max']} is below min {row['min']}"))
        if index:
            previous = rows[index - 1]
            if row["min"] <= previous["max"]:
                problems.append(
                    (
                        f"{where}/{index}/min",
                        f"{noun} overlaps the previous one: starts at {row['min']}, "
                        f"the previous ends at {previous['max']}",
                    )
                )
            elif row["min"] > previous["max"] + 1:
                problems.append(
                    (
                        f"{where}/{index}/min",
                        f"gap between {noun}s: the previous ends at {previous['max']}, "
                        f"this one starts at {row['min']}",
                    )
                )
    return problems


def _table(rows: list[dict[str, Any]] | None) -> tuple[TableRow, ...]:
    return tuple(TableRow(r["min"], r["max"], r["score"]) for r in rows or ())


def _scoring(data: dict[str, Any] | None) -> Scoring:
    data = data or {"method": "sum"}
    return Scoring(
        method=data["method"],
        weights=dict(data.get("weights", {})),
        table=_table(data.get("table")),
        strengths=data.get("strengths", "ignore"),
    )


def _bands(rows: list[dict[str, Any]]) -> tuple[Band, ...]:
    return tuple(
        Band(r["code"], dict(r["label"]), r["min"], r["max"], r.get("description")) for r in rows
    )


def instrument_from_mapping(data: Any, *, source: str = "<mapping>") -> Instrument:
    """Validate a parsed YAML/JSON mapping and build an :class:`Instrument`."""
    problems = validation_errors(data)
    if problems:
        lines = [f"{source}: {where}: {message}" for where, message in problems]
        raise InstrumentError("\n".join(lines), lines)
    option_sets = data.get("option_sets", {})
    items = []
    for item in data["items"]:
        options = item.get("options") or option_sets.get(item.get("option_set"), [])
        items.append(
            Item(
                id=item["id"],
                type=item["type"],
                text=dict(item["text"]),
                domain=item.get("domain"),
                role=item.get("role", "scored"),
                required=item.get("required", True),
                options=tuple(Option(dict(o["label"]), o["score"], o.get("code")) for o in options),
                yes_score=item.get("yes_score", 1),
                no_score=item.get("no_score", 0),
                min=item.get("min"),
                max=item.get("max"),
                table=_table(item.get("table")),
                help=item.get("help"),
            )
        )
    domains = tuple(
        Domain(
            id=d["id"],
            name=dict(d["name"]),
            kind=d.get("kind", "risk"),
            scoring=_scoring(d.get("scoring")),
            criminogenic=d.get("criminogenic", False),
            static=d.get("static", False),
            need_threshold=d.get("need_threshold"),
        )
        for d in data["domains"]
    )
    reassessment = data.get("reassessment", {})
    return Instrument(
        slug=data["slug"],
        version=data["version"],
        name=dict(data["name"]),
        citation=" ".join(data["citation"].split()),
        licence=" ".join(data["licence"].split()),
        validated=data["validated"],
        validation_note=data.get("validation_note"),
        description=data.get("description"),
        instructions=data.get("instructions"),
        items=tuple(items),
        domains=domains,
        total=_scoring(data["total"]),
        bands=_bands(data["bands"]),
        bands_by_sex={sex: _bands(rows) for sex, rows in data.get("bands_by_sex", {}).items()},
        reassessment_intervals=tuple(
            ReassessmentInterval(tuple(i["bands"]), i["months"])
            for i in reassessment.get("intervals", [])
        ),
        before_release_days=reassessment.get("before_release_days"),
        source=source,
        validation=dict(data["validation"]) if "validation" in data else None,
    )


def _parse_yaml(text: str, source: str) -> Instrument:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InstrumentError(f"{source}: (top level): not valid YAML: {error}") from None
    return instrument_from_mapping(data, source=source)


@functools.cache
def _builtins() -> dict[str, Instrument]:
    found = {}
    for name, text in packaged_yaml_texts(__package__, "builtin"):
        instrument = _parse_yaml(text, f"builtin/{name}")
        found[instrument.slug] = instrument
    return found


def list_instruments() -> list[Instrument]:
    """The built-in instruments, ordered by slug."""
    return list(_builtins().values())


def load_instrument(name_or_path: str | Path) -> Instrument:
    """A built-in instrument by slug, or an instrument YAML file by path."""
    text = str(name_or_path)
    builtins = _builtins()
    if text in builtins and not Path(text).suffix:
        return builtins[text]
    path = Path(text)
    if path.suffix.lower() in (".yaml", ".yml", ".json") or path.exists():
        try:
            content = path.read_text("utf-8")
        except OSError as error:
            raise InstrumentError(f"{path}: (top level): cannot read the file: {error}") from None
        return _parse_yaml(content, str(path))
    raise InstrumentError(
        f"unknown instrument {text!r}: give a built-in ({', '.join(builtins)}) or a YAML file"
    )

"""The support-needs catalogue: which needs a case manager can pick on each pathway.

The built-in catalogue is ``support_needs.yaml``; a service replaces it with its own file
through ``WHATWORKS_SUPPORT_NEEDS_FILE``. A broken file stops the start-up of the pages that
use it with a message naming the file and the entry, never a half-read catalogue.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import get_language

from whatworks.records.choices import Pathway

BUILTIN_FILE = Path(__file__).with_name("support_needs.yaml")
LABEL_LANGUAGES = ("en", "es", "pt-BR")


@dataclasses.dataclass(frozen=True)
class SupportNeed:
    pathway: str
    code: str
    labels: dict[str, str]
    retired: bool = False

    @property
    def label(self) -> str:
        return label_in_language(self.labels, get_language())


def label_in_language(labels: dict[str, str], language: str | None) -> str:
    """The label in ``language`` (``pt-br`` and ``pt-BR`` alike), else its base language,
    else English."""
    wanted = (language or "en").lower()
    by_lower = {key.lower(): value for key, value in labels.items()}
    return by_lower.get(wanted) or by_lower.get(wanted.split("-")[0]) or labels["en"]


@dataclasses.dataclass(frozen=True)
class Catalogue:
    source: str
    needs: tuple[SupportNeed, ...]

    def for_pathway(self, pathway: str, *, include_retired: bool = False) -> list[SupportNeed]:
        return [
            need
            for need in self.needs
            if need.pathway == pathway and (include_retired or not need.retired)
        ]

    def get(self, pathway: str, code: str) -> SupportNeed | None:
        return next((n for n in self.needs if n.pathway == pathway and n.code == code), None)

    def label(self, pathway: str, code: str) -> str:
        need = self.get(pathway, code)
        return need.label if need else code


def parse_catalogue(text: str, source: str) -> Catalogue:
    def fail(where: str, message: str):
        raise ImproperlyConfigured(f"{source}: {where}: {message}")

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        fail("(top level)", f"not valid YAML: {error}")
    if not isinstance(data, dict) or not isinstance(data.get("pathways"), dict):
        fail("pathways", "a mapping of pathway codes to lists of needs is required")
    needs: list[SupportNeed] = []
    for pathway, entries in data["pathways"].items():
        if pathway not in Pathway.values:
            fail(f"pathways.{pathway}", f"unknown pathway; use one of {', '.join(Pathway.values)}")
        if not isinstance(entries, list):
            fail(f"pathways.{pathway}", "a list of needs is required")
        seen: set[str] = set()
        for index, entry in enumerate(entries):
            where = f"pathways.{pathway}[{index}]"
            if not isinstance(entry, dict) or not str(entry.get("code") or "").strip():
                fail(where, "each need needs a code")
            code = str(entry["code"]).strip()
            if code in seen:
                fail(where, f"code {code!r} appears twice")
            seen.add(code)
            labels = entry.get("label")
            if not isinstance(labels, dict):
                fail(f"{where}.label", "labels by language are required")
            missing = [lang for lang in LABEL_LANGUAGES if not str(labels.get(lang) or "").strip()]
            if missing:
                fail(f"{where}.label", f"missing {', '.join(missing)}")
            needs.append(
                SupportNeed(
                    pathway=pathway,
                    code=code,
                    labels={str(k): str(v) for k, v in labels.items()},
                    retired=bool(entry.get("retired", False)),
                )
            )
    return Catalogue(source=source, needs=tuple(needs))


@functools.cache
def _load(path: str) -> Catalogue:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ImproperlyConfigured(f"{path}: cannot be read: {error.strerror}") from None
    return parse_catalogue(text, path)


def support_needs() -> Catalogue:
    """The catalogue in force (read once per path and kept)."""
    return _load(settings.SUPPORT_NEEDS_FILE or str(BUILTIN_FILE))

"""The evidence dashboard's query: which definition, which release cohort, which breakdown.

The form is submitted with GET, so a figure can be bookmarked and shared, and the export
links carry the same query string as the page.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext_lazy as _

from whatworks.analytics.recidivism import Definition, list_definitions

DEFAULT_DEFINITION = "reconviction-3y-chile"
EARLIEST_COHORT_YEAR = 1900
LATEST_COHORT_YEAR = 2100
MAX_WINDOW_YEARS = 50
MAX_WINDOWS = 10

BREAKDOWN_CHOICES = [
    ("", _("No breakdown")),
    ("facility", _("Releasing facility")),
    ("facility_type", _("Facility type")),
    ("cohort_year", _("Year of release")),
    ("sex", _("Sex")),
    ("age_band", _("Age at release")),
]


def definitions_by_slug() -> dict[str, Definition]:
    return {definition.slug: definition for definition in list_definitions()}


def _definition_choices() -> list[tuple[str, str]]:
    return [
        (definition.slug, f"{definition.name} · v{definition.version}")
        for definition in list_definitions()
    ]


def _default_definition_slug() -> str:
    slugs = [definition.slug for definition in list_definitions()]
    return DEFAULT_DEFINITION if DEFAULT_DEFINITION in slugs else slugs[0]


@dataclass(frozen=True)
class EvidenceQuery:
    """A validated dashboard query. ``cohort_to`` is inclusive; ``None`` means open-ended."""

    definition: Definition
    cohort_from: int | None = None
    cohort_to: int | None = None
    breakdown: str = ""
    windows: tuple[int, ...] | None = None

    def cohort_years(self, *, today: datetime.date) -> list[int] | None:
        """Calendar years of release to include, or ``None`` for every release."""
        if self.cohort_from is None and self.cohort_to is None:
            return None
        first = self.cohort_from if self.cohort_from is not None else EARLIEST_COHORT_YEAR
        last = self.cohort_to if self.cohort_to is not None else max(today.year, first)
        return list(range(first, last + 1))

    @property
    def by(self) -> list[str] | None:
        return [self.breakdown] if self.breakdown else None


class EvidenceForm(forms.Form):
    definition = forms.ChoiceField(
        label=_("Definition of recidivism"),
        required=False,
        help_text=_("Each definition says which events count, from when and for how long."),
    )
    cohort_from = forms.IntegerField(
        label=_("Released from (year)"),
        required=False,
        min_value=EARLIEST_COHORT_YEAR,
        max_value=LATEST_COHORT_YEAR,
        help_text=_("Leave empty to start with the earliest release."),
    )
    cohort_to = forms.IntegerField(
        label=_("Released until (year, inclusive)"),
        required=False,
        min_value=EARLIEST_COHORT_YEAR,
        max_value=LATEST_COHORT_YEAR,
        help_text=_("Leave empty to include the latest releases."),
    )
    breakdown = forms.ChoiceField(
        label=_("Break down by"), choices=BREAKDOWN_CHOICES, required=False
    )
    windows = forms.CharField(
        label=_("Follow-up windows (years)"),
        required=False,
        max_length=100,
        help_text=_(
            "Whole years separated by commas, for example 1, 2, 3. Leave empty to use the "
            "definition's own windows."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["definition"].choices = _definition_choices()
        self.fields["definition"].initial = _default_definition_slug()

    def clean_windows(self) -> tuple[int, ...] | None:
        text = self.cleaned_data.get("windows", "").strip()
        if not text:
            return None
        message = _("Enter whole numbers of years from 1 to %(maximum)s, separated by commas.") % {
            "maximum": MAX_WINDOW_YEARS
        }
        years = set()
        for part in text.replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or not 1 <= int(part) <= MAX_WINDOW_YEARS:
                raise forms.ValidationError(message, code="invalid")
            years.add(int(part))
        if not years:
            raise forms.ValidationError(message, code="invalid")
        if len(years) > MAX_WINDOWS:
            raise forms.ValidationError(
                _("Choose at most %(maximum)s windows.") % {"maximum": MAX_WINDOWS},
                code="too_many",
            )
        return tuple(sorted(years))

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("cohort_from"), cleaned.get("cohort_to")
        if first is not None and last is not None and first > last:
            self.add_error(
                "cohort_to", _("The last year of release cannot be before the first year.")
            )
        return cleaned

    def query(self) -> EvidenceQuery:
        """The validated query; an unbound form gives the default query."""
        definitions = definitions_by_slug()
        if not self.is_bound:
            return EvidenceQuery(definition=definitions[_default_definition_slug()])
        if not self.is_valid():
            raise ValueError("query() needs a valid form")
        data = self.cleaned_data
        return EvidenceQuery(
            definition=definitions[data.get("definition") or _default_definition_slug()],
            cohort_from=data.get("cohort_from"),
            cohort_to=data.get("cohort_to"),
            breakdown=data.get("breakdown") or "",
            windows=data.get("windows"),
        )

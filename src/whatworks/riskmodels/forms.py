"""Forms for validating an instrument and fitting a point score on the service's releases."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from whatworks.analytics.recidivism import list_definitions
from whatworks.evaluation.forms import COVARIATE_LABELS, DEFAULT_DEFINITION, WINDOW_CHOICES
from whatworks.records.access import facilities_in_scope
from whatworks.records.models import Facility
from whatworks.riskmodels.cohort import FEATURES
from whatworks.riskmodels.models import PublicationStatus, RiskModelRun
from whatworks.riskmodels.tasks import RNR_SCREENER

FEATURE_LABELS = {code: COVARIATE_LABELS[code] for code in FEATURES if code in COVARIATE_LABELS}
FEATURE_LABELS["rnr_screener_total"] = _("RNR screener total at baseline")


class CohortForm(forms.Form):
    definition = forms.ChoiceField(label=_("Outcome definition"), initial=DEFAULT_DEFINITION)
    window_years = forms.ChoiceField(
        label=_("Follow-up window (years)"), choices=WINDOW_CHOICES, required=False
    )
    release_from = forms.DateField(
        label=_("Released from (inclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    release_to = forms.DateField(
        label=_("Released up to (inclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    facilities = forms.ModelMultipleChoiceField(
        label=_("Releasing facilities"),
        queryset=Facility.objects.none(),
        required=False,
        help_text=_("None chosen: every facility."),
        widget=forms.CheckboxSelectMultiple,
        to_field_name="code",
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["definition"].choices = [
            (definition.slug, definition.name) for definition in list_definitions()
        ]
        self.fields["facilities"].queryset = facilities_in_scope(user).order_by("code")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("release_from"), cleaned.get("release_to")
        if start and end and end < start:
            self.add_error("release_to", _("The end of the release period is before its start."))
        return cleaned

    def parameters(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "definition": data["definition"],
            "window_years": int(data["window_years"]) if data.get("window_years") else None,
            "release_from": data["release_from"].isoformat() if data["release_from"] else None,
            "release_to": data["release_to"].isoformat() if data["release_to"] else None,
            "facilities": sorted(facility.code for facility in data.get("facilities") or []),
        }


def published_instruments() -> list[tuple[str, str]]:
    """Point scores fitted here and published, as validation choices."""
    runs = RiskModelRun.objects.filter(publication=PublicationStatus.APPROVED).select_related(
        "published_version"
    )
    return [
        (
            str(run.published_version_id),
            f"{run.published_version.name} ({run.published_version.version})",
        )
        for run in runs
    ]


class ValidateForm(CohortForm):
    instrument = forms.ChoiceField(label=_("Instrument"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instrument"].choices = [
            (RNR_SCREENER, _("RNR screener, as recorded at baseline")),
            *published_instruments(),
        ]

    def parameters(self) -> dict[str, Any]:
        return {**super().parameters(), "instrument": self.cleaned_data["instrument"]}


class FitForm(CohortForm):
    features = forms.MultipleChoiceField(
        label=_("Candidate items"),
        choices=list(FEATURE_LABELS.items()),
        initial=["age_at_release", "sex", "prior_custodial_episodes", "main_offence_category"],
        widget=forms.CheckboxSelectMultiple,
    )
    max_items = forms.IntegerField(
        label=_("At most this many items"), min_value=1, max_value=10, initial=5
    )
    max_points = forms.IntegerField(
        label=_("At most this many points per item"), min_value=1, max_value=10, initial=3
    )
    folds = forms.IntegerField(
        label=_("Cross-validation folds"), min_value=3, max_value=10, initial=5
    )
    seed = forms.IntegerField(label=_("Random seed"), min_value=0, initial=0)
    name = forms.CharField(
        label=_("Name of the score"), max_length=120, initial=_("Local risk score")
    )

    def parameters(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            **super().parameters(),
            "features": [code for code in FEATURES if code in data["features"]],
            "max_items": data["max_items"],
            "max_points": data["max_points"],
            "folds": data["folds"],
            "seed": data["seed"],
            "name": data["name"],
        }


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve and publish")), ("reject", _("Reject"))],
    )
    note = forms.CharField(label=_("Note"), widget=forms.Textarea, required=False)

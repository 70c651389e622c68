"""The new-run form: programme, treatment, outcome, covariates, cohort, estimand, method."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from whatworks.analytics.recidivism import list_definitions
from whatworks.evaluation.cohort import COVARIATES, TREATMENT_COMPLETED, TREATMENT_STARTED
from whatworks.records.access import facilities_in_scope
from whatworks.records.models import Facility
from whatworks.treatment.models import Programme

DEFAULT_DEFINITION = "reconviction-3y-chile"
WINDOW_CHOICES = [("", _("The definition's longest window"))] + [
    (str(years), str(years)) for years in range(1, 6)
]

COVARIATE_LABELS = {
    "age_at_release": _("Age at release"),
    "sex": _("Sex"),
    "prior_custodial_episodes": _("Earlier custody episodes in the records"),
    "main_offence_category": _("Main offence category"),
    "sentence_length": _("Sentence length"),
    "time_served": _("Time served"),
    "released_on_parole": _("Released on parole"),
    "released_from_semi_open_or_open": _("Released from a semi-open or open facility"),
    "rnr_screener_total": _("Latest RNR screener total before release"),
    "rnr_screener_needs": _("Needs flagged by that screener"),
    "education_level": _("Education level"),
    "literacy": _("Literacy"),
}
TREATMENT_CHOICES = [
    (TREATMENT_COMPLETED, _("Completion: completed the programme before release")),
    (TREATMENT_STARTED, _("Participation: started the programme before release")),
]
ESTIMAND_CHOICES = [
    ("att", _("Effect on those treated (ATT)")),
    ("ate", _("Average effect on everyone (ATE)")),
]
METHOD_CHOICES = [
    ("aipw", _("Doubly robust (AIPW)")),
    ("ipw", _("Inverse probability weighting")),
    ("psm", _("Propensity score matching")),
]


class EvaluationForm(forms.Form):
    programme = forms.ModelChoiceField(
        label=_("Programme"), queryset=Programme.objects.order_by("name")
    )
    treatment = forms.ChoiceField(
        label=_("Treated means"), choices=TREATMENT_CHOICES, initial=TREATMENT_COMPLETED
    )
    definition = forms.ChoiceField(label=_("Outcome definition"), initial=DEFAULT_DEFINITION)
    window_years = forms.ChoiceField(
        label=_("Follow-up window (years)"), choices=WINDOW_CHOICES, required=False
    )
    covariates = forms.MultipleChoiceField(
        label=_("Adjust for"),
        choices=[(code, COVARIATE_LABELS[code]) for code in COVARIATES],
        initial=list(COVARIATES),
        widget=forms.CheckboxSelectMultiple,
        required=False,
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
    estimand = forms.ChoiceField(label=_("Estimand"), choices=ESTIMAND_CHOICES, initial="att")
    method = forms.ChoiceField(label=_("Method"), choices=METHOD_CHOICES, initial="aipw")
    # Optional WSIPP-style cost-benefit: both amounts in the same currency.
    cost_per_participant = forms.DecimalField(
        label=_("Cost per participant"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        help_text=_("Leave empty for no cost-benefit analysis."),
    )
    avoided_cost_per_reoffence = forms.DecimalField(
        label=_("Cost avoided per reoffence avoided"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        help_text=_("Prison days, court and victim costs together."),
    )
    currency = forms.CharField(label=_("Currency"), required=False, max_length=8, initial="CLP")

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
        cost, avoided = (
            cleaned.get("cost_per_participant"),
            cleaned.get("avoided_cost_per_reoffence"),
        )
        if (cost is None) != (avoided is None):
            self.add_error(
                "avoided_cost_per_reoffence" if avoided is None else "cost_per_participant",
                _("Give both amounts for a cost-benefit analysis, or neither."),
            )
        if not cleaned.get("covariates"):
            self.add_error("covariates", _("Choose at least one characteristic to adjust for."))
        return cleaned

    def parameters(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "treatment": data["treatment"],
            "definition": data["definition"],
            "window_years": int(data["window_years"]) if data.get("window_years") else None,
            "covariates": [code for code in COVARIATES if code in data["covariates"]],
            "release_from": data["release_from"].isoformat() if data["release_from"] else None,
            "release_to": data["release_to"].isoformat() if data["release_to"] else None,
            "facilities": sorted(facility.code for facility in data["facilities"]),
            "estimand": data["estimand"],
            "method": data["method"],
            "cost_benefit": None
            if data.get("cost_per_participant") is None
            else {
                "cost_per_participant": float(data["cost_per_participant"]),
                "avoided_cost_per_reoffence": float(data["avoided_cost_per_reoffence"]),
                "currency": (data.get("currency") or "CLP").upper(),
            },
        }

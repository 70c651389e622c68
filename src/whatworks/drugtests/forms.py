"""Forms for drug tests and selection lists. They shape the input; the services decide, and
their errors are shown next to the fields."""

from __future__ import annotations

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from whatworks.analytics.drugtests import load_panel
from whatworks.drugtests.models import SampleType, SubstanceResult, TestReason

DATE = forms.DateInput(attrs={"type": "date"})
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
RESULT_CHOICES = [("", _("Not tested")), *SubstanceResult.choices]
PANEL = "standard-panel"


class DrugTestForm(forms.Form):
    test_date = forms.DateField(label=_("Test date"), widget=DATE)
    reason = forms.ChoiceField(label=_("Reason"), choices=TestReason.choices)
    sample = forms.ChoiceField(label=_("Sample"), choices=SampleType.choices)
    seal_number = forms.CharField(label=_("Seal number"), max_length=64, required=False)
    collected_at = forms.DateTimeField(
        label=_("Collected at"), widget=DATETIME, required=False, input_formats=["%Y-%m-%dT%H:%M"]
    )
    lab_reference = forms.CharField(label=_("Laboratory reference"), max_length=64, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.panel = load_panel(PANEL)
        language = (get_language() or "en").lower()
        for substance in self.panel.substances:
            name = substance.name.get(language) or substance.name.get("en") or substance.id
            self.fields[f"result_{substance.id}"] = forms.ChoiceField(
                label=name, choices=RESULT_CHOICES, required=False
            )
        for substance in self.panel.substances:
            name = substance.name.get(language) or substance.name.get("en") or substance.id
            self.fields[f"confirm_{substance.id}"] = forms.ChoiceField(
                label=_("Confirmed: %(substance)s") % {"substance": name},
                choices=RESULT_CHOICES,
                required=False,
            )

    def result_fields(self):
        return [self[f"result_{s.id}"] for s in self.panel.substances]

    def confirm_fields(self):
        return [self[f"confirm_{s.id}"] for s in self.panel.substances]

    def service_data(self) -> dict:
        data = self.cleaned_data
        ids = self.panel.substance_ids
        return {
            "test_date": data["test_date"],
            "reason": data["reason"],
            "sample": data["sample"],
            "seal_number": data.get("seal_number", ""),
            "collected_at": data.get("collected_at"),
            "lab_reference": data.get("lab_reference", ""),
            "results": {s: data[f"result_{s}"] for s in ids if data.get(f"result_{s}")},
            "confirmatory_results": {
                s: data[f"confirm_{s}"] for s in ids if data.get(f"confirm_{s}")
            },
        }

    def field_map(self) -> dict[str, str]:
        mapping = {f"results.{s}": f"result_{s}" for s in self.panel.substance_ids}
        mapping.update(
            {f"confirmatory_results.{s}": f"confirm_{s}" for s in self.panel.substance_ids}
        )
        return mapping


class DrugTestCorrectionForm(DrugTestForm):
    correction_reason = forms.CharField(
        label=_("Why is this test being corrected?"), widget=forms.Textarea(attrs={"rows": 2})
    )


class SelectionChoiceForm(forms.Form):
    facility = forms.ModelChoiceField(label=_("Facility"), queryset=None)
    month = forms.RegexField(
        label=_("Month"),
        regex=r"^\d{4}-(0[1-9]|1[0-2])$",
        widget=forms.TextInput(attrs={"type": "month"}),
        error_messages={"invalid": _("Write the month as YYYY-MM, for example 2025-03.")},
    )

    def __init__(self, *args, facilities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility"].queryset = facilities


class UntestableForm(forms.Form):
    research_id = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Why can this person not be tested?"), max_length=200)

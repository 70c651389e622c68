"""Forms for health records and relapse plans. They shape the input; services check it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from whatworks.health.models import (
    DiagnosisCategory,
    DiagnosisStatus,
    HealthReferralStatus,
    MentalDisorderType,
)
from whatworks.records.forms import DateInput

BLANK = ("", "—")
CONTACT_ROWS = 3


class DiagnosisForm(forms.Form):
    recorded_on = forms.DateField(label=_("Recorded on"), widget=DateInput)
    category = forms.ChoiceField(label=_("Category"), choices=DiagnosisCategory.choices)
    mental_disorder_type = forms.ChoiceField(
        label=_("Type of mental disorder"),
        choices=[BLANK, *MentalDisorderType.choices],
        required=False,
        help_text=_("Only for mental disorders."),
    )
    code = forms.CharField(label=_("Code (e.g. ICD-10 F10.2)"), max_length=32, required=False)
    status = forms.ChoiceField(label=_("Status"), choices=DiagnosisStatus.choices)
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea, required=False)


class HealthReferralForm(forms.Form):
    to_service = forms.CharField(label=_("Referred to (service)"), max_length=200)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea)
    requested_on = forms.DateField(label=_("Requested on"), widget=DateInput)
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea, required=False)


class HealthReferralUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=HealthReferralStatus.choices)
    status_date = forms.DateField(label=_("Status date"), widget=DateInput, required=False)
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea, required=False)


class RelapsePlanForm(forms.Form):
    high_risk_situations = forms.CharField(
        label=_("High-risk situations and triggers"), widget=forms.Textarea, required=False
    )
    early_warning_signs = forms.CharField(
        label=_("Early warning signs"), widget=forms.Textarea, required=False
    )
    coping_strategies = forms.CharField(
        label=_("Coping strategies"), widget=forms.Textarea, required=False
    )
    release_accommodation = forms.CharField(
        label=_("Where they will stay after release"), widget=forms.Textarea, required=False
    )
    release_contact = forms.CharField(
        label=_("Who to call in the first days"), widget=forms.Textarea, required=False
    )
    appointment_place = forms.CharField(
        label=_("Treatment appointment: place"), max_length=200, required=False
    )
    appointment_date = forms.DateField(
        label=_("Treatment appointment: date"), widget=DateInput, required=False
    )
    medication_supply_days = forms.IntegerField(
        label=_("Medication supply at release (days)"),
        min_value=0,
        required=False,
        help_text=_("Fewer than 14 days gives a warning."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for row in range(CONTACT_ROWS):
            number = row + 1
            self.fields[f"contact_{row}_name"] = forms.CharField(
                label=_("Supportive contact %(number)s: name") % {"number": number},
                required=False,
            )
            self.fields[f"contact_{row}_relation"] = forms.CharField(
                label=_("Supportive contact %(number)s: relation") % {"number": number},
                required=False,
            )
            self.fields[f"contact_{row}_phone"] = forms.CharField(
                label=_("Supportive contact %(number)s: phone") % {"number": number},
                required=False,
            )

    @staticmethod
    def initial_for(plan) -> dict[str, Any]:
        if plan is None:
            return {}
        initial = {
            name: getattr(plan, name)
            for name in (
                "high_risk_situations",
                "early_warning_signs",
                "coping_strategies",
                "release_accommodation",
                "release_contact",
                "appointment_place",
                "appointment_date",
                "medication_supply_days",
            )
        }
        for row, contact in enumerate((plan.supportive_contacts or [])[:CONTACT_ROWS]):
            for key in ("name", "relation", "phone"):
                initial[f"contact_{row}_{key}"] = contact.get(key, "")
        return initial

    def service_data(self) -> dict[str, Any]:
        data = {
            name: value
            for name, value in self.cleaned_data.items()
            if not name.startswith("contact_")
        }
        data["supportive_contacts"] = [
            {
                key: self.cleaned_data.get(f"contact_{row}_{key}", "")
                for key in ("name", "relation", "phone")
            }
            for row in range(CONTACT_ROWS)
        ]
        return data


class RelapseReviewForm(forms.Form):
    reviewed_on = forms.DateField(label=_("Reviewed on"), widget=DateInput)

"""Forms for the programme catalogue and fidelity reviews. The forms only shape the input;
``treatment.services`` checks it and its errors are shown next to the fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from whatworks.analytics.treatment import (
    ADAPTATIONS,
    EDUCATION_LEVELS,
    LITERACY_LEVELS,
    NEED_DOMAINS,
    RISK_BANDS,
    STATIC_DOMAINS,
    Checklist,
)
from whatworks.records.choices import EducationLevel, Literacy, Sex
from whatworks.records.models import Facility
from whatworks.treatment.labels import ADAPTATION_LABELS, BAND_LABELS, NEED_LABELS
from whatworks.treatment.models import (
    EvidenceRating,
    Programme,
    ProgrammeSetting,
    ProgrammeType,
    RemissionKind,
)

LIST_FIELDS = ("target_needs", "eligible_sexes", "eligible_risk_bands", "adaptations")
EMPTY = [("", "—")]


def _ordered(choices, codes) -> list[tuple[str, str]]:
    labels = dict(choices)
    return [(code, labels[code]) for code in codes if code in labels]


class TypeFilterForm(forms.Form):
    type = forms.ChoiceField(label=_("Type"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", _("All types")), *ProgrammeType.choices]


class ProgrammeForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    programme_type = forms.ChoiceField(label=_("Type"), choices=ProgrammeType.choices)
    target_needs = forms.MultipleChoiceField(
        label=_("Criminogenic needs targeted"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(need, NEED_LABELS[need]) for need in NEED_DOMAINS if need not in STATIC_DOMAINS],
    )
    eligible_sexes = forms.MultipleChoiceField(
        label=_("Eligible sexes"),
        help_text=_("None ticked: everyone."),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=Sex.choices,
    )
    min_age = forms.IntegerField(label=_("Minimum age"), required=False, min_value=0, max_value=120)
    max_age = forms.IntegerField(label=_("Maximum age"), required=False, min_value=0, max_value=120)
    eligible_risk_bands = forms.MultipleChoiceField(
        label=_("Eligible risk bands"),
        help_text=_("None ticked: every band."),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(band, BAND_LABELS[band]) for band in RISK_BANDS],
    )
    min_literacy = forms.ChoiceField(
        label=_("Minimum literacy"),
        required=False,
        choices=EMPTY + _ordered(Literacy.choices, LITERACY_LEVELS),
    )
    min_education = forms.ChoiceField(
        label=_("Minimum education"),
        required=False,
        choices=EMPTY + _ordered(EducationLevel.choices, EDUCATION_LEVELS),
    )
    max_education = forms.ChoiceField(
        label=_("Maximum education"),
        required=False,
        choices=EMPTY + _ordered(EducationLevel.choices, EDUCATION_LEVELS),
    )
    prerequisites = forms.ModelMultipleChoiceField(
        label=_("Prerequisites"),
        required=False,
        queryset=Programme.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    dosage_hours = forms.DecimalField(
        label=_("Intended hours"), min_value=0, max_digits=7, decimal_places=2
    )
    dosage_sessions = forms.IntegerField(label=_("Intended sessions"), min_value=0, max_value=10000)
    session_hours = forms.DecimalField(
        label=_("Hours per session"), min_value=0, max_digits=5, decimal_places=2
    )
    group_capacity = forms.IntegerField(label=_("Group capacity"), min_value=1, max_value=1000)
    setting = forms.ChoiceField(label=_("Delivered"), choices=ProgrammeSetting.choices)
    facilities = forms.ModelMultipleChoiceField(
        label=_("Offered at"),
        required=False,
        queryset=Facility.objects.order_by("name"),
        widget=forms.CheckboxSelectMultiple,
    )
    provider = forms.CharField(label=_("Provider"), max_length=200, required=False)
    languages = forms.CharField(
        label=_("Languages of delivery"),
        help_text=_("Language codes separated by commas, for example: es, pt, en."),
        max_length=200,
        required=False,
    )
    adaptations = forms.MultipleChoiceField(
        label=_("Adaptations offered"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(code, ADAPTATION_LABELS[code]) for code in ADAPTATIONS],
    )
    evidence_rating = forms.ChoiceField(label=_("Evidence rating"), choices=EvidenceRating.choices)
    evidence_source = forms.CharField(
        label=_("Source of the evidence rating"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    remission_kind = forms.ChoiceField(label=_("Remission"), choices=RemissionKind.choices)
    completes_school_level = forms.BooleanField(
        label=_("Completing it completes a school level"), required=False
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, programme: Programme | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        others = Programme.objects.order_by("name")
        if programme is not None:
            others = others.exclude(pk=programme.pk)
        self.fields["prerequisites"].queryset = others

    @staticmethod
    def initial_from(programme: Programme) -> dict[str, Any]:
        initial = {
            name: getattr(programme, name)
            for name in ProgrammeForm.base_fields
            if name not in ("facilities", "prerequisites", "languages")
        }
        initial["languages"] = ", ".join(programme.languages or [])
        initial["facilities"] = list(programme.facilities.all())
        initial["prerequisites"] = list(programme.prerequisites.all())
        return initial

    def service_arguments(self) -> dict[str, Any]:
        """``data``, ``facilities`` and ``prerequisites`` for ``services.programme_save``."""
        data = {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in ("facilities", "prerequisites")
        }
        return {
            "data": data,
            "facilities": list(self.cleaned_data["facilities"]),
            "prerequisites": list(self.cleaned_data["prerequisites"]),
        }


ANSWER_CHOICES = [
    ("yes", _("Yes")),
    ("no", _("No")),
    ("not_applicable", _("Not applicable")),
]


def checklist_text(text, language: str) -> str:
    """A checklist text (a dict by language) in the user's language, English otherwise."""
    if not isinstance(text, dict):
        return str(text)
    return text.get(language) or text.get("en") or next(iter(text.values()), "")


def checklist_language(language_code: str | None) -> str:
    code = (language_code or "").lower()
    if code.startswith("pt"):
        return "pt-br"
    if code.startswith("es"):
        return "es"
    return "en"


class FidelityReviewForm(forms.Form):
    """One yes / no / not applicable field per checklist item, named by the item id."""

    reviewed_on = forms.DateField(
        label=_("Reviewed on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    facility = forms.ModelChoiceField(
        label=_("Facility"),
        required=False,
        queryset=Facility.objects.none(),
        help_text=_("Leave empty for a review of the programme as a whole."),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, checklist: Checklist, language: str, facilities, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.checklist = checklist
        self.language = language
        self.fields["facility"].queryset = facilities
        for domain in checklist.domains:
            for item in domain.items:
                self.fields[item.id] = forms.ChoiceField(
                    label=checklist_text(item.text, language),
                    choices=ANSWER_CHOICES,
                    widget=forms.RadioSelect,
                )

    def domains(self) -> list[dict[str, Any]]:
        return [
            {
                "name": checklist_text(domain.name, self.language),
                "fields": [self[item.id] for item in domain.items],
            }
            for domain in self.checklist.domains
        ]

    def general_fields(self) -> list:
        return [self["reviewed_on"], self["facility"], self["notes"]]

    def answers(self) -> dict[str, str]:
        return {item_id: self.cleaned_data[item_id] for item_id in self.checklist.item_ids}

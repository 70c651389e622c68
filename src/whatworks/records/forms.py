"""Forms of the records pages. They check types and shapes; the services check the rules.

Every rule the services enforce comes back as a ``ValidationError`` keyed by model field
name; ``add_service_errors`` puts each message next to the matching form field.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from whatworks.records.choices import (
    AdmissionType,
    EducationLevel,
    FacilityType,
    Gender,
    LegalStatus,
    Literacy,
    OffenceCategory,
    OutcomeEventType,
    OutcomeSource,
    ReleaseType,
    Sex,
    SupportNeed,
    TransferReason,
)
from whatworks.records.models import Facility, Person

BLANK_CHOICE = [("", _("Choose…"))]


class DateInput(forms.DateInput):
    """A native date picker. Its value is always ISO 8601, whatever the language."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _choice(label, choices, *, required: bool = True, initial: str | None = None):
    return forms.ChoiceField(
        label=label,
        choices=(BLANK_CHOICE if required and initial is None else []) + list(choices),
        required=required,
        initial=initial,
    )


def _date(label, *, required: bool = True, help_text: str = ""):
    return forms.DateField(label=label, required=required, widget=DateInput, help_text=help_text)


class FacilityChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Facility) -> str:
        return f"{obj.code} · {obj.name}"


def custody_facilities(queryset: QuerySet[Facility]) -> QuerySet[Facility]:
    """Facilities that hold people in custody (community offices supervise, they do not)."""
    return queryset.exclude(facility_type=FacilityType.COMMUNITY_OFFICE).order_by("code")


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: by field where the form has it."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            target = field if field in form.fields else None
            for message in messages:
                form.add_error(target, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


class PersonForm(forms.Form):
    """Identity fields of a person, shared by intake and editing."""

    prison_number = forms.CharField(label=_("Prison number"), max_length=32)
    national_id = forms.CharField(label=_("National ID"), max_length=32, required=False)
    first_names = forms.CharField(label=_("First names"), max_length=150)
    last_names = forms.CharField(label=_("Last names"), max_length=150)
    date_of_birth = _date(_("Date of birth"))
    sex = _choice(_("Sex"), Sex.choices)
    gender = _choice(_("Gender"), Gender.choices, initial=Gender.NOT_RECORDED)
    nationality = forms.CharField(
        label=_("Nationality"),
        max_length=2,
        min_length=2,
        help_text=_("Two-letter country code, for example CL."),
    )
    languages = forms.CharField(
        label=_("Languages"),
        max_length=200,
        required=False,
        help_text=_("ISO 639 codes separated by commas, main language first, for example es, arn."),
    )
    literacy = _choice(_("Literacy"), Literacy.choices, initial=Literacy.NOT_RECORDED)
    education_level = _choice(
        _("Education"),
        EducationLevel.choices,
        required=False,
        initial=EducationLevel.NOT_RECORDED,
    )
    support_needs = forms.MultipleChoiceField(
        label=_("Disability or learning needs"),
        choices=SupportNeed.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    support_needs_notes = forms.CharField(
        label=_("Notes on needs"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    @staticmethod
    def initial_for(person: Person) -> dict[str, Any]:
        return {
            "prison_number": person.prison_number,
            "national_id": person.national_id,
            "first_names": person.first_names,
            "last_names": person.last_names,
            "date_of_birth": person.date_of_birth,
            "sex": person.sex,
            "gender": person.gender,
            "nationality": person.nationality,
            "languages": ", ".join(person.languages or []),
            "literacy": person.literacy,
            "education_level": person.education_level,
            "support_needs": person.support_needs or [],
            "support_needs_notes": person.support_needs_notes,
        }

    def clean_education_level(self) -> str:
        # Forms and clients written before the field existed leave it out: not recorded.
        return self.cleaned_data.get("education_level") or EducationLevel.NOT_RECORDED

    def person_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in PersonForm.base_fields}
        data["nationality"] = data["nationality"].upper()
        return data


ADMISSION_FIELDS = [
    "admission_date",
    "admission_type",
    "legal_status",
    "main_offence_category",
    "sentence_date",
    "sentence_length_days",
    "expected_release_date",
]


class AdmissionForm(forms.Form):
    """The facility that receives a person and the admission's details."""

    facility = FacilityChoiceField(
        label=_("Facility"), queryset=Facility.objects.none(), empty_label=_("Choose…")
    )
    admission_date = _date(_("Admission date"))
    admission_type = _choice(_("Admission type"), AdmissionType.choices)
    legal_status = _choice(_("Legal status"), LegalStatus.choices)
    main_offence_category = _choice(_("Main offence"), OffenceCategory.choices)
    sentence_date = _date(_("Sentence date"), required=False)
    sentence_length_days = forms.IntegerField(
        label=_("Sentence length (days)"), min_value=1, max_value=365 * 100, required=False
    )
    expected_release_date = _date(_("Expected release date"), required=False)

    def __init__(self, *args, facilities: QuerySet[Facility], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility"].queryset = custody_facilities(facilities)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        admitted = cleaned.get("admission_date")
        if admitted:
            for field, message in (
                ("sentence_date", _("The sentence date cannot be before admission.")),
                ("expected_release_date", _("The expected release cannot be before admission.")),
            ):
                value = cleaned.get(field)
                transfer_in = cleaned.get("admission_type") == AdmissionType.TRANSFER_IN
                if value and value < admitted and not (field == "sentence_date" and transfer_in):
                    self.add_error(field, message)
        return cleaned

    def admission_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ["facility", *ADMISSION_FIELDS]]

    def admission_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in ADMISSION_FIELDS}


class IntakeForm(PersonForm, AdmissionForm):
    """Intake: a new person, the facility that receives them, and their admission."""

    def person_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in PersonForm.base_fields]


class TransferForm(forms.Form):
    to_facility = FacilityChoiceField(
        label=_("Move to facility"), queryset=Facility.objects.none(), empty_label=_("Choose…")
    )
    movement_date = _date(_("Date of transfer"))
    reason = forms.ChoiceField(label=_("Reason"), choices=TransferReason.choices)

    def __init__(self, *args, facilities: QuerySet[Facility], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_facility"].queryset = custody_facilities(facilities)


class ReleaseForm(forms.Form):
    release_date = _date(_("Release date"))
    release_type = _choice(_("Release type"), ReleaseType.choices)


class OutcomeEventForm(forms.Form):
    event_type = _choice(_("Event"), OutcomeEventType.choices)
    event_date = _date(_("Event date"))
    offence_date = _date(
        _("Offence date"),
        required=False,
        help_text=_("Leave empty for technical violations."),
    )
    source = _choice(_("Source"), OutcomeSource.choices)
    reference = forms.CharField(
        label=_("Reference"),
        max_length=100,
        required=False,
        help_text=_("The source's own reference, such as a case number."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        event_date, offence_date = cleaned.get("event_date"), cleaned.get("offence_date")
        if event_date and offence_date and offence_date > event_date:
            self.add_error("offence_date", _("The offence cannot be after the event."))
        return cleaned


class PersonSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name or prison number"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    facility = forms.ChoiceField(label=_("Facility"), required=False)
    in_custody = forms.BooleanField(label=_("In custody only"), required=False)

    def __init__(self, *args, facilities: QuerySet[Facility], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility"].choices = [("", _("All facilities"))] + [
            (facility.code, f"{facility.code} · {facility.name}")
            for facility in facilities.order_by("code")
        ]

"""Forms for assessments: the answers form is built from the instrument, in the user's
language; the service does the checking and the scoring."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from whatworks.analytics.instruments import Instrument
from whatworks.concurrency import version_form_field

YES, NO = "1", "0"


class StartAssessmentForm(forms.Form):
    instrument = forms.ChoiceField(label=_("Instrument"), widget=forms.RadioSelect)

    def __init__(self, *args, choices: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["instrument"].choices = choices


class AnswersForm(forms.Form):
    """One field per item, named by the item id. Every field is optional here: a draft may
    be partial, and completion names the missing items through the service."""

    def __init__(self, *args, instrument: Instrument, language: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        for item in instrument.items:
            label = instrument.text(item, language)
            help_text = instrument.text(item.help, language) if item.help else ""
            options = [(str(i), instrument.text(o, language)) for i, o in enumerate(item.options)]
            if item.type == "single_choice":
                field = forms.TypedChoiceField(
                    choices=options, coerce=int, empty_value=None, widget=forms.RadioSelect
                )
            elif item.type == "multiple_choice":
                field = forms.TypedMultipleChoiceField(
                    choices=options, coerce=int, widget=forms.CheckboxSelectMultiple
                )
            elif item.type == "yes_no":
                field = forms.TypedChoiceField(
                    choices=[(YES, _("Yes")), (NO, _("No"))],
                    coerce=lambda value: value == YES,
                    empty_value=None,
                    widget=forms.RadioSelect,
                )
            elif item.type == "number":
                field = forms.FloatField()
            else:
                field = forms.CharField(max_length=500)
            field.required = False
            field.label = label
            field.help_text = help_text
            self.fields[item.id] = field
        self.fields["lock_version"] = version_form_field()  # docs/concurrency.md

    @staticmethod
    def initial_from(instrument: Instrument, answers: dict[str, Any]) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        for item in instrument.items:
            if item.id not in answers:
                continue
            value = answers[item.id]
            if item.type == "yes_no":
                initial[item.id] = YES if value else NO
            elif item.type == "single_choice":
                initial[item.id] = str(value)
            elif item.type == "multiple_choice":
                initial[item.id] = [str(v) for v in value]
            else:
                initial[item.id] = value
        return initial

    def answers(self) -> dict[str, Any]:
        """The answers given, as the engine reads them (unanswered items left out)."""
        answers: dict[str, Any] = {}
        for item in self.instrument.items:
            value = self.cleaned_data.get(item.id)
            if value is None or value == "" or value == []:
                continue
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            answers[item.id] = value
        return answers


class OverrideForm(forms.Form):
    band = forms.ChoiceField(label=_("Band to act on"))
    reason = forms.CharField(
        label=_("Reason for the override"), widget=forms.Textarea(attrs={"rows": 4})
    )
    approver = forms.TypedChoiceField(label=_("Approved by"), coerce=int)
    lock_version = version_form_field()

    def __init__(self, *args, bands: list[tuple[str, str]], approvers: list, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["band"].choices = [("", "—"), *bands]
        self.fields["approver"].choices = [("", "—")] + [
            (user.pk, user.get_full_name() or user.get_username()) for user in approvers
        ]

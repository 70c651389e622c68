from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class AcceptForm(forms.Form):
    person = forms.IntegerField(required=False, widget=forms.HiddenInput)


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is this record not this person?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

"""The audit viewer's filters."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from whatworks.records.forms import DateInput


class AuditFilterForm(forms.Form):
    username = forms.CharField(label=_("Staff member or system actor"), required=False)
    prison_number = forms.CharField(label=_("Prison number"), required=False)
    research_id = forms.CharField(label=_("Research ID"), required=False)
    action = forms.CharField(
        label=_("Action"),
        required=False,
        help_text=_("The start of an action code, e.g. “person.” or “health.read”."),
    )
    since = forms.DateField(label=_("From"), required=False, widget=DateInput)
    until = forms.DateField(label=_("To"), required=False, widget=DateInput)

from django import forms
from django.utils.translation import gettext_lazy as _


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("What the token is for, for example the nightly export."),
    )

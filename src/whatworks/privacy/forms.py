"""The subject access request form: which files, in which language."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

FORMATS = [
    ("zip", _("Both, in one ZIP file")),
    ("json", _("JSON (machine-readable)")),
    ("pdf", _("PDF (to read or print)")),
]


class SubjectAccessForm(forms.Form):
    format = forms.ChoiceField(label=_("Format"), choices=FORMATS, initial="zip")
    language = forms.ChoiceField(
        label=_("Language of the PDF"),
        choices=settings.LANGUAGES,
    )

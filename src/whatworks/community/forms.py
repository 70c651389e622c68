"""Forms for the community app. They shape the input; the services check it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from whatworks.community.models import (
    ContactMode,
    EmploymentStatus,
    FollowUpStatus,
    HousingStatus,
    JusticeContact,
    OutcomeCode,
    ProviderKind,
    ReferralStatus,
    SubstanceUse,
    TreatmentContinuity,
)
from whatworks.concurrency import version_form_field
from whatworks.records.choices import Pathway
from whatworks.records.forms import DateInput

BLANK = ("", "—")
ANY = ("", _("Any"))


class ProviderFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=[ANY, *ProviderKind.choices], required=False)
    pathway = forms.ChoiceField(label=_("Pathway"), choices=[ANY, *Pathway.choices], required=False)
    region = forms.CharField(label=_("Region"), required=False, max_length=100)
    active = forms.ChoiceField(
        label=_("Status"),
        choices=[("active", _("Active")), ("inactive", _("Inactive")), ("all", _("All"))],
        required=False,
    )


class ProviderForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=ProviderKind.choices)
    pathways = forms.MultipleChoiceField(
        label=_("Pathways served"),
        choices=Pathway.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    coverage_regions = forms.CharField(
        label=_("Regions covered"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("One region per line (or separated by commas), as facilities name them."),
    )
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=50, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    contact_person = forms.CharField(label=_("Contact person"), max_length=200, required=False)
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea, required=False)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class ProviderReferralForm(forms.Form):
    provider = forms.TypedChoiceField(label=_("Provider"), coerce=int, choices=())
    pathway = forms.ChoiceField(label=_("Pathway"), choices=Pathway.choices)
    referred_on = forms.DateField(label=_("Referred on"), widget=DateInput)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            (ReferralStatus.PROPOSED, ReferralStatus.PROPOSED.label),
            (ReferralStatus.SENT, ReferralStatus.SENT.label),
        ],
    )
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea, required=False)

    def __init__(self, *args, providers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [BLANK, *((p.pk, p.name) for p in providers)]


class ProviderReferralTransitionForm(forms.Form):
    to_status = forms.ChoiceField(label=_("New status"), choices=ReferralStatus.choices)
    effective_date = forms.DateField(label=_("Date"), widget=DateInput)
    note = forms.CharField(label=_("Note"), widget=forms.Textarea, required=False)
    outcome_code = forms.ChoiceField(
        label=_("Outcome"),
        choices=[BLANK, *OutcomeCode.choices],
        required=False,
        help_text=_("When the referral ends; required when it is completed."),
    )
    outcome = forms.CharField(label=_("Outcome notes"), widget=forms.Textarea, required=False)
    outcome_date = forms.DateField(
        label=_("Outcome date"),
        widget=DateInput,
        required=False,
        help_text=_("Default: the date above."),
    )
    lock_version = version_form_field()  # docs/concurrency.md

    def __init__(self, *args, next_statuses=(), **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(ReferralStatus.choices)
        self.fields["to_status"].choices = [(s, labels[s]) for s in next_statuses]


class FollowUpContactForm(forms.Form):
    status = forms.ChoiceField(
        label=_("What happened"),
        choices=[
            (FollowUpStatus.DONE, _("The contact took place")),
            (FollowUpStatus.MISSED, _("Missed")),
            (FollowUpStatus.CANCELLED, _("Cancelled")),
        ],
    )
    contact_date = forms.DateField(label=_("Contact date"), widget=DateInput, required=False)
    contact_mode = forms.ChoiceField(
        label=_("Contact mode"), choices=[BLANK, *ContactMode.choices], required=False
    )
    housing_status = forms.ChoiceField(
        label=_("Housing"), choices=[BLANK, *HousingStatus.choices], required=False
    )
    employment_status = forms.ChoiceField(
        label=_("Employment"), choices=[BLANK, *EmploymentStatus.choices], required=False
    )
    substance_use = forms.ChoiceField(
        label=_("Substance use"), choices=[BLANK, *SubstanceUse.choices], required=False
    )
    treatment_continuity = forms.ChoiceField(
        label=_("Treatment continuity"),
        choices=[BLANK, *TreatmentContinuity.choices],
        required=False,
    )
    justice_contact = forms.ChoiceField(
        label=_("Contact with justice since the last follow-up"),
        choices=[BLANK, *JusticeContact.choices],
        required=False,
    )
    notes = forms.CharField(
        label=_("Notes"),
        widget=forms.Textarea,
        required=False,
        help_text=_("Required when the contact is cancelled."),
    )

"""Forms for release preparation. They shape the input; the services check it."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from whatworks.accounts.models import Role, User
from whatworks.concurrency import version_form_field
from whatworks.records.access import PERSON_VIEWER_ROLES
from whatworks.records.choices import Pathway
from whatworks.records.forms import DateInput
from whatworks.reintegration.catalogue import support_needs
from whatworks.reintegration.models import (
    ARRANGEMENT_TYPES,
    ArrangementKind,
    ArrangementStatus,
    HandoverRecipient,
    PathwayStatus,
)

BLANK = ("", "—")


class PathwayForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=PathwayStatus.choices)
    needs = forms.MultipleChoiceField(
        label=_("Support needs"), widget=forms.CheckboxSelectMultiple, required=False
    )
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea, required=False)
    lock_version = version_form_field()  # 0: no record yet (docs/concurrency.md)

    def __init__(self, *args, pathway: str, current_needs: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        catalogue = support_needs()
        offered = catalogue.for_pathway(pathway)
        choices = [(need.code, need.label) for need in offered]
        offered_codes = {need.code for need in offered}
        # A retired need already recorded stays visible and can be unticked.
        for code in current_needs:
            if code not in offered_codes:
                choices.append((code, catalogue.label(pathway, code)))
        self.fields["needs"].choices = choices


def _owner_choices(person) -> list[tuple[int, str]]:
    """Active staff who can see the person (the rule of records.access, in one query)."""
    staff = (
        User.objects.filter(is_active=True, role__in=PERSON_VIEWER_ROLES)
        .filter(Q(role=Role.ADMINISTRATOR) | Q(facilities=person.current_facility_id))
        .distinct()
        .order_by("last_name", "first_name", "username")
    )
    return [(user.pk, user.get_full_name() or user.username) for user in staff]


class TaskForm(forms.Form):
    pathway = forms.ChoiceField(label=_("Pathway"), choices=Pathway.choices)
    description = forms.CharField(label=_("Task"), max_length=300)
    owner = forms.TypedChoiceField(label=_("Owner"), coerce=int)
    due_date = forms.DateField(label=_("Due date"), widget=DateInput)

    def __init__(self, *args, person, pathways: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pathway"].choices = [(p, Pathway(p).label) for p in pathways]
        self.fields["owner"].choices = [BLANK, *_owner_choices(person)]

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["owner"] = User.objects.filter(pk=data.get("owner")).first()
        return data


class TaskStatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("done", _("Done")), ("cancelled", _("Cancelled")), ("open", _("Reopen"))],
    )
    completed_on = forms.DateField(label=_("Done on"), widget=DateInput, required=False)


class ArrangementForm(forms.Form):
    detail_type = forms.CharField(label=_("Type"), max_length=40, required=False)
    status = forms.ChoiceField(label=_("Status"), choices=ArrangementStatus.choices)
    provider = forms.TypedChoiceField(
        label=_("Provider from the directory"), coerce=int, required=False, empty_value=None
    )
    provider_name = forms.CharField(
        label=_("Provider or organisation"),
        max_length=200,
        required=False,
        help_text=_("When the provider is not in the directory."),
    )
    description = forms.CharField(label=_("Details"), max_length=300, required=False)
    applied_on = forms.DateField(label=_("Applied on"), widget=DateInput, required=False)
    expected_on = forms.DateField(label=_("Expected on"), widget=DateInput, required=False)
    confirmed_on = forms.DateField(label=_("Confirmed on"), widget=DateInput, required=False)
    starts_on = forms.DateField(
        label=_("Starts or takes place on"), widget=DateInput, required=False
    )
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea, required=False)
    lock_version = version_form_field()

    def __init__(self, *args, kind: str, providers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.providers = {provider.pk: provider for provider in providers}
        self.fields["provider"].choices = [
            BLANK,
            *((provider.pk, provider.name) for provider in providers),
        ]
        if not providers:
            del self.fields["provider"]
        vocabulary = ARRANGEMENT_TYPES.get(kind)
        if vocabulary is not None:
            self.fields["detail_type"] = forms.ChoiceField(
                label=_("Type"), choices=[BLANK, *vocabulary.choices]
            )
        elif kind == ArrangementKind.BENEFIT:
            self.fields["detail_type"].label = _("Benefit")
        else:
            del self.fields["detail_type"]

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("lock_version", None)
        if "provider" in data:
            data["provider"] = self.providers.get(data["provider"])
        return data


class HandoverForm(forms.Form):
    recipient = forms.ChoiceField(label=_("Handed over to"), choices=HandoverRecipient.choices)
    recipient_name = forms.CharField(label=_("Received by"), max_length=200, required=False)
    language = forms.ChoiceField(label=_("Language of the summary"), choices=settings.LANGUAGES)
    handed_over_on = forms.DateField(label=_("Handed over on"), widget=DateInput)
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea, required=False)

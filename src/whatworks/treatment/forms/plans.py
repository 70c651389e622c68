"""Forms for a person's plan, referrals and faults. They only shape the input; the services
check it (and name what is wrong, field by field)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from whatworks.concurrency import version_form_field
from whatworks.records.forms import DateInput
from whatworks.treatment.labels import NEED_LABELS
from whatworks.treatment.models import (
    Agreement,
    EndReason,
    GoalStatus,
    ProgrammeType,
    ReferralStatus,
    StepOwner,
    StepStatus,
)

BLANK = ("", "—")


def _date(label, *, required: bool = False, help_text: str = "") -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DateInput, help_text=help_text)


def programme_choices(programmes) -> list[tuple[str, list[tuple[int, str]]]]:
    """Active programmes grouped by type, for a <select> with <optgroup>s."""
    grouped: dict[str, list[tuple[int, str]]] = {}
    for programme in programmes:
        grouped.setdefault(programme.programme_type, []).append((programme.pk, programme.name))
    return [
        (str(ProgrammeType(kind).label) if kind in ProgrammeType.values else kind, options)
        for kind, options in sorted(grouped.items())
    ]


class GoalForm(forms.Form):
    need = forms.ChoiceField(label=_("Need area"), required=False)
    description = forms.CharField(
        label=_("Goal"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    programme = forms.TypedChoiceField(
        label=_("Programme"), coerce=int, empty_value=None, required=False
    )
    planned_hours = forms.DecimalField(
        label=_("Planned hours"), required=False, min_value=0, max_digits=7, decimal_places=2
    )
    target_date = _date(_("Target date"))
    status = forms.ChoiceField(label=_("Status"), choices=GoalStatus.choices)
    lock_version = version_form_field()  # the plan's, as loaded (docs/concurrency.md)

    def __init__(self, *args, programmes, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.programmes = {programme.pk: programme for programme in programmes}
        self.fields["need"].choices = [BLANK, *((k, v) for k, v in NEED_LABELS.items())]
        self.fields["programme"].choices = [BLANK, *programme_choices(self.programmes.values())]

    def data_for_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("lock_version", None)
        data["programme"] = self.programmes.get(data["programme"])
        return data


class GoalStatusForm(forms.Form):
    """Progress on an approved plan: only the status changes."""

    status = forms.ChoiceField(label=_("Status"), choices=GoalStatus.choices)
    lock_version = version_form_field()

    def data_for_service(self) -> dict[str, Any]:
        return {"status": self.cleaned_data["status"]}


class StepForm(forms.Form):
    description = forms.CharField(
        label=_("Step"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    owner = forms.ChoiceField(label=_("Owner"), choices=[BLANK, *StepOwner.choices])
    owner_name = forms.CharField(label=_("Owner's name"), max_length=200, required=False)
    target_date = _date(_("Target date"))
    status = forms.ChoiceField(label=_("Status"), choices=StepStatus.choices)
    lock_version = version_form_field()

    def data_for_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("lock_version", None)
        return data


class StepStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=StepStatus.choices)
    lock_version = version_form_field()

    def data_for_service(self) -> dict[str, Any]:
        return {"status": self.cleaned_data["status"]}


class ApproveForm(forms.Form):
    agreement = forms.ChoiceField(
        label=_("Did the person agree to the plan?"),
        choices=Agreement.choices,
        widget=forms.RadioSelect,
    )
    agreement_notes = forms.CharField(
        label=_("Notes"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    lock_version = version_form_field()


class ReviewForm(forms.Form):
    notes = forms.CharField(
        label=_("Notes"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    reviewed_on = _date(_("Reviewed on"), help_text=_("Leave empty for today."))
    next_review_date = _date(
        _("Next review"), help_text=_("Leave empty to use the interval for the risk band.")
    )
    lock_version = version_form_field()


class ReferralForm(forms.Form):
    programme = forms.TypedChoiceField(label=_("Programme"), coerce=int)
    facility = forms.TypedChoiceField(
        label=_("Delivered at"),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("Ignored for programmes delivered in the community."),
    )
    override_reason = forms.CharField(
        label=_("Reason for referring against the plan or the programme's rules"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Required when the approved plan does not recommend this programme or the person "
            "does not meet its rules; you will be told why."
        ),
    )

    def __init__(self, *args, programmes, facilities, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.programmes = {programme.pk: programme for programme in programmes}
        self.facilities = {facility.pk: facility for facility in facilities}
        self.fields["programme"].choices = [BLANK, *programme_choices(self.programmes.values())]
        self.fields["facility"].choices = [BLANK] + [
            (facility.pk, f"{facility.code} · {facility.name}")
            for facility in self.facilities.values()
        ]


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(label=_("New status"), widget=forms.RadioSelect)
    effective_date = _date(_("Date"), help_text=_("Leave empty for today."))
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required for “not suitable”, “not eligible” and “suitable but not ready”."),
    )
    end_reason = forms.ChoiceField(
        label=_("Why it was not completed"),
        required=False,
        choices=[BLANK, *EndReason.choices],
        help_text=_("Only for “not completed”."),
    )
    group = forms.TypedChoiceField(
        label=_("Group"),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("Only for “allocated”."),
    )
    override_reason = forms.CharField(
        label=_("Reason for allocating against the programme's rules"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    lock_version = version_form_field()  # the referral's, as loaded

    def __init__(self, *args, statuses, groups, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.groups = {group.pk: group for group in groups}
        self.fields["to_status"].choices = [
            (status, ReferralStatus(status).label)
            for status in ReferralStatus.values
            if status in statuses
        ]
        self.fields["group"].choices = [BLANK] + [
            (
                group.pk,
                _("%(name)s (%(taken)s of %(capacity)s places taken)")
                % {"name": group.name, "taken": group.occupied, "capacity": group.capacity},
            )
            for group in self.groups.values()
        ]
        if ReferralStatus.ALLOCATED not in statuses:
            del self.fields["group"]
            del self.fields["override_reason"]
        if ReferralStatus.NOT_COMPLETED not in statuses:
            del self.fields["end_reason"]


class FaultForm(forms.Form):
    fault_date = _date(_("Date of the fault"), required=True)
    description = forms.CharField(
        label=_("Description"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    revoked_fraction = forms.CharField(
        label=_("Share of remitted time revoked"),
        max_length=8,
        help_text=_("As the judge decided, written as a fraction such as 1/3 or 1/6."),
    )
    decision_reference = forms.CharField(
        label=_("Decision reference"), max_length=100, required=False
    )

"""Forms for waitlists, groups, sessions and attendance. They shape the input; the services
in ``treatment.services`` decide, and their errors are shown next to the fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from whatworks.accounts.models import User
from whatworks.treatment.access import DELIVERY_ROLES
from whatworks.treatment.models import AttendanceStatus, ExcuseReason, Programme

DATE = forms.DateInput(attrs={"type": "date"})
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
WEEKDAYS = [
    ("0", _("Monday")),
    ("1", _("Tuesday")),
    ("2", _("Wednesday")),
    ("3", _("Thursday")),
    ("4", _("Friday")),
    ("5", _("Saturday")),
    ("6", _("Sunday")),
]
EXCUSE_CHOICES = [("", "—"), *ExcuseReason.choices]


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


class StaffMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


def facilitators_for(facilities):
    """Staff who may run groups at any of ``facilities`` (administrators everywhere)."""
    return (
        User.objects.filter(is_active=True, role__in=DELIVERY_ROLES)
        .filter(Q(facilities__in=facilities) | Q(role="administrator"))
        .distinct()
        .order_by("last_name", "username")
    )


class GroupChoiceField(forms.ModelChoiceField):
    """A group with its places: "Group name (3 of 12 places taken)"."""

    def label_from_instance(self, obj) -> str:
        return _("%(name)s (%(taken)s of %(capacity)s places taken)") % {
            "name": obj.name,
            "taken": getattr(obj, "occupied", 0),
            "capacity": obj.capacity,
        }


class AllocateForm(forms.Form):
    referral = forms.IntegerField(widget=forms.HiddenInput)
    group = GroupChoiceField(label=_("Group"), queryset=None)
    override_reason = forms.CharField(
        label=_("Reason, if the person is not eligible"), required=False, max_length=2000
    )

    def __init__(self, *args, groups, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups


class GroupForm(forms.Form):
    programme = forms.ModelChoiceField(label=_("Programme"), queryset=Programme.objects.none())
    facility = forms.ModelChoiceField(
        label=_("Facility"),
        required=False,
        queryset=None,
        help_text=_("Leave empty only for a group in the community."),
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    start_date = forms.DateField(label=_("Start date"), widget=DATE)
    end_date = forms.DateField(label=_("End date"), required=False, widget=DATE)
    capacity = forms.IntegerField(
        label=_("Capacity"),
        required=False,
        min_value=1,
        max_value=1000,
        help_text=_("Leave empty to use the programme's group capacity."),
    )
    facilitators = StaffMultipleChoiceField(
        label=_("Facilitators"),
        required=False,
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
    )
    schedule_note = forms.CharField(label=_("Schedule"), required=False, max_length=200)

    def __init__(self, *args, facilities, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = Programme.objects.filter(is_active=True)
        self.fields["facility"].queryset = facilities
        self.fields["facilitators"].queryset = facilitators_for(facilities)


class SessionForm(forms.Form):
    session_date = forms.DateField(label=_("Date"), widget=DATE)
    start_time = forms.TimeField(label=_("Start time"), widget=TIME)
    hours = forms.DecimalField(
        label=_("Hours"), min_value=0, max_value=24, max_digits=5, decimal_places=2
    )
    room = forms.CharField(label=_("Room"), required=False, max_length=100)
    facilitator = StaffChoiceField(label=_("Facilitator"), required=False, queryset=None)

    def __init__(self, *args, facilitators, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["facilitator"].queryset = facilitators


class ScheduleForm(forms.Form):
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Days of the week"),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    start_time = forms.TimeField(label=_("Start time"), widget=TIME)
    hours = forms.DecimalField(
        label=_("Hours"), min_value=0, max_value=24, max_digits=5, decimal_places=2
    )
    first_date = forms.DateField(label=_("First date"), widget=DATE)
    count = forms.IntegerField(label=_("Number of sessions"), min_value=1, max_value=400)
    room = forms.CharField(label=_("Room"), required=False, max_length=100)
    facilitator = StaffChoiceField(label=_("Facilitator"), required=False, queryset=None)

    def __init__(self, *args, facilitators, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["facilitator"].queryset = facilitators


def _status_field(required: bool) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Attendance"),
        choices=AttendanceStatus.choices,
        required=required,
        widget=forms.RadioSelect,
    )


def _excuse_field() -> forms.ChoiceField:
    return forms.ChoiceField(label=_("Reason for absence"), choices=EXCUSE_CHOICES, required=False)


def _hours_field() -> forms.DecimalField:
    return forms.DecimalField(
        label=pgettext_lazy("attendance", "Hours (if late)"),
        required=False,
        min_value=0,
        max_value=24,
        max_digits=5,
        decimal_places=2,
    )


class RegisterForm(forms.Form):
    """Three fields per expected person not yet marked: ``<referral id>_status``,
    ``_excuse_reason`` and ``_hours``. Rows left unmarked are simply not recorded."""

    FIELDS = ("status", "excuse_reason", "hours")

    def __init__(self, *args, people: dict[int, str], **kwargs) -> None:
        """``people`` maps each referral id to the person's name (for the error summary)."""
        super().__init__(*args, **kwargs)
        self.referral_ids = list(people)
        for referral_id, name in people.items():
            fields = {
                "status": _status_field(required=False),
                "excuse_reason": _excuse_field(),
                "hours": _hours_field(),
            }
            for field_name, field in fields.items():
                field.label = f"{name}: {field.label}"
                self.fields[f"{referral_id}_{field_name}"] = field

    def row(self, referral_id: int) -> dict[str, Any]:
        return {name: self[f"{referral_id}_{name}"] for name in self.FIELDS}

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.marks():
            raise forms.ValidationError(_("Mark the attendance of at least one person."))
        return cleaned

    def marks(self) -> dict[int, dict[str, Any]]:
        marks = {}
        for referral_id in self.referral_ids:
            status = self.cleaned_data.get(f"{referral_id}_status")
            if not status:
                continue
            hours = self.cleaned_data.get(f"{referral_id}_hours")
            marks[referral_id] = {
                "status": status,
                "excuse_reason": self.cleaned_data.get(f"{referral_id}_excuse_reason") or "",
                "hours": hours if status == AttendanceStatus.LATE else None,
            }
        return marks

    def field_for(self, key: str) -> str | None:
        """The form field for a service error key ``<referral id>.<field>``."""
        referral_id, _dot, field = key.partition(".")
        if not referral_id.isdigit() or int(referral_id) not in self.referral_ids:
            return None
        if field not in self.FIELDS:
            field = "status"
        return f"{referral_id}_{field}"


class CorrectionForm(forms.Form):
    status = _status_field(required=True)
    excuse_reason = _excuse_field()
    hours = _hours_field()
    reason = forms.CharField(
        label=_("Why is it being corrected?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

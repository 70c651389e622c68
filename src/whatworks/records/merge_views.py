"""The merge page: an administrator previews (a dry run) and then merges two person records.

GET shows the form; POST without ``confirm`` runs ``person_merge(..., dry_run=True)`` and
shows what would happen, with a button that posts the same values with ``confirm``; POST
with ``confirm`` merges and redirects to the kept person. See records/merge.py."""

from __future__ import annotations

from django import forms
from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from whatworks.records.access import persons_visible_to
from whatworks.records.merge import MergeResult, can_merge_persons, person_merge
from whatworks.records.models import Person
from whatworks.web.pages import add_service_errors, forbidden


class MergeForm(forms.Form):
    keep = forms.CharField(label=gettext_lazy("Prison number of the record to keep"), max_length=32)
    duplicate = forms.CharField(
        label=gettext_lazy("Prison number of the duplicate"),
        max_length=32,
        help_text=gettext_lazy("Everything of this record moves to the one kept."),
    )
    reason = forms.CharField(
        label=gettext_lazy("Why they are the same person"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("A document or ticket reference; it stays in the audit trail."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def _person(self, field: str) -> Person:
        number = self.cleaned_data[field].strip()
        person = persons_visible_to(self.user).filter(prison_number=number).first()
        if person is None:
            raise ValidationError(_("No person with this prison number."))
        return person

    def clean_keep(self) -> Person:
        return self._person("keep")

    def clean_duplicate(self) -> Person:
        return self._person("duplicate")


def _label(table: str) -> str:
    app_label, model_name = table.split(".")[:2]
    try:
        return str(apps.get_model(app_label, model_name)._meta.verbose_name_plural).capitalize()
    except LookupError:
        return table


def _field_label(name: str) -> str:
    return str(Person._meta.get_field(name).verbose_name).capitalize()


def _display(result: MergeResult) -> dict:
    """The result as rows the template prints, with translated names for tables and fields."""
    resolved = []
    for entry in result.resolved:
        for key, value in entry.items():
            if isinstance(value, list):
                what = _("status") if key == "status" else _("version")
                resolved.append(
                    {
                        "table": _label(entry["table"]),
                        "id": entry["id"],
                        "what": what,
                        "old": value[0],
                        "new": value[1],
                    }
                )
    return {
        "moved": sorted((_label(label), count) for label, count in result.moved.items()),
        "total": result.total_moved,
        "resolved": resolved,
        "filled": [(_field_label(name), value) for name, value in result.filled.items()],
        "differences": [
            (_field_label(name), mine, theirs)
            for name, (mine, theirs) in result.differences.items()
        ],
        "overlaps": [
            warning for warning in result.warnings if warning["warning"] == "overlapping_episodes"
        ],
    }


@login_required
@require_http_methods(["GET", "POST"])
def person_merge_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not can_merge_persons(user):
        return forbidden(request, _("Only administrators can merge person records."))
    form = MergeForm(request.POST or None, user=user)
    preview = None
    if request.method == "POST" and form.is_valid():
        keep, duplicate = form.cleaned_data["keep"], form.cleaned_data["duplicate"]
        confirmed = request.POST.get("confirm") == "1"
        try:
            result = person_merge(
                actor=user,
                keep=keep,
                duplicate=duplicate,
                reason=form.cleaned_data["reason"],
                dry_run=not confirmed,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if confirmed:
                messages.success(
                    request,
                    _("%(duplicate)s was merged into %(keep)s.")
                    % {"duplicate": duplicate.prison_number, "keep": keep.prison_number},
                )
                return redirect("person-detail", person_id=keep.pk)
            preview = {"keep": keep, "duplicate": duplicate, **_display(result)}
    return render(
        request,
        "records/person_merge.html",
        {"form": form, "preview": preview},
        status=400 if form.errors else 200,
    )

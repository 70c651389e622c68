"""Drug tests: a person's tests, the monthly selection lists and the positivity dashboard.

Persons come from ``records.access``; tests from ``drugtests.access``. A row the user may not
see gives the same 404 as a missing one; a role that may see but not act gets the 403 page.
Every write goes through a service; every read of results is audited by the selector.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from whatworks.drugtests import access, selectors, services
from whatworks.drugtests.forms import (
    DrugTestCorrectionForm,
    DrugTestForm,
    SelectionChoiceForm,
    UntestableForm,
)
from whatworks.drugtests.models import DrugTest, SelectionList
from whatworks.records.access import persons_visible_to
from whatworks.records.models import Facility, Person
from whatworks.web.pages import add_service_errors, forbidden, form_status, person_or_404, posted


@login_required
@require_GET
def person_tests(request: HttpRequest, person_id: int) -> HttpResponse:
    person = person_or_404(request.user, person_id)
    if not access.can_read_results(request.user):
        return forbidden(request, _("Your role does not see drug-test results."))
    tests = selectors.person_tests(viewer=request.user, person=person)
    context = {
        "person": person,
        "tests": tests,
        "can_record": access.can_record_tests(request.user),
        "prompt": services.positive_prompt(person),
    }
    return render(request, "drugtests/person_tests.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def test_new(request: HttpRequest, person_id: int) -> HttpResponse:
    person = person_or_404(request.user, person_id)
    if not access.can_record_tests(request.user):
        return forbidden(request, _("Only health staff record drug tests."))
    form = DrugTestForm(posted(request), initial={"test_date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.drug_test_record(
                actor=request.user,
                person=person,
                collected_by=request.user,
                **form.service_data(),
            )
        except ValidationError as error:
            add_service_errors(form, error, form.field_map())
        else:
            messages.success(request, _("The test is recorded."))
            return redirect("drugtest-person", person.pk)
    context = {"person": person, "form": form, "title": _("Record a drug test")}
    return render(request, "drugtests/test_form.html", context, status=form_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def test_correct(request: HttpRequest, test_id: int) -> HttpResponse:
    try:
        test = access.access_test_for_correction(request.user, test_id)
    except DrugTest.DoesNotExist as error:
        raise Http404 from error
    initial = {
        "test_date": test.test_date,
        "reason": test.reason,
        "sample": test.sample,
        "seal_number": test.seal_number,
        "lab_reference": test.lab_reference,
        **{f"result_{key}": value for key, value in test.results.items()},
        **{f"confirm_{key}": value for key, value in test.confirmatory_results.items()},
    }
    form = DrugTestCorrectionForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.drug_test_correct(
                actor=request.user,
                test=test,
                correction_reason=form.cleaned_data["correction_reason"],
                collected_by=test.collected_by,
                **form.service_data(),
            )
        except ValidationError as error:
            add_service_errors(form, error, form.field_map())
        else:
            messages.success(request, _("The test is corrected; the first record is kept."))
            return redirect("drugtest-person", test.person_id)
    context = {"person": test.person, "form": form, "title": _("Correct a drug test")}
    return render(request, "drugtests/test_form.html", context, status=form_status(form))


# --- selection lists -------------------------------------------------------------------------


def _facility_or_404(user, facility_id: int) -> Facility:
    try:
        return access.facilities_for_selection(user).get(pk=facility_id)
    except Facility.DoesNotExist as error:
        raise Http404 from error


@login_required
@require_GET
def selection_index(request: HttpRequest) -> HttpResponse:
    if not access.can_manage_selection(request.user):
        return forbidden(request, _("Your role does not manage drug-test selections."))
    facilities = access.facilities_for_selection(request.user)
    form = SelectionChoiceForm(request.GET or None, facilities=facilities)
    if request.GET and form.is_valid():
        return redirect(
            "drugtest-selection", form.cleaned_data["facility"].pk, form.cleaned_data["month"]
        )
    lists = access.selection_lists_visible_to(request.user).select_related("facility")[:24]
    return render(
        request,
        "drugtests/selection_index.html",
        {"form": form, "lists": lists},
        status=form_status(form),
    )


def _rows(user, keys, selection: SelectionList):
    people = {p.research_id: p for p in persons_visible_to(user).filter(research_id__in=list(keys))}
    return [
        {
            "key": key,
            "person": people.get(key),
            "untestable": selection.untestable.get(key, ""),
        }
        for key in keys
    ]


@login_required
@require_GET
def selection_detail(request: HttpRequest, facility_id: int, month: str) -> HttpResponse:
    if not access.can_manage_selection(request.user):
        return forbidden(request, _("Your role does not manage drug-test selections."))
    facility = _facility_or_404(request.user, facility_id)
    selection = (
        SelectionList.objects.filter(facility=facility, month=month)
        .select_related("facility")
        .first()
    )
    context = {"facility": facility, "month": month, "selection": selection}
    if selection is not None:
        context.update(
            main=_rows(request.user, selection.current_main, selection),
            reserve=_rows(request.user, selection.reserve, selection),
            untestable_form=UntestableForm(),
        )
    return render(request, "drugtests/selection_detail.html", context)


@login_required
@require_POST
def selection_draw(request: HttpRequest, facility_id: int, month: str) -> HttpResponse:
    if not access.can_manage_selection(request.user):
        return forbidden(request, _("Your role does not manage drug-test selections."))
    facility = _facility_or_404(request.user, facility_id)
    try:
        services.selection_list_draw(actor=request.user, facility=facility, month=month)
    except ValidationError as error:
        for field_messages in error.message_dict.values():
            for message in field_messages:
                messages.error(request, message)
    return redirect("drugtest-selection", facility.pk, month)


@login_required
@require_POST
def selection_untestable(request: HttpRequest, facility_id: int, month: str) -> HttpResponse:
    if not access.can_manage_selection(request.user):
        return forbidden(request, _("Your role does not manage drug-test selections."))
    facility = _facility_or_404(request.user, facility_id)
    selection = SelectionList.objects.filter(facility=facility, month=month).first()
    if selection is None:
        raise Http404
    form = UntestableForm(request.POST)
    if form.is_valid():
        person = Person.objects.filter(research_id=form.cleaned_data["research_id"]).first()
        try:
            if person is None:
                raise ValidationError({"person": [_("Unknown person.")]})
            services.selection_list_mark_untestable(
                actor=request.user,
                selection=selection,
                person=person,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            for field_messages in error.message_dict.values():
                for message in field_messages:
                    messages.error(request, message)
        else:
            messages.success(request, _("Recorded; the next person on the reserve list is added."))
    else:
        messages.error(request, _("Give the reason this person cannot be tested."))
    return redirect("drugtest-selection", facility.pk, month)


# --- dashboard ----------------------------------------------------------------------------


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    if not access.can_view_dashboard(request.user):
        return forbidden(request, _("Your role does not see the drug-test dashboard."))
    since = timezone.localdate().replace(day=1) - datetime.timedelta(days=365)
    rows = selectors.positivity(viewer=request.user, since=since)
    return render(request, "drugtests/dashboard.html", {"rows": rows, "since": since})

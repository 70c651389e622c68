"""Person pages: search, intake, the person record, and the custody and outcome forms.

Every person is fetched through `whatworks.records.access`; a person the user may not see
gives the same 404 as one that does not exist. Every write goes through a service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from whatworks.audit.labels import action_label, field_label
from whatworks.audit.selectors import audit_events_for_person
from whatworks.privacy.services import can_request_subject_access
from whatworks.records import services
from whatworks.records.access import (
    access_person_by_id,
    access_person_for_edit,
    can_edit_records,
    can_view_change_history,
    can_view_outcomes,
    can_view_persons,
    facilities_in_scope,
    persons_visible_to,
)
from whatworks.records.choices import SupportNeed
from whatworks.records.forms import (
    AdmissionForm,
    IntakeForm,
    OutcomeEventForm,
    PersonForm,
    PersonSearchForm,
    ReleaseForm,
    TransferForm,
    add_service_errors,
)
from whatworks.records.merge import can_merge_persons
from whatworks.records.models import CustodyEpisode, Person
from whatworks.records.selectors import custody_episodes_for, outcome_events_for
from whatworks.records.selectors import person_list as person_list_selector
from whatworks.web.pages import forbidden

PERSONS_PER_PAGE = 25


def _visible_person(user, person_id: int) -> Person:
    try:
        return access_person_by_id(user, person_id)
    except Person.DoesNotExist as error:
        raise Http404 from error


def _editable_person(user, person_id: int) -> Person:
    try:
        return access_person_for_edit(user, person_id)
    except Person.DoesNotExist as error:
        raise Http404 from error


def _is_htmx_fragment_request(request: HttpRequest) -> bool:
    """An htmx swap wants the results only; a history restore wants the whole page."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


@login_required
@require_GET
def person_list(request: HttpRequest) -> HttpResponse:
    if not can_view_persons(request.user):
        return forbidden(
            request,
            _(
                "Your role gives access to aggregate figures only, not to records of "
                "individual people. The dashboard shows the figures for your facilities."
            ),
        )
    form = PersonSearchForm(request.GET or None, facilities=facilities_in_scope(request.user))
    filters: dict[str, Any] = {"query": "", "facility_code": "", "in_custody": None}
    if form.is_bound:
        form.is_valid()  # partial filters still apply; errors are shown beside the fields
        cleaned = form.cleaned_data
        filters["query"] = cleaned.get("q") or ""
        filters["facility_code"] = cleaned.get("facility") or ""
        filters["in_custody"] = True if cleaned.get("in_custody") else None
    persons = person_list_selector(viewer=request.user, **filters)
    page = Paginator(persons, PERSONS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "can_admit": can_edit_records(request.user),
        "can_merge": can_merge_persons(request.user),
        "searched": any(filters.values()),
    }
    template = (
        "records/_person_results.html"
        if _is_htmx_fragment_request(request)
        else "records/person_list.html"
    )
    response = render(request, template, context)
    response.headers["Vary"] = "HX-Request"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def person_admit(request: HttpRequest) -> HttpResponse:
    if not can_edit_records(request.user):
        return forbidden(request, _("Your role cannot register people or admissions."))
    form = IntakeForm(request.POST or None, facilities=facilities_in_scope(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            episode = services.person_admit(
                actor=request.user,
                person_data=form.person_data(),
                facility=form.cleaned_data["facility"],
                admission_data=form.admission_data(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionError:
            return forbidden(request, _("Your role cannot register people or admissions."))
        else:
            messages.success(
                request,
                _("%(name)s has been admitted.") % {"name": episode.person.full_name},
            )
            return redirect("person-detail", person_id=episode.person_id)
    return render(
        request,
        "records/person_admit.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def person_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    try:
        person = access_person_by_id(request.user, person_id)
    except Person.DoesNotExist as error:
        # A record merged into another (records/merge.py) sends its old address on to the
        # kept person, if the viewer may see them; otherwise it is missing like any other.
        keep_id = Person.objects.filter(pk=person_id).values_list("merged_into", flat=True).first()
        if keep_id and persons_visible_to(request.user).filter(pk=keep_id).exists():
            return redirect("person-detail", person_id=keep_id)
        raise Http404 from error
    show_outcomes = can_view_outcomes(request.user)
    show_history = can_view_change_history(request.user)
    episodes = list(custody_episodes_for(person=person))
    context = {
        "person": person,
        "episodes": episodes,
        "support_need_labels": _support_need_labels(person),
        "show_outcomes": show_outcomes,
        "outcome_events": list(outcome_events_for(viewer=request.user, person=person))
        if show_outcomes
        else [],
        "show_history": show_history,
        "audit_events": _change_history(person) if show_history else [],
        "can_edit": can_edit_records(request.user),
        "can_request_subject_access": can_request_subject_access(request.user),
        "has_release": any(episode.release_date for episode in episodes),
        "in_custody": any(episode.is_open for episode in episodes),
    }
    return render(request, "records/person_detail.html", context)


def _change_history(person: Person, limit: int = 200) -> list[dict[str, Any]]:
    """Audit events with their changed fields, for the administrators' change history."""
    history = []
    for event in audit_events_for_person(person=person)[:limit]:
        before, after = event.before or {}, event.after or {}
        changes = [
            {
                "field": field_label(event.object_type, field),
                "has_before": field in before,
                "before": before.get(field),
                "after": after.get(field),
            }
            for field in sorted(set(before) | set(after))
        ]
        history.append({"event": event, "action": action_label(event.action), "changes": changes})
    return history


def _support_need_labels(person: Person) -> list[str]:
    labels = dict(SupportNeed.choices)
    return [str(labels.get(code, code)) for code in person.support_needs or []]


def _form_page(
    request: HttpRequest,
    *,
    person: Person,
    form,
    title: str,
    submit_label: str,
    save: Callable[[], Any],
    success_message: str,
    episode: CustodyEpisode | None = None,
) -> HttpResponse:
    """Validate a bound form, call the service, and map its errors onto the form."""
    if request.method == "POST" and form.is_valid():
        try:
            save()
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionError:
            return forbidden(request, _("Your role cannot change this record."))
        else:
            messages.success(request, success_message)
            return redirect("person-detail", person_id=person.pk)
    context = {
        "person": person,
        "episode": episode,
        "form": form,
        "title": title,
        "submit_label": submit_label,
    }
    return render(request, "records/form_page.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def person_edit(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _editable_person(request.user, person_id)
    form = PersonForm(request.POST or None, initial=PersonForm.initial_for(person))
    return _form_page(
        request,
        person=person,
        form=form,
        title=_("Edit identity of %(name)s") % {"name": person.full_name},
        submit_label=_("Save changes"),
        save=lambda: services.person_update(
            actor=request.user, person=person, data=form.person_data()
        ),
        success_message=_("The changes have been saved."),
    )


def _episode_of(person: Person, episode_id: int) -> CustodyEpisode:
    return get_object_or_404(
        CustodyEpisode.objects.select_related("facility"), pk=episode_id, person=person
    )


@login_required
@require_http_methods(["GET", "POST"])
def episode_new(request: HttpRequest, person_id: int) -> HttpResponse:
    """Readmission: a new custody episode for a person already registered."""
    person = _editable_person(request.user, person_id)
    form = AdmissionForm(request.POST or None, facilities=facilities_in_scope(request.user))
    return _form_page(
        request,
        person=person,
        form=form,
        title=_("Readmit %(name)s") % {"name": person.full_name},
        submit_label=_("Record admission"),
        save=lambda: services.custody_admit(
            actor=request.user,
            person=person,
            facility=form.cleaned_data["facility"],
            admission_data=form.admission_data(),
        ),
        success_message=_("The admission has been recorded."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def episode_transfer(request: HttpRequest, person_id: int, episode_id: int) -> HttpResponse:
    person = _editable_person(request.user, person_id)
    episode = _episode_of(person, episode_id)
    form = TransferForm(request.POST or None, facilities=facilities_in_scope(request.user))
    return _form_page(
        request,
        person=person,
        episode=episode,
        form=form,
        title=_("Transfer %(name)s") % {"name": person.full_name},
        submit_label=_("Record transfer"),
        save=lambda: services.custody_transfer(
            actor=request.user,
            episode=episode,
            to_facility=form.cleaned_data["to_facility"],
            movement_date=form.cleaned_data["movement_date"],
            reason=form.cleaned_data["reason"],
        ),
        success_message=_("The transfer has been recorded."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def episode_release(request: HttpRequest, person_id: int, episode_id: int) -> HttpResponse:
    person = _editable_person(request.user, person_id)
    episode = _episode_of(person, episode_id)
    form = ReleaseForm(request.POST or None)
    return _form_page(
        request,
        person=person,
        episode=episode,
        form=form,
        title=_("Release %(name)s") % {"name": person.full_name},
        submit_label=_("Record release"),
        save=lambda: services.custody_release(
            actor=request.user,
            episode=episode,
            release_date=form.cleaned_data["release_date"],
            release_type=form.cleaned_data["release_type"],
        ),
        success_message=_("The release has been recorded."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def outcome_event_new(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _editable_person(request.user, person_id)
    if not can_view_outcomes(request.user):
        raise PermissionDenied
    form = OutcomeEventForm(request.POST or None)
    return _form_page(
        request,
        person=person,
        form=form,
        title=_("Record an outcome event for %(name)s") % {"name": person.full_name},
        submit_label=_("Record event"),
        save=lambda: services.outcome_event_record(
            actor=request.user, person=person, data=dict(form.cleaned_data)
        ),
        success_message=_("The outcome event has been recorded."),
    )

"""Small helpers every app's views share: the 403 page, a visible person or 404, and
service errors placed next to the form's fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from whatworks.records.access import access_person_by_id
from whatworks.records.models import Person


def posted(request: HttpRequest):
    """The POST data to bind a form to, or None on GET (an unbound form)."""
    return request.POST if request.method == "POST" else None


def form_status(form) -> int:
    """400 when a form is shown again with errors, so clients and tests can tell."""
    return 400 if form is not None and form.errors else 200


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "whatworks/forbidden.html", {"message": message}, status=403)


def person_or_404(user, person_id: int) -> Person:
    """A person the user may see; out of scope is the same 404 as missing."""
    try:
        return access_person_by_id(user, person_id)
    except Person.DoesNotExist as error:
        raise Http404 from error


def add_service_errors(form, error: ValidationError, field_map: dict[str, str] | None = None):
    """Attach a service's field -> messages to the form; unknown fields go to the top."""
    for field, field_messages in error.message_dict.items():
        field = (field_map or {}).get(field, field)
        for message in field_messages:
            form.add_error(field if field in form.fields else None, message)


def form_to_service(
    request: HttpRequest,
    form,
    call: Callable[[dict[str, Any]], Any],
    *,
    success: str,
    field_map: dict[str, str] | None = None,
) -> bool:
    """On a valid POST, call the service with the form's cleaned data. A ``ValidationError``
    lands on the form's fields; success adds ``success`` as a message. True when saved, so
    the view redirects; otherwise it renders the form again."""
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        call(form.cleaned_data)
    except ValidationError as error:
        add_service_errors(form, error, field_map)
        return False
    messages.success(request, success)
    return True

"""The subject access page: administrators choose the format and download the export.

A non-administrator gets the 403 page for any person id (nothing tells them whether the
person exists); an administrator asking for a missing person gets a 404. The download is a
POST: producing it is an audited act, not a plain read.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from whatworks.privacy.forms import SubjectAccessForm
from whatworks.privacy.services import can_request_subject_access, subject_access_export
from whatworks.web.pages import forbidden, form_status, person_or_404, posted

CONTENT_TYPES = {"zip": "application/zip", "json": "application/json", "pdf": "application/pdf"}


@login_required
@require_http_methods(["GET", "POST"])
def subject_access(request: HttpRequest, person_id: int) -> HttpResponse:
    if not can_request_subject_access(request.user):
        return forbidden(request, _("Only administrators answer subject access requests."))
    person = person_or_404(request.user, person_id)
    form = SubjectAccessForm(
        posted(request), initial={"language": translation.get_language() or "en"}
    )
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data["format"]
        result = subject_access_export(
            actor=request.user, person=person, language=form.cleaned_data["language"]
        )
        content = {
            "zip": result.zip_bytes,
            "json": lambda: result.json_bytes,
            "pdf": lambda: result.pdf_bytes,
        }[chosen]()
        response = HttpResponse(content, content_type=CONTENT_TYPES[chosen])
        response["Content-Disposition"] = f'attachment; filename="{result.stem}.{chosen}"'
        response["Cache-Control"] = "no-store"
        return response
    context = {"person": person, "form": form}
    return render(request, "privacy/subject_access.html", context, status=form_status(form))

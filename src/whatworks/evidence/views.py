"""The evidence dashboard: recidivism by definition, release cohort and breakdown, and its
exports.

Access: ``can_view_evidence`` (administrators, analysts, facility managers); the releases
counted are those of ``facilities_in_scope`` (the whole service for analysts and
administrators, their own facilities for facility managers). Other roles get a 403 page that
says why. A bad query gives the page again with the fields' messages and status 400.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from whatworks.analytics.recidivism import RecidivismInputError
from whatworks.evidence import exports
from whatworks.evidence.exports import km_chart
from whatworks.evidence.forms import EvidenceForm
from whatworks.evidence.selectors import EvidenceReport, evidence_report
from whatworks.records.access import can_view_evidence


def _forbidden(request: HttpRequest) -> HttpResponse:
    message = _(
        "The evidence dashboard is for analysts, administrators and facility managers. "
        "Your role does not give you access to it."
    )
    return render(request, "whatworks/forbidden.html", {"message": message}, status=403)


def _report_or_form(request: HttpRequest) -> tuple[EvidenceForm, EvidenceReport | None, str]:
    """The form, and the report when the query is valid; the third item is an engine error."""
    form = EvidenceForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return form, None, ""
    try:
        report = evidence_report(
            viewer=request.user, today=timezone.localdate(), query=form.query()
        )
    except RecidivismInputError as error:
        return form, None, str(error)
    return form, report, ""


@login_required
@require_GET
def evidence(request: HttpRequest) -> HttpResponse:
    if not can_view_evidence(request.user):
        return _forbidden(request)
    form, report, engine_error = _report_or_form(request)
    context = {"form": form, "report": report, "engine_error": engine_error}
    if report is not None:
        context.update(exports.report_tables(report))
        windows = [window["years"] for window in report.result["windows"]]
        context["chart"] = km_chart(
            report.result.get("km"), horizon_years=max(windows, default=1), windows=windows
        )
        context["query_string"] = request.GET.urlencode()
    status = 400 if form.errors else 200
    return render(request, "evidence/evidence.html", context, status=status)


@login_required
@require_GET
def evidence_export(request: HttpRequest, format: str) -> HttpResponse:
    if format not in exports.FORMATS:
        raise Http404
    if not can_view_evidence(request.user):
        return _forbidden(request)
    form, report, engine_error = _report_or_form(request)
    if report is None:
        context = {"form": form, "report": None, "engine_error": engine_error}
        return render(request, "evidence/evidence.html", context, status=400)
    content, content_type = exports.FORMATS[format](report)
    response = HttpResponse(content, content_type=content_type)
    filename = exports.filename(report, format)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response

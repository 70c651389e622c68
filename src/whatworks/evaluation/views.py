"""Evaluation pages: the list of runs, a new run, a run's progress and report, downloads.

Access (``evaluation.access``): analysts and administrators run and read; facility managers
read; everyone else gets the 403 page. An unknown run and a forbidden one are the same 404.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from whatworks.evaluation import access, selectors, services
from whatworks.evaluation.forms import EvaluationForm
from whatworks.evaluation.models import EvaluationRun, RunStatus
from whatworks.evaluation.text import cohort_text
from whatworks.treatment.models import Programme
from whatworks.web.pages import add_service_errors, forbidden

DOWNLOAD_FORMATS = ("json", "html", "pdf")


def _cannot_read(request: HttpRequest) -> HttpResponse:
    return forbidden(
        request,
        _(
            "Programme evaluations are for analysts, administrators and facility managers. "
            "Your role does not give you access to them."
        ),
    )


def _run_or_404(user, run_id: int) -> EvaluationRun:
    try:
        return access.access_run_by_id(user, run_id)
    except EvaluationRun.DoesNotExist as error:
        raise Http404 from error


@login_required
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    if not access.can_view_evaluations(request.user):
        return _cannot_read(request)
    runs = [
        {"run": run, "summary": selectors.parameters_summary(run)}
        for run in selectors.run_list(viewer=request.user)[:200]
    ]
    context = {"runs": runs, "can_run": access.can_run_evaluations(request.user)}
    return render(request, "evaluation/run_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def run_new(request: HttpRequest) -> HttpResponse:
    if not access.can_run_evaluations(request.user):
        return forbidden(request, _("Only analysts and administrators can run evaluations."))
    initial = {}
    programme_id = request.GET.get("programme", "")
    if programme_id.isdigit() and Programme.objects.filter(pk=programme_id).exists():
        initial["programme"] = int(programme_id)
    form = EvaluationForm(request.POST or None, user=request.user, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                run = services.evaluation_run_create(
                    actor=request.user,
                    programme=form.cleaned_data["programme"],
                    parameters=form.parameters(),
                    language=request.LANGUAGE_CODE,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("The evaluation is queued."))
                return redirect("evaluation-detail", run_id=run.pk)
        status = 400
    return render(request, "evaluation/run_new.html", {"form": form}, status=status)


@login_required
@require_GET
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    if not access.can_view_evaluations(request.user):
        return _cannot_read(request)
    run = _run_or_404(request.user, run_id)
    same = selectors.runs_with_same_parameters(run=run, viewer=request.user)
    result = run.result or {}
    context = {
        "run": run,
        "summary": selectors.parameters_summary(run),
        "cohort_text": cohort_text(run.cohort) if run.cohort else "",
        "result": result,
        "warnings": result.get("warnings", []),
        "same_parameters": [
            {"run": other, "same_input": other.input_sha256 == run.input_sha256} for other in same
        ],
        "can_run": access.can_run_evaluations(request.user),
        "refresh": run.is_active,
        "has_pdf": bool(run.report_pdf),
        "parameters_json": json.dumps(run.parameters, indent=2, sort_keys=True),
    }
    return render(request, "evaluation/run_detail.html", context)


@login_required
@require_POST
def run_repeat(request: HttpRequest, run_id: int) -> HttpResponse:
    if not access.can_run_evaluations(request.user):
        return forbidden(request, _("Only analysts and administrators can run evaluations."))
    run = _run_or_404(request.user, run_id)
    again = services.evaluation_run_repeat(actor=request.user, run=run)
    messages.success(request, _("The evaluation is queued again with the same parameters."))
    return redirect("evaluation-detail", run_id=again.pk)


def run_export(run: EvaluationRun) -> dict:
    """The JSON download: the estimator's result with what is needed to reproduce it."""
    return {
        "run": run.pk,
        "programme": {"code": run.programme.code, "name": run.programme.name},
        "parameters": run.parameters,
        "followup_end_date": run.followup_end_date.isoformat(),
        "cohort": run.cohort,
        "code_version": run.code_version,
        "input_sha256": run.input_sha256,
        "rows": run.rows,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "result": run.result,
    }


@login_required
@require_GET
def run_download(request: HttpRequest, run_id: int, format: str) -> HttpResponse:
    if format not in DOWNLOAD_FORMATS:
        raise Http404
    if not access.can_view_evaluations(request.user):
        return _cannot_read(request)
    run = _run_or_404(request.user, run_id)
    if run.status != RunStatus.SUCCEEDED:
        raise Http404
    if format == "json":
        content = json.dumps(run_export(run), indent=2, ensure_ascii=False)
        content_type = "application/json"
    elif format == "html":
        content, content_type = run.report_document, "text/html; charset=utf-8"
    else:
        if not run.report_pdf:
            raise Http404
        content, content_type = bytes(run.report_pdf), "application/pdf"
    response = HttpResponse(content, content_type=content_type)
    filename = f"evaluation-{run.programme.code}-{run.pk}.{format}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def report_css(request: HttpRequest) -> HttpResponse:
    """The report fragment's stylesheet (a file, so the strict CSP allows it)."""
    from whatworks.analytics.evaluation.report import CSS

    response = HttpResponse(CSS, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "max-age=3600"
    return response

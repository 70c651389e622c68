"""Risk-instrument pages: the runs, the validate and fit forms, a run's findings with its
model card, and the publication workflow. Access -> form -> service -> render."""

from __future__ import annotations

import yaml
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from whatworks.riskmodels import access, services
from whatworks.riskmodels.forms import DecisionForm, FitForm, ValidateForm
from whatworks.riskmodels.models import PublicationStatus, RiskModelRun, RunKind
from whatworks.web.pages import forbidden, form_status, form_to_service, posted


def _run_or_404(request: HttpRequest, run_id: int) -> RiskModelRun:
    try:
        return access.runs_visible_to(request.user).get(pk=run_id)
    except RiskModelRun.DoesNotExist as error:
        raise Http404 from error


@login_required
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    if not access.can_use_riskmodels(request.user):
        return forbidden(request, _("Your role does not validate or fit instruments."))
    runs = access.runs_visible_to(request.user).select_related("created_by")[:100]
    context = {
        "runs": runs,
        "awaiting": [run for run in runs if run.publication == PublicationStatus.REQUESTED],
        "can_approve": access.can_approve_publication(request.user),
    }
    return render(request, "riskmodels/run_list.html", context)


def _new_run(request: HttpRequest, kind: str, form_class, title: str) -> HttpResponse:
    if not access.can_use_riskmodels(request.user):
        return forbidden(request, _("Your role does not validate or fit instruments."))
    form = form_class(posted(request), user=request.user)
    created: list[RiskModelRun] = []

    def save(_data):
        created.append(
            services.riskmodel_run_create(
                actor=request.user, kind=kind, parameters=form.parameters()
            )
        )

    success = _("The run is queued; this page shows its findings when it finishes.")
    if form_to_service(request, form, save, success=success):
        return redirect("riskmodel-run-detail", created[0].pk)
    context = {"form": form, "title": title}
    return render(request, "riskmodels/run_new.html", context, status=form_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def validate_new(request: HttpRequest) -> HttpResponse:
    return _new_run(request, RunKind.VALIDATE, ValidateForm, _("Validate an instrument"))


@login_required
@require_http_methods(["GET", "POST"])
def fit_new(request: HttpRequest) -> HttpResponse:
    return _new_run(request, RunKind.FIT, FitForm, _("Fit a point score"))


@login_required
@require_GET
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    if not access.can_use_riskmodels(request.user):
        return forbidden(request, _("Your role does not validate or fit instruments."))
    return _detail_page(request, _run_or_404(request, run_id), DecisionForm())


def _detail_page(request: HttpRequest, run: RiskModelRun, decision_form) -> HttpResponse:
    context = {
        "run": run,
        "result": run.result or {},
        "can_approve": access.can_approve_publication(request.user),
        "decision_form": decision_form,
    }
    return render(request, "riskmodels/run_detail.html", context, status=form_status(decision_form))


@login_required
@require_GET
def model_card(request: HttpRequest, run_id: int) -> HttpResponse:
    if not access.can_use_riskmodels(request.user):
        return forbidden(request, _("Your role does not validate or fit instruments."))
    run = _run_or_404(request, run_id)
    if not run.model_card:
        raise Http404
    response = HttpResponse(run.model_card, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="model-card-{run.pk}.html"'
    return response


@login_required
@require_GET
def instrument_yaml(request: HttpRequest, run_id: int) -> HttpResponse:
    if not access.can_use_riskmodels(request.user):
        return forbidden(request, _("Your role does not validate or fit instruments."))
    run = _run_or_404(request, run_id)
    if not run.instrument_definition:
        raise Http404
    text = yaml.safe_dump(run.instrument_definition, allow_unicode=True, sort_keys=False)
    response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="instrument-{run.pk}.yaml"'
    return response


@login_required
@require_POST
def publication_request(request: HttpRequest, run_id: int) -> HttpResponse:
    if not access.can_use_riskmodels(request.user):
        return forbidden(request, _("Your role does not validate or fit instruments."))
    run = _run_or_404(request, run_id)
    try:
        services.publication_request(actor=request.user, run=run)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Publication is requested; an administrator decides."))
    return redirect("riskmodel-run-detail", run.pk)


@login_required
@require_POST
def publication_decide(request: HttpRequest, run_id: int) -> HttpResponse:
    if not access.can_approve_publication(request.user):
        return forbidden(
            request, _("Only administrators approve the publication of an instrument.")
        )
    run = _run_or_404(request, run_id)
    form = DecisionForm(request.POST)

    def save(data):
        services.publication_decide(
            actor=request.user, run=run, approve=data["decision"] == "approve", note=data["note"]
        )

    if form_to_service(request, form, save, success=_("The decision is recorded.")):
        return redirect("riskmodel-run-detail", run.pk)
    return _detail_page(request, run, form)

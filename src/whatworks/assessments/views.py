"""Assessment pages: start, fill in, result, override, a person's history, the
reassessment-due list and the override-rate dashboard.

Persons come from ``records.access`` and assessments from ``assessments.access``; a row the
user may not see gives the same 404 as a missing one. Every write goes through a service.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from whatworks.accounts.models import Role, User
from whatworks.analytics.instruments import list_instruments
from whatworks.assessments import selectors, services
from whatworks.assessments.access import (
    RNR_SCREENER,
    access_assessment_by_id,
    access_assessment_for_edit,
    can_assess,
    can_view_answers,
    can_view_due_list,
    can_view_override_rates,
)
from whatworks.assessments.charts import history_chart, needs_chart
from whatworks.assessments.forms import AnswersForm, OverrideForm, StartAssessmentForm
from whatworks.assessments.models import Assessment, InstrumentVersion
from whatworks.concurrency import marking_stale, page_status, stale_message
from whatworks.records.access import persons_visible_to
from whatworks.web.pages import add_service_errors, forbidden, person_or_404


def _assessment_or_404(user, assessment_id: int, *, for_edit: bool = False) -> Assessment:
    try:
        if for_edit:
            return access_assessment_for_edit(user, assessment_id)
        return access_assessment_by_id(user, assessment_id)
    except Assessment.DoesNotExist as error:
        raise Http404 from error


def _instrument_choices(user, language: str) -> list[tuple[str, str]]:
    """The built-in instruments, then the service's own published scores (latest version)."""
    instruments = list_instruments()
    builtin = {instrument.slug for instrument in instruments}
    local: dict[str, InstrumentVersion] = {}
    for version in InstrumentVersion.objects.exclude(slug__in=builtin).order_by(
        "registered_at", "id"
    ):
        local[version.slug] = version
    instruments += [version.instrument for version in local.values()]
    return [
        (instrument.slug, f"{instrument.text('name', language)} ({instrument.version})")
        for instrument in instruments
        if can_assess(user, instrument.slug)
    ]


@login_required
@require_http_methods(["GET", "POST"])
def person_assessments(request: HttpRequest, person_id: int) -> HttpResponse:
    """A person's assessment history, a chart of the totals, and the start form."""
    person = person_or_404(request.user, person_id)
    language = request.LANGUAGE_CODE
    choices = _instrument_choices(request.user, language)
    form = StartAssessmentForm(request.POST or None, choices=choices) if choices else None
    if request.method == "POST":
        if form is None:
            return forbidden(request, _("Your role cannot record assessments."))
        if form.is_valid():
            try:
                assessment = services.assessment_start(
                    actor=request.user,
                    person=person,
                    instrument_slug=form.cleaned_data["instrument"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return redirect("assessment-edit", assessment.pk)
    assessments = list(selectors.assessment_list(viewer=request.user, person=person))
    charts = []
    by_slug: dict[str, list[Assessment]] = {}
    for assessment in assessments:
        if assessment.is_completed:
            by_slug.setdefault(assessment.slug, []).append(assessment)
    for slug in sorted(by_slug):
        rows = by_slug[slug]
        instrument = rows[0].instrument_version.instrument
        chart = history_chart(instrument, rows)
        if chart and len(rows) > 1:
            charts.append({"name": instrument.text("name", language), "chart": chart})
    rows = [
        {
            "assessment": a,
            "name": a.instrument_version.instrument.text("name", language),
            "band": _band_label(a, a.band, language),
            "effective_band": _band_label(a, a.effective_band, language),
        }
        for a in assessments
    ]
    context = {"person": person, "rows": rows, "form": form, "charts": charts}
    status = 400 if form is not None and form.errors else 200
    return render(request, "assessments/person_assessments.html", context, status=status)


def _band_label(assessment: Assessment, code: str | None, language: str) -> str:
    if not code:
        return ""
    try:
        return assessment.instrument_version.instrument.text(code, language)
    except KeyError:
        return code


@login_required
@require_http_methods(["GET", "POST"])
def assessment_edit(request: HttpRequest, assessment_id: int) -> HttpResponse:
    """The answers form: "Save draft" keeps partial answers; "Complete" scores them."""
    assessment = _assessment_or_404(request.user, assessment_id, for_edit=True)
    if assessment.is_completed:
        if request.method == "POST":  # completed by someone else while this form was open
            messages.error(request, stale_message(assessment))
        return redirect("assessment-detail", assessment.pk)
    instrument = assessment.instrument_version.instrument
    language = request.LANGUAGE_CODE
    form = AnswersForm(
        request.POST or None,
        instrument=instrument,
        language=language,
        initial={
            **AnswersForm.initial_from(instrument, assessment.answers),
            "lock_version": assessment.lock_version,
        },
    )
    if request.method == "POST" and form.is_valid():
        expected = form.cleaned_data["lock_version"]
        try:
            with marking_stale(form):
                if "complete" in request.POST:
                    services.assessment_complete(
                        actor=request.user,
                        assessment=assessment,
                        answers=form.answers(),
                        expected_version=expected,
                    )
                    messages.success(request, _("The assessment is complete."))
                    return redirect("assessment-detail", assessment.pk)
                services.assessment_save_draft(
                    actor=request.user,
                    assessment=assessment,
                    answers=form.answers(),
                    expected_version=expected,
                )
            messages.success(request, _("The draft is saved."))
            return redirect("assessment-edit", assessment.pk)
        except ValidationError as error:
            add_service_errors(form, error)
    context = {
        "assessment": assessment,
        "instrument": instrument,
        "name": instrument.text("name", language),
        "instructions": instrument.text(instrument.instructions, language)
        if instrument.instructions
        else "",
        "validation_note": _validation_note(instrument, language),
        "form": form,
    }
    return render(request, "assessments/assessment_form.html", context, status=page_status(form))


def _validation_note(instrument, language: str) -> str:
    if instrument.validated or not instrument.validation_note:
        return ""
    return instrument.text(instrument.validation_note, language)


@login_required
@require_GET
def assessment_detail(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = _assessment_or_404(request.user, assessment_id)
    instrument = assessment.instrument_version.instrument
    language = request.LANGUAGE_CODE
    answers = None
    if request.GET.get("answers") == "1":
        answers = selectors.assessment_answers(viewer=request.user, assessment=assessment)
    answer_rows = []
    if answers is not None:
        for item in instrument.items:
            value = answers.get(item.id)
            answer_rows.append(
                {
                    "question": instrument.text(item, language),
                    "answer": _answer_text(item, value, instrument, language),
                }
            )
    band = instrument.band(assessment.band) if assessment.band else None
    context = {
        "assessment": assessment,
        "person": assessment.person,
        "name": instrument.text("name", language),
        "band_label": _band_label(assessment, assessment.band, language),
        "band_description": instrument.text(band.description, language)
        if band is not None and band.description
        else "",
        "override_label": _band_label(assessment, assessment.override_band, language),
        "validation_note": _validation_note(instrument, language),
        "chart": needs_chart(instrument, assessment, language) if assessment.is_completed else None,
        "needs": [
            {"label": instrument.text(domain_id, language), **need}
            for domain_id, need in assessment.needs.items()
        ],
        "can_view_answers": can_view_answers(request.user, assessment),
        "answer_rows": answer_rows,
        "can_override": assessment.is_completed
        and not assessment.is_overridden
        and can_assess(request.user, assessment.slug),
        "can_edit": not assessment.is_completed and can_assess(request.user, assessment.slug),
        "is_rnr": assessment.slug == RNR_SCREENER,
    }
    return render(request, "assessments/assessment_detail.html", context)


def _answer_text(item, value, instrument, language: str) -> str:
    if value is None:
        return "—"
    if item.type == "single_choice":
        return instrument.text(item.options[value], language)
    if item.type == "multiple_choice":
        return ", ".join(instrument.text(item.options[v], language) for v in value)
    if item.type == "yes_no":
        return _("Yes") if value else _("No")
    return str(value)


def _approvers(assessment: Assessment) -> list[User]:
    candidates = User.objects.filter(
        is_active=True, role__in=[Role.ADMINISTRATOR, Role.FACILITY_MANAGER]
    ).exclude(pk=assessment.assessed_by_id)
    return [
        user
        for user in candidates.order_by("last_name", "username")
        if persons_visible_to(user).filter(pk=assessment.person_id).exists()
    ]


@login_required
@require_http_methods(["GET", "POST"])
def assessment_override(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = _assessment_or_404(request.user, assessment_id, for_edit=True)
    if not assessment.is_completed or assessment.is_overridden:
        if request.method == "POST":  # overridden by someone else while this form was open
            messages.error(request, stale_message(assessment))
        return redirect("assessment-detail", assessment.pk)
    instrument = assessment.instrument_version.instrument
    language = request.LANGUAGE_CODE
    approvers = _approvers(assessment)
    form = OverrideForm(
        request.POST or None,
        bands=[
            (band.code, instrument.text(band, language))
            for band in instrument.bands
            if band.code != assessment.band
        ],
        approvers=approvers,
        initial={"lock_version": assessment.lock_version},
    )
    if request.method == "POST" and form.is_valid():
        approver = next((u for u in approvers if u.pk == form.cleaned_data["approver"]), None)
        try:
            with marking_stale(form):
                services.assessment_override(
                    actor=request.user,
                    assessment=assessment,
                    band=form.cleaned_data["band"],
                    reason=form.cleaned_data["reason"],
                    approver=approver,
                    expected_version=form.cleaned_data["lock_version"],
                )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The override is recorded."))
            return redirect("assessment-detail", assessment.pk)
    context = {
        "assessment": assessment,
        "name": instrument.text("name", language),
        "band_label": _band_label(assessment, assessment.band, language),
        "form": form,
    }
    return render(request, "assessments/override_form.html", context, status=page_status(form))


@login_required
@require_GET
def reassessment_due(request: HttpRequest) -> HttpResponse:
    if not can_view_due_list(request.user):
        return forbidden(request, _("Your role does not record assessments."))
    today = timezone.localdate()
    language = request.LANGUAGE_CODE
    rows = [
        {
            "assessment": a,
            "name": a.instrument_version.instrument.text("name", language),
            "overdue": a.next_due_date < today,
            "band": _band_label(a, a.effective_band, language),
        }
        for a in selectors.reassessment_due_list(viewer=request.user, today=today)
    ]
    context = {"rows": rows, "today": today, "within_days": selectors.DUE_WITHIN_DAYS}
    return render(request, "assessments/due_list.html", context)


@login_required
@require_GET
def override_rates(request: HttpRequest) -> HttpResponse:
    if not can_view_override_rates(request.user):
        return forbidden(
            request,
            _("Override rates are for facility managers, administrators and analysts."),
        )
    low, high = selectors.OVERRIDE_POLICY_RANGE
    context = {
        "rates": selectors.override_rates(viewer=request.user),
        "policy_low": round(low * 100),
        "policy_high": round(high * 100),
    }
    return render(request, "assessments/override_rates.html", context)

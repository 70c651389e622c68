"""A person's health page, health records, relapse prevention plans and the pre-release
review list. Access -> form -> service/selector -> render. Out of scope is a 404; a role that
may see but not act gets the 403 page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from whatworks.health import access, selectors, services
from whatworks.health.forms import (
    DiagnosisForm,
    HealthReferralForm,
    HealthReferralUpdateForm,
    RelapsePlanForm,
    RelapseReviewForm,
)
from whatworks.health.models import Diagnosis, HealthReferral, RelapsePlan, RelapsePlanStatus
from whatworks.web.pages import (
    forbidden,
    form_status,
    form_to_service,
    person_or_404,
    posted,
)


def _plan_or_404(user, plan_id: int, *, edit: bool = False) -> RelapsePlan:
    try:
        if edit:
            return access.access_relapse_plan_for_edit(user, plan_id)
        return access.access_relapse_plan_by_id(user, plan_id)
    except RelapsePlan.DoesNotExist as error:
        raise Http404 from error


def _plan_context(person, plans: list[RelapsePlan]) -> dict:
    active = next((p for p in plans if p.status == RelapsePlanStatus.ACTIVE), None)
    draft = next((p for p in plans if p.status == RelapsePlanStatus.DRAFT), None)
    episode = selectors.latest_episode(person)
    return {
        "active_plan": active,
        "draft_plan": draft,
        "older_plans": [p for p in plans if p.status == RelapsePlanStatus.SUPERSEDED],
        "episode": episode,
        "review_window_start": selectors.review_window_start(episode),
        "review_done": selectors.pre_release_review_done(active, episode),
    }


@login_required
@require_GET
def person_health(request: HttpRequest, person_id: int) -> HttpResponse:
    if not access.can_view_health_page(request.user):
        return forbidden(request, _("Your role does not see health information."))
    person = person_or_404(request.user, person_id)
    context = {
        "person": person,
        "flags": selectors.person_flags(viewer=request.user, person=person),
        "show_records": access.can_view_health_records(request.user),
        "can_record": access.can_record_health(request.user),
        "can_edit_plan": access.can_edit_relapse_plans(request.user),
        "diagnoses": selectors.diagnosis_list(viewer=request.user, person=person),
        "referrals": selectors.health_referral_list(viewer=request.user, person=person),
        **_plan_context(person, selectors.relapse_plans(viewer=request.user, person=person)),
    }
    return render(request, "health/person_health.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def diagnosis_new(request: HttpRequest, person_id: int) -> HttpResponse:
    person = person_or_404(request.user, person_id)
    if not access.can_record_health(request.user):
        return forbidden(request, _("Your role does not record diagnoses."))
    form = DiagnosisForm(posted(request), initial={"recorded_on": timezone.localdate()})

    def save(data):
        services.diagnosis_record(actor=request.user, person=person, data=data)

    if form_to_service(request, form, save, success=_("The diagnosis is recorded.")):
        return redirect("person-health", person.pk)
    context = {"person": person, "form": form, "title": _("Record a diagnosis")}
    return render(request, "health/form.html", context, status=form_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def diagnosis_correct(request: HttpRequest, diagnosis_id: int) -> HttpResponse:
    try:
        diagnosis = access.access_diagnosis_for_edit(request.user, diagnosis_id)
    except Diagnosis.DoesNotExist as error:
        raise Http404 from error
    initial = {
        field: getattr(diagnosis, field)
        for field in ("recorded_on", "category", "mental_disorder_type", "code", "status", "notes")
    }
    form = DiagnosisForm(posted(request), initial=initial)

    def save(data):
        services.diagnosis_correct(actor=request.user, diagnosis=diagnosis, data=data)

    if form_to_service(request, form, save, success=_("The correction is recorded.")):
        return redirect("person-health", diagnosis.person_id)
    context = {"person": diagnosis.person, "form": form, "title": _("Correct a diagnosis")}
    return render(request, "health/form.html", context, status=form_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def health_referral_new(request: HttpRequest, person_id: int) -> HttpResponse:
    person = person_or_404(request.user, person_id)
    if not access.can_record_health(request.user):
        return forbidden(request, _("Your role does not record health referrals."))
    form = HealthReferralForm(posted(request), initial={"requested_on": timezone.localdate()})

    def save(data):
        services.health_referral_create(actor=request.user, person=person, data=data)

    if form_to_service(request, form, save, success=_("The health referral is recorded.")):
        return redirect("person-health", person.pk)
    context = {"person": person, "form": form, "title": _("Refer to a health service")}
    return render(request, "health/form.html", context, status=form_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def health_referral_update(request: HttpRequest, referral_id: int) -> HttpResponse:
    try:
        referral = access.access_health_referral_for_edit(request.user, referral_id)
    except HealthReferral.DoesNotExist as error:
        raise Http404 from error
    form = HealthReferralUpdateForm(
        posted(request), initial={"status": referral.status, "notes": referral.notes}
    )

    def save(data):
        services.health_referral_update(actor=request.user, referral=referral, data=data)

    if form_to_service(request, form, save, success=_("The health referral is updated.")):
        return redirect("person-health", referral.person_id)
    context = {"person": referral.person, "form": form, "title": _("Update a health referral")}
    return render(request, "health/form.html", context, status=form_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def relapse_plan_edit(request: HttpRequest, person_id: int) -> HttpResponse:
    person = person_or_404(request.user, person_id)
    if not access.can_edit_relapse_plans(request.user):
        return forbidden(request, _("Your role does not edit relapse prevention plans."))
    plans = selectors.relapse_plans(viewer=request.user, person=person)
    current = next((p for p in plans if p.is_draft), None) or next(
        (p for p in plans if p.status == RelapsePlanStatus.ACTIVE), None
    )
    form = RelapsePlanForm(posted(request), initial=RelapsePlanForm.initial_for(current))

    def save(_data):
        services.relapse_plan_save(actor=request.user, person=person, data=form.service_data())

    if form_to_service(
        request, form, save, success=_("The draft relapse prevention plan is saved.")
    ):
        return redirect("person-health", person.pk)
    context = {"person": person, "form": form, "title": _("Relapse prevention plan")}
    return render(request, "health/form.html", context, status=form_status(form))


@login_required
@require_POST
def relapse_plan_activate(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _plan_or_404(request.user, plan_id, edit=True)
    try:
        services.relapse_plan_activate(actor=request.user, plan=plan)
    except ValidationError as error:
        for field_messages in error.message_dict.values():
            for message in field_messages:
                messages.error(request, message)
    else:
        messages.success(request, _("The relapse prevention plan is active."))
    return redirect("person-health", plan.person_id)


@login_required
@require_http_methods(["GET", "POST"])
def relapse_plan_review(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _plan_or_404(request.user, plan_id, edit=True)
    form = RelapseReviewForm(posted(request), initial={"reviewed_on": timezone.localdate()})

    def save(data):
        services.relapse_plan_review(actor=request.user, plan=plan, **data)

    if form_to_service(request, form, save, success=_("The review is recorded.")):
        return redirect("person-health", plan.person_id)
    context = {"person": plan.person, "form": form, "title": _("Review the relapse plan")}
    return render(request, "health/form.html", context, status=form_status(form))


@login_required
@require_GET
def relapse_plan_print(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _plan_or_404(request.user, plan_id)
    return render(request, "health/relapse_plan_print.html", {"plan": plan, "person": plan.person})


@login_required
@require_GET
def relapse_reviews_due(request: HttpRequest) -> HttpResponse:
    if not access.can_edit_relapse_plans(request.user):
        return forbidden(request, _("Your role does not review relapse prevention plans."))
    rows = selectors.relapse_reviews_due(viewer=request.user, today=timezone.localdate())
    context = {"rows": rows, "within_days": selectors.PRE_RELEASE_REVIEW_DAYS}
    return render(request, "health/reviews_due.html", context)

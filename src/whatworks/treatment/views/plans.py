"""A person's treatment: the plan and why, referrals, hours, earned remission and faults.

Persons come from ``records.access``; plans and referrals from ``treatment.access``. A row the
user may not see gives the same 404 as a missing one; a role that may see but not act gets
the 403 page. Every write goes through a service.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from whatworks.assessments.selectors import needs_for_planning
from whatworks.concurrency import marking_stale, page_status, parse_version, refuse_if_stale
from whatworks.records.access import facilities_in_scope
from whatworks.records.models import Person
from whatworks.treatment import access, labels, selectors, services
from whatworks.treatment.forms.plans import (
    ApproveForm,
    FaultForm,
    GoalForm,
    GoalStatusForm,
    ReferralForm,
    ReviewForm,
    StepForm,
    StepStatusForm,
    TransitionForm,
)
from whatworks.treatment.models import (
    GroupStatus,
    InterventionPlan,
    PlanGoal,
    PlanStep,
    Programme,
    Referral,
    ReferralStatus,
)
from whatworks.web.pages import (
    add_service_errors,
    forbidden,
    form_status,
    form_to_service,
    person_or_404,
    posted,
)


def _plan_or_404(user, plan_id: int) -> InterventionPlan:
    try:
        return access.access_plan_by_id(user, plan_id)
    except InterventionPlan.DoesNotExist as error:
        raise Http404 from error


def _referral_or_404(user, referral_id: int) -> Referral:
    try:
        return access.access_referral_by_id(user, referral_id)
    except Referral.DoesNotExist as error:
        raise Http404 from error


def _error_messages(request: HttpRequest, error: ValidationError) -> None:
    for field_messages in error.message_dict.values():
        for message in field_messages:
            messages.error(request, message)


def explanation(plan: InterventionPlan | None) -> dict[str, Any] | None:
    """The stored proposal of a plan as sentences in the active language."""
    proposal = (plan.proposal if plan else None) or {}
    if not proposal:
        return None
    items = proposal.get("items", [])
    excluded = proposal.get("excluded", [])
    ids = {row.get("programme_id") for row in [*items, *excluded]}
    names = {
        str(pk): name
        for pk, name in Programme.objects.filter(pk__in=[i for i in ids if i]).values_list(
            "pk", "name"
        )
    }

    def sentences(reasons) -> list[str]:
        return [labels.reason_text(reason, names) for reason in reasons or []]

    return {
        "risk_band": labels.band_label(proposal.get("risk_band")),
        "target_hours": proposal.get("target_hours"),
        "planned_hours": proposal.get("planned_hours"),
        "items": [
            {
                "programme_id": item.get("programme_id"),
                "programme": names.get(str(item.get("programme_id")), "—"),
                "need": labels.need_label(item["need"]) if item.get("need") else "",
                "hours": item.get("hours"),
                "counts_toward_dosage": item.get("counts_toward_dosage"),
                "reasons": sentences(item.get("reasons")),
            }
            for item in items
        ],
        "excluded": [
            {
                "programme_id": row.get("programme_id"),
                "programme": names.get(str(row.get("programme_id")), "—"),
                "reasons": sentences(row.get("reasons")),
            }
            for row in excluded
        ],
        "adaptations": sentences(proposal.get("adaptations")),
        "warnings": sentences(proposal.get("warnings")),
    }


def _goal_rows(plan: InterventionPlan, *, with_forms: bool) -> list[dict[str, Any]]:
    rows = []
    for goal in selectors.plan_goals(plan):
        steps = [
            {
                "step": step,
                "form": StepStatusForm(
                    initial={"status": step.status, "lock_version": plan.lock_version},
                    prefix=f"step-{step.pk}",
                )
                if with_forms
                else None,
            }
            for step in goal.steps.all()
        ]
        rows.append(
            {
                "goal": goal,
                "need": labels.need_label(goal.need) if goal.need else "",
                "steps": steps,
                "form": GoalStatusForm(
                    initial={"status": goal.status, "lock_version": plan.lock_version},
                    prefix=f"goal-{goal.pk}",
                )
                if with_forms
                else None,
            }
        )
    return rows


def _risk_band(person: Person, plan: InterventionPlan | None) -> str:
    if plan is not None and plan.risk_band:
        return labels.band_label(plan.risk_band)
    planning = needs_for_planning(person)
    return labels.band_label(planning.get("effective_band")) if planning else ""


@login_required
@require_GET
def person_treatment(request: HttpRequest, person_id: int) -> HttpResponse:
    """The plan and why, referrals, hours and earned remission of one person."""
    person = person_or_404(request.user, person_id)
    user = request.user
    if not (access.can_view_plans(user) or access.can_view_referrals(user)):
        return forbidden(request, _("Your role does not work with treatment plans."))
    treatment = selectors.person_treatment(viewer=user, person=person)
    plan = treatment.approved_plan
    remission = treatment.remission
    remission_lines = []
    if remission is not None:
        remission_lines = [
            {
                "line": line,
                "kind": labels.REMISSION_KIND_LABELS.get(line.kind, line.kind),
                "reason": labels.reason_text(line.reason),
            }
            for line in remission.result.lines
        ]
    context = {
        "person": person,
        "treatment": treatment,
        "plan": plan,
        "risk_band": _risk_band(person, plan),
        "goals": _goal_rows(plan, with_forms=access.can_plan(user)) if plan else [],
        "explanation": explanation(plan or treatment.draft_plan),
        "dosage": treatment.dosage,
        "remission": remission,
        "remission_name": remission.rules_name if remission else "",
        "remission_lines": remission_lines,
        "can_plan": access.can_plan(user),
        "can_refer": access.can_refer(user),
        "can_record_faults": access.can_record_faults(user),
    }
    return render(request, "treatment/plans/person_treatment.html", context)


@login_required
@require_POST
def plan_propose(request: HttpRequest, person_id: int) -> HttpResponse:
    person = person_or_404(request.user, person_id)
    if not access.can_plan(request.user):
        return forbidden(request, _("Your role cannot propose plans."))
    try:
        plan = services.plan_propose(actor=request.user, person=person)
    except ValidationError as error:
        _error_messages(request, error)
        return redirect("person-treatment", person.pk)
    messages.success(request, _("A draft plan is proposed. Check it, then approve it."))
    return redirect("plan-detail", plan.pk)


def _plan_detail_response(
    request: HttpRequest, plan: InterventionPlan, approve_form: ApproveForm | None
) -> HttpResponse:
    can_edit = plan.is_draft and access.can_plan(request.user)
    if approve_form is None and can_edit:
        approve_form = ApproveForm(initial={"lock_version": plan.lock_version})
    context = {
        "plan": plan,
        "person": plan.person,
        "goals": _goal_rows(plan, with_forms=False),
        "explanation": explanation(plan),
        "reviews": plan.reviews.select_related("reviewed_by"),
        "can_edit": can_edit,
        "approve_form": approve_form if can_edit else None,
    }
    return render(
        request, "treatment/plans/plan_detail.html", context, status=page_status(approve_form)
    )


@login_required
@require_GET
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    return _plan_detail_response(request, _plan_or_404(request.user, plan_id), None)


@login_required
@require_POST
def plan_approve(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _plan_or_404(request.user, plan_id)
    if not access.can_plan(request.user):
        return forbidden(request, _("Your role cannot approve plans."))
    if not plan.is_draft:
        return redirect("plan-detail", plan.pk)
    form = ApproveForm(request.POST)
    if form.is_valid():
        try:
            with marking_stale(form):
                services.plan_approve(
                    actor=request.user,
                    plan=plan,
                    agreement=form.cleaned_data["agreement"],
                    agreement_notes=form.cleaned_data["agreement_notes"],
                    expected_version=form.cleaned_data["lock_version"],
                )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The plan is approved."))
            return redirect("person-treatment", plan.person_id)
    return _plan_detail_response(request, plan, form)


@login_required
@require_POST
def plan_revise(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _plan_or_404(request.user, plan_id)
    if not access.can_plan(request.user):
        return forbidden(request, _("Your role cannot revise plans."))
    try:
        draft = services.plan_revise(actor=request.user, plan=plan)
    except ValidationError as error:
        _error_messages(request, error)
        return redirect("person-treatment", plan.person_id)
    messages.success(request, _("A new draft version is open; approve it to replace the plan."))
    return redirect("plan-detail", draft.pk)


@login_required
@require_http_methods(["GET", "POST"])
def plan_review(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _plan_or_404(request.user, plan_id)
    if not access.can_plan(request.user):
        return forbidden(request, _("Your role cannot review plans."))
    form = ReviewForm(posted(request), initial={"lock_version": plan.lock_version})

    def save(data):
        data = dict(data)
        expected = data.pop("lock_version")
        with marking_stale(form):
            services.plan_review_record(
                actor=request.user, plan=plan, expected_version=expected, **data
            )

    if form_to_service(request, form, save, success=_("The review is recorded.")):
        return redirect("person-treatment", plan.person_id)
    context = {"plan": plan, "person": plan.person, "form": form}
    return render(request, "treatment/plans/review_form.html", context, status=page_status(form))


def _active_programmes(*, keep: int | None = None):
    """Active programmes, plus ``keep`` (a goal's programme that may since have closed)."""
    return Programme.objects.filter(Q(is_active=True) | Q(pk=keep)).order_by(
        "programme_type", "name"
    )


def _after_edit(plan: InterventionPlan) -> HttpResponse:
    if plan.is_draft:
        return redirect("plan-detail", plan.pk)
    return redirect("person-treatment", plan.person_id)


@login_required
@require_http_methods(["GET", "POST"])
def goal_edit(request: HttpRequest, plan_id: int, goal_id: int | None = None) -> HttpResponse:
    """Add or change a goal of a draft; on the approved plan, only its status."""
    plan = _plan_or_404(request.user, plan_id)
    if not access.can_plan(request.user):
        return forbidden(request, _("Your role cannot change plans."))
    goal = None
    if goal_id is not None:
        goal = plan.goals.filter(pk=goal_id).first()
        if goal is None:
            raise Http404
    data = posted(request)
    if plan.is_draft:
        initial = {"lock_version": plan.lock_version}
        if goal is not None:
            initial |= {
                "need": goal.need,
                "description": goal.description,
                "programme": goal.programme_id,
                "planned_hours": goal.planned_hours,
                "target_date": goal.target_date,
                "status": goal.status,
            }
        programmes = _active_programmes(keep=goal.programme_id if goal else None)
        form = GoalForm(data, programmes=programmes, initial=initial)
    elif goal is not None:
        prefix = f"goal-{goal.pk}"
        form = GoalStatusForm(
            data, initial={"status": goal.status, "lock_version": plan.lock_version}, prefix=prefix
        )
    else:
        messages.error(request, _("Only a draft can be changed; revise the plan first."))
        return redirect("person-treatment", plan.person_id)

    def save(_data):
        with marking_stale(form):
            services.plan_goal_save(
                actor=request.user,
                plan=plan,
                data=form.data_for_service(),
                goal=goal,
                expected_version=form.cleaned_data["lock_version"],
            )

    if form_to_service(request, form, save, success=_("The goal is saved.")):
        return _after_edit(plan)
    context = {"plan": plan, "person": plan.person, "goal": goal, "form": form}
    return render(request, "treatment/plans/goal_form.html", context, status=page_status(form))


@login_required
@require_POST
def goal_delete(request: HttpRequest, plan_id: int, goal_id: int) -> HttpResponse:
    plan = _plan_or_404(request.user, plan_id)
    if not access.can_plan(request.user):
        return forbidden(request, _("Your role cannot change plans."))
    goal = plan.goals.filter(pk=goal_id).first()
    if goal is None:
        raise Http404
    try:
        services.plan_goal_delete(
            actor=request.user,
            goal=goal,
            expected_version=parse_version(request.POST.get("lock_version")),
        )
    except ValidationError as error:
        _error_messages(request, error)
    else:
        messages.success(request, _("The goal is removed."))
    return _after_edit(plan)


@login_required
@require_http_methods(["GET", "POST"])
def step_edit(
    request: HttpRequest, plan_id: int, goal_id: int, step_id: int | None = None
) -> HttpResponse:
    plan = _plan_or_404(request.user, plan_id)
    if not access.can_plan(request.user):
        return forbidden(request, _("Your role cannot change plans."))
    try:
        goal = plan.goals.get(pk=goal_id)
        step = goal.steps.get(pk=step_id) if step_id is not None else None
    except (PlanGoal.DoesNotExist, PlanStep.DoesNotExist) as error:
        raise Http404 from error
    data = posted(request)
    if plan.is_draft:
        initial = {"lock_version": plan.lock_version}
        if step is not None:
            initial |= {
                "description": step.description,
                "owner": step.owner,
                "owner_name": step.owner_name,
                "target_date": step.target_date,
                "status": step.status,
            }
        form = StepForm(data, initial=initial)
    elif step is not None:
        form = StepStatusForm(
            data,
            initial={"status": step.status, "lock_version": plan.lock_version},
            prefix=f"step-{step.pk}",
        )
    else:
        messages.error(request, _("Only a draft can be changed; revise the plan first."))
        return redirect("person-treatment", plan.person_id)

    def save(_data):
        with marking_stale(form):
            services.plan_step_save(
                actor=request.user,
                goal=goal,
                data=form.data_for_service(),
                step=step,
                expected_version=form.cleaned_data["lock_version"],
            )

    if form_to_service(request, form, save, success=_("The step is saved.")):
        return _after_edit(plan)
    context = {"plan": plan, "person": plan.person, "goal": goal, "step": step, "form": form}
    return render(request, "treatment/plans/step_form.html", context, status=page_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def referral_new(request: HttpRequest, person_id: int) -> HttpResponse:
    person = person_or_404(request.user, person_id)
    if not access.can_refer(request.user):
        return forbidden(request, _("Your role cannot refer to programmes."))
    facilities = list(facilities_in_scope(request.user).order_by("name"))
    if person.current_facility and person.current_facility not in facilities:
        facilities.insert(0, person.current_facility)
    form = ReferralForm(
        posted(request),
        programmes=_active_programmes(),
        facilities=facilities,
        initial={"facility": person.current_facility_id},
    )
    if request.method == "POST" and form.is_valid():
        try:
            referral = services.referral_create(
                actor=request.user,
                person=person,
                programme=form.programmes[form.cleaned_data["programme"]],
                facility=form.facilities.get(form.cleaned_data["facility"]),
                override_reason=form.cleaned_data["override_reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The referral is recorded."))
            return redirect("referral-detail", referral.pk)
    approved = access.plans_visible_to(request.user).filter(person=person, status="approved")
    recommended = Programme.objects.filter(
        pk__in=PlanGoal.objects.filter(plan__in=approved, programme__isnull=False).values(
            "programme_id"
        )
    ).order_by("name")
    context = {"person": person, "form": form, "recommended": recommended}
    return render(request, "treatment/plans/referral_form.html", context, status=form_status(form))


def _allowed_moves(user, referral: Referral) -> set[str]:
    nexts = set(services.REFERRAL_TRANSITIONS.get(referral.status, ()))
    if access.can_deliver(user):
        return nexts
    if access.can_refer(user):
        return nexts & set(services.REFERRER_MOVES)
    return set()


@login_required
@require_http_methods(["GET", "POST"])
def referral_detail(request: HttpRequest, referral_id: int) -> HttpResponse:
    """A referral, its status history and attendance, and the next moves the role may make."""
    referral = _referral_or_404(request.user, referral_id)
    statuses = _allowed_moves(request.user, referral)
    groups = []
    if ReferralStatus.ALLOCATED in statuses:
        groups = list(
            selectors.groups_for(viewer=request.user, programme=referral.programme)
            .filter(facility=referral.facility)
            .exclude(status__in=[GroupStatus.FINISHED, GroupStatus.CANCELLED])
            .order_by("start_date", "name")
        )
    form = None
    if statuses:
        form = TransitionForm(
            posted(request),
            statuses=statuses,
            groups=groups,
            initial={"lock_version": referral.lock_version},
        )
    if request.method == "POST":
        if form is None:
            return forbidden(request, _("Your role cannot change this referral."))
        if not refuse_if_stale(form, referral) and form.is_valid():
            data = form.cleaned_data
            try:
                with marking_stale(form):
                    services.referral_transition(
                        actor=request.user,
                        referral=referral,
                        to_status=data["to_status"],
                        reason=data["reason"],
                        effective_date=data["effective_date"],
                        end_reason=data.get("end_reason") or "",
                        group=form.groups.get(data.get("group")),
                        override_reason=data.get("override_reason") or "",
                        expected_version=data["lock_version"],
                    )
            except ValidationError as error:
                add_service_errors(form, error)
            except PermissionError:
                return forbidden(request, _("Your role cannot make this change to a referral."))
            else:
                messages.success(request, _("The referral status is changed."))
                return redirect("referral-detail", referral.pk)
    attendance = referral.attendance.select_related("session", "recorded_by").order_by(
        "session__session_date", "session__start_time", "recorded_at", "id"
    )
    context = {
        "referral": referral,
        "person": referral.person,
        "changes": referral.changes.select_related("changed_by"),
        "attendance": attendance,
        "form": form,
    }
    return render(
        request, "treatment/plans/referral_detail.html", context, status=page_status(form)
    )


@login_required
@require_http_methods(["GET", "POST"])
def fault_new(request: HttpRequest, person_id: int) -> HttpResponse:
    person = person_or_404(request.user, person_id)
    if not access.can_record_faults(request.user):
        return forbidden(
            request, _("Serious faults are recorded by facility managers and administrators.")
        )
    form = FaultForm(posted(request))

    def save(data):
        services.disciplinary_fault_record(actor=request.user, person=person, **data)

    if form_to_service(request, form, save, success=_("The fault and the decision are recorded.")):
        return redirect("person-treatment", person.pk)
    context = {"person": person, "form": form}
    return render(request, "treatment/plans/fault_form.html", context, status=form_status(form))


@login_required
@require_GET
def plan_reviews_due(request: HttpRequest) -> HttpResponse:
    if not access.can_plan(request.user):
        return forbidden(request, _("Your role does not plan treatment."))
    today = timezone.localdate()
    plans = list(selectors.plan_reviews_due(viewer=request.user, today=today))
    context = {
        "rows": [{"plan": plan, "overdue": plan.next_review_date < today} for plan in plans],
        "within_days": selectors.REVIEW_DUE_WITHIN_DAYS,
    }
    return render(request, "treatment/plans/reviews_due.html", context)

"""Release preparation pages: a person's preparation, pathway and task and arrangement forms,
the release summary (page and PDF), handovers, and the readiness list.
Access -> form -> service/selector -> render. Out of scope is a 404; a role that may see but
not act gets the 403 page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from whatworks.community import selectors as community_selectors
from whatworks.concurrency import marking_stale, page_status
from whatworks.records.choices import Pathway
from whatworks.records.models import Person
from whatworks.reintegration import access, selectors, services
from whatworks.reintegration.forms import (
    ArrangementForm,
    HandoverForm,
    PathwayForm,
    TaskForm,
    TaskStatusForm,
)
from whatworks.reintegration.models import (
    ARRANGEMENT_PATHWAY,
    Arrangement,
    ArrangementKind,
    Handover,
    HandoverRecipient,
    PathwayTask,
)
from whatworks.reintegration.pdf import summary_pdf
from whatworks.web.pages import forbidden, form_status, form_to_service, person_or_404, posted


def _visible_person(request: HttpRequest, person_id: int) -> Person:
    if not access.can_view_preparation(request.user):
        raise Http404
    return person_or_404(request.user, person_id)


def _episode_or_404(person: Person):
    episode = selectors.episode_to_prepare(person)
    if episode is None:
        raise Http404
    return episode


def _form_page(request, person, form, title: str, status: int) -> HttpResponse:
    context = {"person": person, "form": form, "title": title}
    return render(request, "reintegration/form.html", context, status=status)


@login_required
@require_GET
def person_reintegration(request: HttpRequest, person_id: int) -> HttpResponse:
    if not access.can_view_preparation(request.user):
        return forbidden(request, _("Your role does not see release preparation."))
    person = person_or_404(request.user, person_id)
    prepared = selectors.person_preparation(viewer=request.user, person=person)
    context = {
        "person": person,
        "prepared": prepared,
        "can_prepare": access.can_prepare(request.user),
        "can_edit_anything": access.can_edit_anything(request.user),
        "arrangement_kinds": [
            (kind.value, kind.label)
            for kind in ArrangementKind
            if access.can_edit_arrangement(request.user, kind.value)
        ],
        "person_language": selectors.person_language(person),
    }
    return render(request, "reintegration/person.html", context)


@login_required
@require_POST
def preparation_start(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _visible_person(request, person_id)
    if not access.can_prepare(request.user):
        return forbidden(request, _("Only case managers and managers prepare releases."))
    services.preparation_start(actor=request.user, episode=_episode_or_404(person))
    messages.success(request, _("Release preparation has started."))
    return redirect("person-reintegration", person.pk)


@login_required
@require_http_methods(["GET", "POST"])
def pathway_edit(request: HttpRequest, person_id: int, pathway: str) -> HttpResponse:
    person = _visible_person(request, person_id)
    if pathway not in Pathway.values:
        raise Http404
    if not access.can_edit_pathway(request.user, pathway):
        return forbidden(request, _("Your role cannot change this pathway."))
    prepared = selectors.person_preparation(viewer=request.user, person=person)
    row = next(r for r in prepared.pathways if r.pathway == pathway)
    record = None
    if prepared.preparation is not None:
        record = next(
            (p for p in prepared.preparation.pathways.all() if p.pathway == pathway), None
        )
    current = record.needs if record is not None else []
    form = PathwayForm(
        posted(request),
        pathway=pathway,
        current_needs=current,
        initial={
            "status": row.status,
            "needs": current,
            "notes": row.notes,
            "lock_version": record.lock_version if record is not None else 0,
        },
    )

    def save(data):
        data = dict(data)
        expected = data.pop("lock_version")
        with transaction.atomic(), marking_stale(form):
            preparation = services.preparation_for_update(
                actor=request.user, episode=_episode_or_404(person)
            )
            services.pathway_update(
                actor=request.user,
                preparation=preparation,
                pathway=pathway,
                data=data,
                expected_version=expected,
            )

    if form_to_service(request, form, save, success=_("The pathway is saved.")):
        return redirect("person-reintegration", person.pk)
    title = _("Pathway: %(pathway)s") % {"pathway": Pathway(pathway).label}
    return _form_page(request, person, form, title, page_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def task_new(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _visible_person(request, person_id)
    pathways = [p for p in Pathway.values if access.can_edit_pathway(request.user, p)]
    if not pathways:
        return forbidden(request, _("Your role cannot add tasks."))
    initial = {"pathway": request.GET.get("pathway"), "owner": request.user.pk}
    form = TaskForm(posted(request), person=person, pathways=pathways, initial=initial)

    def save(_data):
        with transaction.atomic():
            preparation = services.preparation_for_update(
                actor=request.user, episode=_episode_or_404(person)
            )
            services.task_create(
                actor=request.user, preparation=preparation, data=form.service_data()
            )

    if form_to_service(request, form, save, success=_("The task is added.")):
        return redirect("person-reintegration", person.pk)
    return _form_page(request, person, form, _("Add a task"), form_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def task_status(request: HttpRequest, task_id: int) -> HttpResponse:
    try:
        task = access.access_task_for_edit(request.user, task_id)
    except PathwayTask.DoesNotExist as error:
        raise Http404 from error
    except PermissionError:
        return forbidden(request, _("Your role cannot change this task."))
    person = task.preparation.person
    form = TaskStatusForm(posted(request), initial={"completed_on": timezone.localdate()})

    def save(data):
        services.task_set_status(
            actor=request.user,
            task=task,
            status=data["status"],
            completed_on=data.get("completed_on"),
        )

    if form_to_service(request, form, save, success=_("The task is updated.")):
        return redirect("person-reintegration", person.pk)
    title = _("Task: %(task)s") % {"task": task.description}
    return _form_page(request, person, form, title, form_status(form))


def _providers(request: HttpRequest, person: Person, kind: str, keep=None) -> list:
    """Active directory providers serving the arrangement's pathway, those covering the
    person's region first; ``keep`` stays offered even if it changed since."""
    providers = community_selectors.providers_for_person(
        viewer=request.user, person=person, pathway=ARRANGEMENT_PATHWAY[kind]
    )
    if keep is not None and keep not in providers:
        providers.append(keep)
    return providers


@login_required
@require_http_methods(["GET", "POST"])
def arrangement_new(request: HttpRequest, person_id: int, kind: str) -> HttpResponse:
    person = _visible_person(request, person_id)
    if kind not in ArrangementKind.values:
        raise Http404
    if not access.can_edit_arrangement(request.user, kind):
        return forbidden(request, _("Your role cannot make this arrangement."))
    form = ArrangementForm(posted(request), kind=kind, providers=_providers(request, person, kind))

    def save(_data):
        with transaction.atomic():
            preparation = services.preparation_for_update(
                actor=request.user, episode=_episode_or_404(person)
            )
            services.arrangement_create(
                actor=request.user,
                preparation=preparation,
                data={**form.service_data(), "kind": kind},
            )

    if form_to_service(request, form, save, success=_("The arrangement is recorded.")):
        return redirect("person-reintegration", person.pk)
    title = _("Arrangement: %(kind)s") % {"kind": ArrangementKind(kind).label}
    return _form_page(request, person, form, title, form_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def arrangement_edit(request: HttpRequest, arrangement_id: int) -> HttpResponse:
    try:
        arrangement = access.access_arrangement_for_edit(request.user, arrangement_id)
    except Arrangement.DoesNotExist as error:
        raise Http404 from error
    except PermissionError:
        return forbidden(request, _("Your role cannot change this arrangement."))
    person = arrangement.preparation.person
    initial = {name: getattr(arrangement, name) for name in services.ARRANGEMENT_FIELDS}
    initial["provider"] = arrangement.provider_id
    initial["lock_version"] = arrangement.lock_version
    providers = _providers(request, person, arrangement.kind, keep=arrangement.provider)
    form = ArrangementForm(
        posted(request), kind=arrangement.kind, initial=initial, providers=providers
    )

    def save(_data):
        with marking_stale(form):
            services.arrangement_update(
                actor=request.user,
                arrangement=arrangement,
                data=form.service_data(),
                expected_version=form.cleaned_data["lock_version"],
            )

    if form_to_service(request, form, save, success=_("The arrangement is updated.")):
        return redirect("person-reintegration", person.pk)
    title = _("Arrangement: %(kind)s") % {"kind": ArrangementKind(arrangement.kind).label}
    return _form_page(request, person, form, title, page_status(form))


def _summary_options(request: HttpRequest, person: Person) -> tuple[str, str]:
    languages = {code for code, _name in settings.LANGUAGES}
    language = request.GET.get("lang") or selectors.person_language(person)
    if language not in languages:
        raise Http404
    recipient = request.GET.get("for") or HandoverRecipient.PROBATION
    if recipient not in HandoverRecipient.values:
        raise Http404
    return language, recipient


@login_required
@require_GET
def release_summary(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _visible_person(request, person_id)
    language, recipient = _summary_options(request, person)
    summary = selectors.release_summary(
        viewer=request.user, person=person, language=language, recipient=recipient
    )
    context = {"person": person, "summary": summary, "recipient": recipient}
    return render(request, "reintegration/summary_print.html", context)


@login_required
@require_GET
def release_summary_pdf(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _visible_person(request, person_id)
    language, recipient = _summary_options(request, person)
    summary = selectors.release_summary(
        viewer=request.user, person=person, language=language, recipient=recipient
    )
    response = HttpResponse(summary_pdf(summary), content_type="application/pdf")
    name = f"release-summary-{person.prison_number}-{recipient}-{language}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def handover_new(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _visible_person(request, person_id)
    if not access.can_hand_over(request.user):
        return forbidden(request, _("Only case managers and managers hand over."))
    initial = {
        "language": selectors.person_language(person),
        "handed_over_on": timezone.localdate(),
        "recipient": request.GET.get("for") or HandoverRecipient.PROBATION,
    }
    form = HandoverForm(posted(request), initial=initial)
    created: list[Handover] = []

    def save(data):
        with transaction.atomic():
            preparation = services.preparation_for_update(
                actor=request.user, episode=_episode_or_404(person)
            )
            summary = selectors.release_summary(
                viewer=request.user,
                person=person,
                language=data["language"],
                recipient=data["recipient"],
            )
            created.append(
                services.handover_record(
                    actor=request.user,
                    preparation=preparation,
                    summary=summary,
                    **data,
                )
            )

    if form_to_service(request, form, save, success=_("The handover is recorded.")):
        return redirect("handover-detail", created[0].pk)
    return _form_page(request, person, form, _("Record a handover"), form_status(form))


def _handover_or_404(request: HttpRequest, handover_id: int) -> Handover:
    """A stored handover in the viewer's scope. The person's copy names medication, so it
    opens only for roles that see health arrangements (PermissionError otherwise)."""
    try:
        handover = Handover.objects.select_related("preparation__person").get(
            pk=handover_id, preparation__in=access.preparations_visible_to(request.user)
        )
    except Handover.DoesNotExist as error:
        raise Http404 from error
    if handover.recipient == HandoverRecipient.PERSON and not (
        access.can_see_health_arrangements(request.user)
    ):
        raise PermissionError
    return handover


@login_required
@require_GET
def handover_detail(request: HttpRequest, handover_id: int) -> HttpResponse:
    try:
        handover = _handover_or_404(request, handover_id)
    except PermissionError:
        return forbidden(request, _("The person's copy holds health information."))
    context = {
        "person": handover.preparation.person,
        "summary": handover.summary,
        "handover": handover,
    }
    return render(request, "reintegration/summary_print.html", context)


@login_required
@require_GET
def handover_pdf(request: HttpRequest, handover_id: int) -> HttpResponse:
    try:
        handover = _handover_or_404(request, handover_id)
    except PermissionError:
        return forbidden(request, _("The person's copy holds health information."))
    response = HttpResponse(summary_pdf(handover.summary), content_type="application/pdf")
    name = f"handover-{handover.preparation.person.prison_number}-{handover.pk}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_GET
def readiness(request: HttpRequest) -> HttpResponse:
    if not access.can_view_preparation(request.user):
        return forbidden(request, _("Your role does not see release preparation."))
    facilities = selectors.readiness(viewer=request.user)
    context = {
        "facilities": facilities,
        "weeks": settings.RELEASE_PREPARATION_WEEKS,
        "pathways": list(Pathway),
    }
    return render(request, "reintegration/readiness.html", context)

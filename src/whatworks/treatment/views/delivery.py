"""Programme delivery: waitlists and allocation, groups, sessions, registers and
attendance corrections.

Groups and sessions come from the ``treatment.access`` chokepoints: a group the user may
not see gives the same 404 as a missing one; a role that may not act gets the 403 page.
Every write goes through ``treatment.services``.
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

from whatworks.records.access import facilities_in_scope, persons_visible_to
from whatworks.records.models import Facility
from whatworks.treatment import access, selectors, services
from whatworks.treatment.forms.delivery import (
    AllocateForm,
    CorrectionForm,
    GroupForm,
    RegisterForm,
    ScheduleForm,
    SessionForm,
    facilitators_for,
)
from whatworks.treatment.labels import COMPONENT_LABELS, band_label, reason_text
from whatworks.treatment.models import (
    Attendance,
    GroupSession,
    GroupStatus,
    Programme,
    ProgrammeGroup,
    ReferralStatus,
)
from whatworks.web.pages import add_service_errors, forbidden


def _cannot_deliver(request: HttpRequest) -> HttpResponse:
    return forbidden(request, _("Your role cannot run programme groups."))


def _messages_of(error: ValidationError) -> list[str]:
    return [message for messages_ in error.message_dict.values() for message in messages_]


def hours_text(hours) -> str:
    """Decimal hours without trailing zeros: 1.50 -> "1.5", 60.00 -> "60"."""
    if hours is None:
        return "—"
    text = f"{hours:.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _group_for_delivery(user, group_id: int) -> ProgrammeGroup:
    try:
        return access.access_group_for_delivery(user, group_id)
    except ProgrammeGroup.DoesNotExist as error:
        raise Http404 from error


# --- waitlists ---------------------------------------------------------------------------


@login_required
@require_GET
def waitlist_overview(request: HttpRequest) -> HttpResponse:
    if not access.can_view_referrals(request.user):
        return forbidden(request, _("Your role cannot see waiting lists."))
    rows = selectors.waitlist_overview(viewer=request.user)
    return render(request, "treatment/delivery/waitlist_overview.html", {"rows": rows})


def _components(components: dict[str, float]) -> list[dict[str, object]]:
    return [
        {"label": str(COMPONENT_LABELS.get(name, name)), "value": value}
        for name, value in components.items()
    ]


@login_required
@require_http_methods(["GET", "POST"])
def waitlist_detail(request: HttpRequest, programme_id: int, facility_id: int) -> HttpResponse:
    user = request.user
    if not access.can_view_referrals(user):
        return forbidden(request, _("Your role cannot see waiting lists."))
    try:
        programme = selectors.catalogue(viewer=user, include_inactive=True).get(pk=programme_id)
        facility = facilities_in_scope(user).get(pk=facility_id)
    except (Programme.DoesNotExist, Facility.DoesNotExist) as error:
        raise Http404 from error
    can_allocate = access.can_deliver(user)
    groups = (
        selectors.groups_for(viewer=user, programme=programme)
        .filter(facility=facility, status__in=[GroupStatus.PLANNED, GroupStatus.RUNNING])
        .order_by("start_date", "name")
    )
    status = 200
    posted = None
    if request.method == "POST":
        if not can_allocate:
            return forbidden(request, _("Your role cannot allocate places."))
        posted = AllocateForm(request.POST, groups=groups)
        if not posted.is_valid():
            status = 400
            messages.error(request, _("Choose a group to allocate to."))
        else:
            referral = (
                access.referrals_visible_to(user)
                .filter(
                    pk=posted.cleaned_data["referral"],
                    programme=programme,
                    facility=facility,
                    status=ReferralStatus.WAITLISTED,
                )
                .first()
            )
            if referral is None:
                status = 400
                messages.error(request, _("This person is no longer on the waiting list."))
            else:
                try:
                    services.referral_transition(
                        actor=user,
                        referral=referral,
                        to_status=ReferralStatus.ALLOCATED,
                        group=posted.cleaned_data["group"],
                        override_reason=posted.cleaned_data["override_reason"],
                    )
                except ValidationError as error:
                    status = 400
                    for message in _messages_of(error):
                        messages.error(request, message)
                except PermissionError:
                    return forbidden(request, _("Your role cannot allocate places."))
                else:
                    messages.success(
                        request,
                        _("%(person)s is allocated to %(group)s.")
                        % {
                            "person": referral.person.full_name,
                            "group": posted.cleaned_data["group"].name,
                        },
                    )
                    return redirect("waitlist-detail", programme.pk, facility.pk)
    entries = selectors.waitlist(viewer=user, programme=programme, facility=facility)
    rows = []
    for entry in entries:
        form = None
        if can_allocate:
            bound = posted is not None and posted.data.get("referral") == str(entry.referral.pk)
            form = posted if bound else None
            form = form or AllocateForm(groups=groups, initial={"referral": entry.referral.pk})
        rows.append(
            {
                "entry": entry,
                "band": band_label(entry.risk_band),
                "reasons": [reason_text(reason) for reason in entry.reasons],
                "components": _components(entry.components),
                "form": form,
            }
        )
    context = {
        "programme": programme,
        "facility": facility,
        "rows": rows,
        "groups": list(groups),
        "can_allocate": can_allocate,
    }
    return render(request, "treatment/delivery/waitlist_detail.html", context, status=status)


# --- groups ------------------------------------------------------------------------------


@login_required
@require_GET
def group_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (access.can_deliver(user) or access.can_view_referrals(user)):
        return forbidden(request, _("Your role cannot see programme groups."))
    groups = selectors.groups_for(viewer=user).order_by("-start_date", "name")
    context = {"groups": groups, "can_deliver": access.can_deliver(user)}
    return render(request, "treatment/delivery/group_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def group_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not access.can_deliver(user):
        return _cannot_deliver(request)
    facilities = facilities_in_scope(user).order_by("name")
    initial = {"start_date": timezone.localdate()}
    programme_id = request.GET.get("programme", "")
    if programme_id.isdigit():
        initial["programme"] = int(programme_id)
    form = GroupForm(request.POST or None, facilities=facilities, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            group = services.group_create(
                actor=user,
                programme=data["programme"],
                facility=data["facility"],
                name=data["name"],
                start_date=data["start_date"],
                end_date=data["end_date"],
                capacity=data["capacity"],
                facilitators=list(data["facilitators"]),
                schedule_note=data["schedule_note"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionError:
            return _cannot_deliver(request)
        else:
            messages.success(request, _("The group is created."))
            return redirect("group-detail", group.pk)
    status = 400 if form.errors else 200
    return render(request, "treatment/delivery/group_form.html", {"form": form}, status=status)


@login_required
@require_GET
def group_detail(request: HttpRequest, group_id: int) -> HttpResponse:
    user = request.user
    try:
        group = access.access_group_by_id(user, group_id)
    except ProgrammeGroup.DoesNotExist as error:
        raise Http404 from error
    members = selectors.group_members(group)
    visible = set(
        persons_visible_to(user)
        .filter(pk__in=[row.referral.person_id for row in members])
        .values_list("pk", flat=True)
    )
    members = [
        {"row": row, "hours": hours_text(row.hours)}
        for row in members
        if row.referral.person_id in visible
    ]
    taken = sum(
        1 for member in members if member["row"].referral.status in services.OCCUPYING_STATUSES
    )
    sessions = group.sessions.select_related("facilitator").order_by("session_date", "start_time")
    context = {
        "group": group,
        "programme": group.programme,
        "members": members,
        "intended_hours": hours_text(group.programme.dosage_hours),
        "taken": taken,
        "sessions": sessions,
        "facilitators": list(group.facilitators.order_by("last_name", "username")),
        "can_deliver": access.can_deliver(user),
    }
    return render(request, "treatment/delivery/group_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def sessions_new(request: HttpRequest, group_id: int) -> HttpResponse:
    user = request.user
    if not access.can_deliver(user):
        return _cannot_deliver(request)
    group = _group_for_delivery(user, group_id)
    scope = facilities_in_scope(user).filter(pk=group.facility_id) if group.facility_id else None
    facilitators = facilitators_for(scope if scope is not None else facilities_in_scope(user))
    mode = request.POST.get("mode", "") if request.method == "POST" else ""
    one = SessionForm(
        request.POST if mode == "one" else None,
        prefix="one",
        facilitators=facilitators,
        initial={"hours": group.programme.session_hours},
    )
    weekly = ScheduleForm(
        request.POST if mode == "weekly" else None,
        prefix="weekly",
        facilitators=facilitators,
        initial={"hours": group.programme.session_hours, "first_date": group.start_date},
    )
    status = 200
    if request.method == "POST":
        if mode not in ("one", "weekly"):
            return render(
                request,
                "treatment/delivery/sessions_form.html",
                {"group": group, "one": one, "weekly": weekly},
                status=400,
            )
        form = one if mode == "one" else weekly
        if form.is_valid():
            data = form.cleaned_data
            try:
                if mode == "one":
                    services.session_create(
                        actor=user,
                        group=group,
                        session_date=data["session_date"],
                        start_time=data["start_time"],
                        hours=data["hours"],
                        room=data["room"],
                        facilitator=data["facilitator"],
                    )
                    created = 1
                else:
                    created = len(
                        services.sessions_schedule(
                            actor=user,
                            group=group,
                            weekdays=data["weekdays"],
                            start_time=data["start_time"],
                            hours=data["hours"],
                            first_date=data["first_date"],
                            count=data["count"],
                            room=data["room"],
                            facilitator=data["facilitator"],
                        )
                    )
            except ValidationError as error:
                add_service_errors(
                    form, error, {"session_date": "first_date"} if mode == "weekly" else None
                )
            except PermissionError:
                return _cannot_deliver(request)
            else:
                messages.success(
                    request,
                    _("%(count)s session(s) added.") % {"count": created},
                )
                return redirect("group-detail", group.pk)
        status = 400
    context = {"group": group, "one": one, "weekly": weekly}
    return render(request, "treatment/delivery/sessions_form.html", context, status=status)


# --- attendance --------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def session_register(request: HttpRequest, session_id: int) -> HttpResponse:
    user = request.user
    if not access.can_deliver(user):
        return _cannot_deliver(request)
    try:
        session = access.access_session_for_delivery(user, session_id)
    except GroupSession.DoesNotExist as error:
        raise Http404 from error
    lines = selectors.session_register(session)
    is_future = session.session_date > timezone.localdate()
    pending = {
        line.referral.pk: line.referral.person.full_name
        for line in lines
        if line.attendance is None
    }
    form = None
    if not is_future and not session.cancelled and pending:
        form = RegisterForm(request.POST or None, people=pending)
    status = 200
    if request.method == "POST":
        if form is None:
            messages.error(request, _("Attendance cannot be recorded for this session."))
            status = 400
        elif form.is_valid():
            try:
                recorded = services.attendance_register(
                    actor=user, session=session, marks=form.marks()
                )
            except ValidationError as error:
                for key, field_messages in error.message_dict.items():
                    for message in field_messages:
                        form.add_error(form.field_for(key), message)
            except PermissionError:
                return _cannot_deliver(request)
            else:
                messages.success(
                    request,
                    _("Attendance recorded for %(count)s person(s).") % {"count": len(recorded)},
                )
                return redirect("session-register", session.pk)
            status = 400
        else:
            status = 400
    rows = [
        {
            "line": line,
            "fields": form.row(line.referral.pk) if form and not line.attendance else None,
        }
        for line in lines
    ]
    context = {
        "session": session,
        "group": session.group,
        "rows": rows,
        "form": form,
        "is_future": is_future,
    }
    return render(request, "treatment/delivery/session_register.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def attendance_correct(request: HttpRequest, attendance_id: int) -> HttpResponse:
    user = request.user
    if not access.can_deliver(user):
        return _cannot_deliver(request)
    try:
        attendance = (
            Attendance.objects.filter(session__group__in=access.groups_visible_to(user))
            .select_related("session", "session__group", "referral", "referral__person")
            .get(pk=attendance_id)
        )
    except Attendance.DoesNotExist as error:
        raise Http404 from error
    if not persons_visible_to(user).filter(pk=attendance.referral.person_id).exists():
        raise Http404
    initial = {
        "status": attendance.status,
        "excuse_reason": attendance.excuse_reason,
        "hours": attendance.hours if attendance.status == "late" else None,
    }
    form = CorrectionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.attendance_correct(
                actor=user,
                attendance=attendance,
                status=data["status"],
                reason=data["reason"],
                excuse_reason=data["excuse_reason"] or "",
                hours=data["hours"] if data["status"] == "late" else None,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionError:
            return _cannot_deliver(request)
        else:
            messages.success(request, _("The attendance is corrected."))
            return redirect("session-register", attendance.session_id)
    history = (
        Attendance.objects.filter(referral=attendance.referral, session=attendance.session)
        .select_related("recorded_by")
        .order_by("recorded_at", "id")
    )
    context = {
        "attendance": attendance,
        "session": attendance.session,
        "person": attendance.referral.person,
        "form": form,
        "history": history,
    }
    status = 400 if form.errors else 200
    return render(request, "treatment/delivery/attendance_correct.html", context, status=status)

"""The audit viewer: administrators search every event by staff member, person, action and
date, with the chain's state at the top."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from whatworks.audit.forms import AuditFilterForm
from whatworks.audit.labels import action_label
from whatworks.audit.models import AuditChainHead
from whatworks.audit.selectors import audit_search
from whatworks.records.access import can_view_change_history
from whatworks.web.pages import forbidden

PAGE_SIZE = 100


@login_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    if not can_view_change_history(request.user):
        return forbidden(request, _("Only administrators read the audit trail."))
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = audit_search(**{key: value for key, value in filters.items() if value})
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "event": event,
            "action": action_label(event.action),
            "changed": sorted((event.after or {}).keys() | (event.before or {}).keys()),
        }
        for event in page
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        "head": AuditChainHead.objects.filter(pk=1).first(),
    }
    return render(request, "audit/log.html", context)

from __future__ import annotations

from django.db.models import QuerySet

from whatworks.audit.models import AuditEvent


def audit_events_for_person(*, person) -> QuerySet[AuditEvent]:
    """The change history of one person. Callers check `can_view_change_history` first."""
    return AuditEvent.objects.filter(person=person).select_related("actor")


def audit_search(
    *,
    username: str = "",
    research_id: str = "",
    prison_number: str = "",
    action: str = "",
    since=None,
    until=None,
) -> QuerySet[AuditEvent]:
    """Events matching every given filter, newest first. Callers check that the viewer is an
    administrator (``records.access.can_view_change_history``) first."""
    events = AuditEvent.objects.select_related("actor", "person")
    if username:
        events = events.filter(actor__username=username) | events.filter(actor_label=username)
    if research_id:
        events = events.filter(person__research_id=research_id)
    if prison_number:
        events = events.filter(person__prison_number=prison_number)
    if action:
        events = events.filter(action__startswith=action)
    if since:
        events = events.filter(created_at__date__gte=since)
    if until:
        events = events.filter(created_at__date__lte=until)
    return events.order_by("-created_at", "-id")

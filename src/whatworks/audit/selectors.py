from __future__ import annotations

from django.db.models import QuerySet

from whatworks.audit.models import AuditEvent


def audit_events_for_person(*, person) -> QuerySet[AuditEvent]:
    """The change history of one person. Callers check `can_view_change_history` first."""
    return AuditEvent.objects.filter(person=person).select_related("actor")

"""Recording audit events. Called by every service, inside the service's transaction."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils import timezone

from whatworks.audit.chain import event_hash
from whatworks.audit.models import AuditChainHead, AuditEvent


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """The instance's concrete field values, keyed by attribute name, for before/after."""
    names = fields or [field.attname for field in instance._meta.concrete_fields]
    return {name: getattr(instance, name) for name in names}


def audit_record(
    *,
    actor,
    action: str,
    target: models.Model | None,
    person=None,
    object_type: str = "",
    object_id: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Append one audit event. Must run inside the caller's atomic block.

    ``target`` is the changed row; a change to many rows at once (an import) passes None
    with an ``object_type`` and ``object_id`` naming what was changed.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must be called inside the change's transaction")
    if before is not None and after is not None:
        changed = {key for key in after if before.get(key) != after.get(key)}
        before = {key: before.get(key) for key in sorted(changed)}
        after = {key: after[key] for key in sorted(changed)}
    # The chain head is locked until this transaction ends: concurrent writers append in
    # turn, each after the event the previous one wrote.
    head, _created = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    event = AuditEvent(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=actor_label or (actor.get_username() if actor is not None else "system"),
        action=action,
        object_type=target._meta.label_lower if target is not None else object_type,
        object_id=str(target.pk) if target is not None else object_id,
        person=person,
        before=before,
        after=after,
        created_at=timezone.now(),
        previous_hash=head.last_hash,
    )
    event.row_hash = event_hash(head.last_hash, event)
    event.save()
    head.last_event_id = event.pk
    head.last_hash = event.row_hash
    head.save(update_fields=["last_event_id", "last_hash"])
    return event

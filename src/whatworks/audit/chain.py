"""The audit trail's hash chain: how an event is hashed, and how the chain is checked.

Each event's ``row_hash`` is the SHA-256 of the previous event's hash and a canonical JSON
of the event's content (time in UTC to the microsecond, actor, action, object, person,
before and after as stored). ``whatworks audit verify`` recomputes the chain in id order and
names the first event that does not fit: altered content, a removed or reordered event, or
events removed from the end (the chain head remembers the last one).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from whatworks.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent


def _as_stored(value: Any) -> Any:
    """The JSON value as the database gives it back (dates become strings, and so on)."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _time(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def event_hash(previous_hash: str, event: AuditEvent) -> str:
    content = {
        "created_at": _time(event.created_at),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "person_id": event.person_id,
        "before": _as_stored(event.before),
        "after": _as_stored(event.after),
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{previous_hash}\n{text}".encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class ChainCheck:
    events: int
    broken_at: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None and not self.problem


def verify_chain() -> ChainCheck:
    """Recompute the chain from the first event; stop at the first that does not fit."""
    previous = GENESIS_HASH
    count = 0
    last_id = None
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        count += 1
        if event.previous_hash != previous:
            return ChainCheck(
                count,
                event.pk,
                "its previous hash does not match the event before it "
                "(an event before it was removed, added or reordered)",
            )
        if event_hash(previous, event) != event.row_hash:
            return ChainCheck(count, event.pk, "its content does not match its hash (altered)")
        previous = event.row_hash
        last_id = event.pk
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.last_event_id != last_id or head.last_hash != previous):
        return ChainCheck(
            count,
            head.last_event_id,
            "the chain ends earlier than its head records (events removed from the end)",
        )
    return ChainCheck(count)

"""Small checks every app's services share: who may act, whether the person is in the
actor's scope, and collecting field errors before one ``ValidationError``."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from whatworks.records.access import persons_visible_to
from whatworks.records.models import Person


def today() -> datetime.date:
    return timezone.localdate()


def actor_or_none(actor):
    """The user to store on a row, or None for the system (imports, the demo)."""
    return actor if getattr(actor, "pk", None) else None


def require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionError(message)


def require_person_in_scope(actor, person: Person) -> None:
    """Out of scope looks exactly like missing (ADR 0004)."""
    if actor is not None and not persons_visible_to(actor).filter(pk=person.pk).exists():
        raise Person.DoesNotExist


def add_error(errors: dict[str, list[str]], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def raise_if_any(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def date_not_future(errors: dict[str, list[str]], field: str, value: datetime.date | None):
    if value is not None and value > today():
        add_error(errors, field, _("This date is in the future."))

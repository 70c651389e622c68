"""Optimistic locking: the second of two concurrent edits is refused, never silently kept.

Plans, assessments, programme referrals, pathway records, release arrangements and
community provider referrals carry an integer ``lock_version`` (1 when created). An editor
loads the record with its ``lock_version``; the update service receives it back as
``expected_version`` and, inside its transaction, runs

    UPDATE ... SET lock_version = lock_version + 1 WHERE id = %s AND lock_version = %s

Zero rows updated means someone saved in between: the service raises ``StaleEdit`` and its
transaction rolls back, so nothing of the refused save is written (and no audit event is
recorded for it). ``expected_version=None`` skips the check but still moves the version on,
for programmatic callers (imports, the demo loader, system events such as a release) and for
API clients that do not send a version. See docs/concurrency.md.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Schema

LOCK_FIELD = "lock_version"
# Within every backend's integer range: a larger submitted version is a validation error,
# never a database error.
MAX_VERSION = 2**31 - 1

# One sentence per kind of record, so that each language can phrase it properly.
_CHANGED_BY = {
    "treatment.interventionplan": gettext_lazy(
        "This plan was changed by another user after you opened it (%(change)s). Your "
        "changes were not saved. Reload the page to see the current version and apply your "
        "changes again."
    ),
    "treatment.referral": gettext_lazy(
        "This referral was changed by another user after you opened it (%(change)s). Your "
        "changes were not saved. Reload the page to see the current version and apply your "
        "changes again."
    ),
    "assessments.assessment": gettext_lazy(
        "This assessment was changed by another user after you opened it (%(change)s). Your "
        "changes were not saved. Reload the page to see the current version and apply your "
        "changes again."
    ),
    "reintegration.pathwayassessment": gettext_lazy(
        "This pathway was changed by another user after you opened it (%(change)s). Your "
        "changes were not saved. Reload the page to see the current version and apply your "
        "changes again."
    ),
    "reintegration.arrangement": gettext_lazy(
        "This arrangement was changed by another user after you opened it (%(change)s). Your "
        "changes were not saved. Reload the page to see the current version and apply your "
        "changes again."
    ),
    "community.providerreferral": gettext_lazy(
        "This referral was changed by another user after you opened it (%(change)s). Your "
        "changes were not saved. Reload the page to see the current version and apply your "
        "changes again."
    ),
}
_FALLBACK = gettext_lazy(
    "This record was changed by another user after you opened it (%(change)s). Your changes "
    "were not saved. Reload the page to see the current version and apply your changes again."
)


def lock_version_field() -> models.PositiveIntegerField:
    """The field every locked model declares as ``lock_version``."""
    return models.PositiveIntegerField(
        gettext_lazy("edit version"),
        default=1,
        editable=False,
        help_text=gettext_lazy("Goes up by one on every change; used to refuse stale edits."),
    )


class StaleEdit(ValidationError):
    """The record changed after the editor loaded it. A ``ValidationError`` (non-field
    ``__all__``) so existing form and API handlers show it; web views answer 409 when they
    can tell (``page_status``) and the API always answers 409 (``api_stale_as_409``)."""

    def __init__(self, message: str, *, current_version: int | None = None):
        super().__init__({"__all__": [message]})
        self.message_text = message
        self.current_version = current_version


def last_change(instance: models.Model, also=None) -> tuple[str, Any] | None:
    """Who made the latest audited change to ``instance`` (or to rows matched by ``also``,
    e.g. a plan's goals; a ``Q`` or a callable returning one) and when, or None if the
    audit trail does not say."""
    from whatworks.audit.models import AuditEvent

    condition = Q(object_type=instance._meta.label_lower, object_id=str(instance.pk))
    if callable(also):
        also = also()
    if also is not None:
        condition |= also
    event = (
        AuditEvent.objects.filter(condition)
        .select_related("actor")
        .order_by("-created_at", "-id")
        .first()
    )
    if event is None:
        return None
    who = event.actor_label
    if event.actor is not None:
        who = event.actor.get_full_name() or event.actor.get_username()
    return who, event.created_at


def stale_message(instance: models.Model, also=None) -> str:
    change = last_change(instance, also)
    if change is None:
        detail = _("changed at an unknown time")
    else:
        who, when = change
        detail = _("by %(who)s at %(when)s") % {
            "who": who,
            "when": formats.date_format(timezone.localtime(when), "SHORT_DATETIME_FORMAT"),
        }
    template = _CHANGED_BY.get(instance._meta.label_lower, _FALLBACK)
    return str(template) % {"change": detail}


def parse_version(value: Any) -> int | None:
    """A submitted version as an int, or None when absent or blank. Garbage is a field error."""
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError(
            {LOCK_FIELD: [_("The edit version must be a whole number.")]}
        ) from None
    if not 0 <= number <= MAX_VERSION:
        raise ValidationError({LOCK_FIELD: [_("The edit version must be a whole number.")]})
    return number


def claim(instance: models.Model, expected_version: int | None, *, also=None) -> None:
    """Move ``instance``'s lock version on by one, if it still is ``expected_version``.

    Call inside the service's transaction, before writing anything else: on a mismatch it
    raises ``StaleEdit`` (naming who changed the record and when, from the audit trail) and
    the transaction rolls back. ``None`` skips the comparison. On success the instance's
    ``lock_version`` is the new value, so a later ``save()`` keeps it."""
    model = type(instance)
    rows = model._default_manager.filter(pk=instance.pk)
    if expected_version is not None:
        rows = rows.filter(**{LOCK_FIELD: expected_version})
    if rows.update(**{LOCK_FIELD: F(LOCK_FIELD) + 1}) != 1:
        current = (
            model._default_manager.filter(pk=instance.pk).values_list(LOCK_FIELD, flat=True).first()
        )
        raise StaleEdit(stale_message(instance, also), current_version=current)
    instance.lock_version = (
        model._default_manager.filter(pk=instance.pk).values_list(LOCK_FIELD, flat=True).get()
    )


def check_new(expected_version: int | None, existing: models.Model | None, *, also=None) -> None:
    """For a record created on first save (a pathway): the editor saw "no record yet" as
    version 0; if someone created it meanwhile, the edit is stale."""
    if existing is not None and expected_version == 0:
        raise StaleEdit(
            stale_message(existing, also), current_version=getattr(existing, LOCK_FIELD)
        )


# --- web and API ------------------------------------------------------------------------


def mark_if_stale(form, error: ValidationError) -> None:
    """Remember on the form that the refusal was a stale edit, for ``page_status``."""
    if isinstance(error, StaleEdit):
        form.stale_edit = True


@contextlib.contextmanager
def marking_stale(form):
    """Wrap a service call whose ValidationError is added to ``form`` by the caller."""
    try:
        yield
    except StaleEdit as error:
        mark_if_stale(form, error)
        raise


def refuse_if_stale(form, instance: models.Model, *, also=None) -> bool:
    """Before validating a posted form whose choices depend on the record's state (the next
    statuses of a referral): if the version it carries is not the record's, show the stale
    message rather than "not a valid choice". The service still checks, atomically."""
    posted = form.data.get(form.add_prefix(LOCK_FIELD)) if form.is_bound else None
    try:
        expected = parse_version(posted)
    except ValidationError:
        return False  # the form's own validation names the field
    if expected is None or expected == getattr(instance, LOCK_FIELD):
        return False
    form.is_valid()
    form.add_error(None, stale_message(instance, also))
    form.stale_edit = True
    return True


def page_status(form) -> int:
    """409 when the form is shown again because of a stale edit, 400 for other errors."""
    if form is not None and getattr(form, "stale_edit", False):
        return 409
    return 400 if form is not None and form.errors else 200


class StaleOut(Schema):
    """The 409 body of a refused stale write."""

    detail: str


@contextlib.contextmanager
def api_stale_as_409():
    """Inside an API view: a stale edit becomes ``409 {"detail": "<message>"}``."""
    from ninja.errors import HttpError

    try:
        yield
    except StaleEdit as error:
        raise HttpError(409, error.message_text) from None


def version_form_field():
    """The hidden form field that carries the version the editor loaded."""
    from django import forms

    return forms.IntegerField(
        required=False, min_value=0, max_value=MAX_VERSION, widget=forms.HiddenInput
    )

"""Human, translated names for audit actions and the fields they changed."""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "api_token.create": _("API token created"),
    "assessment.complete": _("Assessment completed"),
    "assessment.import": _("Assessments loaded"),
    "assessment.override": _("Assessment band overridden"),
    "assessment.read_answers": _("Assessment answers viewed"),
    "assessment.save_draft": _("Assessment draft saved"),
    "assessment.start": _("Assessment started"),
    "instrument_version.register": _("Instrument version registered"),
    "api_token.revoke": _("API token revoked"),
    "custody.admit": _("Admitted to custody"),
    "custody.release": _("Released"),
    "custody.transfer": _("Transferred"),
    "extract.load": _("Extract loaded"),
    "facility.create": _("Facility created"),
    "outcome.record": _("Outcome event recorded"),
    "person.create": _("Person registered"),
    "person.facility_change": _("Responsible facility changed"),
    "person.update": _("Identity corrected"),
    "user.create": _("Staff account created"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def field_label(object_type: str, attribute: str) -> str:
    """The verbose name of a model field given its attribute name (``facility_id`` too)."""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return attribute
    for field in model._meta.concrete_fields:
        if attribute in (field.name, field.attname):
            return str(field.verbose_name)
    try:
        return str(model._meta.get_field(attribute).verbose_name)
    except FieldDoesNotExist:
        return attribute

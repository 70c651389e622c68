"""Number formatting for risk-instrument findings."""

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

GROUP_LABELS = {"sex": _("Sex"), "age_band": _("Age at release")}


@register.filter
def decimal3(value) -> str:
    if value is None or value == "":
        return "—"
    try:
        return f"{float(value):.3f}"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def percent(value) -> str:
    if value is None or value == "":
        return "—"
    try:
        return f"{float(value) * 100:.1f}%"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def group_label(column: str) -> str:
    return str(GROUP_LABELS.get(column, column))

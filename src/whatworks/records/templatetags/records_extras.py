from django import template

from whatworks.records.choices import movement_reason_label

register = template.Library()


@register.filter
def movement_reason(reason: str) -> str:
    return movement_reason_label(reason)

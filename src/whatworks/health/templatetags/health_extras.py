"""The "Health" section of the person page (records/person_detail.html)."""

from django import template

from whatworks.health import access
from whatworks.health.models import RelapsePlanStatus

register = template.Library()


@register.inclusion_tag("health/_person_section.html", takes_context=True)
def person_health_section(context, person):
    user = context["request"].user
    if not access.can_view_health_page(user):
        return {"show": False}
    # Flags only here (no clinical sources, so no health read to audit).
    flags = None
    if access.can_view_flags(user):
        from whatworks.health.flags import health_flags

        flags = health_flags(person)
    plan = (
        access.relapse_plans_visible_to(user)
        .filter(person=person, status=RelapsePlanStatus.ACTIVE)
        .first()
    )
    return {"show": True, "person": person, "flags": flags, "plan": plan}

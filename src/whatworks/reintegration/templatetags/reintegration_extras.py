"""The "Release preparation" section of the person page (records/person_detail.html)."""

from django import template

from whatworks.reintegration import access, selectors

register = template.Library()


@register.inclusion_tag("reintegration/_person_section.html", takes_context=True)
def person_reintegration_section(context, person):
    user = context["request"].user
    if not access.can_view_preparation(user):
        return {"show": False}
    prepared = selectors.person_preparation(viewer=user, person=person)
    if prepared.episode is None:
        return {"show": False}
    return {"show": True, "person": person, "prepared": prepared}

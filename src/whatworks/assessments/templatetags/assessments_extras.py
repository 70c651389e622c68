"""The "Assessments" section of the person page (records/person_detail.html)."""

from django import template

from whatworks.assessments.access import can_assess, can_view_assessments
from whatworks.assessments.selectors import latest_results

register = template.Library()


@register.inclusion_tag("assessments/_person_section.html", takes_context=True)
def person_assessments_section(context, person):
    request = context["request"]
    user = request.user
    language = getattr(request, "LANGUAGE_CODE", "en")
    show = can_view_assessments(user)
    latest = []
    if show:
        for assessment in latest_results(viewer=user, person=person):
            instrument = assessment.instrument_version.instrument
            latest.append(
                {
                    "assessment": assessment,
                    "name": instrument.text("name", language),
                    "band": instrument.text(assessment.effective_band, language),
                }
            )
    return {"show": show, "latest": latest, "person": person, "can_assess": can_assess(user)}

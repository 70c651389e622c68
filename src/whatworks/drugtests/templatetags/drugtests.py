from django import template

from whatworks.drugtests import access, services
from whatworks.treatment.access import can_refer

register = template.Library()


@register.inclusion_tag("drugtests/_treatment_prompt.html", takes_context=True)
def drug_test_prompt(context, person):
    """The positive-test prompt on a person's treatment page (no results, only the date)."""
    user = context["request"].user
    prompt = services.positive_prompt(person) if access.can_see_prompt(user) else None
    return {
        "prompt": prompt,
        "person": person,
        "can_refer": can_refer(user),
        "can_read_results": access.can_read_results(user),
    }

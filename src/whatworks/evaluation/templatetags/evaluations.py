"""``{% latest_evaluation programme as evaluation %}`` for the programme page."""

from django import template

from whatworks.evaluation.access import can_view_evaluations
from whatworks.evaluation.selectors import latest_succeeded_run

register = template.Library()


@register.simple_tag(takes_context=True)
def latest_evaluation(context, programme):
    """The latest succeeded run of the programme, for those who may read evaluations."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if not can_view_evaluations(user):
        return None
    return latest_succeeded_run(viewer=user, programme=programme)


@register.filter
def effect(value, measure=""):
    """An estimate or interval bound in the unit readers use: percentage points for a
    difference in proportions, the value otherwise."""
    if value is None or value == "":
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "—"
    if measure == "risk_difference":
        return f"{number * 100:+.1f}".replace("-", "−")
    return f"{number:.3g}".replace("-", "−")

"""The "Treatment" section of the person page (records/person_detail.html)."""

from django import template

from whatworks.treatment import access, rules, selectors
from whatworks.treatment.labels import band_label
from whatworks.treatment.models import PlanStatus

register = template.Library()


@register.inclusion_tag("treatment/_person_section.html", takes_context=True)
def person_treatment_section(context, person):
    user = context["request"].user
    show = access.can_view_plans(user) or access.can_view_referrals(user)
    if not show:
        return {"show": False}
    plan = (
        access.plans_visible_to(user)
        .filter(person=person, status=PlanStatus.APPROVED)
        .select_related("approved_by")
        .first()
    )
    episode = selectors.current_episode(person)
    dosage = selectors.dosage_for(person, episode, plan.target_hours if plan else None)
    open_referrals = (
        access.referrals_visible_to(user)
        .filter(person=person, status__in=rules.ACTIVE_REFERRAL_STATUSES)
        .select_related("programme")
        .order_by("-referral_date", "-id")
    )
    return {
        "show": True,
        "person": person,
        "plan": plan,
        "dosage": dosage,
        "open_referrals": list(open_referrals),
    }


@register.filter
def risk_band_label(band: str | None) -> str:
    """A risk band code as words in the user's language ("high" -> "High risk")."""
    return band_label(band)

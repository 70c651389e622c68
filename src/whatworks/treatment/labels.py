"""Translated words and sentences for the codes the treatment rules return.

The pure rules (``whatworks.analytics.treatment``) explain themselves with reason codes and
parameters; this module turns them into sentences in the user's language. A test checks
that every code the rules can return has a sentence here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from whatworks.records.choices import EducationLevel, Literacy, Sex
from whatworks.treatment.models import EvidenceRating, ProgrammeType

NEED_LABELS = {
    "criminal_history": _("Criminal history"),
    "antisocial_attitudes": _("Antisocial attitudes and cognition"),
    "antisocial_associates": _("Antisocial associates"),
    "antisocial_personality": _("Antisocial personality pattern"),
    "family_marital": _("Family and marital"),
    "school_work": _("School and work"),
    "leisure_recreation": _("Leisure and recreation"),
    "substance_abuse": _("Substance abuse"),
}
BAND_LABELS = {
    "low": _("Low risk"),
    "moderate": _("Moderate risk"),
    "high": _("High risk"),
    "very_high": _("Very high risk"),
    "not_assessed": _("Not assessed"),
}
FIDELITY_BAND_LABELS = {
    "very_high": _("Very high adherence"),
    "high": _("High adherence"),
    "moderate": _("Moderate adherence"),
    "low": _("Low adherence"),
}
ADAPTATION_LABELS = {
    "low_literacy": _("Materials for low literacy"),
    "learning_needs": _("Adapted for learning needs"),
    "mental_health": _("Adapted for mental health needs"),
    "interpreter": _("Interpreter available"),
    "women_only": _("Women only"),
}
COMPONENT_LABELS = {
    "risk": _("Risk"),
    "need": _("Need"),
    "release": _("Time to release"),
    "waiting": _("Time waiting"),
}
REMISSION_KIND_LABELS = {
    "study": _("Study"),
    "work": _("Work"),
    "bonus": _("School level completed"),
    "revocation": _("Revoked for a serious fault"),
}

REASON_TEMPLATES = {
    # a proposed programme
    "targets_need": _("Targets %(need)s (score %(score)s, need from %(threshold)s)."),
    "also_targets_need": _("Also targets %(need)s (score %(score)s, need from %(threshold)s)."),
    "evidence_rating": _("Evidence rating: %(rating)s."),
    "counts_toward_dosage": _("Its %(hours)s hours count toward the risk-based dosage."),
    "not_counted_toward_dosage": _(
        "Its %(hours)s hours do not count toward the dosage (not a criminogenic need here)."
    ),
    "adaptation_matched": _("Offers an adaptation the person needs: %(adaptation)s."),
    "education_next_level": _(
        "Next education level for the person (%(education_level)s): %(programme_type)s."
    ),
    # a programme left out
    "excluded_no_effect": _("Not proposed: evaluated as having no effect."),
    "excluded_negative_effect": _("Not proposed: evaluated as harmful."),
    "excluded_completed": _("Already completed."),
    "excluded_active": _("Already referred or taking part."),
    "excluded_not_offered_here": _("Not offered at the person's facility."),
    "excluded_low_risk_intensive": _(
        "Low risk: intensive programmes can increase reoffending for low-risk people, so only "
        "education and work are proposed."
    ),
    "excluded_no_assessment": _("No completed risk assessment: intensive programmes wait for one."),
    "excluded_risk_band": _("For %(eligible)s only; the person is %(risk_band)s."),
    "excluded_sex": _("For %(eligible)s only."),
    "excluded_age": _("Age %(age)s is outside the programme's age range."),
    "excluded_literacy": _("Needs at least %(min_literacy)s; the person: %(literacy)s."),
    "excluded_education_below_minimum": _(
        "Needs at least %(min_education)s; the person: %(education_level)s."
    ),
    "excluded_education_above_maximum": _(
        "For people up to %(max_education)s; the person: %(education_level)s."
    ),
    "excluded_missing_prerequisites": _("Prerequisites not completed: %(missing)s."),
    "excluded_language": _(
        "Delivered in %(languages)s, which the person does not speak, and no interpreter."
    ),
    "alternative_preferred": _("Another programme was preferred for this need: %(chosen)s."),
    "targets_no_current_need": _("Targets no need the person has now."),
    "need_deferred": _(
        "%(need)s is left for a later review: the dosage target is already reached."
    ),
    # adaptations for the whole plan
    "adapt_materials_literacy": _(
        "Literacy (%(literacy)s): use oral and visual materials and check understanding."
    ),
    "adapt_learning_needs": _("Learning needs: shorter sessions, repetition and simple language."),
    "adapt_mental_health": _(
        "Mental health needs: coordinate with health staff before and during programmes."
    ),
    "adapt_gender_responsive": _("Prefer gender-responsive or women-only groups."),
    "adapt_accessibility": _("Accessibility: %(support_need)s."),
    # warnings on the plan
    "no_assessment": _(
        "No completed RNR screener: only education and work can be proposed. Assess first."
    ),
    "need_without_programme": _("No eligible programme here targets %(need)s."),
    "dosage_below_target": _(
        "The proposed programmes give %(planned)s hours; the risk principle asks for %(target)s."
    ),
    "education_without_programme": _("No %(programme_type)s course is offered here."),
    "education_level_not_recorded": _(
        "The person's education level is not recorded; record it to plan education."
    ),
    "literacy_not_recorded_for_programme": _(
        "Literacy is not recorded, and %(programme)s asks for %(min_literacy)s."
    ),
    "education_not_recorded_for_programme": _(
        "The education level is not recorded, and %(programme)s has education limits."
    ),
    # waitlist ranking
    "waitlist_risk": _("Risk: %(risk_band)s (+%(contribution)s)."),
    "waitlist_need": _(
        "Need: %(need_ratio)s times the threshold in the targeted areas (+%(contribution)s)."
    ),
    "waitlist_need_unknown": _("Need not assessed (+%(contribution)s)."),
    "waitlist_release": _("Released in %(days_to_release)s days (+%(contribution)s)."),
    "waitlist_release_unknown": _("Release date unknown (+%(contribution)s)."),
    "waitlist_waiting": _("Waiting %(days_waiting)s days (+%(contribution)s)."),
    "release_before_programme_ends": _(
        "Released in %(days_to_release)s days, before the programme's %(programme_days)s days "
        "end: plan to continue it in the community."
    ),
    # remission lines
    "study_days_remitted": _(
        "%(days)s day(s) remitted for %(hours_used)s hours of study (%(carried_hours)s hours "
        "carried forward)."
    ),
    "study_hours_over_daily_limit": _(
        "%(hours)s hours of study in one day; %(counted)s count (at most %(limit)s a day)."
    ),
    "work_days_remitted": _(
        "%(days)s day(s) remitted for %(work_days_used)s days of work (%(carried_days)s "
        "carried forward)."
    ),
    "work_day_too_short": _(
        "%(hours)s hours of work do not make a working day (at least %(min_hours)s)."
    ),
    "school_level_bonus": _(
        "School level completed: %(fraction)s more of the %(study_days)s study days = "
        "%(days)s day(s)."
    ),
    "revocation": _(
        "Serious fault: %(fraction)s of %(net_days_before)s remitted days revoked = %(days)s "
        "day(s); the count restarts."
    ),
}


def need_label(need: str) -> str:
    return str(NEED_LABELS.get(need, need))


def band_label(band: str | None) -> str:
    return str(BAND_LABELS.get(band or "not_assessed", band))


def _choice_label(choices, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def _param_text(name: str, value: Any, programme_names: Mapping[str, str]) -> str:
    if name == "need":
        return need_label(str(value))
    if name in {"risk_band"}:
        return band_label(str(value))
    if name == "eligible":
        parts = str(value).split(",")
        return ", ".join(
            band_label(part) if part in BAND_LABELS else _choice_label(Sex, part) for part in parts
        )
    if name == "rating":
        return _choice_label(EvidenceRating, str(value))
    if name == "programme_type":
        return _choice_label(ProgrammeType, str(value))
    if name in {"literacy", "min_literacy"}:
        return _choice_label(Literacy, str(value))
    if name in {"education_level", "min_education", "max_education"}:
        return _choice_label(EducationLevel, str(value))
    if name == "adaptation":
        return str(ADAPTATION_LABELS.get(value, value))
    if name in {"chosen", "key", "missing"}:
        return ", ".join(programme_names.get(part, part) for part in str(value).split(","))
    if name == "level":
        return _choice_label(ProgrammeType, str(value))
    if name == "support_need":
        from whatworks.records.choices import SupportNeed

        return _choice_label(SupportNeed, str(value))
    if name == "support_needs":
        from whatworks.records.choices import SupportNeed

        return ", ".join(_choice_label(SupportNeed, part) for part in str(value).split(","))
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def reason_text(reason, programme_names: Mapping[str, str] | None = None) -> str:
    """One reason (an analytics ``Reason`` or its stored ``{"code", "params"}`` form) as a
    sentence in the active language. ``programme_names`` maps programme keys to names."""
    code = reason["code"] if isinstance(reason, Mapping) else reason.code
    params = reason["params"] if isinstance(reason, Mapping) else reason.params
    template = REASON_TEMPLATES.get(code)
    if template is None:
        return code
    names = programme_names or {}
    values = {name: _param_text(name, value, names) for name, value in dict(params).items()}
    if "programme" not in values and "key" in values:
        values["programme"] = values["key"]
    try:
        return gettext(str(template)) % values
    except (KeyError, ValueError, TypeError):
        return str(template)

from whatworks.assessments.access import can_view_due_list
from whatworks.community.access import can_view_followup_counts, can_view_providers
from whatworks.drugtests.access import can_use_drug_tests
from whatworks.evaluation.access import can_view_evaluations
from whatworks.outcomes.access import can_review_links
from whatworks.records.access import (
    can_view_change_history,
    can_view_evidence,
    can_view_persons,
)
from whatworks.reintegration.access import can_view_preparation
from whatworks.riskmodels.access import can_use_riskmodels
from whatworks.treatment.access import (
    can_deliver,
    can_plan,
    can_view_catalogue,
    can_view_treatment_dashboard,
)


def navigation(request):
    user = getattr(request, "user", None)
    return {
        "nav_can_view_persons": can_view_persons(user),
        "nav_can_view_evidence": can_view_evidence(user),
        "nav_can_view_evaluations": can_view_evaluations(user),
        "nav_can_view_assessments": can_view_due_list(user),
        "nav_can_view_programmes": can_view_catalogue(user),
        "nav_can_deliver": can_deliver(user),
        "nav_can_plan": can_plan(user),
        "nav_can_view_treatment_dashboard": can_view_treatment_dashboard(user),
        "nav_can_use_drug_tests": can_use_drug_tests(user),
        "nav_can_view_releases": can_view_preparation(user),
        "nav_can_view_providers": can_view_providers(user),
        "nav_can_view_followups": can_view_followup_counts(user),
        "nav_can_review_links": can_review_links(user),
        "nav_can_use_riskmodels": can_use_riskmodels(user),
        "nav_can_read_audit": can_view_change_history(user),
    }

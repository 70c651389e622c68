from whatworks.assessments.access import can_view_due_list
from whatworks.records.access import can_view_evidence, can_view_persons


def navigation(request):
    user = getattr(request, "user", None)
    return {
        "nav_can_view_persons": can_view_persons(user),
        "nav_can_view_evidence": can_view_evidence(user),
        "nav_can_view_assessments": can_view_due_list(user),
    }

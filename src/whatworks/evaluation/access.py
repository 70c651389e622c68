"""Who may run and read programme evaluations.

- Analysts and administrators run evaluations (over any facilities) and read every run.
- Facility managers read the runs whose cohort is limited to their own facilities, as for
  the recidivism figures (a run publishes aggregates only: an effect, its interval, balance
  and overlap summaries, never a person). They cannot start runs.
- Everyone else gets a 403 page; an unknown run and a forbidden one give the same 404.
"""

from __future__ import annotations

from django.db.models import QuerySet

from whatworks.accounts.models import Role
from whatworks.evaluation.models import EvaluationRun
from whatworks.records.access import facilities_in_scope, is_active_staff

RUNNER_ROLES = frozenset({Role.ADMINISTRATOR, Role.ANALYST})
READER_ROLES = RUNNER_ROLES | {Role.FACILITY_MANAGER}


def can_run_evaluations(user) -> bool:
    return is_active_staff(user) and user.role in RUNNER_ROLES


def can_view_evaluations(user) -> bool:
    return is_active_staff(user) and user.role in READER_ROLES


def runs_visible_to(user) -> QuerySet[EvaluationRun]:
    if not can_view_evaluations(user):
        return EvaluationRun.objects.none()
    if user.role in RUNNER_ROLES:
        return EvaluationRun.objects.all()
    own = set(facilities_in_scope(user).values_list("code", flat=True))
    # A run over "every facility" (no facilities chosen) covers other facilities too.
    readable = [
        pk
        for pk, parameters in EvaluationRun.objects.values_list("pk", "parameters")
        if parameters.get("facilities") and set(parameters["facilities"]) <= own
    ]
    return EvaluationRun.objects.filter(pk__in=readable)


def access_run_by_id(user, run_id: int) -> EvaluationRun:
    """The one way to fetch a run for display. Missing and forbidden look the same."""
    return runs_visible_to(user).select_related("programme", "created_by").get(pk=run_id)

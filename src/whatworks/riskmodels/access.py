"""Who may validate, fit and publish risk instruments.

- Analysts and administrators run validations and fits (aggregates over any facilities;
  the runs hold no person) and read every run, and analysts ask for a fitted score to be
  published.
- Only administrators approve or reject a publication: a published score becomes an
  instrument that staff can use on people.
- Everyone else gets a 403 page; an unknown run and a forbidden one give the same 404.
"""

from __future__ import annotations

from django.db.models import QuerySet

from whatworks.accounts.models import Role
from whatworks.records.access import is_active_staff
from whatworks.riskmodels.models import RiskModelRun

RUNNER_ROLES = frozenset({Role.ADMINISTRATOR, Role.ANALYST})


def can_use_riskmodels(user) -> bool:
    return is_active_staff(user) and user.role in RUNNER_ROLES


def can_approve_publication(user) -> bool:
    return is_active_staff(user) and user.role == Role.ADMINISTRATOR


def runs_visible_to(user) -> QuerySet[RiskModelRun]:
    if not can_use_riskmodels(user):
        return RiskModelRun.objects.none()
    return RiskModelRun.objects.all()

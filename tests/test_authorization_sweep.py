"""Authorization sweep: every URL and every API operation has a declared access rule, and
no persona can reach another facility's person through any of them.

The registry below names every Django route (by URL name) and every django-ninja operation
(by ``METHOD /api/v1/path``) with one of these rules:

- ``PUBLIC``: no login (login page, liveness, a stylesheet).
- ``STAFF``: any logged-in staff member; what it lists is scoped to the viewer (dashboards,
  lists, the own profile). Anonymous: redirect to login (web) or 401 (API).
- ``ROLE``: logged-in staff whose role allows it, 403 otherwise; aggregate or
  non-person content (catalogues, providers, evidence, evaluations, risk instruments).
- ``PERSON``: the URL names a person-scoped record. A person outside the viewer's scope must
  look missing: 403/404 (405 for a wrong method) for every role but the administrator, on
  GET and on an empty POST; for the API, 422 on a write with an empty body is accepted (the
  body is validated before the lookup, and nothing of the person is returned).
- ``FACILITY``: the URL names a facility (a waitlist, a drug-test selection month). Staff
  bound to facilities get 403/404 for a facility that is not theirs.
- ``OWN``: the URL names a record of the logged-in user (an API token): somebody else's is
  a 404.

On top of the per-rule status checks, for every route and persona: no 500; anonymous web
requests to anything but ``PUBLIC`` redirect to the login page, anonymous API calls get 401;
and the response body of a non-administrator never contains the out-of-scope person's
prison number or surname (for the analyst: no person's).
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

PUBLIC = "public"
STAFF = "staff"
ROLE = "role"
PERSON = "person"
FACILITY = "facility"
OWN = "own"

# Routes the sweep does not cover: Django's language switcher (no data, POST only).
SKIPPED_ROUTES = {"set_language"}

ROUTES: dict[str, str] = {
    # accounts
    "login": PUBLIC,
    "logout": PUBLIC,
    "profile": STAFF,
    "token-revoke": OWN,
    # api housekeeping (the operations are in API_OPERATIONS)
    "api:openapi-json": STAFF,
    "api:openapi-view": STAFF,
    "api:api-root": STAFF,
    # records
    "person-list": STAFF,
    "person-admit": ROLE,
    "person-detail": PERSON,
    "person-edit": PERSON,
    "episode-new": PERSON,
    "episode-transfer": PERSON,
    "episode-release": PERSON,
    "outcome-event-new": PERSON,
    # evidence
    "evidence": ROLE,
    "evidence-export": ROLE,
    # assessments
    "person-assessments": PERSON,
    "assessments-due": STAFF,
    "assessment-override-rates": ROLE,
    "assessment-detail": PERSON,
    "assessment-edit": PERSON,
    "assessment-override": PERSON,
    # treatment
    "person-treatment": PERSON,
    "plan-propose": PERSON,
    "referral-new": PERSON,
    "fault-new": PERSON,
    "plan-reviews-due": STAFF,
    "plan-detail": PERSON,
    "plan-approve": PERSON,
    "plan-revise": PERSON,
    "plan-review": PERSON,
    "goal-new": PERSON,
    "goal-edit": PERSON,
    "goal-delete": PERSON,
    "step-new": PERSON,
    "step-edit": PERSON,
    "referral-detail": PERSON,
    "programme-list": ROLE,
    "programme-new": ROLE,
    "programme-detail": ROLE,
    "programme-edit": ROLE,
    "fidelity-new": ROLE,
    "waitlist-overview": STAFF,
    "waitlist-detail": FACILITY,
    "group-list": STAFF,
    "group-new": ROLE,
    "group-detail": FACILITY,
    "sessions-new": FACILITY,
    "session-register": FACILITY,
    "attendance-correct": PERSON,
    "treatment-dashboard": ROLE,
    # health
    "person-health": PERSON,
    "diagnosis-new": PERSON,
    "health-referral-new": PERSON,
    "relapse-plan-edit": PERSON,
    "diagnosis-correct": PERSON,
    "health-referral-update": PERSON,
    "relapse-reviews-due": STAFF,
    "relapse-plan-activate": PERSON,
    "relapse-plan-review": PERSON,
    "relapse-plan-print": PERSON,
    # drug tests
    "drugtest-person": PERSON,
    "drugtest-new": PERSON,
    "drugtest-correct": PERSON,
    "drugtest-selection-index": STAFF,
    "drugtest-selection": FACILITY,
    "drugtest-selection-draw": FACILITY,
    "drugtest-selection-untestable": FACILITY,
    "drugtest-dashboard": ROLE,
    # evaluation
    "evaluation-list": ROLE,
    "evaluation-new": ROLE,
    "evaluation-report-css": PUBLIC,
    "evaluation-detail": ROLE,
    "evaluation-repeat": ROLE,
    "evaluation-download": ROLE,
    # reintegration
    "person-reintegration": PERSON,
    "preparation-start": PERSON,
    "pathway-edit": PERSON,
    "release-task-new": PERSON,
    "release-task-status": PERSON,
    "arrangement-new": PERSON,
    "arrangement-edit": PERSON,
    "release-summary": PERSON,
    "release-summary-pdf": PERSON,
    "handover-new": PERSON,
    "handover-detail": PERSON,
    "handover-pdf": PERSON,
    "release-readiness": STAFF,
    # community
    "community-provider-list": ROLE,
    "community-provider-new": ROLE,
    "community-provider-detail": ROLE,
    "community-provider-edit": ROLE,
    "community-provider-deactivate": ROLE,
    "person-community": PERSON,
    "community-referral-new": PERSON,
    "community-followup-schedule": PERSON,
    "community-referral-transition": PERSON,
    "community-followup-record": PERSON,
    "community-followups": STAFF,
    # outcomes
    "outcome-review-queue": ROLE,
    "outcome-review-detail": PERSON,
    "outcome-review-accept": PERSON,
    "outcome-review-reject": PERSON,
    "outcome-import-list": ROLE,
    # risk instruments
    "riskmodel-run-list": ROLE,
    "riskmodel-validate-new": ROLE,
    "riskmodel-fit-new": ROLE,
    "riskmodel-run-detail": ROLE,
    "riskmodel-model-card": ROLE,
    "riskmodel-instrument-yaml": ROLE,
    "riskmodel-publication-request": ROLE,
    "riskmodel-publication-decide": ROLE,
    # web
    "dashboard": STAFF,
    "healthz": PUBLIC,
}

API_OPERATIONS: dict[str, str] = {
    "GET /api/v1/facilities": STAFF,
    "GET /api/v1/persons": STAFF,
    "POST /api/v1/persons": ROLE,
    "GET /api/v1/persons/{person_id}": PERSON,
    "PATCH /api/v1/persons/{person_id}": PERSON,
    "GET /api/v1/persons/{person_id}/custody-episodes": PERSON,
    "POST /api/v1/persons/{person_id}/custody-episodes": PERSON,
    "POST /api/v1/persons/{person_id}/custody-episodes/{episode_id}/transfers": PERSON,
    "POST /api/v1/persons/{person_id}/custody-episodes/{episode_id}/release": PERSON,
    "GET /api/v1/persons/{person_id}/outcome-events": PERSON,
    "POST /api/v1/persons/{person_id}/outcome-events": PERSON,
    "GET /api/v1/persons/{person_id}/assessments": PERSON,
    "POST /api/v1/persons/{person_id}/assessments": PERSON,
    "GET /api/v1/assessments/{assessment_id}": PERSON,
    "PUT /api/v1/assessments/{assessment_id}/draft": PERSON,
    "POST /api/v1/assessments/{assessment_id}/complete": PERSON,
    "POST /api/v1/assessments/{assessment_id}/override": PERSON,
    "GET /api/v1/programmes": STAFF,
    "GET /api/v1/persons/{person_id}/treatment": PERSON,
    "POST /api/v1/persons/{person_id}/plans": PERSON,
    "POST /api/v1/plans/{plan_id}/approve": PERSON,
    "POST /api/v1/persons/{person_id}/referrals": PERSON,
    "GET /api/v1/referrals/{referral_id}": PERSON,
    "POST /api/v1/referrals/{referral_id}/transitions": PERSON,
    "POST /api/v1/sessions/{session_id}/attendance": FACILITY,
    "GET /api/v1/persons/{person_id}/release-preparation": PERSON,
    "PUT /api/v1/persons/{person_id}/release-preparation/pathways/{pathway}": PERSON,
    "POST /api/v1/persons/{person_id}/release-preparation/arrangements": PERSON,
    "GET /api/v1/release-readiness": STAFF,
    "GET /api/v1/community/providers": STAFF,
    "GET /api/v1/persons/{person_id}/community": PERSON,
}

# Kwargs that cannot be built from a real object yet: a missing id, expected 403/404.
MISSING_ID = 999999
UNBUILT: set[str] = set()


# --- discovery -------------------------------------------------------------------------


def _walk(patterns, namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            yield pattern, namespace


def discovered_routes() -> set[str]:
    names = set()
    for pattern, namespace in _walk(get_resolver().url_patterns):
        module = getattr(pattern.callback, "__module__", "") or ""
        if module.startswith("ninja.operation"):
            continue  # an API operation: listed from the OpenAPI schema instead
        if module.startswith("django.contrib.admin") or module.startswith("django.views.static"):
            continue
        assert pattern.name, f"an unnamed URL pattern cannot be swept: {pattern.pattern}"
        name = f"{namespace}:{pattern.name}" if namespace else pattern.name
        if name in SKIPPED_ROUTES:
            continue
        names.add(name)
    return names


def discovered_operations() -> set[str]:
    from whatworks.api import api

    schema = api.get_openapi_schema()
    return {
        f"{method.upper()} {path.rstrip('/')}"
        for path, methods in schema["paths"].items()
        for method in methods
    }


def test_every_route_has_an_access_rule():
    routes = discovered_routes()
    missing = sorted(routes - set(ROUTES))
    stale = sorted(set(ROUTES) - routes)
    assert not missing, f"routes without an access rule in ROUTES: {missing}"
    assert not stale, f"ROUTES names routes that no longer exist: {stale}"


def test_every_api_operation_has_an_access_rule():
    operations = discovered_operations()
    missing = sorted(operations - set(API_OPERATIONS))
    stale = sorted(set(API_OPERATIONS) - operations)
    assert not missing, f"API operations without an access rule: {missing}"
    assert not stale, f"API_OPERATIONS names operations that no longer exist: {stale}"

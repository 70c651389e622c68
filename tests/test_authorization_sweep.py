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
- ``ADMIN_ONLY``: administrators only (the audit trail); 403 for every other role.

On top of the per-rule status checks, for every route and persona: no 500; anonymous web
requests to anything but ``PUBLIC`` redirect to the login page, anonymous API calls get 401;
and the response body of a non-administrator never contains the out-of-scope person's
prison number or surname (for the analyst: no person's).

Per role (issue 10: "for each role ... nothing leaks"), ``ROLE_MATRIX`` and
``PERSON_ROLE_MATRIX`` declare, from the apps' access.py, exactly which roles may use each
route, and ``API_ROLE_MATRIX`` each API operation that is not about one person; one persona
per role then requests everything on its own side: the allowed roles must succeed and every
other role must be refused, so a role given access by accident fails as surely as one locked
out. The API sweep is run a second time over personal Bearer tokens instead of a session,
and a revoked or unknown token must get 401 from every operation.
"""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

PUBLIC = "public"
STAFF = "staff"
ROLE = "role"
PERSON = "person"
FACILITY = "facility"
OWN = "own"
ADMIN_ONLY = "admin_only"

# Routes the sweep does not cover: Django's language switcher (no data, POST only).
SKIPPED_ROUTES = {"set_language"}

ROUTES: dict[str, str] = {
    # accounts
    "login": PUBLIC,
    "logout": PUBLIC,
    "profile": STAFF,
    "token-revoke": OWN,
    "two-factor": STAFF,  # the user's own second factor: enrol, disable
    "two-factor-verify": STAFF,  # the second step of signing in
    # api housekeeping (the operations are in API_OPERATIONS)
    # The schema and its docs hold no records, but map a closed service: staff or a token only
    # (api.schema_for_staff). Anonymous: 401 for the schema, the login page for the docs.
    "api:openapi-json": STAFF,
    "api:openapi-view": STAFF,
    "api:api-root": PUBLIC,  # ninja's bare prefix: a 404
    # audit
    "audit-log": ADMIN_ONLY,
    # records
    "person-list": STAFF,
    "person-admit": ROLE,
    "person-merge": ADMIN_ONLY,  # records.merge_views: administrators merge duplicates
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
    # privacy
    "person-subject-access": ADMIN_ONLY,  # privacy.access: administrators answer requests
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
    "GET /api/v1/plans/{plan_id}": PERSON,  # treatment.access.access_plan_by_id
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

# Web routes that answer like the API: an anonymous caller gets 401, not the login page.
API_STYLE_ROUTES = {"api:openapi-json"}

# --- who may use what: the per-role matrix --------------------------------------------------
#
# The roles allowed on every STAFF, ROLE and ADMIN_ONLY route, read from the views and the
# apps' access.py (not from what the routes answer). A STAFF route not listed is open to every
# role; any other route must be listed. The matrix test checks that exactly these roles get
# through (2xx/3xx on GET) and every other role gets 403, so a role given access by accident,
# or one locked out, fails it.

ADMINISTRATOR = "administrator"
ANALYST = "analyst"
FACILITY_MANAGER = "facility_manager"
CASE_MANAGER = "case_manager"
PROGRAMME_STAFF = "programme_staff"
HEALTH_STAFF = "health_staff"
ALL_ROLES = frozenset(
    {ADMINISTRATOR, ANALYST, FACILITY_MANAGER, CASE_MANAGER, PROGRAMME_STAFF, HEALTH_STAFF}
)
# The persona holding each role (conftest.py); bruno is a second case manager.
ROLE_PERSONAS = {
    CASE_MANAGER: "alice",
    ANALYST: "carla",
    FACILITY_MANAGER: "fabio",
    PROGRAMME_STAFF: "pablo",
    HEALTH_STAFF: "helena",
    ADMINISTRATOR: "dora",
}

# records.access.PERSON_VIEWER_ROLES: everyone who works with person records.
PERSON_VIEWERS = ALL_ROLES - {ANALYST}
# records.access.RECORD_EDITOR_ROLES (can_edit_records).
RECORD_EDITORS = frozenset({ADMINISTRATOR, FACILITY_MANAGER, CASE_MANAGER})
# records.access.EVIDENCE_VIEWER_ROLES, treatment DASHBOARD_ROLES, assessments
# OVERRIDE_RATE_ROLES, evaluation READER_ROLES: aggregate figures.
AGGREGATE_READERS = frozenset({ADMINISTRATOR, ANALYST, FACILITY_MANAGER})
# treatment.access.DELIVERY_ROLES = CATALOGUE_EDITOR_ROLES (can_deliver, can_edit_catalogue).
DELIVERY = frozenset({ADMINISTRATOR, FACILITY_MANAGER, PROGRAMME_STAFF})
# evaluation RUNNER_ROLES, riskmodels RUNNER_ROLES.
ANALYSTS = frozenset({ADMINISTRATOR, ANALYST})
# community PROVIDER_MANAGER_ROLES, outcomes IMPORT_VIEWER_ROLES.
MANAGERS = frozenset({ADMINISTRATOR, FACILITY_MANAGER})
ADMINISTRATORS = frozenset({ADMINISTRATOR})

ROLE_MATRIX: dict[str, frozenset[str]] = {
    # STAFF routes some roles are refused
    "person-list": PERSON_VIEWERS,  # analysts: aggregates only
    "assessments-due": RECORD_EDITORS | {HEALTH_STAFF},  # assessments.access.can_assess
    "plan-reviews-due": RECORD_EDITORS,  # treatment PLANNER_ROLES
    "waitlist-overview": RECORD_EDITORS | DELIVERY,  # can_view_referrals
    "group-list": RECORD_EDITORS | DELIVERY,
    "relapse-reviews-due": RECORD_EDITORS | {HEALTH_STAFF},  # health RELAPSE_EDITOR_ROLES
    "drugtest-selection-index": MANAGERS | {HEALTH_STAFF},  # drugtests SELECTION_ROLES
    "release-readiness": PERSON_VIEWERS,  # reintegration READER_ROLES
    # ROLE routes
    "person-admit": RECORD_EDITORS,
    "evidence": AGGREGATE_READERS,
    "evidence-export": AGGREGATE_READERS,
    "assessment-override-rates": AGGREGATE_READERS,
    "programme-list": ALL_ROLES,  # the catalogue: no person data
    "programme-detail": ALL_ROLES,
    "programme-new": DELIVERY,
    "programme-edit": DELIVERY,
    "fidelity-new": DELIVERY,
    "group-new": DELIVERY,
    "treatment-dashboard": AGGREGATE_READERS,
    "drugtest-dashboard": MANAGERS | {HEALTH_STAFF, ANALYST},  # drugtests DASHBOARD_ROLES
    "evaluation-list": AGGREGATE_READERS,
    "evaluation-new": ANALYSTS,
    "evaluation-detail": AGGREGATE_READERS,
    "evaluation-repeat": ANALYSTS,
    "evaluation-download": AGGREGATE_READERS,
    "community-provider-list": PERSON_VIEWERS,  # community.access.can_view_providers
    "community-provider-new": MANAGERS,
    "community-provider-detail": PERSON_VIEWERS,
    "community-provider-edit": MANAGERS,
    "community-provider-deactivate": MANAGERS,
    "outcome-review-queue": RECORD_EDITORS,  # can_view_outcomes: police and court records
    "outcome-import-list": MANAGERS,
    "riskmodel-run-list": ANALYSTS,
    "riskmodel-validate-new": ANALYSTS,
    "riskmodel-fit-new": ANALYSTS,
    "riskmodel-run-detail": ANALYSTS,
    "riskmodel-model-card": ANALYSTS,
    "riskmodel-instrument-yaml": ANALYSTS,
    "riskmodel-publication-request": ANALYSTS,
    "riskmodel-publication-decide": ADMINISTRATORS,
    # ADMIN_ONLY
    "audit-log": ADMINISTRATORS,
    "person-merge": ADMINISTRATORS,
    "person-subject-access": ADMINISTRATORS,
}
# Routes that serve a finished run's result: the sweep's runs are queued, so an allowed role
# gets 404 (nothing to serve yet) and passes when it is not refused (403).
RESULT_ROUTES = {"evaluation-download", "riskmodel-model-card", "riskmodel-instrument-yaml"}
# Routes that only take POST (require_POST): the matrix posts an empty form to them, and an
# allowed role passes when the view gets past its role check (a redirect, or 400/409/422 for
# the empty form), never 403 or 404.
POST_ONLY = {
    "evaluation-repeat",
    "community-provider-deactivate",
    "riskmodel-publication-request",
    "riskmodel-publication-decide",
}

# PERSON and FACILITY routes, on a person or facility in the persona's own scope: the roles
# allowed, from the apps' access.py. Others get 403 or 404 (a record a role may not open looks
# missing). Routes that only take POST are checked for the refused roles only (an allowed
# role's empty POST would approve, activate or schedule something).
HEALTH_RECORDERS = frozenset({HEALTH_STAFF})  # health and drugtests RECORDER_ROLES
# health.access.HEALTH_RECORD_ROLES: diagnoses and health referrals. Facility managers are in
# it by design (health/access.py); see the report on medical confidentiality.
HEALTH_RECORD_READERS = MANAGERS | {HEALTH_STAFF}
RELAPSE_EDITORS = RECORD_EDITORS | {HEALTH_STAFF}  # health RELAPSE_EDITOR_ROLES
DRUG_TEST_READERS = MANAGERS | {HEALTH_STAFF}  # drugtests READER_ROLES (setting off for CMs)
REFERRAL_READERS = RECORD_EDITORS | DELIVERY  # treatment can_view_referrals
PERSON_ROLE_MATRIX: dict[str, frozenset[str]] = {
    # records
    "person-detail": PERSON_VIEWERS,
    "person-edit": RECORD_EDITORS,
    "episode-new": RECORD_EDITORS,
    "episode-transfer": RECORD_EDITORS,
    "episode-release": RECORD_EDITORS,
    "outcome-event-new": RECORD_EDITORS,
    # assessments (the sweep's assessment is an RNR screener: not a health instrument)
    "person-assessments": PERSON_VIEWERS,  # can_view_assessments
    "assessment-detail": RECORD_EDITORS | {PROGRAMME_STAFF},
    "assessment-edit": RECORD_EDITORS,  # can_assess (a completed one redirects)
    "assessment-override": RECORD_EDITORS,
    # treatment
    "person-treatment": PERSON_VIEWERS,  # PLAN_READER_ROLES
    "plan-propose": RECORD_EDITORS,
    "referral-new": RECORD_EDITORS,
    "fault-new": MANAGERS,  # FAULT_RECORDER_ROLES
    "plan-detail": PERSON_VIEWERS,
    "plan-approve": RECORD_EDITORS,
    "plan-revise": RECORD_EDITORS,
    "plan-review": RECORD_EDITORS,
    "goal-new": RECORD_EDITORS,
    "goal-edit": RECORD_EDITORS,
    "goal-delete": RECORD_EDITORS,
    "step-new": RECORD_EDITORS,
    "step-edit": RECORD_EDITORS,
    "referral-detail": REFERRAL_READERS,
    "waitlist-detail": REFERRAL_READERS,
    "group-detail": REFERRAL_READERS,
    "sessions-new": DELIVERY,
    "session-register": DELIVERY,
    "attendance-correct": DELIVERY,
    # health
    "person-health": PERSON_VIEWERS,  # flags, or relapse plans for programme staff
    "diagnosis-new": HEALTH_RECORDERS,
    "health-referral-new": HEALTH_RECORDERS,
    "relapse-plan-edit": RELAPSE_EDITORS,
    "diagnosis-correct": HEALTH_RECORDERS,
    "health-referral-update": HEALTH_RECORDERS,
    "relapse-plan-activate": RELAPSE_EDITORS,
    "relapse-plan-review": RELAPSE_EDITORS,
    "relapse-plan-print": PERSON_VIEWERS,  # RELAPSE_READER_ROLES: programme staff read plans
    # drug tests
    "drugtest-person": DRUG_TEST_READERS,
    "drugtest-new": HEALTH_RECORDERS,
    "drugtest-correct": HEALTH_RECORDERS,
    "drugtest-selection": DRUG_TEST_READERS,  # SELECTION_ROLES
    "drugtest-selection-draw": DRUG_TEST_READERS,
    "drugtest-selection-untestable": DRUG_TEST_READERS,
    # reintegration (the sweep's task and arrangement are on non-health pathways)
    "person-reintegration": PERSON_VIEWERS,
    "preparation-start": RECORD_EDITORS,
    "pathway-edit": RECORD_EDITORS,  # health staff: the health pathways only
    "release-task-new": RECORD_EDITORS | {HEALTH_STAFF},  # can_edit_anything
    "release-task-status": RECORD_EDITORS,
    "arrangement-new": RECORD_EDITORS,
    "arrangement-edit": RECORD_EDITORS,
    "release-summary": PERSON_VIEWERS,
    "release-summary-pdf": PERSON_VIEWERS,
    "handover-new": RECORD_EDITORS,
    "handover-detail": PERSON_VIEWERS,
    "handover-pdf": PERSON_VIEWERS,
    # community
    "person-community": PERSON_VIEWERS,
    "community-referral-new": RECORD_EDITORS,
    "community-followup-schedule": RECORD_EDITORS,
    "community-referral-transition": RECORD_EDITORS,
    "community-followup-record": RECORD_EDITORS,
    # outcomes: police and court records (can_view_outcomes)
    "outcome-review-detail": RECORD_EDITORS,
    "outcome-review-accept": RECORD_EDITORS,
    "outcome-review-reject": RECORD_EDITORS,
}
PERSON_POST_ONLY = {
    "plan-propose",
    "plan-approve",
    "plan-revise",
    "goal-delete",
    "relapse-plan-activate",
    "drugtest-selection-draw",
    "drugtest-selection-untestable",
    "preparation-start",
    "community-followup-schedule",
    "outcome-review-accept",
    "outcome-review-reject",
}

# The API operations that are not person- or facility-scoped, with the roles allowed.
API_ROLE_MATRIX: dict[str, frozenset[str]] = {
    "GET /api/v1/facilities": ALL_ROLES,
    "GET /api/v1/persons": PERSON_VIEWERS,
    "POST /api/v1/persons": RECORD_EDITORS,
    "GET /api/v1/programmes": ALL_ROLES,
    "GET /api/v1/release-readiness": PERSON_VIEWERS,
    "GET /api/v1/community/providers": PERSON_VIEWERS,
}

# The API's person-scoped reads, on the personas' own side: the roles allowed (from the
# routers and the apps' access.py); the others get 403 or 404.
API_PERSON_ROLE_MATRIX: dict[str, frozenset[str]] = {
    "GET /api/v1/persons/{person_id}": PERSON_VIEWERS,
    "GET /api/v1/persons/{person_id}/custody-episodes": PERSON_VIEWERS,
    "GET /api/v1/persons/{person_id}/outcome-events": RECORD_EDITORS,  # can_view_outcomes
    "GET /api/v1/persons/{person_id}/assessments": PERSON_VIEWERS,  # can_view_assessments
    "GET /api/v1/assessments/{assessment_id}": RECORD_EDITORS | {PROGRAMME_STAFF},  # an RNR one
    "GET /api/v1/persons/{person_id}/treatment": PERSON_VIEWERS,
    "GET /api/v1/plans/{plan_id}": PERSON_VIEWERS,  # PLAN_READER_ROLES
    "GET /api/v1/referrals/{referral_id}": RECORD_EDITORS | DELIVERY,  # can_view_referrals
    "GET /api/v1/persons/{person_id}/release-preparation": PERSON_VIEWERS,
    "GET /api/v1/persons/{person_id}/community": PERSON_VIEWERS,
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


# --- objects the URLs point at -----------------------------------------------------------

DAY = datetime.date(2026, 3, 2)


def build_side(person, facility, *, programme, provider, staff):
    """One of every person-scoped record for ``person`` (held at ``facility``), made with the
    apps' services by ``staff`` (an administrator), as ids keyed by what the URLs need."""
    from whatworks.assessments.tests.helpers import completed, rnr_answers
    from whatworks.community import services as community
    from whatworks.community.models import FollowUpContact
    from whatworks.drugtests import services as drugtests
    from whatworks.health import services as health
    from whatworks.outcomes.tests.helpers import link_review_for
    from whatworks.reintegration import selectors as reintegration_selectors
    from whatworks.reintegration import services as reintegration
    from whatworks.treatment import services as treatment
    from whatworks.treatment.tests.helpers import allocated

    episode = person.custody_episodes.get()
    ids = {"person_id": person.pk, "episode_id": episode.pk, "facility_id": facility.pk}

    assessment = completed(staff, person, "rnr-screener", rnr_answers(high=True))
    ids["assessment_id"] = assessment.pk

    plan = treatment.plan_propose(actor=staff, person=person)
    goal = treatment.plan_goal_save(
        actor=staff, plan=plan, data={"description": "Finish the programme", "need": ""}
    )
    step = treatment.plan_step_save(
        actor=staff, goal=goal, data={"description": "Attend", "owner": "staff"}
    )
    ids.update(plan_id=plan.pk, goal_id=goal.pk, step_id=step.pk)

    referral = treatment.referral_create(
        actor=staff, person=person, programme=programme, referral_date=DAY, override_reason="x"
    )
    ids["referral_id"] = referral.pk
    group = treatment.group_create(
        actor=staff, programme=programme, facility=facility, name="Group", start_date=DAY
    )
    referral = allocated(staff, referral, group, day=DAY)
    session = treatment.session_create(
        actor=staff, group=group, session_date=DAY, start_time=datetime.time(10), hours=2
    )
    attendance = treatment.attendance_record(
        actor=staff, session=session, referral=referral, status="attended"
    )
    ids.update(group_id=group.pk, session_id=session.pk, attendance_id=attendance.pk)

    diagnosis = health.diagnosis_record(
        actor=None,
        person=person,
        data={"recorded_on": DAY, "status": "active", "code": "F32.1", "category": "other"},
    )
    health_referral = health.health_referral_create(
        actor=None, person=person, data={"to_service": "Mental health", "reason": "Low mood"}
    )
    relapse_plan = health.relapse_plan_save(
        actor=None, person=person, data={"coping_strategies": "Call my sister"}
    )
    ids.update(
        diagnosis_id=diagnosis.pk,
        health_referral_id=health_referral.pk,
        relapse_plan_id=relapse_plan.pk,
    )

    test = drugtests.drug_test_record(
        actor=None,
        person=person,
        test_date=DAY,
        reason="random",
        sample="urine",
        results={"cannabis": "negative"},
    )
    ids["test_id"] = test.pk

    preparation = reintegration.preparation_start(actor=staff, episode=episode)
    task = reintegration.task_create(
        actor=staff,
        preparation=preparation,
        data={
            "pathway": "family",
            "description": "Call the sister",
            "owner": staff,
            "due_date": datetime.date(2026, 12, 1),
        },
    )
    arrangement = reintegration.arrangement_create(
        actor=staff,
        preparation=preparation,
        data={"kind": "accommodation", "detail_type": "family", "status": "planned"},
    )
    summary = reintegration_selectors.release_summary(viewer=staff, person=person, language="es")
    handover = reintegration.handover_record(
        actor=staff,
        preparation=preparation,
        recipient="probation",
        handed_over_on=datetime.date(2026, 11, 2),
        summary=summary,
        language="es",
    )
    ids.update(task_id=task.pk, arrangement_id=arrangement.pk, handover_id=handover.pk)

    community_referral = community.provider_referral_create(
        actor=staff,
        person=person,
        data={"provider": provider, "pathway": "accommodation", "referred_on": DAY},
    )
    # A follow-up contact is scheduled at release; made directly so the person stays held
    # at ``facility`` (a release could move them out of every scope).
    contact = FollowUpContact.objects.create(
        person=person, episode=episode, month=1, due_date=datetime.date(2027, 2, 15)
    )
    ids.update(community_referral_id=community_referral.pk, contact_id=contact.pk)

    review = link_review_for(
        person, event_date=DAY, source_reference=f"PDI-{person.pk}", reason="uncertain"
    )
    ids["review_id"] = review.pk
    return ids


# Route kwargs whose name differs from the object they point at.
KWARG_SOURCES = {
    ("health-referral-update", "referral_id"): "health_referral_id",
    ("relapse-plan-activate", "plan_id"): "relapse_plan_id",
    ("relapse-plan-review", "plan_id"): "relapse_plan_id",
    ("relapse-plan-print", "plan_id"): "relapse_plan_id",
    ("community-referral-transition", "referral_id"): "community_referral_id",
    ("evaluation-detail", "run_id"): "evaluation_run_id",
    ("evaluation-repeat", "run_id"): "evaluation_run_id",
    ("evaluation-download", "run_id"): "evaluation_run_id",
}
FIXED_KWARGS = {
    ("evidence-export", "format"): "csv",
    ("evaluation-download", "format"): "json",
    ("drugtest-selection", "month"): "2026-03",
    ("drugtest-selection-draw", "month"): "2026-03",
    ("drugtest-selection-untestable", "month"): "2026-03",
    ("pathway-edit", "pathway"): "accommodation",
    ("arrangement-new", "kind"): "accommodation",
    "pathway": "accommodation",
}


def route_kwargs(name: str, ids: dict) -> dict:
    pattern = get_resolver().reverse_dict.getlist(name.split(":")[-1])
    params = pattern[0][0][0][1] if pattern else []
    kwargs = {}
    for param in params:
        if (name, param) in FIXED_KWARGS:
            kwargs[param] = FIXED_KWARGS[name, param]
            continue
        source = KWARG_SOURCES.get((name, param), param)
        if source == "run_id" and name.startswith("riskmodel-"):
            source = "riskmodel_run_id"
        kwargs[param] = ids.get(source, MISSING_ID)
        if source not in ids:
            UNBUILT.add(f"{name}:{param}")
    return kwargs


def api_path(operation: str, ids: dict) -> tuple[str, str]:
    method, path = operation.split(" ", 1)

    def fill(match):
        key = match.group(1)
        return str(FIXED_KWARGS.get(key) or ids.get(key, MISSING_ID))

    return method, re.sub(r"\{(\w+)\}", fill, path)


def name_of(url: str) -> str:
    from django.urls import resolve

    match = resolve(url)
    return f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name


# Person routes an administrator gets 404 on by design (health and drug-test records are
# for health staff and case managers: see health/access.py and drugtests/access.py).
ADMIN_CANNOT_OPEN = {"diagnosis-correct", "health-referral-update", "drugtest-correct"}


# --- the sweep -----------------------------------------------------------------------------

DENIED = {403, 404, 405}
PERSONAS = ("alice", "bruno", "carla", "fabio", "pablo", "helena", "dora")
FACILITY_BOUND = {"alice", "bruno", "fabio", "pablo", "helena"}


def _markers(person) -> list[bytes]:
    return [person.prison_number.encode(), person.last_names.encode()]


@pytest.fixture
def world(request, facility_a, facility_b, person_in_a, person_in_b, dora):
    from whatworks.accounts.services import api_token_create
    from whatworks.community.tests.helpers import provider
    from whatworks.evaluation.models import EvaluationRun
    from whatworks.riskmodels.models import RiskModelRun
    from whatworks.treatment.tests.helpers import make_programme

    programme = make_programme(facilities=[facility_a, facility_b])
    ngo = provider(actor=None)
    common = {"programme_id": programme.pk, "provider_id": ngo.pk}
    token, _raw = api_token_create(actor=dora, user=dora, name="sweep")
    common["token_id"] = token.pk
    # Queued runs (aggregate, not person-scoped): made directly, as the request form would
    # hand them to the worker; their pages must answer without a result.
    evaluation_run = EvaluationRun.objects.create(
        programme=programme, parameters={"sweep": True}, followup_end_date=DAY, created_by=dora
    )
    riskmodel_run = RiskModelRun.objects.create(
        kind="validate", parameters={"sweep": True}, followup_end_date=DAY, created_by=dora
    )
    common["evaluation_run_id"] = evaluation_run.pk
    common["riskmodel_run_id"] = riskmodel_run.pk
    side_a = build_side(person_in_a, facility_a, programme=programme, provider=ngo, staff=dora)
    side_b = build_side(person_in_b, facility_b, programme=programme, provider=ngo, staff=dora)
    return {
        "a": {**common, **side_a},
        "b": {**common, **side_b},
        "markers_a": _markers(person_in_a),
        "markers_b": _markers(person_in_b),
    }


def _expectation_failures(who, rule, method, url, response, *, api, markers):
    status = response.status_code
    problems = []
    if status >= 500:
        problems.append("server error")
    if who == "anonymous":
        if rule != PUBLIC:
            if api:
                ok = status == 401
            else:
                location = response.headers.get("Location", "")
                ok = status == 405 or (status == 302 and location.startswith(reverse("login")))
            if not ok:
                problems.append("anonymous not sent to login / 401")
    elif who == "dora":
        reachable = not (rule == PERSON and method == "GET" and status == 404 and not api)
        if not reachable and name_of(url) not in ADMIN_CANNOT_OPEN:
            problems.append("the administrator cannot reach it: the sweep checks nothing")
    else:
        allowed = set(DENIED)
        if api and method in {"POST", "PUT", "PATCH"}:
            allowed |= {400, 422}
        if rule == PERSON and status not in allowed:
            problems.append("out-of-scope person reachable")
        if rule == FACILITY and who in FACILITY_BOUND and status not in allowed:
            problems.append("another facility reachable")
        if rule == ADMIN_ONLY and status not in allowed:
            problems.append("administrators only, yet reachable")
        if rule == OWN and status not in allowed:
            problems.append("another user's record reachable")
    if who not in {"dora", "anonymous"}:
        content = b"" if response.streaming else response.content
        leaked = [marker.decode() for marker in markers if marker in content]
        if leaked:
            problems.append(f"body shows {leaked}")
    return [f"{who} {method} {url} -> {status}: {p}" for p in problems]


def test_no_persona_reaches_another_facilitys_person(client, world, request):
    from django.test import Client

    clients = {"anonymous": Client(raise_request_exception=False)}
    for name in PERSONAS:
        user = request.getfixturevalue(name)
        clients[name] = Client(raise_request_exception=False)
        clients[name].force_login(user)

    failures = []
    for who, who_client in clients.items():
        side = "a" if who == "bruno" else "b"
        ids = world[side]
        markers = world[f"markers_{side}"]
        if who == "carla":
            markers = world["markers_a"] + world["markers_b"]
        for name, rule in ROUTES.items():
            url = reverse(name, kwargs=route_kwargs(name, ids))
            # The administrator's empty POSTs would only change the records the others are
            # checked against (she runs last); her GETs check that the objects are reachable.
            for method in ("GET",) if who == "dora" else ("GET", "POST"):
                response = who_client.get(url) if method == "GET" else who_client.post(url, {})
                failures += _expectation_failures(
                    who,
                    rule,
                    method,
                    url,
                    response,
                    api=name in API_STYLE_ROUTES,
                    markers=markers,
                )
                if name == "logout" and who != "anonymous":
                    who_client.force_login(request.getfixturevalue(who))
        for operation, rule in API_OPERATIONS.items():
            method, url = api_path(operation, ids)
            if method == "GET":
                response = who_client.get(url)
            else:
                response = who_client.generic(method, url, "{}", content_type="application/json")
            failures += _expectation_failures(
                who, rule, method, url, response, api=True, markers=markers
            )
    assert not failures, "\n".join(failures)
    assert UNBUILT <= EXPECTED_UNBUILT, (
        f"kwargs now missing an object: {UNBUILT - EXPECTED_UNBUILT}"
    )


EXPECTED_UNBUILT: set[str] = set()


# --- the per-role matrix -------------------------------------------------------------------


def _signed_in(request, persona: str):
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(request.getfixturevalue(persona))
    return client


def _admission_body(facility_code: str, number: int) -> dict:
    return {
        "prison_number": f"CL-77{number:05d}",
        "first_name": "Juan",
        "last_name": "Matrix",
        "date_of_birth": "1991-05-06",
        "sex": "male",  # facility A holds men only
        "gender": "man",
        "nationality": "CL",
        "languages": ["es"],
        "literacy": "literate",
        "admission": {
            "facility": facility_code,
            "admission_date": "2026-01-05",
            "admission_type": "remand",
            "legal_status": "remand",
            "main_offence_category": "theft",
        },
    }


def _role_failure(
    role, method, url, response, *, allowed: bool, post_only: bool, result: bool = False
) -> str | None:
    status = response.status_code
    if allowed:
        ok = 200 <= status < 400 or (post_only and status in {400, 409, 422})
        ok = ok or (result and status == 404)
    else:
        ok = status == 403
    if ok:
        return None
    expected = "a success" if allowed else "403"
    return f"{role} {method} {url} -> {status}, expected {expected}"


def test_the_role_matrix_covers_every_role_restricted_route():
    undeclared = sorted(
        name
        for name, rule in ROUTES.items()
        if rule in {ROLE, ADMIN_ONLY} and name not in ROLE_MATRIX
    )
    assert not undeclared, f"ROLE/ADMIN_ONLY routes without allowed roles: {undeclared}"
    assert set(ROLE_MATRIX) <= set(ROUTES)
    for name, rule in ROUTES.items():
        if rule == ADMIN_ONLY:
            assert ROLE_MATRIX[name] == ADMINISTRATORS, name
    for name in ROLE_MATRIX:
        assert ROUTES[name] in {STAFF, ROLE, ADMIN_ONLY}, (
            f"{name}: the matrix is for {ROUTES[name]}"
        )
    for operation in API_ROLE_MATRIX:
        assert API_OPERATIONS[operation] in {STAFF, ROLE}, operation
    scoped = {name for name, rule in ROUTES.items() if rule in {PERSON, FACILITY}}
    assert scoped == set(PERSON_ROLE_MATRIX), sorted(scoped ^ set(PERSON_ROLE_MATRIX))
    assert scoped >= PERSON_POST_ONLY
    person_reads = {
        op for op, rule in API_OPERATIONS.items() if rule == PERSON and op.startswith("GET ")
    }
    assert person_reads == set(API_PERSON_ROLE_MATRIX), person_reads ^ set(API_PERSON_ROLE_MATRIX)
    role_operations = {op for op, rule in API_OPERATIONS.items() if rule in {STAFF, ROLE}}
    assert role_operations == set(API_ROLE_MATRIX), role_operations ^ set(API_ROLE_MATRIX)


def test_each_role_gets_exactly_the_routes_its_role_allows(world, request, facility_a):
    """Every STAFF, ROLE and ADMIN_ONLY route, and every API operation that is not about one
    person, for one persona of each role on its own side: allowed roles succeed, others 403."""
    from whatworks.evaluation.models import EvaluationRun

    # A facility manager reads the evaluations of their own facilities only (evaluation
    # .access.runs_visible_to): the matrix uses a run over facility A, the personas' side.
    run = EvaluationRun.objects.create(
        programme_id=world["a"]["programme_id"],
        parameters={"facilities": [facility_a.code]},
        followup_end_date=DAY,
        created_by=request.getfixturevalue("dora"),
    )
    ids = {**world["a"], "evaluation_run_id": run.pk}
    clients = {role: _signed_in(request, persona) for role, persona in ROLE_PERSONAS.items()}
    routes = [name for name, rule in ROUTES.items() if rule in {STAFF, ROLE, ADMIN_ONLY}]
    # GETs first, then the POST-only routes (they change what later requests see).
    ordered = [n for n in routes if n not in POST_ONLY] + [n for n in routes if n in POST_ONLY]
    failures = []
    for name in ordered:
        if name == "logout":
            continue
        url = reverse(name, kwargs=route_kwargs(name, ids))
        allowed_roles = ROLE_MATRIX.get(name, ALL_ROLES)
        post_only = name in POST_ONLY
        for role, client in clients.items():
            response = client.post(url, {}) if post_only else client.get(url)
            failure = _role_failure(
                role,
                "POST" if post_only else "GET",
                url,
                response,
                allowed=role in allowed_roles,
                post_only=post_only,
                result=name in RESULT_ROUTES,
            )
            if failure:
                failures.append(failure)
    for number, (operation, allowed_roles) in enumerate(sorted(API_ROLE_MATRIX.items())):
        method, url = api_path(operation, ids)
        for index, (role, client) in enumerate(clients.items()):
            if method == "GET":
                response = client.get(url)
            else:
                body = _admission_body(facility_a.code, number * 10 + index)
                response = client.generic(
                    method, url, json.dumps(body), content_type="application/json"
                )
            failure = _role_failure(
                role, method, url, response, allowed=role in allowed_roles, post_only=False
            )
            if failure:
                failures.append(failure)
    assert not failures, "\n".join(failures)


# --- the API over personal tokens -----------------------------------------------------------


def test_the_api_over_bearer_tokens_keeps_every_rule(world, request, facility_a):
    """The API sweep again, authenticated with personal tokens instead of a session: the same
    expectations per rule and persona, the same role matrix, and a revoked or unknown token
    is 401 everywhere."""
    from django.test import Client

    from whatworks.accounts.services import api_token_create, api_token_revoke

    failures = []
    tokens = {}
    for persona in PERSONAS:
        user = request.getfixturevalue(persona)
        token, raw = api_token_create(actor=user, user=user, name="sweep")
        tokens[persona] = (user, token, raw)

    def call(raw, method, url, body="{}"):
        client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {raw}")
        if method == "GET":
            return client.get(url)
        return client.generic(method, url, body, content_type="application/json")

    for who, (_user, _token, raw) in tokens.items():
        side = "a" if who == "bruno" else "b"
        ids = world[side]
        markers = world[f"markers_{side}"]
        if who == "carla":
            markers = world["markers_a"] + world["markers_b"]
        for operation, rule in API_OPERATIONS.items():
            method, url = api_path(operation, ids)
            response = call(raw, method, url)
            failures += _expectation_failures(
                who, rule, method, url, response, api=True, markers=markers
            )

    role_of = {persona: role for role, persona in ROLE_PERSONAS.items()}
    for number, (operation, allowed_roles) in enumerate(sorted(API_ROLE_MATRIX.items())):
        method, url = api_path(operation, world["a"])
        for index, (persona, role) in enumerate(role_of.items()):
            body = json.dumps(_admission_body(facility_a.code, 500 + number * 10 + index))
            response = call(tokens[persona][2], method, url, body)
            failure = _role_failure(
                role, method, url, response, allowed=role in allowed_roles, post_only=False
            )
            if failure:
                failures.append(f"token: {failure}")

    # The schema is for token holders too.
    response = call(tokens["alice"][2], "GET", reverse("api:openapi-json"))
    if response.status_code != 200:
        failures.append(f"token GET openapi.json -> {response.status_code}")

    dora, dora_token, dora_raw = tokens["dora"]
    api_token_revoke(actor=dora, token=dora_token)
    for raw in (dora_raw, "ww_" + "x" * 40, ""):
        for operation in API_OPERATIONS:
            method, url = api_path(operation, world["a"])
            response = call(raw, method, url)
            if response.status_code != 401:
                failures.append(
                    f"token {raw[:6]!r}… {method} {url} -> {response.status_code}, expected 401"
                )
        response = call(raw, "GET", reverse("api:openapi-json"))
        if response.status_code != 401:
            failures.append(f"token {raw[:6]!r}… GET openapi.json -> {response.status_code}")
    assert not failures, "\n".join(failures)


def test_each_role_opens_exactly_the_records_its_role_allows(world, request):
    """Person and facility routes on the personas' own side (facility A): the roles allowed
    open them (2xx/3xx), the others get 403 or 404, so a role reaching records it should not
    (programme staff reading diagnoses, say) fails here even within its own facility."""
    ids = world["a"]
    failures = []
    for role, persona in ROLE_PERSONAS.items():
        client = _signed_in(request, persona)
        for name, allowed_roles in PERSON_ROLE_MATRIX.items():
            allowed = role in allowed_roles
            url = reverse(name, kwargs=route_kwargs(name, ids))
            if name in PERSON_POST_ONLY:
                if allowed:
                    continue
                method, response = "POST", client.post(url, {})
            else:
                method, response = "GET", client.get(url)
            status = response.status_code
            ok = 200 <= status < 400 if allowed else status in {403, 404}
            if not ok:
                expected = "a success" if allowed else "403/404"
                failures.append(f"{role} {method} {url} -> {status}, expected {expected}")
    assert not failures, "\n".join(failures)


def test_the_openapi_schema_and_docs_are_for_staff_or_token_holders(client, alice):
    from whatworks.accounts.services import api_token_create

    schema, docs = reverse("api:openapi-json"), reverse("api:openapi-view")
    anonymous = client.get(schema)
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == "Bearer"
    assert b"paths" not in anonymous.content
    page = client.get(docs)
    assert page.status_code == 302 and page["Location"].startswith(reverse("login"))

    _token, raw = api_token_create(actor=alice, user=alice, name="docs")
    with_token = client.get(schema, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert with_token.status_code == 200 and "paths" in with_token.json()

    client.force_login(alice)
    assert client.get(docs).status_code == 200
    assert client.post(schema, {}).status_code == 405
    assert client.post(docs, {}).status_code == 405


def test_each_role_reads_exactly_the_api_records_its_role_allows(world, request):
    """The API's person-scoped reads on the personas' own side, with a session and with a
    personal token: allowed roles get 200, the others 403 or 404."""
    from django.test import Client

    from whatworks.accounts.services import api_token_create

    failures = []
    for role, persona in ROLE_PERSONAS.items():
        user = request.getfixturevalue(persona)
        _token, raw = api_token_create(actor=user, user=user, name="matrix")
        clients = {
            "session": _signed_in(request, persona),
            "token": Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {raw}"),
        }
        for operation, allowed_roles in API_PERSON_ROLE_MATRIX.items():
            _method, url = api_path(operation, world["a"])
            for mode, client in clients.items():
                status = client.get(url).status_code
                allowed = role in allowed_roles
                if (status == 200) if allowed else (status in {403, 404}):
                    continue
                expected = "200" if allowed else "403/404"
                failures.append(f"{mode}: {role} GET {url} -> {status}, expected {expected}")
    assert not failures, "\n".join(failures)

"""Setting up the demo: a simulated service, its staff accounts and their passwords."""

from __future__ import annotations

import datetime
import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q

from whatworks.accounts.models import Role, User
from whatworks.analytics.simulation import SimulationConfig, simulate
from whatworks.assessments.imports import assessments_load
from whatworks.assessments.models import Assessment, AssessmentStatus, InstrumentVersion
from whatworks.assessments.services import assessment_override
from whatworks.audit.services import audit_record
from whatworks.community.imports import followups_load
from whatworks.community.services import followup_schedules_backfill
from whatworks.demo.models import DemoRun
from whatworks.drugtests.imports import drugtests_load
from whatworks.records.choices import FacilityType
from whatworks.records.imports import extract_load
from whatworks.records.models import Facility, Person
from whatworks.reintegration.services import preparations_start_due
from whatworks.treatment.imports import treatment_load
from whatworks.treatment.services import plan_approve, plan_propose

ACCOUNTS_FILE = "demo-accounts.json"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    facilities: list[str]


def demo_accounts_file() -> Path:
    return Path(settings.DATA_DIR) / ACCOUNTS_FILE


def _account_plan() -> list[tuple[str, str, list[str]]]:
    """(username, role, facility codes): every role, a case manager per custody facility."""
    custody = list(
        Facility.objects.exclude(facility_type=FacilityType.COMMUNITY_OFFICE).order_by("code")
    )
    # Facility-wide roles go to the busiest facility, so their screens have the most to show.
    busiest = (
        Facility.objects.filter(pk__in=[facility.pk for facility in custody])
        .annotate(held=Count("episodes", filter=Q(episodes__release_date__isnull=True)))
        .order_by("-held", "code")
        .first()
    )
    first = [busiest.code] if busiest else []
    plan = [
        ("admin", Role.ADMINISTRATOR, []),
        ("analyst", Role.ANALYST, []),
        ("manager", Role.FACILITY_MANAGER, first),
        ("programmes", Role.PROGRAMME_STAFF, first),
        ("health", Role.HEALTH_STAFF, first),
    ]
    for facility in custody:
        plan.append((f"case.{facility.code.lower()}", Role.CASE_MANAGER, [facility.code]))
    return plan


def _create_accounts() -> list[DemoAccount]:
    accounts = []
    facilities = {facility.code: facility for facility in Facility.objects.all()}
    for username, role, codes in _account_plan():
        # Random per installation and kept only in the data folder: never a shared,
        # published password, and refused outside demo mode by the login backend.
        password = "demo-" + secrets.token_urlsafe(9)
        user = User.objects.create_user(
            username=username, password=password, role=role, is_demo_account=True
        )
        user.facilities.set([facilities[code] for code in codes])
        audit_record(
            actor=None,
            actor_label="demo",
            action="user.create",
            target=user,
            after={"username": username, "role": role, "facilities": codes},
        )
        accounts.append(DemoAccount(username, password, role, codes))
    return accounts


# Reasons a Chilean case team might record; the demo's service is simulated in Chile.
DEMO_OVERRIDE_REASONS = (
    "Sanciones disciplinarias recientes que el instrumento no recoge.",
    "Red de apoyo familiar verificada y estable.",
    "Causas pendientes informadas por la fiscalía.",
    "Participación sostenida en el programa de tratamiento.",
    "Consumo problemático activo detectado en la entrevista.",
)
DEMO_OVERRIDE_SHARE = 0.07  # inside the 5-15% that classification policies expect


def _demo_overrides(*, seed: int) -> int:
    """Professional overrides on a share of the RNR screens, approved by the demo's
    administrator, so the override-rate dashboard has something real to show."""
    administrator = User.objects.get(username="admin")
    rng = np.random.default_rng([seed, 7])
    bands = {
        version.pk: [band.code for band in version.instrument.bands]
        for version in InstrumentVersion.objects.filter(slug="rnr-screener")
    }
    # Only the columns needed: each row's stored answers are large JSON.
    screens = (
        Assessment.objects.filter(
            status=AssessmentStatus.COMPLETED, instrument_version__slug="rnr-screener"
        )
        .order_by("pk")
        .values_list("pk", "band", "instrument_version_id")
    )
    chosen = [screen for screen in screens if rng.random() < DEMO_OVERRIDE_SHARE]
    for pk, band, version_id in chosen:
        codes = bands[version_id]
        position = codes.index(band)
        step = 1 if (rng.random() < 0.6 and position + 1 < len(codes)) or position == 0 else -1
        assessment_override(
            actor=administrator,
            assessment=Assessment(pk=pk),
            band=codes[position + step],
            reason=DEMO_OVERRIDE_REASONS[int(rng.integers(len(DEMO_OVERRIDE_REASONS)))],
            approver=administrator,
        )
    return len(chosen)


DEMO_PLANS = 30  # enough to browse; each is proposed by the rules and approved by staff
DEMO_AGREEMENTS = ("agreed", "agreed", "agreed", "did_not_agree", "could_not_answer")


def _demo_plans(*, seed: int) -> int:
    """Approved intervention plans for some people held where the demo manager works, so
    the treatment pages open on real proposals rather than empty states."""
    manager = User.objects.get(username="manager")
    rng = np.random.default_rng([seed, 8])
    candidates = list(
        Person.objects.filter(
            current_facility__in=manager.facilities.all(),
            assessments__instrument_version__slug="rnr-screener",
            assessments__status=AssessmentStatus.COMPLETED,
        )
        .distinct()
        .order_by("prison_number")
        .values_list("pk", flat=True)
    )
    chosen = sorted(rng.choice(candidates, size=min(DEMO_PLANS, len(candidates)), replace=False))
    approved = 0
    for pk in chosen:
        plan = plan_propose(actor=manager, person=Person.objects.get(pk=pk))
        if not plan.goals.exists():
            continue  # left as a draft: the rules found nothing to propose
        agreement = DEMO_AGREEMENTS[int(rng.integers(len(DEMO_AGREEMENTS)))]
        plan_approve(actor=manager, plan=plan, agreement=agreement)
        approved += 1
    return approved


def demo_accounts() -> list[DemoAccount]:
    path = demo_accounts_file()
    if not path.exists():
        return []
    return [DemoAccount(**entry) for entry in json.loads(path.read_text())]


def _save_accounts(accounts: list[DemoAccount]) -> None:
    path = demo_accounts_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps([asdict(account) for account in accounts], indent=2))


def demo_exists() -> DemoRun | None:
    return DemoRun.objects.order_by("-created_at").first()


@transaction.atomic
def demo_create(*, persons: int, seed: int, extract_date: datetime.date) -> DemoRun:
    """Simulate a service, load it, and create one demo account per role."""
    service = simulate(SimulationConfig(persons=persons, seed=seed, extract_date=extract_date))
    tables = {
        "facilities": service.facilities,
        "persons": service.persons,
        "custody_episodes": service.custody_episodes,
        "movements": service.movements,
        "outcome_events": service.outcome_events,
    }
    summary = extract_load(tables=tables, actor_label="demo")
    assessments = assessments_load(table=service.assessments, actor_label="demo")
    treatment = treatment_load(tables=service.tables(), actor_label="demo", today=extract_date)
    drug_tests = drugtests_load(table=service.drug_tests, actor_label="demo")
    accounts = _create_accounts()
    _save_accounts(accounts)
    _demo_overrides(seed=seed)
    _demo_plans(seed=seed)
    # Open the release preparations that are due, as the daily job would.
    preparations_start_due(on=extract_date, actor_label="demo")
    # Follow-up: what the simulated contacts found, then the contacts still to come.
    followups_load(table=service.followup_contacts, actor_label="demo")
    followup_schedules_backfill(
        actor=None, since=extract_date - datetime.timedelta(days=400), until=extract_date
    )
    return DemoRun.objects.create(
        persons=persons,
        seed=seed,
        extract_date=extract_date,
        rows_loaded=summary.total + assessments + treatment.total + drug_tests,
    )

"""Risk instruments in the app: validate the RNR screener and fit a point score on a small
simulated service loaded through the real imports, then publish it through an
administrator's approval and use it as an instrument.

Runs go through django-tasks' ImmediateBackend (tests/settings.py), so a run finishes inside
the service call that enqueued it once its transaction commits.
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from whatworks.analytics.instruments import score
from whatworks.analytics.instruments.model import instrument_from_mapping
from whatworks.analytics.riskmodel.export import answers_for_row
from whatworks.analytics.simulation import SimulationConfig, simulate
from whatworks.assessments.models import InstrumentVersion
from whatworks.riskmodels import services
from whatworks.riskmodels.cohort import risk_cohort_build
from whatworks.riskmodels.models import PublicationStatus, RiskModelRun, RunStatus

pytestmark = pytest.mark.django_db

EXTRACT_DATE = datetime.date(2026, 6, 30)
COHORT = {
    # One year of follow-up, so five simulated years give enough counted releases.
    "definition": "uk-proven-reoffending-1y",
    "window_years": None,
    "release_from": None,
    "release_to": None,
    "facilities": [],
}
FIT = {
    **COHORT,
    "features": ["age_at_release", "sex", "prior_custodial_episodes", "main_offence_category"],
    "max_items": 4,
    "max_points": 3,
    "folds": 3,
    "seed": 1,
    "name": "Puntaje local",
}


@pytest.fixture(scope="module")
def service():
    # Programmes and drug tests play no part here; leaving them out keeps the load quick.
    config = SimulationConfig(
        persons=1200,
        seed=7,
        extract_date=EXTRACT_DATE,
        programmes_enabled=False,
        drug_tests_enabled=False,
    )
    return simulate(config)


@pytest.fixture
def loaded(service):
    from whatworks.assessments.imports import assessments_load
    from whatworks.records.imports import extract_load

    extract_load(tables=service.tables(), actor_label="test")
    assessments_load(table=service.assessments, actor_label="test")


def run_now(actor, kind, parameters, capture) -> RiskModelRun:
    with capture(execute=True):
        run = services.riskmodel_run_create(actor=actor, kind=kind, parameters=parameters)
    run.refresh_from_db()
    return run


def test_validate_the_rnr_screener(loaded, carla, client, django_capture_on_commit_callbacks):
    cohort = risk_cohort_build(parameters=COHORT, followup_end_date=EXTRACT_DATE)
    frame = cohort.frame
    assert set(frame.get_column("outcome").unique()) <= {0, 1}
    assert cohort.description["events"] == frame.get_column("outcome").sum() > 50
    assert not {"first_names", "last_names", "prison_number", "national_id"} & set(frame.columns)
    run = run_now(
        carla,
        "validate",
        {**COHORT, "instrument": "rnr-screener"},
        django_capture_on_commit_callbacks,
    )
    assert run.status == RunStatus.SUCCEEDED, run.error
    auc = run.result["validation"]["auc"]
    # The simulated screener is a noisy measure of the planted risk: better than chance.
    assert 0.55 < auc["value"] < 0.95 and auc["low"] < auc["value"] < auc["high"]
    bands = [row["group"] for row in run.result["validation"]["calibration_by_band"]]
    assert bands[0] == "low"
    assert set(run.result["fairness"]) == {"sex", "age_band"}
    client.force_login(carla)
    page = client.get(reverse("riskmodel-run-detail", args=[run.pk]))
    assert page.status_code == 200 and "AUC" in page.content.decode()


def test_fit_publish_and_use_a_point_score(
    loaded, carla, dora, alice, client, django_capture_on_commit_callbacks
):
    run = run_now(carla, "fit", FIT, django_capture_on_commit_callbacks)
    assert run.status == RunStatus.SUCCEEDED, run.error
    fit = run.result["fit"]
    assert 1 <= len(fit["items"]) <= 4
    assert all(abs(level["points"]) <= 3 for item in fit["items"] for level in item["levels"])
    instrument = instrument_from_mapping(run.instrument_definition, source="run")
    assert "<html" in run.model_card.lower() and "Puntaje local" in run.model_card
    # The exported instrument scores a release exactly as the fit did.
    cohort = risk_cohort_build(parameters=COHORT, followup_end_date=run.followup_end_date)
    rows = cohort.frame.head(50).to_dicts()
    totals = [score(instrument, answers_for_row(instrument, row)).total for row in rows]
    assert all(total is not None for total in totals)

    client.force_login(alice)
    assert client.get(reverse("riskmodel-run-detail", args=[run.pk])).status_code == 403
    client.force_login(carla)
    response = client.post(reverse("riskmodel-publication-decide", args=[run.pk]), {})
    assert response.status_code == 403  # analysts ask; administrators decide
    client.post(reverse("riskmodel-publication-request", args=[run.pk]))
    run.refresh_from_db()
    assert run.publication == PublicationStatus.REQUESTED
    client.force_login(dora)
    response = client.post(
        reverse("riskmodel-publication-decide", args=[run.pk]), {"decision": "reject", "note": ""}
    )
    assert response.status_code == 400  # a rejection needs its reason
    client.post(
        reverse("riskmodel-publication-decide", args=[run.pk]),
        {"decision": "approve", "note": "Checked with the research unit."},
    )
    run.refresh_from_db()
    assert run.publication == PublicationStatus.APPROVED
    version = InstrumentVersion.objects.get(pk=run.published_version_id)
    assert version.definition == run.instrument_definition

    # Staff can now assess a person with it, like any instrument.
    from whatworks.assessments.services import assessment_start
    from whatworks.records.models import Person

    person = Person.objects.filter(current_facility__isnull=False).first()
    alice.facilities.add(person.current_facility)
    assessment = assessment_start(actor=alice, person=person, instrument_slug=version.slug)
    assert assessment.instrument_version_id == version.pk
    # ... and completing it scores the person as the fit would.
    from whatworks.assessments.services import assessment_complete

    row = next(r for r in cohort.frame.to_dicts() if r["prior_custodial_episodes"] > 0)
    answers = answers_for_row(instrument, row)
    completed = assessment_complete(actor=alice, assessment=assessment, answers=answers)
    assert completed.total == score(instrument, answers).total
    assert completed.band == score(instrument, answers).band
    client.force_login(alice)
    page = client.get(reverse("person-assessments", args=[person.pk])).content.decode()
    assert "Puntaje local" in page

    # The published score can itself be validated on the records.
    again = run_now(
        carla,
        "validate",
        {**COHORT, "instrument": str(version.pk)},
        django_capture_on_commit_callbacks,
    )
    assert again.status == RunStatus.SUCCEEDED, again.error
    assert again.result["validation"]["auc"]["value"] > 0.5


def test_a_cohort_that_cannot_support_a_run_fails_with_a_reason(
    carla, django_capture_on_commit_callbacks
):
    empty = {**FIT, "release_from": "2030-01-01"}
    run = run_now(carla, "fit", empty, django_capture_on_commit_callbacks)
    assert run.status == RunStatus.FAILED
    assert "no releases" in run.error


def test_only_analysts_and_administrators_use_the_pages(client, alice, fabio, carla):
    for user, status in ((alice, 403), (fabio, 403), (carla, 200)):
        client.force_login(user)
        assert client.get(reverse("riskmodel-run-list")).status_code == status
        assert client.get(reverse("riskmodel-fit-new")).status_code == status

"""Programme evaluations in the app: the cohort, a run through the task, access, the pages.

The data is a small simulated service loaded through the real imports; the task runs
through django-tasks' ImmediateBackend (tests/settings.py), so a run finishes inside the
request or service call that enqueued it.
"""

from __future__ import annotations

import datetime
import json

import polars as pl
import pytest
from django.urls import reverse

from whatworks.analytics.simulation import SimulationConfig, simulate
from whatworks.evaluation import services
from whatworks.evaluation.cohort import COVARIATES, OUTCOME, TREATED, cohort_build
from whatworks.evaluation.models import EvaluationRun, RunStatus
from whatworks.records.models import CustodyEpisode
from whatworks.treatment.models import Programme, Referral

pytestmark = pytest.mark.django_db

EXTRACT_DATE = datetime.date(2026, 6, 30)
PROGRAMME = "TRAB-CET"  # the simulated service's largest programme
PASSWORD = "correct horse battery staple"


def parameters(**overrides):
    data = {
        "treatment": "completed",
        # One year of follow-up, so the simulated five years give enough eligible releases.
        "definition": "uk-proven-reoffending-1y",
        "window_years": None,
        "covariates": list(COVARIATES),
        "release_from": None,
        "release_to": None,
        "facilities": [],
        "estimand": "att",
        "method": "aipw",
    }
    data.update(overrides)
    return data


@pytest.fixture(scope="module")
def service():
    return simulate(SimulationConfig(persons=1500, seed=7, extract_date=EXTRACT_DATE))


@pytest.fixture
def loaded(service, django_capture_on_commit_callbacks):
    from whatworks.assessments.imports import assessments_load
    from whatworks.records.imports import extract_load
    from whatworks.treatment.imports import treatment_load

    extract_load(tables=service.tables(), actor_label="test")
    assessments_load(table=service.assessments, actor_label="test")
    treatment_load(tables=service.tables(), actor_label="test", today=EXTRACT_DATE)
    return Programme.objects.get(code=PROGRAMME)


def run_now(actor, programme, capture, **overrides) -> EvaluationRun:
    with capture(execute=True):
        run = services.evaluation_run_create(
            actor=actor, programme=programme, parameters=parameters(**overrides)
        )
    run.refresh_from_db()
    return run


def check_cohort_has_one_row_per_release_treated_before_release_and_no_names(loaded):
    cohort = cohort_build(programme=loaded, parameters=parameters(), followup_end_date=EXTRACT_DATE)
    frame = cohort.frame
    assert frame.select(pl.struct("research_id", "release_date").is_unique().all()).item()
    assert set(frame.get_column(TREATED).unique()) <= {0, 1}
    assert set(frame.get_column(OUTCOME).unique()) <= {0, 1}
    assert frame.get_column(TREATED).sum() >= 60
    released = CustodyEpisode.objects.filter(release_date__isnull=False).count()
    description = cohort.description
    assert description["releases"] == released
    assert description["rows"] + sum(description["excluded"].values()) == released
    # No identifying column and no name anywhere in the frame.
    assert not {"first_names", "last_names", "prison_number", "national_id"} & set(frame.columns)
    names = set(CustodyEpisode.objects.values_list("person__last_names", flat=True)[:50])
    text = frame.write_csv()
    assert not any(name in text for name in names if len(name) > 3)
    # Every treated release completed the programme in that episode, on or before release.
    treated = frame.filter(pl.col(TREATED) == 1).head(20)
    for research_id, release_date in treated.select("research_id", "release_date").iter_rows():
        assert Referral.objects.filter(
            programme=loaded,
            person__research_id=research_id,
            episode__release_date=release_date,
            status="completed",
            ended_on__lte=release_date,
        ).exists()


def test_a_run_succeeds_stores_its_result_and_repeats_with_the_same_input(
    loaded, carla, django_capture_on_commit_callbacks, client
):
    # Loading the service takes seconds, so one test checks the cohort and the run.
    check_cohort_has_one_row_per_release_treated_before_release_and_no_names(loaded)
    cost = {"cost_per_participant": 500000.0, "avoided_cost_per_reoffence": 9000000.0}
    run = run_now(
        carla, loaded, django_capture_on_commit_callbacks, cost_benefit={**cost, "currency": "CLP"}
    )
    assert run.status == RunStatus.SUCCEEDED, run.error
    benefit = run.result["cost_benefit"]
    assert benefit["participants"] == run.result["n_treated"]
    assert benefit["costs"] == pytest.approx(500000.0 * run.result["n_treated"])
    assert 0 <= benefit["probability_benefits_exceed_costs"] <= 1
    assert "Benefits and costs" in run.report_html
    assert run.progress == 100
    assert run.result["n_treated"] >= 60 and "ci_low" in run.result
    assert "evaluation-report" in run.report_html
    assert len(run.input_sha256) == 64 and run.rows == run.cohort["rows"]
    assert run.code_version and run.task_id and run.finished_at
    json.dumps(run.result, allow_nan=False)

    client.force_login(carla)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("evaluation-repeat", args=[run.pk]))
    again = EvaluationRun.objects.exclude(pk=run.pk).get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{again.pk}/")
    assert again.status == RunStatus.SUCCEEDED
    assert again.input_sha256 == run.input_sha256
    assert again.result["estimate"] == pytest.approx(run.result["estimate"])

    page = client.get(reverse("evaluation-detail", args=[again.pk]))
    assert page.status_code == 200
    assert b"same input data" in page.content and b"http-equiv" not in page.content
    for format, content_type in (("json", "application/json"), ("html", "text/html")):
        download = client.get(reverse("evaluation-download", args=[again.pk, format]))
        assert download.status_code == 200
        assert download["Content-Type"].startswith(content_type)
    assert (
        json.loads(client.get(reverse("evaluation-download", args=[again.pk, "json"])).content)[
            "input_sha256"
        ]
        == run.input_sha256
    )
    if again.report_pdf:
        pdf = client.get(reverse("evaluation-download", args=[again.pk, "pdf"]))
        assert pdf.content.startswith(b"%PDF")

    # The programme page shows the latest succeeded evaluation beside the evidence rating.
    programme_page = client.get(reverse("programme-detail", args=[loaded.pk]))
    assert reverse("evaluation-detail", args=[again.pk]).encode() in programme_page.content


def check_a_programme_without_participants_fails_with_a_readable_message(
    loaded, carla, django_capture_on_commit_callbacks, client
):
    empty = Programme.objects.exclude(referrals__isnull=False).first() or Programme.objects.get(
        code="EDU-LIT"
    )
    Referral.objects.filter(programme=empty).update(status="not_suitable", ended_on=None)
    run = run_now(carla, empty, django_capture_on_commit_callbacks)
    assert run.status == RunStatus.FAILED
    assert run.error and "Traceback" not in run.error
    client.force_login(carla)
    page = client.get(reverse("evaluation-detail", args=[run.pk]))
    assert page.status_code == 200
    assert run.error.encode() in page.content or b"error-summary" in page.content


def test_access_analyst_runs_case_manager_forbidden_facility_manager_reads(
    loaded, carla, alice, fabio, client, django_capture_on_commit_callbacks
):
    client.force_login(carla)
    assert client.get(reverse("evaluation-new")).status_code == 200
    form = {
        "programme": loaded.pk,
        "treatment": "completed",
        "definition": "uk-proven-reoffending-1y",
        "window_years": "",
        "covariates": ["age_at_release", "sex", "time_served"],
        "estimand": "att",
        "method": "ipw",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("evaluation-new"), form)
    run = EvaluationRun.objects.get()
    assert response.status_code == 302
    assert run.created_by == carla and run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED)

    client.force_login(alice)
    assert client.get(reverse("evaluation-list")).status_code == 403
    assert client.get(reverse("evaluation-detail", args=[run.pk])).status_code == 403
    assert client.post(reverse("evaluation-new"), form).status_code == 403
    assert b"Evaluations" not in client.get(reverse("dashboard")).content

    # Facility managers read runs over their own facilities only, as for recidivism figures.
    own = run_now(carla, loaded, django_capture_on_commit_callbacks, facilities=["CL-A-01"])
    client.force_login(fabio)
    assert client.get(reverse("evaluation-list")).status_code == 200
    assert client.get(reverse("evaluation-detail", args=[own.pk])).status_code == 200
    assert client.get(reverse("evaluation-detail", args=[run.pk])).status_code == 404
    assert client.get(reverse("evaluation-new")).status_code == 403
    assert client.post(reverse("evaluation-repeat", args=[own.pk])).status_code == 403
    assert client.get(reverse("evaluation-detail", args=[run.pk + 100])).status_code == 404

    check_a_programme_without_participants_fails_with_a_readable_message(
        loaded, carla, django_capture_on_commit_callbacks, client
    )


def test_a_bad_form_is_shown_again_with_its_messages(carla, client):
    client.force_login(carla)
    response = client.post(reverse("evaluation-new"), {"definition": "../../etc/passwd"})
    assert response.status_code == 400
    assert not EvaluationRun.objects.exists()


def test_every_route_has_an_access_rule(alice, client):
    """A case manager is refused every evaluation page (only the stylesheet is public)."""
    client.force_login(alice)
    for name, args in (
        ("evaluation-list", []),
        ("evaluation-new", []),
        ("evaluation-detail", [1]),
        ("evaluation-download", [1, "json"]),
    ):
        assert client.get(reverse(name, args=args)).status_code == 403, name
    assert client.post(reverse("evaluation-repeat", args=[1])).status_code == 403

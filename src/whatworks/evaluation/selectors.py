"""Reads for evaluation runs; every one starts from ``access.runs_visible_to``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from whatworks.evaluation.access import runs_visible_to
from whatworks.evaluation.models import EvaluationRun, RunStatus
from whatworks.evaluation.text import outcome_label


def run_list(*, viewer) -> QuerySet[EvaluationRun]:
    return (
        runs_visible_to(viewer)
        .select_related("programme", "created_by")
        .defer("report_html", "report_document", "report_pdf")
    )


def latest_succeeded_run(*, viewer, programme) -> EvaluationRun | None:
    return (
        runs_visible_to(viewer)
        .filter(programme=programme, status=RunStatus.SUCCEEDED)
        .defer("report_html", "report_document", "report_pdf")
        .order_by("-finished_at", "-id")
        .first()
    )


def runs_with_same_parameters(*, run: EvaluationRun, viewer) -> list[EvaluationRun]:
    """Other succeeded runs of the same programme asked the same questions."""
    candidates = (
        runs_visible_to(viewer)
        .filter(programme_id=run.programme_id, status=RunStatus.SUCCEEDED)
        .exclude(pk=run.pk)
        .only("pk", "parameters", "input_sha256", "finished_at", "followup_end_date")
        .order_by("-finished_at")
    )
    return [other for other in candidates if other.parameters == run.parameters]


def parameters_summary(run: EvaluationRun) -> str:
    parameters = run.parameters or {}
    cohort: dict[str, Any] = run.cohort or {}
    parts = [
        parameters.get("treatment", ""),
        parameters.get("definition", ""),
    ]
    if cohort.get("definition"):
        parts[1] = outcome_label(cohort)
    elif parameters.get("window_years"):
        parts[1] = f"{parts[1]} ({parameters['window_years']}y)"
    parts.append(f"{parameters.get('estimand', '').upper()}/{parameters.get('method', '').upper()}")
    return " · ".join(part for part in parts if part)

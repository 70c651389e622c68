"""The background task that executes an evaluation run.

Steps and progress: cohort built (20%), estimated (60%), report rendered (90%), stored
(100%). Bad input (``CohortError`` from the cohort, ``EvaluationInputError`` from the
estimator, for example too few treated releases) ends the run as failed with the message for
the analyst; anything else also ends it as failed, with the error's type and message, and is
logged with its traceback.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from whatworks.analytics.evaluation.text import report_texts
from whatworks.evaluation import services
from whatworks.evaluation.cohort import OUTCOME, TREATED, CohortError, cohort_build
from whatworks.evaluation.models import EvaluationRun, RunStatus
from whatworks.evaluation.report_text import translated_report_texts
from whatworks.evaluation.text import cohort_text, outcome_label, report_title, treatment_label

logger = logging.getLogger(__name__)


def evaluation_spec(run: EvaluationRun, covariates: tuple[str, ...], description: dict):
    from whatworks.analytics.evaluation.result import EvaluationSpec

    parameters = run.parameters
    return EvaluationSpec(
        treatment=TREATED,
        outcome=OUTCOME,
        covariates=covariates,
        estimand=parameters.get("estimand", "att"),
        method=parameters.get("method", "aipw"),
        treatment_label=treatment_label(run.programme, parameters.get("treatment")),
        outcome_label=outcome_label(description),
    )


def _cost_benefit(run: EvaluationRun, result, description: dict):
    """The WSIPP-style cost-benefit the analyst asked for, for the participants evaluated."""
    from whatworks.analytics.evaluation.costbenefit import CostBenefitInputs, cost_benefit

    asked = run.parameters.get("cost_benefit")
    if not asked:
        return None
    inputs = CostBenefitInputs(
        cost_per_participant=asked["cost_per_participant"],
        avoided_cost_per_reoffence={"total": asked["avoided_cost_per_reoffence"]},
        years=max(1, int(description.get("window_years") or 1)),
        currency=asked.get("currency") or "CLP",
    )
    return cost_benefit(result, result.n_treated, inputs, seed=result.spec.seed)


def execute(run: EvaluationRun) -> None:
    """Run the evaluation and store what it found (or why it failed)."""
    services.run_start(run=run)
    try:
        from whatworks.analytics.evaluation import (
            CostBenefitInputError,
            EvaluationInputError,
            evaluate,
            report,
        )
    except ImportError as error:
        logger.exception("evaluation run %s: the estimators cannot be imported", run.pk)
        services.run_fail(run=run, error=str(error))
        return
    try:
        cohort = cohort_build(
            programme=run.programme,
            parameters=run.parameters,
            followup_end_date=run.followup_end_date,
        )
        run.cohort = cohort.description
        run.rows = cohort.frame.height
        run.input_sha256 = cohort.input_sha256
        run.progress = 20
        run.progress_message = _("Cohort built; estimating the effect.")
        run.save(update_fields=["cohort", "rows", "input_sha256", "progress", "progress_message"])

        spec = evaluation_spec(run, cohort.covariates, cohort.description)
        result = evaluate(cohort.frame, spec)
        services.run_progress(run=run, progress=60, message=_("Estimated; writing the report."))

        benefit = _cost_benefit(run, result, cohort.description)
        texts = {
            "title": report_title(run.programme, cohort.description),
            "definition_text": cohort.description["definition"]["sentence"],
            "cohort_text": cohort_text(cohort.description),
            "cost_benefit": benefit,
        }
        fragment = report.render_html_fragment(result, **texts)
        document = report.render_html(result, **texts)
        try:
            pdf = report.render_pdf(result, **texts)
        except Exception:  # the web report stands without its PDF
            logger.exception("evaluation run %s: the PDF could not be rendered", run.pk)
            pdf = b""
        services.run_progress(run=run, progress=90, message=_("Report written; storing."))
        stored = result.to_dict()
        stored["cost_benefit"] = benefit.to_dict() if benefit is not None else None
        services.run_succeed(
            run=run,
            result=stored,
            report_html=fragment,
            report_document=document,
            report_pdf=pdf,
        )
    except (CohortError, EvaluationInputError, CostBenefitInputError) as error:
        services.run_fail(run=run, error=str(error))
    except Exception as error:
        logger.exception("evaluation run %s failed", run.pk)
        services.run_fail(
            run=run,
            error=_("The evaluation stopped on an unexpected error (%(kind)s: %(message)s).")
            % {"kind": type(error).__name__, "message": error},
        )


@task()
def evaluation_run_execute(run_id: int) -> str:
    """The task: load the run and execute it, once (a finished run is left alone)."""
    run = EvaluationRun.objects.select_related("programme").get(pk=run_id)
    if run.status != RunStatus.QUEUED:
        return run.status
    # The sentences are fetched after the language is switched (left to right).
    with (
        translation.override(run.language or settings.LANGUAGE_CODE),
        report_texts(translated_report_texts()),
    ):
        execute(run)
    return run.status

"""The background task that executes a risk-instrument run.

Validation scores every counted release with the chosen instrument (the RNR screener as
recorded at baseline, or a published point score computed from the release's features) and
reports discrimination, calibration and the fairness audit. A fit builds a transparent point
score with cross-validation, its benchmarks, its instrument definition and its model card.
Bad input (too few releases, one outcome class, too few events per item) ends the run as
failed with the analyst's message; anything else also fails it, logged with its traceback.
"""

from __future__ import annotations

import logging
from typing import Any

import polars as pl
from django.utils.translation import gettext as _
from django_tasks import task

from whatworks.evaluation.cohort import CohortError
from whatworks.riskmodels import services
from whatworks.riskmodels.cohort import (
    FEATURES,
    GROUPS,
    OUTCOME,
    RiskCohort,
    risk_cohort_build,
    screener_band,
)
from whatworks.riskmodels.models import RiskModelRun, RunKind, RunStatus

logger = logging.getLogger(__name__)

RNR_SCREENER = "rnr-screener"


def _groups(frame: pl.DataFrame) -> dict[str, list]:
    return {column: frame.get_column(column).to_list() for column in GROUPS}


def _validate(run: RiskModelRun, cohort: RiskCohort) -> dict[str, Any]:
    from whatworks.analytics.instruments import score
    from whatworks.analytics.instruments.model import instrument_from_mapping
    from whatworks.analytics.riskmodel.export import answers_for_row
    from whatworks.analytics.riskmodel.fairness import fairness_report
    from whatworks.analytics.riskmodel.metrics import validation_report

    frame = cohort.frame
    instrument_key = run.parameters["instrument"]
    if instrument_key == RNR_SCREENER:
        scored = frame.filter(pl.col("rnr_screener_total").is_not_null())
        totals = scored.get_column("rnr_screener_total").to_list()
        bands = [screener_band(total) for total in totals]
        band_order = ["low", "moderate", "high", "very_high"]
        thresholds = [8.0, 16.0, 25.0]
        without = frame.height - scored.height
    else:
        from whatworks.assessments.models import InstrumentVersion

        version = InstrumentVersion.objects.get(pk=int(instrument_key))
        instrument = instrument_from_mapping(version.definition, source=str(version))
        scored = frame
        results = [score(instrument, answers_for_row(instrument, row)) for row in frame.to_dicts()]
        totals = [result.total for result in results]
        bands = [result.band for result in results]
        band_order = [band.code for band in instrument.bands]
        thresholds = [float(band.min) for band in instrument.bands[1:]]
        without = 0
    y = scored.get_column(OUTCOME).to_list()
    groups = _groups(scored)
    report = validation_report(y, score=totals, band=bands, band_order=band_order, groups=groups)
    fairness = fairness_report(y, totals, probability=None, thresholds=thresholds, groups=groups)
    return {"validation": report, "fairness": fairness, "releases_without_score": without}


def _fit(run: RiskModelRun, cohort: RiskCohort) -> tuple[dict, dict, str]:
    from whatworks.analytics.riskmodel.card import model_card_html
    from whatworks.analytics.riskmodel.export import to_instrument
    from whatworks.analytics.riskmodel.fairness import fairness_report
    from whatworks.analytics.riskmodel.fit import fit_point_score

    parameters = run.parameters
    features = [code for code in parameters["features"] if code in FEATURES]
    frame = cohort.frame.drop_nulls(features)
    fit = fit_point_score(
        frame,
        outcome=OUTCOME,
        features=features,
        max_items=int(parameters.get("max_items", 6)),
        max_points=int(parameters.get("max_points", 5)),
        folds=int(parameters.get("folds", 5)),
        seed=int(parameters.get("seed", 0)),
    )
    description = cohort.description
    name = str(parameters.get("name") or _("Local risk score"))
    outcome_text = description["definition"]["sentence"]
    data_text = _("%(rows)s releases from %(start)s to %(end)s, facilities: %(facilities)s") % {
        "rows": frame.height,
        "start": description["period"][0],
        "end": description["period"][1],
        "facilities": ", ".join(description["facilities"]),
    }
    definition = to_instrument(
        fit,
        slug=parameters.get("slug") or f"local-risk-score-{run.pk}",
        version=parameters.get("version") or "1.0",
        name=name,
        data_description=data_text,
        outcome_definition=outcome_text,
    )
    total = fit.total(frame)
    groups = _groups(frame)
    fairness = fairness_report(
        frame.get_column(OUTCOME).to_list(),
        list(total),
        probability=list(fit.probability(frame)),
        thresholds=[float(band["min"]) for band in fit.bands[1:]],
        groups=groups,
        frame=frame,
        features=features,
    )
    result = {
        "fit": fit.as_dict(),
        "fairness": fairness,
        "rows_with_missing_features": (cohort.frame.height - frame.height),
    }
    card = model_card_html(
        {
            "title": name,
            "data": {
                "description": data_text,
                "period": " – ".join(description["period"]),
                "n": frame.height,
                "events": int(frame.get_column(OUTCOME).sum()),
            },
            "outcome_definition": outcome_text,
            "intended_use": _(
                "To support, not replace, professional judgement about the intensity of "
                "supervision and programmes (the risk principle), for people like those in "
                "the data, in this service."
            ),
            "limits": [
                _("Fitted on this service's releases; it may not hold for other populations."),
                _("It predicts recorded reoffending, which reflects policing as well as conduct."),
                _("Revalidate at least yearly and whenever practice or recording changes."),
                _("Never use it alone to decide release, sentence or placement."),
            ],
            "items": fit.items,
            "bands": fit.bands,
            "metrics": fit.metrics,
            "benchmarks": fit.benchmarks,
            "fairness": fairness,
            "generated_by": f"What Works {services.code_version()}",
            "seed": int(parameters.get("seed", 0)),
        }
    )
    return result, definition, card


def execute(run: RiskModelRun) -> None:
    services.run_start(run=run)
    cohort_description: dict[str, Any] = {}
    try:
        from whatworks.analytics.riskmodel.metrics import RiskModelInputError

        cohort = risk_cohort_build(
            parameters=run.parameters, followup_end_date=run.followup_end_date
        )
        cohort_description = cohort.description
        if run.kind == RunKind.VALIDATE:
            result = _validate(run, cohort)
            definition, card = None, ""
        else:
            result, definition, card = _fit(run, cohort)
        services.run_succeed(
            run=run,
            cohort=cohort.description,
            input_sha256=cohort.input_sha256,
            rows=cohort.frame.height,
            result=result,
            instrument_definition=definition,
            model_card=card,
        )
    except (CohortError, RiskModelInputError, ValueError) as error:
        services.run_fail(run=run, error=str(error), cohort=cohort_description)
    except Exception as error:
        logger.exception("risk instrument run %s failed", run.pk)
        services.run_fail(
            run=run,
            error=_("The run stopped on an unexpected error (%(kind)s: %(message)s).")
            % {"kind": type(error).__name__, "message": error},
            cohort=cohort_description,
        )


@task()
def riskmodel_run_execute(run_id: int) -> str:
    """The task: load the run and execute it, once (a finished run is left alone)."""
    run = RiskModelRun.objects.get(pk=run_id)
    if run.status != RunStatus.QUEUED:
        return run.status
    execute(run)
    return run.status

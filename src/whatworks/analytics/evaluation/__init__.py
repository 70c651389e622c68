"""Programme evaluation: does a programme reduce reoffending, by how much, with what
certainty, and at what cost? Propensity-score matching, inverse-probability weighting and
doubly robust AIPW for the ATT (default) or ATE; diagnostics, sensitivity, reports and
cost-benefit. Pure Python (numpy, polars, scikit-learn, statsmodels, lifelines); never
imports Django. See docs/evaluation.md and docs/methods/.
"""

from whatworks.analytics.evaluation.api import evaluate
from whatworks.analytics.evaluation.costbenefit import (
    CostBenefitInputError,
    CostBenefitInputs,
    CostBenefitResult,
    Effect,
    cost_benefit,
)
from whatworks.analytics.evaluation.data import EvaluationInputError
from whatworks.analytics.evaluation.report import render_html, render_html_fragment, render_pdf
from whatworks.analytics.evaluation.result import (
    BalanceRow,
    EvaluationResult,
    EvaluationSpec,
    Warning_,
)

__all__ = [
    "BalanceRow",
    "CostBenefitInputError",
    "CostBenefitInputs",
    "CostBenefitResult",
    "Effect",
    "EvaluationInputError",
    "EvaluationResult",
    "EvaluationSpec",
    "Warning_",
    "cost_benefit",
    "evaluate",
    "render_html",
    "render_html_fragment",
    "render_pdf",
]

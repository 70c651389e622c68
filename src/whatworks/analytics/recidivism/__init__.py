"""Recidivism measurement: explicit, versioned definitions; rates per release with Wilson
intervals; Kaplan-Meier curves and Cox regression; publication-safe output.

Pure Python (polars, lifelines); never imports Django. See docs/recidivism.md.

>>> from whatworks.analytics.recidivism import list_definitions
>>> [d.slug for d in list_definitions()][0]
'reconviction-3y-chile'
"""

from whatworks.analytics.recidivism.definitions import (
    Definition,
    DefinitionError,
    list_definitions,
    load_definition,
)
from whatworks.analytics.recidivism.engine import (
    RecidivismInputError,
    RecidivismResult,
    measure,
    measure_technical_violation_variants,
)
from whatworks.analytics.recidivism.report import render_csv, render_html
from whatworks.analytics.recidivism.suppression import Suppression, wilson_interval
from whatworks.analytics.recidivism.survival import CoxResult, KaplanMeierCurve, fit_cox

__all__ = [
    "CoxResult",
    "Definition",
    "DefinitionError",
    "KaplanMeierCurve",
    "RecidivismInputError",
    "RecidivismResult",
    "Suppression",
    "fit_cox",
    "list_definitions",
    "load_definition",
    "measure",
    "measure_technical_violation_variants",
    "render_csv",
    "render_html",
    "wilson_interval",
]

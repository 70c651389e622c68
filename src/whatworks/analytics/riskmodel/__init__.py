"""Transparent point-score risk instruments fitted and validated on a service's own outcomes
(issue 9). See docs/riskmodel.md.

- :func:`fit_point_score` (``fit.py``): a few items with small integer points, bands on the
  total, out-of-fold validation and benchmarks; returns a :class:`PointScore`.
- :func:`to_instrument` and :func:`answers_for_row` (``export.py``): the score as an
  assessment instrument (docs/instruments.md) and the answers for a data row.
- ``metrics.py``, ``fairness.py``, ``card.py``: validation metrics, group comparisons and the
  model card. ``cli.py``: ``whatworks riskmodel fit|score|validate``.

Pure Python; never imports Django. The names below load on first use, so importing the
package (or ``metrics``) does not load scikit-learn.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "PointScore": "whatworks.analytics.riskmodel.fit",
    "fit_point_score": "whatworks.analytics.riskmodel.fit",
    "to_instrument": "whatworks.analytics.riskmodel.export",
    "answers_for_row": "whatworks.analytics.riskmodel.export",
    "RiskModelInputError": "whatworks.analytics.riskmodel.metrics",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

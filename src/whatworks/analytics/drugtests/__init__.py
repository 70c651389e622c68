"""Drug monitoring: the monthly random selection for testing, test panels and results.

Pure Python (no Django): the Django app gives these functions plain values and stores what
they return. The selection method, the panel file format and the result vocabulary are in
``docs/drug-testing.md``.
"""

from whatworks.analytics.drugtests import panels, selection
from whatworks.analytics.drugtests.panels import (
    OUTCOMES,
    RESULT_VALUES,
    SAMPLE_TYPES,
    TEST_REASONS,
    Panel,
    PanelError,
    PanelResultError,
    Substance,
    list_panels,
    load_panel,
    panel_from_mapping,
    test_outcome,
    validate_results,
)
from whatworks.analytics.drugtests.selection import (
    Candidate,
    ReserveExhaustedError,
    SelectionList,
    SelectionRules,
    Substitution,
    draw,
    month_seed,
    promote_reserve,
)

__all__ = [
    "OUTCOMES",
    "RESULT_VALUES",
    "SAMPLE_TYPES",
    "TEST_REASONS",
    "Candidate",
    "Panel",
    "PanelError",
    "PanelResultError",
    "ReserveExhaustedError",
    "SelectionList",
    "SelectionRules",
    "Substance",
    "Substitution",
    "draw",
    "list_panels",
    "load_panel",
    "month_seed",
    "panel_from_mapping",
    "panels",
    "promote_reserve",
    "selection",
    "test_outcome",
    "validate_results",
]

"""Assessment instruments: versioned YAML definitions, scoring and reassessment dates.

Pure Python (no Django). See ``docs/instruments.md`` for the file format, the built-ins
(K6, AUDIT and the project's RNR screener), the command line and this API.

>>> from whatworks.analytics.instruments import load_instrument, score
>>> score(load_instrument("audit"), [1, 1, 1, 1, 1, 1, 1, 0, 1, 0]).band
'zone_ii'
"""

from whatworks.analytics.instruments.model import (
    LANGUAGES,
    Band,
    Domain,
    Instrument,
    InstrumentError,
    Item,
    Option,
    list_instruments,
    load_instrument,
    schema,
)
from whatworks.analytics.instruments.scoring import (
    AnswerError,
    ScoreResult,
    next_reassessment_date,
    score,
)

__all__ = [
    "LANGUAGES",
    "AnswerError",
    "Band",
    "Domain",
    "Instrument",
    "InstrumentError",
    "Item",
    "Option",
    "ScoreResult",
    "list_instruments",
    "load_instrument",
    "next_reassessment_date",
    "schema",
    "score",
]

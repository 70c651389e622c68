"""Record linkage of police and court extract rows to persons.

Deterministic on national id or prison number first, then probabilistic with Splink on
DuckDB (fixed m-probabilities, u sampled from the persons table with a seed). Pure
Python (polars, splink, duckdb); never imports Django. See docs/linkage.md.

>>> from whatworks.analytics.linkage import normalise_national_id
>>> normalise_national_id("15.381.135-0") == normalise_national_id("15381135-0")
True
"""

from whatworks.analytics.linkage.link import (
    Candidate,
    LinkageInputError,
    LinkDecision,
    LinkThresholds,
    link_records,
)
from whatworks.analytics.linkage.normalise import (
    normalise_name,
    normalise_national_id,
    normalise_prison_number,
)
from whatworks.analytics.linkage.quality import LinkQuality, link_quality

__all__ = [
    "Candidate",
    "LinkDecision",
    "LinkQuality",
    "LinkThresholds",
    "LinkageInputError",
    "link_quality",
    "link_records",
    "normalise_name",
    "normalise_national_id",
    "normalise_prison_number",
]

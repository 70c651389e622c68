"""Input checks and the encoding of candidate features into point-score items (issue 9).

Every feature becomes one *item* with a few *levels*; a row falls in exactly one level of
each item, and the item's points are the points of that level.

* **numeric** (any number column that is not only 0 and 1): cut into at most
  ``MAX_BINS`` bands at the training quantiles 1/B, ..., (B-1)/B (``B = MAX_BINS``), the cut
  points being observed values; a band holds ``min <= x < next band's min``; the first band
  also holds everything below it (down to 0 for a feature never negative in the data) and
  the last everything above. A band with fewer than ``MIN_BIN_SHARE`` of the rows or fewer
  than ``MIN_BIN_EVENTS`` events (or non-events) is merged with its smaller neighbour,
  repeatedly. Quantile cut points depend only on the data, so they are stable.
* **binary** (numbers or booleans taking only 0 and 1): two levels, no and yes.
* **categorical** (text): one level per value; values held by fewer than
  ``MIN_LEVEL_SHARE`` of the rows (or ``MIN_LEVEL_ROWS`` rows) are merged into one level
  ``other_values`` (when there are at least two such values), which also takes any value
  not seen when fitting. Without such a merged level, an unseen value is refused.

Pure Python (numpy, polars); never imports Django.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from whatworks.analytics.riskmodel.metrics import RiskModelInputError

MAX_BINS = 7
MIN_BIN_SHARE = 0.05
MIN_BIN_EVENTS = 5
MIN_LEVEL_SHARE = 0.02
MIN_LEVEL_ROWS = 30
MIN_EVENTS_PER_ITEM = 10
OTHER = "other_values"
# The open ends of numeric bands, as written in an instrument's lookup table.
BIG = 1_000_000_000


def identifier(name: str) -> str:
    """An instrument identifier (``^[a-z][a-z0-9_]*$``) from a column name or a value."""
    text = re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")
    if not text:
        text = "blank"
    if not text[0].isalpha():
        text = "v_" + text
    return text[:80]


def tidy_number(value: float) -> int | float:
    value = float(value)
    return int(value) if value.is_integer() else value


def check_frame(
    frame: pl.DataFrame, *, outcome: str, features: Sequence[str], group: str | None = None
) -> np.ndarray:
    """Refuse what cannot be fitted; return the outcome as 0/1 ints."""
    if not isinstance(frame, pl.DataFrame):
        raise RiskModelInputError("the data must be a polars DataFrame")
    if not features:
        raise RiskModelInputError("no features given")
    duplicates = sorted({f for f in features if list(features).count(f) > 1})
    if duplicates:
        raise RiskModelInputError(f"feature(s) listed twice: {', '.join(duplicates)}")
    columns = ", ".join(frame.columns)
    for role, name in [("outcome", outcome), *(("feature", f) for f in features)]:
        if name not in frame.columns:
            raise RiskModelInputError(
                f"{role} column {name!r} is not in the data; columns: {columns}"
            )
    if group is not None and group not in frame.columns:
        raise RiskModelInputError(f"group column {group!r} is not in the data; columns: {columns}")
    if outcome in features:
        raise RiskModelInputError(f"the outcome {outcome!r} cannot also be a feature")
    if frame.height == 0:
        raise RiskModelInputError("the data has no rows")
    y = _outcome(frame[outcome], outcome)
    ids: dict[str, str] = {}
    for name in features:
        key = identifier(name)
        if key in ids:
            raise RiskModelInputError(
                f"features {ids[key]!r} and {name!r} give the same item id {key!r}; rename one"
            )
        ids[key] = name
        series = frame[name]
        missing = series.null_count()
        if series.dtype.is_float():
            missing += int((~series.is_finite()).sum() or 0)
        if missing:
            first = _first_missing_row(series)
            what = "missing or infinite" if series.dtype.is_float() else "missing"
            raise RiskModelInputError(
                f"feature {name!r} has {missing} {what} value(s) (first at data row {first}); "
                "fill or drop them first"
            )
        if not (
            series.dtype.is_numeric()
            or series.dtype in (pl.Boolean, pl.String, pl.Categorical, pl.Enum)
        ):
            raise RiskModelInputError(
                f"feature {name!r} has type {series.dtype}; use numbers, 0/1 or text categories"
            )
        if series.n_unique() < 2:
            raise RiskModelInputError(f"feature {name!r} has only one value; it cannot score")
    if group is not None:
        values = frame[group].cast(pl.String).fill_null("not recorded").unique()
        if values.len() < 2:
            raise RiskModelInputError(
                f"group column {group!r} has only one value ({values[0]}); nothing to compare"
            )
    events = int(y.sum())
    fewest = min(events, y.size - events)
    needed = MIN_EVENTS_PER_ITEM * len(features)
    if fewest < needed:
        which = "events" if events <= y.size - events else "non-events"
        raise RiskModelInputError(
            f"too few {which} for {len(features)} candidate item(s): {fewest} {which} in "
            f"{y.size} rows, at least {MIN_EVENTS_PER_ITEM} per candidate item ({needed}) "
            "are needed; offer fewer features or use more data"
        )
    return y


def _first_missing_row(series: pl.Series) -> int:
    mask = series.is_null()
    if series.dtype.is_float():
        mask = mask | ~series.is_finite().fill_null(True)
    # Data rows counted from 1, as a spreadsheet shows them below the header.
    return int(np.flatnonzero(mask.to_numpy())[0]) + 1


def _outcome(series: pl.Series, name: str) -> np.ndarray:
    if series.null_count():
        raise RiskModelInputError(
            f"outcome {name!r} must be 0 or 1; found {series.null_count()} missing value(s) "
            f"(first at data row {_first_missing_row(series)})"
        )
    if series.dtype == pl.Boolean:
        return series.cast(pl.Int64).to_numpy()
    values = series.unique().to_list()
    bad = [v for v in values if not _is_zero_one(v)]
    if bad:
        shown = ", ".join(repr(v) for v in sorted(bad, key=str)[:5])
        raise RiskModelInputError(f"outcome {name!r} must be 0 or 1; found {shown}")
    return np.asarray([int(float(v)) for v in series.to_list()], dtype=np.int64)


def _is_zero_one(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return number in (0.0, 1.0)


def feature_kind(series: pl.Series) -> str:
    if series.dtype == pl.Boolean:
        return "binary"
    if series.dtype.is_numeric():
        values = set(series.unique().to_list())
        return "binary" if values <= {0, 1} else "numeric"
    return "categorical"


@dataclasses.dataclass(frozen=True)
class Encoding:
    """How one feature maps to levels: learnt on training rows, applied to any rows."""

    feature: str
    kind: str  # numeric | binary | categorical
    levels: tuple[dict[str, Any], ...]  # condition, min, max, value(s), without points
    lower_bound: float | None = None  # numeric: smallest value accepted (None: any)

    def codes(self, series: pl.Series) -> np.ndarray:
        """The level index of every row (raises for values the encoding cannot place)."""
        name = self.feature
        if self.kind == "numeric":
            if not series.dtype.is_numeric():
                raise RiskModelInputError(f"feature {name!r} must be numeric")
            x = series.cast(pl.Float64).to_numpy()
            if np.isnan(x).any():
                raise RiskModelInputError(f"feature {name!r} has missing values")
            if self.lower_bound is not None and (x < self.lower_bound).any():
                bad = x[x < self.lower_bound][0]
                raise RiskModelInputError(
                    f"feature {name!r}: {tidy_number(bad)} is below "
                    f"{tidy_number(self.lower_bound)}, the smallest value the score accepts"
                )
            cuts = np.asarray([lv["min"] for lv in self.levels[1:]], dtype=float)
            return np.searchsorted(cuts, x, side="right")
        if self.kind == "binary":
            if series.dtype == pl.Boolean:
                return series.cast(pl.Int64).to_numpy()
            values = series.to_list()
            if any(v is None or not _is_zero_one(v) for v in values):
                raise RiskModelInputError(f"feature {name!r} must be 0 or 1")
            return np.asarray([int(float(v)) for v in values], dtype=np.int64)
        lookup = {}
        other = None
        for index, level in enumerate(self.levels):
            if level.get("value") is None:
                other = index
                for value in level.get("values", []):
                    lookup[value] = index
            else:
                lookup[level["value"]] = index
        out = np.empty(series.len(), dtype=np.int64)
        for row, value in enumerate(series.cast(pl.String).to_list()):
            index = lookup.get(value, other)
            if index is None:
                known = ", ".join(lv["value"] for lv in self.levels)
                raise RiskModelInputError(
                    f"feature {name!r}: value {value!r} (data row {row + 1}) was not seen when "
                    f"the score was fitted; known values: {known}"
                )
            out[row] = index
        return out


def encode_feature(series: pl.Series, y: np.ndarray) -> Encoding:
    """Learn the levels of one feature from training rows (see the module docstring)."""
    kind = feature_kind(series)
    name = series.name
    if kind == "binary":
        return Encoding(
            name,
            kind,
            (
                {"condition": f"{name} = 0", "min": None, "max": None, "value": "0"},
                {"condition": f"{name} = 1", "min": None, "max": None, "value": "1"},
            ),
        )
    if kind == "categorical":
        return _categorical(series, y)
    return _numeric(series, y)


def _categorical(series: pl.Series, y: np.ndarray) -> Encoding:
    name = series.name
    values = series.cast(pl.String).to_list()
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    threshold = max(MIN_LEVEL_ROWS, math.ceil(MIN_LEVEL_SHARE * len(values)))
    kept = sorted(v for v, c in counts.items() if c >= threshold)
    rare = sorted(v for v, c in counts.items() if c < threshold)
    if len(rare) == 1 and kept:
        # One rare value alone is no merge: keep it as it is.
        kept, rare = sorted([*kept, *rare]), []
    if len(kept) + (1 if rare else 0) < 2:
        kept, rare = sorted(counts), []
    codes: dict[str, str] = {}
    for v in kept:
        code = identifier(v)
        if code in codes:
            raise RiskModelInputError(
                f"feature {name!r}: values {codes[code]!r} and {v!r} give the same code {code!r}"
            )
        codes[code] = v
    levels = [
        {"condition": f"{name} = {v}", "min": None, "max": None, "value": v, "code": identifier(v)}
        for v in kept
    ]
    if rare:
        if OTHER in codes:
            raise RiskModelInputError(
                f"feature {name!r}: the value {codes[OTHER]!r} clashes with the merged level "
                f"{OTHER!r}; rename it"
            )
        levels.append(
            {
                "condition": f"{name}: any other value ({', '.join(rare)})",
                "min": None,
                "max": None,
                "value": None,
                "values": rare,
                "code": OTHER,
            }
        )
    return Encoding(name, "categorical", tuple(levels))


def _numeric(series: pl.Series, y: np.ndarray) -> Encoding:
    name = series.name
    x = series.cast(pl.Float64).to_numpy()
    qs = np.quantile(x, np.arange(1, MAX_BINS) / MAX_BINS, method="higher")
    cuts = sorted({float(q) for q in qs if q > x.min()})
    # Merge small bands: fewer than MIN_BIN_SHARE rows or MIN_BIN_EVENTS events/non-events.
    while cuts:
        edges = np.asarray(cuts)
        idx = np.searchsorted(edges, x, side="right")
        sizes = np.bincount(idx, minlength=len(cuts) + 1)
        events = np.bincount(idx, weights=y, minlength=len(cuts) + 1)
        small = (
            (sizes < MIN_BIN_SHARE * x.size)
            | (events < MIN_BIN_EVENTS)
            | (sizes - events < MIN_BIN_EVENTS)
        )
        if not small.any():
            break
        worst = int(np.argmin(np.where(small, sizes, np.inf)))
        if worst == 0:
            drop = 0
        elif worst == len(cuts):
            drop = len(cuts) - 1
        else:  # merge with the smaller neighbour
            drop = worst - 1 if sizes[worst - 1] <= sizes[worst + 1] else worst
        del cuts[drop]
    lower = 0.0 if x.min() >= 0 else None
    starts = [lower, *cuts]
    levels = []
    for position, start in enumerate(starts):
        end = cuts[position] if position < len(cuts) else None
        if end is None:
            top = None
        else:
            # The largest value below the next cut, or the cut minus 1 if that is larger,
            # so that an instrument's lookup rows leave no gap (docs/instruments.md).
            below = x[x < end]
            top = max(end - 1, float(below.max())) if below.size else end - 1
        if start is None and end is not None:
            condition = f"{name} < {tidy_number(end)}"
        elif end is None:
            condition = f"{name} ≥ {tidy_number(start)}" if start is not None else f"any {name}"
        else:
            condition = f"{tidy_number(start)} ≤ {name} < {tidy_number(end)}"
        levels.append(
            {
                "condition": condition,
                "min": None if start is None else tidy_number(start),
                "max": None if top is None else tidy_number(top),
                "value": None,
            }
        )
    return Encoding(name, "numeric", tuple(levels), lower_bound=lower)


def design(codes: dict[str, np.ndarray], encodings: dict[str, Encoding], order: Sequence[str]):
    """One-hot columns (first level as reference) for the features in ``order``."""
    blocks = []
    owners = []
    for feature in order:
        levels = len(encodings[feature].levels)
        block = np.zeros((codes[feature].size, levels - 1))
        for level in range(1, levels):
            block[:, level - 1] = codes[feature] == level
        blocks.append(block)
        owners.extend([(feature, level) for level in range(1, levels)])
    matrix = np.hstack(blocks) if blocks else np.zeros((0, 0))
    return matrix, owners

"""The frame a risk-instrument run reads: one row per counted release, with the outcome, the
features a transparent score may use, the group columns of the fairness audit, and the
baseline RNR screener.

Outcomes come from ``evaluation.cohort.release_frame``, so a validation counts reoffending
exactly as the evidence dashboard and the programme evaluations do. Features are the values
known at release, kept readable (text categories stay text, so a fitted score reads "sex:
female" rather than a column number). The frame is pseudonymous: no name, prison number or
national ID, only the research ID.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import polars as pl

from whatworks.analytics.instruments import load_instrument
from whatworks.evaluation.cohort import (
    CohortError,
    definition_by_slug,
    frame_sha256,
    release_frame,
)
from whatworks.records.models import Facility

OUTCOME = "outcome"

# Features offered to the analyst: code -> kind. Numeric features are binned into point
# bands by the fit; 0/1 features become yes/no items; text features become one item whose
# options carry the points.
FEATURES = {
    "age_at_release": "numeric",
    "sex": "text",
    "prior_custodial_episodes": "numeric",
    "main_offence_category": "text",
    "released_on_parole": "binary",
    "released_from_semi_open_or_open": "binary",
    "education_level": "text",
    "literacy": "text",
    "rnr_screener_total": "numeric",
}
# Group columns of the fairness audit. Ethnicity is not recorded by the app (ADR 0004 keeps
# the person record to what casework needs), so it is audited only on extracts that carry it,
# through `whatworks riskmodel ... --group`.
GROUPS = ("sex", "age_band")
AGE_BANDS = ((0, 25, "18-24"), (25, 35, "25-34"), (35, 45, "35-44"), (45, 200, "45+"))


@dataclasses.dataclass(frozen=True)
class RiskCohort:
    frame: pl.DataFrame
    description: dict[str, Any]

    @property
    def input_sha256(self) -> str:
        return frame_sha256(self.frame)


def _age_at_release() -> pl.Expr:
    release, birth = pl.col("release_date"), pl.col("date_of_birth")
    before_birthday = (release.dt.month() * 100 + release.dt.day()) < (
        birth.dt.month() * 100 + birth.dt.day()
    )
    return (release.dt.year() - birth.dt.year() - before_birthday.cast(pl.Int32)).cast(pl.Int64)


def _age_band(age: pl.Expr) -> pl.Expr:
    expression = pl.lit(AGE_BANDS[-1][2])
    for low, high, label in reversed(AGE_BANDS[:-1]):
        expression = pl.when((age >= low) & (age < high)).then(pl.lit(label)).otherwise(expression)
    return expression


def screener_band(total: float | None) -> str | None:
    """The RNR screener's band for a total, by the current version's cut-offs."""
    if total is None:
        return None
    instrument = load_instrument("rnr-screener")
    for band in instrument.bands:
        if band.min <= total <= band.max:
            return band.code
    return None


def risk_cohort_build(
    *, parameters: dict[str, Any], followup_end_date: datetime.date
) -> RiskCohort:
    """``parameters``: ``definition`` (recidivism preset slug), ``window_years``,
    ``release_from``/``release_to`` (ISO dates, optional), ``facilities`` (codes; empty = all).
    """
    definition = definition_by_slug(parameters["definition"])
    window_years = int(parameters.get("window_years") or max(definition.windows))
    release_from = parameters.get("release_from")
    release_to = parameters.get("release_to")
    facility_codes = list(parameters.get("facilities") or [])
    _releases, frame, excluded = release_frame(
        definition=definition,
        window_years=window_years,
        release_from=datetime.date.fromisoformat(release_from) if release_from else None,
        release_to=datetime.date.fromisoformat(release_to) if release_to else None,
        facility_codes=facility_codes,
        followup_end_date=followup_end_date,
    )
    if frame.is_empty():
        raise CohortError("no release in the cohort has a complete follow-up window")
    age = _age_at_release()
    frame = (
        frame.with_columns(
            age_at_release=age,
            age_band=_age_band(age),
            prior_custodial_episodes=pl.col("prior_custodial_episodes").fill_null(0),
            released_on_parole=(pl.col("release_type") == "parole").cast(pl.Int64),
            released_from_semi_open_or_open=pl.col("facility_type")
            .is_in(["semi_open", "open"])
            .cast(pl.Int64),
            education_level=pl.col("education_level").fill_null("").replace("", "not_recorded"),
            literacy=pl.col("literacy").fill_null("").replace("", "not_recorded"),
            outcome=pl.col(OUTCOME).cast(pl.Int64),
        )
        .sort("research_id", "release_date", "episode_id")
        .select("research_id", "release_date", OUTCOME, *FEATURES, *GROUPS[1:])
    )
    description = {
        "definition": {
            "slug": definition.slug,
            "name": definition.name,
            "version": definition.version,
            "sentence": definition.with_overrides(windows=[window_years]).sentence,
        },
        "window_years": window_years,
        "release_from": release_from or None,
        "release_to": release_to or None,
        "facilities": facility_codes or sorted(Facility.objects.values_list("code", flat=True)),
        "all_facilities": not facility_codes,
        "followup_end_date": followup_end_date.isoformat(),
        "rows": frame.height,
        "events": int(frame.get_column(OUTCOME).sum()),
        "excluded": {reason: int(count) for reason, count in excluded.items()},
        "period": [
            frame.get_column("release_date").min().isoformat(),
            frame.get_column("release_date").max().isoformat(),
        ],
    }
    return RiskCohort(frame=frame, description=description)

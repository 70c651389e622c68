"""The evaluation cohort: one row per release, with treatment, outcome and covariates.

``cohort_build`` reads the database once per table (episodes with their person and facility,
the persons' earlier episodes, the programme's referrals, RNR screeners, outcome events) and
joins in Polars. The frame is pseudonymous: a row carries the person's ``research_id`` and the
release date, never a name, prison number or national ID.

- **Treatment** (``treated``, 0/1): the release's custody episode has a referral to the
  programme that was completed (``ended_on`` on or before the release date) or, for
  participation, started (``started_on`` on or before the release date). For completion,
  releases that started the programme but did not complete it before release are left out
  of the comparison (they are neither treated nor untreated) and counted in ``excluded``.
- **Outcome** (``outcome``, 0/1): whether the release has a counted event within the window
  under the recidivism definition. It is the recidivism engine's own per-release result
  (``RecidivismResult.followups``, column ``recidivated_within_<N>y``), so an evaluation and
  the evidence dashboard count reoffending identically. Releases the definition does not
  count (deaths, transfers, escapes, ...) and releases whose window has not ended by the
  follow-up end date are excluded, with their reasons.
- **Covariates**: see ``COVARIATES``. Every column is numeric; categories become 0/1
  columns and values that are structurally absent (the sentence of someone released on
  remand, an education level not recorded) get a 0/1 "missing" column beside a 0, so the
  estimator keeps those releases. A missing RNR screener stays missing; the estimator drops
  and counts those rows.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
from typing import Any

import polars as pl

from whatworks.analytics.recidivism import Definition, list_definitions, measure
from whatworks.assessments.access import RNR_SCREENER
from whatworks.assessments.models import Assessment, AssessmentStatus
from whatworks.records.choices import EducationLevel, Literacy
from whatworks.records.models import CustodyEpisode, Facility, OutcomeEvent
from whatworks.treatment.models import Programme, Referral, ReferralStatus

TREATED = "treated"
OUTCOME = "outcome"

TREATMENT_COMPLETED = "completed"
TREATMENT_STARTED = "started"

# Covariate codes offered to the analyst, in the form's order; all are on by default.
COVARIATES = (
    "age_at_release",
    "sex",
    "prior_custodial_episodes",
    "main_offence_category",
    "sentence_length",
    "time_served",
    "released_on_parole",
    "released_from_semi_open_or_open",
    "rnr_screener_total",
    "rnr_screener_needs",
    "education_level",
    "literacy",
)

# Ordinal codes; "not recorded" gets its own 0/1 column instead.
EDUCATION_ORDER = {
    EducationLevel.NONE: 0,
    EducationLevel.PRIMARY_INCOMPLETE: 1,
    EducationLevel.PRIMARY: 2,
    EducationLevel.SECONDARY_INCOMPLETE: 3,
    EducationLevel.SECONDARY: 4,
    EducationLevel.TERTIARY: 5,
}
LITERACY_ORDER = {Literacy.ILLITERATE: 0, Literacy.LIMITED: 1, Literacy.LITERATE: 2}

# An offence category with fewer releases than this is pooled into "other", so no 0/1
# column is nearly constant.
MIN_CATEGORY_RELEASES = 20

# Exclusion reasons, in the order the description lists them.
EXCLUSION_REASONS = (
    "release_type_not_counted",
    "followup_not_complete",
    "started_not_completed",
)


class CohortError(ValueError):
    """The cohort cannot be built as asked; the message says why, for the analyst."""


@dataclasses.dataclass(frozen=True)
class Cohort:
    frame: pl.DataFrame
    covariates: tuple[str, ...]
    description: dict[str, Any]

    @property
    def input_sha256(self) -> str:
        return frame_sha256(self.frame)


def frame_sha256(frame: pl.DataFrame) -> str:
    """SHA-256 of the frame as CSV, rows sorted by every column, columns in order."""
    ordered = frame.sort(frame.columns, nulls_last=True)
    return hashlib.sha256(ordered.write_csv().encode("utf-8")).hexdigest()


def definition_by_slug(slug: str) -> Definition:
    """A built-in preset only: the app never loads a definition from a path."""
    for definition in list_definitions():
        if definition.slug == slug:
            return definition
    raise CohortError(f"unknown outcome definition {slug!r}")


def _frame(rows, schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=schema, orient="row")


def _releases(
    *, release_from: datetime.date | None, release_to: datetime.date | None, facility_codes
) -> pl.DataFrame:
    episodes = CustodyEpisode.objects.filter(release_date__isnull=False)
    if release_from:
        episodes = episodes.filter(release_date__gte=release_from)
    if release_to:
        episodes = episodes.filter(release_date__lte=release_to)
    if facility_codes:
        episodes = episodes.filter(facility__code__in=facility_codes)
    rows = episodes.order_by("pk").values_list(
        "pk",
        "person_id",
        "person__research_id",
        "admission_date",
        "release_date",
        "release_type",
        "facility__code",
        "facility__facility_type",
        "main_offence_category",
        "sentence_length_days",
        "person__sex",
        "person__date_of_birth",
        "person__education_level",
        "person__literacy",
    )
    return _frame(
        rows,
        {
            "episode_id": pl.Int64,
            "person_pk": pl.Int64,
            "research_id": pl.String,
            "admission_date": pl.Date,
            "release_date": pl.Date,
            "release_type": pl.String,
            "facility": pl.String,
            "facility_type": pl.String,
            "main_offence_category": pl.String,
            "sentence_length_days": pl.Int64,
            "sex": pl.String,
            "date_of_birth": pl.Date,
            "education_level": pl.String,
            "literacy": pl.String,
        },
    )


def _prior_episodes(releases: pl.DataFrame) -> pl.DataFrame:
    """Per release, the person's custody episodes admitted before this one."""
    people = releases.get_column("person_pk").unique().to_list()
    all_episodes = _frame(
        CustodyEpisode.objects.filter(person_id__in=people).values_list(
            "person_id", "admission_date"
        ),
        {"person_pk": pl.Int64, "earlier_admission": pl.Date},
    )
    return (
        releases.select("episode_id", "person_pk", "admission_date")
        .join(all_episodes, on="person_pk", how="inner")
        .group_by("episode_id")
        .agg(
            (pl.col("earlier_admission") < pl.col("admission_date"))
            .sum()
            .cast(pl.Int64)
            .alias("prior_custodial_episodes")
        )
    )


def _treatment(releases: pl.DataFrame, *, programme: Programme, treatment: str) -> pl.DataFrame:
    """Per release: treated (0/1) and whether it started without completing before release."""
    episode_ids = releases.get_column("episode_id").to_list()
    referrals = _frame(
        Referral.objects.filter(programme=programme, episode_id__in=episode_ids).values_list(
            "episode_id", "status", "started_on", "ended_on"
        ),
        {"episode_id": pl.Int64, "status": pl.String, "started_on": pl.Date, "ended_on": pl.Date},
    )
    release_date = pl.col("release_date")
    started = pl.col("started_on").is_not_null() & (pl.col("started_on") <= release_date)
    completed = (
        (pl.col("status") == ReferralStatus.COMPLETED.value)
        & pl.col("ended_on").is_not_null()
        & (pl.col("ended_on") <= release_date)
    )
    treated = completed if treatment == TREATMENT_COMPLETED else started
    return (
        releases.select("episode_id", "release_date")
        .join(referrals, on="episode_id", how="inner")
        .group_by("episode_id")
        .agg(treated.any().alias("_treated"), started.any().alias("_started"))
    )


def _screeners(releases: pl.DataFrame) -> pl.DataFrame:
    """Per release, the baseline RNR screener: the first one completed in the custody
    episode (before any programme could change it), else the latest one before admission.
    A later screener could already reflect the programme being evaluated, and adjusting for
    it would hide part of the programme's effect."""
    people = releases.get_column("person_pk").unique().to_list()
    rows = (
        Assessment.objects.filter(
            person_id__in=people,
            status=AssessmentStatus.COMPLETED,
            instrument_version__slug=RNR_SCREENER,
        )
        .order_by("person_id", "assessed_on", "pk")
        .values_list("person_id", "assessed_on", "total", "needs")
    )
    records = []
    domains: set[str] = set()
    for person_pk, assessed_on, total, needs in rows:
        flags = {
            domain: bool(value.get("is_need")) if isinstance(value, dict) else bool(value)
            for domain, value in (needs or {}).items()
        }
        domains.update(flags)
        records.append((person_pk, assessed_on, total, flags))
    need_columns = sorted(domains)
    screeners = pl.DataFrame(
        {
            "person_pk": [record[0] for record in records],
            "assessed_on": [record[1] for record in records],
            "rnr_screener_total": [record[2] for record in records],
            **{
                f"need_{domain}": [int(record[3].get(domain, False)) for record in records]
                for domain in need_columns
            },
        },
        schema={
            "person_pk": pl.Int64,
            "assessed_on": pl.Date,
            "rnr_screener_total": pl.Float64,
            **{f"need_{domain}": pl.Int64 for domain in need_columns},
        },
    ).sort("person_pk", "assessed_on")
    values = ["rnr_screener_total", *(f"need_{domain}" for domain in need_columns)]
    episodes = releases.select("episode_id", "person_pk", "admission_date", "release_date")
    in_episode = (
        episodes.join(screeners, on="person_pk", how="inner")
        .filter(
            (pl.col("assessed_on") >= pl.col("admission_date"))
            & (pl.col("assessed_on") <= pl.col("release_date"))
        )
        .sort("episode_id", "assessed_on")
        .group_by("episode_id", maintain_order=True)
        .first()
        .select("episode_id", *values)
    )
    before_admission = (
        episodes.sort("admission_date")
        .join_asof(
            screeners.sort("assessed_on"),
            left_on="admission_date",
            right_on="assessed_on",
            by="person_pk",
            strategy="backward",
            # Both sides are sorted by date; the check cannot run per person.
            check_sortedness=False,
        )
        .select("episode_id", *values)
    )
    baseline = before_admission.join(in_episode, on="episode_id", how="left", suffix="_in")
    return baseline.select(
        "episode_id",
        *(pl.coalesce(f"{column}_in", column).alias(column) for column in values),
    )


def _outcomes(
    releases: pl.DataFrame, *, definition: Definition, window_years: int, followup_end_date
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Per release, the engine's outcome within the window; and the releases it excluded."""
    people = releases.get_column("person_pk").unique().to_list()
    events = _frame(
        OutcomeEvent.objects.filter(person_id__in=people).values_list(
            "person__research_id", "event_type", "event_date", "offence_date"
        ),
        {
            "person_id": pl.String,
            "event_type": pl.String,
            "event_date": pl.Date,
            "offence_date": pl.Date,
        },
    )
    engine_releases = releases.select(
        pl.col("episode_id").cast(pl.String).alias("release_id"),
        pl.col("research_id").alias("person_id"),
        "release_date",
        "release_type",
        pl.lit(followup_end_date, dtype=pl.Date).alias("followup_end_date"),
    )
    # The engine's per-release step: suppression=None gives exact, record-level follow-ups.
    result = measure(engine_releases, events, definition, windows=[window_years], suppression=None)
    column = f"recidivated_within_{window_years}y"
    followups = result.followups.select(
        pl.col("release_id").cast(pl.Int64).alias("episode_id"),
        pl.col(column).cast(pl.Int64).alias(OUTCOME),
    )
    counted = followups.height
    eligible = followups.filter(pl.col(OUTCOME).is_not_null())
    excluded = {
        "release_type_not_counted": releases.height - counted,
        "followup_not_complete": counted - eligible.height,
    }
    return eligible, excluded


def _indicator(condition: pl.Expr, name: str) -> pl.Expr:
    return condition.fill_null(False).cast(pl.Int64).alias(name)


def _covariate_columns(frame: pl.DataFrame, chosen: list[str]) -> tuple[pl.DataFrame, list[str]]:
    """Numeric covariate columns for the chosen codes; constant columns are left out."""
    release_date, birth = pl.col("release_date"), pl.col("date_of_birth")
    birthday_not_reached = (release_date.dt.month() * 100 + release_date.dt.day()) < (
        birth.dt.month() * 100 + birth.dt.day()
    )
    expressions: dict[str, pl.Expr] = {}
    if "age_at_release" in chosen:
        expressions["age_at_release"] = (
            release_date.dt.year() - birth.dt.year() - birthday_not_reached.cast(pl.Int32)
        ).cast(pl.Float64)
    if "sex" in chosen:
        expressions["sex_female"] = _indicator(pl.col("sex") == "female", "sex_female")
    if "prior_custodial_episodes" in chosen:
        expressions["prior_custodial_episodes"] = pl.col("prior_custodial_episodes").fill_null(0)
    if "main_offence_category" in chosen:
        counts = frame.group_by("main_offence_category").len()
        common = counts.filter(pl.col("len") >= MIN_CATEGORY_RELEASES).sort(
            ["len", "main_offence_category"], descending=[True, False]
        )
        categories = common.get_column("main_offence_category").to_list()
        # The most common category is the reference; rare ones are pooled as "other".
        for category in sorted(categories[1:]):
            name = f"offence_{category}"
            expressions[name] = _indicator(pl.col("main_offence_category") == category, name)
        rare = [
            c for c in frame.get_column("main_offence_category").unique() if c not in categories
        ]
        if rare:
            expressions["offence_rare_other"] = _indicator(
                pl.col("main_offence_category").is_in(rare), "offence_rare_other"
            )
    if "sentence_length" in chosen:
        days = pl.col("sentence_length_days")
        expressions["sentence_length_years"] = (days.cast(pl.Float64) / 365.25).fill_null(0.0)
        expressions["sentence_length_missing"] = _indicator(days.is_null(), "x")
    if "time_served" in chosen:
        expressions["time_served_years"] = (
            release_date - pl.col("admission_date")
        ).dt.total_days().cast(pl.Float64) / 365.25
    if "released_on_parole" in chosen:
        expressions["released_on_parole"] = _indicator(pl.col("release_type") == "parole", "x")
    if "released_from_semi_open_or_open" in chosen:
        expressions["released_from_semi_open_or_open"] = _indicator(
            pl.col("facility_type").is_in(["semi_open", "open"]), "x"
        )
    if "rnr_screener_total" in chosen:
        expressions["rnr_screener_total"] = pl.col("rnr_screener_total")
    if "rnr_screener_needs" in chosen:
        for name in sorted(c for c in frame.columns if c.startswith("need_")):
            expressions[name] = pl.col(name)
    if "education_level" in chosen:
        level = pl.col("education_level")
        expressions["education_level"] = (
            level.replace_strict(
                {str(k): v for k, v in EDUCATION_ORDER.items()}, default=None, return_dtype=pl.Int64
            )
            .fill_null(0)
            .cast(pl.Float64)
        )
        expressions["education_not_recorded"] = _indicator(
            ~level.is_in([str(k) for k in EDUCATION_ORDER]), "x"
        )
    if "literacy" in chosen:
        literacy = pl.col("literacy")
        expressions["literacy"] = (
            literacy.replace_strict(
                {str(k): v for k, v in LITERACY_ORDER.items()}, default=None, return_dtype=pl.Int64
            )
            .fill_null(0)
            .cast(pl.Float64)
        )
        expressions["literacy_not_recorded"] = _indicator(
            ~literacy.is_in([str(k) for k in LITERACY_ORDER]), "x"
        )
    covariates = frame.select([expression.alias(name) for name, expression in expressions.items()])
    # A constant column carries no information and makes the propensity model singular.
    kept = [
        name
        for name in covariates.columns
        if covariates.get_column(name).drop_nulls().n_unique() > 1
    ]
    return covariates.select(kept), kept


def release_frame(
    *,
    definition: Definition,
    window_years: int,
    release_from: datetime.date | None,
    release_to: datetime.date | None,
    facility_codes: list[str],
    followup_end_date: datetime.date,
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, int]]:
    """The releases in the dates and facilities; those the definition counts, with their
    ``outcome`` (0/1), prior custodial episodes and baseline RNR screener; and the releases
    excluded, by reason. Shared by programme evaluation and risk-instrument validation, so
    both count reoffending exactly as the evidence dashboard does."""
    releases = _releases(
        release_from=release_from, release_to=release_to, facility_codes=facility_codes
    )
    if releases.is_empty():
        raise CohortError("no releases in the chosen dates and facilities")
    outcomes, excluded = _outcomes(
        releases,
        definition=definition,
        window_years=window_years,
        followup_end_date=followup_end_date,
    )
    frame = (
        releases.join(outcomes, on="episode_id", how="inner")
        .join(_prior_episodes(releases), on="episode_id", how="left")
        .join(_screeners(releases), on="episode_id", how="left")
    )
    return releases, frame, excluded


def cohort_build(
    *,
    programme: Programme,
    parameters: dict[str, Any],
    followup_end_date: datetime.date,
) -> Cohort:
    """The frame the estimator reads, and what the cohort is (counts, exclusions and why).

    ``parameters`` are those of ``forms.EvaluationForm.parameters()``: ``treatment``
    ("completed" or "started"), ``definition`` (a preset slug), ``window_years``,
    ``covariates`` (codes of ``COVARIATES``), ``release_from`` and ``release_to`` (ISO dates,
    both inclusive, optional) and ``facilities`` (facility codes; empty means all).
    """
    definition = definition_by_slug(parameters["definition"])
    window_years = int(parameters.get("window_years") or max(definition.windows))
    treatment = parameters.get("treatment", TREATMENT_COMPLETED)
    if treatment not in (TREATMENT_COMPLETED, TREATMENT_STARTED):
        raise CohortError(f"unknown treatment definition {treatment!r}")
    unknown = [code for code in parameters.get("covariates", []) if code not in COVARIATES]
    if unknown:
        raise CohortError(f"unknown covariate(s): {', '.join(unknown)}")
    release_from = parameters.get("release_from")
    release_to = parameters.get("release_to")
    release_from = datetime.date.fromisoformat(release_from) if release_from else None
    release_to = datetime.date.fromisoformat(release_to) if release_to else None
    facility_codes = list(parameters.get("facilities") or [])

    releases, frame, excluded = release_frame(
        definition=definition,
        window_years=window_years,
        release_from=release_from,
        release_to=release_to,
        facility_codes=facility_codes,
        followup_end_date=followup_end_date,
    )
    treated = _treatment(releases, programme=programme, treatment=treatment)
    frame = frame.join(treated, on="episode_id", how="left").with_columns(
        pl.col("_treated").fill_null(False),
        pl.col("_started").fill_null(False),
    )
    if treatment == TREATMENT_COMPLETED:
        partial = frame.filter(pl.col("_started") & ~pl.col("_treated"))
        excluded["started_not_completed"] = partial.height
        frame = frame.filter(~(pl.col("_started") & ~pl.col("_treated")))
    else:
        excluded["started_not_completed"] = 0
    frame = frame.sort("research_id", "release_date", "episode_id")

    covariate_frame, covariates = _covariate_columns(frame, list(parameters.get("covariates", [])))
    analysis = pl.concat(
        [
            frame.select(
                "research_id",
                "release_date",
                pl.col("_treated").cast(pl.Int64).alias(TREATED),
                pl.col(OUTCOME).cast(pl.Int64),
            ),
            covariate_frame,
        ],
        how="horizontal",
    )
    n_treated = int(analysis.get_column(TREATED).sum())
    description = {
        "programme": programme.code,
        "treatment": treatment,
        "definition": {
            "slug": definition.slug,
            "name": definition.name,
            "version": definition.version,
            "sentence": definition.with_overrides(windows=[window_years]).sentence,
        },
        "window_years": window_years,
        "release_from": release_from.isoformat() if release_from else None,
        "release_to": release_to.isoformat() if release_to else None,
        "facilities": facility_codes or sorted(Facility.objects.values_list("code", flat=True)),
        "all_facilities": not facility_codes,
        "followup_end_date": followup_end_date.isoformat(),
        "releases": releases.height,
        "rows": analysis.height,
        "treated": n_treated,
        "untreated": analysis.height - n_treated,
        "excluded": {reason: int(excluded.get(reason, 0)) for reason in EXCLUSION_REASONS},
        "covariates": covariates,
    }
    return Cohort(frame=analysis, covariates=tuple(covariates), description=description)

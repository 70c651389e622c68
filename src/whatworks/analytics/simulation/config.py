"""Configuration of the synthetic prison system: every base rate is a field with a default.

docs/simulator.md gives the meaning and the source of each default.
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import math
import types
import typing
from collections.abc import Mapping
from typing import Any

from whatworks.analytics.treatment.common import NEED_DOMAINS

COUNTRIES = ("CL", "BR")

OFFENCE_CATEGORIES = (
    "theft",
    "robbery",
    "burglary",
    "drug_trafficking",
    "drug_possession",
    "homicide",
    "assault",
    "sexual_offence",
    "domestic_violence",
    "fraud",
    "firearms",
    "other",
)

NEEDS_CODES = (
    "learning_disability",
    "intellectual_disability",
    "hearing",
    "visual",
    "mobility",
    "mental_health",
    "neurodivergent",
)

# The Central Eight, in the order the treatment rules and the RNR screener use.
CENTRAL_EIGHT = NEED_DOMAINS

# A table of (key, value) pairs keeps the dataclass immutable; JSON overrides give a dict.
Pairs = tuple[tuple[str, float], ...]

# Sentenced population by main offence, men. Robbery, theft and drug offences dominate.
DEFAULT_OFFENCE_MIX_MALE: Pairs = (
    ("theft", 0.14),
    ("robbery", 0.27),
    ("burglary", 0.10),
    ("drug_trafficking", 0.15),
    ("drug_possession", 0.05),
    ("homicide", 0.05),
    ("assault", 0.05),
    ("sexual_offence", 0.06),
    ("domestic_violence", 0.04),
    ("fraud", 0.02),
    ("firearms", 0.04),
    ("other", 0.03),
)

# Women in Latin American prisons are held mostly for drug offences.
DEFAULT_OFFENCE_MIX_FEMALE: Pairs = (
    ("theft", 0.16),
    ("robbery", 0.10),
    ("burglary", 0.03),
    ("drug_trafficking", 0.45),
    ("drug_possession", 0.08),
    ("homicide", 0.04),
    ("assault", 0.03),
    ("sexual_offence", 0.01),
    ("domestic_violence", 0.01),
    ("fraud", 0.05),
    ("firearms", 0.01),
    ("other", 0.03),
)

# Median sentence length in days; lengths are lognormal around these medians.
DEFAULT_SENTENCE_MEDIAN_DAYS: Pairs = (
    ("theft", 300.0),
    ("robbery", 1460.0),
    ("burglary", 820.0),
    ("drug_trafficking", 1700.0),
    ("drug_possession", 180.0),
    ("homicide", 4380.0),
    ("assault", 540.0),
    ("sexual_offence", 2555.0),
    ("domestic_violence", 300.0),
    ("fraud", 540.0),
    ("firearms", 1100.0),
    ("other", 400.0),
)

DEFAULT_NEEDS_PREVALENCE: Pairs = (
    ("learning_disability", 0.06),
    ("intellectual_disability", 0.02),
    ("hearing", 0.02),
    ("visual", 0.03),
    ("mobility", 0.02),
    ("mental_health", 0.12),
    ("neurodivergent", 0.03),
)

# Log relative hazard of reoffending per unit of each latent Central Eight level (0 to 1).
DEFAULT_CENTRAL_EIGHT_COEFFICIENTS: Pairs = (
    ("criminal_history", 0.9),
    ("antisocial_attitudes", 0.8),
    ("antisocial_associates", 0.8),
    ("antisocial_personality", 0.7),
    ("family_marital", 0.3),
    ("school_work", 0.4),
    ("leisure_recreation", 0.2),
    ("substance_abuse", 0.5),
)

EDUCATION_LEVELS = (
    "none",
    "primary_incomplete",
    "primary",
    "secondary_incomplete",
    "secondary",
    "tertiary",
    "not_recorded",
)

# Highest completed schooling of literate adults in custody (education_level for the people
# whose literacy is literate or not recorded). Most have not completed secondary school.
DEFAULT_EDUCATION_MIX: Pairs = (
    ("none", 0.02),
    ("primary_incomplete", 0.22),
    ("primary", 0.20),
    ("secondary_incomplete", 0.32),
    ("secondary", 0.20),
    ("tertiary", 0.04),
)

# Kinds of stable accommodation arranged at release and their relative weights (the weight
# of supported housing is multiplied by exp(z_substance) per person). Slugs as in the
# reintegration app's AccommodationType.
STABLE_ACCOMMODATION_TYPES = ("family", "own_tenancy", "supported")
DEFAULT_ACCOMMODATION_STABLE_MIX: Pairs = (
    ("family", 0.75),
    ("own_tenancy", 0.15),
    ("supported", 0.10),
)

_PAIR_KEYS = {
    "offence_mix_male": OFFENCE_CATEGORIES,
    "offence_mix_female": OFFENCE_CATEGORIES,
    "sentence_median_days": OFFENCE_CATEGORIES,
    "needs_prevalence": NEEDS_CODES,
    "central_eight_coefficients": CENTRAL_EIGHT,
    "education_mix": EDUCATION_LEVELS[:-1],
    "accommodation_stable_mix": STABLE_ACCOMMODATION_TYPES,
}

_PROBABILITIES = (
    "female_share",
    "stock_share",
    "foreign_without_national_id_share",
    "literacy_limited_share",
    "literacy_illiterate_share",
    "literacy_not_recorded_share",
    "gender_not_recorded_share",
    "trans_woman_share",
    "trans_man_share",
    "non_binary_share",
    "needs_factor_loading",
    "remand_share",
    "direct_sentenced_share",
    "remand_release_without_sentence_share",
    "parole_eligible_fraction",
    "progression_to_open_share",
    "pardon_share",
    "escape_share_closed",
    "escape_share_semi_open",
    "expulsion_share_foreign",
    "reoffence_persistence_share",
    "rearrest_probability",
    "rearrest_same_day_share",
    "charge_probability",
    "reconviction_probability",
    "custodial_sentence_probability",
    "recall_probability",
    "health_screening_share",
    "education_not_recorded_share",
    "programme_ineligible_referral_share",
    "programme_late_share",
    "programme_excused_share",
    "programme_completion_attendance_share",
    "risk_band_low_upper_quantile",
    "risk_band_moderate_upper_quantile",
    "risk_band_high_upper_quantile",
    "programme_min_group_fill",
    "accommodation_shelter_share",
    "employment_training_share",
)

# Coefficients of the reintegration model (log-odds or log hazard ratios): finite, |x| <= 10.
_REINTEGRATION_COEFFICIENTS = (
    "accommodation_intercept",
    "accommodation_family_slope",
    "accommodation_substance_slope",
    "accommodation_risk_slope",
    "accommodation_female_shift",
    "accommodation_parole_shift",
    "employment_offer_intercept",
    "employment_offer_school_work_slope",
    "employment_offer_risk_slope",
    "employment_offer_programme_shift",
    "employment_offer_open_regime_shift",
    "employment_offer_accommodation_shift",
    "id_ready_intercept",
    "id_ready_risk_slope",
    "id_ready_without_national_id_shift",
    "bank_account_intercept",
    "bank_account_job_shift",
    "employment_log_hazard_ratio",
    "training_log_hazard_ratio",
    "housing_log_hazard_ratio",
    "followup_missed_intercept",
    "followup_missed_risk_slope",
    "followup_missed_homeless_shift",
)


@dataclasses.dataclass(frozen=True)
class SimulationConfig:
    """Everything that determines a simulated prison service.

    Rates are per person, per episode or per year as their names say. ``None`` for
    ``foreign_national_share``, ``indigenous_language_share`` and ``baseline_hazard_scale``
    means "use the country default" or "calibrate", see docs/simulator.md.
    """

    # Size, seed and time frame.
    persons: int = 2000
    seed: int = 0
    extract_date: datetime.date = datetime.date(2026, 6, 30)
    history_years: int = 5
    country: str = "CL"
    # Facilities' capacities are scaled to the simulated population so that, overall, the
    # people in custody at the extract date fill them to this rate. Assumption: most Latin
    # American systems run above 100% of official capacity.
    occupancy_rate: float = 1.2

    # Population.
    female_share: float = 0.08
    stock_share: float = 0.35
    age_min: float = 18.0
    age_max: float = 65.0
    age_gamma_shape: float = 2.0
    age_gamma_scale_years: float = 5.5
    foreign_national_share: float | None = None
    foreign_without_national_id_share: float = 0.4
    indigenous_language_share: float | None = None
    literacy_limited_share: float = 0.10
    literacy_illiterate_share: float = 0.03
    literacy_not_recorded_share: float = 0.04
    gender_not_recorded_share: float = 0.05
    trans_woman_share: float = 0.004
    trans_man_share: float = 0.01
    non_binary_share: float = 0.002
    needs_prevalence: Pairs = DEFAULT_NEEDS_PREVALENCE

    # Latent Central Eight and criminal history.
    needs_factor_loading: float = 0.6
    prior_episodes_mean: float = 0.9
    prior_episodes_history_slope: float = 0.8

    # Offences and sentences.
    offence_mix_male: Pairs = DEFAULT_OFFENCE_MIX_MALE
    offence_mix_female: Pairs = DEFAULT_OFFENCE_MIX_FEMALE
    sentence_median_days: Pairs = DEFAULT_SENTENCE_MEDIAN_DAYS
    sentence_log_sd: float = 0.5
    sentence_max_days: int = 14600

    # Custody.
    remand_share: float = 0.70
    direct_sentenced_share: float = 0.27
    remand_median_days: float = 150.0
    remand_log_sd: float = 0.7
    remand_release_without_sentence_share: float = 0.15
    parole_min_sentence_days: int = 365
    parole_eligible_fraction: float = 0.5
    parole_intercept: float = -1.2
    parole_risk_slope: float = -1.0
    progression_min_sentence_days: int = 540
    progression_intercept: float = -0.6
    progression_risk_slope: float = -2.0
    progression_to_open_share: float = 0.25
    lateral_transfer_rate_per_year: float = 0.15
    pardon_share: float = 0.01
    death_in_custody_rate_per_year: float = 0.003
    escape_share_closed: float = 0.002
    escape_share_semi_open: float = 0.03
    expulsion_share_foreign: float = 0.10

    # Post-release reoffending (Weibull proportional hazards).
    target_reconviction_rate_3y: float = 0.40
    baseline_hazard_scale: float | None = None
    weibull_shape: float = 0.75
    age_reference_years: float = 30.0
    coefficient_age_per_year: float = -0.03
    coefficient_female: float = -0.35
    coefficient_log_prior_episodes: float = 0.35
    central_eight_coefficients: Pairs = DEFAULT_CENTRAL_EIGHT_COEFFICIENTS
    semi_open_release_log_hazard_ratio: float = 0.0
    parole_release_log_hazard_ratio: float = 0.0
    max_offences_per_release: int = 12
    reoffence_persistence_share: float = 0.4

    # From offence to reincarceration.
    rearrest_probability: float = 0.65
    rearrest_same_day_share: float = 0.4
    rearrest_lag_median_days: float = 45.0
    charge_probability: float = 0.85
    charge_lag_median_days: float = 2.0
    reconviction_probability: float = 0.75
    reconviction_lag_median_days: float = 200.0
    lag_log_sd: float = 0.8
    custodial_sentence_probability: float = 0.7

    # Parole supervision, deaths and deportations after release.
    technical_violation_rate_per_year: float = 0.3
    recall_probability: float = 0.5
    recall_lag_median_days: float = 14.0
    post_release_death_rate_per_year: float = 0.008
    post_release_deportation_rate_per_year: float = 0.15

    # Assessments (RNR screener, K6, AUDIT) drawn from the latent truth, with noise.
    assessments_enabled: bool = True
    assessment_noise_sd: float = 1.0
    health_screening_share: float = 0.7

    # Education (persons.education_level), drawn on its own seed stream.
    education_mix: Pairs = DEFAULT_EDUCATION_MIX
    education_not_recorded_share: float = 0.06
    # Correlation between lower education and the latent school/work need (0 to 1).
    education_school_work_correlation: float = 0.5

    # Rehabilitation programmes (docs/simulator.md, section 5b), on their own seed stream.
    programmes_enabled: bool = True
    # Latent motivation M ~ N(0, 1) per person, correlated with the standardised static
    # risk (person_truth.linear_predictor). It drives selection, never the hazard.
    motivation_risk_correlation: float = -0.4
    # Risk bands for eligibility: quantiles of the static linear predictor at first admission.
    risk_band_low_upper_quantile: float = 0.3
    risk_band_moderate_upper_quantile: float = 0.7
    risk_band_high_upper_quantile: float = 0.9
    # Referral, per episode and programme: logistic in the terms below plus the programme's
    # referral_priority. Time is log(years of the planned stay, clipped to 1 month - 5 years),
    # need is the mean latent level of the programme's target needs minus 0.5.
    programme_referral_intercept: float = -1.5
    programme_referral_time_slope: float = 0.5
    programme_referral_need_slope: float = 1.0
    programme_referral_motivation_slope: float = 0.6
    programme_referral_risk_slope: float = -1.8
    programme_referral_median_days: float = 60.0
    # Referrals of ineligible people (assessed not_suitable), relative to eligible ones.
    programme_ineligible_referral_share: float = 0.1
    programme_assessment_days: int = 14
    programme_allocation_notice_days: int = 14
    programme_cycle_gap_days: int = 28
    # Places per cycle = programme_places_scale * places_per_100 (catalogue) * people held
    # at the facility / 100; a facility runs a programme only when its places reach this
    # share of one group (small facilities run fewer programmes).
    programme_places_scale: float = 1.0
    programme_min_group_fill: float = 0.25
    # Dropout before the end: exponential with this rate per programme length at M = 0, lp = 0.
    programme_dropout_rate: float = 0.25
    programme_dropout_motivation_slope: float = -0.6
    programme_dropout_risk_slope: float = 1.0
    # Attendance at each session: logistic; late and excused are shares of attended/absent.
    programme_attendance_intercept: float = 2.8
    programme_attendance_motivation_slope: float = 0.7
    programme_late_share: float = 0.08
    programme_excused_share: float = 0.5
    programme_completion_attendance_share: float = 0.8
    # Serious disciplinary faults (remission revocation), per year in custody at lp = M = 0.
    serious_fault_rate_per_year: float = 0.08

    # Drug tests in custody (docs/simulator.md, section 5c), on their own seed stream.
    drug_tests_enabled: bool = True
    # Random tests per person per month in custody (weighted toward substance need by
    # exp(w z - w^2 / 2), z the probit of the latent substance_abuse level).
    drug_random_test_rate_per_month: float = 0.10
    drug_random_test_need_weight: float = 0.5
    drug_admission_test_share: float = 0.5
    drug_for_cause_rate_per_year: float = 0.3
    drug_scheduled_test_interval_days: int = 60
    drug_pre_release_test_share: float = 0.5
    drug_saliva_test_share: float = 0.10
    drug_breath_test_share: float = 0.04
    # Positivity: slope on z, person random-effect SD, change per log(1 + months in custody),
    # and the planted log-odds ratio of being in (or having completed) a substance-use programme.
    drug_use_substance_slope: float = 1.0
    drug_use_person_sd: float = 0.5
    drug_use_decline_per_log_month: float = -0.3
    drug_programme_log_odds_ratio: float = -0.7
    # Substance need (for the reported co-occurrence): latent substance_abuse level at least this.
    drug_substance_need_threshold: float = 0.6

    # Post-release reintegration (docs/simulator.md, section 5d), on its own seed stream.
    # Off: no arrangements, no contacts, and every other table exactly as without it.
    reintegration_enabled: bool = True
    # Stable accommodation arranged at release (family, own tenancy or supported housing),
    # logistic in the probits of the latent family/marital and substance levels, the
    # standardised static risk at release, sex and parole. About 70% overall.
    accommodation_intercept: float = 1.3
    accommodation_family_slope: float = -0.6
    accommodation_substance_slope: float = -0.3
    accommodation_risk_slope: float = -0.3
    accommodation_female_shift: float = 0.3
    accommodation_parole_shift: float = 0.5
    accommodation_stable_mix: Pairs = DEFAULT_ACCOMMODATION_STABLE_MIX
    # Among people without stable accommodation: a shelter or hostel (else none).
    accommodation_shelter_share: float = 0.4
    # A job or training offer at release, logistic in the probit of the latent school/work
    # level, the standardised static risk, a vocational, work or education programme
    # completed in the episode, release from a semi-open or open facility and stable
    # accommodation. A share of the offers are training places. About 30% overall.
    employment_offer_intercept: float = -1.3
    employment_offer_school_work_slope: float = -0.5
    employment_offer_risk_slope: float = -0.3
    employment_offer_programme_shift: float = 0.8
    employment_offer_open_regime_shift: float = 0.7
    employment_offer_accommodation_shift: float = 0.4
    employment_training_share: float = 0.35
    # Identity document ready at release (logistic; people without a national ID number
    # are shifted down) and a bank account (only with an ID; more likely with a job).
    id_ready_intercept: float = 1.0
    id_ready_risk_slope: float = -0.5
    id_ready_without_national_id_shift: float = -2.0
    bank_account_intercept: float = -0.8
    bank_account_job_shift: float = 1.2
    # Planted effects on the post-release hazard of offending (log hazard ratios), like the
    # other covariates of lp: a job offer, a training offer (each against no offer) and
    # stable accommodation (against a shelter or none). ID and bank account have none.
    employment_log_hazard_ratio: float = -0.30
    training_log_hazard_ratio: float = -0.10
    housing_log_hazard_ratio: float = -0.25
    # Follow-up contacts after release, in calendar months; missed with a probability
    # logistic in the standardised risk and homelessness at the time.
    followup_months: tuple[int, ...] = (1, 3, 6, 12)
    followup_missed_intercept: float = -1.7
    followup_missed_risk_slope: float = 0.5
    followup_missed_homeless_shift: float = 0.8

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            if field.name in _PAIR_KEYS:
                _check_pairs(field.name, getattr(self, field.name), _PAIR_KEYS[field.name])
        if not isinstance(self.persons, int) or self.persons < 1:
            raise ValueError(f"persons must be a positive integer, got {self.persons!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if not isinstance(self.extract_date, datetime.date):
            raise ValueError("extract_date must be a date")
        if not isinstance(self.history_years, int) or not 1 <= self.history_years <= 30:
            raise ValueError(
                f"history_years must be an integer from 1 to 30, got {self.history_years!r}"
            )
        if self.country not in COUNTRIES:
            raise ValueError(f"country must be one of {', '.join(COUNTRIES)}, got {self.country!r}")
        for name in _PROBABILITIES:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
        for name in ("foreign_national_share", "indigenous_language_share"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1 or null, got {value!r}")
        if not 0.0 < self.target_reconviction_rate_3y < 1.0:
            raise ValueError("target_reconviction_rate_3y must be strictly between 0 and 1")
        if self.baseline_hazard_scale is not None and self.baseline_hazard_scale <= 0:
            raise ValueError("baseline_hazard_scale must be positive or null")
        if not 18.0 <= self.age_min < self.age_max <= 90.0:
            raise ValueError("age_min and age_max must satisfy 18 <= age_min < age_max <= 90")
        if self.remand_share + self.direct_sentenced_share > 1.0:
            raise ValueError("remand_share + direct_sentenced_share must not exceed 1")
        literacy = (
            self.literacy_limited_share
            + self.literacy_illiterate_share
            + self.literacy_not_recorded_share
        )
        if literacy > 1.0:
            raise ValueError("the literacy shares must not add up to more than 1")
        positive = (
            "occupancy_rate",
            "age_gamma_shape",
            "age_gamma_scale_years",
            "sentence_log_sd",
            "remand_median_days",
            "remand_log_sd",
            "weibull_shape",
            "rearrest_lag_median_days",
            "charge_lag_median_days",
            "reconviction_lag_median_days",
            "lag_log_sd",
            "recall_lag_median_days",
            "programme_referral_median_days",
            "programme_places_scale",
        )
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        non_negative = (
            "prior_episodes_mean",
            "lateral_transfer_rate_per_year",
            "death_in_custody_rate_per_year",
            "technical_violation_rate_per_year",
            "post_release_death_rate_per_year",
            "post_release_deportation_rate_per_year",
            "programme_dropout_rate",
            "serious_fault_rate_per_year",
        )
        for name in non_negative:
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)!r}")
        if not 1 <= self.max_offences_per_release <= 100:
            raise ValueError("max_offences_per_release must be from 1 to 100")
        if not isinstance(self.assessments_enabled, bool):
            raise ValueError(
                f"assessments_enabled must be true or false, got {self.assessments_enabled!r}"
            )
        if not 0.0 <= self.assessment_noise_sd <= 5.0:
            raise ValueError(
                f"assessment_noise_sd must be from 0 to 5, got {self.assessment_noise_sd!r}"
            )
        if not isinstance(self.programmes_enabled, bool):
            raise ValueError(
                f"programmes_enabled must be true or false, got {self.programmes_enabled!r}"
            )
        for name in ("motivation_risk_correlation", "education_school_work_correlation"):
            if not -0.95 <= getattr(self, name) <= 0.95:
                raise ValueError(f"{name} must be from -0.95 to 0.95, got {getattr(self, name)!r}")
        if not (
            0.0
            < self.risk_band_low_upper_quantile
            < self.risk_band_moderate_upper_quantile
            < self.risk_band_high_upper_quantile
            < 1.0
        ):
            raise ValueError("the risk band quantiles must increase strictly between 0 and 1")
        for name in (
            "programme_assessment_days",
            "programme_allocation_notice_days",
            "programme_cycle_gap_days",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 365:
                raise ValueError(f"{name} must be an integer from 0 to 365, got {value!r}")
        if self.sentence_max_days < 365:
            raise ValueError("sentence_max_days must be at least 365")
        self._check_drug_tests()
        self._check_reintegration()

    def _check_reintegration(self) -> None:
        if not isinstance(self.reintegration_enabled, bool):
            raise ValueError(
                f"reintegration_enabled must be true or false, got {self.reintegration_enabled!r}"
            )
        for name in _REINTEGRATION_COEFFICIENTS:
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not (math.isfinite(value) and -10.0 <= value <= 10.0)
            ):
                raise ValueError(f"{name} must be a number from -10 to 10, got {value!r}")
        weights = [value for _, value in self.accommodation_stable_mix]
        if any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError(
                "accommodation_stable_mix: weights must be non-negative with a positive total"
            )
        months = self.followup_months
        if (
            not isinstance(months, tuple)
            or not months
            or any(isinstance(m, bool) or not isinstance(m, int) for m in months)
            or any(not 1 <= m <= 60 for m in months)
            or any(later <= earlier for earlier, later in itertools.pairwise(months))
        ):
            raise ValueError(
                "followup_months must be a non-empty list of increasing whole months "
                f"from 1 to 60, got {months!r}"
            )

    def _check_drug_tests(self) -> None:
        if not isinstance(self.drug_tests_enabled, bool):
            raise ValueError(
                f"drug_tests_enabled must be true or false, got {self.drug_tests_enabled!r}"
            )
        for name in (
            "drug_admission_test_share",
            "drug_pre_release_test_share",
            "drug_saliva_test_share",
            "drug_breath_test_share",
            "drug_substance_need_threshold",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
        if self.drug_saliva_test_share + self.drug_breath_test_share > 0.8:
            raise ValueError("drug_saliva_test_share + drug_breath_test_share must not exceed 0.8")
        for name in (
            "drug_random_test_rate_per_month",
            "drug_random_test_need_weight",
            "drug_for_cause_rate_per_year",
            "drug_use_person_sd",
        ):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0.0 <= value <= 10.0):
                raise ValueError(f"{name} must be from 0 to 10, got {value!r}")
        for name in (
            "drug_use_substance_slope",
            "drug_use_decline_per_log_month",
            "drug_programme_log_odds_ratio",
        ):
            value = getattr(self, name)
            if not (math.isfinite(value) and -5.0 <= value <= 5.0):
                raise ValueError(f"{name} must be from -5 to 5, got {value!r}")
        interval = self.drug_scheduled_test_interval_days
        if isinstance(interval, bool) or not isinstance(interval, int) or not 7 <= interval <= 365:
            raise ValueError(
                f"drug_scheduled_test_interval_days must be an integer from 7 to 365, "
                f"got {interval!r}"
            )

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, Any], **base: Any) -> SimulationConfig:
        """Build a config from a JSON-style dict of overrides on top of the defaults.

        Dates are ISO strings; tables of rates are dicts (``{"theft": 0.2, ...}``) and
        replace the whole default table. Unknown keys raise ``ValueError`` naming the key.
        Keyword arguments in ``base`` are applied first, then ``overrides``.
        """
        if not isinstance(overrides, Mapping):
            raise ValueError("overrides must be a JSON object (a mapping of field name to value)")
        fields = {field.name: field for field in dataclasses.fields(cls)}
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        for source in (base, overrides):
            for key, value in source.items():
                if key not in fields:
                    raise ValueError(f"unknown simulation setting {key!r}")
                values[key] = _coerce(key, value, hints[key])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict of every field (dates as ISO strings, tables as dicts)."""
        result: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, datetime.date):
                value = value.isoformat()
            elif field.name in _PAIR_KEYS:
                value = {key: rate for key, rate in value}
            elif isinstance(value, tuple):
                value = list(value)
            result[field.name] = value
        return result

    def pairs(self, name: str) -> dict[str, float]:
        """A table field (e.g. ``offence_mix_male``) as a dict."""
        return dict(getattr(self, name))


def _check_pairs(name: str, pairs: Pairs, allowed: tuple[str, ...]) -> None:
    keys = [key for key, _ in pairs]
    unknown = sorted(set(keys) - set(allowed))
    if unknown:
        raise ValueError(f"{name}: unknown key {unknown[0]!r} (allowed: {', '.join(allowed)})")
    if len(set(keys)) != len(keys):
        raise ValueError(f"{name}: duplicate keys")
    for key, value in pairs:
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"{name}[{key!r}] must be a finite number")
    weights = [value for _, value in pairs]
    if name.startswith("offence_mix") and (any(w < 0 for w in weights) or sum(weights) <= 0):
        raise ValueError(f"{name}: weights must be non-negative with a positive total")
    if name == "sentence_median_days" and (set(keys) != set(allowed) or min(weights) < 1):
        raise ValueError(f"{name}: give a median of at least 1 day for every offence category")
    if name == "education_mix" and (any(w < 0 for w in weights) or sum(weights) <= 0):
        raise ValueError(f"{name}: weights must be non-negative with a positive total")
    if name == "needs_prevalence" and any(not 0 <= value <= 1 for _, value in pairs):
        raise ValueError(f"{name}: prevalences must be between 0 and 1")


def _coerce(key: str, value: Any, hint: Any) -> Any:
    """Turn a JSON value into the field's type, with a message naming the key on failure."""
    if key in _PAIR_KEYS:
        if not isinstance(value, Mapping):
            raise ValueError(f"{key} must be an object mapping names to numbers")
        return tuple((str(name), _number(f"{key}[{name!r}]", rate)) for name, rate in value.items())
    if key == "followup_months":
        if not isinstance(value, list | tuple):
            raise ValueError(f"{key} must be a list of whole months, got {value!r}")
        return tuple(value)
    if hint is datetime.date:
        if isinstance(value, datetime.date):
            return value
        try:
            return datetime.date.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"{key} must be a date in YYYY-MM-DD form, got {value!r}") from None
    optional = typing.get_origin(hint) in (typing.Union, types.UnionType)
    if optional and value is None:
        return None
    base = next(arg for arg in typing.get_args(hint) if arg is not type(None)) if optional else hint
    if base is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{key} must be an integer, got {value!r}")
        return value
    if base is float:
        return _number(key, value)
    if base is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false, got {value!r}")
        return value
    if base is str:
        if not isinstance(value, str):
            raise ValueError(f"{key} must be a string, got {value!r}")
        return value
    return value


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number, got {value!r}")
    return float(value)

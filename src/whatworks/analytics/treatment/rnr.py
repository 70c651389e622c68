"""Proposing a treatment plan by the Risk, Need and Responsivity principles.

:func:`propose_plan` takes a person's latest assessment (risk band and criminogenic needs),
their responsivity facts and the programmes on offer, and returns a *proposal*: staff review
it, change it and record why (professional discretion, domain guide §2). Every proposed item,
every option left out and every plan-level remark carries :class:`Reason` codes so that the
proposal can be explained on screen in the reader's language. The rules, in the order they
are applied, are written out in ``docs/treatment-rules.md``; the short version:

* **Risk**: the dosage target is ``policy.target_hours[band]`` (0 / 100 / 200 / 300 hours).
  Low risk (or no assessment) gets education and work only, because intensive programmes can
  increase the reoffending of low-risk people.
* **Need**: dynamic needs are taken from the most to the least severe (score / threshold),
  one programme per need, until the planned hours reach the target.
* **Responsivity**: options the person cannot attend are excluded with the reason, and
  options offering the adaptations the person needs are preferred.
* **Education**: anyone below secondary level is offered the course for their next level.

>>> option = ProgrammeOption("cbt", "CBT", "cognitive_behavioural", ("antisocial_attitudes",), 120)
>>> person = PersonProfile(
...     risk_band="moderate",
...     needs={"antisocial_attitudes": NeedScore(6, 3, True)},
...     sex="male",
...     age=30,
...     education_level="secondary",
... )
>>> plan = propose_plan(person, [option])
>>> [(item.key, item.hours) for item in plan.items], plan.target_hours, plan.warnings
([('cbt', 120)], 100, ())
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from whatworks.analytics.treatment.common import (
    ADAPTATIONS,
    EDUCATION_AND_WORK_TYPES,
    EDUCATION_LEVELS,
    EVIDENCE_RATINGS,
    LITERACY_LEVELS,
    NEED_DOMAINS,
    NOT_RECORDED,
    PROGRAMME_TYPES,
    RISK_BANDS,
    STATIC_DOMAINS,
    SUPPORT_NEEDS,
    Reason,
    number,
    reason,
)

REASON_CODES = (
    # on a proposed item
    "targets_need",
    "also_targets_need",
    "evidence_rating",
    "counts_toward_dosage",
    "not_counted_toward_dosage",
    "adaptation_matched",
    "education_next_level",
    # on an option left out
    "excluded_no_effect",
    "excluded_negative_effect",
    "excluded_completed",
    "excluded_active",
    "excluded_not_offered_here",
    "excluded_low_risk_intensive",
    "excluded_no_assessment",
    "excluded_risk_band",
    "excluded_sex",
    "excluded_age",
    "excluded_literacy",
    "excluded_education_below_minimum",
    "excluded_education_above_maximum",
    "excluded_missing_prerequisites",
    "excluded_language",
    "alternative_preferred",
    "targets_no_current_need",
    "need_deferred",  # also a plan warning
    # plan-level adaptations
    "adapt_materials_literacy",
    "adapt_learning_needs",
    "adapt_mental_health",
    "adapt_gender_responsive",
    "adapt_accessibility",
    # plan-level warnings
    "no_assessment",
    "need_without_programme",
    "dosage_below_target",
    "education_without_programme",
    "education_level_not_recorded",
    "literacy_not_recorded_for_programme",
    "education_not_recorded_for_programme",
)

NOT_ASSESSED = "not_assessed"  # the risk_band parameter when there is no assessment


def _check_choice(value: str, allowed: Sequence[str], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}: expected one of {', '.join(allowed)}")


@dataclasses.dataclass(frozen=True)
class NeedScore:
    """One criminogenic domain of the latest assessment. ``threshold`` must be above 0."""

    score: float
    threshold: float
    is_need: bool

    def __post_init__(self) -> None:
        if not self.threshold > 0:
            raise ValueError(f"need threshold must be above 0, not {self.threshold}")

    @property
    def severity(self) -> float:
        """``score / threshold``: 1 is just at the threshold, 2 is twice over it."""
        return self.score / self.threshold


@dataclasses.dataclass(frozen=True)
class ProgrammeOption:
    """A programme the person could be referred to, with who may attend it.

    Empty tuples mean "no restriction". ``max_education`` lets a primary-level course leave
    out people who have already finished primary school. ``prerequisites`` are keys of
    programmes the person must have completed first; ``languages`` are ISO 639 codes.
    """

    key: str
    name: str
    programme_type: str
    target_needs: tuple[str, ...]
    dosage_hours: float
    evidence_rating: str = "not_rated"
    eligible_sexes: tuple[str, ...] = ()
    min_age: int | None = None
    max_age: int | None = None
    eligible_risk_bands: tuple[str, ...] = ()
    min_literacy: str | None = None
    min_education: str | None = None
    max_education: str | None = None
    prerequisites: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    adaptations: tuple[str, ...] = ()
    offered_here: bool = True

    def __post_init__(self) -> None:
        _check_choice(self.programme_type, PROGRAMME_TYPES, "programme type")
        _check_choice(self.evidence_rating, EVIDENCE_RATINGS, "evidence rating")
        for need in self.target_needs:
            _check_choice(need, NEED_DOMAINS, "need")
        for band in self.eligible_risk_bands:
            _check_choice(band, RISK_BANDS, "risk band")
        for adaptation in self.adaptations:
            _check_choice(adaptation, ADAPTATIONS, "adaptation")
        if self.min_literacy is not None:
            _check_choice(self.min_literacy, LITERACY_LEVELS, "literacy level")
        for level in (self.min_education, self.max_education):
            if level is not None:
                _check_choice(level, EDUCATION_LEVELS, "education level")
        if self.dosage_hours < 0:
            raise ValueError(f"{self.key}: dosage_hours cannot be negative")


@dataclasses.dataclass(frozen=True)
class PersonProfile:
    """What the plan is proposed from.

    ``risk_band`` is the effective band of the latest RNR screener (after any override);
    ``None`` means the person has not been assessed. ``needs`` maps NEED_DOMAINS to scores.
    ``literacy`` and ``education_level`` are ``"not_recorded"`` when unknown, which is not the
    same as ``"none"``. ``completed`` and ``active`` are programme keys already completed and
    already referred or enrolled.
    """

    risk_band: str | None
    needs: Mapping[str, NeedScore]
    sex: str
    age: int
    literacy: str = NOT_RECORDED
    education_level: str = NOT_RECORDED
    languages: tuple[str, ...] = ()
    support_needs: tuple[str, ...] = ()
    mental_health_flag: bool = False
    completed: frozenset[str] = frozenset()
    active: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.risk_band is not None:
            _check_choice(self.risk_band, RISK_BANDS, "risk band")
        for need in self.needs:
            _check_choice(need, NEED_DOMAINS, "need")
        _check_choice(self.literacy, (*LITERACY_LEVELS, NOT_RECORDED), "literacy level")
        _check_choice(self.education_level, (*EDUCATION_LEVELS, NOT_RECORDED), "education level")
        for support in self.support_needs:
            _check_choice(support, SUPPORT_NEEDS, "support need")
        object.__setattr__(self, "needs", MappingProxyType(dict(self.needs)))


def _default_target_hours() -> Mapping[str, float]:
    # Sperber, Latessa & Makarios (2013); about 300 hours for very high risk (domain guide §2).
    return MappingProxyType({"low": 0, "moderate": 100, "high": 200, "very_high": 300})


@dataclasses.dataclass(frozen=True)
class DosagePolicy:
    """The risk principle as configuration: hours to aim for by band, and what low risk gets.

    ``low_risk_types`` are the only programme types proposed to low-risk people and to people
    without an assessment.
    """

    target_hours: Mapping[str, float] = dataclasses.field(default_factory=_default_target_hours)
    low_risk_types: tuple[str, ...] = EDUCATION_AND_WORK_TYPES

    def __post_init__(self) -> None:
        hours = dict(self.target_hours)
        if set(hours) != set(RISK_BANDS):
            missing = [band for band in RISK_BANDS if band not in hours]
            unknown = sorted(set(hours) - set(RISK_BANDS))
            raise ValueError(
                f"target_hours: needs exactly the bands {', '.join(RISK_BANDS)}"
                f" (missing: {', '.join(missing) or '-'}; unknown: {', '.join(unknown) or '-'})"
            )
        for band, value in hours.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"target_hours.{band}: must be a number of hours >= 0")
        for index, kind in enumerate(self.low_risk_types):
            if kind not in PROGRAMME_TYPES:
                raise ValueError(f"low_risk_types.{index}: unknown programme type {kind!r}")
        object.__setattr__(self, "target_hours", MappingProxyType(hours))
        object.__setattr__(self, "low_risk_types", tuple(self.low_risk_types))

    def __hash__(self) -> int:
        return hash((tuple(sorted(self.target_hours.items())), self.low_risk_types))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> DosagePolicy:
        """From configuration: ``{"target_hours": {band: hours}, "low_risk_types": [...]}``.

        Both keys are optional; bands left out of ``target_hours`` keep their default. A
        ValueError names the key that is wrong.
        """
        if not isinstance(data, Mapping):
            raise ValueError("dosage policy: must be a mapping")
        unknown = sorted(set(data) - {"target_hours", "low_risk_types"})
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown key in the dosage policy")
        hours = dict(_default_target_hours())
        given = data.get("target_hours", {})
        if not isinstance(given, Mapping):
            raise ValueError("target_hours: must be a mapping of risk band to hours")
        for band in given:
            if band not in RISK_BANDS:
                raise ValueError(f"target_hours.{band}: unknown risk band")
        hours.update(given)
        types = data.get("low_risk_types", EDUCATION_AND_WORK_TYPES)
        if isinstance(types, str) or not isinstance(types, Sequence):
            raise ValueError("low_risk_types: must be a list of programme types")
        return cls(target_hours=hours, low_risk_types=tuple(types))


@dataclasses.dataclass(frozen=True)
class ProposedItem:
    """One programme in the proposal. ``need`` is None for an education levelling course
    proposed without a school/work need. ``priority`` is 1 for the first item."""

    key: str
    need: str | None
    hours: float
    priority: int
    counts_toward_dosage: bool
    reasons: tuple[Reason, ...]


@dataclasses.dataclass(frozen=True)
class ExcludedOption:
    """An option that is not proposed, with every reason that applies."""

    key: str
    reasons: tuple[Reason, ...]


@dataclasses.dataclass(frozen=True)
class PlanProposal:
    """The outcome of :func:`propose_plan`. Every option given appears exactly once, in
    ``items`` or in ``excluded``. ``planned_hours`` sums the items that count toward dosage."""

    risk_band: str | None
    target_hours: float
    planned_hours: float
    items: tuple[ProposedItem, ...]
    excluded: tuple[ExcludedOption, ...]
    adaptations: tuple[Reason, ...]
    warnings: tuple[Reason, ...]


# --- helpers ---------------------------------------------------------------------------


def _needed_adaptations(profile: PersonProfile) -> tuple[set[str], list[Reason]]:
    """The ADAPTATIONS this person needs, and the plan-level reasons saying so."""
    needed: set[str] = set()
    reasons: list[Reason] = []
    if profile.literacy in ("illiterate", "limited"):
        needed.add("low_literacy")
        reasons.append(reason("adapt_materials_literacy", literacy=profile.literacy))
    learning = [
        s
        for s in ("learning_disability", "intellectual_disability", "neurodivergent")
        if s in profile.support_needs
    ]
    if learning:
        needed.add("learning_needs")
        reasons.append(reason("adapt_learning_needs", support_needs=",".join(learning)))
    if profile.mental_health_flag or "mental_health" in profile.support_needs:
        needed.add("mental_health")
        reasons.append(reason("adapt_mental_health"))
    if profile.sex == "female":
        needed.add("women_only")
        reasons.append(reason("adapt_gender_responsive", sex=profile.sex))
    for support in ("hearing", "visual", "mobility"):
        if support in profile.support_needs:
            reasons.append(reason("adapt_accessibility", support_need=support))
    return needed, reasons


def _needs_interpreter(profile: PersonProfile, option: ProgrammeOption) -> bool:
    return bool(
        option.languages
        and profile.languages
        and not set(option.languages) & set(profile.languages)
    )


def _matched_adaptations(
    profile: PersonProfile, option: ProgrammeOption, needed: set[str]
) -> list[str]:
    wanted = set(needed)
    if _needs_interpreter(profile, option):
        wanted.add("interpreter")
    return [a for a in ADAPTATIONS if a in wanted and a in option.adaptations]


def _exclusions(
    profile: PersonProfile, option: ProgrammeOption, policy: DosagePolicy
) -> list[Reason]:
    """Every reason ``option`` cannot be proposed to ``profile`` (empty when it can)."""
    found: list[Reason] = []
    if option.evidence_rating == "no_effect":
        found.append(reason("excluded_no_effect", rating=option.evidence_rating))
    if option.evidence_rating == "negative_effect":
        found.append(reason("excluded_negative_effect", rating=option.evidence_rating))
    if option.key in profile.completed:
        found.append(reason("excluded_completed"))
    if option.key in profile.active:
        found.append(reason("excluded_active"))
    if not option.offered_here:
        found.append(reason("excluded_not_offered_here"))
    if option.programme_type not in policy.low_risk_types:
        if profile.risk_band == "low":
            found.append(
                reason("excluded_low_risk_intensive", programme_type=option.programme_type)
            )
        elif profile.risk_band is None:
            found.append(reason("excluded_no_assessment", programme_type=option.programme_type))
    if option.eligible_risk_bands and profile.risk_band not in option.eligible_risk_bands:
        found.append(
            reason(
                "excluded_risk_band",
                risk_band=profile.risk_band or NOT_ASSESSED,
                eligible=",".join(option.eligible_risk_bands),
            )
        )
    if option.eligible_sexes and profile.sex not in option.eligible_sexes:
        found.append(
            reason("excluded_sex", sex=profile.sex, eligible=",".join(option.eligible_sexes))
        )
    too_young = option.min_age is not None and profile.age < option.min_age
    too_old = option.max_age is not None and profile.age > option.max_age
    if too_young or too_old:
        limits: dict[str, int] = {"age": profile.age}
        if option.min_age is not None:
            limits["min_age"] = option.min_age
        if option.max_age is not None:
            limits["max_age"] = option.max_age
        found.append(Reason("excluded_age", limits))
    if (
        option.min_literacy is not None
        and profile.literacy != NOT_RECORDED
        and LITERACY_LEVELS.index(profile.literacy) < LITERACY_LEVELS.index(option.min_literacy)
    ):
        found.append(
            reason("excluded_literacy", literacy=profile.literacy, min_literacy=option.min_literacy)
        )
    if profile.education_level != NOT_RECORDED:
        level = EDUCATION_LEVELS.index(profile.education_level)
        if option.min_education is not None and level < EDUCATION_LEVELS.index(
            option.min_education
        ):
            found.append(
                reason(
                    "excluded_education_below_minimum",
                    education_level=profile.education_level,
                    min_education=option.min_education,
                )
            )
        if option.max_education is not None and level > EDUCATION_LEVELS.index(
            option.max_education
        ):
            found.append(
                reason(
                    "excluded_education_above_maximum",
                    education_level=profile.education_level,
                    max_education=option.max_education,
                )
            )
    missing = [key for key in option.prerequisites if key not in profile.completed]
    if missing:
        found.append(reason("excluded_missing_prerequisites", missing=",".join(missing)))
    if _needs_interpreter(profile, option) and "interpreter" not in option.adaptations:
        found.append(
            reason(
                "excluded_language",
                languages=",".join(option.languages),
                person_languages=",".join(profile.languages),
            )
        )
    return found


def _next_level_type(profile: PersonProfile) -> str | None:
    """The education levelling course for the next level, or None (secondary or above)."""
    if profile.literacy == "illiterate":
        return "education_literacy"
    if profile.education_level in ("none", "primary_incomplete"):
        return "education_primary"
    if profile.education_level in ("primary", "secondary_incomplete"):
        return "education_secondary"
    return None


def _dedupe(reasons: list[Reason]) -> tuple[Reason, ...]:
    return tuple(dict.fromkeys(reasons))


# --- the rules ---------------------------------------------------------------------------


def propose_plan(
    profile: PersonProfile,
    options: Sequence[ProgrammeOption],
    policy: DosagePolicy = DosagePolicy(),
) -> PlanProposal:
    """Propose a plan for ``profile`` from ``options``; deterministic for the same input.

    The steps, each documented in ``docs/treatment-rules.md``:

    1. Eligibility: every option gets its exclusion reasons (evidence of no or harmful
       effect, completed, active, not offered here, risk principle, risk band, sex, age,
       literacy, education, prerequisites, language).
    2. Needs with ``is_need`` and not static, by severity (score / threshold) descending,
       ties in NEED_DOMAINS order. For each: if an item already chosen targets it, that item
       gets ``also_targets_need``; otherwise, at moderate risk or above with the planned
       hours already at the target, the need is deferred; otherwise the best eligible option
       targeting it is chosen (evidence rating, then most adaptations the person needs, then
       key). For school/work, an eligible course for the person's next education level wins.
    3. The course for the next education level, when the person is below secondary and no
       such course was chosen in step 2.
    4. Warnings: no assessment, needs without a programme, planned hours below the target.
    """
    keys = [option.key for option in options]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValueError(f"duplicate programme keys: {', '.join(duplicates)}")
    band = profile.risk_band
    target = policy.target_hours[band] if band is not None else 0
    intensive_band = band is not None and band != "low"
    needed, adaptation_reasons = _needed_adaptations(profile)
    school_work_need = _is_need(profile, "school_work")

    exclusions = {option.key: _exclusions(profile, option, policy) for option in options}
    eligible = [option for option in options if not exclusions[option.key]]
    not_chosen: dict[str, list[Reason]] = {option.key: [] for option in eligible}
    warnings: list[Reason] = []
    if band is None:
        warnings.append(reason("no_assessment"))

    def rank(option: ProgrammeOption) -> tuple[int, int, str]:
        matched = _matched_adaptations(profile, option, needed)
        return (EVIDENCE_RATINGS.index(option.evidence_rating), -len(matched), option.key)

    def counts(option: ProgrammeOption) -> bool:
        return option.programme_type not in EDUCATION_AND_WORK_TYPES or school_work_need

    chosen: list[tuple[ProgrammeOption, str | None, list[Reason]]] = []
    planned = 0.0

    def choose(option: ProgrammeOption, need: str | None, first: Reason) -> None:
        nonlocal planned
        hours = number(option.dosage_hours)
        item_reasons = [first, reason("evidence_rating", rating=option.evidence_rating)]
        if counts(option):
            planned += option.dosage_hours
            item_reasons.append(reason("counts_toward_dosage", hours=hours))
        else:
            item_reasons.append(reason("not_counted_toward_dosage", hours=hours))
        item_reasons += [
            reason("adaptation_matched", adaptation=a)
            for a in _matched_adaptations(profile, option, needed)
        ]
        chosen.append((option, need, item_reasons))

    next_type = _next_level_type(profile)
    current_needs = _needs_in_order(profile)
    for need in current_needs:
        score = profile.needs[need]
        need_params = {
            "need": need,
            "score": number(score.score),
            "threshold": number(score.threshold),
        }
        covering = [entry for entry in chosen if need in entry[0].target_needs]
        if covering:
            covering[0][2].append(Reason("also_targets_need", need_params))
            continue
        candidates = [
            option
            for option in eligible
            if need in option.target_needs and option.key not in {c[0].key for c in chosen}
        ]
        if intensive_band and planned >= target:
            warnings.append(reason("need_deferred", need=need))
            for option in candidates:
                not_chosen[option.key].append(reason("need_deferred", need=need))
            continue
        if need == "school_work" and any(o.programme_type == next_type for o in candidates):
            candidates = [o for o in candidates if o.programme_type == next_type]
        if not candidates:
            warnings.append(reason("need_without_programme", need=need))
            continue
        best = min(candidates, key=rank)
        choose(best, need, Reason("targets_need", need_params))

    if next_type is not None and all(c[0].programme_type != next_type for c in chosen):
        candidates = [
            option
            for option in eligible
            if option.programme_type == next_type and option.key not in {c[0].key for c in chosen}
        ]
        if candidates:
            best = min(candidates, key=rank)
            choose(
                best,
                None,
                reason(
                    "education_next_level",
                    programme_type=next_type,
                    education_level=profile.education_level,
                    literacy=profile.literacy,
                ),
            )
        else:
            warnings.append(reason("education_without_programme", programme_type=next_type))
    elif next_type is None and profile.education_level == NOT_RECORDED:
        warnings.append(reason("education_level_not_recorded"))

    chosen_keys = {option.key: option for option, _, _ in chosen}
    for option, _, _ in chosen:
        if option.min_literacy is not None and profile.literacy == NOT_RECORDED:
            warnings.append(
                reason(
                    "literacy_not_recorded_for_programme",
                    key=option.key,
                    min_literacy=option.min_literacy,
                )
            )
        if profile.education_level == NOT_RECORDED and (
            option.min_education is not None or option.max_education is not None
        ):
            warnings.append(reason("education_not_recorded_for_programme", key=option.key))
    if intensive_band and planned < target:
        warnings.append(
            reason("dosage_below_target", target=number(target), planned=number(planned))
        )

    excluded: list[ExcludedOption] = []
    for option in options:
        if option.key in chosen_keys:
            continue
        found = list(exclusions[option.key])
        if not found:
            found = list(not_chosen[option.key])
            for need in option.target_needs:
                if need not in current_needs:
                    continue
                rival = next((c[0].key for c in chosen if need in c[0].target_needs), None)
                if rival is not None:
                    found.append(reason("alternative_preferred", chosen=rival))
            if option.programme_type == next_type:
                rival = next((c[0].key for c in chosen if c[0].programme_type == next_type), None)
                if rival is not None:
                    found.append(reason("alternative_preferred", chosen=rival))
            if not found:
                found.append(reason("targets_no_current_need"))
        excluded.append(ExcludedOption(option.key, _dedupe(found)))

    items = tuple(
        ProposedItem(
            key=option.key,
            need=need,
            hours=number(option.dosage_hours),
            priority=position,
            counts_toward_dosage=counts(option),
            reasons=_dedupe(item_reasons),
        )
        for position, (option, need, item_reasons) in enumerate(chosen, start=1)
    )
    return PlanProposal(
        risk_band=band,
        target_hours=number(target),
        planned_hours=number(planned),
        items=items,
        excluded=tuple(excluded),
        adaptations=tuple(adaptation_reasons),
        warnings=_dedupe(warnings),
    )


def _is_need(profile: PersonProfile, need: str) -> bool:
    score = profile.needs.get(need)
    return score is not None and score.is_need


def _needs_in_order(profile: PersonProfile) -> list[str]:
    """Dynamic needs, most severe first (score / threshold), ties in NEED_DOMAINS order."""
    dynamic = [
        need for need in NEED_DOMAINS if _is_need(profile, need) and need not in STATIC_DOMAINS
    ]
    return sorted(dynamic, key=lambda need: -profile.needs[need].severity)

"""RNR plan proposals: need order, dosage by risk band, education levelling, responsivity
exclusions and adaptations. Plus what the whole treatment package promises: every reason
code is listed and documented, the docstring examples run, and Django stays out."""

from __future__ import annotations

import dataclasses
import doctest
import re
import subprocess
import sys
from pathlib import Path

import pytest

import whatworks.analytics.treatment as treatment
from whatworks.analytics.treatment import (
    REASON_CODES,
    DosagePolicy,
    NeedScore,
    PersonProfile,
    PlanProposal,
    ProgrammeOption,
    Reason,
    propose_plan,
)

DOCS = Path(__file__).resolve().parents[4] / "docs" / "treatment-rules.md"


def option(key: str, programme_type: str, needs: tuple[str, ...], hours: float, **kw):
    return ProgrammeOption(key, key.title(), programme_type, needs, hours, **kw)


CBT_A = option(
    "cbt_a",
    "cognitive_behavioural",
    ("antisocial_attitudes", "antisocial_personality"),
    100,
    evidence_rating="effective",
)
CBT_B = option(
    "cbt_b", "cognitive_behavioural", ("antisocial_attitudes",), 80, evidence_rating="promising"
)
DRUGS = option("drugs", "substance_use", ("substance_abuse",), 60, evidence_rating="effective")
FAMILY = option(
    "family", "family_parenting", ("family_marital",), 30, evidence_rating="insufficient_evidence"
)
PEERS = option("peers", "life_skills", ("antisocial_associates",), 40, evidence_rating="promising")
LITERACY = option("literacy", "education_literacy", ("school_work",), 150)
PRIMARY = option(
    "primary", "education_primary", ("school_work",), 200, max_education="primary_incomplete"
)
SECONDARY = option(
    "secondary",
    "education_secondary",
    ("school_work",),
    300,
    min_education="primary",
    max_education="secondary_incomplete",
)
TRADE = option("trade", "vocational_trade", ("school_work",), 120, evidence_rating="promising")


def need(score: float, threshold: float = 3) -> NeedScore:
    return NeedScore(score, threshold, score >= threshold)


def person(**changes) -> PersonProfile:
    base = {
        "risk_band": "high",
        "needs": {},
        "sex": "male",
        "age": 30,
        "literacy": "literate",
        "education_level": "secondary",
        "languages": ("es",),
    }
    base.update(changes)
    return PersonProfile(**base)


def codes(reasons) -> list[str]:
    return [r.code for r in reasons]


def excluded(plan: PlanProposal) -> dict[str, list[Reason]]:
    return {entry.key: list(entry.reasons) for entry in plan.excluded}


# --- Need principle ----------------------------------------------------------------------


def test_needs_are_taken_by_severity_and_each_gets_one_programme():
    # Severity = score / threshold: substance 9/3 = 3.0, attitudes 6/3 = 2.0, family 4/4 = 1.0.
    # Associates 2/3 is under the threshold; criminal history is static: neither is targeted.
    # High risk: target 200 h. drugs 60 -> 60, cbt_a 100 -> 160, family 30 -> 190 < 200.
    profile = person(
        needs={
            "criminal_history": need(10, 2),
            "antisocial_attitudes": need(6),
            "antisocial_associates": need(2),
            "family_marital": need(4, 4),
            "substance_abuse": need(9),
        }
    )
    plan = propose_plan(profile, [FAMILY, CBT_B, CBT_A, DRUGS, PEERS])
    assert [(i.key, i.need, i.priority, i.hours) for i in plan.items] == [
        ("drugs", "substance_abuse", 1, 60),
        ("cbt_a", "antisocial_attitudes", 2, 100),
        ("family", "family_marital", 3, 30),
    ]
    assert (plan.target_hours, plan.planned_hours) == (200, 190)
    assert plan.warnings == (Reason("dosage_below_target", {"target": 200, "planned": 190}),)
    assert excluded(plan) == {
        "cbt_b": [Reason("alternative_preferred", {"chosen": "cbt_a"})],
        "peers": [Reason("targets_no_current_need")],
    }


def test_an_item_explains_its_need_rating_dosage_and_adaptations():
    profile = person(needs={"substance_abuse": need(9)}, literacy="limited")
    adapted = dataclasses.replace(DRUGS, adaptations=("low_literacy",))
    plan = propose_plan(profile, [adapted])
    assert plan.items[0].reasons == (
        Reason("targets_need", {"need": "substance_abuse", "score": 9, "threshold": 3}),
        Reason("evidence_rating", {"rating": "effective"}),
        Reason("counts_toward_dosage", {"hours": 60}),
        Reason("adaptation_matched", {"adaptation": "low_literacy"}),
    )
    assert plan.items[0].counts_toward_dosage is True


def test_equal_severity_follows_the_central_eight_order():
    # attitudes 6/3 and associates 4/2 are both 2.0: attitudes comes first in NEED_DOMAINS.
    profile = person(needs={"antisocial_associates": need(4, 2), "antisocial_attitudes": need(6)})
    plan = propose_plan(profile, [PEERS, CBT_B])
    assert [i.key for i in plan.items] == ["cbt_b", "peers"]


def test_a_programme_covering_two_needs_is_chosen_once():
    # cbt_a targets attitudes (2.0) and personality (1.5): personality is covered by it.
    profile = person(needs={"antisocial_attitudes": need(6), "antisocial_personality": need(4.5)})
    plan = propose_plan(profile, [CBT_A])
    assert [i.key for i in plan.items] == ["cbt_a"]
    assert plan.items[0].reasons[-1] == Reason(
        "also_targets_need", {"need": "antisocial_personality", "score": 4.5, "threshold": 3}
    )
    assert "need_without_programme" not in codes(plan.warnings)


def test_evidence_rating_is_preferred_and_completed_or_active_options_are_skipped():
    profile = person(needs={"antisocial_attitudes": need(6)})
    assert [i.key for i in propose_plan(profile, [CBT_B, CBT_A]).items] == ["cbt_a"]
    done = dataclasses.replace(profile, completed=frozenset({"cbt_a"}))
    plan = propose_plan(done, [CBT_B, CBT_A])
    assert [i.key for i in plan.items] == ["cbt_b"]
    assert excluded(plan)["cbt_a"] == [Reason("excluded_completed")]
    busy = dataclasses.replace(profile, active=frozenset({"cbt_a", "cbt_b"}))
    plan = propose_plan(busy, [CBT_B, CBT_A])
    assert plan.items == ()
    assert excluded(plan)["cbt_b"] == [Reason("excluded_active")]
    assert Reason("need_without_programme", {"need": "antisocial_attitudes"}) in plan.warnings


def test_an_option_offering_a_needed_adaptation_wins_a_tie_on_rating():
    generic = option("a_generic", "cognitive_behavioural", ("antisocial_attitudes",), 100)
    women = dataclasses.replace(generic, key="b_women", adaptations=("women_only",))
    needs = {"antisocial_attitudes": need(6)}
    assert propose_plan(person(needs=needs, sex="female"), [generic, women]).items[0].key == (
        "b_women"
    )
    assert propose_plan(person(needs=needs), [generic, women]).items[0].key == "a_generic"


@pytest.mark.parametrize(
    ("rating", "code"),
    [("no_effect", "excluded_no_effect"), ("negative_effect", "excluded_negative_effect")],
)
def test_programmes_without_or_with_harmful_effect_are_never_proposed(rating, code):
    scared = option("scared", "violence_prevention", ("antisocial_attitudes",), 20)
    plan = propose_plan(
        person(needs={"antisocial_attitudes": need(6)}),
        [dataclasses.replace(scared, evidence_rating=rating)],
    )
    assert plan.items == ()
    assert excluded(plan) == {"scared": [Reason(code, {"rating": rating})]}
    assert codes(plan.warnings) == ["need_without_programme", "dosage_below_target"]


# --- Risk principle ----------------------------------------------------------------------


def test_once_the_target_is_reached_remaining_needs_are_deferred():
    # Moderate: 100 h. drugs 60 -> 60 (< 100), cbt_a 100 -> 160 (>= 100): family deferred.
    profile = person(
        risk_band="moderate",
        needs={
            "substance_abuse": need(9),
            "antisocial_attitudes": need(6),
            "family_marital": need(4, 4),
        },
    )
    plan = propose_plan(profile, [CBT_A, DRUGS, FAMILY])
    assert [i.key for i in plan.items] == ["drugs", "cbt_a"]
    assert (plan.target_hours, plan.planned_hours) == (100, 160)
    assert plan.warnings == (Reason("need_deferred", {"need": "family_marital"}),)
    assert excluded(plan)["family"] == [Reason("need_deferred", {"need": "family_marital"})]


@pytest.mark.parametrize(("band", "target"), [("moderate", 100), ("high", 200), ("very_high", 300)])
def test_target_hours_by_band(band, target):
    plan = propose_plan(person(risk_band=band, needs={"substance_abuse": need(9)}), [DRUGS])
    assert plan.target_hours == target
    assert plan.warnings == (Reason("dosage_below_target", {"target": target, "planned": 60}),)


def test_low_risk_gets_education_and_work_only():
    profile = person(
        risk_band="low",
        education_level="primary_incomplete",
        needs={"antisocial_attitudes": need(6)},
    )
    plan = propose_plan(profile, [CBT_A, PRIMARY])
    assert [(i.key, i.need, i.counts_toward_dosage) for i in plan.items] == [
        ("primary", None, False)
    ]
    assert plan.items[0].reasons[0] == Reason(
        "education_next_level",
        {
            "programme_type": "education_primary",
            "education_level": "primary_incomplete",
            "literacy": "literate",
        },
    )
    assert Reason("not_counted_toward_dosage", {"hours": 200}) in plan.items[0].reasons
    assert excluded(plan)["cbt_a"] == [
        Reason("excluded_low_risk_intensive", {"programme_type": "cognitive_behavioural"})
    ]
    assert (plan.target_hours, plan.planned_hours) == (0, 0)
    assert plan.warnings == (Reason("need_without_programme", {"need": "antisocial_attitudes"}),)


def test_without_an_assessment_only_education_and_work_are_proposed():
    profile = person(risk_band=None, needs={"school_work": need(4)}, education_level="none")
    plan = propose_plan(profile, [CBT_A, PRIMARY, TRADE])
    assert plan.risk_band is None and plan.target_hours == 0
    assert [(i.key, i.need, i.counts_toward_dosage) for i in plan.items] == [
        ("primary", "school_work", True)
    ]
    assert plan.warnings == (Reason("no_assessment"),)
    assert excluded(plan) == {
        "cbt_a": [Reason("excluded_no_assessment", {"programme_type": "cognitive_behavioural"})],
        "trade": [Reason("alternative_preferred", {"chosen": "primary"})],
    }


def test_a_custom_dosage_policy():
    policy = DosagePolicy.from_mapping({"target_hours": {"moderate": 50}})
    assert dict(policy.target_hours) == {"low": 0, "moderate": 50, "high": 200, "very_high": 300}
    profile = person(
        risk_band="moderate",
        needs={"substance_abuse": need(9), "antisocial_attitudes": need(6)},
    )
    plan = propose_plan(profile, [CBT_A, DRUGS], policy)
    # drugs 60 h already reaches 50 h: attitudes waits for a later review.
    assert [i.key for i in plan.items] == ["drugs"]
    assert plan.warnings == (Reason("need_deferred", {"need": "antisocial_attitudes"}),)
    strict = DosagePolicy(low_risk_types=("prison_work",))
    plan = propose_plan(person(risk_band="low", education_level="none"), [PRIMARY], strict)
    assert codes(excluded(plan)["primary"]) == ["excluded_low_risk_intensive"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"hours": {}}, "hours: unknown key"),
        ({"target_hours": {"extreme": 5}}, "target_hours.extreme: unknown risk band"),
        ({"target_hours": {"high": -1}}, "target_hours.high: must be a number"),
        ({"target_hours": {"high": "200"}}, "target_hours.high: must be a number"),
        ({"target_hours": [1, 2]}, "target_hours: must be a mapping"),
        ({"low_risk_types": ["education_primary", "yoga"]}, "low_risk_types.1: unknown"),
        ({"low_risk_types": "prison_work"}, "low_risk_types: must be a list"),
    ],
)
def test_dosage_policy_configuration_errors_name_the_key(data, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        DosagePolicy.from_mapping(data)


# --- Education and work ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literacy", "education_level", "expected"),
    [
        ("illiterate", "none", "literacy"),
        ("limited", "none", "primary"),
        ("literate", "primary_incomplete", "primary"),
        ("literate", "primary", "secondary"),
        ("literate", "secondary_incomplete", "secondary"),
    ],
)
def test_the_course_for_the_next_education_level(literacy, education_level, expected):
    profile = person(literacy=literacy, education_level=education_level)
    plan = propose_plan(profile, [LITERACY, PRIMARY, SECONDARY])
    assert [i.key for i in plan.items] == [expected]
    assert plan.planned_hours == 0  # school/work is not a need: education does not count


@pytest.mark.parametrize("level", ["secondary", "tertiary"])
def test_no_levelling_course_from_secondary_up(level):
    profile = person(risk_band="low", education_level=level)
    plan = propose_plan(profile, [LITERACY, PRIMARY, SECONDARY])
    assert plan.items == ()
    assert plan.warnings == ()
    assert codes(excluded(plan)["secondary"]) == ["excluded_education_above_maximum"]
    assert excluded(plan)["literacy"] == [Reason("targets_no_current_need")]


def test_a_school_work_need_takes_the_next_level_course_and_counts_it():
    # trade is rated better than secondary, but the next level course is preferred for
    # school/work. 300 h >= 200: the target is met, so no other need gets a programme.
    profile = person(
        education_level="primary",
        needs={"school_work": need(6), "family_marital": need(3)},
    )
    plan = propose_plan(profile, [TRADE, SECONDARY, FAMILY])
    assert [(i.key, i.need, i.counts_toward_dosage) for i in plan.items] == [
        ("secondary", "school_work", True)
    ]
    assert plan.planned_hours == 300
    assert excluded(plan)["trade"] == [Reason("alternative_preferred", {"chosen": "secondary"})]
    assert plan.warnings == (Reason("need_deferred", {"need": "family_marital"}),)


def test_a_high_risk_person_with_nothing_planned_is_warned():
    plan = propose_plan(person(), [])
    assert plan.warnings == (Reason("dosage_below_target", {"target": 200, "planned": 0}),)


def test_education_without_a_course_and_unknown_education():
    plan = propose_plan(person(education_level="none"), [SECONDARY])
    assert Reason("education_without_programme", {"programme_type": "education_primary"}) in (
        plan.warnings
    )
    # Unknown level, literate: no levelling course can be chosen, and school/work is no need.
    plan = propose_plan(person(risk_band="low", education_level="not_recorded"), [SECONDARY])
    assert plan.items == ()
    assert plan.warnings == (Reason("education_level_not_recorded"),)


def test_education_limits_are_not_applied_when_the_level_is_unknown():
    profile = person(education_level="not_recorded", needs={"school_work": need(6)})
    plan = propose_plan(profile, [SECONDARY])
    assert [i.key for i in plan.items] == ["secondary"]
    assert Reason("education_not_recorded_for_programme", {"key": "secondary"}) in plan.warnings


# --- Responsivity --------------------------------------------------------------------------

ATTITUDES = {"antisocial_attitudes": need(6)}


@pytest.mark.parametrize(
    ("restriction", "profile_change", "expected"),
    [
        (
            {"eligible_sexes": ("female",)},
            {},
            Reason("excluded_sex", {"sex": "male", "eligible": "female"}),
        ),
        (
            {"min_age": 18, "max_age": 25},
            {},
            Reason("excluded_age", {"age": 30, "min_age": 18, "max_age": 25}),
        ),
        ({"min_age": 35}, {}, Reason("excluded_age", {"age": 30, "min_age": 35})),
        (
            {"eligible_risk_bands": ("very_high",)},
            {},
            Reason("excluded_risk_band", {"risk_band": "high", "eligible": "very_high"}),
        ),
        (
            {"min_literacy": "literate"},
            {"literacy": "limited"},
            Reason("excluded_literacy", {"literacy": "limited", "min_literacy": "literate"}),
        ),
        (
            {"min_education": "secondary"},
            {"education_level": "primary"},
            Reason(
                "excluded_education_below_minimum",
                {"education_level": "primary", "min_education": "secondary"},
            ),
        ),
        (
            {"prerequisites": ("intro", "motivation", "cbt_b")},
            {"completed": frozenset({"motivation"})},
            Reason("excluded_missing_prerequisites", {"missing": "intro,cbt_b"}),
        ),
        (
            {"languages": ("pt", "en")},
            {"languages": ("es", "ay")},
            Reason("excluded_language", {"languages": "pt,en", "person_languages": "es,ay"}),
        ),
        ({"offered_here": False}, {}, Reason("excluded_not_offered_here")),
    ],
)
def test_responsivity_exclusions(restriction, profile_change, expected):
    restricted = dataclasses.replace(CBT_A, **restriction)
    profile = dataclasses.replace(person(needs=ATTITUDES), **profile_change)
    plan = propose_plan(profile, [restricted])
    assert plan.items == ()
    assert excluded(plan)["cbt_a"][-1] == expected
    assert Reason("need_without_programme", {"need": "antisocial_attitudes"}) in plan.warnings


def test_eligible_when_the_restriction_is_met():
    restricted = dataclasses.replace(
        CBT_A,
        eligible_sexes=("male",),
        min_age=18,
        max_age=30,
        eligible_risk_bands=("high", "very_high"),
        min_literacy="limited",
        min_education="primary",
        prerequisites=("intro",),
        languages=("es", "pt"),
    )
    profile = person(needs=ATTITUDES, completed=frozenset({"intro"}))
    assert [i.key for i in propose_plan(profile, [restricted]).items] == ["cbt_a"]


def test_every_failed_restriction_is_listed():
    restricted = dataclasses.replace(CBT_A, eligible_sexes=("female",), offered_here=False)
    plan = propose_plan(person(needs=ATTITUDES), [restricted])
    assert codes(excluded(plan)["cbt_a"]) == ["excluded_not_offered_here", "excluded_sex"]


def test_an_interpreter_opens_a_programme_in_another_language():
    restricted = dataclasses.replace(CBT_A, languages=("pt",), adaptations=("interpreter",))
    plan = propose_plan(person(needs=ATTITUDES), [restricted])
    assert Reason("adaptation_matched", {"adaptation": "interpreter"}) in plan.items[0].reasons
    unknown = person(needs=ATTITUDES, languages=())  # no recorded language: not excluded
    assert propose_plan(unknown, [dataclasses.replace(CBT_A, languages=("pt",))]).items


def test_unknown_literacy_is_not_excluded_but_warned():
    restricted = dataclasses.replace(CBT_A, min_literacy="literate")
    plan = propose_plan(person(needs=ATTITUDES, literacy="not_recorded"), [restricted])
    assert [i.key for i in plan.items] == ["cbt_a"]
    assert (
        Reason("literacy_not_recorded_for_programme", {"key": "cbt_a", "min_literacy": "literate"})
        in plan.warnings
    )


def test_plan_level_adaptations():
    profile = person(
        sex="female",
        literacy="illiterate",
        support_needs=("neurodivergent", "hearing", "learning_disability"),
        mental_health_flag=True,
    )
    assert propose_plan(profile, []).adaptations == (
        Reason("adapt_materials_literacy", {"literacy": "illiterate"}),
        Reason("adapt_learning_needs", {"support_needs": "learning_disability,neurodivergent"}),
        Reason("adapt_mental_health"),
        Reason("adapt_gender_responsive", {"sex": "female"}),
        Reason("adapt_accessibility", {"support_need": "hearing"}),
    )
    assert propose_plan(person(support_needs=("mental_health",)), []).adaptations == (
        Reason("adapt_mental_health"),
    )
    assert propose_plan(person(), []).adaptations == ()


# --- Invariants and validation ----------------------------------------------------------------


def test_every_option_is_accounted_for_once_with_listed_codes():
    profile = person(
        risk_band="moderate",
        education_level="primary_incomplete",
        sex="female",
        needs={
            "substance_abuse": need(9),
            "antisocial_attitudes": need(6),
            "antisocial_associates": need(5),
            "family_marital": need(4, 4),
        },
        completed=frozenset({"cbt_b"}),
    )
    options = [CBT_A, CBT_B, DRUGS, FAMILY, PEERS, LITERACY, PRIMARY, SECONDARY, TRADE]
    plan = propose_plan(profile, options)
    listed = [i.key for i in plan.items] + [e.key for e in plan.excluded]
    assert sorted(listed) == sorted(o.key for o in options)
    assert all(e.reasons for e in plan.excluded)
    every = [*plan.adaptations, *plan.warnings]
    every += [r for i in plan.items for r in i.reasons]
    every += [r for e in plan.excluded for r in e.reasons]
    assert {r.code for r in every} <= set(REASON_CODES)
    assert propose_plan(profile, options) == plan  # deterministic


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: dataclasses.replace(CBT_A, programme_type="yoga"), "unknown programme type"),
        (lambda: dataclasses.replace(CBT_A, target_needs=("anger",)), "unknown need 'anger'"),
        (lambda: dataclasses.replace(CBT_A, evidence_rating="great"), "unknown evidence rating"),
        (lambda: dataclasses.replace(CBT_A, adaptations=("braille",)), "unknown adaptation"),
        (lambda: person(risk_band="extreme"), "unknown risk band"),
        (lambda: person(education_level="college"), "unknown education level"),
        (lambda: person(support_needs=("tired",)), "unknown support need"),
        (lambda: NeedScore(3, 0, True), "threshold must be above 0"),
        (lambda: propose_plan(person(), [CBT_A, CBT_A]), "duplicate programme keys: cbt_a"),
    ],
)
def test_bad_input_is_refused(build, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build()


# --- The package as a whole -------------------------------------------------------------------


def test_reason_codes_are_unique_and_each_is_documented():
    assert len(REASON_CODES) == len(set(REASON_CODES))
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", DOCS.read_text("utf-8"), re.MULTILINE))
    assert documented == set(REASON_CODES)


def test_reason_params_are_read_only_plain_values():
    item = Reason("targets_need", {"need": "school_work", "score": 4})
    with pytest.raises(TypeError):
        item.params["score"] = 5  # type: ignore[index]
    with pytest.raises(TypeError, match="must be a str or number"):
        Reason("x", {"flag": True})
    assert item.to_dict() == {"code": "targets_need", "params": {"need": "school_work", "score": 4}}


@pytest.mark.parametrize("module", ["rnr", "waitlist", "remission", "fidelity"])
def test_docstring_examples_run(module):
    result = doctest.testmod(getattr(treatment, module))
    assert result.attempted > 0 and result.failed == 0


def test_importing_the_package_leaves_django_out():
    code = (
        "import sys\n"
        "import whatworks.analytics.treatment as treatment\n"
        "treatment.compute_remission(treatment.load_remission_rules())\n"
        "treatment.load_checklist()\n"
        "print(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "False"

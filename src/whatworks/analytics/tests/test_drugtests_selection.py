"""Monthly random selection for drug testing: reproducible, order-free, weighted as
documented, with an ordered reserve list that is never silently shortened."""

from __future__ import annotations

import collections
import math
import random

import pytest

from whatworks.analytics.drugtests import (
    Candidate,
    ReserveExhaustedError,
    SelectionRules,
    Substitution,
    draw,
    month_seed,
    promote_reserve,
)

PEOPLE = [Candidate(f"p{number:03d}") for number in range(40)]


def test_same_inputs_give_the_same_lists():
    first = draw(PEOPLE, facility="north", month="2026-03")
    second = draw(PEOPLE, facility="north", month="2026-03")
    assert first == second
    assert first.seed == month_seed("north", "2026-03")
    assert first.to_dict() == {
        "facility": "north",
        "month": "2026-03",
        "seed": first.seed,
        "main": list(first.main),
        "reserve": list(first.reserve),
    }


def test_input_order_does_not_matter():
    shuffled = list(PEOPLE)
    random.Random(7).shuffle(shuffled)
    assert draw(shuffled, facility="north", month="2026-03") == draw(
        PEOPLE, facility="north", month="2026-03"
    )


def test_a_different_month_or_facility_gives_a_different_list():
    march = draw(PEOPLE, facility="north", month="2026-03")
    april = draw(PEOPLE, facility="north", month="2026-04")
    south = draw(PEOPLE, facility="south", month="2026-03")
    assert march.main + march.reserve != april.main + april.reserve
    assert march.main + march.reserve != south.main + south.reserve
    assert month_seed("north", "2026-03") != month_seed("north", "2026-04")


def test_an_explicit_seed_overrides_the_month_seed():
    one = draw(PEOPLE, facility="north", month="2026-03", seed=1)
    other_month = draw(PEOPLE, facility="north", month="2026-05", seed=1)
    assert one.seed == other_month.seed == 1
    assert (one.main, one.reserve) == (other_month.main, other_month.reserve)
    with pytest.raises(ValueError, match="non-negative integer"):
        draw(PEOPLE, facility="north", month="2026-03", seed=-1)


@pytest.mark.parametrize("count", [0, 1, 9, 10, 11, 30, 99, 100, 101])
def test_main_list_size_is_the_rate_times_the_eligible_count_rounded_up(count):
    people = [Candidate(f"p{n:03d}") for n in range(count)]
    lists = draw(people, facility="north", month="2026-03")
    assert len(lists.main) == math.ceil(round(0.10 * count, 9))
    assert len(set(lists.main + lists.reserve)) == len(lists.main) + len(lists.reserve)


def test_excluded_people_are_not_eligible_and_not_counted():
    people = [*PEOPLE, *(Candidate(f"gone{n}", excluded_reason="released") for n in range(20))]
    lists = draw(people, facility="north", month="2026-03")
    assert len(lists.main) == 4  # ceil(0.10 * 40), not ceil(0.10 * 60)
    assert not any(key.startswith("gone") for key in lists.main + lists.reserve)
    assert dict(lists.excluded) == {f"gone{n}": "released" for n in range(20)}
    assert set(lists.weights) == {person.key for person in PEOPLE}


def test_reserve_is_a_share_of_the_main_list_and_at_least_one():
    lists = draw(PEOPLE, facility="north", month="2026-03")
    assert len(lists.main) == 4
    assert len(lists.reserve) == 2  # 0.5 * 4
    small = draw(PEOPLE[:5], facility="north", month="2026-03")
    assert (len(small.main), len(small.reserve)) == (1, 1)
    nobody_left = draw(PEOPLE[:1], facility="north", month="2026-03")
    assert (len(nobody_left.main), len(nobody_left.reserve)) == (1, 0)


def test_weights_multiply():
    rules = SelectionRules()
    assert rules.weight(Candidate("a")) == 1
    assert rules.weight(Candidate("a", in_substance_treatment=True)) == 2
    assert rules.weight(Candidate("a", recent_positive=True)) == 3
    assert rules.weight(Candidate("a", in_substance_treatment=True, recent_positive=True)) == 6


def test_treatment_and_recent_positives_are_drawn_about_two_and_three_times_as_often():
    # 200 people: 50 in treatment, 50 recent positives, 100 neither; 20 drawn per month.
    # Without replacement the inclusion ratios sit a little under the weight ratios
    # (measured 1.93 and 2.84), hence the 10% tolerance.
    people = [
        Candidate(f"p{n:03d}", in_substance_treatment=n % 4 == 1, recent_positive=n % 4 == 2)
        for n in range(200)
    ]
    counts = collections.Counter()
    for seed in range(2000):
        counts.update(draw(people, facility="north", month="2026-03", seed=seed).main)

    def mean_count(selected):
        group = [counts[person.key] for person in people if selected(person)]
        return sum(group) / len(group)

    others = mean_count(lambda p: not (p.in_substance_treatment or p.recent_positive))
    treatment_ratio = mean_count(lambda p: p.in_substance_treatment) / others
    positive_ratio = mean_count(lambda p: p.recent_positive) / others
    assert treatment_ratio == pytest.approx(2.0, rel=0.10)
    assert positive_ratio == pytest.approx(3.0, rel=0.10)


@pytest.mark.parametrize(
    ("facility", "month", "message"),
    [
        ("", "2026-03", "facility"),
        ("  ", "2026-03", "facility"),
        ("north", "2026-3", "YYYY-MM"),
        ("north", "2026-13", "YYYY-MM"),
        ("north", "March 2026", "YYYY-MM"),
    ],
)
def test_bad_facility_or_month_is_refused(facility, month, message):
    with pytest.raises(ValueError, match=message):
        draw(PEOPLE, facility=facility, month=month)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"treatment_weight": -1}, "treatment_weight must be greater than 0"),
        ({"recent_positive_weight": 0}, "recent_positive_weight must be greater than 0"),
        ({"target_rate": 0}, "target_rate"),
        ({"target_rate": 1.5}, "target_rate"),
        ({"reserve_share": -0.1}, "reserve_share cannot be negative"),
        ({"target_rate": "a lot"}, "must be a number"),
        ({"rate": 0.2}, "unknown setting"),
    ],
)
def test_bad_rules_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        SelectionRules.from_mapping(settings)


def test_rules_from_a_mapping():
    rules = SelectionRules.from_mapping({"target_rate": 0.25, "reserve_share": 1})
    assert rules == SelectionRules(target_rate=0.25, reserve_share=1)
    assert len(draw(PEOPLE, facility="north", month="2026-03", rules=rules).reserve) == 10


def test_duplicate_keys_are_refused():
    with pytest.raises(ValueError, match="more than once"):
        draw([Candidate("a"), Candidate("a")], facility="north", month="2026-03")


def lists_with(main, reserve):
    lists = draw(PEOPLE, facility="north", month="2026-03")
    return lists.__class__(**{**lists.__dict__, "main": tuple(main), "reserve": tuple(reserve)})


def test_reserve_promotion_goes_in_order_and_records_every_reason():
    lists = lists_with(["a", "b", "c", "d"], ["r1", "r2", "r3"])
    main, substitutions = promote_reserve(
        lists, untestable={"b": "released", "r1": "in_hospital", "d": "court_hearing"}
    )
    assert main == ("a", "r2", "c", "r3")
    assert substitutions == (
        Substitution("r1", "in_hospital", "reserve", None),
        Substitution("b", "released", "main", "r2"),
        Substitution("d", "court_hearing", "main", "r3"),
    )
    assert substitutions[1].to_dict() == {
        "key": "b",
        "reason": "released",
        "list_name": "main",
        "replaced_by": "r2",
    }


def test_nobody_untestable_changes_nothing():
    lists = lists_with(["a", "b"], ["r1"])
    assert promote_reserve(lists, untestable={}) == (("a", "b"), ())


def test_an_exhausted_reserve_is_an_error_not_a_shorter_list():
    lists = lists_with(["a", "b", "c"], ["r1"])
    with pytest.raises(ReserveExhaustedError, match="reserve list ran out") as caught:
        promote_reserve(lists, untestable={"a": "released", "c": "transferred"})
    assert caught.value.untested == ("c",)


def test_promotion_needs_listed_people_and_a_reason():
    lists = lists_with(["a"], ["r1"])
    with pytest.raises(ValueError, match="neither the main nor the reserve"):
        promote_reserve(lists, untestable={"zed": "released"})
    with pytest.raises(ValueError, match="reason is required"):
        promote_reserve(lists, untestable={"a": " "})

"""Risk-prioritised waiting lists: the components, the weighted score, the tie-breaks and the
release rule (people released soon move up, and are told the programme must continue)."""

from __future__ import annotations

import re

import pytest

from whatworks.analytics.treatment import (
    Reason,
    WaitlistCandidate,
    WaitlistWeights,
    rank_waitlist,
)


def candidate(key="a", risk="moderate", need=1.0, release=400, waiting=0, days=None):
    return WaitlistCandidate(key, risk, need, release, waiting, days)


def test_components_and_score_by_hand():
    # high 0.85, need 1.5 / 2 = 0.75, release 1 - 73/365 = 0.8, waiting 90/180 = 0.5.
    # score = 0.4*0.85 + 0.3*0.75 + 0.2*0.8 + 0.1*0.5 = 0.34 + 0.225 + 0.16 + 0.05 = 0.775
    [ranked] = rank_waitlist([candidate(risk="high", need=1.5, release=73, waiting=90)])
    assert ranked.rank == 1
    assert ranked.score == pytest.approx(0.775)
    assert dict(ranked.components) == pytest.approx(
        {"risk": 0.34, "need": 0.225, "release": 0.16, "waiting": 0.05}
    )
    assert ranked.reasons == (
        Reason("waitlist_risk", {"risk_band": "high", "component": 0.85, "contribution": 0.34}),
        Reason("waitlist_need", {"need_ratio": 1.5, "component": 0.75, "contribution": 0.225}),
        Reason("waitlist_release", {"days_to_release": 73, "component": 0.8, "contribution": 0.16}),
        Reason("waitlist_waiting", {"days_waiting": 90, "component": 0.5, "contribution": 0.05}),
    )


def test_unknown_values_take_their_documented_defaults():
    # risk 0.5, need 0.5, release 0.25, waiting 0: 0.2 + 0.15 + 0.05 + 0 = 0.4
    [ranked] = rank_waitlist([WaitlistCandidate("x", None, None, None, 0)])
    assert ranked.score == pytest.approx(0.4)
    assert [r.code for r in ranked.reasons] == [
        "waitlist_risk",
        "waitlist_need_unknown",
        "waitlist_release_unknown",
        "waitlist_waiting",
    ]
    assert ranked.reasons[0].params["risk_band"] == "not_assessed"


@pytest.mark.parametrize(
    ("risk", "component"), [("low", 0.0), ("moderate", 0.5), ("high", 0.85), ("very_high", 1.0)]
)
def test_risk_component(risk, component):
    [ranked] = rank_waitlist([candidate(risk=risk)], WaitlistWeights(1, 0, 0, 0))
    assert ranked.score == pytest.approx(component)


@pytest.mark.parametrize(
    ("field", "value", "component"),
    [
        ("need", 0.0, 0.0),
        ("need", 1.0, 0.5),
        ("need", 2.0, 1.0),
        ("need", 3.5, 1.0),  # clipped
        ("release", -10, 1.0),  # already past the date
        ("release", 0, 1.0),
        ("release", 365, 0.0),
        ("release", 1000, 0.0),
        ("release", 146, 0.6),  # 1 - 146/365
        ("waiting", 45, 0.25),
        ("waiting", 500, 1.0),
    ],
)
def test_need_release_and_waiting_components(field, value, component):
    only = {"need": (0, 1, 0, 0), "release": (0, 0, 1, 0), "waiting": (0, 0, 0, 1)}[field]
    [ranked] = rank_waitlist([candidate(**{field: value})], WaitlistWeights(*only))
    assert ranked.score == pytest.approx(component)


def test_release_soon_moves_a_person_up_and_asks_for_community_continuation():
    # Identical moderate-risk people; one is released in 30 days, the other in 3000.
    soon = candidate("soon", release=30, days=84)
    later = candidate("later", release=3000, days=84)
    ranked = rank_waitlist([later, soon])
    assert [(r.key, r.rank) for r in ranked] == [("soon", 1), ("later", 2)]
    # 0.2 + 0.15 + 0.2 * (1 - 30/365) + 0 = 0.533562 against 0.35
    assert ranked[0].score == pytest.approx(0.533562)
    assert ranked[1].score == pytest.approx(0.35)
    assert ranked[0].reasons[-1] == Reason(
        "release_before_programme_ends", {"days_to_release": 30, "programme_days": 84}
    )
    assert "release_before_programme_ends" not in [r.code for r in ranked[1].reasons]


def test_no_continuation_reason_when_the_programme_fits_or_its_length_is_unknown():
    codes = [r.code for r in rank_waitlist([candidate(release=84, days=84)])[0].reasons]
    assert "release_before_programme_ends" not in codes
    codes = [r.code for r in rank_waitlist([candidate(release=10, days=None)])[0].reasons]
    assert "release_before_programme_ends" not in codes


def test_risk_outranks_a_long_wait_with_the_default_weights():
    # very high, need 2, release 365: 0.4 + 0.3 + 0 + 0 = 0.7
    # low, need 2, release 365, waited 180: 0 + 0.3 + 0 + 0.1 = 0.4
    ranked = rank_waitlist(
        [candidate("patient", "low", 2, 365, 180), candidate("urgent", "very_high", 2, 365, 0)]
    )
    assert [(r.key, r.score) for r in ranked] == [("urgent", 0.7), ("patient", 0.4)]


def test_ties_go_to_the_longer_wait_then_the_key():
    no_waiting_weight = WaitlistWeights(waiting=0)
    ranked = rank_waitlist(
        [candidate("c", waiting=10), candidate("b", waiting=50), candidate("a", waiting=10)],
        no_waiting_weight,
    )
    assert len({r.score for r in ranked}) == 1
    assert [(r.key, r.rank) for r in ranked] == [("b", 1), ("a", 2), ("c", 3)]


def test_float_noise_does_not_break_a_tie():
    # 0.1 + 0.2 != 0.3 in floats; rounded scores compare equal and the key decides.
    weights = WaitlistWeights(risk=0.1, need=0.2, release=0.3, waiting=0)
    # Unrounded, b = (0.1 + 0.2) / 0.6 = 0.5 and a = 0.3 / 0.6 = 0.4999999999999999.
    a = candidate("a", risk="low", need=0.0, release=0)
    b = candidate("b", risk="very_high", need=2.0, release=1000)
    ranked = rank_waitlist([b, a], weights)
    assert [(r.key, r.score) for r in ranked] == [("a", 0.5), ("b", 0.5)]


def test_weights_are_relative():
    people = [candidate("x", "high", 1.2, 100, 20), candidate("y", "low", 2.0, 10, 170)]
    default = rank_waitlist(people)
    scaled = rank_waitlist(people, WaitlistWeights(4, 3, 2, 1))
    assert [(r.key, r.score) for r in default] == [(r.key, r.score) for r in scaled]


def test_a_shorter_horizon_and_cap():
    weights = WaitlistWeights(0, 0, 1, 1, release_horizon_days=100, waiting_cap_days=30)
    # release 1 - 50/100 = 0.5, waiting 15/30 = 0.5: (0.5 + 0.5) / 2 = 0.5
    assert rank_waitlist([candidate(release=50, waiting=15)], weights)[0].score == 0.5


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"risk": -0.1}, "risk: a weight must be a number >= 0"),
        ({"risk": 0, "need": 0, "release": 0, "waiting": 0}, "must not all be 0"),
        ({"release_horizon_days": 0}, "release_horizon_days: must be a whole number"),
        ({"waiting_cap_days": 1.5}, "waiting_cap_days: must be a whole number"),
        ({"urgency": 1}, "urgency: unknown key"),
    ],
)
def test_weights_configuration_errors_name_the_key(data, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        WaitlistWeights.from_mapping(data)


def test_weights_from_configuration():
    assert WaitlistWeights.from_mapping({"need": 0.5}) == WaitlistWeights(need=0.5)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: candidate(risk="extreme"), "unknown risk band"),
        (lambda: candidate(need=-1), "need_ratio cannot be negative"),
        (lambda: candidate(waiting=-1), "days_waiting cannot be negative"),
        (lambda: rank_waitlist([candidate("a"), candidate("a")]), "duplicate candidate keys: a"),
    ],
)
def test_bad_candidates_are_refused(build, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build()


def test_an_empty_list():
    assert rank_waitlist([]) == []

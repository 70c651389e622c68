"""Programme fidelity checklist: the built-in CPC-style file, scoring with not-applicable
items, the published band cut-offs after rounding, and answer and file errors."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from whatworks.analytics.treatment import (
    ChecklistError,
    FidelityAnswerError,
    checklist_from_mapping,
    fidelity_band,
    list_checklists,
    load_checklist,
    score_checklist,
)

BUILTIN = Path(__file__).resolve().parents[1] / "treatment" / "builtin"
DOMAINS = (
    "leadership_development",
    "staff",
    "offender_assessment",
    "treatment",
    "quality_assurance",
)


def t(text: str) -> dict[str, str]:
    return {"en": text, "es": f"{text} (es)", "pt-br": f"{text} (pt-br)"}


def toy_mapping() -> dict:
    return {
        "schema_version": 1,
        "slug": "toy",
        "version": "1.0",
        "name": t("Toy"),
        "citation": "Test fixture",
        "domains": [
            {
                "id": "a",
                "name": t("A"),
                "items": [
                    {"id": "a1", "text": t("A1"), "points": 2},
                    {"id": "a2", "text": t("A2"), "points": 1},
                    {"id": "a3", "text": t("A3"), "points": 2},
                ],
            },
            {
                "id": "b",
                "name": t("B"),
                "items": [
                    {"id": "b1", "text": t("B1"), "points": 1},
                    {"id": "b2", "text": t("B2"), "points": 2},
                    {"id": "b3", "text": t("B3"), "points": 2},
                ],
            },
        ],
    }


TOY = checklist_from_mapping(toy_mapping(), "toy.yaml")


# --- The built-in checklist ------------------------------------------------------------------


def test_the_builtin_checklist():
    checklist = load_checklist()
    assert list_checklists() == ["cpc-style"]
    assert checklist.slug == "cpc-style"
    assert tuple(d.id for d in checklist.domains) == DOMAINS
    for domain in checklist.domains:
        assert 4 <= len(domain.items) <= 7, domain.id
        assert {item.points for item in domain.items} <= {1, 2}
    assert "CPC 2.0" in checklist.citation
    # 7 + 7 + 8 + 10 + 8 points in the five domains
    answers = {item_id: "yes" for item_id in checklist.item_ids}
    assert score_checklist(checklist, answers).possible == 40


def test_every_builtin_text_is_translated():
    data = yaml.safe_load((BUILTIN / "cpc-style.yaml").read_text("utf-8"))
    texts = [data["name"], data["description"]]
    for domain in data["domains"]:
        texts.append(domain["name"])
        texts.extend(item["text"] for item in domain["items"])
    assert len(texts) == 2 + 5 + 27
    for text in texts:
        assert set(text) == {"en", "es", "pt-br"}
        assert text["es"] != text["en"] and text["pt-br"] != text["en"], text["en"]


def test_builtin_with_one_domain_failing():
    # Everything yes except the 10 points of treatment: 30 / 40 = 75% -> very high.
    checklist = load_checklist("cpc-style")
    treatment = {item.id for item in checklist.domains[3].items}
    answers = {i: "no" if i in treatment else "yes" for i in checklist.item_ids}
    result = score_checklist(checklist, answers)
    assert (result.points, result.possible, result.percent, result.band) == (
        30,
        40,
        75.0,
        "very_high",
    )
    assert result.domain_percents["treatment"] == 0
    assert result.domain_percents["staff"] == 100


# --- Scoring ---------------------------------------------------------------------------------


def test_a_hand_computed_score():
    # a: a1 yes (2), a2 no (1), a3 not applicable -> 2 / 3 = 66.666667%
    # b: b1 yes (1), b2 not applicable, b3 no (2) -> 1 / 3 = 33.333333%
    # total 3 / 6 = 50% -> moderate
    answers = {"a1": "yes", "a2": "no", "a3": "not_applicable"}
    answers |= {"b1": "yes", "b2": "not_applicable", "b3": "no"}
    result = score_checklist(TOY, answers)
    assert (result.points, result.possible, result.percent, result.band) == (3, 6, 50.0, "moderate")
    assert dict(result.domain_percents) == {"a": 66.666667, "b": 33.333333}


def test_a_domain_with_nothing_applicable_has_no_percent():
    answers = {"a1": "yes", "a2": "yes", "a3": "no"} | dict.fromkeys(
        ("b1", "b2", "b3"), "not_applicable"
    )
    result = score_checklist(TOY, answers)
    # 3 / 5 = 60% -> high
    assert (result.percent, result.band) == (60.0, "high")
    assert result.domain_percents["b"] is None


def test_a_percentage_under_the_moderate_cut_off():
    # a2 not applicable leaves 2 + 2 + 1 + 2 + 2 = 9 points; yes to a1 and b2 = 4 points.
    # 4 / 9 = 44.444444% -> rounds to 44 -> low
    answers = dict.fromkeys(TOY.item_ids, "no") | {"a1": "yes", "b2": "yes", "a2": "not_applicable"}
    result = score_checklist(TOY, answers)
    assert (result.points, result.possible, result.band) == (4, 9, "low")
    assert result.percent == pytest.approx(44.444444)


@pytest.mark.parametrize(
    ("percent", "band"),
    [
        (0, "low"),
        (45, "low"),
        (45.4, "low"),
        (45.49, "low"),
        (45.5, "moderate"),
        (46, "moderate"),
        (54, "moderate"),
        (54.49, "moderate"),
        (54.5, "high"),
        (55, "high"),
        (64, "high"),
        (64.5, "very_high"),
        (65, "very_high"),
        (100, "very_high"),
    ],
)
def test_band_boundaries(percent, band):
    assert fidelity_band(percent) == band


def test_band_needs_a_percentage():
    with pytest.raises(ValueError, match="from 0 to 100"):
        fidelity_band(101)


# --- Errors ----------------------------------------------------------------------------------


def test_every_bad_answer_is_listed_by_item():
    answers = {"a1": "yes", "a2": "maybe", "a3": "no", "b1": "no", "b2": "no", "zz": "yes"}
    with pytest.raises(FidelityAnswerError) as caught:
        score_checklist(TOY, answers)
    assert caught.value.errors == {
        "a2": "answer must be yes, no or not_applicable, not 'maybe'",
        "b3": "missing answer",
        "zz": "unknown item in checklist 'toy'",
    }


def test_nothing_applicable_is_refused():
    with pytest.raises(FidelityAnswerError, match="every item is not applicable"):
        score_checklist(TOY, dict.fromkeys(TOY.item_ids, "not_applicable"))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda m: m["domains"][0]["items"][0].update(points=3),
            "domains/0/items/0/points: 3 is not one of [1, 2]",
        ),
        (
            lambda m: m["domains"][1]["items"][0].update(id="a1"),
            "domains/1/items/0/id: duplicate item id 'a1'",
        ),
        (lambda m: m["domains"][1].update(id="a"), "domains/1/id: duplicate domain id 'a'"),
        (
            lambda m: m["domains"][0]["name"].pop("pt-br"),
            "domains/0/name: 'pt-br' is a required property",
        ),
        (lambda m: m.pop("citation"), "(top level): 'citation' is a required property"),
    ],
)
def test_checklist_mistakes_are_reported_with_the_field_path(change, expected):
    mapping = copy.deepcopy(toy_mapping())
    change(mapping)
    with pytest.raises(ChecklistError) as caught:
        checklist_from_mapping(mapping, "bad.yaml")
    assert f"bad.yaml: {expected}" in caught.value.errors


def test_load_by_path_and_unknown_names(tmp_path):
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(toy_mapping()), "utf-8")
    assert load_checklist(path).item_ids == TOY.item_ids
    with pytest.raises(ChecklistError, match=re.escape("unknown checklist 'cpc'")):
        load_checklist("cpc")

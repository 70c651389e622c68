"""Assessment instruments: published K6 and AUDIT scoring, the file format and its checks,
weighted sums, lookup tables, bands by sex, needs and reassessment dates."""

from __future__ import annotations

import copy
import datetime
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from whatworks.analytics.instruments import (
    LANGUAGES,
    AnswerError,
    Instrument,
    InstrumentError,
    ScoreResult,
    list_instruments,
    load_instrument,
    next_reassessment_date,
    score,
)
from whatworks.analytics.instruments.model import instrument_from_mapping

BUILTIN = Path(__file__).resolve().parents[1] / "instruments" / "builtin"


def t(text: str) -> dict[str, str]:
    return {"en": text, "es": f"{text} (es)", "pt-br": f"{text} (pt-br)"}


def toy_mapping() -> dict:
    """A small instrument using every feature; expected scores are worked out by hand."""
    return {
        "schema_version": 1,
        "slug": "toy",
        "version": "1.0",
        "name": t("Toy"),
        "citation": "Test fixture",
        "licence": "CC0",
        "validated": False,
        "validation_note": t("Not validated"),
        "domains": [
            {
                "id": "a",
                "name": t("A"),
                "criminogenic": True,
                "need_threshold": 3,
                "scoring": {"method": "weighted_sum", "weights": {"a1": 2}},
            },
            {
                "id": "b",
                "name": t("B"),
                "scoring": {
                    "method": "lookup",
                    "table": [
                        {"min": 0, "max": 1, "score": 0},
                        {"min": 2, "max": 5, "score": 10},
                    ],
                },
            },
            {"id": "s", "name": t("S"), "kind": "strength"},
        ],
        "items": [
            {
                "id": "a1",
                "type": "single_choice",
                "domain": "a",
                "text": t("A1"),
                "options": [
                    {"label": t("none"), "score": 0},
                    {"label": t("some"), "score": 1},
                    {"label": t("lots"), "score": 2},
                ],
            },
            {"id": "a2", "type": "yes_no", "domain": "a", "text": t("A2")},
            {
                "id": "b1",
                "type": "multiple_choice",
                "domain": "b",
                "text": t("B1"),
                "required": False,
                "options": [
                    {"label": t("x"), "score": 1},
                    {"label": t("y"), "score": 2},
                    {"label": t("z"), "score": 2},
                ],
            },
            {
                "id": "b2",
                "type": "number",
                "domain": "b",
                "text": t("B2"),
                "min": 0,
                "max": 100,
                "table": [{"min": 0, "max": 9, "score": 0}, {"min": 10, "max": 100, "score": 1}],
            },
            {"id": "s1", "type": "yes_no", "domain": "s", "text": t("S1"), "yes_score": 2},
            {
                "id": "note",
                "type": "text",
                "role": "responsivity",
                "required": False,
                "text": t("Note"),
            },
        ],
        "total": {"method": "weighted_sum", "weights": {"a": 1.5, "b": 0.5}},
        "bands": [
            {"code": "low", "label": t("Low"), "min": 0, "max": 4},
            {"code": "high", "label": t("High"), "min": 5, "max": 100},
        ],
        "bands_by_sex": {
            "female": [
                {"code": "low", "label": t("Low"), "min": 0, "max": 6},
                {"code": "high", "label": t("High"), "min": 7, "max": 100},
            ]
        },
        "reassessment": {
            "intervals": [{"bands": ["high"], "months": 6}, {"bands": ["low"], "months": 12}],
            "before_release_days": 90,
        },
    }


@pytest.fixture
def toy() -> Instrument:
    return instrument_from_mapping(toy_mapping(), source="toy.yaml")


# --- Built-ins ---------------------------------------------------------------------------


def test_builtins_are_listed():
    assert [i.slug for i in list_instruments()] == ["audit", "k6", "rnr-screener"]
    assert all(isinstance(i, Instrument) for i in list_instruments())


def _texts(node, path=""):
    if isinstance(node, dict):
        if "en" in node:
            yield path, node
        else:
            for key, value in node.items():
                yield from _texts(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _texts(value, f"{path}/{index}")


@pytest.mark.parametrize("file", sorted(BUILTIN.glob("*.yaml")), ids=lambda p: p.name)
def test_every_builtin_text_is_in_english_spanish_and_portuguese(file):
    texts = list(_texts(yaml.safe_load(file.read_text("utf-8"))))
    assert len(texts) > 10
    for path, text in texts:
        assert set(text) == set(LANGUAGES), path
        assert all(isinstance(v, str) and v.strip() for v in text.values()), path
        # A translation is not a copy of the English, except short shared words ("Ambivalente").
        assert text["es"] != text["en"] or len(text["en"]) < 12, path


@pytest.mark.parametrize("instrument", list_instruments(), ids=lambda i: i.slug)
def test_every_label_resolves_in_every_language(instrument):
    for language in LANGUAGES:
        assert instrument.text("name", language)
        for item in instrument.items:
            assert instrument.text(item, language)
            for option in item.options:
                assert instrument.text(option, language)
        for domain in instrument.domains:
            assert instrument.text(domain, language)
        for band in instrument.bands:
            assert instrument.text(band, language)


def test_text_helper_languages_and_fallback():
    k6 = load_instrument("k6")
    assert k6.text("serious_distress", "es") == "Malestar psicológico grave"
    assert k6.text("serious_distress", "pt-BR") == "Sofrimento psicológico grave"
    assert k6.text("serious_distress", "pt") == "Sofrimento psicológico grave"
    assert k6.text("serious_distress", "es-CL") == "Malestar psicológico grave"
    assert k6.text("serious_distress", "fr") == "Serious psychological distress"
    assert k6.text("k6_2_hopeless").endswith("hopeless?")
    assert k6.text({"en": "x", "es": "y", "pt-br": "z"}, "es") == "y"
    with pytest.raises(KeyError):
        k6.text("nothing-called-this")


# --- K6 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        ([0, 0, 0, 0, 0, 0], 0, "no_serious_distress"),
        ([0, 1, 2, 3, 4, 2], 12, "no_serious_distress"),
        ([2, 2, 2, 2, 2, 2], 12, "no_serious_distress"),
        ([2, 2, 2, 2, 2, 3], 13, "serious_distress"),
        ([4, 4, 4, 1, 0, 0], 13, "serious_distress"),
        ([4, 4, 4, 4, 4, 4], 24, "serious_distress"),
    ],
)
def test_k6_totals_and_cut_off(answers, total, band):
    result = score(load_instrument("k6"), answers)
    assert (result.total, result.band) == (total, band)
    assert result.domains == {"distress": total}
    assert result.instrument == "k6" and result.version == "1.0"


def test_k6_option_labels_are_the_published_anchors():
    item = load_instrument("k6").items[0]
    assert [o.score for o in item.options] == [0, 1, 2, 3, 4]
    assert item.options[0].label["en"] == "None of the time"
    assert item.options[4].label["en"] == "All of the time"


# --- AUDIT -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        ([0] * 10, 0, "zone_i"),
        ([1, 1, 1, 1, 1, 1, 1, 0, 0, 0], 7, "zone_i"),
        ([1, 1, 1, 1, 1, 1, 1, 1, 0, 0], 8, "zone_ii"),
        ([4, 4, 4, 1, 0, 0, 0, 0, 1, 0], 15, "zone_ii"),  # 13 + 2
        ([4, 4, 4, 0, 0, 0, 0, 0, 0, 2], 16, "zone_iii"),  # 12 + 4
        ([4, 4, 4, 1, 0, 0, 0, 0, 1, 2], 19, "zone_iii"),  # 13 + 2 + 4
        ([4, 4, 4, 2, 0, 0, 0, 0, 1, 2], 20, "zone_iv"),  # 14 + 2 + 4
        ([4] * 8 + [2, 2], 40, "zone_iv"),
    ],
)
def test_audit_totals_and_zones(answers, total, band):
    result = score(load_instrument("audit"), answers)
    assert (result.total, result.band) == (total, band)
    assert sum(result.domains.values()) == total


def test_audit_items_9_and_10_score_0_2_4():
    audit = load_instrument("audit")
    for item_id in ("audit_9", "audit_10"):
        assert [o.score for o in audit.item(item_id).options] == [0, 2, 4]
    for index, expected in enumerate([0, 2, 4]):
        result = score(audit, [0] * 8 + [index, index])
        assert result.item_scores["audit_9"] == result.item_scores["audit_10"] == expected
        assert result.total == 2 * expected
    with pytest.raises(AnswerError, match="audit_9: option 3 is out of range"):
        score(audit, [0] * 8 + [3, 0])


def test_audit_domains_follow_the_who_manual():
    result = score(load_instrument("audit"), [1, 2, 3, 1, 1, 1, 0, 0, 1, 0])
    assert result.domains == {"hazardous_use": 6, "dependence": 3, "harmful_use": 2}


# --- RNR screener ------------------------------------------------------------------------


def rnr_answers(**overrides):
    answers = {
        item.id: (0 if item.options else False if item.type == "yes_no" else "Aymara")
        for item in load_instrument("rnr-screener").items
    }
    answers.update(overrides)
    return answers


def test_rnr_screener_metadata():
    rnr = load_instrument("rnr-screener")
    assert rnr.validated is False
    assert rnr.validation_note["en"].lower().startswith("not validated: validate on local")
    assert rnr.validation_note["es"].startswith("No validado")
    assert rnr.validation_note["pt-br"].startswith("Não validado")
    risk = [d for d in rnr.domains if d.kind == "risk"]
    assert len(risk) == 8 and all(d.criminogenic and d.need_threshold for d in risk)
    for domain in risk:
        assert 2 <= sum(1 for i in rnr.items if i.domain == domain.id) <= 4
    assert [b.code for b in rnr.bands] == ["low", "moderate", "high", "very_high"]


def test_rnr_screener_weighted_total_needs_responsivity_and_strengths():
    rnr = load_instrument("rnr-screener")
    result = score(
        rnr,
        rnr_answers(
            ch_prior_convictions=2,  # criminal history 2 + 1 = 3, weight 2 -> 6
            ch_first_arrest_under_18=True,
            assoc_friends_offend=1,  # associates 1, weight 2 -> 2
            sub_problems_past_year=True,  # substance 2, weight 1 -> 2
            sub_linked_to_offending=True,
            str_housing=True,
            str_job_or_training=True,
            resp_literacy=2,
            resp_motivation=1,
        ),
    )
    assert result.total == 10
    assert result.band == "moderate"
    assert result.domains["criminal_history"] == 3
    assert result.needs["criminal_history"] == {"score": 3, "threshold": 2, "is_need": True}
    assert result.needs["antisocial_associates"]["is_need"] is False
    assert result.needs["substance_abuse"]["is_need"] is True
    assert result.strengths == {"strengths": 2}  # reported, not subtracted
    assert result.responsivity["resp_literacy"] == 2
    assert result.responsivity["resp_first_language"] == "Aymara"
    assert set(result.responsivity) >= {"resp_language", "resp_mental_health", "resp_motivation"}
    assert not any(item.startswith("resp_") for item in result.item_scores)


def test_rnr_screener_bands_cover_its_range():
    rnr = load_instrument("rnr-screener")
    low = score(rnr, rnr_answers())
    assert (low.total, low.band) == (0, "low")
    everything = {
        item.id: (len(item.options) - 1 if item.options else True)
        for item in rnr.items
        if item.role == "scored"
    }
    high = score(rnr, rnr_answers(**everything))
    assert (high.total, high.band) == (36, "very_high")


# --- The file format ---------------------------------------------------------------------


def test_weighted_sums_and_lookup_tables(toy):
    result = score(toy, {"a1": 2, "a2": True, "b1": [0, 1], "b2": 10, "s1": True})
    # a = 2 * 2 + 1 = 5; b raw = (1 + 2) + 1 = 4 -> lookup 10; total = 1.5 * 5 + 0.5 * 10
    assert result.domains == {"a": 5, "b": 10}
    assert result.total == 12.5
    assert result.band == "high"
    assert result.strengths == {"s": 2}
    assert result.needs == {"a": {"score": 5, "threshold": 3, "is_need": True}}
    result = score(toy, {"a1": 0, "a2": False, "b1": [], "b2": 9, "s1": False})
    assert (result.domains, result.total, result.band) == ({"a": 0, "b": 0}, 0, "low")
    assert result.needs["a"]["is_need"] is False


def test_a_fractional_total_between_bands_falls_in_the_lower(toy):
    result = score(toy, {"a1": 1, "a2": True, "b1": [0], "b2": 0, "s1": False})
    assert (result.total, result.band) == (4.5, "low")


def test_bands_by_sex(toy):
    answers = {"a1": 2, "a2": False, "b1": [], "b2": 0, "s1": False}  # total 6
    assert score(toy, answers).band == "high"
    assert score(toy, answers, sex="male").band == "high"  # no own list: general bands
    assert score(toy, answers, sex="female").band == "low"
    assert toy.bands_for("female")[0].max == 6


def test_strengths_subtracted_only_when_the_file_says_so():
    mapping = toy_mapping()
    mapping["total"]["strengths"] = "subtract"
    instrument = instrument_from_mapping(mapping)
    result = score(instrument, {"a1": 2, "a2": True, "b1": [0, 1], "b2": 10, "s1": True})
    assert result.total == 10.5


def test_to_dict_is_json_ready(toy):
    import json

    result = score(toy, {"a1": 2, "a2": True, "b1": [0, 1], "b2": 10, "s1": True, "note": "x"})
    assert isinstance(result, ScoreResult)
    data = json.loads(json.dumps(result.to_dict()))
    assert list(data)[:5] == ["instrument", "version", "total", "band", "domains"]
    assert data["responsivity"] == {"note": "x"}


def _problems(mapping) -> str:
    with pytest.raises(InstrumentError) as caught:
        instrument_from_mapping(mapping, source="bad.yaml")
    return str(caught.value)


def test_rejects_a_missing_translation():
    mapping = toy_mapping()
    del mapping["items"][1]["text"]["pt-br"]
    assert "bad.yaml: items/1/text: 'pt-br' is a required property" in _problems(mapping)


def test_rejects_overlapping_bands():
    mapping = toy_mapping()
    mapping["bands"][1]["min"] = 4
    assert "bad.yaml: bands/1/min: band overlaps the previous one" in _problems(mapping)


def test_rejects_a_gap_between_bands():
    mapping = toy_mapping()
    mapping["bands_by_sex"]["female"][1]["min"] = 8
    assert "bad.yaml: bands_by_sex/female/1/min: gap between bands" in _problems(mapping)


def test_rejects_an_unknown_scoring_method():
    mapping = toy_mapping()
    mapping["domains"][0]["scoring"]["method"] = "median"
    assert "bad.yaml: domains/0/scoring/method: 'median' is not one of" in _problems(mapping)
    mapping = toy_mapping()
    mapping["total"]["method"] = "average"
    assert "bad.yaml: total/method: 'average' is not one of" in _problems(mapping)


def test_rejects_an_option_score_that_is_not_a_number():
    mapping = toy_mapping()
    mapping["items"][0]["options"][1]["score"] = "one"
    assert "bad.yaml: items/0/options/1/score: 'one' is not of type 'number'" in _problems(mapping)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda m: m.pop("validation_note"), "(top level): 'validation_note' is a required"),
        (lambda m: m["items"][1].update(domain="zz"), "items/1/domain: unknown domain 'zz'"),
        (lambda m: m["items"][1].update(id="a1"), "items/1/id: duplicate item id 'a1'"),
        (lambda m: m["items"][1].update(type="essay"), "items/1/type: 'essay' is not one of"),
        (lambda m: m["items"][0].pop("domain"), "items/0/domain: a scored item needs a domain"),
        (lambda m: m["items"][0].pop("options"), "items/0: a choice item needs exactly one of"),
        (
            lambda m: m["reassessment"]["intervals"][0]["bands"].append("extreme"),
            "reassessment/intervals/0/bands/1: unknown band 'extreme'",
        ),
        (
            lambda m: m["domains"][0]["scoring"]["weights"].update(zz=1),
            "domains/0/scoring/weights/zz: 'zz' is not a part of this sum",
        ),
        (
            lambda m: m["domains"][1]["scoring"]["table"][1].update(min=1),
            "domains/1/scoring/table/1/min: row overlaps the previous one",
        ),
        (lambda m: m["name"].update(fr="Jouet"), "name: Additional properties are not allowed"),
    ],
)
def test_rejects_other_mistakes_with_the_field_path(change, expected):
    mapping = copy.deepcopy(toy_mapping())
    change(mapping)
    assert f"bad.yaml: {expected}" in _problems(mapping)


def test_every_problem_is_reported_with_the_file_name(tmp_path):
    mapping = toy_mapping()
    del mapping["name"]["es"]
    mapping["items"][0]["options"][0]["score"] = "zero"
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(mapping, allow_unicode=True), "utf-8")
    with pytest.raises(InstrumentError) as caught:
        load_instrument(path)
    assert caught.value.errors == [
        f"{path}: items/0/options/0/score: 'zero' is not of type 'number'",
        f"{path}: name: 'es' is a required property",
    ]


def test_load_by_path_and_unknown_names(tmp_path):
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(toy_mapping(), allow_unicode=True), "utf-8")
    assert load_instrument(str(path)).slug == "toy"
    with pytest.raises(InstrumentError, match="unknown instrument 'nope'"):
        load_instrument("nope")
    with pytest.raises(InstrumentError, match="cannot read the file"):
        load_instrument(tmp_path / "missing.yaml")


# --- Answers -----------------------------------------------------------------------------


def test_missing_answers_are_all_listed():
    with pytest.raises(AnswerError) as caught:
        score(load_instrument("k6"), [1, None, 2])
    assert str(caught.value) == (
        "missing answers for item(s): k6_2_hopeless, k6_4_depressed, k6_5_effort, k6_6_worthless"
    )


def test_incomplete_answers_leave_unknown_scores_unknown(toy):
    result = score(toy, {"a1": 1, "b2": 50, "s1": True}, require_complete=False)
    assert result.missing == ["a2"]
    assert result.domains == {"a": None, "b": 0}  # b1 is optional: blank counts 0
    assert result.total is None and result.band is None
    assert result.needs["a"] == {"score": None, "threshold": 3, "is_need": None}
    assert not result.complete
    partial = score(load_instrument("k6"), [1, 1], require_complete=False)
    assert partial.total is None and len(partial.missing) == 4


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ([0, 0, 0, 0, 0, 5], "item k6_6_worthless: option 5 is out of range (0 to 4)"),
        ([0, 0, -1, 0, 0, 0], "item k6_3_restless: option -1 is out of range"),
        ([0, "2", 0, 0, 0, 0], "item k6_2_hopeless: expected an option index, got '2'"),
        ([True, 0, 0, 0, 0, 0], "item k6_1_nervous: expected an option index, got True"),
        ([0, 1.5, 0, 0, 0, 0], "item k6_2_hopeless: expected an option index"),
        ([0] * 7, "too many answers: 7 given, k6 has 6 items"),
        ({"k6_1_nervous": 0, "k6_7": 1}, "unknown item id(s): k6_7"),
        ("000000", "answers must be a list"),
    ],
)
def test_bad_answers_name_the_item_and_problem(answers, message):
    with pytest.raises(AnswerError) as caught:
        score(load_instrument("k6"), answers)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"a2": "yes"}, "item a2: expected yes/no"),
        ({"a2": 2}, "item a2: expected yes/no"),
        ({"b1": 1}, "item b1: expected a list of option indexes"),
        ({"b1": [0, 0]}, "item b1: an option is chosen more than once"),
        ({"b1": [3]}, "item b1: option 3 is out of range"),
        ({"b2": 101}, "item b2: 101 is out of range (0 to 100)"),
        ({"b2": "ten"}, "item b2: expected a number"),
        ({"note": 3}, "item note: expected text"),
    ],
)
def test_bad_answers_of_each_item_type(toy, answers, message):
    full = {"a1": 0, "a2": 0, "b1": [], "b2": 0, "s1": 1} | answers
    with pytest.raises(AnswerError, match=message.replace("(", r"\(").replace(")", r"\)")):
        score(toy, full)


def test_yes_no_accepts_booleans_and_1_0(toy):
    as_bool = score(toy, {"a1": 0, "a2": True, "b1": [], "b2": 0, "s1": False})
    as_int = score(toy, {"a1": 0, "a2": 1, "b1": [], "b2": 0, "s1": 0})
    assert as_bool.domains == as_int.domains == {"a": 1, "b": 0}


# --- Reassessment ------------------------------------------------------------------------

D = datetime.date


@pytest.mark.parametrize(
    ("band", "expected"),
    [
        ("very_high", D(2026, 7, 15)),
        ("high", D(2026, 7, 15)),
        ("moderate", D(2027, 1, 15)),
        ("low", D(2028, 1, 15)),
    ],
)
def test_reassessment_by_band(band, expected):
    rnr = load_instrument("rnr-screener")
    assert next_reassessment_date(rnr, band, D(2026, 1, 15), None) == expected
    # A release far away changes nothing.
    assert next_reassessment_date(rnr, band, D(2026, 1, 15), D(2035, 1, 1)) == expected


def test_reassessment_before_release():
    rnr = load_instrument("rnr-screener")
    # Release on 1 May 2026: the 90 days before start on 31 January 2026, before the 6 months.
    assert next_reassessment_date(rnr, "high", D(2026, 1, 15), D(2026, 5, 1)) == D(2026, 1, 31)
    # Low risk, release in 18 months: the pre-release window (not 24 months) comes first.
    assert next_reassessment_date(rnr, "low", D(2026, 1, 15), D(2027, 7, 15)) == D(2027, 4, 16)
    # Assessed inside the window: the pre-release assessment is done, nothing before release.
    assert next_reassessment_date(rnr, "high", D(2026, 3, 1), D(2026, 5, 1)) is None
    # The expected release date has passed: back to the periodic rule.
    assert next_reassessment_date(rnr, "high", D(2026, 6, 1), D(2026, 5, 1)) == D(2026, 12, 1)


def test_reassessment_month_ends_and_instruments_without_rules():
    rnr = load_instrument("rnr-screener")
    assert next_reassessment_date(rnr, "high", D(2026, 8, 31), None) == D(2027, 2, 28)
    assert (
        next_reassessment_date(load_instrument("k6"), "serious_distress", D(2026, 1, 1), None)
        is None
    )
    with pytest.raises(InstrumentError, match="unknown band 'extreme'"):
        next_reassessment_date(rnr, "extreme", D(2026, 1, 1), None)


# --- Separation from Django ---------------------------------------------------------------


def test_importing_the_package_leaves_django_out():
    code = (
        "import sys\n"
        "import whatworks.analytics.instruments as instruments\n"
        "import whatworks.analytics.instruments.cli\n"
        "instruments.score(instruments.load_instrument('k6'), [0] * 6)\n"
        "print(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "False"

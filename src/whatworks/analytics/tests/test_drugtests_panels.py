"""Drug test panels (YAML checked by JSON Schema) and the results recorded against them."""

from __future__ import annotations

import copy

import pytest
import yaml

from whatworks.analytics.drugtests import (
    OUTCOMES,
    RESULT_VALUES,
    SAMPLE_TYPES,
    TEST_REASONS,
    PanelError,
    PanelResultError,
    list_panels,
    load_panel,
    panel_from_mapping,
    test_outcome,
    validate_results,
)
from whatworks.analytics.drugtests.panels import schema
from whatworks.analytics.packaged import packaged_yaml_texts

PANEL = load_panel("standard-panel")


def standard_data():
    (text,) = (
        t
        for name, t in packaged_yaml_texts("whatworks.analytics.drugtests", "builtin")
        if name == "standard-panel.yaml"
    )
    return yaml.safe_load(text)


def test_the_standard_panel_is_built_in():
    assert list_panels() == ["standard-panel"]
    assert load_panel() is PANEL
    assert PANEL.substance_ids == (
        "cannabis",
        "cocaine",
        "opiates",
        "amphetamines",
        "benzodiazepines",
        "alcohol",
    )
    assert PANEL.samples == SAMPLE_TYPES
    assert PANEL.substance("cannabis").screening_cutoffs_ng_ml["urine"] == 50
    assert PANEL.substance("alcohol").samples == ("breath", "blood", "urine")
    for substance in PANEL.substances:
        assert set(substance.name) == {"en", "es", "pt-br"}
    assert set(PANEL.name) == {"en", "es", "pt-br"}


def test_vocabularies():
    assert RESULT_VALUES == ("negative", "positive", "dilute", "invalid", "refused", "tampered")
    assert TEST_REASONS == (
        "random",
        "scheduled",
        "for_cause",
        "admission",
        "pre_release",
        "programme_compliance",
    )
    assert set(OUTCOMES) == {"positive", "negative", "refused_or_tampered", "invalid"}
    assert schema()["$defs"]["sample"]["enum"] == list(SAMPLE_TYPES)


def test_a_panel_file_by_path(tmp_path):
    data = standard_data()
    data["slug"] = "breath-only"
    data["samples"] = ["breath"]
    data["substances"] = [s for s in data["substances"] if s["id"] == "alcohol"]
    data["substances"][0].update(samples=["breath"], screening_cutoffs_ng_ml={})
    path = tmp_path / "breath.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    panel = load_panel(path)
    assert (panel.slug, panel.substance_ids, panel.source) == (
        "breath-only",
        ("alcohol",),
        str(path),
    )


def test_substance_samples_default_to_the_panel_samples():
    data = standard_data()
    del data["substances"][0]["samples"]
    panel = panel_from_mapping(data)
    assert panel.substance("cannabis").samples == SAMPLE_TYPES


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d.pop("substances"), "(top level)"),
        (lambda d: d["name"].pop("es"), "name"),
        (lambda d: d["samples"].append("sweat"), "samples/5"),
        (
            lambda d: d["substances"][0].update(screening_cutoffs_ng_ml={"urine": -5}),
            "substances/0/screening_cutoffs_ng_ml/urine",
        ),
        (lambda d: d["substances"][1].update(id="cannabis"), "substances/1/id"),
        (lambda d: d.update(samples=["urine"]), "substances/5/samples"),
        (
            lambda d: d["substances"][5].update(screening_cutoffs_ng_ml={"saliva": 10}),
            "substances/5/screening_cutoffs_ng_ml",
        ),
    ],
)
def test_a_broken_panel_names_the_file_and_the_field(change, where):
    data = copy.deepcopy(standard_data())
    change(data)
    with pytest.raises(PanelError) as caught:
        panel_from_mapping(data, "mine.yaml")
    assert any(line.startswith(f"mine.yaml: {where}: ") for line in caught.value.errors)


def test_an_unknown_panel_name_lists_the_built_ins():
    with pytest.raises(PanelError, match="standard-panel"):
        load_panel("no-such-panel")


def test_valid_results_come_back_in_panel_order():
    results = {"alcohol": "negative", "cannabis": "positive", "cocaine": "dilute"}
    assert list(validate_results(PANEL, "urine", results).items()) == [
        ("cannabis", "positive"),
        ("cocaine", "dilute"),
        ("alcohol", "negative"),
    ]


def test_every_problem_with_results_is_reported_by_key():
    results = {"cannabis": "maybe", "ketamine": "negative", "cocaine": "negative"}
    with pytest.raises(PanelResultError) as caught:
        validate_results(PANEL, "urine", results)
    assert set(caught.value.errors) == {"cannabis", "ketamine"}
    assert "unknown result 'maybe'" in caught.value.errors["cannabis"]
    assert "not a substance of panel standard-panel" in caught.value.errors["ketamine"]


def test_sample_type_must_suit_the_panel_and_the_substance():
    with pytest.raises(PanelResultError) as caught:
        validate_results(PANEL, "sweat", {"cannabis": "negative"})
    assert set(caught.value.errors) == {"sample"}
    with pytest.raises(PanelResultError) as caught:
        validate_results(PANEL, "breath", {"alcohol": "negative", "cocaine": "negative"})
    assert caught.value.errors == {
        "cocaine": "cannot be tested in breath (samples: urine, saliva, hair, blood)"
    }


def test_no_results_is_an_error():
    with pytest.raises(PanelResultError) as caught:
        validate_results(PANEL, "urine", {})
    assert set(caught.value.errors) == {"results"}


@pytest.mark.parametrize(
    ("values", "outcome", "strict_outcome"),
    [
        (["negative", "negative"], "negative", "negative"),
        (["negative", "positive"], "positive", "positive"),
        (["positive", "tampered"], "positive", "positive"),
        (["negative", "refused"], "refused_or_tampered", "positive"),
        (["tampered"], "refused_or_tampered", "positive"),
        (["negative", "dilute"], "invalid", "invalid"),
        (["invalid", "refused"], "refused_or_tampered", "positive"),
        (["invalid"], "invalid", "invalid"),
    ],
)
def test_outcome_of_a_whole_test(values, outcome, strict_outcome):
    results = {f"substance{n}": value for n, value in enumerate(values)}
    assert test_outcome(results) == outcome
    assert test_outcome(results, refusal_counts_as_positive=True) == strict_outcome


def test_outcome_needs_known_results():
    with pytest.raises(ValueError, match="at least one"):
        test_outcome({})
    with pytest.raises(ValueError, match="unknown result"):
        test_outcome({"cannabis": "pending"})

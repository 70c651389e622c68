"""The evaluation report, from hand-built results: what it says, and that its HTML is safe to
embed under a strict Content-Security-Policy."""

from __future__ import annotations

import dataclasses
import re
from xml.etree import ElementTree

import pytest

from whatworks.analytics.evaluation import charts
from whatworks.analytics.evaluation.costbenefit import CostBenefitInputs, cost_benefit
from whatworks.analytics.evaluation.report import (
    TEXT,
    naive_sentences,
    render_html,
    render_html_fragment,
    render_pdf,
    report_sections,
    summary_sentences,
    survival_rows,
)
from whatworks.analytics.evaluation.result import (
    BalanceRow,
    EvaluationResult,
    EvaluationSpec,
    Warning_,
)

SPEC = EvaluationSpec(
    treatment="rr",
    covariates=("age", "priors", "employed"),
    outcome="reconvicted_2y",
    treatment_label="completed Razonamiento y Rehabilitación",
    outcome_label="reconvicted within 2 years",
)


def binary_result(**changes) -> EvaluationResult:
    result = EvaluationResult(
        spec=SPEC,
        outcome_type="binary",
        effect_measure="risk_difference",
        estimate=-0.07,
        ci_low=-0.11,
        ci_high=-0.03,
        ci_method="influence",
        treated_value=0.24,
        control_value=0.31,
        n_treated=412,
        n_control=1830,
        n_dropped_missing=17,
        n_unmatched=0,
        n_trimmed=0,
        ess_treated=412.0,
        ess_control=655.4,
        balance=(
            BalanceRow("age", 0.45, 0.02),
            BalanceRow("priors", -0.30, -0.12),
            BalanceRow("employed", 0.05, 0.01),
        ),
        overlap={
            "edges": [0.0, 0.25, 0.5, 0.75, 1.0],
            "treated": [10, 100, 250, 52],
            "control": [900, 700, 200, 30],
        },
        warnings=(),
        evalue={"point": 2.1, "ci": 1.4, "scale": "risk ratio"},
        naive={"estimate": -0.12, "ci_low": -0.16, "ci_high": -0.08},
    )
    return dataclasses.replace(result, **changes)


def tte_result(**changes) -> EvaluationResult:
    spec = EvaluationSpec(
        treatment="fin",
        covariates=("age", "prio"),
        duration="days",
        event="arrest",
        horizons=(365.0, 730.0),
        outcome_label="reoffended",
    )
    fields = {
        "spec": spec,
        "outcome_type": "time_to_event",
        "effect_measure": "hazard_ratio",
        "estimate": 0.78,
        "ci_low": 0.64,
        "ci_high": 0.95,
        "treated_value": 0.80,
        "control_value": 0.74,
        "naive": {"estimate": 0.70},
        "survival": {
            "horizons": [365.0, 730.0],
            "treated": [0.80, 0.66],
            "control": [0.74, 0.58],
            "difference": [0.06, 0.08],
        },
    }
    return binary_result(**{**fields, **changes})


def text_of(page: str) -> str:
    page = re.sub(r"<svg.*?</svg>", " ", page, flags=re.DOTALL)
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.DOTALL)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)).replace("&#x27;", "'")


def test_summary_of_a_binary_att_reads_like_the_brief():
    first, ci = summary_sentences(binary_result())
    assert first == (
        "People who completed Razonamiento y Rehabilitación were reconvicted within 2 years at "
        "24.0% against 31.0% for similar people who did not (difference −7.0 points, 95% CI "
        "−11.0 to −3.0)."
    )
    assert ci.startswith("The 95% confidence interval does not include no difference")


def test_summary_says_when_the_ci_includes_no_difference():
    _, ci = summary_sentences(binary_result(ci_high=0.01))
    assert "includes no difference" in ci
    assert "cannot rule out" in ci


def test_summary_of_an_ate_speaks_of_everyone_and_no_one():
    spec = dataclasses.replace(SPEC, estimand="ate")
    first, _ = summary_sentences(binary_result(spec=spec))
    assert first.startswith("If everyone in the cohort completed Razonamiento y Rehabilitación")
    assert "24.0% would be reconvicted within 2 years; if no one did, 31.0%" in first


def test_summary_of_a_continuous_outcome_uses_its_unit():
    spec = dataclasses.replace(SPEC, outcome="convictions", outcome_label="number of convictions")
    result = binary_result(
        spec=spec,
        outcome_type="continuous",
        effect_measure="mean_difference",
        estimate=-0.4,
        ci_low=-0.7,
        ci_high=-0.1,
        treated_value=1.2,
        control_value=1.6,
    )
    first, _ = summary_sentences(result)
    assert "an average number of convictions of 1.20 against 1.60" in first
    assert "(difference −0.40, 95% CI −0.70 to −0.10)" in first


def test_summary_of_time_to_event_gives_the_hazard_ratio_and_the_horizon():
    sentences = summary_sentences(tte_result())
    assert "hazard ratio 0.78 (95% CI 0.64 to 0.95" in sentences[0]
    assert sentences[1] == "At 365 days, 80.0% against 74.0% had not reoffended."
    assert "does not include no difference (a hazard ratio of 1)" in sentences[2]


def test_summary_without_labels_names_the_columns():
    spec = dataclasses.replace(SPEC, treatment_label="", outcome_label="")
    first, _ = summary_sentences(binary_result(spec=spec))
    assert first.startswith("People who had rr = 1 had reconvicted_2y = 1 at 24.0%")


def test_survival_rows_accept_parallel_lists_and_fall_back_on_the_values():
    assert survival_rows(tte_result())[1] == {
        "horizon": 730.0,
        "treated": 0.66,
        "control": 0.58,
        "difference": 0.08,
    }
    rows = survival_rows(tte_result(survival=None))
    assert rows[0]["horizon"] == 365.0 and rows[0]["treated"] == 0.80


def test_naive_comparison_says_how_much_adjustment_changed():
    sentences = naive_sentences(binary_result())
    assert sentences[0] == (
        "Without adjustment, the comparison gives −12.0 points; after adjustment, −7.0 points."
    )
    assert sentences[1] == "The naive comparison would overstate the benefit by 5.0 points."
    assert "understate" in naive_sentences(binary_result(naive={"estimate": -0.03}))[1]
    assert "opposite" in naive_sentences(binary_result(naive={"estimate": 0.02}))[1]
    assert naive_sentences(binary_result(naive={})) == [TEXT["naive_missing"]]


def test_warnings_come_first_and_prominently():
    warning = Warning_("small_sample", "Only 40 people took part: fewer than 60.")
    sections = report_sections(binary_result(warnings=(warning,)))
    assert sections[0].key == "warnings"
    fragment = render_html_fragment(binary_result(warnings=(warning,)), title="R&R")
    assert re.search(r'<section class="warnings" role="alert"><h2>Warnings</h2>\s*<ul', fragment)
    assert fragment.index("Only 40 people") < fragment.index("People who completed")


def test_report_covers_every_section():
    cb = cost_benefit(binary_result(), 412, CostBenefitInputs(), reps=500, seed=1)
    page = render_html(
        binary_result(
            placebo={"outcome": "prior_fines", "estimate": 0.01, "ci_low": -0.02, "ci_high": 0.04}
        ),
        title="Razonamiento y Rehabilitación",
        definition_text="Reconviction within 2 years of release (MoJ proven reoffending).",
        cohort_text="Releases from 2019 to 2021.",
        cost_benefit=cb,
    )
    text = text_of(page)
    for expected in (
        "Reconviction within 2 years of release",
        "Releases from 2019 to 2021.",
        "average effect on the treated (ATT)",
        "augmented inverse-probability weighting",
        "Left out: missing values 17",
        "Effective sample size, controls 655.4",
        "No unmeasured confounding",
        "(age, priors, employed)",
        "Overlap (positivity)",
        "Consistency",
        "No interference",
        "1 of 3 covariates still have an absolute standardised mean difference (SMD) above "
        "0.1: priors",
        "by a risk ratio of 2.10 each",
        "1.40 to move the confidence interval to include no effect",
        "Placebo check: on prior_fines",
        "includes no difference, as it should",
        "Benefits and costs",
        "illustrative examples",
        "Caveats",
    ):
        assert expected in text, expected
    assert page.count("<svg") == 2
    assert '<tr class="flagged"><th scope="row">priors</th>' in page


def test_evalue_whose_ci_already_includes_no_effect():
    text = text_of(render_html(binary_result(evalue={"point": 1.3, "ci": 1.0}), title="x"))
    assert "the confidence interval already includes no effect" in text


def test_the_fragment_is_safe_under_a_strict_csp():
    result = tte_result(warnings=(Warning_("x", "<script>alert(1)</script>"),))
    fragment = render_html_fragment(result, title="<b>R&R</b>")
    assert "style=" not in fragment
    assert "<style" not in fragment
    assert "<script" not in fragment
    assert "&lt;script&gt;" in fragment
    assert "<html" not in fragment and fragment.startswith('<article class="evaluation-report">')
    page = render_html(result, title="<b>R&R</b>")
    assert page.count("<style>") == 1
    assert "style=" not in page
    assert fragment in page


def test_charts_are_accessible_svg():
    fragment = render_html_fragment(binary_result(), title="R&R")
    for svg in re.findall(r"<svg.*?</svg>", fragment, flags=re.DOTALL):
        root = ElementTree.fromstring(svg)  # noqa: S314 (our own output, not untrusted)
        ns = "{http://www.w3.org/2000/svg}"
        assert root.get("role") == "img"
        assert root.find(f"{ns}title") is not None and root.find(f"{ns}desc") is not None
        ids = root.get("aria-labelledby").split()
        assert [root.find(f"{ns}title").get("id"), root.find(f"{ns}desc").get("id")] == ids
        assert all("style" not in element.attrib for element in root.iter())


def test_love_plot_has_the_threshold_lines_and_two_dots_per_covariate():
    chart = charts.love_plot(binary_result().balance)
    dots = [s for s in chart.shapes if s.kind == "circle" and s.tooltip]
    assert len(dots) == 6
    thresholds = [s for s in chart.shapes if s.cls == "chart-threshold"]
    assert len(thresholds) == 2
    zero = next(s for s in chart.shapes if s.cls == "chart-zero")
    assert thresholds[0].x < zero.x < thresholds[1].x
    assert zero.x - thresholds[0].x == pytest.approx(thresholds[1].x - zero.x)
    assert "1 of 3 covariates" in chart.desc


def test_overlap_plot_shows_shares_with_treated_above_and_controls_below():
    chart = charts.overlap_plot(binary_result().overlap)
    treated = [s for s in chart.shapes if s.cls == "bar-treated" and s.tooltip]
    control = [s for s in chart.shapes if s.cls == "bar-control" and s.tooltip]
    assert len(treated) == 4 and len(control) == 4
    middle = next(s for s in chart.shapes if s.cls == "chart-zero").y
    assert all(s.y + s.h == pytest.approx(middle) for s in treated)
    assert all(s.y == pytest.approx(middle) for s in control)
    assert treated[2].tooltip == "treated 0.50–0.75: 60.7%"
    assert "0.00 to 1.00" in chart.desc


def test_empty_diagnostics_do_not_break_the_report():
    result = binary_result(balance=(), overlap={}, evalue={}, naive={}, treated_value=None)
    text = text_of(render_html(result, title="x"))
    assert TEXT["balance_empty"] in text
    assert TEXT["overlap_empty"] in text
    assert TEXT["evalue_missing"] in text
    assert "The adjusted difference in the share who reconvicted within 2 years" in text


def test_pdf_is_a_pdf_with_the_charts():
    cb = cost_benefit(binary_result(), 412, CostBenefitInputs(), reps=200, seed=1)
    data = render_pdf(
        tte_result(warnings=(Warning_("x", "Few treated."),)),
        title="Razonamiento y Rehabilitación",
        definition_text="Reconviction within 2 years.",
        cost_benefit=cb,
    )
    assert data.startswith(b"%PDF-")
    assert len(data) > 5_000

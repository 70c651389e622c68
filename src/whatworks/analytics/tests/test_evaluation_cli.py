"""`whatworks evaluate` end to end: a small synthetic extract, lifelines' Rossi data (Rossi,
Berk and Lenihan 1980, as shipped by ``lifelines.datasets.load_rossi``), the three formats,
cost-benefit, and bad input (exit status 2, naming the file or the column)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from whatworks.analytics.evaluation.cli import main

RESULT_KEYS = {
    "estimate",
    "ci_low",
    "ci_high",
    "ci_method",
    "estimand",
    "method",
    "outcome_type",
    "effect_measure",
    "treated_value",
    "control_value",
    "n_treated",
    "n_control",
    "n_dropped_missing",
    "n_unmatched",
    "n_trimmed",
    "ess_treated",
    "ess_control",
    "balance",
    "overlap",
    "warnings",
    "evalue",
    "naive",
    "survival",
    "placebo",
    "notes",
    "spec",
}
WHATWORKS = Path(sys.executable).parent / "whatworks"


def run(*args: str, uv: bool = False) -> subprocess.CompletedProcess:
    """The installed console command (as `uv run whatworks` runs it)."""
    if uv:
        command = [shutil.which("uv"), "run", "--no-sync", "whatworks", *args]
    else:
        command = [str(WHATWORKS), *args]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    """600 people; older people with fewer priors take part more often; the programme lowers
    the chance of reconviction by about 8 points."""
    rng = np.random.default_rng(20261127)
    n = 600
    age = rng.integers(18, 60, n)
    priors = rng.poisson(2.0, n)
    logit = -0.5 + 0.03 * (age - 35) - 0.3 * (priors - 2)
    treated = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    risk = 1 / (1 + np.exp(-(-0.6 - 0.02 * (age - 35) + 0.35 * (priors - 2))))
    reconvicted = (rng.random(n) < np.clip(risk - 0.08 * treated, 0, 1)).astype(int)
    earlier = (rng.random(n) < 0.3 + 0.01 * priors).astype(int)
    path = tmp_path_factory.mktemp("evaluate") / "cohort.csv"
    pl.DataFrame(
        {
            "person": [f"P{i:04d}" for i in range(n)],
            "age": age,
            "priors": priors,
            "rr": treated,
            "reconvicted": reconvicted,
            "earlier_fine": earlier,
        }
    ).write_csv(path)
    return path


@pytest.fixture(scope="module")
def rossi(tmp_path_factory) -> Path:
    from lifelines.datasets import load_rossi

    path = tmp_path_factory.mktemp("rossi") / "rossi.csv"
    load_rossi().to_csv(path, index=False)
    return path


ROSSI_ARGS = (
    "--duration",
    "week",
    "--event",
    "arrest",
    "--treatment",
    "fin",
    "--covariates",
    "age,race,wexp,mar,paro,prio",
    "--horizons",
    "26,52",
)


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not on the PATH")
def test_rossi_through_uv_run(rossi):
    completed = run("evaluate", str(rossi), *ROSSI_ARGS, uv=True)
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert set(result) >= RESULT_KEYS
    assert result["effect_measure"] == "hazard_ratio"
    assert result["outcome_type"] == "time_to_event"
    assert (result["n_treated"], result["n_control"]) == (216, 216)
    # Financial aid lowered the hazard of rearrest (Cox: 0.68 in lifelines' documentation).
    assert 0.5 < result["estimate"] < 0.9
    assert result["ci_low"] < result["estimate"] < result["ci_high"]
    assert result["survival"]["horizons"] == [26.0, 52.0]


def test_synthetic_json_with_cost_benefit(synthetic):
    completed = run(
        "evaluate",
        str(synthetic),
        "--treatment",
        "rr",
        "--outcome",
        "reconvicted",
        "--covariates",
        "age,priors",
        "--placebo",
        "earlier_fine",
        "--cost-per-participant",
        "850000",
        "--avoided-cost",
        "prison_days=9000000",
        "--avoided-cost",
        "court=1200000",
        "--cost-benefit-reps",
        "2000",
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert set(result) >= RESULT_KEYS | {"cost_benefit"}
    assert result["effect_measure"] == "risk_difference"
    assert result["placebo"]["outcome"] == "earlier_fine"
    cb = result["cost_benefit"]
    assert set(cb) >= {
        "benefits",
        "costs",
        "net_present_value",
        "benefit_cost_ratio",
        "probability_benefits_exceed_costs",
        "percentiles",
    }
    assert cb["participants"] == result["n_treated"]
    assert cb["inputs"]["avoided_cost_per_reoffence"] == {
        "prison_days": 9000000.0,
        "court": 1200000.0,
    }
    assert cb["costs"] == pytest.approx(850000 * result["n_treated"])


@pytest.mark.parametrize("method", ["ipw", "psm"])
def test_other_methods_and_the_ate(synthetic, capsys, method):
    argv = [str(synthetic), "--treatment", "rr", "--outcome", "reconvicted"]
    argv += ["--covariates", "age,priors", "--method", method, "--estimand", "ate"]
    if method == "psm":
        argv += ["--replacement", "--bootstrap-reps", "50"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["method"], result["estimand"]) == (method, "ate")


def test_html_report_to_a_file(synthetic, tmp_path, capsys):
    out = tmp_path / "report" / "rr.html"
    argv = [str(synthetic), "--treatment", "rr", "--outcome", "reconvicted"]
    argv += ["--covariates", "age,priors", "--format", "html", "--out", str(out)]
    argv += ["--treatment-label", "completed Razonamiento y Rehabilitación"]
    argv += ["--outcome-label", "reconvicted within 2 years", "--title", "R&R evaluation"]
    assert main(argv) == 0
    assert capsys.readouterr().out == ""
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>R&amp;R evaluation</title>" in page
    assert "People who completed Razonamiento y Rehabilitación were reconvicted" in page
    assert page.count("<svg") == 2
    assert "style=" not in page


def test_pdf_report_of_rossi(rossi, tmp_path, capsys):
    out = tmp_path / "rossi.pdf"
    argv = [str(rossi), *ROSSI_ARGS, "--format", "pdf", "--out", str(out)]
    argv += ["--time-unit", "weeks", "--cost-per-participant", "500000"]
    assert main(argv) == 0
    assert out.read_bytes().startswith(b"%PDF-")


def test_pdf_needs_out(synthetic, capsys):
    argv = [str(synthetic), "--treatment", "rr", "--outcome", "reconvicted"]
    assert main([*argv, "--covariates", "age", "--format", "pdf"]) == 2
    assert "--out" in capsys.readouterr().err


def test_a_missing_file_exits_2_naming_it(tmp_path):
    missing = tmp_path / "nowhere.csv"
    completed = run(
        "evaluate", str(missing), "--treatment", "rr", "--outcome", "y", "--covariates", "a"
    )
    assert completed.returncode == 2
    assert completed.stderr.strip() == f"whatworks evaluate: error: {missing}: no such file"
    assert completed.stdout == ""


def test_an_unknown_column_exits_2_naming_it(synthetic, capsys):
    argv = [str(synthetic), "--treatment", "rr", "--outcome", "reconvicted"]
    assert main([*argv, "--covariates", "age,employment"]) == 2
    err = capsys.readouterr().err
    assert err == f"whatworks evaluate: error: {synthetic}: no column 'employment' (--covariates)\n"


def test_data_that_cannot_be_evaluated_exit_2_naming_the_column(synthetic, tmp_path, capsys):
    # A treatment column that is not 0/1.
    frame = pl.read_csv(synthetic).with_columns(pl.col("priors").alias("rr"))
    path = tmp_path / "bad.csv"
    frame.write_csv(path)
    argv = [str(path), "--treatment", "rr", "--outcome", "reconvicted", "--covariates", "age"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "'rr'" in err or "rr" in err.split(":", 2)[-1]
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--outcome", "reconvicted", "--duration", "age", "--event", "rr"], "either --outcome"),
        ([], "give --outcome"),
        (["--outcome", "reconvicted", "--avoided-cost", "court=5"], "--cost-per-participant"),
    ],
)
def test_contradictory_options_exit_2(synthetic, capsys, extra, message):
    argv = [str(synthetic), "--treatment", "rr", "--covariates", "age", *extra]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_bad_option_values_exit_2(synthetic, capsys):
    argv = [str(synthetic), "--treatment", "rr", "--outcome", "reconvicted"]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--covariates", "age", "--trim", "0.7"])
    assert exit_info.value.code == 2
    assert "--trim" in capsys.readouterr().err

"""``whatworks riskmodel fit|score|validate`` (issue 9, docs/riskmodel.md)."""

from __future__ import annotations

import json

import polars as pl
import pytest
from lifelines.datasets import load_rossi

from whatworks.analytics.instruments import load_instrument
from whatworks.analytics.riskmodel.cli import main
from whatworks.manage import main as whatworks

FEATURES = "fin,age,race,wexp,mar,paro,prio"


@pytest.fixture(scope="module")
def rossi() -> pl.DataFrame:
    frame = pl.from_pandas(load_rossi())
    # A text category, as extracts have them: charge degree F/M from the 'paro' column.
    return frame.with_columns(
        degree=pl.when(pl.col("paro") == 1).then(pl.lit("F")).otherwise(pl.lit("M"))
    )


@pytest.fixture(scope="module")
def rossi_csv(rossi, tmp_path_factory):
    path = tmp_path_factory.mktemp("rossi") / "rossi.csv"
    rossi.write_csv(path)
    return path


@pytest.fixture(scope="module")
def fitted(rossi_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("fit") / "out"
    code = whatworks(
        [
            "whatworks",
            "riskmodel",
            "fit",
            str(rossi_csv),
            "--outcome",
            "arrest",
            "--features",
            "fin,age,race,wexp,mar,degree,prio",
            "--group",
            "race",
            "--seed",
            "3",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    return out


def test_fit_writes_a_valid_instrument_metrics_and_a_model_card(fitted):
    instrument = load_instrument(fitted / "instrument.yaml")
    assert instrument.slug == "local-risk-score" and instrument.validated
    metrics = json.loads((fitted / "metrics.json").read_text("utf-8"))
    assert metrics["data"]["n"] == 432 and metrics["data"]["events"] == 114
    assert metrics["settings"]["seed"] == 3
    auc = metrics["metrics"]["auc"]
    assert auc["low"] < auc["value"] < auc["high"] and auc["method"] == "DeLong"
    assert instrument.validation["auc"] == pytest.approx(auc["value"])
    assert 0 < metrics["metrics"]["brier"] < 0.25
    assert [row["group"] for row in metrics["metrics"]["calibration_by_band"]] == [
        band.code for band in instrument.bands
    ]
    for key in ("logistic_auc", "logistic_linear_auc", "gradient_boosting_auc"):
        assert 0.5 < metrics["benchmarks"][key]["value"] < 0.8
    by_race = metrics["metrics"]["by_group"]["race"]
    assert set(by_race) == {"0", "1"}
    assert by_race["1"]["n"] + by_race["0"]["n"] == 432
    assert set(metrics["fairness"]["race"]["by_group"]) == {"0", "1"}
    if "race" in {item["feature"] for item in metrics["items"]}:
        assert "the group column 'race' is also an item" in metrics["metrics"]["warnings"][0]
    card = (fitted / "model-card.html").read_text("utf-8")
    assert card.lstrip().lower().startswith("<!doctype html")
    assert "<script" not in card.lower()
    for item in metrics["items"]:
        assert item["label"] in card


def test_score_adds_score_and_band_matching_the_fit(fitted, rossi_csv, tmp_path, capsys):
    out = tmp_path / "scored.csv"
    instrument = str(fitted / "instrument.yaml")
    code = main(["score", str(rossi_csv), "--instrument", instrument, "--out", str(out)])
    assert code == 0
    scored = pl.read_csv(out)
    assert scored.height == 432 and {"score", "band", "arrest"} <= set(scored.columns)
    metrics = json.loads((fitted / "metrics.json").read_text("utf-8"))
    bands = {band["code"]: band for band in metrics["bands"]}
    for total, band in zip(scored["score"], scored["band"], strict=True):
        assert bands[band]["min"] <= total <= bands[band]["max"]
    assert "432 row(s) scored" in capsys.readouterr().out


def test_validate_reports_the_instrument_on_these_rows(fitted, rossi_csv, tmp_path, capsys):
    args = ["validate", str(rossi_csv), "--instrument", str(fitted / "instrument.yaml")]
    assert main([*args, "--outcome", "arrest", "--group", "race"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 432 and report["instrument"]["slug"] == "local-risk-score"
    assert set(report["by_group"]["race"]) == {"0", "1"}
    html = tmp_path / "validation.html"
    assert main([*args, "--outcome", "arrest", "--format", "html", "--out", str(html)]) == 0
    assert "<style" in html.read_text("utf-8")


def _fails(argv, capsys, *needles):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err
    return err


def test_outcome_that_is_not_zero_one(rossi_csv, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["fit", str(rossi_csv), "--outcome", "week", "--features", FEATURES, "--out", str(out)]
    _fails(argv, capsys, "outcome 'week' must be 0 or 1; found")
    assert not (out / "instrument.yaml").exists()


def test_missing_feature_is_named_with_the_files_columns(rossi_csv, tmp_path, capsys):
    argv = ["fit", str(rossi_csv), "--outcome", "arrest", "--features", "fin,agee"]
    _fails(
        [*argv, "--out", str(tmp_path)],
        capsys,
        "no column 'agee' (--features)",
        "the file's columns are: week, arrest, fin, age",
    )


def test_group_with_one_value(rossi, tmp_path, capsys):
    path = tmp_path / "one-site.parquet"
    rossi.with_columns(site=pl.lit("A")).write_parquet(path)
    argv = ["fit", str(path), "--outcome", "arrest", "--features", FEATURES, "--group", "site"]
    _fails([*argv, "--out", str(tmp_path / "o")], capsys, "group column 'site' has only one value")


def test_too_few_events_per_candidate_item_gives_no_score(rossi, tmp_path, capsys):
    path = tmp_path / "small.csv"
    rossi.head(150).write_csv(path)
    out = tmp_path / "out"
    argv = ["fit", str(path), "--outcome", "arrest", "--features", FEATURES, "--out", str(out)]
    _fails(argv, capsys, "too few events for 7 candidate item(s)", "at least 10 per candidate")
    assert not out.exists()


def test_unreadable_files(tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    _fails(
        ["fit", str(missing), "--outcome", "a", "--features", "b", "--out", str(tmp_path)],
        capsys,
        "nope.csv: no such file",
    )
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    _fails(
        ["fit", str(broken), "--outcome", "a", "--features", "b", "--out", str(tmp_path)],
        capsys,
        "broken.parquet: cannot read the file",
    )
    text = tmp_path / "data.txt"
    text.write_text("a,b\n1,2\n", "utf-8")
    _fails(
        ["fit", str(text), "--outcome", "a", "--features", "b", "--out", str(tmp_path)],
        capsys,
        "unknown file type '.txt'",
    )


def test_score_with_a_bad_instrument_or_row(rossi_csv, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("slug: x\n", "utf-8")
    argv = ["score", str(rossi_csv), "--instrument", str(bad), "--out", str(tmp_path / "s.csv")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "Traceback" not in err

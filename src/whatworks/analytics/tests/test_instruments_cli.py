"""`whatworks instrument` on the command line: output, files and exit codes."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from whatworks.analytics.instruments import load_instrument
from whatworks.analytics.instruments.cli import main
from whatworks.analytics.tests.test_instruments import toy_mapping

BUILTIN = Path(__file__).resolve().parents[1] / "instruments" / "builtin"


def run(*argv: str) -> subprocess.CompletedProcess:
    """The command in a fresh interpreter, to see exit codes and stderr as a user does."""
    return subprocess.run(
        [sys.executable, "-m", "whatworks.analytics.instruments.cli", *argv],
        capture_output=True,
        text=True,
    )


def test_list(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "audit\t1.0\tAlcohol Use Disorders Identification Test (AUDIT)\tvalidated",
        "k6\t1.0\tKessler Psychological Distress Scale (K6)\tvalidated",
        "rnr-screener\t0.1\tWhat Works RNR risk and needs screener\tNOT validated",
    ]


def test_validate_a_valid_file(capsys):
    assert main(["validate", str(BUILTIN / "audit.yaml")]) == 0
    assert "valid (audit 1.0)" in capsys.readouterr().out


def test_validate_an_invalid_file_names_the_field(tmp_path, capsys):
    mapping = toy_mapping()
    del mapping["domains"][0]["name"]["pt-br"]
    mapping["bands"][1]["min"] = 3
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(mapping, allow_unicode=True), "utf-8")
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}: domains/0/name: 'pt-br' is a required property" in err
    # Schema errors come first; the band check runs once the schema is satisfied.
    mapping["domains"][0]["name"]["pt-br"] = "A"
    path.write_text(yaml.safe_dump(mapping, allow_unicode=True), "utf-8")
    assert main(["validate", str(path)]) == 1
    assert f"{path}: bands/1/min: band overlaps the previous one" in capsys.readouterr().err


def test_validate_a_file_that_is_not_yaml(tmp_path, capsys):
    path = tmp_path / "broken.yaml"
    path.write_text("slug: [unclosed", "utf-8")
    assert main(["validate", str(path)]) == 1
    assert "not valid YAML" in capsys.readouterr().err


def test_score_a_list_of_indexes(capsys):
    assert main(["score", "k6", "--answers", "[2, 2, 2, 2, 2, 3]"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {k: result[k] for k in ("instrument", "version", "total", "band", "domains")} == {
        "instrument": "k6",
        "version": "1.0",
        "total": 13,
        "band": "serious_distress",
        "domains": {"distress": 13},
    }


def test_score_an_object_by_item_id_with_sex_and_a_yaml_path(tmp_path, capsys):
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(toy_mapping(), allow_unicode=True), "utf-8")
    answers = json.dumps({"a1": 2, "a2": False, "b1": [], "b2": 0, "s1": False})
    assert main(["score", str(path), "--answers", answers]) == 0
    assert json.loads(capsys.readouterr().out)["band"] == "high"
    assert main(["score", str(path), "--answers", answers, "--sex", "female"]) == 0
    assert json.loads(capsys.readouterr().out)["band"] == "low"


def test_score_audit_through_a_fresh_interpreter():
    completed = run("score", "audit", "--answers", "[4, 4, 4, 2, 0, 0, 0, 0, 1, 2]")
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert (result["total"], result["band"]) == (20, "zone_iv")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["score", "k6", "--answers", "[0, 0, 0, 0, 0, 7]"],
            "item k6_6_worthless: option 7 is out",
        ),
        (["score", "k6", "--answers", "[0, 0]"], "missing answers for item(s): k6_3_restless"),
        (["score", "k6", "--answers", '{"k6_9": 1}'], "unknown item id(s): k6_9"),
        (["score", "k6", "--answers", "[0, 0, 0"], "--answers is not valid JSON"),
        (["score", "k6", "--answers", "3"], "--answers must be a JSON list or a JSON object"),
        (["score", "nope", "--answers", "[]"], "unknown instrument 'nope'"),
        (["score", "k6", "--answers", "[]", "--sex", "x"], "invalid choice: 'x'"),
    ],
)
def test_bad_scoring_input_exits_2_without_a_traceback(argv, message):
    completed = run(*argv)
    assert completed.returncode == 2
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr


def test_allow_incomplete(capsys):
    assert main(["score", "k6", "--answers", "[0, 0]", "--allow-incomplete"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["total"] is None and len(result["missing"]) == 4


def test_score_csv(tmp_path, capsys):
    rows = tmp_path / "answers.csv"
    rows.write_text(
        "id,sex,audit_1,audit_2,audit_3,audit_4,audit_5,audit_6,audit_7,audit_8,audit_9,audit_10\n"
        "p1,male,1,1,1,1,1,1,1,0,0,0\n"
        "p2,,4,4,4,2,0,0,0,0,1,2\n"
        "p3,female,0,0,0,0,0,0,0,0,0,0\n",
        "utf-8",
    )
    out = tmp_path / "scores.csv"
    assert main(["score-csv", "audit", str(rows), "--out", str(out)]) == 0
    assert "3 row(s) scored" in capsys.readouterr().out
    assert out.read_text("utf-8").splitlines() == [
        "id,instrument,version,total,band,hazardous_use,dependence,harmful_use",
        "p1,audit,1.0,7,zone_i,3,3,1",
        "p2,audit,1.0,20,zone_iv,12,2,6",
        "p3,audit,1.0,0,zone_i,0,0,0",
    ]


def test_score_csv_with_yes_no_text_and_strength_columns(tmp_path):
    rnr_items = load_instrument("rnr-screener").items
    header = [item.id for item in rnr_items]
    values = ["0" if item.options else "no" if item.type == "yes_no" else "" for item in rnr_items]
    values[header.index("ch_prior_convictions")] = "2"
    values[header.index("str_housing")] = "yes"
    rows = tmp_path / "rnr.csv"
    rows.write_text(",".join(header) + "\n" + ",".join(values) + "\n", "utf-8")
    out = tmp_path / "scores.csv"
    assert main(["score-csv", "rnr-screener", str(rows), "--out", str(out)]) == 0
    lines = out.read_text("utf-8").splitlines()
    assert lines[0].startswith("instrument,version,total,band,criminal_history,")
    assert lines[0].endswith(",substance_abuse,strengths")
    assert lines[1].startswith("rnr-screener,0.1,4,low,2,")
    assert lines[1].endswith(",0,1")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("p2,2,2,2,2,2,9", "row 3: item k6_6_worthless: option 9 is out of range"),
        ("p2,2,2,2,2,two,2", "row 3: item k6_5_effort: cannot read 'two' as an answer"),
        ("p2,2,2,2,2,2,", "row 3: missing answers for item(s): k6_6_worthless"),
    ],
)
def test_score_csv_bad_row_exits_2_and_writes_nothing(tmp_path, row, message):
    header = "id,k6_1_nervous,k6_2_hopeless,k6_3_restless,k6_4_depressed,k6_5_effort,k6_6_worthless"
    rows = tmp_path / "k6.csv"
    rows.write_text(f"{header}\np1,0,0,0,0,0,0\n{row}\n", "utf-8")
    out = tmp_path / "scores.csv"
    completed = run("score-csv", "k6", str(rows), "--out", str(out))
    assert completed.returncode == 2
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr
    assert not out.exists()


def test_score_csv_unknown_column_and_missing_file(tmp_path, capsys):
    rows = tmp_path / "k6.csv"
    rows.write_text("id,k6_1_nervous,k6_9\np1,0,0\n", "utf-8")
    out = tmp_path / "out.csv"
    assert main(["score-csv", "k6", str(rows), "--out", str(out)]) == 2
    assert "unknown item id column(s): k6_9" in capsys.readouterr().err
    assert main(["score-csv", "k6", str(tmp_path / "none.csv"), "--out", str(out)]) == 2
    assert "cannot read the file" in capsys.readouterr().err
    assert not out.exists()


def test_score_csv_bad_sex(tmp_path, capsys):
    rows = tmp_path / "k6.csv"
    rows.write_text(
        "sex,k6_1_nervous,k6_2_hopeless,k6_3_restless,k6_4_depressed,k6_5_effort,k6_6_worthless\n"
        "other,0,0,0,0,0,0\n",
        "utf-8",
    )
    assert main(["score-csv", "k6", str(rows), "--out", str(tmp_path / "o.csv")]) == 2
    assert "row 2: sex: expected male or female, got 'other'" in capsys.readouterr().err


def test_documented_example(capsys):
    text = (Path(__file__).resolve().parents[4] / "docs" / "instruments.md").read_text("utf-8")
    command = re.search(r"```sh\n(whatworks instrument .*?)\n```", text).group(1)
    expected = json.loads(re.search(r"```json\n(.*?)```", text, flags=re.DOTALL).group(1))
    argv = shlex.split(command)
    assert argv[:2] == ["whatworks", "instrument"]
    assert main(argv[2:]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {key: result[key] for key in expected} == expected

"""`whatworks recidivism` on files: the documented example, formats and bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from whatworks.analytics.recidivism.cli import main

DOC = Path(__file__).resolve().parents[4] / "docs" / "recidivism.md"


def documented_example() -> tuple[dict[str, str], str, str]:
    text = DOC.read_text(encoding="utf-8")
    files = dict(re.findall(r"```csv (\S+)\n(.*?)```", text, flags=re.DOTALL))
    command = re.search(r"```sh\n(whatworks recidivism .*?)\n```", text).group(1)
    expected = re.search(r"```text expected-output\n(.*?)```", text, flags=re.DOTALL).group(1)
    return files, command, expected


@pytest.fixture
def example(tmp_path, monkeypatch):
    files, _, _ = documented_example()
    for name, content in files.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_documented_example(example, capsys):
    _, command, expected = documented_example()
    argv = command.split()
    assert argv[:2] == ["whatworks", "recidivism"]
    assert main(argv[2:]) == 0
    assert capsys.readouterr().out == expected


def test_documented_example_through_the_console_entry_point(example):
    _, command, expected = documented_example()
    output = subprocess.run(
        [sys.executable, "-m", "whatworks.manage", *command.split()[1:]],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert output == expected


def test_json_output_shape(example, capsys):
    assert main(["--releases", "releases.csv", "--events", "events.csv", "--by", "facility"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) >= {"windows", "groups", "excluded", "definition", "km"}
    window = result["windows"][0]
    # Default suppression: 4 eligible and 2 recidivists are small counts.
    assert window == {
        "years": 3,
        "eligible": None,
        "recidivists": None,
        "rate": None,
        "ci_low": None,
        "ci_high": None,
        "suppressed": True,
    }
    assert result["groups"][0]["by"] == {"facility": "North"}
    assert result["excluded"]["death"] == 1
    assert result["definition"]["name"].startswith("Reconviction within 3 years")
    assert set(result["km"]) == {"times", "survival", "ci_low", "ci_high", "median_days"}
    assert result["km"]["times"][0] == 0


def test_parquet_map_windows_followup_end_and_html(tmp_path, capsys):
    pl.DataFrame(
        {
            "episode_key": ["A", "B", "C"],
            "prison_number": ["1", "2", "3"],
            "release_date": ["2020-01-01", "2020-01-01", "2020-01-01"],
            "release_type": ["parole", "parole", "other"],
        }
    ).write_parquet(tmp_path / "rel.parquet")
    pl.DataFrame(
        {
            "prison_number": ["1", "3"],
            "event_type": ["rearrest", "rearrest"],
            "event_date": ["2020-06-01", "2020-06-01"],
        }
    ).write_csv(tmp_path / "ev.csv")
    out = tmp_path / "report.html"
    args = [
        "--releases",
        str(tmp_path / "rel.parquet"),
        "--events",
        str(tmp_path / "ev.csv"),
        "--map",
        "episode_key=release_id,prison_number=person_id",
        "--definition",
        "reincarceration-1-2-3y",
        "--event-types",
        "rearrest,technical_violation",
        "--windows",
        "1,2",
        "--followup-end",
        "2025-01-01",
        "--min-cell",
        "0",
    ]
    assert main([*args, "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [(w["years"], w["eligible"], w["recidivists"]) for w in result["windows"]] == [
        (1, 3, 2),
        (2, 3, 2),
    ]
    assert result["definition"]["modified"] == ["windows_years", "event_types"]
    html_args = [*args, "--format", "html", "--out", str(out), "--compare-technical-violations"]
    assert main(html_args) == 0
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html
    assert "<link" not in html and "<script" not in html and "src=" not in html
    assert "with technical violations" in html


def test_round_and_csv_comment(example, capsys):
    assert main(["--releases", "releases.csv", "--events", "events.csv", "--format", "csv",
                 "--min-cell", "0", "--round", "5"]) == 0  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("# Reconviction within 3 years")
    assert lines[2].startswith("overall,3,5,0,0.5")  # 4 -> 5 and 2 -> 0; rate unrounded


@pytest.mark.parametrize(
    ("releases", "events", "message"),
    [
        (
            "release_id,person_id,release_date,release_type\nR1,P1,2020-01-01,parole\n",
            "person_id,event_type,event_date\n",
            "releases.csv: missing column(s) 'followup_end_date'",
        ),
        (
            "release_id,person_id,release_date,release_type,followup_end_date\n"
            "R1,P1,2020-01-01,parole,2025-01-01\nR2,P2,01/02/2020,parole,2025-01-01\n",
            "person_id,event_type,event_date\n",
            "releases.csv, column 'release_date', row 2: cannot read '01/02/2020' as a date",
        ),
        (
            "release_id,person_id,release_date,release_type,followup_end_date\n"
            "R1,P1,2020-01-01,parole,2025-01-01\n",
            "person_id,event_type,event_date\nP1,rearrest,2020-02-01\nP7,rearrest,2020-02-01\n",
            "events.csv, column 'person_id', row 2: person 'P7' has no release in releases.csv",
        ),
        (
            "release_id,person_id,release_date,release_type,followup_end_date\n"
            "R1,P1,2020-01-01,parole,2025-01-01\nR1,P2,2020-01-01,parole,2025-01-01\n",
            "person_id,event_type,event_date\n",
            "releases.csv, column 'release_id', rows 1, 2: release ID 'R1' appears more",
        ),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(tmp_path, monkeypatch, releases, events, message):
    monkeypatch.chdir(tmp_path)
    Path("releases.csv").write_text(releases)
    Path("events.csv").write_text(events)
    completed = subprocess.run(
        [sys.executable, "-m", "whatworks.manage", "recidivism",
         "--releases", "releases.csv", "--events", "events.csv"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert completed.returncode == 2
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr


def test_unknown_definition_and_missing_file_exit_2(example, capsys):
    base = ["--releases", "releases.csv", "--events", "events.csv"]
    assert main([*base, "--definition", "nope"]) == 2
    assert "unknown definition 'nope'" in capsys.readouterr().err
    assert main(["--releases", "missing.csv", "--events", "events.csv"]) == 2
    assert "missing.csv: no such file" in capsys.readouterr().err


def test_list_definitions(capsys):
    assert main(["--list-definitions"]) == 0
    assert "reconviction-3y-chile (version 1.0)" in capsys.readouterr().out

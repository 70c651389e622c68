"""Write a simulated service to disk: CSV and Parquet per table, plus ground_truth.json."""

from __future__ import annotations

import json
from pathlib import Path

from whatworks.analytics.simulation.extracts import noisy_extracts
from whatworks.analytics.simulation.model import SimulatedService

TABLES = (
    "facilities",
    "persons",
    "custody_episodes",
    "movements",
    "outcome_events",
    "person_truth",
    "assessments",
    "programmes",
    "programme_groups",
    "programme_sessions",
    "programme_referrals",
    "programme_attendance",
    "disciplinary_faults",
    "drug_tests",
    "release_arrangements",
    "followup_contacts",
)


def write_extract(service: SimulatedService, out_dir: str | Path) -> list[Path]:
    """Write ``<table>.csv`` and ``<table>.parquet`` for the 16 tables and ``ground_truth.json``.

    CSV files are UTF-8 with a header row, ISO dates, and empty fields for nulls. The
    directory is created if needed and existing files are overwritten. Returns the paths
    written, in a stable order.
    """
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    tables = service.tables()
    for name in TABLES:
        frame = tables[name]
        csv_path = directory / f"{name}.csv"
        frame.write_csv(csv_path)
        parquet_path = directory / f"{name}.parquet"
        frame.write_parquet(parquet_path, statistics=False)
        written += [csv_path, parquet_path]
    truth_path = directory / "ground_truth.json"
    text = json.dumps(service.ground_truth, indent=2, sort_keys=True, ensure_ascii=False)
    truth_path.write_text(text + "\n", encoding="utf-8")
    written.append(truth_path)
    # Noisy police and court extracts with their true links (CSV only), for linkage tests.
    extracts = noisy_extracts(tables["persons"], tables["outcome_events"], seed=service.config.seed)
    for name in ("extract_police", "extract_court", "extract_links"):
        extract_path = directory / f"{name}.csv"
        extracts[name].write_csv(extract_path)
        written.append(extract_path)
    return written

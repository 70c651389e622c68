"""``whatworks simulate``: write a synthetic prison-service extract to a folder."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from whatworks.analytics.argtypes import iso_date, non_negative_int, positive_int
from whatworks.analytics.simulation.config import COUNTRIES, SimulationConfig
from whatworks.analytics.simulation.model import SimulatedService, simulate
from whatworks.analytics.simulation.writer import write_extract


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="whatworks simulate",
        description=(
            "Simulate a prison service (persons, custody episodes, movements, outcomes after "
            "release, assessments, rehabilitation programmes, drug tests) with a known ground "
            "truth, and write it as CSV and Parquet."
        ),
    )
    parser.add_argument("--persons", type=positive_int, required=True, help="number of persons")
    parser.add_argument("--seed", type=non_negative_int, required=True, help="random seed")
    parser.add_argument("--out", type=Path, required=True, help="output folder (created)")
    parser.add_argument(
        "--extract-date", type=iso_date, help="date of the extract, YYYY-MM-DD (default 2026-06-30)"
    )
    parser.add_argument(
        "--history-years", type=positive_int, help="years of admissions before the extract (5)"
    )
    parser.add_argument("--country", choices=COUNTRIES, help="country profile (CL)")
    parser.add_argument(
        "--config",
        type=Path,
        help="JSON file of SimulationConfig overrides; the flags above take precedence",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``whatworks simulate``; returns the exit code (2 for bad arguments)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["simulate"]:
        arguments = arguments[1:]
    parser = build_parser()
    options = parser.parse_args(arguments)
    overrides: dict[str, Any] = {}
    if options.config is not None:
        try:
            loaded = json.loads(options.config.read_text(encoding="utf-8"))
        except OSError as error:
            parser.error(f"--config: cannot read {options.config}: {error.strerror}")
        except json.JSONDecodeError as error:
            parser.error(f"--config: {options.config} is not valid JSON: {error}")
        if not isinstance(loaded, dict):
            parser.error(f"--config: {options.config} must hold a JSON object")
        overrides.update(loaded)
    flags = {
        "persons": options.persons,
        "seed": options.seed,
        "extract_date": options.extract_date,
        "history_years": options.history_years,
        "country": options.country,
    }
    overrides.update({key: value for key, value in flags.items() if value is not None})
    try:
        config = SimulationConfig.from_overrides(overrides)
    except ValueError as error:
        parser.error(str(error))
    service = simulate(config)
    try:
        written = write_extract(service, options.out)
    except OSError as error:
        parser.error(f"--out: cannot write to {options.out}: {error.strerror}")
    print(summary(service, options.out, files=len(written)))
    return 0


def summary(service: SimulatedService, out_dir: Path, *, files: int) -> str:
    """One paragraph describing what was written."""
    truth = service.ground_truth
    counts = truth["counts"]
    rates = truth["realised"]["reconviction_rate_3y"]
    closed = rates["closed"]
    lighter = rates["semi_open_or_open"]

    def rate(figure: dict[str, Any]) -> str:
        if figure["rate"] is None:
            return "not measurable (no release with 3 years of follow-up)"
        return f"{figure['rate']:.1%} of {figure['releases']:,} releases"

    in_custody = service.custody_episodes.filter(
        service.custody_episodes["release_date"].is_null()
    ).height
    config = service.config
    statuses = service.programme_referrals["status"]
    completions = int((statuses == "completed").sum())
    waitlisted = int((statuses == "waitlisted").sum())
    drugs = truth["drug_tests"]
    positivity = drugs["realised_positivity"]["any_substance"]
    shares = drugs["co_occurrence"]

    def share(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1%}"

    drug_line = (
        f"{counts['drug_tests']:,} drug tests ({share(positivity)} positive for any substance). "
        f"Co-occurrence: {share(shares['substance_need_share'])} with a substance need, "
        f"{share(shares['mental_health_need_share'])} with a mental-health need, "
        f"{share(shares['both_share'])} both "
        f"({share(shares['substance_given_mental_health'])} of those with a mental-health need). "
    )
    reintegration_line = ""
    arrangements = service.release_arrangements
    if arrangements.height:
        contacts = service.followup_contacts
        reintegration_line = (
            f"{arrangements.height:,} releases with arrangements "
            f"({arrangements['accommodation_stable'].mean():.0%} with stable accommodation, "
            f"{(arrangements['employment_offer'] == 'job').mean():.0%} with a job offer) and "
            f"{contacts.height:,} follow-up contacts "
            f"({(contacts['status'] == 'missed').mean():.0%} missed). "
        )
    return (
        f"Simulated {counts['persons']:,} persons ({config.country}, seed {config.seed}, extract "
        f"{config.extract_date.isoformat()}, {config.history_years} years of history) in "
        f"{counts['facilities']} facilities: {counts['custody_episodes']:,} custody episodes "
        f"({in_custody:,} still in custody), {counts['movements']:,} movements and "
        f"{counts['outcome_events']:,} outcome events, {counts['assessments']:,} assessments, "
        f"{counts['programme_referrals']:,} programme referrals ({completions:,} completed, "
        f"{waitlisted:,} on a waiting list at the extract date) in "
        f"{counts['programme_groups']:,} groups with {counts['programme_attendance']:,} "
        f"attendance records, {counts['disciplinary_faults']:,} disciplinary faults, "
        f"{drug_line}"
        f"{reintegration_line}"
        f"Realised 3-year reconviction: "
        f"{rate(closed)} from closed facilities (target "
        f"{config.target_reconviction_rate_3y:.1%}), {rate(lighter)} from semi-open or open "
        f"facilities. Wrote {files} files to {out_dir}, noisy police and court extracts "
        f"with their true links among them."
    )


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

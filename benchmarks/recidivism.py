"""Speed and memory of `whatworks recidivism` against a plain pandas computation.

Generates synthetic extracts (releases and 5 events per release, as Parquet), runs the CLI
for windows 1, 2 and 3 by facility, and runs a straightforward pandas merge-and-groupby of
the same table in its own process. Both are timed (wall clock) and their peak memory read
from the operating system (max RSS of the child process). The two must agree on the counts.

Goal (issue 3): 1,000,000 releases and 5,000,000 events in at most 60 s and 4 GB, and at
least twice as fast as pandas.

    uv run python benchmarks/recidivism.py [--sizes 10000,100000,1000000]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

FOLLOWUP_END = datetime.date(2025, 12, 31)
EVENT_TYPES = ["rearrest", "charge", "reconviction", "reincarceration", "technical_violation"]
RELEASE_TYPES = ["end_of_sentence", "parole", "pardon", "other", "death", "transfer", "escape"]
RELEASE_TYPE_SHARES = [0.55, 0.33, 0.02, 0.03, 0.02, 0.03, 0.02]
WINDOWS = (1, 2, 3)


def generate(releases: int, directory: Path, seed: int = 1) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    persons = max(1, int(releases * 0.7))  # some people are released more than once
    events = releases * 5
    start = np.datetime64("2012-01-01")
    release_dates = start + rng.integers(0, 365 * 13, releases).astype("timedelta64[D]")
    releases_frame = pl.DataFrame(
        {
            "release_id": np.arange(releases).astype(str),
            "person_id": rng.integers(0, persons, releases).astype(str),
            "release_date": release_dates,
            "release_type": rng.choice(RELEASE_TYPES, releases, p=RELEASE_TYPE_SHARES),
            "followup_end_date": np.full(releases, np.datetime64(FOLLOWUP_END)),
            "facility": np.char.add("F", rng.integers(0, 50, releases).astype(str)),
        }
    ).with_columns(pl.col("release_date").cast(pl.Date), pl.col("followup_end_date").cast(pl.Date))
    event_dates = start + rng.integers(-365, 365 * 14, events).astype("timedelta64[D]")
    events_frame = pl.DataFrame(
        {
            "person_id": rng.integers(0, persons, events).astype(str),
            "event_type": rng.choice(EVENT_TYPES, events),
            "event_date": event_dates,
        }
    ).with_columns(pl.col("event_date").cast(pl.Date))
    releases_path = directory / f"releases_{releases}.parquet"
    events_path = directory / f"events_{releases}.parquet"
    releases_frame.write_parquet(releases_path)
    events_frame.write_parquet(events_path)
    return releases_path, events_path


def run_measured(command: list[str]) -> tuple[float, float, str]:
    """Run a command; return wall seconds, its peak memory in MB and its standard output."""
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True)  # noqa: S603
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(command[:4])} failed:\n{stderr.read()}")
        return elapsed, usage.ru_maxrss / 1024, stdout.read()


def pandas_baseline(releases_path: str, events_path: str) -> dict:
    """The straightforward computation: merge every release with its person's events."""
    import pandas as pd

    def read(path: str) -> pd.DataFrame:
        # pandas' own Parquet reader needs pyarrow, which the project does not install;
        # reading through Polars into NumPy columns costs about the same.
        frame = pl.read_parquet(path)
        return pd.DataFrame({column: frame[column].to_numpy() for column in frame.columns})

    releases = read(releases_path)
    events = read(events_path)
    # The default definition (Chile, 3-year reconviction) follows up these release types.
    releases = releases[releases["release_type"].isin(["end_of_sentence", "parole", "pardon"])]
    events = events[events["event_type"] == "reconviction"]
    releases["release_date"] = pd.to_datetime(releases["release_date"])
    releases["followup_end_date"] = pd.to_datetime(releases["followup_end_date"])
    events["event_date"] = pd.to_datetime(events["event_date"])
    merged = releases.merge(events, on="person_id", how="left")
    result = {}
    for years in WINDOWS:
        window_end = merged["release_date"] + pd.DateOffset(years=years)
        merged["hit"] = (merged["event_date"] > merged["release_date"]) & (
            merged["event_date"] <= window_end
        )
        per_release = merged.groupby("release_id").agg(
            facility=("facility", "first"), hit=("hit", "any")
        )
        per_release = per_release.join(
            releases.set_index("release_id")[["release_date", "followup_end_date"]]
        )
        per_release["eligible"] = per_release["followup_end_date"] >= (
            per_release["release_date"] + pd.DateOffset(years=years)
        )
        eligible = per_release[per_release["eligible"]]
        by_facility = eligible.groupby("facility")["hit"].agg(["size", "sum"])
        result[str(years)] = {
            "eligible": int(eligible.shape[0]),
            "recidivists": int(eligible["hit"].sum()),
            "facilities": len(by_facility),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--skip-pandas-above", type=int, default=10_000_000)
    parser.add_argument("--pandas-baseline", nargs=2, metavar=("RELEASES", "EVENTS"))
    args = parser.parse_args()
    if args.pandas_baseline:
        print(json.dumps(pandas_baseline(*args.pandas_baseline)))
        return

    rows = []
    with tempfile.TemporaryDirectory(prefix="whatworks-recidivism-bench-") as folder:
        for size in [int(part) for part in args.sizes.split(",")]:
            releases_path, events_path = generate(size, Path(folder))
            out = Path(folder) / f"result_{size}.json"
            cli_seconds, cli_mb, _ = run_measured(
                [
                    sys.executable,
                    "-m",
                    "whatworks.manage",
                    "recidivism",
                    "--releases",
                    str(releases_path),
                    "--events",
                    str(events_path),
                    "--windows",
                    "1,2,3",
                    "--by",
                    "facility",
                    "--format",
                    "json",
                    "--out",
                    str(out),
                    # The generator draws events for people who were never released.
                    "--allow-unknown-people",
                ]
            )
            ours = {str(w["years"]): w for w in json.loads(out.read_text())["windows"]}
            row = {
                "releases": size,
                "events": size * 5,
                "cli_seconds": cli_seconds,
                "cli_mb": cli_mb,
            }
            if size <= args.skip_pandas_above:
                pandas_seconds, pandas_mb, output = run_measured(
                    [
                        sys.executable,
                        __file__,
                        "--pandas-baseline",
                        str(releases_path),
                        str(events_path),
                    ]
                )
                theirs = json.loads(output)
                for years in map(str, WINDOWS):
                    assert (ours[years]["eligible"], ours[years]["recidivists"]) == (
                        theirs[years]["eligible"],
                        theirs[years]["recidivists"],
                    ), f"window {years}: CLI {ours[years]} != pandas {theirs[years]}"
                row.update(
                    pandas_seconds=pandas_seconds,
                    pandas_mb=pandas_mb,
                    speedup=pandas_seconds / cli_seconds,
                )
            rows.append(row)
            print(json.dumps(row))
    print()
    print("| releases | events | CLI s | CLI peak MB | pandas s | pandas peak MB | speed-up |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['releases']:,} | {row['events']:,} | {row['cli_seconds']:.1f} | "
            f"{row['cli_mb']:.0f} | {row.get('pandas_seconds', float('nan')):.1f} | "
            f"{row.get('pandas_mb', float('nan')):.0f} | {row.get('speedup', float('nan')):.1f}× |"
        )


if __name__ == "__main__":
    main()

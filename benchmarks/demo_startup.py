"""Time from `whatworks demo` on an empty data folder to the first 200 from /healthz.

Target (issue 2): at most 60 s on a 2-core machine, for the default 2,000 persons.

    uv run python benchmarks/demo_startup.py [--persons 2000] [--runs 3]

Prints one line per run and the median. Uses a fresh temporary data folder (SQLite) per run,
so it measures a first start: migrate, simulate, load, create accounts, serve.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def one_run(persons: int) -> float:
    with tempfile.TemporaryDirectory(prefix="whatworks-bench-") as data_dir:
        env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL"}}
        env["WHATWORKS_DATA_DIR"] = data_dir
        port = free_port()
        started = time.monotonic()
        server = subprocess.Popen(  # noqa: S603 - our own command
            [
                sys.executable,
                "-m",
                "whatworks.manage",
                "demo",
                "--persons",
                str(persons),
                "--port",
                str(port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                if server.poll() is not None:
                    raise SystemExit("the demo exited before serving")
                try:
                    with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/healthz", timeout=2
                    ) as response:
                        if response.status == 200:
                            return time.monotonic() - started
                except OSError:
                    time.sleep(0.1)
        finally:
            server.terminate()
            server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times = []
    for run in range(1, args.runs + 1):
        seconds = one_run(args.persons)
        times.append(seconds)
        print(f"run {run}: {seconds:.1f} s to serving ({args.persons} persons)")
    print(f"median: {statistics.median(times):.1f} s (target <= 60 s)")


if __name__ == "__main__":
    main()

# Our own commands on loopback, and scratch paths under /tmp for a throwaway cluster:
# ruff: noqa: S108, S310, S603, S607
"""End-to-end load test: fresh PostgreSQL, 100,000 persons, `whatworks serve`, locust.

    uv run --group load python benchmarks/load/run.py --pg-port 55434

Steps: initdb a PostgreSQL cluster under --pg-root (as the postgres user when run as root)
and start it on --pg-port; create the role and database; `whatworks migrate`; seed
(benchmarks/load/seed.py); create an administrator and a case manager bound to the largest
facility (`whatworks staff create`) with an API token each (`whatworks token create`);
start `whatworks serve` in production settings (DEBUG off, SECRET_KEY set, plain HTTP on
loopback); run locust headless (benchmarks/load/locustfile.py) with --users users for
--run-time; print p50/p90/p99 per endpoint, the failures and p90(person endpoint) /
p90(/healthz); stop the server and the database (the cluster stays for --reuse unless
--clean). Exits 1 when there is any failure or a person endpoint's p90 exceeds --max-ratio
times that of /healthz.

--reuse skips initdb, migrate and seeding when the cluster already holds the data.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ENDPOINTS = ("GET /api/v1/persons", "GET /api/v1/persons/{id}")
HEALTHZ = "GET /healthz"

EXPORT_IDS = """
import json, random
from whatworks.records.models import Facility, Person
random.seed(1)
all_ids = list(Person.objects.values_list("id", flat=True))
facility = Facility.objects.filter(code={code!r}).get()
own = list(Person.objects.filter(current_facility=facility).values_list("id", flat=True))
rows = Person.objects.filter(pk__in=random.sample(all_ids, min(100, len(all_ids))))
terms = [term for row in rows for term in (row.last_names.split()[0], row.prison_number)]
print(json.dumps({{"all": random.sample(all_ids, min(5000, len(all_ids))),
                  "facility": random.sample(own, min(5000, len(own))),
                  "terms": terms}}))
"""


def log(message: str) -> None:
    print(f"[load {time.strftime('%H:%M:%S')}] {message}", flush=True)


def pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise SystemExit("PostgreSQL server binaries (initdb, pg_ctl) not found.")


def as_postgres(command: list[str]) -> list[str]:
    """Run PostgreSQL's server tools as the postgres user when we are root (initdb refuses)."""
    if os.geteuid() == 0:
        return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(command)]
    return command


def pg_start(root: Path, port: int) -> bool:
    """Start the cluster, creating it first if needed. True when it was created now."""
    binaries = pg_bin()
    data = root / "data"
    created = False
    if not data.exists():
        root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
        subprocess.run(
            as_postgres(
                [
                    str(binaries / "initdb"),
                    "-D",
                    str(data),
                    "--auth=trust",
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    ">/dev/null",
                ]
            ),
            check=True,
        )
        created = True
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=200"
    subprocess.run(
        as_postgres(
            [
                str(binaries / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                f"'{options}'",
                "-l",
                str(root / "log"),
                "-w",
                "start",
                ">/dev/null",
            ]
        ),
        check=True,
    )
    if created:
        psql = [
            str(binaries / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-q",
            "-c",
        ]
        subprocess.run(
            [*psql, "CREATE ROLE whatworks LOGIN CREATEDB PASSWORD 'whatworks';"], check=True
        )
        subprocess.run([*psql, "CREATE DATABASE whatworks OWNER whatworks;"], check=True)
    return created


def pg_stop(root: Path) -> None:
    subprocess.run(
        as_postgres(
            [
                str(pg_bin() / "pg_ctl"),
                "-D",
                str(root / "data"),
                "-m",
                "fast",
                "-w",
                "stop",
                ">/dev/null",
            ]
        ),
        check=False,
    )


def whatworks(env: dict, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        ["uv", "run", "--group", "load", "whatworks", *args],
        cwd=REPO,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"whatworks {args[0]} failed")
    return result.stdout


def wait_for(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("whatworks serve exited during start-up")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def read_stats(prefix: Path) -> dict[str, dict]:
    if not Path(f"{prefix}_stats.csv").exists():
        raise SystemExit(f"locust wrote no {prefix}_stats.csv: see its output above.")
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        rows = {f"{row['Type']} {row['Name']}": row for row in csv.DictReader(handle)}
    stats = {}
    for name, row in rows.items():
        if name.startswith("GET "):
            stats[name] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p50": float(row["50%"]),
                "p90": float(row["90%"]),
                "p99": float(row["99%"]),
            }
    return stats


def probe(base: str, config: dict, rounds: int) -> dict[str, float]:
    """Median latency of each endpoint with one client and nothing else running on the
    server: the cost of a request itself, without queueing."""
    admin = config["accounts"][0]
    auth = {"Authorization": f"Bearer {admin['token']}"}
    paths = {
        "/healthz": lambda i: "/healthz",
        "/api/v1/persons": lambda i: f"/api/v1/persons?page={i % config['list_pages'] + 1}",
        "/api/v1/persons/{id}": lambda i: f"/api/v1/persons/{admin['person_ids'][i]}",
    }
    medians = {}
    for name, path in paths.items():
        timings = []
        for i in range(rounds):
            request = urllib.request.Request(base + path(i), headers=auth)
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
            timings.append((time.perf_counter() - started) * 1000)
        medians[name] = statistics.median(timings[rounds // 5 :])  # first fifth: warm-up
    return medians


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-port", type=int, default=55434)
    parser.add_argument("--pg-root", type=Path, default=Path("/tmp/whatworks-load-pg"))
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--run-time", default="60s")
    parser.add_argument("--port", type=int, default=8765, help="Port for whatworks serve.")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads.")
    parser.add_argument("--list-pages", type=int, default=20)
    parser.add_argument("--probe-rounds", type=int, default=100)
    parser.add_argument("--max-ratio", type=float, default=3.0)
    parser.add_argument("--csv", type=Path, default=Path("/tmp/whatworks-load"))
    parser.add_argument("--reuse", action="store_true", help="Keep an existing seeded cluster.")
    parser.add_argument("--clean", action="store_true", help="Remove the cluster at the end.")
    parser.add_argument(
        "--src",
        type=Path,
        help="Run the code of another tree (its src/ first on PYTHONPATH), e.g. a commit "
        "exported with `git archive <commit> src | tar -x -C DIR`, for before/after figures "
        "or to measure a commit while the working tree is being edited.",
    )
    args = parser.parse_args(argv)

    if not args.reuse and args.pg_root.exists():
        raise SystemExit(f"{args.pg_root} exists: remove it, or pass --reuse.")
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://whatworks:whatworks@127.0.0.1:{args.pg_port}/whatworks",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "DEBUG": "false",
        "WHATWORKS_HTTPS": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("WHATWORKS_DEMO_MODE", None)
    if args.src:
        env["PYTHONPATH"] = str(args.src.resolve() / "src")
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    server = None
    try:
        created = pg_start(args.pg_root, args.pg_port)
        log("migrate")
        whatworks(env, "migrate", "-v0")
        if created:
            log(f"seed {args.persons} persons")
            started = time.monotonic()
            subprocess.run(
                ["uv", "run", "--group", "load", "python", str(HERE / "seed.py"),
                 "--persons", str(args.persons)],
                cwd=REPO, env=env, check=True,
            )  # fmt: skip
            log(f"seeded in {time.monotonic() - started:.0f} s")
        facility = (
            whatworks(
                env,
                "shell",
                "--no-imports",
                "-c",
                "from whatworks.records.models import Facility\n"
                "from django.db.models import Count\n"
                "print(Facility.objects.annotate(n=Count('persons')).order_by('-n')[0].code)",
            )
            .strip()
            .splitlines()[-1]
        )
        suffix = secrets.token_hex(3)
        password = secrets.token_urlsafe(18)
        accounts = []
        exported = whatworks(env, "shell", "--no-imports", "-c", EXPORT_IDS.format(code=facility))
        ids = json.loads(exported.strip().splitlines()[-1])
        for role, codes, sample in (
            ("administrator", [], ids["all"]),
            ("case_manager", ["--facility", facility], ids["facility"]),
        ):
            username = f"load.{role}.{suffix}"
            whatworks(env, "staff", "create", username, "--role", role, *codes,
                      "--password-stdin", stdin=password + "\n")  # fmt: skip
            token = whatworks(env, "token", "create", username).strip().splitlines()[-1]
            accounts.append({"role": role, "token": token, "person_ids": sample})
        config = {"accounts": accounts, "list_pages": args.list_pages, "terms": ids["terms"]}
        config_file = args.csv.with_suffix(".json")
        config_file.write_text(json.dumps(config))
        config_file.chmod(0o600)

        log(f"whatworks serve on 127.0.0.1:{args.port} ({args.threads} threads)")
        with open(f"{args.csv}_serve.log", "w", encoding="utf-8") as server_log:
            server = subprocess.Popen(
                ["uv", "run", "--group", "load", "whatworks", "serve", "--port", str(args.port),
                 "--threads", str(args.threads)],
                cwd=REPO, env=env, stdout=server_log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        base = f"http://127.0.0.1:{args.port}"
        wait_for(f"{base}/healthz", server)
        medians = probe(base, config, args.probe_rounds)
        log(f"one client, median ms: {json.dumps({k: round(v, 1) for k, v in medians.items()})}")
        log(f"locust: {args.users} users for {args.run_time}; load before: {os.getloadavg()}")
        subprocess.run(
            ["uv", "run", "--group", "load", "locust", "-f", str(HERE / "locustfile.py"),
             "--host", base, "--headless", "-u", str(args.users), "-r", str(args.users),
             "--run-time", args.run_time, "--csv", str(args.csv), "--only-summary",
             "--loglevel", "WARNING"],
            cwd=REPO, env={**env, "WHATWORKS_LOAD_CONFIG": str(config_file)}, check=False,
        )  # fmt: skip
        log(f"load after: {os.getloadavg()}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        pg_stop(args.pg_root)
        if args.clean:
            shutil.rmtree(args.pg_root, ignore_errors=True)

    stats = read_stats(args.csv)
    print()
    print(
        f"{'endpoint':<28}{'requests':>9}{'fail':>6}{'req/s':>8}"
        f"{'p50 ms':>8}{'p90 ms':>8}{'p99 ms':>8}{'p90/hz':>8}"
    )
    health = stats.get(HEALTHZ)
    ok = health is not None and health["requests"] > 0
    for name, row in stats.items():
        ratio = row["p90"] / health["p90"] if health and health["p90"] else float("inf")
        print(
            f"{name:<28}{row['requests']:>9}{row['failures']:>6}{row['rps']:>8.1f}"
            f"{row['p50']:>8.0f}{row['p90']:>8.0f}{row['p99']:>8.0f}{ratio:>8.2f}"
        )
        if row["failures"]:
            ok = False
        if name in ENDPOINTS and ratio > args.max_ratio:
            ok = False
    for name in ENDPOINTS:
        if name not in stats:
            ok = False
    print(
        f"\n{'PASS' if ok else 'FAIL'}: no failures and p90(person) <= "
        f"{args.max_ratio:g} x p90(/healthz)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Warm render times of the busiest pages on a demo database.

    uv run python benchmarks/pages.py [--runs 5]

Builds a 2,000-person demo in a temporary data folder (no server), then renders each page
with Django's test client as the demo's facility manager (``--user`` to change) and prints
the median of ``--runs`` warm renders and the number of SQL queries of one render. For
spotting N+1 queries and slow selectors; not a load test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--user", default=None, help="demo username (default: the manager)")
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="whatworks-pages-")
    env = {**os.environ, "WHATWORKS_DATA_DIR": data_dir}
    subprocess.run(  # noqa: S603 - our own command
        [
            sys.executable,
            "-m",
            "whatworks.manage",
            "demo",
            "--no-serve",
            "--persons",
            str(args.persons),
        ],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    os.environ.update(env)
    os.environ["WHATWORKS_DEMO_MODE"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whatworks.settings")
    from pathlib import Path

    from whatworks.environment import ensure_demo_secret_key

    os.environ.setdefault("SECRET_KEY", ensure_demo_secret_key(Path(data_dir)))
    import django

    django.setup()
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection
    from django.test import Client

    from whatworks.accounts.models import User
    from whatworks.reintegration.models import ReleasePreparation

    user = (
        User.objects.get(username=args.user)
        if args.user
        else User.objects.filter(role="facility_manager").order_by("id").first()
    )
    preparation = ReleasePreparation.objects.filter(
        person__current_facility__in=user.facilities.all()
    ).first()
    person_id = preparation.person_id
    pages = {
        "person detail": f"/persons/{person_id}/",
        "release preparation": f"/persons/{person_id}/reintegration/",
        "release summary": f"/persons/{person_id}/reintegration/summary/",
        "release summary PDF": f"/persons/{person_id}/reintegration/summary.pdf",
        "readiness": "/reintegration/readiness/",
        "follow-ups": "/community/follow-ups/",
        "person community": f"/persons/{person_id}/community/",
        "linkage review queue": "/outcomes/review/",
    }
    # As in Django's test runner: keep one connection, so its queries can be counted.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    print(f"user {user.username} ({user.role}), person {person_id}, {args.runs} warm runs")
    for name, url in pages.items():
        response = client.get(url)
        if response.status_code != 200:
            print(f"{name:24s} {url}: HTTP {response.status_code}")
            continue
        queries = []

        def count(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            client.get(url)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        print(f"{name:24s} {statistics.median(times):7.1f} ms  {len(queries):4d} queries")


if __name__ == "__main__":
    main()

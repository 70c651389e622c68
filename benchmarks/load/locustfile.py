# Random pages and ids to request, not secrets:
# ruff: noqa: S311
"""Locust load for `whatworks serve`: the person list and detail API against /healthz.

Run by benchmarks/load/run.py; by hand:

    WHATWORKS_LOAD_CONFIG=/tmp/load.json uv run --group load locust \
        -f benchmarks/load/locustfile.py --host http://127.0.0.1:8765 \
        --headless -u 50 -r 50 --run-time 60s --csv /tmp/load

The JSON config holds two API tokens and the person ids each may read:
{"accounts": [{"role": "administrator", "token": "...", "person_ids": [...]},
              {"role": "case_manager", "token": "...", "person_ids": [...]}],
 "list_pages": 20, "terms": ["Rojas", "LT00012345"]}

Half the simulated users are the administrator (all 100,000 persons in scope), half the case
manager bound to one facility; each picks, with equal weight, a page of the person list
(pages 1..list_pages, 50 persons each), one person by a random in-scope id, a search of the
list by a surname or a prison number, or /healthz. run.py's target covers the list and the
detail; the search is reported beside them.
Every answer other than 200 counts as a failure.
"""

from __future__ import annotations

import itertools
import json
import os
import random

from locust import FastHttpUser, constant, task

with open(os.environ["WHATWORKS_LOAD_CONFIG"], encoding="utf-8") as handle:
    CONFIG = json.load(handle)
ACCOUNTS = CONFIG["accounts"]
LIST_PAGES = int(CONFIG.get("list_pages", 20))
# A surname or a prison number of a random person (in scope or not: both answer 200).
SEARCH_TERMS = CONFIG.get("terms") or ["Rojas"]
_NEXT_ACCOUNT = itertools.count()


class StaffApiUser(FastHttpUser):
    wait_time = constant(0)  # closed loop: 50 users = 50 concurrent connections

    def on_start(self) -> None:
        account = ACCOUNTS[next(_NEXT_ACCOUNT) % len(ACCOUNTS)]
        self.person_ids = account["person_ids"]
        self.auth = {"Authorization": f"Bearer {account['token']}"}

    @task
    def person_list(self) -> None:
        page = random.randint(1, LIST_PAGES)
        self.client.get(f"/api/v1/persons?page={page}", headers=self.auth, name="/api/v1/persons")

    @task
    def person_detail(self) -> None:
        person_id = random.choice(self.person_ids)
        self.client.get(
            f"/api/v1/persons/{person_id}", headers=self.auth, name="/api/v1/persons/{id}"
        )

    @task
    def person_search(self) -> None:
        term = random.choice(SEARCH_TERMS)
        self.client.get(
            "/api/v1/persons", params={"q": term}, headers=self.auth, name="/api/v1/persons?q="
        )

    @task
    def healthz(self) -> None:
        self.client.get("/healthz", name="/healthz")

"""Quality and speed of linking the simulated police and court extracts to persons.

Simulates a service, makes its noisy extracts (whatworks.analytics.simulation.extracts),
links each extract with whatworks.analytics.linkage.link_records and scores the decisions
against the true links. Product targets: automatic-link precision >= 0.98, recall >= 0.90.

    uv run python benchmarks/linkage.py [--persons 5000] [--seed 1] [--country CL] [--json]
    uv run python benchmarks/linkage.py --persons 100000 --rows 5000   # scale: first 5,000 rows
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict

import polars as pl

from whatworks.analytics.linkage import link_quality, link_records
from whatworks.analytics.simulation import SimulationConfig, simulate
from whatworks.analytics.simulation.extracts import (
    noisy_extracts,
    persons_for_linkage,
    records_for_linkage,
)


def run(persons_count: int, seed: int, country: str, rows: int | None = None) -> dict:
    started = time.perf_counter()
    service = simulate(SimulationConfig(persons=persons_count, seed=seed, country=country))
    extracts = noisy_extracts(service.persons, service.outcome_events, seed=seed)
    simulated = time.perf_counter() - started
    persons = persons_for_linkage(service.persons)
    links = extracts["extract_links"]
    result: dict = {
        "persons": persons_count,
        "seed": seed,
        "country": country,
        "simulate_seconds": round(simulated, 2),
    }
    for source in ("police", "court"):
        extract = extracts[f"extract_{source}"]
        if rows is not None:
            extract = extract.head(rows)
        truth = {
            int(row): key
            for row, key in links.filter(pl.col("source") == source)
            .select("row", "prison_number")
            .iter_rows()
            if row < extract.height
        }
        began = time.perf_counter()
        decisions = link_records(records_for_linkage(extract), persons, seed=seed)
        seconds = time.perf_counter() - began
        quality = link_quality(decisions, truth)
        methods: dict[str, int] = {}
        for decision in decisions:
            if decision.status == "linked":
                methods[decision.method] = methods.get(decision.method, 0) + 1
        result[source] = {
            "rows": extract.height,
            "decoys": sum(1 for v in truth.values() if v is None),
            **{k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(quality).items()},
            "linked_by_method": methods,
            "seconds": round(seconds, 2),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--country", default="CL")
    parser.add_argument("--rows", type=int, default=None, help="link only the first N rows")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    options = parser.parse_args()
    result = run(options.persons, options.seed, options.country, options.rows)
    if options.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{result['persons']:,} persons ({result['country']}, seed {result['seed']}), "
        f"simulated in {result['simulate_seconds']} s"
    )
    for source in ("police", "court"):
        r = result[source]
        print(
            f"{source:6}: {r['rows']:,} rows ({r['decoys']} decoys) in {r['seconds']} s — "
            f"precision {r['precision']:.4f}, recall {r['recall']:.4f} "
            f"(with review {r['recall_with_review']:.4f}); linked {r['linked_count']}, "
            f"review {r['review_count']}, unmatched {r['unmatched_count']}, "
            f"false links {r['false_links']} (decoys {r['decoys_linked']}); "
            f"by method {r['linked_by_method']}"
        )


if __name__ == "__main__":
    main()

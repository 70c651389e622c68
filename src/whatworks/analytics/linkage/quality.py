"""How good a set of link decisions is, against the true person of each row."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from whatworks.analytics.linkage.link import LinkDecision


@dataclass(frozen=True)
class LinkQuality:
    """Quality of link decisions measured against the truth.

    - ``linked_count``: rows linked automatically (status "linked").
    - ``review_count``: rows sent to review; ``unmatched_count``: rows left unmatched.
    - ``false_links``: automatic links to the wrong person, including links of rows whose
      true person is not in the persons table (decoys).
    - ``precision``: correct automatic links / automatic links (1.0 when there are none).
    - ``recall``: correct automatic links / rows whose truth is not None (1.0 when there
      are no such rows).
    - ``recall_with_review``: rows whose truth is not None that were either linked
      correctly or sent to review with the true person among the candidates, / rows
      whose truth is not None — what a reviewer could reach.
    - ``decoys_linked``: automatic links of rows whose truth is None.
    """

    precision: float
    recall: float
    recall_with_review: float
    linked_count: int
    review_count: int
    unmatched_count: int
    false_links: int
    decoys_linked: int


def link_quality(decisions: Iterable[LinkDecision], truth: Mapping[int, str | None]) -> LinkQuality:
    """Compare decisions with ``truth`` ({row: true person_key, or None when the row's
    person is not in the persons table}). Rows missing from ``truth`` count as None."""
    linked = review = unmatched = correct = false_links = decoys = reachable = 0
    for decision in decisions:
        actual = truth.get(decision.row)
        if decision.status == "linked":
            linked += 1
            if actual is not None and decision.person_key == actual:
                correct += 1
                reachable += 1
            else:
                false_links += 1
                decoys += actual is None
        elif decision.status == "review":
            review += 1
            if actual is not None and any(c.person_key == actual for c in decision.candidates):
                reachable += 1
        else:
            unmatched += 1
    positives = sum(1 for value in truth.values() if value is not None)
    return LinkQuality(
        precision=correct / linked if linked else 1.0,
        recall=correct / positives if positives else 1.0,
        recall_with_review=reachable / positives if positives else 1.0,
        linked_count=linked,
        review_count=review,
        unmatched_count=unmatched,
        false_links=false_links,
        decoys_linked=decoys,
    )

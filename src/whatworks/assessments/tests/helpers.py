"""Answers and assessments for the tests."""

from __future__ import annotations

import datetime

from whatworks.analytics.instruments import load_instrument
from whatworks.assessments import services

K6_ITEMS = [item.id for item in load_instrument("k6").items]
AUDIT_ITEMS = [item.id for item in load_instrument("audit").items]


def k6_answers(values: list[int]) -> dict[str, int]:
    return dict(zip(K6_ITEMS, values, strict=True))


def audit_answers(values: list[int]) -> dict[str, int]:
    return dict(zip(AUDIT_ITEMS, values, strict=True))


def rnr_answers(*, high: bool) -> dict:
    """A complete RNR screener: every risk item at its top answer (or bottom), responsivity
    answered, the optional first language left out."""
    answers: dict = {}
    for item in load_instrument("rnr-screener").items:
        if item.type == "single_choice":
            answers[item.id] = len(item.options) - 1 if high else 0
        elif item.type == "yes_no":
            answers[item.id] = high
    return answers


def completed(actor, person, slug, answers, *, assessed_on: datetime.date | None = None):
    assessment = services.assessment_start(actor=actor, person=person, instrument_slug=slug)
    return services.assessment_complete(
        actor=actor, assessment=assessment, answers=answers, assessed_on=assessed_on
    )

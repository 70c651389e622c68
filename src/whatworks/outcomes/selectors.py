"""Reads for the review queue and the import log; every read starts from an access helper."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from whatworks.outcomes.access import link_reviews_visible_to
from whatworks.outcomes.models import LinkReview, OutcomeImport, ReviewStatus
from whatworks.records.access import persons_visible_to
from whatworks.records.models import Person


def pending_reviews(*, viewer) -> QuerySet[LinkReview]:
    return (
        link_reviews_visible_to(viewer)
        .filter(status=ReviewStatus.PENDING)
        .select_related("candidate", "candidate__current_facility", "outcome_import")
    )


def import_list(*, limit: int = 200) -> QuerySet[OutcomeImport]:
    """Callers check ``can_view_imports`` first."""
    return OutcomeImport.objects.select_related("actor")[:limit]


def _plain(text: str) -> str:
    """Letters without accents, case or extra spaces: "MUÑOZ  rojas" ~ "Munoz Rojas"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(letters.casefold().replace("-", " ").split())


def _identifier(text: str) -> str:
    return "".join(c for c in (text or "").upper() if c.isalnum())


@dataclass(frozen=True)
class ComparedField:
    label: Any
    extract_value: Any
    person_value: Any
    agreement: str  # "agree", "disagree" or "missing" (one side is blank)


def _compare(label, extract_value, person_value, normalise) -> ComparedField:
    if extract_value in (None, "") or person_value in (None, ""):
        agreement = "missing"
    elif normalise(extract_value) == normalise(person_value):
        agreement = "agree"
    else:
        agreement = "disagree"
    return ComparedField(label, extract_value, person_value, agreement)


def comparison(review: LinkReview, person: Person) -> list[ComparedField]:
    """The extract row beside the candidate person, field by field."""
    return [
        _compare(_("First names"), review.first_name, person.first_names, _plain),
        _compare(_("Last names"), review.last_name, person.last_names, _plain),
        _compare(_("Date of birth"), review.date_of_birth, person.date_of_birth, lambda d: d),
        _compare(_("National ID"), review.national_id, person.national_id, _identifier),
        _compare(_("Prison number"), review.prison_number, person.prison_number, _identifier),
    ]


@dataclass(frozen=True)
class OtherCandidate:
    person: Person
    probability: float | None


def other_candidates(*, viewer, review: LinkReview) -> list[OtherCandidate]:
    """The review's other candidates the viewer may see (others are left out, not hinted)."""
    wanted = [c for c in review.candidates if c.get("person_id") not in (None, review.candidate_id)]
    visible = persons_visible_to(viewer).in_bulk([c["person_id"] for c in wanted])
    return [
        OtherCandidate(visible[c["person_id"]], c.get("probability"))
        for c in wanted
        if c["person_id"] in visible
    ]

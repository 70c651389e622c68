"""Sentences about a run, shared by the task (report texts) and the pages."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from whatworks.evaluation.cohort import TREATMENT_STARTED


def treatment_label(programme, treatment: str | None) -> str:
    if treatment == TREATMENT_STARTED:
        return _("started %(programme)s before release") % {"programme": programme.name}
    return _("completed %(programme)s before release") % {"programme": programme.name}


def outcome_label(description: dict[str, Any]) -> str:
    years = description["window_years"]
    return ngettext(
        "%(definition)s within %(years)s year",
        "%(definition)s within %(years)s years",
        years,
    ) % {"definition": description["definition"]["name"], "years": years}


def report_title(programme, description: dict[str, Any]) -> str:
    return _("%(programme)s: effect on %(outcome)s") % {
        "programme": programme.name,
        "outcome": outcome_label(description),
    }


def cohort_text(description: dict[str, Any]) -> str:
    excluded = description.get("excluded", {})
    start = description.get("release_from") or _("the first release")
    end = description.get("release_to") or _("the last release")
    facilities = (
        _("all facilities")
        if description.get("all_facilities")
        else ", ".join(description.get("facilities", []))
    )
    return _(
        "Releases from %(start)s to %(end)s (inclusive) from %(facilities)s: %(releases)s "
        "releases, %(rows)s analysed (%(treated)s treated, %(untreated)s not). Left out: "
        "%(not_counted)s of release types the definition does not count, %(not_complete)s "
        "whose window had not ended by %(followup_end)s, %(partial)s who started but did not "
        "complete the programme before release."
    ) % {
        "start": start,
        "end": end,
        "facilities": facilities,
        "releases": description.get("releases", 0),
        "rows": description.get("rows", 0),
        "treated": description.get("treated", 0),
        "untreated": description.get("untreated", 0),
        "not_counted": excluded.get("release_type_not_counted", 0),
        "not_complete": excluded.get("followup_not_complete", 0),
        "followup_end": description.get("followup_end_date", ""),
        "partial": excluded.get("started_not_completed", 0),
    }

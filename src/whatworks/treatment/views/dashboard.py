"""Is the service following the risk and need principles? Aggregates only, in the viewer's
facilities; counts from 1 to 9 are withheld (``selectors.SUPPRESSION``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from whatworks.treatment import access, selectors
from whatworks.treatment.labels import band_label, need_label


def _share(proportion: selectors.Proportion) -> dict[str, Any]:
    """A share as the template shows it: percent and 95% interval, or suppressed."""
    interval = proportion.interval
    return {
        "suppressed": proportion.suppressed and proportion.denominator > 0,
        "empty": proportion.denominator == 0,
        "percent": None if proportion.rate is None else 100 * proportion.rate,
        "low": None if interval is None else 100 * interval[0],
        "high": None if interval is None else 100 * interval[1],
        "denominator": None if proportion.suppressed else proportion.denominator,
    }


def _count(value: int | None) -> int | None:
    """A count of people, or None when it is small enough to identify someone."""
    return None if selectors.SUPPRESSION.disclosive(value) else value


@login_required
@require_GET
def treatment_dashboard(request: HttpRequest) -> HttpResponse:
    if not access.can_view_treatment_dashboard(request.user):
        message = _("Your role cannot see the treatment dashboard.")
        return render(request, "whatworks/forbidden.html", {"message": message}, status=403)
    data = selectors.treatment_dashboard(viewer=request.user)
    coverage = [
        {"need": need_label(row.need), "share": _share(row.coverage)} for row in data.need_coverage
    ]
    adherence = [
        {
            "band": band_label(row.band),
            "persons": _count(row.persons),
            "target_hours": row.target_hours,
            "median_hours": None if row.suppressed else row.median_hours,
            "meeting_target": _share(row.meeting_target),
            "intensive": _share(row.intensive_hours_share),
        }
        for row in data.risk_adherence
    ]
    waitlists = []
    for row in data.waitlists:
        small_wait = selectors.SUPPRESSION.disclosive(row.waiting)
        small_taken = selectors.SUPPRESSION.disclosive(row.occupied)
        waitlists.append(
            {
                "programme": row.programme,
                "facility": row.facility,
                "waiting": None if small_wait else row.waiting,
                "median_days_waiting": None if small_wait else row.median_days_waiting,
                "longest_days_waiting": None if small_wait else row.longest_days_waiting,
                "capacity": row.capacity,
                "occupied": None if small_taken else row.occupied,
                "free_places": None if small_taken else row.free_places,
            }
        )
    delivery = [
        {
            "programme": row.programme,
            "facility": row.facility,
            "attendance": _share(row.attendance),
            "completion": _share(row.completion),
        }
        for row in data.delivery
    ]
    context = {
        "persons_in_custody": _count(data.persons_in_custody),
        "coverage": coverage,
        "adherence": adherence,
        "waitlists": waitlists,
        "delivery": delivery,
        "largest_suppressed": data.suppression_min_count - 1,
    }
    return render(request, "treatment/dashboard/treatment_dashboard.html", context)

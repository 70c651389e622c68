"""The dashboard and the health check."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from whatworks.records.access import can_view_persons
from whatworks.records.selectors import MonthlyFlow
from whatworks.records.selectors import dashboard as dashboard_figures

CHART_WIDTH = 720
CHART_HEIGHT = 240
CHART_LEFT = 36  # room for the y-axis labels
CHART_BOTTOM = 24  # room for the month labels
CHART_TOP = 8


@dataclass(frozen=True)
class ChartBar:
    x: float
    y: float
    width: float
    height: float
    value: int


@dataclass(frozen=True)
class ChartMonth:
    flow: MonthlyFlow
    admissions: ChartBar
    releases: ChartBar
    label_x: float
    show_label: bool


@dataclass(frozen=True)
class ChartTick:
    value: int
    y: float


def _nice_maximum(value: int) -> int:
    """The smallest of 1, 2, 5 times 10^k that is at least ``value`` (and at least 1)."""
    step = 1
    while True:
        for multiple in (1, 2, 5):
            if step * multiple >= value:
                return max(step * multiple, 1)
        step *= 10


def flow_chart(flows: list[MonthlyFlow]) -> dict:
    """Geometry of a grouped bar chart of admissions and releases, one group per month.

    Computed here so the template only places SVG shapes; colours come from the stylesheet,
    since the content security policy forbids inline styles.
    """
    plot_width = CHART_WIDTH - CHART_LEFT
    plot_height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    baseline = CHART_TOP + plot_height
    maximum = _nice_maximum(max([0, *(f.admissions for f in flows), *(f.releases for f in flows)]))
    group_width = plot_width / max(len(flows), 1)
    bar_width = group_width * 0.38

    def bar(x: float, value: int) -> ChartBar:
        height = plot_height * value / maximum
        return ChartBar(
            x=round(x, 2),
            y=round(baseline - height, 2),
            width=round(bar_width, 2),
            height=round(height, 2),
            value=value,
        )

    months = []
    for index, flow in enumerate(flows):
        left = CHART_LEFT + index * group_width + group_width * 0.1
        months.append(
            ChartMonth(
                flow=flow,
                admissions=bar(left, flow.admissions),
                releases=bar(left + bar_width, flow.releases),
                label_x=round(left + bar_width, 2),
                show_label=flow.month.month in (1, 7),
            )
        )
    shares = (0, 0.5, 1) if maximum % 2 == 0 else (0, 1)  # only whole-number ticks
    ticks = [
        ChartTick(value=round(maximum * share), y=round(baseline - plot_height * share, 2))
        for share in shares
    ]
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_LEFT,
        "right": CHART_WIDTH,
        "baseline": baseline,
        "label_y": CHART_HEIGHT - 6,
        "months": months,
        "ticks": ticks,
    }


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    figures = dashboard_figures(viewer=request.user, today=today)
    show_persons = can_view_persons(request.user)
    context = {
        "today": today,
        "figures": figures,
        "population_total": sum(row.in_custody for row in figures.population),
        "capacity_total": sum(row.facility.capacity for row in figures.population),
        "chart": flow_chart(figures.flows),
        "show_persons": show_persons,
        "releases_due": list(figures.releases_due[:100]) if show_persons else [],
    }
    return render(request, "whatworks/dashboard.html", context)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness and database reachability, for load balancers. No login, no personal data."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")

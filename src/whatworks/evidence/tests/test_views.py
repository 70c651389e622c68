"""The evidence dashboard through HTTP, persona by persona, and what bad input does."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from whatworks.analytics.recidivism import load_definition, measure
from whatworks.evidence.selectors import release_frames
from whatworks.evidence.tests.test_selectors import load_simulated_service, release_people

URL = reverse("evidence")


@pytest.fixture
def releases_ab(facility_a, facility_b, person_in_a):
    """24 people released from A in March 2020 (12 reconvicted), 3 from B (1 reconvicted)."""
    release_people(
        facility_a, 24, prefix="A", release_date=datetime.date(2020, 3, 1), reconvicted=12
    )
    release_people(facility_b, 3, prefix="B", release_date=datetime.date(2020, 5, 1), reconvicted=1)


def windows_of(response):
    return [
        (row.years, row.eligible, row.recidivists, row.suppressed)
        for row in response.context["rates"]
    ]


# --- who sees what ------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["carla", "dora"])
def test_analysts_and_administrators_see_every_facility(client, request, persona, releases_ab):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(URL)
    assert response.status_code == 200
    assert windows_of(response) == [(3, 27, 13, False)]
    html = response.content.decode()
    assert "Releases from every facility of the service." in html
    assert "48.1%" in html  # 13 of 27


def test_fabio_sees_the_releases_of_his_facility_only(client, fabio, releases_ab):
    client.force_login(fabio)
    response = client.get(URL, {"breakdown": "facility"})
    assert response.status_code == 200
    assert windows_of(response) == [(3, 24, 12, False)]
    assert [group.value for group in response.context["groups"]] == ["CL-A-01"]
    html = response.content.decode()
    assert "CL-B-01" not in html
    assert "50.0%" in html
    assert "Releases from your facilities: CL-A-01." in html


@pytest.mark.parametrize("persona", ["alice", "bruno", "pablo", "helena"])
def test_other_roles_get_a_clear_403(client, request, persona, releases_ab):
    client.force_login(request.getfixturevalue(persona))
    for url in [URL, reverse("evidence-export", args=["csv"])]:
        response = client.get(url)
        assert response.status_code == 403
        assert "for analysts, administrators and facility managers" in response.content.decode()
        assert "reconviction" not in response.content.decode().lower()


def test_anonymous_visitors_are_sent_to_log_in(client, releases_ab):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_only_get_is_allowed(client, carla):
    client.force_login(carla)
    assert client.post(URL).status_code == 405


# --- the figures ----------------------------------------------------------------------------


def test_the_page_shows_what_measure_gives_on_the_selectors_frames(client, carla):
    load_simulated_service(persons=400, seed=3)
    client.force_login(carla)
    response = client.get(
        URL, {"definition": "reincarceration-1-2-3y", "breakdown": "facility_type"}
    )
    assert response.status_code == 200

    releases, events = release_frames(viewer=carla, today=timezone.localdate())
    expected = measure(
        releases, events, load_definition("reincarceration-1-2-3y"), by=["facility_type"]
    ).to_dict()
    report = response.context["report"].result
    assert report["windows"] == expected["windows"]
    assert report["groups"] == expected["groups"]
    assert report["excluded"] == expected["excluded"]

    html = response.content.decode()
    shown = [window for window in expected["windows"] if not window["suppressed"]]
    assert shown, "the simulated cohort is large enough to publish the overall rates"
    for window in shown:
        assert f"{100 * window['rate']:.1f}%" in html
        assert f"{100 * window['ci_low']:.1f}% to {100 * window['ci_high']:.1f}%" in html
    assert "<polyline" in html and "<polygon" in html  # the curve and its band


def test_every_figure_carries_the_definitions_name_version_and_sentence(client, carla, releases_ab):
    client.force_login(carla)
    response = client.get(URL, {"definition": "any-return-3y", "breakdown": "sex"})
    definition = load_definition("any-return-3y")
    html = response.content.decode()
    assert definition.name in html
    assert f"version {definition.version}" in html
    assert definition.sentence in html
    # The rates tables and the chart each name the definition and its version.
    assert html.count(f"{definition.name}, version {definition.version}") >= 3


def test_windows_and_cohort_are_applied_and_a_changed_definition_says_so(
    client, carla, releases_ab
):
    client.force_login(carla)
    response = client.get(URL, {"windows": "1, 3", "cohort_from": "2020", "cohort_to": "2020"})
    assert response.status_code == 200
    assert [row.years for row in response.context["rates"]] == [1, 3]
    assert "Changed from the published definition" in response.content.decode()
    empty = client.get(URL, {"cohort_from": "2015", "cohort_to": "2016"})
    assert empty.status_code == 200
    assert windows_of(empty) == [(3, 0, 0, False)]


def test_small_groups_are_suppressed_and_shown_as_a_dash_with_a_footnote(
    client, carla, releases_ab
):
    client.force_login(carla)
    response = client.get(URL, {"breakdown": "facility"})
    groups = {group.value: group.windows[0] for group in response.context["groups"]}
    # B has 3 releases: suppressed; A is suppressed too, or B = overall - A.
    assert groups["CL-B-01"].suppressed and groups["CL-A-01"].suppressed
    html = response.content.decode()
    assert html.count(">—</a>") == 8  # four figures in each of the two rows
    assert 'id="suppression-note"' in html
    assert "counts from 1 to 9 could identify people" in html
    assert "33.3%" not in html  # B's 1 in 3


def test_no_suppression_footnote_when_nothing_is_suppressed(client, fabio, releases_ab):
    client.force_login(fabio)
    html = client.get(URL).content.decode()
    assert 'id="suppression-note"' not in html


def test_the_chart_is_csp_safe(client, carla, releases_ab):
    client.force_login(carla)
    response = client.get(URL)
    html = response.content.decode()
    assert "<script" not in html.split("</head>", 1)[1]
    assert not re.search(r"\sstyle=", html)


def test_the_page_has_export_links_with_the_same_query(client, carla, releases_ab):
    client.force_login(carla)
    html = client.get(URL, {"breakdown": "sex", "windows": "2"}).content.decode()
    for format in ("csv", "xlsx", "pdf"):
        assert f"{reverse('evidence-export', args=[format])}?breakdown=sex&amp;windows=2" in html


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"definition": "no-such-definition"}, "definition", "Select a valid choice"),
        ({"cohort_from": "abc"}, "cohort_from", "Enter a whole number."),
        ({"cohort_to": "12345"}, "cohort_to", "less than or equal to 2100"),
        ({"cohort_from": "2022", "cohort_to": "2020"}, "cohort_to", "cannot be before"),
        ({"windows": "abc"}, "windows", "Enter whole numbers of years"),
        ({"windows": "0"}, "windows", "Enter whole numbers of years"),
        ({"windows": "1,2,3,4,5,6,7,8,9,10,11"}, "windows", "at most 10 windows"),
        ({"breakdown": "prison_number"}, "breakdown", "Select a valid choice"),
    ],
)
def test_bad_queries_give_400_with_the_fields_message(client, carla, query, field, message):
    client.force_login(carla)
    for url in [URL, reverse("evidence-export", args=["pdf"])]:
        response = client.get(url, query)
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
        assert message in " ".join(response.context["form"].errors[field])
        assert message in response.content.decode().replace("&#x27;", "'")


def test_an_unknown_export_format_is_not_found(client, carla):
    client.force_login(carla)
    assert client.get("/evidence/export/docx/").status_code == 404


def test_the_chart_marks_each_window_and_starts_at_100_percent(client, carla):
    load_simulated_service(persons=300, seed=2)
    client.force_login(carla)
    response = client.get(URL, {"definition": "reincarceration-1-2-3y"})
    chart = response.context["chart"]
    assert [tick.label for tick in chart["windows"]] == ["1", "2", "3"]
    first_x, first_y = chart["curve"].split()[0].split(",")
    assert (float(first_x), float(first_y)) == (chart["left"], chart["top"])
    html = response.content.decode()
    assert html.count('class="km-window"') == 3
    assert "End of the 3-year window" in html


def test_rates_with_and_without_technical_violations_are_side_by_side(client, carla):
    """Domain guide §5: publish both versions. The page's figures are the engine's."""
    import datetime

    from whatworks.analytics.recidivism import (
        Suppression,
        load_definition,
        measure_technical_violation_variants,
    )
    from whatworks.analytics.simulation import SimulationConfig, simulate
    from whatworks.evidence.selectors import release_frames
    from whatworks.records.imports import extract_load

    service = simulate(SimulationConfig(persons=400, seed=5, extract_date=datetime.date.today()))
    extract_load(
        tables={n: f for n, f in service.tables().items() if n != "person_truth"},
        actor_label="test",
    )
    client.force_login(carla)
    page = client.get(reverse("evidence"), {"definition": "reincarceration-1-2-3y"})
    html = page.content.decode()
    assert "With and without technical violations" in html

    releases, events = release_frames(viewer=carla, today=datetime.date.today())
    variants = measure_technical_violation_variants(
        releases, events, load_definition("reincarceration-1-2-3y"), suppression=Suppression()
    )
    with_tv = variants["with_technical_violations"].windows[0]
    without_tv = variants["without_technical_violations"].windows[0]
    assert with_tv["recidivists"] >= without_tv["recidivists"]
    for cell in (with_tv, without_tv):
        assert f"{100 * cell['rate']:.1f}% ({100 * cell['ci_low']:.1f}%" in html

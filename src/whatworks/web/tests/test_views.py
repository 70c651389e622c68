"""The dashboard, the health check and the page shell (CSP-safe markup, language chooser)."""

import datetime
import re

import pytest
from django.db import DatabaseError
from django.urls import reverse
from django.utils import timezone

from conftest import admission_data, person_data
from whatworks.records.services import custody_release, person_admit
from whatworks.web.views import flow_chart


def test_healthz_answers_ok_without_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"ok"


def test_healthz_reports_a_broken_database(client, db, monkeypatch):
    from whatworks.web import views

    class BrokenCursor:
        def __enter__(self):
            raise DatabaseError("down")

        def __exit__(self, *args):
            return False

    with monkeypatch.context() as patch:
        patch.setattr(views.connection, "cursor", lambda: BrokenCursor())
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.content != b"ok"


def test_dashboard_needs_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_analyst_sees_figures_for_every_facility(client, carla, person_in_a, person_in_b):
    client.force_login(carla)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Centro Penitenciario Alfa" in html
    assert "Centro de Educación y Trabajo Beta" in html
    population = {
        row.facility.code: row.in_custody for row in response.context["figures"].population
    }
    assert population == {"CL-A-01": 1, "CL-B-01": 1}
    # The analyst's navigation has no person search, and no person is named.
    assert reverse("person-list") not in html
    assert "Muñoz" not in html


def test_case_manager_sees_only_their_facility(client, alice, person_in_a, person_in_b):
    client.force_login(alice)
    html = client.get("/").content.decode()
    assert "Centro Penitenciario Alfa" in html
    assert "Centro de Educación y Trabajo Beta" not in html


def test_dashboard_shows_24_months_of_flows(client, dora, facility_a):
    today = timezone.localdate()
    admitted = today - datetime.timedelta(days=40)
    episode = person_admit(
        actor=None,
        person_data=person_data(),
        facility=facility_a,
        admission_data=admission_data(
            admission_date=admitted,
            sentence_date=admitted,
            expected_release_date=today + datetime.timedelta(days=300),
        ),
    )
    custody_release(actor=None, episode=episode, release_date=today, release_type="parole")
    client.force_login(dora)
    response = client.get("/")
    flows = response.context["figures"].flows
    assert len(flows) == 24
    assert sum(flow.admissions for flow in flows) == 1
    assert sum(flow.releases for flow in flows) == 1
    assert "<svg" in response.content.decode()


def test_releases_due_lists_people_with_links(client, alice, facility_a):
    today = timezone.localdate()
    episode = person_admit(
        actor=None,
        person_data=person_data(),
        facility=facility_a,
        admission_data=admission_data(
            admission_date=today - datetime.timedelta(days=400),
            sentence_date=today - datetime.timedelta(days=400),
            expected_release_date=today + datetime.timedelta(days=20),
        ),
    )
    client.force_login(alice)
    html = client.get("/").content.decode()
    assert reverse("person-detail", args=[episode.person_id]) in html
    assert "1 person is expected to be released" in html


def test_analyst_gets_the_count_of_releases_due_but_no_names(client, carla, facility_a):
    today = timezone.localdate()
    person_admit(
        actor=None,
        person_data=person_data(),
        facility=facility_a,
        admission_data=admission_data(
            admission_date=today - datetime.timedelta(days=400),
            sentence_date=today - datetime.timedelta(days=400),
            expected_release_date=today + datetime.timedelta(days=20),
        ),
    )
    client.force_login(carla)
    html = client.get("/").content.decode()
    assert "1 person is expected to be released" in html
    assert "Muñoz" not in html


def test_pages_have_no_inline_scripts_or_styles(client, dora, person_in_a):
    """The CSP forbids them; a page that used them would break silently in the browser."""
    client.force_login(dora)
    for url in [
        "/",
        reverse("person-list"),
        reverse("person-admit"),
        reverse("person-detail", args=[person_in_a.pk]),
        reverse("profile"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "Content-Security-Policy" in response.headers
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
        assert not re.search(r"\sstyle=", html), url
        assert "<style" not in html, url
        assert not re.search(r"<[^>]+\son[a-z]+=", html), url  # no inline event handlers


def test_page_shell_has_skip_link_language_chooser_and_post_logout(client, alice):
    client.force_login(alice)
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert 'href="#main"' in html and 'id="main"' in html
    assert f'action="{reverse("set_language")}"' in html
    assert re.search(r'<form[^>]*method="post"[^>]*action="/logout/"', html)


def test_language_chooser_switches_language(client, alice):
    client.force_login(alice)
    response = client.post(reverse("set_language"), {"language": "es", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="es">' in html


@pytest.mark.parametrize(
    ("values", "maximum"), [([0, 0], 1), ([3, 7], 10), ([11, 2], 20), ([120, 0], 200)]
)
def test_flow_chart_scales_bars_to_a_round_maximum(values, maximum):
    from whatworks.records.selectors import MonthlyFlow

    flows = [MonthlyFlow(month=datetime.date(2024, 1, 1), admissions=values[0], releases=values[1])]
    chart = flow_chart(flows)
    assert chart["ticks"][-1].value == maximum
    tallest = max(chart["months"][0].admissions.height, chart["months"][0].releases.height)
    assert tallest <= chart["baseline"]

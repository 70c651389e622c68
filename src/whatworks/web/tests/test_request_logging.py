"""Request IDs and structured request logs (issue 10, "Trust" §6): every response carries
X-Request-ID, every log record of the request carries request_id, and one JSON line per
request names method, path (never the query string), status, duration and user id."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.http import HttpResponse
from django.urls import path

from whatworks.web.middleware import JSONFormatter, RequestIDFilter, current_request_id

view_logger = logging.getLogger("whatworks.tests.view")


def noisy_view(request, pk):
    view_logger.warning("something happened in the view")
    return HttpResponse("ok")


def missing_view(request):
    return HttpResponse("gone", status=404)


urlpatterns = [
    path("noisy/<int:pk>/", noisy_view),
    path("missing/", missing_view),
]
pytestmark = pytest.mark.urls(__name__)


class ListHandler(logging.Handler):
    def __init__(self, formatter: logging.Formatter | None = None):
        super().__init__(logging.DEBUG)
        self.addFilter(RequestIDFilter())
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []
        if formatter:
            self.setFormatter(formatter)

    def emit(self, record):
        self.records.append(record)
        self.lines.append(self.format(record))


@pytest.fixture
def captured():
    """A JSON handler on the root logger, with whatworks.request at INFO."""
    handler = ListHandler(JSONFormatter())
    root = logging.getLogger()
    request_logger = logging.getLogger("whatworks.request")
    old_level = request_logger.level
    request_logger.setLevel(logging.INFO)
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
    request_logger.setLevel(old_level)


def request_lines(handler):
    return [json.loads(line) for line in handler.lines if '"whatworks.request"' in line]


def test_a_request_id_is_generated_and_returned(client, db):
    response = client.get("/noisy/1/")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32 and int(request_id, 16) >= 0  # uuid4 hex
    assert client.get("/noisy/1/")["X-Request-ID"] != request_id


def test_a_safe_incoming_request_id_is_kept(client, db):
    incoming = "proxy-42_abc.DEF"
    response = client.get("/noisy/1/", headers={"X-Request-ID": incoming})
    assert response["X-Request-ID"] == incoming


@pytest.mark.parametrize(
    "incoming",
    ["x" * 65, "has space", "line\\nbreak", '{"json":1}', "ünïcode", "a;b", ""],
)
def test_an_unsafe_incoming_request_id_is_replaced(client, db, incoming):
    response = client.get("/noisy/1/", headers={"X-Request-ID": incoming})
    assert response["X-Request-ID"] != incoming
    assert len(response["X-Request-ID"]) == 32


def test_one_json_line_per_request_without_query_string_or_username(client, alice, captured):
    client.force_login(alice)
    response = client.get("/noisy/7/?last_name=Mu%C3%B1oz&first_name=Ana")
    lines = request_lines(captured)
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == response["X-Request-ID"]
    assert line["method"] == "GET"
    assert line["path"] == "/noisy/7/"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["user_id"] == alice.pk
    assert line["level"] == "INFO" and line["logger"] == "whatworks.request"
    raw = next(text for text in captured.lines if '"whatworks.request"' in text)
    assert "Ana" not in raw and "last_name" not in raw and "?" not in raw
    assert alice.username not in raw


def test_anonymous_requests_and_errors_are_logged_with_their_status(client, db, captured):
    response = client.get("/missing/", headers={"X-Request-ID": "edge-1"})
    (line,) = request_lines(captured)
    assert (line["status"], line["user_id"], line["request_id"]) == (404, None, "edge-1")
    # Django's own 404 warning, logged after the middleware returns, carries the ID too.
    django_lines = [json.loads(t) for t in captured.lines if '"django.request"' in t]
    assert [entry["request_id"] for entry in django_lines] == [response["X-Request-ID"]]


def test_records_emitted_in_a_view_carry_the_request_id(client, db, captured):
    response = client.get("/noisy/3/")
    (record,) = [r for r in captured.records if r.name == "whatworks.tests.view"]
    assert record.request_id == response["X-Request-ID"]
    view_line = json.loads(captured.lines[captured.records.index(record)])
    assert view_line["request_id"] == response["X-Request-ID"]
    assert view_line["message"] == "something happened in the view"
    # Outside a request there is no ID, and none leaks from the last request.
    assert current_request_id() is None
    view_logger.warning("after the request")
    assert captured.records[-1].request_id is None


def test_the_console_handler_adds_request_ids_and_uses_the_chosen_format():
    console = django_settings.LOGGING["handlers"]["console"]
    assert "request_id" in console["filters"]
    assert console["formatter"] in ("text", "json")
    assert "%(request_id)s" in django_settings.LOGGING["formatters"]["text"]["format"]
    assert django_settings.MIDDLEWARE.index(
        "whatworks.web.middleware.RequestIDMiddleware"
    ) == 1 + django_settings.MIDDLEWARE.index("django.middleware.security.SecurityMiddleware")


def settings_with(**environment) -> subprocess.CompletedProcess:
    code = "import whatworks.settings as s; print(s.LOGGING['handlers']['console']['formatter'])"
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "SECRET_KEY": "x", **environment},
    )


def test_log_format_is_read_from_the_environment():
    assert settings_with(LOG_FORMAT="json").stdout.strip() == "json"
    assert settings_with(LOG_FORMAT="text").stdout.strip() == "text"
    wrong = settings_with(LOG_FORMAT="xml")
    assert wrong.returncode != 0 and "LOG_FORMAT must be json or text" in wrong.stderr

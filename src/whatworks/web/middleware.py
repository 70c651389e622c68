import contextvars
import datetime
import json
import logging
import re
import time
import uuid

from django.core.signals import request_finished


class SecurityHeadersMiddleware:
    """A strict content security policy: every script and style is served by us.

    htmx is vendored and no page uses inline scripts or styles, so 'self' is enough. The API
    docs page (Django Ninja's Swagger UI, served from the package's own static files) sets
    inline styles from its script, so it alone may use them; scripts stay 'self' only.
    """

    POLICY = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )
    API_DOCS_POLICY = POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = self.API_DOCS_POLICY if request.path.startswith("/api/v1/docs") else self.POLICY
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response


# --- request IDs and one structured log line per request ------------------------------------

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9\-_.]{1,64}")
_current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "whatworks_request_id", default=None
)
request_logger = logging.getLogger("whatworks.request")


def current_request_id() -> str | None:
    """The ID of the request being served in this context, or None outside a request."""
    return _current_request_id.get()


def safe_request_id(value: str | None) -> str:
    """The incoming ID when it is safe to log and echo (at most 64 of ``A-Za-z0-9-_.``), else
    a fresh one: a proxy's ID links our lines to its own, but a header is never trusted to
    carry anything that could forge a log line or a response header."""
    if value and _SAFE_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIDMiddleware:
    """Gives every request an ID (``request.request_id``, the ``X-Request-ID`` response header
    and ``request_id`` on every log record emitted while it is served) and logs one line per
    request on ``whatworks.request`` at INFO: ID, method, path without the query string (it
    may carry names), status, duration in ms and the user's id (never the username)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = safe_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        _current_request_id.set(request_id)
        started = time.monotonic()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            response.headers[REQUEST_ID_HEADER] = request_id
            return response
        finally:
            user = getattr(request, "user", None)
            user_id = user.pk if user is not None and user.is_authenticated else None
            request_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                status,
                extra={
                    "http_method": request.method,
                    "path": request.path,
                    "status": status,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    "user_id": user_id,
                },
            )
            # The ID stays set until ``request_finished`` (below), not reset here: Django
            # logs a 4xx/5xx response (logger django.request) after the last middleware.


def _forget_request_id(**kwargs) -> None:
    _current_request_id.set(None)


request_finished.connect(_forget_request_id, dispatch_uid="whatworks.forget_request_id")


class RequestIDFilter(logging.Filter):
    """Adds ``request_id`` (None outside a request) to every record; attach it to handlers."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _current_request_id.get()
        return True


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, the request
    fields the middleware adds, and the exception if any."""

    EXTRA_FIELDS = ("http_method", "path", "status", "duration_ms", "user_id")

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", _current_request_id.get()),
        }
        for name in self.EXTRA_FIELDS:
            if hasattr(record, name):
                data["method" if name == "http_method" else name] = getattr(record, name)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)

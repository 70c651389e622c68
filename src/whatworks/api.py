"""The JSON API at /api/v1/: one NinjaAPI, with routers contributed by the apps."""

from __future__ import annotations

import functools
import json
import logging
import re

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db import DataError
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.views import openapi_view
from ninja.security import HttpBearer, django_auth

from whatworks.accounts.services import api_token_authenticate
from whatworks.records.access import is_active_staff


class PersonalTokenAuth(HttpBearer):
    """`Authorization: Bearer <token>` with a personal token from the profile page or CLI."""

    def authenticate(self, request, token: str):
        user = api_token_authenticate(raw_token=token)
        if user is not None:
            request.user = user
        return user


def schema_for_staff(view):
    """The OpenAPI schema and its docs page are for signed-in staff or a personal token only.

    They hold no records, but they map every operation of a closed service. Anonymous callers
    get 401 for the schema (as for any operation) and the login page for the docs page.
    """

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        user = getattr(request, "user", None)
        if not is_active_staff(user):
            scheme, _space, raw = request.headers.get("Authorization", "").partition(" ")
            bearer = scheme.lower() == "bearer"
            user = api_token_authenticate(raw_token=raw.strip()) if bearer else None
        if is_active_staff(user):
            if request.method not in ("GET", "HEAD"):
                return HttpResponseNotAllowed(["GET", "HEAD"])
            return view(request, *args, **kwargs)
        if getattr(view, "func", None) is openapi_view:
            return redirect_to_login(request.get_full_path())
        response = JsonResponse({"detail": _("Authentication required.")}, status=401)
        response["WWW-Authenticate"] = "Bearer"
        return response

    return wrapped


logger = logging.getLogger(__name__)

# Integers a database column can hold at most (SQLite INTEGER, PostgreSQL bigint). Larger ones
# make SQLite raise OverflowError; narrower columns are bounded in the schemas and services.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _unstorable(value) -> str | None:
    """Why ``value`` cannot reach the database, or None. PostgreSQL refuses NUL characters in
    text and JSON; neither database holds integers beyond 64 bits."""
    if isinstance(value, str) and "\x00" in value:
        return _("NUL characters (\\u0000) are not allowed.")
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and not INT64_MIN <= value <= INT64_MAX
    ):
        return _("This number is out of range.")
    return None


def _walk(value, loc: tuple):
    """Every (location, problem) inside a parsed JSON body, keys included."""
    if isinstance(value, dict):
        for key, item in value.items():
            if problem := _unstorable(key):
                yield (*loc, key), problem
            yield from _walk(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*loc, index))
    elif problem := _unstorable(value):
        yield loc, problem


def _path_value(value):
    """A path segment as the schema will read it: digits become the integer they spell."""
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value):
        return int(value)
    return value


def unstorable_input(request) -> list[dict]:
    """Errors, in ninja's 422 shape, for input no database can store: checked once for every
    operation, before the schemas and handlers see it."""
    errors = []
    match = getattr(request, "resolver_match", None)
    for name, value in (match.kwargs if match else {}).items():
        if problem := _unstorable(_path_value(value)):
            errors.append({"loc": ["path", name], "msg": problem, "type": "value_error"})
    for name, values in request.GET.lists():
        for value in [name, *values]:
            if problem := _unstorable(value):
                errors.append({"loc": ["query", name], "msg": problem, "type": "value_error"})
                break
    if request.content_type == "application/json" and request.body:
        try:
            body = json.loads(request.body)
        except ValueError:
            body = None  # the body parser answers 400 for it
        for loc, problem in _walk(body, ("body",)):
            errors.append({"loc": list(loc), "msg": problem, "type": "value_error"})
    return errors


class WhatWorksAPI(NinjaAPI):
    def create_temporal_response(self, request):
        # Called by every operation after authentication and before its input is parsed:
        # the one place to refuse what would otherwise fail in the database as a 500.
        if errors := unstorable_input(request):
            raise NinjaValidationError(errors)
        return super().create_temporal_response(request)


api = WhatWorksAPI(
    title="What Works API",
    version="1",
    description=(
        "Prison records, scoped to the caller's facilities and role exactly as the web app. "
        "Authenticate with a personal token: `Authorization: Bearer <token>`."
    ),
    auth=[PersonalTokenAuth(), django_auth],
    urls_namespace="api",
    docs_decorator=schema_for_staff,
)


def _error_payload(errors: dict[str, list[str]]) -> dict:
    return {
        "detail": [
            {"loc": ["body", field] if field != "__all__" else ["body"], "msg": message}
            for field, messages in errors.items()
            for message in messages
        ]
    }


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(request, _error_payload(errors), status=422)


@api.exception_handler(PermissionError)
def on_permission_error(request, exc: PermissionError):
    return api.create_response(request, {"detail": _("Not allowed for your role.")}, status=403)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request, exc: AuthenticationError):
    response = api.create_response(request, {"detail": _("Authentication required.")}, status=401)
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(Http404)
def on_not_found(request, exc: Http404):
    return api.create_response(request, {"detail": _("Not found.")}, status=404)


@api.exception_handler(DataError)
@api.exception_handler(OverflowError)
def on_unstorable_value(request, exc: Exception):
    """A safety net behind the schemas and unstorable_input: a value the database refuses
    (out of its range, too long) is the client's error, never a 500."""
    logger.warning(
        "API input refused by the database: %s %s: %s", request.method, request.path, exc
    )
    return api.create_response(
        request,
        {"detail": [{"loc": ["body"], "msg": _("A value is out of range or cannot be stored.")}]},
        status=422,
    )


def _register_routers() -> None:
    from whatworks.assessments.api import router as assessments_router
    from whatworks.community.api import router as community_router
    from whatworks.records.api import router as records_router
    from whatworks.reintegration.api import router as reintegration_router
    from whatworks.treatment.api import router as treatment_router

    api.add_router("", records_router)
    api.add_router("", assessments_router)
    api.add_router("", treatment_router)
    api.add_router("", reintegration_router)
    api.add_router("", community_router)


_register_routers()

"""The JSON API at /api/v1/: one NinjaAPI, with routers contributed by the apps."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer, django_auth

from whatworks.accounts.services import api_token_authenticate


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
    import functools

    from django.contrib.auth.views import redirect_to_login
    from django.http import JsonResponse
    from ninja.openapi.views import openapi_view

    from whatworks.records.access import is_active_staff

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        user = getattr(request, "user", None)
        if not is_active_staff(user):
            scheme, _space, raw = request.headers.get("Authorization", "").partition(" ")
            bearer = scheme.lower() == "bearer"
            user = api_token_authenticate(raw_token=raw.strip()) if bearer else None
        if is_active_staff(user):
            return view(request, *args, **kwargs)
        if getattr(view, "func", None) is openapi_view:
            return redirect_to_login(request.get_full_path())
        response = JsonResponse({"detail": _("Authentication required.")}, status=401)
        response["WWW-Authenticate"] = "Bearer"
        return response

    return wrapped


api = NinjaAPI(
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

"""The staff member's own profile, personal API tokens and two-factor sign-in."""

from __future__ import annotations

import base64
from base64 import b32encode
from urllib.parse import urlencode

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from whatworks.accounts.forms import ApiTokenCreateForm, TwoFactorCodeForm
from whatworks.accounts.services import (
    api_token_create,
    api_token_revoke,
    client_address,
    two_factor_confirm,
    two_factor_device,
    two_factor_disable,
    two_factor_enrol,
    two_factor_pending_device,
    two_factor_required,
    two_factor_verify,
)
from whatworks.records.access import ALL_FACILITY_ROLES
from whatworks.web.pages import add_service_errors


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """Who the user is, and their API tokens. A new raw token is shown in this response only."""
    user = request.user
    form = ApiTokenCreateForm(request.POST or None)
    new_token = raw_token = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                new_token, raw_token = api_token_create(
                    actor=user, user=user, name=form.cleaned_data["name"]
                )
            except PermissionError as error:
                raise PermissionDenied(str(error)) from error
            form = ApiTokenCreateForm()
        else:
            status = 400
    context = {
        "profile_user": user,
        "sees_all_facilities": user.role in ALL_FACILITY_ROLES,
        "facilities": user.facilities.order_by("code"),
        "tokens": user.api_tokens.all(),
        "form": form,
        "new_token": new_token,
        "raw_token": raw_token,
        "two_factor_enabled": two_factor_device(user) is not None,
        "two_factor_required": two_factor_required(user),
    }
    return render(request, "accounts/profile.html", context, status=status)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(request.user.api_tokens, pk=token_id)
    try:
        api_token_revoke(actor=request.user, token=token)
    except PermissionError as error:
        raise PermissionDenied(str(error)) from error
    messages.success(request, _("The token “%(name)s” has been revoked.") % {"name": token.name})
    return redirect("profile")


# --- two-factor sign-in --------------------------------------------------------------------


def _next_url(request: HttpRequest) -> str:
    """Where to go after the code: the page the user asked for, if it is ours."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return settings.LOGIN_REDIRECT_URL


def _qr_data_uri(text: str) -> str:
    """The otpauth:// URL as a QR code: an SVG made here, embedded as a data: image.

    The content security policy allows data: images and nothing is fetched from elsewhere.
    """
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode("ascii")


def _base32_groups(device) -> str:
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Two-factor status and enrolment: start, scan the QR code, confirm with a code."""
    user = request.user
    device = two_factor_device(user)
    pending = None if device is not None else two_factor_pending_device(user)
    form = TwoFactorCodeForm()
    status = 200
    if request.method == "POST" and device is None:
        if request.POST.get("action") == "start":
            try:
                two_factor_enrol(actor=user)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            return redirect(_with_next("two-factor", request))
        form = TwoFactorCodeForm(request.POST)
        if pending is None:
            messages.error(request, _("Start the set-up first."))
            return redirect(_with_next("two-factor", request))
        if form.is_valid():
            try:
                confirmed = two_factor_confirm(
                    actor=user,
                    device=pending,
                    token=form.cleaned_data["token"],
                    address=client_address(request),
                )
            except ValidationError as error:
                add_service_errors(form, error)
                status = 400
            else:
                django_otp.login(request, confirmed)
                request.session.cycle_key()
                messages.success(
                    request,
                    _(
                        "Two-factor sign-in is set up. You will be asked for a code each time "
                        "you sign in."
                    ),
                )
                return redirect(_next_url(request))
        else:
            status = 400
    elif request.method == "POST":
        if request.POST.get("action") == "disable" and user.is_verified():
            try:
                two_factor_disable(actor=user)
            except PermissionError as error:
                raise PermissionDenied(str(error)) from error
            messages.success(request, _("Two-factor sign-in is turned off."))
        return redirect("two-factor")
    context = {
        "device": device,
        "pending": pending,
        "required": two_factor_required(user),
        "form": form,
        "next": _next_param(request),
    }
    if pending is not None:
        context["qr_data_uri"] = _qr_data_uri(pending.config_url)
        context["secret"] = _base32_groups(pending)
        context["issuer"] = settings.OTP_TOTP_ISSUER
    return render(request, "accounts/two_factor.html", context, status=status)


def _next_param(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    return candidate if _next_url(request) == candidate else ""


def _with_next(url_name: str, request: HttpRequest) -> str:
    url = reverse(url_name)
    next_value = _next_param(request)
    return f"{url}?{urlencode({'next': next_value})}" if next_value else url


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify_view(request: HttpRequest) -> HttpResponse:
    """The code step after the password, for users with an authenticator."""
    user = request.user
    if user.is_verified() or two_factor_device(user) is None:
        return redirect(_next_url(request))
    form = TwoFactorCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                device = two_factor_verify(
                    actor=user, token=form.cleaned_data["token"], address=client_address(request)
                )
            except ValidationError as error:
                add_service_errors(form, error)
                status = 400
            else:
                django_otp.login(request, device)
                request.session.cycle_key()  # a new session key for the fully signed-in session
                return redirect(_next_url(request))
        else:
            status = 400
    context = {"form": form, "next": _next_param(request)}
    return render(request, "accounts/two_factor_verify.html", context, status=status)

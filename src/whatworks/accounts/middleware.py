"""Two-factor sign-in for the roles that require it (settings.TWO_FACTOR_REQUIRED_ROLES).

Runs after django_otp's OTPMiddleware, which tells whether the session was verified with a
code (``request.user.is_verified()``). A signed-in user who must give a code (their role
requires it, or they have set up an authenticator) and has not done so in this session is
sent to the code page, or to enrolment if they have no authenticator yet, and reaches
nothing else but logging out, static files, the language switcher and the health check.

The API (/api/) is not redirected: personal tokens are issued only from a verified session
(the profile page sits behind this middleware), so a Bearer token already carries the second
factor. A session cookie that is not verified is however not accepted by the API: the user
is made anonymous there, so only a Bearer token can authenticate.
"""

from __future__ import annotations

import contextlib
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponseRedirect
from django.urls import NoReverseMatch, reverse

from whatworks.accounts.services import two_factor_device, two_factor_required

API_PREFIX = "/api/"


def _exempt_prefixes() -> tuple[str, ...]:
    static = "/" + settings.STATIC_URL.lstrip("/") if settings.STATIC_URL else "/static/"
    prefixes = [static, "/i18n/"]
    for name in ("healthz", "logout"):
        # A URLconf without them (a test's, an embedding project's) exempts nothing more.
        with contextlib.suppress(NoReverseMatch):
            prefixes.append(reverse(name))
    return tuple(prefixes)


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self._intercept(request)
        return response if response is not None else self.get_response(request)

    def _intercept(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        is_verified = getattr(user, "is_verified", None)
        if is_verified is not None and is_verified():
            return None
        path = request.path_info
        if path.startswith(_exempt_prefixes()):
            return None
        has_device = two_factor_device(user) is not None
        if not has_device and not two_factor_required(user):
            return None  # a user who may sign in with a password alone and chose to
        # The page layout shows such a session no navigation: it can only give its code (or
        # enrol) or log out.
        request.two_factor_pending = True
        if path.startswith(API_PREFIX):
            request.user = AnonymousUser()  # a Bearer token still authenticates
            return None
        target = reverse("two-factor-verify" if has_device else "two-factor")
        if path == target:
            return None
        query = ""
        if request.method == "GET":
            query = "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(target + query)

"""The staff member's own profile and personal API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from whatworks.accounts.forms import ApiTokenCreateForm
from whatworks.accounts.services import api_token_create, api_token_revoke
from whatworks.records.access import ALL_FACILITY_ROLES


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

"""Provider directory, a person's community page (referrals and follow-up) and the
follow-up list. Access -> form -> service/selector -> render. A person out of scope is a
404; a role that may not act gets the 403 page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from whatworks.community import access, selectors, services
from whatworks.community.conf import grace_days
from whatworks.community.forms import (
    FollowUpContactForm,
    ProviderFilterForm,
    ProviderForm,
    ProviderReferralForm,
    ProviderReferralTransitionForm,
)
from whatworks.community.models import (
    CommunityProvider,
    FollowUpContact,
    FollowUpStatus,
    ProviderReferral,
)
from whatworks.concurrency import marking_stale, page_status, refuse_if_stale, stale_message
from whatworks.service_helpers import today
from whatworks.web.pages import (
    add_service_errors,
    forbidden,
    form_status,
    form_to_service,
    person_or_404,
    posted,
)

# --- providers ---------------------------------------------------------------------------


@login_required
@require_GET
def provider_list(request: HttpRequest) -> HttpResponse:
    if not access.can_view_providers(request.user):
        return forbidden(request, _("Your role does not use the provider directory."))
    form = ProviderFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    active = {"inactive": False, "all": None}.get(filters.get("active") or "active", True)
    providers = selectors.provider_list(
        viewer=request.user,
        kind=filters.get("kind") or "",
        pathway=filters.get("pathway") or "",
        region=filters.get("region") or "",
        q=filters.get("q") or "",
        active=active,
    )
    context = {
        "form": form,
        "providers": providers,
        "can_manage": access.can_manage_providers(request.user),
    }
    return render(request, "community/provider_list.html", context)


def _provider_or_404(user, provider_id: int) -> CommunityProvider:
    try:
        return selectors.provider_by_id(viewer=user, provider_id=provider_id)
    except CommunityProvider.DoesNotExist as error:
        raise Http404 from error


@login_required
@require_GET
def provider_detail(request: HttpRequest, provider_id: int) -> HttpResponse:
    if not access.can_view_providers(request.user):
        return forbidden(request, _("Your role does not use the provider directory."))
    provider = _provider_or_404(request.user, provider_id)
    context = {"provider": provider, "can_manage": access.can_manage_providers(request.user)}
    return render(request, "community/provider_detail.html", context)


def _provider_form_page(request, form, title, provider=None) -> HttpResponse:
    context = {"form": form, "title": title, "provider": provider}
    return render(request, "community/provider_form.html", context, status=form_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def provider_new(request: HttpRequest) -> HttpResponse:
    if not access.can_manage_providers(request.user):
        return forbidden(request, _("Only administrators and facility managers add providers."))
    form = ProviderForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            provider = services.provider_create(actor=request.user, data=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The provider is added to the directory."))
            return redirect("community-provider-detail", provider.pk)
    return _provider_form_page(request, form, _("Add a community provider"))


@login_required
@require_http_methods(["GET", "POST"])
def provider_edit(request: HttpRequest, provider_id: int) -> HttpResponse:
    if not access.can_manage_providers(request.user):
        return forbidden(request, _("Only administrators and facility managers edit providers."))
    provider = _provider_or_404(request.user, provider_id)
    initial = {
        field: getattr(provider, field)
        for field in (
            "name",
            "kind",
            "pathways",
            "address",
            "phone",
            "email",
            "contact_person",
            "notes",
            "active",
        )
    }
    initial["coverage_regions"] = "\n".join(provider.coverage_regions)
    form = ProviderForm(posted(request), initial=initial)

    def save(data):
        services.provider_update(actor=request.user, provider=provider, data=data)

    if form_to_service(request, form, save, success=_("The provider is updated.")):
        return redirect("community-provider-detail", provider.pk)
    return _provider_form_page(request, form, _("Edit a community provider"), provider)


@login_required
@require_POST
def provider_deactivate(request: HttpRequest, provider_id: int) -> HttpResponse:
    if not access.can_manage_providers(request.user):
        return forbidden(
            request, _("Only administrators and facility managers deactivate providers.")
        )
    provider = _provider_or_404(request.user, provider_id)
    try:
        services.provider_deactivate(actor=request.user, provider=provider)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The provider is deactivated."))
    return redirect("community-provider-detail", provider.pk)


# --- a person's community page -----------------------------------------------------------


@login_required
@require_GET
def person_community(request: HttpRequest, person_id: int) -> HttpResponse:
    if not access.can_view_community_records(request.user):
        return forbidden(request, _("Your role does not see persons."))
    person = person_or_404(request.user, person_id)
    followups = selectors.person_followups(viewer=request.user, person=person)
    scheduled_episodes = {row.contact.episode_id for row in followups}
    unscheduled = [
        episode
        for episode in person.custody_episodes.filter(release_date__isnull=False)
        if episode.pk not in scheduled_episodes and services.episode_gets_followup(episode)
    ]
    context = {
        "person": person,
        "referrals": selectors.person_referrals(viewer=request.user, person=person),
        "followups": followups,
        "unscheduled_releases": unscheduled,
        "can_write": access.can_write_community_records(request.user),
        "grace_days": grace_days(),
        "show_health": access.can_see_health_outcomes(request.user),
        "show_justice": access.can_see_justice_outcomes(request.user),
    }
    return render(request, "community/person_community.html", context)


def _person_form_page(request, person, form, title) -> HttpResponse:
    context = {"person": person, "form": form, "title": title}
    return render(request, "community/form.html", context, status=form_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def referral_new(request: HttpRequest, person_id: int) -> HttpResponse:
    person = person_or_404(request.user, person_id)
    if not access.can_write_community_records(request.user):
        return forbidden(request, _("Your role does not refer to community providers."))
    providers = selectors.providers_for_person(viewer=request.user, person=person)
    initial = {"referred_on": today(), "status": "proposed"}
    if request.GET.get("provider"):
        initial["provider"] = request.GET["provider"]
    form = ProviderReferralForm(posted(request), initial=initial, providers=providers)

    def save(data):
        services.provider_referral_create(actor=request.user, person=person, data=data)

    if form_to_service(request, form, save, success=_("The referral is recorded.")):
        return redirect("person-community", person.pk)
    return _person_form_page(request, person, form, _("Refer to a community provider"))


@login_required
@require_http_methods(["GET", "POST"])
def referral_transition(request: HttpRequest, referral_id: int) -> HttpResponse:
    if not access.can_write_community_records(request.user):
        return forbidden(request, _("Your role cannot change community records."))
    try:
        referral = access.access_referral_for_edit(request.user, referral_id)
    except ProviderReferral.DoesNotExist as error:
        raise Http404 from error
    next_statuses = referral.next_statuses()
    if not next_statuses:
        if request.method == "POST":  # ended by someone else while this form was open
            messages.error(request, stale_message(referral))
        else:
            messages.error(request, _("This referral has ended; its status no longer changes."))
        return redirect("person-community", referral.person_id)
    form = ProviderReferralTransitionForm(
        posted(request),
        initial={"effective_date": today(), "lock_version": referral.lock_version},
        next_statuses=next_statuses,
    )

    def save(data):
        data = dict(data)
        expected = data.pop("lock_version")
        with marking_stale(form):
            services.provider_referral_transition(
                actor=request.user, referral=referral, data=data, expected_version=expected
            )

    stale = request.method == "POST" and refuse_if_stale(form, referral)
    if not stale and form_to_service(
        request, form, save, success=_("The referral's status is changed.")
    ):
        return redirect("person-community", referral.person_id)
    title = _("Referral to %(provider)s: change the status") % {"provider": referral.provider}
    context = {"person": referral.person, "form": form, "title": title}
    return render(request, "community/form.html", context, status=page_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def followup_record(request: HttpRequest, contact_id: int) -> HttpResponse:
    if not access.can_write_community_records(request.user):
        return forbidden(request, _("Your role cannot change community records."))
    try:
        contact = access.access_contact_for_edit(request.user, contact_id)
    except FollowUpContact.DoesNotExist as error:
        raise Http404 from error
    initial = {
        field: getattr(contact, field)
        for field in (
            "contact_date",
            "contact_mode",
            "housing_status",
            "employment_status",
            "substance_use",
            "treatment_continuity",
            "justice_contact",
            "notes",
        )
    }
    initial["status"] = (
        contact.status if contact.status != FollowUpStatus.SCHEDULED else FollowUpStatus.DONE
    )
    initial["contact_date"] = contact.contact_date or min(today(), contact.due_date)
    form = FollowUpContactForm(posted(request), initial=initial)

    def save(data):
        services.followup_contact_record(actor=request.user, contact=contact, data=data)

    if form_to_service(request, form, save, success=_("The follow-up contact is recorded.")):
        return redirect("person-community", contact.person_id)
    title = _("Follow-up at month %(month)s (due %(due)s)") % {
        "month": contact.month,
        "due": contact.due_date.isoformat(),
    }
    return _person_form_page(request, contact.person, form, title)


@login_required
@require_POST
def followup_schedule(request: HttpRequest, person_id: int) -> HttpResponse:
    """Create the follow-up schedule of the person's releases that have none (releases made
    before this feature); idempotent."""
    person = person_or_404(request.user, person_id)
    if not access.can_write_community_records(request.user):
        return forbidden(request, _("Your role does not schedule follow-up."))
    created = 0
    for episode in person.custody_episodes.filter(release_date__isnull=False):
        created += len(services.followup_schedule_create(actor=request.user, episode=episode))
    messages.success(
        request,
        _("%(count)s follow-up contacts scheduled.") % {"count": created},
    )
    return redirect("person-community", person.pk)


# --- the follow-up list ------------------------------------------------------------------


@login_required
@require_GET
def followups_overview(request: HttpRequest) -> HttpResponse:
    if not access.can_view_followup_counts(request.user):
        return forbidden(request, _("Your role does not see follow-up."))
    overview = selectors.followups_due(viewer=request.user)
    context = {
        "overview": overview,
        "summary": selectors.followup_outcomes_summary(viewer=request.user, today=overview.today),
        "can_write": access.can_write_community_records(request.user),
    }
    return render(request, "community/followups.html", context)

"""The link review queue (uncertain matches of police and court records to persons) and the
import log. Access -> form -> service/selector -> render. An item out of scope is a 404;
a role without the queue gets the 403 page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from whatworks.outcomes import access, selectors, services
from whatworks.outcomes.forms import AcceptForm, RejectForm
from whatworks.outcomes.models import LinkReview, ReviewStatus
from whatworks.records.models import Person
from whatworks.web.pages import add_service_errors, forbidden, person_or_404


def _review_or_404(user, review_id: int) -> LinkReview:
    try:
        return access.access_link_review(user, review_id)
    except LinkReview.DoesNotExist as error:
        raise Http404 from error


def _no_queue(request: HttpRequest) -> HttpResponse:
    return forbidden(request, _("Your role does not review police and court records."))


@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    if not access.can_review_links(request.user):
        return _no_queue(request)
    reviews = list(selectors.pending_reviews(viewer=request.user))
    return render(request, "outcomes/review_queue.html", {"reviews": reviews})


def _detail(request, review, *, reject_form=None, accept_form=None, status=200):
    candidate = review.candidate
    context = {
        "review": review,
        "candidate": candidate,
        "fields": selectors.comparison(review, candidate) if candidate else [],
        "others": selectors.other_candidates(viewer=request.user, review=review),
        "reject_form": reject_form or RejectForm(),
        "accept_form": accept_form,
        "pending": review.status == ReviewStatus.PENDING,
    }
    return render(request, "outcomes/review_detail.html", context, status=status)


@login_required
@require_GET
def review_detail(request: HttpRequest, review_id: int) -> HttpResponse:
    if not access.can_review_links(request.user):
        return _no_queue(request)
    return _detail(request, _review_or_404(request.user, review_id))


@login_required
@require_POST
def review_accept(request: HttpRequest, review_id: int) -> HttpResponse:
    if not access.can_review_links(request.user):
        return _no_queue(request)
    review = _review_or_404(request.user, review_id)
    form = AcceptForm(request.POST)
    if form.is_valid():
        person = None
        if form.cleaned_data["person"]:
            person = person_or_404(request.user, form.cleaned_data["person"])
        try:
            review = services.link_review_accept(actor=request.user, review=review, person=person)
        except (LinkReview.DoesNotExist, Person.DoesNotExist) as error:
            raise Http404 from error
        except ValidationError as error:
            add_service_errors(form, error, {"person": "__all__", "status": "__all__"})
        else:
            messages.success(
                request,
                _("The record is now an outcome event of %(name)s.")
                % {"name": review.candidate.full_name},
            )
            return redirect("person-detail", review.candidate_id)
    return _detail(request, review, accept_form=form, status=400)


@login_required
@require_POST
def review_reject(request: HttpRequest, review_id: int) -> HttpResponse:
    if not access.can_review_links(request.user):
        return _no_queue(request)
    review = _review_or_404(request.user, review_id)
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            services.link_review_reject(
                actor=request.user, review=review, reason=form.cleaned_data["reason"]
            )
        except (LinkReview.DoesNotExist, Person.DoesNotExist) as error:
            raise Http404 from error
        except ValidationError as error:
            add_service_errors(form, error, {"status": "__all__"})
        else:
            messages.success(request, _("The link is rejected; the record stays unlinked."))
            return redirect("outcome-review-queue")
    return _detail(request, review, reject_form=form, status=400)


@login_required
@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    if not access.can_view_imports(request.user):
        return forbidden(request, _("Your role does not see the outcome import log."))
    context = {
        "imports": list(selectors.import_list()),
        "show_unmatched": access.can_see_unmatched_rows(request.user),
    }
    return render(request, "outcomes/import_list.html", context)

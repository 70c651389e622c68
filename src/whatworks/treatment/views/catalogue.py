"""The programme catalogue: list, detail, create and edit, and fidelity reviews.

The catalogue is not person data: every active member of staff reads it; editors (see
``treatment.access``) change it through ``treatment.services``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from whatworks.analytics.treatment import ChecklistError, load_checklist
from whatworks.records.access import facilities_in_scope
from whatworks.records.choices import EducationLevel, Literacy, Sex
from whatworks.treatment import access, selectors, services
from whatworks.treatment.forms.catalogue import (
    FidelityReviewForm,
    ProgrammeForm,
    TypeFilterForm,
    checklist_language,
    checklist_text,
)
from whatworks.treatment.labels import (
    ADAPTATION_LABELS,
    FIDELITY_BAND_LABELS,
    band_label,
    need_label,
)
from whatworks.treatment.models import Programme
from whatworks.web.pages import add_service_errors, forbidden

CHECKLIST = "cpc-style"


def _programme_or_404(user, programme_id: int) -> Programme:
    try:
        return selectors.catalogue(viewer=user, include_inactive=True).get(pk=programme_id)
    except Programme.DoesNotExist as error:
        raise Http404 from error


def _choice_labels(choices, codes) -> str:
    labels = dict(choices)
    return ", ".join(str(labels.get(code, code)) for code in codes or [])


def fidelity_band_label(band: str | None) -> str:
    return str(FIDELITY_BAND_LABELS.get(band, band or ""))


def percent_text(percent: float | None) -> str:
    """64.5 -> "64.5", 100.0 -> "100"; None -> "—"."""
    if percent is None:
        return "—"
    return f"{percent:.1f}".rstrip("0").rstrip(".")


@login_required
@require_GET
def programme_list(request: HttpRequest) -> HttpResponse:
    if not access.can_view_catalogue(request.user):
        return forbidden(request, _("Your role cannot see the programme catalogue."))
    form = TypeFilterForm(request.GET or None)
    programmes = selectors.catalogue(viewer=request.user)
    status = 200
    if form.is_bound:
        if form.is_valid():
            if form.cleaned_data["type"]:
                programmes = programmes.filter(programme_type=form.cleaned_data["type"])
        else:
            status = 400
    rows = []
    for programme in programmes:
        review = selectors.latest_fidelity(programme)
        rows.append(
            {
                "programme": programme,
                "needs": ", ".join(need_label(need) for need in programme.target_needs or []),
                "review": review,
                "band": fidelity_band_label(review.band) if review else "",
                "percent": percent_text(review.percent) if review else "",
                "facilities": [facility.code for facility in programme.facilities.all()],
            }
        )
    context = {
        "form": form,
        "rows": rows,
        "can_edit": access.can_edit_catalogue(request.user),
    }
    return render(request, "treatment/catalogue/programme_list.html", context, status=status)


@login_required
@require_GET
def programme_detail(request: HttpRequest, programme_id: int) -> HttpResponse:
    programme = _programme_or_404(request.user, programme_id)
    language = checklist_language(request.LANGUAGE_CODE)
    reviews = []
    for review in programme.fidelity_reviews.select_related("reviewer", "facility").order_by(
        "-reviewed_on", "-id"
    ):
        try:
            domain_names = {
                domain.id: checklist_text(domain.name, language)
                for domain in load_checklist(review.checklist).domains
            }
        except ChecklistError:
            domain_names = {}
        reviews.append(
            {
                "review": review,
                "band": fidelity_band_label(review.band),
                "percent": percent_text(review.percent),
                "domains": [
                    {
                        "name": domain_names.get(domain_id, domain_id),
                        "percent": percent_text(percent),
                    }
                    for domain_id, percent in (review.domain_percents or {}).items()
                ],
            }
        )
    context = {
        "programme": programme,
        "needs": [need_label(need) for need in programme.target_needs or []],
        "sexes": _choice_labels(Sex.choices, programme.eligible_sexes),
        "risk_bands": ", ".join(band_label(band) for band in programme.eligible_risk_bands or []),
        "min_literacy": _choice_labels(Literacy.choices, [programme.min_literacy])
        if programme.min_literacy
        else "",
        "min_education": _choice_labels(EducationLevel.choices, [programme.min_education])
        if programme.min_education
        else "",
        "max_education": _choice_labels(EducationLevel.choices, [programme.max_education])
        if programme.max_education
        else "",
        "prerequisites": list(programme.prerequisites.order_by("name")),
        "adaptations": [
            str(ADAPTATION_LABELS.get(code, code)) for code in programme.adaptations or []
        ],
        "reviews": reviews,
        "groups": list(
            selectors.groups_for(viewer=request.user, programme=programme).order_by(
                "-start_date", "name"
            )
        ),
        "can_edit": access.can_edit_catalogue(request.user),
        "can_deliver": access.can_deliver(request.user),
    }
    return render(request, "treatment/catalogue/programme_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def programme_edit(request: HttpRequest, programme_id: int | None = None) -> HttpResponse:
    if not access.can_edit_catalogue(request.user):
        return forbidden(request, _("Your role cannot edit the programme catalogue."))
    programme = _programme_or_404(request.user, programme_id) if programme_id else None
    initial = ProgrammeForm.initial_from(programme) if programme else None
    form = ProgrammeForm(request.POST or None, programme=programme, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.programme_save(
                actor=request.user, programme=programme, **form.service_arguments()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionError:
            return forbidden(request, _("Your role cannot edit the programme catalogue."))
        else:
            messages.success(request, _("The programme is saved."))
            return redirect("programme-detail", saved.pk)
    context = {"form": form, "programme": programme}
    status = 400 if form.errors else 200
    return render(request, "treatment/catalogue/programme_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def fidelity_new(request: HttpRequest, programme_id: int) -> HttpResponse:
    if not access.can_edit_catalogue(request.user):
        return forbidden(request, _("Your role cannot record fidelity reviews."))
    programme = _programme_or_404(request.user, programme_id)
    checklist = load_checklist(CHECKLIST)
    language = checklist_language(request.LANGUAGE_CODE)
    form = FidelityReviewForm(
        request.POST or None,
        checklist=checklist,
        language=language,
        facilities=facilities_in_scope(request.user).order_by("name"),
        initial={"reviewed_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            review = services.fidelity_review_record(
                actor=request.user,
                programme=programme,
                answers=form.answers(),
                reviewed_on=form.cleaned_data["reviewed_on"],
                facility=form.cleaned_data["facility"],
                notes=form.cleaned_data["notes"],
                checklist_name=CHECKLIST,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionError:
            return forbidden(request, _("Your role cannot record fidelity reviews."))
        else:
            messages.success(
                request,
                _("Fidelity review recorded: %(percent)s%% (%(band)s).")
                % {
                    "percent": percent_text(review.percent),
                    "band": fidelity_band_label(review.band),
                },
            )
            return redirect("programme-detail", programme.pk)
    context = {
        "form": form,
        "programme": programme,
        "checklist_name": checklist_text(checklist.name, language),
        "checklist_description": checklist_text(checklist.description, language)
        if checklist.description
        else "",
        "citation": checklist.citation,
    }
    status = 400 if form.errors else 200
    return render(request, "treatment/catalogue/fidelity_form.html", context, status=status)

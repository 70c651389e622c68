"""Placeholder views: replaced as the pages are written."""

from django.http import Http404


def py(request, **kwargs):
    raise Http404


def treatment_dashboard(request, **kwargs):
    raise Http404


"""Placeholder views: replaced as the pages are written."""

from django.http import Http404


def py(request, **kwargs):
    raise Http404


def programme_list(request, **kwargs):
    raise Http404


def programme_edit(request, **kwargs):
    raise Http404


def programme_detail(request, **kwargs):
    raise Http404


def fidelity_new(request, **kwargs):
    raise Http404


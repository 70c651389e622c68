"""Placeholder views: replaced as the pages are written."""

from django.http import Http404


def py(request, **kwargs):
    raise Http404


def waitlist_overview(request, **kwargs):
    raise Http404


def waitlist_detail(request, **kwargs):
    raise Http404


def group_list(request, **kwargs):
    raise Http404


def group_new(request, **kwargs):
    raise Http404


def group_detail(request, **kwargs):
    raise Http404


def sessions_new(request, **kwargs):
    raise Http404


def session_register(request, **kwargs):
    raise Http404


def attendance_correct(request, **kwargs):
    raise Http404


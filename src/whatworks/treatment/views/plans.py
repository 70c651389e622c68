"""Placeholder views: replaced as the pages are written."""

from django.http import Http404


def py(request, **kwargs):
    raise Http404


def person_treatment(request, **kwargs):
    raise Http404


def plan_propose(request, **kwargs):
    raise Http404


def referral_new(request, **kwargs):
    raise Http404


def fault_new(request, **kwargs):
    raise Http404


def plan_detail(request, **kwargs):
    raise Http404


def plan_approve(request, **kwargs):
    raise Http404


def plan_revise(request, **kwargs):
    raise Http404


def plan_review(request, **kwargs):
    raise Http404


def goal_edit(request, **kwargs):
    raise Http404


def goal_delete(request, **kwargs):
    raise Http404


def step_edit(request, **kwargs):
    raise Http404


def referral_detail(request, **kwargs):
    raise Http404


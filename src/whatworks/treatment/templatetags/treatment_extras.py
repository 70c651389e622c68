"""Placeholder: the person page's Treatment section is being written."""

from django import template

register = template.Library()


@register.simple_tag
def person_treatment_section(person):
    return ""

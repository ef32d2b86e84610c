"""Fragments: the few pieces of HTML a page repeats for every row of something long (a care
plan's items), rendered by Jinja2 instead of Django's template engine (ADR 0030).

Django's engine resolves every variable by trying a dict key, an attribute and a list
index in turn, and walks a node tree an item; a care plan's 80 items took a third of its
page (36 of 111 ms on the trust data, issue 15). Jinja2 compiles a template to Python once.
A fragment is still a template under `templates/` (`.jinja`), in NHS.UK markup, and its
output is the same as Django's, byte for byte:

- every `{{ value }}` is written as Django writes a variable: in the current time zone,
  localised, then escaped by Django's own `conditional_escape` (Jinja2's escaping writes
  quotes differently);
- Django's own filters (`linebreaks`, `linebreaksbr`, `date`) are the fragments' filters;
- autoescaping is always on, and undefined names write nothing, as in Django.

A fragment gets only what its caller passes; it has no request, no context processors and
no template tags, so it cannot reach anything its page has not already read.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import jinja2
from django.conf import settings
from django.template import defaultfilters
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString
from django.utils.timezone import template_localtime


def _as_django_writes(value: Any) -> Any:
    """What Django's engine does to a variable before writing it (`render_value_in_context`),
    with an int written straight: localising one only adds thousands separators, which this
    project does not use (USE_THOUSAND_SEPARATOR is off)."""
    if type(value) is int:
        return str(value)
    return conditional_escape(localize(template_localtime(value)))


@cache
def fragment_environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(settings.BASE_DIR / "templates"),
        autoescape=True,
        finalize=_as_django_writes,
        keep_trailing_newline=True,  # as Django includes a file: its last newline too
        auto_reload=settings.DEBUG,
    )
    environment.filters.update({
        name: _as_django_filters(function) for name, function in (
            ("linebreaks", defaultfilters.linebreaks_filter),
            ("linebreaksbr", defaultfilters.linebreaksbr),
            ("date", defaultfilters.date),
        )
    })
    return environment


def _as_django_filters(function: Callable) -> Callable:
    """A Django filter, given its value as Django's engine gives it: a filter that
    `expects_localtime` (`date`) gets a datetime in the current time zone."""
    if not getattr(function, "expects_localtime", False):
        return function

    def in_local_time(value: Any, *args: Any) -> Any:
        return function(template_localtime(value), *args)

    return in_local_time


def fragment(name: str) -> jinja2.Template:
    """The fragment template `name` (under templates/), compiled once."""
    return fragment_environment().get_template(name)


def render_fragment(template: jinja2.Template, **context: Any) -> SafeString:
    # Safe: the environment escapes everything a fragment writes (autoescape, and
    # `_as_django_writes` for every value), as Django's engine does for a template.
    return SafeString(template.render(context))  # nosec B703

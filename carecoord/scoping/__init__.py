"""Sensitive models refuse to start a query anywhere but a selector, a service, the access
policy and their like.

Pages, API views, tasks, template tags (and the templates they render) reach personal data
only through selectors and services, which ask the access policy. The import contracts
keep page modules from importing the policy's tables; this guard catches what no import
check can see: `Model._default_manager`, a related manager such as
`service_user.plans.all()` (in code or in a template), a query built over several lines,
a model reached through another module. Every sensitive model's default manager (and so
every related manager built from it) asks, when a query starts, which project module
started it; any module that is not of an allowed kind (`ALLOWED_ORIGIN`) is refused with
`UnscopedQueryError`, so a page in a module with a new name is refused too.

`ACCESS_SCOPE_GUARD` (settings): "raise" (the default, and in tests), "log" (report and
carry on), or "off".
"""

from __future__ import annotations

import logging
import re
import sys

from django.conf import settings
from django.db import models

logger = logging.getLogger(__name__)

PROJECT_PACKAGES = frozenset({"carecoord", "plans", "consent", "carers", "peersupport"})
# The kinds of module that may start a query on a sensitive model: the reads and writes
# that ask the access policy (and the policy itself), models, the managers' metadata
# reports, forms' choices, the admin, migrations, commands and the demo data. Anything
# else (a page, an API view, a task, a template tag, or a module with a new name) may not.
ALLOWED_ORIGIN = re.compile(
    r"(^|\.)(models|grants|services|selectors|policy|receivers|reminders|forms|admin"
    r"|migrations|management|demo|reports|stuck)(\.|$)"
)
# Framework code that only passes a query on for its caller: look through it to the
# project module that asked. Other framework code (model validation, the admin, the
# migration machinery) starts its own queries and is not a page.
PASS_THROUGH = (
    "django.db.models.",
    "django.template.",
    "django.templatetags.",
    "django.utils.functional",
    "django.shortcuts",
    "rest_framework.",
    "django.test.utils",  # the test runner's wrapper around Template.render
    "jinja2.",  # fragments (carecoord.web.fragments): templates, like Django's
)


def _module_of(frame) -> str:
    """The module a frame runs in. A compiled Jinja2 template (a fragment) runs in globals
    of its own with no `__name__`; it is named as Jinja2's, so the guard looks through it
    to the tag that rendered it, as it looks through a Django template."""
    names = frame.f_globals
    name = names.get("__name__")
    if name is None and "environment" in names:
        return "jinja2.template"
    return name or ""


class UnscopedQueryError(RuntimeError):
    """A page, API view, task or template tag started a query on a sensitive model."""


def query_origin(depth: int = 2) -> str | None:
    """The project module that started this query, looking through framework code that
    only passes it on; None when framework code started it on its own."""
    frame = sys._getframe(depth)
    while frame is not None:
        name = _module_of(frame)
        if name.partition(".")[0] in PROJECT_PACKAGES:
            return name
        if not name.startswith(PASS_THROUGH):
            return None
        frame = frame.f_back
    return None


def check_scope(model: type[models.Model]) -> None:
    mode = getattr(settings, "ACCESS_SCOPE_GUARD", "raise")
    if mode == "off":
        return
    origin = query_origin(3)  # past query_origin, check_scope and get_queryset
    if origin is None or ALLOWED_ORIGIN.search(origin):
        return
    message = (f"{origin} started a query on {model.__name__}: pages, API views, tasks and "
               "template tags read through a selector that asks consent.policy")
    if mode == "log":
        logger.error(message)
        return
    raise UnscopedQueryError(message)


class ScopedManager(models.Manager):
    """The default manager of every sensitive model (see the module's docstring)."""

    def get_queryset(self) -> models.QuerySet:
        check_scope(self.model)
        return super().get_queryset()

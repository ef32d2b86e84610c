"""Sensitive models refuse queries started by pages (carecoord/scoping): the bypasses an
import check cannot see — `_default_manager`, a related manager, a query split over lines,
a model reached through another module, a template or a fragment walking a relation —
each planted in code that runs as a page module, and each refused."""

from __future__ import annotations

import textwrap

import pytest
from django.template import Context, Template

from carecoord.scoping import UnscopedQueryError, query_origin
from carecoord.web.fragments import fragment_environment
from plans.models import Plan, PlanItem
from tests.plans.factories import make_plan

BYPASSES = {
    "the default manager": "PlanItem._default_manager.count()",
    "the manager under another name": "Items = PlanItem\nItems.objects.all().count()",
    "a related manager": "service_user.plans.count()",
    "a query split over lines": (
        "(PlanItem\n .objects\n .filter(plan__service_user=service_user)\n .count())"
    ),
    "a model reached through a module": "import plans.models as m\nm.PlanItem.objects.count()",
    "a template walking a relation": (
        "Template('{% for p in su.plans.all %}{{ p.pk }}{% endfor %}')"
        ".render(Context({'su': service_user}))"
    ),
    "a fragment walking a relation": (
        "fragment_environment().from_string("
        "'{% for p in su.plans.all() %}{{ p.pk }}{% endfor %}').render(su=service_user)"
    ),
}


def _run_as(module: str, code: str, **names) -> None:
    namespace = {"__name__": module, "PlanItem": PlanItem, "Plan": Plan,
                 "Template": Template, "Context": Context,
                 "fragment_environment": fragment_environment, **names}
    exec(compile(f"def planted():\n{textwrap.indent(code, '    ')}\n", module, "exec"),
         namespace)
    namespace["planted"]()


@pytest.mark.parametrize("module", ["plans.views", "carecoord.records.api",
                                    "plans.api.items", "plans.tasks",
                                    "carers.templatetags.carers_tags",
                                    "plans.pages"])  # a new module name
@pytest.mark.parametrize("bypass", BYPASSES, ids=list(BYPASSES))
def test_a_page_cannot_start_a_query_on_a_sensitive_model(world, module, bypass):
    make_plan(world)
    with pytest.raises(UnscopedQueryError, match=module.replace(".", r"\.")):
        _run_as(module, BYPASSES[bypass], service_user=world.service_user)


@pytest.mark.parametrize("module", ["plans.selectors", "plans.services", "consent.policy.plans",
                                    "carecoord.demo.plans"])
def test_selectors_services_and_the_policy_may(world, module):
    make_plan(world)
    for code in BYPASSES.values():
        _run_as(module, code, service_user=world.service_user)


def test_a_selectors_queryset_may_be_read_by_the_page_that_asked_for_it(world):
    """The query starts in the selector; the page only iterates what it was given."""
    make_plan(world)
    namespace = {"__name__": "plans.selectors", "PlanItem": PlanItem}
    exec("def items(su):\n    return PlanItem.objects.filter(plan__service_user=su)\n",
         namespace)
    _run_as("plans.views", "list(items(service_user))", items=namespace["items"],
            service_user=world.service_user)


def test_log_mode_reports_and_carries_on(world, settings, caplog):
    settings.ACCESS_SCOPE_GUARD = "log"
    _run_as("plans.views", "PlanItem.objects.count()")
    assert "plans.views started a query on PlanItem" in caplog.text


def test_the_origin_looks_through_django_to_the_module_that_asked():
    namespace = {"__name__": "plans.views", "origin": query_origin}
    exec("def where():\n    return origin(1)\n", namespace)
    assert namespace["where"]() == "plans.views"

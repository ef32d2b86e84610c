"""Schemathesis drives the whole API from its OpenAPI description (/api/schema/), in
process through the WSGI application, as a care coordinator, a service user and a carer
(each with a read and write API token): generated paths, queries and bodies, valid and
not, never get a server error, and every answer matches the schema (status code, content
type, body)."""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from carecoord.apitokens.models import TokenScope
from carecoord.apitokens.services import api_token_create
from plans.sections import PlanKind
from tests.plans.factories import add_goal, make_plan, prompt_item, write

RAW_SCHEMA = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True),
                                   default=str))
schema = schemathesis.openapi.from_dict(RAW_SCHEMA)
APP = get_wsgi_application()
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
ROLES = ["coordinator", "service_user_account", "carer_account"]


MAX_EXAMPLES = 10  # per operation and role: bounded; the file runs in about 2 minutes


def _token_for(world, role: str) -> str:
    # Something to find: a care plan with a goal, so that small ids hit real rows.
    plan = make_plan(world, PlanKind.CARE_PLAN)
    write(prompt_item(plan, "recovery_meaning"), world.service_user_account, "My words.")
    add_goal(plan, world.coordinator)
    _, secret = api_token_create(user=getattr(world, role), name=f"schemathesis {role}",
                                 scope=TokenScope.READ_WRITE, days=1)
    return secret


def test_every_operation_is_exercised():
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 35


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """Django closes the database connection at the end of each request; the test client
    stops that (the test's transaction lives on that connection), and so must we when
    requests go through the plain WSGI application."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.usefixtures("wsgi_keeps_the_test_connection")
@pytest.mark.parametrize("role", ROLES)
def test_the_api_keeps_to_its_schema_and_never_fails(world, role):
    """One test per role (the fixtures are built once), each operation in turn."""
    headers = {"Authorization": f"Token {_token_for(world, role)}"}
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def keeps_to_the_schema(case):
            response = case.call(app=APP, headers=headers)
            case.validate_response(response, checks=CHECKS)

        try:
            keeps_to_the_schema()
        except Exception as failure:
            failures.append(f"{operation.label}: {failure}"[:3000])
    assert not failures, "\n\n".join(failures)

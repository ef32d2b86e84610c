"""Schemathesis drives the whole API from its OpenAPI description (/api/schema/), in
process through the WSGI application, as a care coordinator, a service user and a carer
(each with a read and write API token): generated paths, queries and bodies, valid and
not, never get a server error, and every answer matches the schema (status code, content
type, body)."""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings
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


@pytest.fixture(params=ROLES)
def token(request, world) -> str:
    # Something to find: a care plan with a goal, so that small ids hit real rows.
    plan = make_plan(world, PlanKind.CARE_PLAN)
    write(prompt_item(plan, "recovery_meaning"), world.service_user_account, "My words.")
    add_goal(plan, world.coordinator)
    user = getattr(world, request.param)
    _, secret = api_token_create(user=user, name=f"schemathesis {request.param}",
                                 scope=TokenScope.READ_WRITE, days=1)
    return secret


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=10, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_schema_and_never_fails(case, token):
    response = case.call(app=APP, headers={"Authorization": f"Token {token}"})
    case.validate_response(response, checks=CHECKS)

"""The OpenAPI description: valid OpenAPI 3, every operation documented (what it does,
what it takes, what it answers, its errors), served at /api/schema/; its pages at
/api/docs/ from local files under the strict Content-Security-Policy."""

from __future__ import annotations

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.test import Client
from openapi_spec_validator import validate

UNSAFE = {"post", "put", "patch"}


@pytest.fixture(scope="module")
def schema() -> dict:
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def test_the_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate(schema)


def test_the_schema_covers_the_whole_api(schema):
    paths = set(schema["paths"])
    for expected in [
        "/api/v1/service-users/", "/api/v1/service-users/{service_user_id}/",
        "/api/v1/service-users/{service_user_id}/episodes/", "/api/v1/episodes/{episode_id}/",
        "/api/v1/service-users/{service_user_id}/allocations/",
        "/api/v1/service-users/{service_user_id}/carers/",
        "/api/v1/carer-relationships/{relationship_id}/",
        "/api/v1/service-users/{service_user_id}/access-events/",
        "/api/v1/plans/{plan_id}/", "/api/v1/items/{item_id}/", "/api/v1/versions/{version_id}/",
        "/api/v1/versions/{version_id}/signatures/", "/api/v1/items/{item_id}/progress/",
        "/api/v1/plans/{plan_id}/reviews/",
        "/api/v1/service-users/{service_user_id}/consent/decisions/",
        "/api/v1/service-users/{service_user_id}/consent/section-rules/",
        "/api/v1/notifications/", "/api/v1/exports/", "/api/v1/directory/", "/api/v1/stories/",
    ]:
        assert expected in paths


def test_every_operation_is_documented_with_its_errors(schema):
    problems = []
    for path, method, operation in _operations(schema):
        where = f"{method.upper()} {path}"
        if not (operation.get("description") or "").strip():
            problems.append(f"{where}: no description")
        responses = operation["responses"]
        success = [code for code in responses if code.startswith("2")]
        if not success:
            problems.append(f"{where}: no success response")
        for code in success:
            if code != "204" and "content" not in responses[code]:
                problems.append(f"{where}: {code} has no schema")
        if method in UNSAFE and "requestBody" not in operation and not path.endswith(
                ("/versions/", "/agreements/")):
            problems.append(f"{where}: no request body")
        for code in ("401", "403", "404"):
            if code not in responses:
                problems.append(f"{where}: {code} not documented")
        if method in UNSAFE and "400" not in responses:
            problems.append(f"{where}: 400 not documented")
    assert problems == []


def test_lists_document_pages_filters_and_ordering(schema):
    notifications = schema["paths"]["/api/v1/notifications/"]["get"]
    names = {parameter["name"] for parameter in notifications["parameters"]}
    assert {"page", "page_size", "unread", "ordering"} <= names
    events = schema["paths"]["/api/v1/service-users/{service_user_id}/access-events/"]["get"]
    assert "cursor" in {parameter["name"] for parameter in events["parameters"]}


def test_token_authentication_is_described(schema):
    scheme = schema["components"]["securitySchemes"]["apiToken"]
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "Authorization"}


def test_the_docs_page_works_under_the_csp_from_local_files():
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    html = response.content.decode()
    # No inline script or style, nothing from another host.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "<style" not in html
    assert " style=" not in html
    assert "http://" not in html
    assert "https://" not in html
    sources = re.findall(r'(?:src|href)="/static/([^"]+)"', html)
    assert "api/swagger-init.js" in sources
    assert any(source.endswith("swagger-ui-bundle.js") for source in sources)
    for source in sources:
        assert finders.find(source), f"{source} is not a local static file"


def test_an_api_url_that_matches_no_route_is_a_json_404(world):
    from tests.conftest import client_for

    client = client_for(world.coordinator)
    for path in ("/api/v1/allocations/-1/", "/api/v1/no-such-thing/"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "detail": "Not found."}
    assert "<html" in client.get("/no-such-page/").content.decode()

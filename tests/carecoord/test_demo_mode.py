"""The demo as people meet it (issue 12 point 8, ADR 0021): DEBUG off, so nobody sees
Django's technical pages (the 404 that lists every URL pattern, the 500 with a
traceback); DEMO=true relaxes only what plain http on this machine needs, and Django's
deployment checks still object to it, so it cannot slip into production unnoticed."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from django.test import Client

from carecoord.records.models import Role
from carecoord.twofa.services import demo_totp_enrol
from tests.carecoord.test_settings import ROOT, clean_env, run
from tests.carecoord.test_two_factor import demo_code, enter_code, later, sign_in
from tests.conftest import client_for
from tests.factories import UserFactory

DEMO_ENV = {"DEMO": "true", "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50),
            "CELERY_BROKER_URL": "filesystem://"}

IN_THE_DEMO = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="127.0.0.1:8402")
missing = client.get("/no-such-page/")
css = client.get("/static/nhsuk/nhsuk-frontend.min.css")
icon = client.get("/assets/images/favicon.ico")
print(json.dumps({
    "debug": settings.DEBUG,
    "allowed_hosts": settings.ALLOWED_HOSTS,
    "ssl_redirect": getattr(settings, "SECURE_SSL_REDIRECT", False),
    "hsts": getattr(settings, "SECURE_HSTS_SECONDS", 0),
    "session_cookie": [settings.SESSION_COOKIE_NAME, settings.SESSION_COOKIE_SECURE],
    "csrf_cookie": [settings.CSRF_COOKIE_NAME, settings.CSRF_COOKIE_SECURE],
    "static_storage": settings.STORAGES["staticfiles"]["BACKEND"],
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "transport": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "sqlite": settings.DATABASES["default"].get("OPTIONS", {}),
    "missing": [missing.status_code, missing.content.decode()],
    "css": [css.status_code, css.get("Content-Type", "")],
    "icon": icon.status_code,
}))
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("demo")
    result = run(["-c", IN_THE_DEMO], clean_env(
        **DEMO_ENV, DATABASE_URL=f"sqlite:///{folder / 'demo.sqlite3'}",
        CELERY_FILESYSTEM_DIR=str(folder / "celery"), PRIVATE_FILES_ROOT=str(folder / "private"),
    ))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_demo_runs_with_debug_off_over_plain_http_on_this_machine(demo):
    assert demo["debug"] is False
    assert demo["allowed_hosts"] == ["localhost", "127.0.0.1", "[::1]"]
    assert demo["ssl_redirect"] is False
    assert demo["hsts"] == 0
    # Cookies a browser keeps over http: no Secure flag, so no __Host- prefix either.
    assert demo["session_cookie"] == ["sessionid", False]
    assert demo["csrf_cookie"] == ["csrftoken", False]


def test_an_unknown_address_in_the_demo_shows_the_product_s_page_not_django_s(demo):
    status, page = demo["missing"]
    assert status == 404
    assert "Page not found" in page
    assert "If you typed the web address, check it was correct." in page
    assert "Using the URLconf" not in page
    assert "Django" not in page


def test_the_demo_serves_static_files_through_whitenoise(demo):
    assert demo["static_storage"] == "django.contrib.staticfiles.storage.StaticFilesStorage"
    assert demo["css"][0] == 200
    assert demo["css"][1].startswith("text/css")
    assert demo["icon"] == 200


def test_the_demo_has_a_real_broker_and_sqlite_waits_for_the_other_process(demo):
    assert demo["eager"] is False
    folders = demo["transport"]
    assert folders["data_folder_in"] == folders["data_folder_out"]
    assert Path(folders["data_folder_in"]).is_dir()
    assert Path(folders["control_folder"]).is_dir()
    assert demo["sqlite"]["timeout"] >= 10
    assert demo["sqlite"]["transaction_mode"] == "IMMEDIATE"


def test_demo_settings_fail_the_deployment_checks():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                 clean_env(**DEMO_ENV, ALLOWED_HOSTS="care.example.nhs.uk"))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in output, check


def test_the_demo_still_needs_a_secret_key():
    env = {**DEMO_ENV}
    del env["SECRET_KEY"]
    result = run(["manage.py", "check"], clean_env(**env))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


# --- The same pages in this process (DEBUG is off under pytest too) --------------------------


def test_a_signed_in_person_gets_the_product_s_404_for_an_unknown_address(world, settings):
    settings.DEBUG = False
    response = client_for(world.coordinator).get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page
    assert "Using the URLconf" not in page
    assert 'class="nhsuk-header' in page  # the product's own page, with its header


@pytest.mark.urls("tests.carecoord.urls_raising")
def test_a_page_that_fails_shows_the_product_s_500_page(world, settings):
    settings.DEBUG = False
    client = client_for(world.coordinator)
    client.raise_request_exception = False
    response = client.post("/failing-page/", {"body": "anything"})
    assert response.status_code == 500
    page = response.content.decode()
    assert "Sorry, there is a problem with the service" in page
    assert "Traceback" not in page
    assert "ValueError" not in page


# --- The command that starts it -------------------------------------------------------------


def test_demo_sh_loads_the_data_with_debug_then_serves_without_it_beside_a_worker():
    script = (ROOT / "scripts" / "demo.sh").read_text()
    lines = [line.strip() for line in script.splitlines() if not line.strip().startswith("#")]
    body = "\n".join(lines)
    # seed_demo refuses to run unless DEBUG is on (issue 13): only it and migrate get it.
    assert "DEBUG=true .venv/bin/python manage.py seed_demo" in body
    assert body.index("export DEBUG=false") < body.index("manage.py runserver")
    assert 'export DEMO=true' in body
    assert 'CELERY_BROKER_URL="${CELERY_BROKER_URL:-filesystem://}"' in body
    assert "celery --quiet -A carecoord worker --pool=solo" in body
    assert "--beat" in body
    # The worker is stopped whenever the script ends (Ctrl-C included): no orphans.
    assert "trap stop_worker EXIT" in body
    assert "exec " not in body


# --- Staff sign in to the demo with its published key ---------------------------------------


def test_in_the_demo_staff_sign_in_with_the_demo_key_and_nowhere_else(db, settings):
    sam = UserFactory(email="sam@example.test", roles=[Role.COORDINATOR])
    demo_totp_enrol(user=sam)
    settings.DEBUG = False
    settings.DEMO = False  # production: a published key is no second factor
    client = Client()
    sign_in(client, sam.email)
    assert enter_code(client, demo_code()).status_code == 200
    assert client.get("/").status_code == 302

    settings.DEMO = True  # the demo: DEBUG stays off
    with later(5):
        client = Client()
        sign_in(client, sam.email)
        assert enter_code(client, demo_code()).status_code == 302
        assert client.get("/").status_code == 200

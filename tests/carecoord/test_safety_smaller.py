"""Issue 13, points 10 and 16: the smaller holes, each shown closed where a person meets
it — help text escaped, absurd query values answered without a 500, no demo password in a
deployment, no invitation token and no clinical text in the logs, CR/LF escaped, and
nothing personal left in a browser's or proxy's cache."""

from __future__ import annotations

import hashlib
import io
import logging

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from carecoord.records.models import User
from carecoord.web import log_safety
from tests.conftest import client_for

CLINICAL = "Hears voices telling him to stop his clozapine"


def _all_logged(caplog) -> str:
    """Everything the records say, as a handler would write them (message and traceback)."""
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
    return "\n---\n".join(formatter.format(record) for record in caplog.records)


# --- Help text ------------------------------------------------------------------------------


def test_a_preferred_name_with_html_is_escaped_in_a_carers_form_help_text(world):
    world.service_user.preferred_name = '<img src=x onerror="alert(1)">Al'
    world.service_user.save()
    response = client_for(world.carer_account).get(
        f"/carers/me/what-helps/{world.carer_relationship.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<img src=x onerror="alert(1)">' not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;Al is struggling" in page


# --- Query values ---------------------------------------------------------------------------


@pytest.mark.parametrize("offer", ["²", "١٢", "9" * 40, "-1", "1e3"])
def test_a_strange_offer_number_is_ignored_not_a_500(world, offer):
    response = client_for(world.coordinator).get(
        f"/support/service-users/{world.service_user.pk}/signposting/new/", {"offer": offer})
    assert response.status_code == 200


# --- The demo password ----------------------------------------------------------------------


def test_seed_demo_refuses_to_run_with_debug_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not User.objects.filter(is_superuser=True).exists()


# --- Logs -----------------------------------------------------------------------------------


def test_an_invitation_token_in_a_request_path_is_logged_only_as_a_short_hash(db, caplog):
    token = "Zk9yZ2V0LW1lLW5vdC10aGlzLWlzLWEtdG9rZW4tMTIzNDU2Nzg5"
    with caplog.at_level(logging.INFO):
        # runserver's request line, and Django's warning for an unknown token.
        logging.getLogger("django.server").info('"GET /invitation/%s/ HTTP/1.1" 200 512', token)
        response = Client().get(f"/invitation/{token}/")
    assert response.status_code in (200, 404)
    logged = _all_logged(caplog)
    assert token not in logged
    assert "sha256:" + hashlib.sha256(token.encode()).hexdigest()[:12] in logged


def test_a_password_reset_token_is_not_logged_either(caplog):
    with caplog.at_level(logging.INFO):
        logging.getLogger("django.server").info(
            '"GET /password-reset/MTI/cabc12-0123456789abcdef/ HTTP/1.1" 302 0')
    assert "cabc12-0123456789abcdef" not in _all_logged(caplog)


@pytest.mark.urls("tests.carecoord.urls_raising")
def test_an_error_on_a_page_with_clinical_text_logs_no_clinical_text(world, caplog):
    client = client_for(world.coordinator)
    client.raise_request_exception = False
    with caplog.at_level(logging.INFO):
        response = client.post("/failing-page/", {"body": CLINICAL + "\r\nINFO forged line"})
    assert response.status_code == 500
    errors = [r for r in caplog.records if r.name == "django.request"]
    assert errors, "the error was logged"
    logged = _all_logged(caplog)
    assert "ValueError" in logged  # where it happened is still there for whoever fixes it
    assert "failing_page" in logged
    assert CLINICAL not in logged
    assert "forged line" not in logged


def test_line_breaks_in_a_request_path_cannot_forge_a_log_line(world, caplog):
    with caplog.at_level(logging.INFO):
        response = client_for(world.coordinator).get("/no-such-page/\r\nINFO forged")
    assert response.status_code == 404
    messages = [record.getMessage() for record in caplog.records]
    # The test client may send the line break percent-encoded; either way it is one line.
    assert any("INFO forged" in message for message in messages)
    assert not any("\n" in message or "\r" in message for message in messages)


def test_every_record_is_made_safe_whoever_logs_it(caplog):
    with caplog.at_level(logging.INFO):
        logging.getLogger("plans.anything").warning("note %s", "a\nb")
        try:
            raise KeyError(CLINICAL)
        except KeyError:
            logging.getLogger("carecoord.anything").exception("failed")
    logged = _all_logged(caplog)
    assert "a\\nb" in logged
    assert CLINICAL not in logged
    assert log_safety.WITHHELD in logged


# --- Caching --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/service-users/{su}/", "/api/v1/service-users/{su}/", "/api/v1/me/", "/",
])
def test_pages_and_api_answers_with_personal_data_are_not_cached(world, path):
    response = client_for(world.coordinator).get(path.format(su=world.service_user.pk))
    assert response.status_code == 200
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert "no-store" in directives


def test_a_refused_api_answer_and_the_sign_in_page_are_not_cached_either(db):
    for response in (Client().get("/api/v1/me/"), Client().get("/sign-in/")):
        assert "no-store" in response["Cache-Control"]

"""Settings as an operator meets them: production passes Django's deployment checks, a
missing SECRET_KEY stops start-up, and no variables at all gives the laptop demo."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Everything settings.py reads: cleared so the machine running the tests cannot leak in.
CONFIG_VARIABLES = (
    "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DATABASE_URL",
    "DB_CONN_MAX_AGE", "SESSION_IDLE_MINUTES", "SESSION_ABSOLUTE_HOURS", "OTP_TOTP_ISSUER",
    "TRUSTED_PROXY_COUNT",
    "INVITATION_VALID_DAYS", "AXES_FAILURE_LIMIT", "AXES_COOLOFF_MINUTES",
    "BREAK_GLASS_HOURS", "BREAK_GLASS_REASON_MIN_LENGTH",
    "PRIVATE_FILES_ROOT", "EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD", "EMAIL_USE_TLS", "DEFAULT_FROM_EMAIL", "SITE_URL",
    "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CELERY_TASK_ALWAYS_EAGER",
    "DEMO", "CELERY_FILESYSTEM_DIR", "DATABASE_REPLICA_URL", "AUDIT_CHAIN_EVERY_SECONDS",
    "CELERY_VISIBILITY_TIMEOUT", "EXPORT_RENDER_LEASE_SECONDS",
    "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "BEHIND_TLS_PROXY", "LOG_LEVEL",
    # Set by the test command for Playwright; never in a deployment.
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def clean_env(**values: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in CONFIG_VARIABLES}
    env["DJANGO_SETTINGS_MODULE"] = "carecoord.settings"
    env.update(values)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )


def test_production_settings_pass_the_deployment_checks():
    secret_key = secrets.token_urlsafe(45)
    assert len(secret_key) == 60
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        clean_env(DEBUG="false", SECRET_KEY=secret_key, ALLOWED_HOSTS="care.example.nhs.uk"),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output
    assert "ERRORS" not in output
    assert "System check identified no issues" in output


def test_production_refuses_to_start_without_a_secret_key():
    result = run(
        ["manage.py", "check", "--deploy"],
        clean_env(DEBUG="false", ALLOWED_HOSTS="care.example.nhs.uk"),
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stdout + result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_a_weak_secret_key_fails_the_deployment_checks():
    # DEBUG off with a short, guessable key: the deployment check must object.
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        clean_env(DEBUG="false", SECRET_KEY="short", ALLOWED_HOSTS="care.example.nhs.uk"),
    )
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


PRINT_SETTINGS = """
import json
import django
django.setup()
from django.conf import settings
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "name": str(settings.DATABASES["default"]["NAME"]),
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "broker": settings.CELERY_BROKER_URL,
    "email": settings.EMAIL_BACKEND,
    "debug": settings.DEBUG,
    "session_age": settings.SESSION_COOKIE_AGE,
}))
"""


def embedded_settings(**values: str) -> dict:
    result = run(["-c", PRINT_SETTINGS], clean_env(**values))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_embedded_default_is_sqlite_with_eager_tasks():
    printed = embedded_settings()
    assert printed["engine"] == "django.db.backends.sqlite3"
    assert printed["name"] == str(ROOT / "db.sqlite3")
    assert printed["eager"] is True
    assert printed["broker"] == ""
    assert printed["email"] == "django.core.mail.backends.console.EmailBackend"
    assert printed["debug"] is True
    assert printed["session_age"] == 30 * 60


def test_a_broker_and_database_url_switch_off_the_embedded_defaults():
    printed = embedded_settings(DATABASE_URL="postgres://care@db.example:5432/care",
                                CELERY_BROKER_URL="redis://redis.example:6379/0",
                                SESSION_IDLE_MINUTES="20")
    assert printed["engine"] == "django.db.backends.postgresql"
    assert printed["eager"] is False
    assert printed["session_age"] == 20 * 60

"""Checks on the deployment files, which cannot be run here (no Docker engine).

docker-compose.yml is parsed with PyYAML and its wiring asserted; no database is used.
"""

import os
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")


def command_text(command) -> str:
    """A compose `command` (string or list form) as one string."""
    if isinstance(command, list):
        return " ".join(str(part) for part in command)
    return str(command or "")


def environment(service: dict) -> dict:
    """A compose `environment` (mapping or list of KEY=VALUE) as a dict."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def test_compose_defines_the_five_services(services):
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)


def test_web_runs_gunicorn_on_the_wsgi_app(services):
    command = command_text(services["web"].get("command"))
    assert "gunicorn" in command
    assert "carecoord.wsgi" in command
    assert "migrate" in command
    assert "8000:8000" in [str(port) for port in services["web"].get("ports", [])]


def test_worker_and_beat_run_celery(services):
    assert "celery -A carecoord worker" in command_text(services["worker"].get("command"))
    assert "celery -A carecoord beat" in command_text(services["beat"].get("command"))


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_postgres_and_redis(services, name):
    depends_on = services[name].get("depends_on")
    assert isinstance(depends_on, dict), f"{name}: depends_on must use conditions"
    for dependency in ("postgres", "redis"):
        assert depends_on.get(dependency, {}).get("condition") == "service_healthy", (
            f"{name} must wait for {dependency} to be healthy"
        )


def test_app_services_share_database_and_broker(services):
    envs = {name: environment(services[name]) for name in APP_SERVICES}
    for key in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "SECRET_KEY"):
        values = {name: env.get(key) for name, env in envs.items()}
        assert None not in values.values(), f"{key} missing in {values}"
        assert len(set(values.values())) == 1, f"{key} differs between services: {values}"

    env = envs["web"]
    assert re.fullmatch(r"postgres(ql)?://[^@]+@postgres:5432/\w+", env["DATABASE_URL"])
    assert re.fullmatch(r"redis://redis:6379/\d+", env["CELERY_BROKER_URL"])
    assert re.fullmatch(r"redis://redis:6379/\d+", env["CELERY_RESULT_BACKEND"])
    assert env["CELERY_BROKER_URL"] != env["CELERY_RESULT_BACKEND"]
    assert env["DEBUG"].lower() == "false"
    # The secret comes from the operator, never from the file.
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")


def test_database_credentials_match_the_postgres_service(services):
    pg_env = environment(services["postgres"])
    url = environment(services["web"])["DATABASE_URL"]
    user, password, db = re.fullmatch(
        r"postgres(?:ql)?://([^:]+):([^@]+)@postgres:5432/(\w+)", url
    ).groups()
    assert pg_env["POSTGRES_USER"] == user
    assert pg_env["POSTGRES_PASSWORD"] == password
    assert pg_env["POSTGRES_DB"] == db


def test_private_media_is_on_a_volume(compose, services):
    volumes = [str(volume) for volume in services["web"].get("volumes", [])]
    media = [volume for volume in volumes if volume.endswith(":/app/var")]
    assert media, f"web needs a volume at /app/var, has {volumes}"
    assert media[0].split(":", 1)[0] in (compose.get("volumes") or {})


@pytest.mark.parametrize("name", ["postgres", "redis"])
def test_backing_services_have_healthchecks(services, name):
    healthcheck = services[name].get("healthcheck") or {}
    assert healthcheck.get("test"), f"{name} needs a healthcheck"
    expected = "pg_isready" if name == "postgres" else "redis-cli"
    assert expected in command_text(healthcheck["test"])


def test_dockerfile_serves_with_gunicorn():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", dockerfile, re.MULTILINE)
    start = [
        line
        for line in dockerfile.splitlines()
        if line.strip().upper().startswith(("CMD", "ENTRYPOINT"))
    ]
    assert start, "Dockerfile has no CMD or ENTRYPOINT"
    assert any("gunicorn" in line and "carecoord.wsgi" in line for line in start)
    assert re.search(r"^USER\s+(?!root\b)\S+", dockerfile, re.MULTILINE), "must not run as root"
    assert "collectstatic" in dockerfile


def test_ci_runs_the_readme_test_command():
    lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    command = lines[-1]
    assert command == "./scripts/test.sh"
    assert command in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("path", ["scripts/test.sh", "scripts/demo.sh", ".ci/run"])
def test_scripts_are_executable(path):
    assert os.access(ROOT / path, os.X_OK), f"{path} is not executable (chmod +x)"


def test_collectstatic_works_with_the_production_storage(settings, tmp_path):
    """The Dockerfile runs collectstatic with DEBUG off, which uses WhiteNoise's manifest
    storage: it fails on any CSS/JS reference (e.g. a sourceMappingURL) to a missing file.
    Django's manifest storage does the same checks without the slow compression step."""
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path / "staticfiles"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    assert (settings.STATIC_ROOT / "staticfiles.json").exists()

"""Per-role fixtures: a team with its manager, a coordinator and their service user, a
carer of that service user, and outsiders of every kind for the 404 cases."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
import time_machine
from django.test import Client

from carecoord.records.models import Role, ServiceUser, Team, User
from carers.models import CarerRelationship
from tests import clock
from tests.factories import (
    PASSWORD,
    AllocationFactory,
    CarerFactory,
    CarerRelationshipFactory,
    EpisodeFactory,
    ServiceUserFactory,
    TeamFactory,
    UserFactory,
)

# --- One controlled "today" for the whole run (tests/clock.py) ---------------------------

_traveller: time_machine.travel | None = None


def pytest_configure(config):
    """Move the clock before anything is collected, so that module-level dates, factories,
    Django and the code under test all see the same day. `tick=True` lets time pass from
    there: timeouts, expiry and ordering by creation time behave as in real life."""
    global _traveller
    _traveller = time_machine.travel(clock.START, tick=True)
    _traveller.start()


def pytest_unconfigure(config):
    global _traveller
    if _traveller is not None:
        _traveller.stop()
        _traveller = None


def pytest_report_header(config):
    source = "TEST_TODAY" if clock.moved_by_clock() else "the real date"
    return f"carecoord: today is {clock.today():%A %-d %B %Y} (from {source})"


@pytest.fixture
def today():
    """The suite's today; derive every other date from it (`clock.days(n)` too)."""
    return clock.today()


# --- PostgreSQL-only tests must really run on PostgreSQL (tests/postgresql_guard.py) -------
from tests.postgresql_guard import (  # noqa: E402, F401 (hooks, registered by name)
    pytest_runtest_makereport,
    pytest_runtest_setup,
    pytest_sessionstart,
)


@pytest.fixture(scope="session", autouse=True)
def _flush_past_the_truncate_trigger():
    """On PostgreSQL the audit trail refuses TRUNCATE (migration carecoord 0003), and
    pytest-django empties every table with TRUNCATE after each transactional test. Let
    that flush alone run with triggers off (SET LOCAL ends with its transaction); the
    tests connect as the throwaway cluster's superuser."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        return original(self, ["SET LOCAL session_replication_role = replica", *sql_list])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "execute_sql_flush", execute_sql_flush)
        yield


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    settings.PRIVATE_FILES_ROOT = tmp_path / "private"


@pytest.fixture(autouse=True)
def _no_ssl_redirect(settings):
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture(autouse=True)
def _empty_cache():
    """What one test worked out and kept (the things to do, ADR 0029) is not another's:
    the records it came from are rolled back, and ids can come round again."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@dataclass
class World:
    team: Team
    manager: User
    coordinator: User
    service_user_account: User
    service_user: ServiceUser
    carer_account: User
    carer_relationship: CarerRelationship
    # Outsiders: same roles, other people.
    other_team: Team
    other_manager: User
    other_coordinator: User
    other_service_user_account: User
    other_service_user: ServiceUser
    other_carer_account: User
    admin: User
    no_role: User


@pytest.fixture
def world(db) -> World:
    team, other_team = TeamFactory(), TeamFactory()
    manager = UserFactory(roles=[Role.MANAGER], full_name="Priya Manager")
    team.managers.add(manager)
    other_manager = UserFactory(roles=[Role.MANAGER])
    other_team.managers.add(other_manager)

    coordinator = UserFactory(roles=[Role.COORDINATOR], full_name="Sam Coordinator")
    other_coordinator = UserFactory(roles=[Role.COORDINATOR])
    team.coordinators.add(coordinator, other_coordinator)

    service_user_account = UserFactory(roles=[Role.SERVICE_USER], full_name="Alex Service")
    service_user = ServiceUserFactory(team=team, user=service_user_account,
                                      full_name="Alex Service")
    AllocationFactory(episode=EpisodeFactory(service_user=service_user), coordinator=coordinator)

    other_service_user_account = UserFactory(roles=[Role.SERVICE_USER])
    other_service_user = ServiceUserFactory(team=team, user=other_service_user_account)
    AllocationFactory(
        episode=EpisodeFactory(service_user=other_service_user), coordinator=other_coordinator
    )

    carer_account = UserFactory(roles=[Role.CARER], full_name="Linda Carer")
    carer_relationship = CarerRelationshipFactory(
        carer=CarerFactory(user=carer_account, email=carer_account.email),
        service_user=service_user,
    )
    other_carer_account = UserFactory(roles=[Role.CARER])
    CarerRelationshipFactory(
        carer=CarerFactory(user=other_carer_account, email=other_carer_account.email),
        service_user=other_service_user,
    )
    admin = UserFactory(roles=[Role.ADMIN], is_staff=True, is_superuser=True)
    no_role = UserFactory()
    return World(
        team=team, manager=manager, coordinator=coordinator,
        service_user_account=service_user_account, service_user=service_user,
        carer_account=carer_account, carer_relationship=carer_relationship,
        other_team=other_team, other_manager=other_manager,
        other_coordinator=other_coordinator,
        other_service_user_account=other_service_user_account,
        other_service_user=other_service_user, other_carer_account=other_carer_account,
        admin=admin, no_role=no_role,
    )


TEST_TOTP_KEY = "0123456789abcdef0123456789abcdef01234567"


def totp_device_for(user: User):
    """The user's confirmed authenticator (made with a known key if they have none)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Test authenticator",
                                           key=TEST_TOTP_KEY, confirmed=True)
    return device


def totp_step(device) -> int:
    """The 30-second step the device's codes are at now."""
    from django_otp.oath import TOTP

    return TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).t()


def totp_code(device, *, step_offset: int = 0) -> str:
    """The code `device` shows now (or `step_offset` 30-second steps away)."""
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + step_offset * device.step
    return f"{totp.token():0{device.digits}d}"


def pass_second_factor(client: Client, user: User) -> Client:
    """Mark the client's signed-in session as having passed the second factor, as
    django-otp's own login() does after a right code (its session key names the device).
    Staff need it for every page (carecoord/twofa); others only if they have a device."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from carecoord.twofa.selectors import has_second_factor, second_factor_required

    if second_factor_required(user=user) or has_second_factor(user=user):
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = totp_device_for(user).persistent_id
        session.save()
    return client


def client_for(user: User) -> Client:
    """A client signed in as `user`, past the second factor where they need one."""
    client = Client()
    client.force_login(user)
    return pass_second_factor(client, user)


@pytest.fixture
def coordinator_client(world) -> Client:
    return client_for(world.coordinator)


@pytest.fixture
def service_user_client(world) -> Client:
    return client_for(world.service_user_account)


@pytest.fixture
def carer_client(world) -> Client:
    return client_for(world.carer_account)


@pytest.fixture
def manager_client(world) -> Client:
    return client_for(world.manager)


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture(scope="session")
def artifacts_dir(tmp_path_factory):
    path = os.environ.get("TEST_ARTIFACTS_DIR")
    if path:
        os.makedirs(path, exist_ok=True)
        return path
    return str(tmp_path_factory.mktemp("artifacts"))

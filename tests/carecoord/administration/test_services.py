"""The administration services: each asks the policy, refuses changes to one's own
account, keeps an administrator, and audits inside its transaction."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client

from carecoord.administration import services
from carecoord.apitokens.models import TokenScope
from carecoord.apitokens.services import api_token_create
from carecoord.audit.models import AccessEvent
from carecoord.notifications.models import Notification
from carecoord.records.models import Role, Team, User
from carecoord.records.services import SelfAccessError, role_grant
from consent import policy
from tests.carecoord.administration.helpers import THRESHOLDS
from tests.conftest import client_for
from tests.factories import (
    AllocationFactory,
    EpisodeFactory,
    ServiceUserFactory,
    UserFactory,
)


def actions_by(user: User) -> list[str]:
    return list(AccessEvent.objects.filter(actor=user).order_by("occurred_at", "id")
                .values_list("action", flat=True))


# --- Teams --------------------------------------------------------------------------------


def test_a_team_is_created_with_its_manager_and_settings_all_audited(world):
    team = services.team_create(name="  Hexham Crisis Team ", managers=[world.manager],
                                created_by=world.admin, **THRESHOLDS)
    team.refresh_from_db()
    assert team.name == "Hexham Crisis Team"
    assert list(team.managers.all()) == [world.manager]
    assert {field: getattr(team, field) for field in THRESHOLDS} == THRESHOLDS
    assert actions_by(world.admin) == ["team.create", "team.manager_add", "team.settings"]
    settings_event = AccessEvent.objects.get(action="team.settings")
    assert settings_event.basis == "administrator"
    assert settings_event.target == f"team:{team.pk}"


def test_a_team_update_writes_only_what_changed(world):
    team = world.team
    services.team_update(team=team, name=team.name, managers=[world.manager],
                         changed_by=world.admin,
                         **{field: getattr(team, field) for field in THRESHOLDS})
    assert actions_by(world.admin) == []
    services.team_update(team=team, name="Renamed team", managers=[world.other_manager],
                         changed_by=world.admin,
                         **{**{f: getattr(team, f) for f in THRESHOLDS},
                            "reminder_due_soon_days": 3})
    team.refresh_from_db()
    assert team.name == "Renamed team"
    assert list(team.managers.all()) == [world.other_manager]
    assert team.reminder_due_soon_days == 3
    assert sorted(actions_by(world.admin)) == sorted(
        ["team.rename", "team.manager_add", "team.manager_remove", "team.settings"])


def test_only_someone_with_the_manager_role_manages_a_team(world):
    with pytest.raises(ValueError, match="not a manager"):
        services.team_update(team=world.team, name=world.team.name,
                             managers=[world.manager, world.service_user_account],
                             changed_by=world.admin)
    assert not world.team.managers.filter(pk=world.service_user_account.pk).exists()


def test_an_administrator_cannot_make_themselves_a_manager(world):
    admin = world.admin
    role_grant(user=admin, role=Role.MANAGER, granted_by=world.no_role)
    with pytest.raises(SelfAccessError):
        services.team_create(name="Mine", managers=[admin], created_by=admin)
    assert not Team.objects.filter(name="Mine").exists()


@pytest.mark.parametrize("who", ["manager", "coordinator", "service_user_account",
                                 "carer_account", "no_role"])
def test_the_services_refuse_anyone_but_an_administrator(world, who):
    person = getattr(world, who)
    with pytest.raises(PermissionDenied):
        services.team_create(name="Sneaky", managers=[], created_by=person)
    with pytest.raises(PermissionDenied):
        services.staff_invite(email="new@example.test", full_name="New", roles=[Role.ADMIN],
                              invited_by=person)
    with pytest.raises(PermissionDenied):
        services.staff_role_add(user=world.no_role, role=Role.ADMIN, changed_by=person)
    with pytest.raises(PermissionDenied):
        services.staff_account_disable(user=world.other_coordinator, disabled_by=person)
    assert not Team.objects.filter(name="Sneaky").exists()
    assert not User.objects.filter(email="new@example.test").exists()
    assert User.objects.get(pk=world.other_coordinator.pk).is_active


# --- Roles --------------------------------------------------------------------------------


def test_an_administrator_cannot_give_themselves_a_role_nor_take_one_away(world):
    admin = world.admin
    with pytest.raises(SelfAccessError):
        services.staff_role_add(user=admin, role=Role.MANAGER, changed_by=admin)
    with pytest.raises(SelfAccessError):
        services.staff_role_remove(user=admin, role=Role.ADMIN, changed_by=admin)
    admin = User.objects.get(pk=admin.pk)
    assert admin.roles == {Role.ADMIN}
    assert actions_by(admin) == []


def test_a_role_given_and_taken_away_is_audited_and_ends_their_sessions(world):
    target = world.coordinator
    services.staff_role_add(user=target, role=Role.PROFESSIONAL, changed_by=world.admin)
    assert User.objects.get(pk=target.pk).has_role(Role.PROFESSIONAL)
    browser = client_for(target)
    assert browser.get("/").status_code == 200
    services.staff_role_remove(user=target, role=Role.PROFESSIONAL, changed_by=world.admin)
    assert not User.objects.get(pk=target.pk).has_role(Role.PROFESSIONAL)
    assert browser.get("/").status_code == 302  # signed out: back to the sign-in page
    assert actions_by(world.admin) == ["role.grant", "role.revoke"]


def test_taking_away_the_manager_role_takes_away_their_team_places(world):
    services.staff_role_add(user=world.manager, role=Role.COORDINATOR, changed_by=world.admin)
    services.staff_role_remove(user=world.manager, role=Role.MANAGER, changed_by=world.admin)
    assert not world.team.managers.filter(pk=world.manager.pk).exists()
    assert "team.manager_remove" in actions_by(world.admin)


def test_a_persons_only_role_is_not_taken_away(world):
    with pytest.raises(services.AdministrationError, match="disable their account"):
        services.staff_role_remove(user=world.coordinator, role=Role.COORDINATOR,
                                   changed_by=world.admin)
    assert User.objects.get(pk=world.coordinator.pk).has_role(Role.COORDINATOR)


@pytest.mark.parametrize("role", [Role.SERVICE_USER, Role.CARER])
def test_no_administrator_gives_a_service_user_or_carer_role(world, role):
    with pytest.raises(services.AdministrationError):
        services.staff_role_add(user=world.coordinator, role=role, changed_by=world.admin)
    assert not User.objects.get(pk=world.coordinator.pk).has_role(role)


# --- The last administrator -----------------------------------------------------------------


def test_the_only_administrator_can_neither_be_disabled_nor_lose_the_role(world):
    """Nobody acts on their own account, and everyone who acts is an administrator: so
    the only one is never disabled nor demoted."""
    admin = world.admin
    with pytest.raises(SelfAccessError):
        services.staff_account_disable(user=admin, disabled_by=admin)
    with pytest.raises(SelfAccessError):
        services.staff_role_remove(user=admin, role=Role.ADMIN, changed_by=admin)
    assert list(policy.administrators()) == [admin]


def test_a_second_administrator_can_disable_the_first(world):
    second = UserFactory(roles=[Role.ADMIN])
    services.staff_account_disable(user=world.admin, disabled_by=second)
    assert list(policy.administrators()) == [second]
    # ...and now cannot be disabled by anyone: the first is no longer an administrator.
    with pytest.raises(PermissionDenied):
        services.staff_account_disable(user=second, disabled_by=User.objects.get(
            pk=world.admin.pk))
    assert list(policy.administrators()) == [second]


@pytest.mark.postgresql_only  # row locks
@pytest.mark.django_db(transaction=True)
def test_two_administrators_disabling_each_other_at_once_leave_one():
    first, second = UserFactory(roles=[Role.ADMIN]), UserFactory(roles=[Role.ADMIN])
    start = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def disable(name: str, user: User, by: User) -> None:
        try:
            start.wait(timeout=30)
            services.staff_account_disable(user=user, disabled_by=by)
            outcomes[name] = "disabled"
        except BaseException as error:
            outcomes[name] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=disable, args=("a", second, first)),
               threading.Thread(target=disable, args=("b", first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(str(type(value).__name__) for value in outcomes.values()) == [
        "PermissionDenied", "str"]
    assert policy.administrators().count() == 1


# --- Disabling and enabling ---------------------------------------------------------------


def test_disabling_ends_every_session_and_stops_signing_in(world, password):
    target = world.coordinator
    laptop, phone = client_for(target), client_for(target)
    assert laptop.get("/").status_code == phone.get("/").status_code == 200
    ended = services.staff_account_disable(user=target, disabled_by=world.admin)
    assert ended == 2
    for browser in (laptop, phone):
        response = browser.get("/")
        assert response.status_code == 302
        assert response.url.startswith("/sign-in/")
    assert not User.objects.get(pk=target.pk).is_active
    event = AccessEvent.objects.get(action="staff.disable")
    assert (event.actor, event.target) == (world.admin, f"user:{target.pk}")
    assert "2 sessions ended" in event.basis

    services.staff_account_enable(user=target, enabled_by=world.admin)
    assert User.objects.get(pk=target.pk).is_active
    assert actions_by(world.admin) == ["staff.disable", "staff.enable"]


def test_disabling_stops_their_api_tokens_too(world):
    _, token = api_token_create(user=world.coordinator, name="Ward dashboard",
                                scope=TokenScope.READ, days=30)
    api = Client(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/things-to-do/").status_code == 200
    services.staff_account_disable(user=world.coordinator, disabled_by=world.admin)
    assert api.get("/api/v1/things-to-do/").status_code in (401, 403)


def test_disabling_leaves_the_allocations_and_tells_the_managers(world, mailoutbox):
    AllocationFactory(coordinator=world.coordinator,
                      episode=EpisodeFactory(service_user=ServiceUserFactory(
                          team=world.team, full_name="Hidden Person")))
    services.staff_account_disable(user=world.coordinator, disabled_by=world.admin)
    assert world.coordinator.allocations.filter(ended_on__isnull=True).count() == 2
    (told,) = Notification.objects.filter(user=world.manager)
    assert told.text == (f"{world.coordinator.display_name}'s account has been disabled. "
                         f"2 people in {world.team.name} need a new care coordinator.")
    assert told.url == f"/teams/{world.team.pk}/"
    assert not Notification.objects.filter(user=world.other_manager).exists()
    assert "Hidden Person" not in told.text

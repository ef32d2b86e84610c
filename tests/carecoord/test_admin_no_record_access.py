"""Security issue 13, point 3: an administrator cannot reach records through the admin
site: they never set passwords or email addresses, never give themselves roles or places
in teams, and every role, team and allocation change is audited."""

from __future__ import annotations

import html

import pytest

from carecoord.audit.models import AccessEvent
from carecoord.records import services
from carecoord.records.models import Role, User
from tests.conftest import client_for
from tests.factories import UserFactory


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_the_admin_has_no_password_form(world):
    client = client_for(world.admin)
    target = world.service_user_account
    page = client.get(f"/admin/carecoord/user/{target.pk}/change/")
    assert page.status_code == 200
    assert "password/" not in text(page)
    assert 'name="password' not in text(page)
    response = client.post(f"/admin/carecoord/user/{target.pk}/password/",
                           {"password1": "an-admin-chose-this-1", "password2":
                            "an-admin-chose-this-1"}, follow=True)
    assert 'name="password1"' not in text(response)
    target.refresh_from_db()
    assert not target.check_password("an-admin-chose-this-1")


def test_the_admin_cannot_change_someones_email(world):
    """Else they could point the account at their own inbox and reset its password."""
    target = world.service_user_account
    page = text(client_for(world.admin).get(f"/admin/carecoord/user/{target.pk}/change/"))
    assert 'name="email"' not in page


def test_a_new_account_made_in_the_admin_has_no_password(world):
    client = client_for(world.admin)
    page = text(client.get("/admin/carecoord/user/add/"))
    assert 'name="password1"' not in page
    response = client.post("/admin/carecoord/user/add/",
                           {"email": "New.Person@example.test", "full_name": "New Person",
                            "role_grants-TOTAL_FORMS": "0", "role_grants-INITIAL_FORMS": "0"})
    assert response.status_code == 302, text(response)
    user = User.objects.get(email="new.person@example.test")
    assert not user.has_usable_password()


def test_the_admin_sends_a_password_reset_link_instead(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    target = world.service_user_account
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.admin).post(
            "/admin/carecoord/user/",
            {"action": "send_password_reset_link", "_selected_action": [target.pk]},
        )
    assert response.status_code == 302
    (mail,) = mailoutbox
    assert mail.to == [target.email]
    assert "/password-reset/" in mail.body
    event = AccessEvent.objects.get(action="user.password_reset_link")
    assert (event.actor, event.target) == (world.admin, f"user:{target.pk}")


def role_post(user: User, role: str) -> dict:
    return {
        "full_name": user.full_name, "is_active": "on",
        "role_grants-TOTAL_FORMS": "1", "role_grants-INITIAL_FORMS": "0",
        "role_grants-MIN_NUM_FORMS": "0", "role_grants-MAX_NUM_FORMS": "1000",
        "role_grants-0-role": role, "role_grants-0-id": "", "role_grants-0-user": str(user.pk),
    }


def test_an_administrator_cannot_give_themselves_a_role(world):
    admin = world.admin
    client = client_for(admin)
    client.post(f"/admin/carecoord/user/{admin.pk}/change/", {
        **role_post(admin, Role.MANAGER), "is_staff": "on", "is_superuser": "on"})
    assert not User.objects.get(pk=admin.pk).has_role(Role.MANAGER)
    with pytest.raises(services.SelfAccessError):
        services.user_role_grant(user=admin, role=Role.COORDINATOR, granted_by=admin)
    assert not User.objects.get(pk=admin.pk).has_role(Role.COORDINATOR)


def test_a_role_given_in_the_admin_is_audited(world):
    target = world.no_role
    response = client_for(world.admin).post(f"/admin/carecoord/user/{target.pk}/change/",
                                            role_post(target, Role.COORDINATOR))
    assert response.status_code == 302, text(response)
    assert User.objects.get(pk=target.pk).has_role(Role.COORDINATOR)
    event = AccessEvent.objects.get(action="role.grant")
    assert (event.actor, event.target) == (world.admin, f"user:{target.pk}")


def team_post(team, managers, coordinators) -> dict:
    data = {"name": team.name, "managers": [u.pk for u in managers],
            "coordinators": [u.pk for u in coordinators]}
    for field in ("stuck_no_progress_days", "stuck_awaiting_signature_days",
                  "stuck_assessment_days", "stuck_falling_check_ins", "stuck_caseload_prompts",
                  "reminder_due_soon_days", "reminder_overdue_days"):
        data[field] = getattr(team, field)
    return data


def test_an_administrator_cannot_add_themselves_to_a_team(world):
    admin, team = world.admin, world.team
    services.role_grant(user=admin, role=Role.MANAGER, granted_by=world.no_role)
    response = client_for(admin).post(
        f"/admin/carecoord/team/{team.pk}/change/",
        team_post(team, [world.manager, admin], [world.coordinator, world.other_coordinator]),
    )
    assert response.status_code == 200
    assert "You cannot add yourself to a team" in text(response)
    assert not team.managers.filter(pk=admin.pk).exists()
    with pytest.raises(services.SelfAccessError):
        services.team_member_add(team=team, user=admin, place="manager", added_by=admin)
    assert not team.managers.filter(pk=admin.pk).exists()


def test_the_team_form_offers_only_people_with_the_role(world):
    page = text(client_for(world.admin).get(f"/admin/carecoord/team/{world.team.pk}/change/"))
    managers = page.split('name="managers"')[-1].split("</select>")[0]
    coordinators = page.split('name="coordinators"')[-1].split("</select>")[0]
    assert f'value="{world.manager.pk}"' in managers
    assert f'value="{world.coordinator.pk}"' in coordinators
    for not_staff in (world.service_user_account, world.carer_account, world.no_role):
        assert f'value="{not_staff.pk}"' not in managers
        assert f'value="{not_staff.pk}"' not in coordinators


def test_team_changes_in_the_admin_are_audited(world):
    newcomer = UserFactory(roles=[Role.COORDINATOR], full_name="Nia Newcomer")
    team = world.team
    response = client_for(world.admin).post(
        f"/admin/carecoord/team/{team.pk}/change/",
        team_post(team, [world.manager], [world.other_coordinator, newcomer]),
    )
    assert response.status_code == 302, text(response)
    assert set(team.coordinators.all()) == {world.other_coordinator, newcomer}
    actions = set(AccessEvent.objects.filter(actor=world.admin).values_list("action",
                                                                           flat=True))
    assert {"team.coordinator_add", "team.coordinator_remove"} <= actions


def test_an_allocation_shows_on_the_persons_record_and_the_access_report(world):
    # The manager allocates another coordinator to Alex.
    client = client_for(world.manager)
    response = client.post(f"/service-users/{world.service_user.pk}/allocations/new/",
                           {"coordinator": world.other_coordinator.pk})
    assert response.status_code == 302
    event = AccessEvent.objects.get(action="record_access.grant")
    assert event.service_user == world.service_user

    own = text(client_for(world.service_user_account).get(
        f"/service-users/{world.service_user.pk}/"))
    looked = own.split("Who has looked at your record")[1]
    assert "gave a care coordinator access to your record" in looked
    assert f"{world.other_coordinator.display_name} was made your care coordinator" in looked

    report = text(client.get(f"/teams/{world.team.pk}/reports/access-events/"))
    assert "Gave a care coordinator access to the record" in report
    assert "record_access.grant" not in report

"""The administration pages, as an administrator uses them: teams, staff accounts, the
changes made. Nothing of a record or a plan is shown."""

from __future__ import annotations

import html

import pytest
from django.test import Client

from carecoord.audit.models import AccessEvent
from carecoord.records.models import Role, Team, User
from carecoord.records.services import role_grant
from tests.carecoord.administration.helpers import THRESHOLDS, team_post
from tests.conftest import client_for
from tests.factories import AllocationFactory, EpisodeFactory, ServiceUserFactory, UserFactory
from tests.plans.factories import add_item, make_plan


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def admin_client(world) -> Client:
    return client_for(world.admin)


def test_the_header_links_administrators_to_the_area(world, admin_client):
    assert 'href="/administration/"' in text(admin_client.get("/"))
    assert 'href="/administration/"' not in text(client_for(world.manager).get("/"))


def test_the_index_points_to_the_django_admin_for_emergencies_only(admin_client):
    page = text(admin_client.get("/administration/"))
    assert "Teams" in page
    assert "Staff accounts" in page
    assert "Changes made" in page
    assert "emergencies only" in page


# --- Teams --------------------------------------------------------------------------------


def test_teams_are_listed_with_their_managers(world, admin_client):
    page = text(admin_client.get("/administration/teams/"))
    assert world.team.name in page
    assert world.manager.display_name in page
    assert world.other_team.name in page


def test_an_administrator_creates_a_team(world, admin_client):
    response = admin_client.post("/administration/teams/new/",
                                 team_post(name="Hexham Crisis Team", managers=[world.manager]))
    assert response.status_code == 302, text(response)
    team = Team.objects.get(name="Hexham Crisis Team")
    assert list(team.managers.all()) == [world.manager]
    assert team.stuck_no_progress_days == THRESHOLDS["stuck_no_progress_days"]
    assert AccessEvent.objects.filter(action="team.create", actor=world.admin).exists()


def test_a_new_team_starts_from_the_default_settings(admin_client):
    page = text(admin_client.get("/administration/teams/new/"))
    field = page.split('name="stuck_no_progress_days"', 1)[1].split(">", 1)[0]
    assert f'value="{Team._meta.get_field("stuck_no_progress_days").default}"' in field


def test_a_team_name_is_not_used_twice(world, admin_client):
    response = admin_client.post("/administration/teams/new/",
                                 team_post(name=world.team.name.upper()))
    assert response.status_code == 200
    assert "There is already a team with this name" in text(response)


def test_the_team_form_offers_only_managers(world, admin_client):
    page = text(admin_client.get(f"/administration/teams/{world.team.pk}/"))
    managers = page.split('name="managers"', 1)[1].split("</fieldset>")[0]
    assert f'value="{world.manager.pk}"' in page
    assert f'value="{world.other_manager.pk}"' in page
    for not_a_manager in (world.service_user_account, world.carer_account, world.coordinator,
                          world.no_role):
        assert f'value="{not_a_manager.pk}"' not in managers
    # And a forged choice is refused.
    response = admin_client.post(f"/administration/teams/{world.team.pk}/",
                                 team_post(name=world.team.name, team=world.team,
                                           managers=[world.service_user_account]))
    assert response.status_code == 200
    assert not world.team.managers.filter(pk=world.service_user_account.pk).exists()


def test_a_teams_settings_are_changed_through_the_managers_service(world, admin_client):
    response = admin_client.post(f"/administration/teams/{world.team.pk}/",
                                 team_post(name=world.team.name, team=world.team,
                                           managers=[world.manager],
                                           reminder_overdue_days=9))
    assert response.status_code == 302, text(response)
    world.team.refresh_from_db()
    assert world.team.reminder_overdue_days == 9
    event = AccessEvent.objects.get(action="team.settings")
    assert (event.actor, event.basis) == (world.admin, "administrator")


def test_the_admin_cannot_make_themselves_a_teams_manager(world, admin_client):
    role_grant(user=world.admin, role=Role.MANAGER, granted_by=world.no_role)
    response = admin_client.post(f"/administration/teams/{world.team.pk}/",
                                 team_post(name=world.team.name, team=world.team,
                                           managers=[world.manager, world.admin]))
    assert response.status_code == 200
    assert "You cannot make yourself a team's manager" in text(response)
    assert not world.team.managers.filter(pk=world.admin.pk).exists()


# --- Staff accounts -----------------------------------------------------------------------


def test_staff_are_listed_searched_and_paginated(world, admin_client):
    page = text(admin_client.get("/administration/staff/"))
    assert world.coordinator.display_name in page
    assert world.manager.email in page
    # Service users and carers are not staff accounts.
    assert world.service_user_account.email not in page
    assert world.carer_account.email not in page

    found = text(admin_client.get("/administration/staff/", {"q": "sam coord"[:8]}))
    assert world.coordinator.display_name in found
    assert world.manager.display_name not in found

    for n in range(30):
        UserFactory(roles=[Role.PROFESSIONAL], full_name=f"Zz Professional {n:02d}")
    first = text(admin_client.get("/administration/staff/"))
    assert "Page 2 of 2" in first
    second = text(admin_client.get("/administration/staff/", {"page": 2}))
    assert "Zz Professional 29" in second
    assert "Zz Professional 29" not in first


def test_a_persons_page_shows_roles_teams_and_caseload_counts_only(world, admin_client):
    page = text(admin_client.get(f"/administration/staff/{world.coordinator.pk}/"))
    assert world.coordinator.email in page
    assert "Care coordinator" in page
    assert world.team.name in page
    assert "is the care coordinator of 1 person" in page
    # Who they are is for the team's manager: no name from the caseload.
    assert world.service_user.full_name not in page


def test_a_staff_member_who_is_also_a_carer_shows_only_as_staff(world, admin_client):
    both = UserFactory(roles=[Role.COORDINATOR, Role.CARER], full_name="Jo Both")
    listed = text(admin_client.get("/administration/staff/", {"q": "Jo Both"}))
    page = text(admin_client.get(f"/administration/staff/{both.pk}/"))
    for shown in (listed, page):
        assert "Care coordinator" in shown
        assert "Carer" not in shown


def test_a_service_users_or_carers_account_is_not_in_this_area(world, admin_client):
    for account in (world.service_user_account, world.carer_account):
        assert admin_client.get(f"/administration/staff/{account.pk}/").status_code == 404
        response = admin_client.post(f"/administration/staff/{account.pk}/roles/add/",
                                     {"role": Role.ADMIN})
        assert response.status_code == 404
        assert not User.objects.get(pk=account.pk).has_role(Role.ADMIN)
        assert admin_client.post(f"/administration/staff/{account.pk}/disable/").status_code \
            == 404
        assert User.objects.get(pk=account.pk).is_active


def test_roles_are_given_and_taken_away_from_the_persons_page(world, admin_client):
    url = f"/administration/staff/{world.coordinator.pk}/"
    response = admin_client.post(url + "roles/add/", {"role": Role.MANAGER}, follow=True)
    assert "now has the role: Manager" in text(response)
    response = admin_client.post(url + "roles/remove/", {"role": Role.MANAGER}, follow=True)
    assert "no longer has the role: Manager" in text(response)
    assert User.objects.get(pk=world.coordinator.pk).roles == {Role.COORDINATOR}


def test_the_admin_cannot_change_their_own_roles_from_the_page(world, admin_client):
    url = f"/administration/staff/{world.admin.pk}/"
    page = text(admin_client.get(url))
    assert "This is your own account" in page
    assert "Give this role" not in page
    assert "Disable account" not in page
    response = admin_client.post(url + "roles/add/", {"role": Role.MANAGER}, follow=True)
    assert "You cannot change your own roles" in text(response)
    assert User.objects.get(pk=world.admin.pk).roles == {Role.ADMIN}
    response = admin_client.post(url + "disable/", follow=True)
    assert "You cannot disable your own account" in text(response)
    assert User.objects.get(pk=world.admin.pk).is_active


def test_team_places_are_added_and_removed(world, admin_client):
    newcomer = UserFactory(roles=[Role.COORDINATOR], full_name="Nia Newcomer")
    url = f"/administration/staff/{newcomer.pk}/"
    assert f"{world.other_team.name} – care coordinator" in text(admin_client.get(url))
    admin_client.post(url + "teams/add/", {"team_place": f"{world.other_team.pk}:coordinator"})
    assert world.other_team.coordinators.filter(pk=newcomer.pk).exists()
    # A place whose role they do not hold is not offered, nor taken.
    admin_client.post(url + "teams/add/", {"team_place": f"{world.other_team.pk}:manager"})
    assert not world.other_team.managers.filter(pk=newcomer.pk).exists()
    admin_client.post(url + "teams/remove/", {"team": world.other_team.pk,
                                              "place": "coordinator"})
    assert not world.other_team.coordinators.filter(pk=newcomer.pk).exists()
    actions = set(AccessEvent.objects.filter(actor=world.admin).values_list("action",
                                                                           flat=True))
    assert {"team.coordinator_add", "team.coordinator_remove"} <= actions


def test_disabling_asks_first_warns_about_the_caseload_and_signs_them_out(
    world, admin_client, password
):
    target = world.coordinator
    laptop, phone = client_for(target), client_for(target)
    url = f"/administration/staff/{target.pk}/disable/"
    confirm = text(admin_client.get(url))
    assert f"Disable {target.display_name}'s account?" in confirm
    assert "People still allocated to" in confirm
    assert User.objects.get(pk=target.pk).is_active  # nothing done by looking

    response = admin_client.post(url, follow=True)
    assert "has been disabled" in text(response)
    for browser in (laptop, phone):
        assert browser.get("/").status_code == 302
    refused = Client().post("/sign-in/", {"username": target.email, "password": password})
    assert refused.status_code == 200

    page = text(admin_client.get(f"/administration/staff/{target.pk}/"))
    assert "Disabled" in page
    assert "Enable account" in page
    admin_client.post(f"/administration/staff/{target.pk}/enable/")
    assert User.objects.get(pk=target.pk).is_active


def test_posting_without_the_csrf_token_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.admin)
    from tests.conftest import pass_second_factor
    pass_second_factor(client, world.admin)
    assert client.get("/administration/").status_code == 200
    response = client.post(f"/administration/staff/{world.coordinator.pk}/disable/")
    assert response.status_code == 403
    assert User.objects.get(pk=world.coordinator.pk).is_active
    response = client.post("/administration/teams/new/", team_post(name="No token"))
    assert response.status_code == 403
    assert not Team.objects.filter(name="No token").exists()


# --- Changes made ---------------------------------------------------------------------------


def test_the_changes_are_listed_newest_first_in_plain_english(world, admin_client):
    admin_client.post("/administration/teams/new/", team_post(name="Hexham Crisis Team"))
    admin_client.post(f"/administration/staff/{world.coordinator.pk}/roles/add/",
                      {"role": Role.PROFESSIONAL})
    admin_client.post(f"/administration/staff/{world.other_coordinator.pk}/disable/")
    page = text(admin_client.get("/administration/changes/"))
    disabled = f"disabled {world.other_coordinator.display_name}'s account"
    given = f"gave {world.coordinator.display_name} the role: Care team professional"
    created = "created the team Hexham Crisis Team"
    assert disabled in page
    assert given in page
    assert created in page
    assert page.index(disabled) < page.index(given) < page.index(created)
    assert world.admin.display_name in page


def test_the_emergency_admins_changes_are_in_words_too(world, admin_client):
    from carecoord.records.services import user_account_change_record
    user_account_change_record(user=world.coordinator, changed_by=world.admin,
                               change="is_active=False")
    page = text(admin_client.get("/administration/changes/"))
    assert (f"changed {world.coordinator.display_name}'s account in the emergency admin "
            "(disabled)") in page


def test_the_changes_leave_out_service_users_and_carers_taking_up_invitations(world,
                                                                              admin_client):
    someone = UserFactory(full_name="Private Person")
    role_grant(user=someone, role=Role.SERVICE_USER)  # "invitation taken up"
    page = text(admin_client.get("/administration/changes/"))
    assert "Private Person" not in page


def test_the_changes_are_paginated(world, admin_client):
    for n in range(30):
        admin_client.post("/administration/teams/new/", team_post(name=f"Team {n:02d}"))
    first = text(admin_client.get("/administration/changes/"))
    assert "created the team Team 29" in first
    assert "Page 2 of" in first
    assert "created the team Team 00" not in first


# --- No clinical content --------------------------------------------------------------------


def test_no_page_of_the_area_shows_record_or_plan_content(world, admin_client):
    plan = make_plan(world)
    add_item(plan, "goals", world.coordinator, "Secret goal words",
             body="Only my care team may read this")
    AllocationFactory(coordinator=world.coordinator,
                      episode=EpisodeFactory(service_user=ServiceUserFactory(
                          team=world.team, full_name="Hidden Person")))
    urls = ["/administration/", "/administration/teams/",
            f"/administration/teams/{world.team.pk}/", "/administration/staff/",
            f"/administration/staff/{world.coordinator.pk}/",
            f"/administration/staff/{world.coordinator.pk}/disable/",
            "/administration/changes/"]
    for url in urls:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        page = text(response)
        for secret in ("Secret goal words", "Only my care team may read this",
                       world.service_user.full_name, "Hidden Person"):
            assert secret not in page, (url, secret)
    # And the administrator's role opens no record.
    assert admin_client.get(f"/service-users/{world.service_user.pk}/").status_code == 404
    assert admin_client.get(f"/plans/{plan.pk}/").status_code == 404

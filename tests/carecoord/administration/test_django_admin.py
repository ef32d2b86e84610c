"""Django's admin stays for emergencies: its team form offers only people who hold the
role (tests/carecoord/test_admin_no_record_access.py), and it keeps an administrator."""

from __future__ import annotations

import pytest

from carecoord.records.models import Role, User, UserRole
from consent import policy
from tests.conftest import client_for
from tests.factories import UserFactory


@pytest.fixture
def emergency_superuser(db):
    """Django's flags only, without the administrator role."""
    return UserFactory(is_staff=True, is_superuser=True, full_name="Emergency Engineer")


def user_post(user: User, *, active: bool, delete_admin_role: bool = False) -> dict:
    grant = UserRole.objects.get(user=user, role=Role.ADMIN)
    data = {
        "full_name": user.full_name, "is_staff": "on", "is_superuser": "on",
        "role_grants-TOTAL_FORMS": "1", "role_grants-INITIAL_FORMS": "1",
        "role_grants-MIN_NUM_FORMS": "0", "role_grants-MAX_NUM_FORMS": "1000",
        "role_grants-0-id": str(grant.pk), "role_grants-0-user": str(user.pk),
        "role_grants-0-role": Role.ADMIN,
    }
    if active:
        data["is_active"] = "on"
    if delete_admin_role:
        data["role_grants-0-DELETE"] = "on"
    return data


def test_the_django_admin_does_not_disable_the_last_administrator(world, emergency_superuser):
    client = client_for(emergency_superuser)
    response = client.post(f"/admin/carecoord/user/{world.admin.pk}/change/",
                           user_post(world.admin, active=False), follow=True)
    assert response.status_code == 200
    assert "This is the only administrator" in response.content.decode()
    assert User.objects.get(pk=world.admin.pk).is_active
    assert list(policy.administrators()) == [world.admin]


def test_the_django_admin_does_not_take_the_role_from_the_last_administrator(
    world, emergency_superuser
):
    client = client_for(emergency_superuser)
    client.post(f"/admin/carecoord/user/{world.admin.pk}/change/",
                user_post(world.admin, active=True, delete_admin_role=True))
    assert User.objects.get(pk=world.admin.pk).has_role(Role.ADMIN)


def test_with_a_second_administrator_the_django_admin_may_disable_one(world,
                                                                     emergency_superuser):
    UserFactory(roles=[Role.ADMIN])
    client = client_for(emergency_superuser)
    client.post(f"/admin/carecoord/user/{world.admin.pk}/change/",
                user_post(world.admin, active=False))
    assert not User.objects.get(pk=world.admin.pk).is_active

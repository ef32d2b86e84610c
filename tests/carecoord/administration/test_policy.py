"""Who may use the administration area: one predicate, asked as a queryset and about one
person, which must agree (consent/policy/administration.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from carecoord.records.models import Role, User
from consent import policy
from tests.factories import UserFactory

NOT_ADMINISTRATORS = ["manager", "coordinator", "service_user_account", "carer_account",
                      "other_manager", "no_role"]


@pytest.mark.parametrize("who", NOT_ADMINISTRATORS)
def test_nobody_but_an_administrator_may_administer(world, who):
    person = getattr(world, who)
    assert not policy.can_administer(person)
    assert person not in policy.administrators()
    with pytest.raises(Http404):
        policy.administrator_or_404(person)


def test_an_administrator_may(world):
    assert policy.can_administer(world.admin)
    assert policy.administrator_or_404(world.admin) == world.admin
    assert list(policy.administrators()) == [world.admin]


def test_django_admin_flags_alone_are_not_the_administrator_role(world):
    """is_staff/is_superuser open Django's admin (for emergencies), not this area."""
    flags_only = UserFactory(is_staff=True, is_superuser=True)
    assert not policy.can_administer(flags_only)


def test_a_disabled_administrator_may_not(world):
    User.objects.filter(pk=world.admin.pk).update(is_active=False)
    admin = User.objects.get(pk=world.admin.pk)
    assert not policy.can_administer(admin)
    assert not policy.administrators().exists()


def test_signed_out_may_not(world):
    assert not policy.can_administer(AnonymousUser())


def test_list_and_one_person_agree(world):
    second = UserFactory(roles=[Role.ADMIN, Role.MANAGER])
    everyone = list(User.objects.all())
    listed = set(policy.administrators())
    assert listed == {world.admin, second}
    for person in everyone:
        assert policy.can_administer(person) == (person in listed), person


def test_the_header_asks_the_database_only_about_someone_holding_the_role(
        world, django_assert_num_queries):
    """Every page asks whether to show "Administration": the roles read for the request
    answer it for everyone else, without another query."""
    carer = User.objects.get(pk=world.carer_account.pk)
    assert carer.roles  # read once, as the request does
    with django_assert_num_queries(0):
        assert not policy.can_administer(carer)
    admin = User.objects.get(pk=world.admin.pk)
    assert admin.roles
    with django_assert_num_queries(1):
        assert policy.can_administer(admin)

"""The grants' permission asked by id (consent.grants.view_item_permission_id): the same
items shared as when the rule joined the permission and content-type tables, never a
grant of another permission, and a stale id forgotten when the tables are made again."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.db.models.signals import post_migrate

from consent import grants, policy
from consent.grants import PlanItemUserObjectPermission, view_item_permission_id
from consent.services import consent_decide_item
from plans.models import PlanItem
from tests.plans.factories import make_plan, prompt_item


@pytest.fixture
def shared_item(world) -> PlanItem:
    item = prompt_item(make_plan(world), "early_signs")
    consent_decide_item(item=item, carer=world.carer_relationship.carer, shared=True,
                        decided_by=world.service_user_account)
    return item


@pytest.fixture
def _forget_afterwards():
    yield
    grants._view_item_permission_id = None


def test_the_id_is_plans_view_planitem(db):
    assert view_item_permission_id() == Permission.objects.get(
        content_type__app_label="plans", codename="view_planitem").pk


def test_a_shared_item_is_found_without_joining_the_permission_tables(world, shared_item):
    visible = policy.items_visible_to(world.carer_account, PlanItem.objects.all())
    assert list(visible) == [shared_item]
    assert list(policy.items_shared_with(world.carer_account)) == [shared_item]
    sql = str(visible.query)
    assert "auth_permission" not in sql
    assert "django_content_type" not in sql


def test_a_grant_of_another_permission_shares_nothing(world, shared_item):
    """A row in the grant table for another permission (nothing writes one; a hand-made
    row, say) is not a share: not in the carer's lists, not among the item's readers."""
    readers = policy.item_readers(world.service_user, [shared_item])[shared_item.pk]
    assert readers.carers == [world.carer_relationship.carer]
    grant = PlanItemUserObjectPermission.objects.get(user=world.carer_account)
    change = Permission.objects.get(content_type__app_label="plans", codename="change_planitem")
    PlanItemUserObjectPermission.objects.filter(pk=grant.pk).update(permission=change)
    assert not policy.items_visible_to(world.carer_account, PlanItem.objects.all()).exists()
    assert not policy.items_shared_with(world.carer_account).exists()
    assert policy.item_readers(world.service_user, [shared_item])[shared_item.pk].carers == []


@pytest.mark.usefixtures("_forget_afterwards")
def test_a_stale_id_shows_nothing_and_is_forgotten_when_the_tables_are_made_again(
        world, shared_item):
    grants._view_item_permission_id = 10**9  # as if the permission had been made again
    assert not policy.items_shared_with(world.carer_account).exists()  # fails closed
    assert policy.item_readers(world.service_user, [shared_item])[shared_item.pk].carers == []
    consent_app = apps.get_app_config("consent")
    post_migrate.send(sender=consent_app, app_config=consent_app, verbosity=0,
                      interactive=False, using="default", apps=apps, plan=[])
    assert list(policy.items_shared_with(world.carer_account)) == [shared_item]
    readers = policy.item_readers(world.service_user, [shared_item])[shared_item.pk]
    assert readers.carers == [world.carer_relationship.carer]

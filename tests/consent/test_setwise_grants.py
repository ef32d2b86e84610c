"""Grants are computed and written set-wise (ADR 0005): sharing a whole section, syncing
a carer and checking for drift take the same few queries for 5 items as for 40."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consent import policy
from consent.grants import PlanItemUserObjectPermission
from consent.services import (
    consent_decide_item,
    consent_decide_section,
    consent_permissions_check,
    consent_sync_carer,
)
from tests.plans.factories import add_item, make_plan


def _plan_with_needs(world, count: int):
    plan = make_plan(world)
    for number in range(count):
        add_item(plan, "needs_support", world.coordinator, f"Need {number}",
                 body=f"About need {number}.")
    return plan


def _queries(work) -> int:
    with CaptureQueriesContext(connection) as captured:
        work()
    return len(captured)


@pytest.mark.parametrize("section_size", [5, 40])
def test_sharing_a_section_takes_the_same_queries_however_big_it_is(world, section_size,
                                                                     django_assert_max_num_queries):
    plan = _plan_with_needs(world, section_size)
    carer = world.carer_relationship.carer
    # A fixed budget whatever the section's size (28 today: the carer's "new things
    # shared with you" notification looks for an unread one to group with, and the
    # decision's generations look up whom it concerns: the carer's account and their
    # people's teams, ADR 0029).
    with django_assert_max_num_queries(28):
        consent_decide_section(plan=plan, section="needs_support", carer=carer, shared=True,
                               decided_by=world.service_user_account)
    needs = set(plan.items.filter(section="needs_support").values_list("pk", flat=True))
    assert len(needs) == section_size
    assert needs <= set(policy.items_shared_with(world.carer_account)
                        .values_list("pk", flat=True))


def test_sync_and_drift_check_do_not_grow_with_the_items(world):
    carer = world.carer_relationship.carer
    small = _plan_with_needs(world, 3)
    consent_decide_section(plan=small, section="needs_support", carer=carer, shared=True,
                           decided_by=world.service_user_account)
    few_sync = _queries(lambda: consent_sync_carer(carer=carer))
    few_check = _queries(consent_permissions_check)

    big = _plan_with_needs(world, 30)
    consent_decide_section(plan=big, section="needs_support", carer=carer, shared=True,
                           decided_by=world.service_user_account)
    assert _queries(lambda: consent_sync_carer(carer=carer)) == few_sync
    assert _queries(consent_permissions_check) == few_check
    assert consent_permissions_check() == []


def test_sync_repairs_missing_stray_and_wrong_grants_in_one_pass(world):
    carer = world.carer_relationship.carer
    plan = _plan_with_needs(world, 4)
    items = list(plan.items.filter(section="needs_support").order_by("pk"))
    consent_decide_section(plan=plan, section="needs_support", carer=carer, shared=True,
                           decided_by=world.service_user_account)
    consent_decide_item(item=items[0], carer=carer, shared=False,
                        decided_by=world.service_user_account)
    grants = PlanItemUserObjectPermission.objects.filter(user=world.carer_account)
    template = grants.get(content_object=items[1])
    # Drift of every kind: a missing grant, a grant no decision justifies, a wrong end date.
    grants.filter(content_object=items[1]).delete()
    PlanItemUserObjectPermission.objects.create(
        user=world.carer_account, permission=template.permission, content_object=items[0],
        decision=template.decision)
    grants.filter(content_object=items[2]).update(expires_on="2001-01-01")
    assert {d.problem for d in consent_permissions_check()} == {
        "shared, but the permission is missing",
        "not shared, but a permission exists",
        "the permission's end date is wrong",
    }
    assert consent_sync_carer(carer=carer) == 3
    assert consent_permissions_check() == []
    assert set(grants.values_list("content_object_id", flat=True)) == {
        item.pk for item in items[1:]}

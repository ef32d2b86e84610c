"""The shape of the policy's SQL where it decides speed at a trust's size (issue 15).

Inside an OR, PostgreSQL costs a correlated EXISTS as if it ran once for every row (about
75,000 over a trust's 6,000 records, where `pk IN (...)` with the same hashed plan costs
about 350). Every rule built on the record predicate then crossed `jit_above_cost`, and
each page spent from a third of a second to seconds compiling its queries. The rows are
the same either way: the access matrix tests hold that."""

from __future__ import annotations

import pytest

from consent import policy
from plans.models import Plan

pytestmark = pytest.mark.django_db


def test_a_records_readers_are_an_in_list_not_a_correlated_exists(world):
    sql = str(policy.records_read_in_full(world.coordinator).query)
    assert "EXISTS" not in sql.upper()
    plans = str(policy.plans_visible_to(world.coordinator, Plan.objects.all()).query)
    # The care-team and emergency-access places were IN lists already.
    assert "EXISTS" not in plans.upper()


def test_the_same_records_for_each_reader(world):
    assert set(policy.records_read_in_full(world.coordinator)) == {world.service_user}
    assert set(policy.records_read_in_full(world.service_user_account)) == {world.service_user}
    for outsider in (world.other_coordinator, world.carer_account, world.manager):
        assert world.service_user not in set(policy.records_read_in_full(outsider))

"""How the policy's list rules reach the database (issue 15). Each basis names the rows
through the viewer's own ids (`= ANY(ARRAY(...))`), so PostgreSQL can find a carer's or a
coordinator's items, plans and versions through indexes. Asked as an OR of correlated
sub-queries, the only plan was to read every plan item of the trust and test each (half a
second for a carer's 25 items among 500,000): with sequential scans switched off, such a
query still has to read the whole table, which is what these tests look for. The rows the rules
give every role are the matrix tests' business (test_policy_rules, test_surfaces_property)."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from consent import policy
from consent.services import consent_decide_section
from plans.models import Plan, PlanItem, PlanVersion
from tests.plans.factories import fill_crisis, make_plan, propose

pytestmark = pytest.mark.django_db


def _plan_avoiding_table_scans(queryset) -> dict:
    """The query plan PostgreSQL picks when it may avoid reading whole tables (JSON). The
    test database is tiny and never analysed, so whole-table reads and hash joins look
    cheapest to it whatever the query's shape: both are switched off, for this test's
    transaction only, so that it reads a table in full only when nothing else answers."""
    with connection.cursor() as cursor:
        for setting in ("enable_seqscan", "enable_hashjoin", "enable_mergejoin"):
            cursor.execute(f"SET LOCAL {setting} = off")
        # Earlier tests leave statistics behind (autovacuum analyses the tables they
        # filled): with a few dozen rows known, reading a whole index looks cheapest too.
        # Forget them for this test's transaction (rolled back with it), so that every run
        # plans as on a fresh database, whatever ran before.
        cursor.execute("""
            UPDATE pg_class SET reltuples = -1, relpages = 0
            WHERE relnamespace = 'public'::regnamespace AND relname LIKE 'plans\\_%%'
               OR relname LIKE 'consent\\_%%' OR relname LIKE 'carers\\_%%'
               OR relname LIKE 'carecoord\\_%%'""")
        cursor.execute("""
            DELETE FROM pg_statistic WHERE starelid IN (
                SELECT oid FROM pg_class WHERE relname LIKE 'plans\\_%%'
                   OR relname LIKE 'consent\\_%%' OR relname LIKE 'carers\\_%%'
                   OR relname LIKE 'carecoord\\_%%')""")
    return json.loads(queryset.explain(format="json"))[0]["Plan"]


def _nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def _reads_all_of(table: str, plan: dict) -> bool:
    """The query itself (a sub-query's tables have an alias) reads every row of `table`:
    a sequential scan, or an index scan with no condition on the index."""
    return any(
        node.get("Relation Name") == table and node.get("Alias") == table
        and (node["Node Type"] == "Seq Scan"
             or (node["Node Type"] in ("Index Scan", "Index Only Scan")
                 and "Index Cond" not in node))
        for node in _nodes(plan)
    )


@pytest.fixture
def shared_plan(world) -> Plan:
    plan = make_plan(world)
    fill_crisis(plan, world.service_user_account)
    consent_decide_section(plan=plan, section="crisis", carer=world.carer_relationship.carer,
                           shared=True, decided_by=world.service_user_account)
    propose(plan, world.coordinator)
    return plan


# Not the coordinator: with care-team bases in the OR (staff), the tiny test database's
# planner still prefers reading the plan items through their primary key; at trust size it
# finds a coordinator's rows through the indexes too (ADR 0023, measured with EXPLAIN).
@pytest.mark.parametrize("who", ["carer_account", "service_user_account",
                                 "other_carer_account"])
def test_items_versions_and_plans_are_found_through_indexes(world, shared_plan, who):
    viewer = getattr(world, who)
    items = _plan_avoiding_table_scans(policy.items_visible_to(viewer, PlanItem.objects.all()))
    assert not _reads_all_of("plans_planitem", items), items
    assert not _reads_all_of("plans_plan", items), items
    versions = _plan_avoiding_table_scans(
        policy.versions_visible_to(viewer, PlanVersion.objects.all()))
    assert not _reads_all_of("plans_planversion", versions), versions
    assert not _reads_all_of("plans_plan", versions), versions
    plans = _plan_avoiding_table_scans(policy.plans_visible_to(viewer, Plan.objects.all()))
    assert not _reads_all_of("plans_plan", plans), plans


def test_the_carers_items_are_still_the_shared_ones(world, shared_plan):
    """The shape changes nothing the carer sees: the shared section's items, no more."""
    visible = set(policy.items_visible_to(world.carer_account, PlanItem.objects.all())
                  .values_list("pk", flat=True))
    assert visible == set(shared_plan.items.filter(section="crisis").values_list("pk", flat=True))
    assert visible
    assert not policy.items_visible_to(world.other_carer_account, PlanItem.objects.all()).exists()

"""generate_scale_data (issue 15, ADR 0023): the data is what the services would have made
(the three verify commands pass on it), of the size asked for, made once, and never in a
deployment (it creates accounts with a published password)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from carecoord.audit.models import AccessEvent
from carecoord.demo.scale import SCALE_PASSWORD, SMALL
from carecoord.records.models import Role, ServiceUser, Team, User
from carers.models import CarerRelationship
from consent import policy
from plans.models import Plan, PlanItem, PlanVersion, Signature
from tests import clock


def _generate(**options) -> str:
    out = io.StringIO()
    call_command("generate_scale_data", "--small", f"--today={clock.today()}", stdout=out,
                 **options)
    return out.getvalue()


@pytest.fixture
def small_trust(db, settings):
    settings.DEBUG = True
    _generate()


def test_the_small_trust_passes_the_three_checks_and_has_the_sizes_asked_for(small_trust):
    for command in ("verify_audit_chain", "verify_plan_signatures",
                    "check_consent_permissions"):
        out = io.StringIO()
        call_command(command, stdout=out)  # raises CommandError on any mismatch
        assert out.getvalue().startswith("OK"), (command, out.getvalue())

    people = SMALL.service_users
    assert Team.objects.filter(name__startswith="Scale team").count() == SMALL.teams
    assert ServiceUser.objects.count() == people
    assert CarerRelationship.objects.active().count() == people * SMALL.carers_per_service_user
    assert Plan.objects.count() == 3 * people
    # Every plan agreed: its version signed by everyone who must sign it.
    assert PlanVersion.objects.filter(agreed_at__isnull=False).count() == 3 * people
    assert Signature.objects.count() == people * (2 + 1 + 2)
    # Fixed questions plus the free items: care plan 50 (80 for every tenth person), WRAP
    # 26, responsibility agreement 8: 84 a person, about 500,000 at trust scale.
    long_plans = len(range(0, people, SMALL.long_plan_every))
    assert PlanItem.objects.count() == people * (50 + 26 + 8) + long_plans * 30
    assert AccessEvent.objects.count() == SMALL.access_events

    # The policy agrees: each carer sees what was shared with them, no more.
    relationship = CarerRelationship.objects.select_related("carer__user").first()
    carer = relationship.carer.user
    assert carer.has_role(Role.CARER)
    visible = policy.items_visible_to(carer, PlanItem.objects.all())
    assert visible.count() == SMALL.shared_items_per_carer
    assert set(visible.values_list("plan__service_user_id", flat=True)) == {
        relationship.service_user_id}
    # A coordinator holds a caseload of their team's people only.
    coordinator = User.objects.filter(email__startswith="coordinator").first()
    assert coordinator.check_password(SCALE_PASSWORD)


@pytest.mark.postgresql_only
def test_the_years_events_lie_in_their_months_partitions_not_the_default(small_trust):
    """As on a trust that has run for a year: the reports prune by month, and each month
    can be archived (ADR 0027)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM carecoord_accessevent_default")
        in_default = cursor.fetchone()[0]
        cursor.execute("SELECT tableoid::regclass::text, count(*) FROM carecoord_accessevent "
                       "GROUP BY 1")
        by_partition = dict(cursor.fetchall())
    assert in_default == 0
    assert sum(by_partition.values()) == AccessEvent.objects.count() == SMALL.access_events
    assert len(by_partition) >= 12  # a year of months


def test_run_again_it_makes_nothing(small_trust):
    before = (User.objects.count(), PlanItem.objects.count(), AccessEvent.objects.count())
    assert "already here" in _generate()
    assert (User.objects.count(), PlanItem.objects.count(),
            AccessEvent.objects.count()) == before


def test_it_refuses_to_run_in_a_deployment(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="published"):
        _generate()
    assert not User.objects.filter(email__endswith="@scale.example.test").exists()


def test_with_debug_off_it_runs_only_when_told_this_is_not_production(db, settings):
    settings.DEBUG = False
    _generate(i_know_this_is_not_production=True)
    assert ServiceUser.objects.count() == SMALL.service_users

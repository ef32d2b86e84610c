"""Signposting on the care plan: recorded by the allocated care coordinator or the
service user, shown on the care plan to them only (everyone else gets "not found"),
audited, and counted — numbers only — for the team's manager."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from carecoord.audit.models import AccessEvent
from consent import policy
from consent.policy import Basis
from peersupport import services
from peersupport.models import Audience, Signposting, TakenUp
from peersupport.selectors import signposting_counts
from plans.sections import PlanKind
from tests import clock
from tests.conftest import client_for
from tests.forms import date_parts
from tests.peersupport.helpers import make_offer, page, text
from tests.plans.factories import make_plan

OUTCOME = "Went twice and liked the people. Wants to keep going."


@pytest.fixture
def offer(db):
    return make_offer("Tyne Valley Walk and Talk", audience=Audience.BOTH, place="Corbridge")


@pytest.fixture
def care_plan(world):
    return make_plan(world)


@pytest.fixture
def signposting(world, offer):
    return services.signposting_record(
        service_user=world.service_user, offer=offer, offered_by=world.coordinator,
        basis=Basis.ALLOCATED_COORDINATOR, taken_up=TakenUp.YES, outcome=OUTCOME,
    )


OUTSIDERS = ["other_coordinator", "other_service_user_account", "carer_account",
             "other_carer_account", "manager", "other_manager", "admin", "no_role"]


def test_the_coordinator_records_it_and_it_shows_on_the_care_plan(world, offer, care_plan,
                                                                   coordinator_client):
    url = reverse("signposting_create", args=[world.service_user.pk])
    form = coordinator_client.get(url, {"offer": offer.pk})
    assert form.status_code == 200
    assert f'value="{offer.pk}" selected' in page(form)
    response = coordinator_client.post(url, {
        "offer": offer.pk, **date_parts("offered_on", clock.today()),
        "taken_up": "not_yet", "outcome": "",
    })
    assert response.status_code == 302
    assert response.url == reverse("plan_detail", args=[care_plan.pk]) + "#signposting"
    signposting = Signposting.objects.get()
    assert signposting.offered_by == world.coordinator
    assert AccessEvent.objects.filter(action="signposting.record",
                                      target=f"signposting:{signposting.pk}",
                                      service_user=world.service_user,
                                      basis=Basis.ALLOCATED_COORDINATOR).exists()

    for client in (coordinator_client, client_for(world.service_user_account)):
        words = text(client.get(reverse("plan_detail", args=[care_plan.pk])))
        assert "Peer support and learning" in words
        assert "Tyne Valley Walk and Talk" in words
        assert "Taken up Not yet" in words


def test_the_service_user_records_their_own(world, offer, care_plan, service_user_client):
    url = reverse("signposting_create", args=[world.service_user.pk])
    words = text(service_user_client.get(url))
    assert "Have you taken it up?" in words
    response = service_user_client.post(url, {
        "offer": offer.pk, **date_parts("offered_on", clock.today()),
        "taken_up": "yes", "outcome": "I loved it.",
    })
    assert response.status_code == 302
    signposting = Signposting.objects.get()
    assert signposting.offered_by == world.service_user_account
    assert signposting.taken_up == TakenUp.YES
    plan_page = text(service_user_client.get(reverse("plan_detail", args=[care_plan.pk])))
    assert "I loved it." in plan_page
    assert "by you" in plan_page
    coordinator_view = text(client_for(world.coordinator).get(
        reverse("plan_detail", args=[care_plan.pk])))
    assert f"by {world.service_user.name}" in coordinator_view


def test_how_it_went_is_updated_and_audited(world, signposting, care_plan,
                                            coordinator_client):
    url = reverse("signposting_edit", args=[signposting.pk])
    assert coordinator_client.get(url).status_code == 200
    response = coordinator_client.post(url, {"taken_up": "no",
                                             "outcome": "Too far on the bus."})
    assert response.status_code == 302
    signposting.refresh_from_db()
    assert signposting.taken_up == TakenUp.NO
    assert signposting.outcome == "Too far on the bus."
    assert AccessEvent.objects.filter(action="signposting.update",
                                      target=f"signposting:{signposting.pk}").exists()
    # Opening someone else's signposting to change it is itself recorded.
    assert AccessEvent.objects.filter(action="signposting_edit.view",
                                      actor=world.coordinator).exists()


@pytest.mark.parametrize("who", OUTSIDERS)
def test_nobody_else_sees_or_records_it(world, signposting, care_plan, offer, who):
    client = client_for(getattr(world, who))
    assert client.get(reverse("plan_detail", args=[care_plan.pk])).status_code == 404
    assert client.get(reverse("signposting_edit", args=[signposting.pk])).status_code == 404
    assert client.post(reverse("signposting_edit", args=[signposting.pk]),
                       {"taken_up": "no", "outcome": "x"}).status_code == 404
    create = reverse("signposting_create", args=[world.service_user.pk])
    assert client.get(create).status_code == 404
    assert client.post(create, {"offer": offer.pk, **date_parts("offered_on", "2026-01-01"),
                                "taken_up": "yes"}).status_code == 404
    signposting.refresh_from_db()
    assert signposting.taken_up == TakenUp.YES
    assert Signposting.objects.count() == 1
    assert not policy.signposting_visible_to(getattr(world, who)).exists()


def test_the_policy_matrix(world, signposting):
    visible = {
        name for name in ["coordinator", "service_user_account", *OUTSIDERS]
        if policy.signposting_visible_to(getattr(world, name)).filter(
            pk=signposting.pk).exists()
    }
    assert visible == {"coordinator", "service_user_account"}
    for name in OUTSIDERS:
        with pytest.raises(Exception, match="No such signposting"):
            policy.signposting_for_viewer(getattr(world, name), signposting.pk)


def test_a_coordinator_whose_allocation_ended_no_longer_sees_it(world, signposting,
                                                                 coordinator_client):
    allocation = world.service_user.episodes.get().allocations.get()
    allocation.ended_on = clock.today()
    allocation.save()
    assert coordinator_client.get(reverse("signposting_edit", args=[signposting.pk])
                                  ).status_code == 404


def test_it_shows_only_on_the_care_plan(world, signposting, coordinator_client):
    wrap = make_plan(world, PlanKind.WRAP)
    assert "Tyne Valley Walk and Talk" not in text(
        coordinator_client.get(reverse("plan_detail", args=[wrap.pk])))


def test_the_form_keeps_what_was_typed(world, offer, coordinator_client):
    tomorrow = clock.today() + dt.timedelta(days=1)
    response = coordinator_client.post(
        reverse("signposting_create", args=[world.service_user.pk]),
        {"offer": offer.pk, **date_parts("offered_on", tomorrow), "taken_up": "yes",
         "outcome": "Keep these words."},
    )
    assert response.status_code == 200
    assert "The date must be today or in the past" in text(response)
    markup = page(response)
    assert "Keep these words.</textarea>" in markup
    assert f'value="{offer.pk}" selected' in markup
    assert not Signposting.objects.exists()


def test_a_retired_offer_cannot_be_recorded_but_old_records_stay(world, signposting, offer,
                                                                 care_plan,
                                                                 coordinator_client):
    offer.active = False
    offer.save()
    response = coordinator_client.post(
        reverse("signposting_create", args=[world.service_user.pk]),
        {"offer": offer.pk, **date_parts("offered_on", clock.today()),
         "taken_up": "not_yet"},
    )
    assert response.status_code == 200
    assert "Choose what was offered" in text(response)
    assert "Tyne Valley Walk and Talk" in text(
        coordinator_client.get(reverse("plan_detail", args=[care_plan.pk])))


def test_counts_for_the_team_and_its_manager_only(world, offer, signposting,
                                                  manager_client):
    course = make_offer("WRAP course", kind="course")
    for taken_up in (TakenUp.NO, TakenUp.NOT_YET):
        services.signposting_record(service_user=world.service_user, offer=course,
                                    offered_by=world.coordinator, basis="test",
                                    taken_up=taken_up)
    counts = signposting_counts(team=world.team)
    assert (counts.offered, counts.taken_up, counts.not_taken_up, counts.not_yet) == (3, 1, 1, 1)
    assert signposting_counts(team=world.other_team).offered == 0

    words = text(manager_client.get(reverse("team_detail", args=[world.team.pk])))
    assert "offered 3 opportunities. 1 was taken up, 1 was not, and 1 is not decided yet" \
        in words
    # Numbers only: no offer names, no notes.
    assert OUTCOME not in words
    assert "Tyne Valley Walk and Talk" not in words
    assert client_for(world.other_manager).get(
        reverse("team_detail", args=[world.team.pk])).status_code == 404


@pytest.mark.parametrize("who", ["coordinator", "service_user_account", *OUTSIDERS])
def test_the_basis_form_answers_as_the_rule(world, signposting, who):
    """The care plan page asks `signposting_visible_on_basis` with the basis it opened
    the plan on; for every viewer it must answer as `signposting_visible_to` does."""
    viewer = getattr(world, who)
    mine = Signposting.objects.filter(service_user=world.service_user)
    basis = policy.record_basis(viewer, world.service_user)
    on_basis = set(policy.signposting_visible_on_basis(viewer, basis, mine))
    assert on_basis == set(policy.signposting_visible_to(viewer, mine))


def test_a_care_team_member_reads_none_on_their_basis(world, signposting):
    assert not policy.signposting_visible_on_basis(
        world.coordinator, Basis.CARE_TEAM, Signposting.objects.all()).exists()

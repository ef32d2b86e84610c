"""Notifications that say what and where: grouped while unread ("3 new things shared with
you", not three lines), each linking to the place; emails that name nobody and hold no
clinical content. Proposing a version tells those who must sign; a decline tells the
coordinator; a change to sharing made on a service user's behalf tells them who, when and
on what basis."""

from __future__ import annotations

import pytest
from django.urls import reverse

from carecoord.notifications.models import Notification
from carecoord.notifications.services import notification_send, notifications_mark_read
from consent import services as consent_services
from plans import services
from plans.sections import PlanKind
from tests.conftest import client_for
from tests.plans.factories import (
    add_item,
    add_responsibility,
    make_plan,
    plan_with_content,
    prompt_item,
    propose,
)

pytestmark = pytest.mark.django_db

REASON = "It does not say that my sister is the one to call."
BASIS = "Alex asked for this in our meeting on Tuesday"


def notes(user) -> list[Notification]:
    return list(Notification.objects.filter(user=user).order_by("-created_at", "-pk"))


def assert_email_says_nothing(message, world, *secrets: str) -> None:
    for secret in (world.service_user.full_name, world.service_user.name,
                   world.coordinator.full_name, world.carer_relationship.carer.name,
                   *secrets):
        assert secret not in message.subject
        assert secret not in message.body


def test_like_things_are_one_entry_while_unread_and_one_email(world, mailoutbox,
                                                               django_capture_on_commit_callbacks):
    user = world.carer_account
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            notification_send(user=user, text="Alex has shared a new thing with you.",
                              text_for_count="Alex has shared {count} new things with you.",
                              group="shared:1", url_name="home")
    [only] = notes(user)
    assert only.count == 3
    assert only.text == "Alex has shared 3 new things with you."
    assert len(mailoutbox) == 1

    notifications_mark_read(user=user)
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(user=user, text="Alex has shared a new thing with you.",
                          text_for_count="Alex has shared {count} new things with you.",
                          group="shared:1", url_name="home")
    newest, older = notes(user)
    assert (newest.count, newest.text) == (1, "Alex has shared a new thing with you.")
    assert older.count == 3
    assert len(mailoutbox) == 2
    # Another group, or no group, is never merged.
    notification_send(user=user, text="Something else.", group="shared:2", url_name="home")
    notification_send(user=user, text="Ungrouped.", url_name="home")
    notification_send(user=user, text="Ungrouped.", url_name="home")
    assert len(notes(user)) == 5


def test_sharing_item_by_item_is_one_grouped_notification_for_the_carer(
        world, mailoutbox, django_capture_on_commit_callbacks):
    plan = plan_with_content(world)
    carer = world.carer_relationship.carer
    items = [prompt_item(plan, "recovery_meaning"),
             add_item(plan, "needs_support", world.coordinator, "Letters"),
             add_item(plan, "needs_support", world.coordinator, "Shopping")]
    with django_capture_on_commit_callbacks(execute=True):
        for item in items:
            consent_services.consent_decide_item(item=item, carer=carer, shared=True,
                                                 decided_by=world.service_user_account)
    [only] = notes(world.carer_account)
    assert only.text == "Alex Service has shared 3 new things with you."
    assert only.url == reverse("carer_person", args=[world.carer_relationship.pk])
    assert len(mailoutbox) == 1
    assert_email_says_nothing(mailoutbox[0], world, "Letters", "Shopping")
    # The service user decided it themselves: nothing for them.
    assert notes(world.service_user_account) == []


def test_a_section_shared_at_once_counts_its_items(world, django_capture_on_commit_callbacks):
    plan = plan_with_content(world)
    add_item(plan, "needs_support", world.coordinator, "Letters")
    add_item(plan, "needs_support", world.coordinator, "Shopping")
    consent_services.consent_decide_section(plan=plan, section="needs_support",
                                            carer=world.carer_relationship.carer, shared=True,
                                            decided_by=world.service_user_account)
    [only] = notes(world.carer_account)
    assert only.text == "Alex Service has shared 2 new things with you."


def test_a_change_made_on_their_behalf_tells_the_service_user_who_when_and_why(
        world, mailoutbox, django_capture_on_commit_callbacks):
    plan = plan_with_content(world)
    item = prompt_item(plan, "recovery_meaning")
    carer = world.carer_relationship.carer
    with django_capture_on_commit_callbacks(execute=True):
        decision = consent_services.consent_decide_item(
            item=item, carer=carer, shared=True, decided_by=world.coordinator, basis=BASIS)
    [told] = notes(world.service_user_account)
    assert told.text.startswith(f"Sam Coordinator changed what {carer.name} can see, on your "
                                "behalf, on ")
    assert f"Their reason: “{BASIS}”" in told.text
    assert decision.decided_at.strftime("%Y") in told.text
    assert told.url == reverse("consent_carer", args=[world.service_user.pk,
                                                      world.carer_relationship.pk])
    assert client_for(world.service_user_account).get(told.url).status_code == 200
    to_service_user = [m for m in mailoutbox if m.to == [world.service_user_account.email]]
    assert len(to_service_user) == 1
    assert_email_says_nothing(to_service_user[0], world, BASIS, item.body)

    # More of the same, still unread: one entry, counted.
    consent_services.consent_decide_item(item=item, carer=carer, shared=False,
                                         decided_by=world.coordinator, basis=BASIS)
    [told] = notes(world.service_user_account)
    assert told.count == 2
    assert told.text.startswith(f"Sam Coordinator made 2 changes to what {carer.name} can see")


def test_a_carer_relationship_ended_by_the_coordinator_tells_the_service_user(world):
    plan = plan_with_content(world)
    consent_services.consent_decide_item(item=prompt_item(plan, "recovery_meaning"),
                                         carer=world.carer_relationship.carer, shared=True,
                                         decided_by=world.service_user_account)
    consent_services.consent_relationship_ended(relationship=world.carer_relationship,
                                                ended_by=world.coordinator)
    [told] = notes(world.service_user_account)
    assert "Sam Coordinator changed what" in told.text
    assert "The carer relationship ended." in told.text
    assert told.url == reverse("consent_overview", args=[world.service_user.pk])


def test_proposing_tells_the_service_user_and_named_carers_with_a_link(
        world, mailoutbox, django_capture_on_commit_callbacks):
    plan = make_plan(world, PlanKind.RESPONSIBILITY_AGREEMENT)
    add_responsibility(plan, world.coordinator, holder="carer",
                       relationship_pk=world.carer_relationship.pk, title="Cooking together")
    with django_capture_on_commit_callbacks(execute=True):
        version = propose(plan, world.coordinator)
    link = reverse("version_detail", args=[version.pk])
    [own] = notes(world.service_user_account)
    assert own.text == ("Your responsibility agreement (version 1) is ready for you to sign, "
                        "or to say why not.")
    assert own.url == link
    [carer] = notes(world.carer_account)
    assert carer.text == ("Alex Service's responsibility agreement (version 1) names you: it "
                          "is ready for you to sign.")
    assert carer.url == link
    assert notes(world.coordinator) == []  # they proposed it
    assert notes(world.other_carer_account) == []
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [world.service_user_account.email, world.carer_account.email])
    for message in mailoutbox:
        assert_email_says_nothing(message, world, "Cooking together", "responsibility")


def test_a_service_user_proposing_tells_their_coordinator(world):
    plan = plan_with_content(world)
    version = propose(plan, world.service_user_account)
    [told] = notes(world.coordinator)
    assert told.text == ("Alex Service proposed version 1 of their care plan: it is ready for "
                         "you to sign.")
    assert told.url == reverse("version_detail", args=[version.pk])
    assert notes(world.service_user_account) == []
    assert notes(world.other_coordinator) == []


def test_a_decline_tells_the_allocated_coordinator_where_to_read_why(
        world, mailoutbox, django_capture_on_commit_callbacks):
    version = propose(plan_with_content(world), world.coordinator)
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        services.version_decline(version=version, signer=world.service_user_account,
                                 role="service_user", reason=REASON)
    [told] = notes(world.coordinator)
    assert told.text == ("Alex Service declined to sign version 1 of Alex Service's care plan. "
                         "Read why, in their words.")
    assert told.url == reverse("version_detail", args=[version.pk])
    assert REASON not in told.text
    assert notes(world.other_coordinator) == []
    assert notes(world.service_user_account) == []
    [email] = mailoutbox
    assert email.to == [world.coordinator.email]
    assert_email_says_nothing(email, world, REASON)

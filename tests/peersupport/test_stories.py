"""Recovery stories: nobody but the author and the moderators (managers and
administrators) reads a story until it is approved, or after it is withdrawn; approving
makes it visible to everyone signed in; withdrawing hides it at once; injected markup is
only ever shown escaped; an anonymous story never names its author."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from carecoord.notifications.models import Notification
from carecoord.records.models import Role
from consent import policy
from peersupport import services
from peersupport.models import PublishAs, RecoveryStory, StoryStatus
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.peersupport.helpers import checked, make_story, page, text

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

# Everyone who is neither the author (world.service_user_account) nor a moderator.
NOT_MODERATORS = ["other_service_user_account", "carer_account", "other_carer_account",
                  "coordinator", "other_coordinator", "no_role"]
MODERATORS = ["manager", "other_manager", "admin"]


def _detail(story) -> str:
    return reverse("story_detail", args=[story.pk])


def _status(world, who: str, story) -> int:
    return client_for(getattr(world, who)).get(_detail(story)).status_code


def _in_moderation(world, state: str) -> RecoveryStory:
    author = world.service_user_account
    story = make_story(author, submit=state != "draft")
    if state == "sent_back":
        services.story_send_back(story=story, moderator=world.manager, reason="Too long.")
    elif state == "withdrawn":
        services.story_withdraw(story=story, withdrawn_by=author)
    story.refresh_from_db()
    assert story.status == state
    return story


@pytest.mark.parametrize("state", ["submitted", "sent_back", "withdrawn"])
def test_unapproved_and_withdrawn_stories_are_for_author_and_moderators_only(world, state):
    story = _in_moderation(world, state)
    for who in NOT_MODERATORS:
        assert _status(world, who, story) == 404, who
        assert not policy.stories_visible_to(getattr(world, who)).filter(pk=story.pk).exists()
    for who in ["service_user_account", *MODERATORS]:
        assert _status(world, who, story) == 200, who
    assert story.title not in text(client_for(world.carer_account).get(reverse("story_list")))


def test_a_draft_is_for_its_author_alone(world):
    story = _in_moderation(world, "draft")
    assert _status(world, "service_user_account", story) == 200
    for who in NOT_MODERATORS + MODERATORS:
        assert _status(world, who, story) == 404, who


def test_write_send_approve_and_everyone_reads_it(world, service_user_client,
                                                  manager_client):
    response = service_user_client.post(reverse("story_create"), {
        "title": "Back to the allotment", "body": "First line.\n\nSecond paragraph.",
        "publish_as": "my_name", "chosen_name": "", "action": "submit",
    })
    assert response.status_code == 302
    story = RecoveryStory.objects.get()
    assert story.status == StoryStatus.SUBMITTED
    assert story.submitted_at

    queue = text(manager_client.get(reverse("moderation_queue")))
    assert "Back to the allotment" in queue
    assert manager_client.post(reverse("story_moderate", args=[story.pk]),
                               {"decision": "publish"}).status_code == 302
    story.refresh_from_db()
    assert story.status == StoryStatus.PUBLISHED
    assert story.moderated_by == world.manager
    assert Notification.objects.filter(user=world.service_user_account,
                                       url=_detail(story)).exists()

    for who in NOT_MODERATORS + MODERATORS + ["service_user_account"]:
        assert _status(world, who, story) == 200, who
    listed = text(client_for(world.carer_account).get(reverse("story_list")))
    assert "Back to the allotment" in listed
    assert "By Alex Service" in listed
    markup = page(client_for(world.carer_account).get(_detail(story)))
    assert "<p>First line.</p>\n\n<p>Second paragraph.</p>" in markup
    # Linked from the directory.
    assert _detail(story) in page(client_for(world.carer_account).get("/support/"))


def test_sending_back_needs_a_reason_and_the_author_reads_it(world, manager_client,
                                                             service_user_client):
    story = make_story(world.service_user_account)
    url = reverse("story_moderate", args=[story.pk])
    response = manager_client.post(url, {"decision": "send_back", "reason": ""})
    assert response.status_code == 200
    assert "Say why it is being sent back" in text(response)
    assert checked(page(response), "decision", "send_back")
    story.refresh_from_db()
    assert story.status == StoryStatus.SUBMITTED

    assert manager_client.post(url, {"decision": "send_back",
                                     "reason": "Please leave out your friend's name."}
                               ).status_code == 302
    story.refresh_from_db()
    assert story.status == StoryStatus.SENT_BACK
    words = text(service_user_client.get(_detail(story)))
    assert "Please leave out your friend's name." in words
    assert "Send it for approval" in words
    # Changed and sent again: back in the queue.
    response = service_user_client.post(reverse("story_edit", args=[story.pk]), {
        "title": story.title, "body": "Shorter now.", "publish_as": "anonymous",
        "action": "submit",
    })
    assert response.status_code == 302
    story.refresh_from_db()
    assert story.status == StoryStatus.SUBMITTED
    assert story.body == "Shorter now."
    assert story.title in text(manager_client.get(reverse("moderation_queue")))


def test_withdrawing_hides_it_at_once(world, service_user_client):
    story = make_story(world.service_user_account)
    services.story_publish(story=story, moderator=world.manager)
    assert _status(world, "carer_account", story) == 200
    response = service_user_client.post(reverse("story_withdraw", args=[story.pk]))
    assert response.status_code == 302
    story.refresh_from_db()
    assert story.status == StoryStatus.WITHDRAWN
    assert story.withdrawn_at
    for who in NOT_MODERATORS:
        assert _status(world, who, story) == 404, who
    assert story.title not in text(client_for(world.carer_account).get(reverse("story_list")))
    assert story.title not in text(client_for(world.carer_account).get("/support/"))
    assert _status(world, "service_user_account", story) == 200


def test_a_moderator_can_take_a_published_story_down(world, manager_client):
    story = make_story(world.service_user_account)
    services.story_publish(story=story, moderator=world.manager)
    response = manager_client.post(reverse("story_moderate", args=[story.pk]),
                                   {"decision": "send_back", "reason": "A name slipped in."})
    assert response.status_code == 302
    story.refresh_from_db()
    assert story.status == StoryStatus.SENT_BACK
    assert _status(world, "carer_account", story) == 404


@pytest.mark.parametrize("who", NOT_MODERATORS)
def test_only_moderators_decide(world, who):
    story = make_story(world.service_user_account)
    client = client_for(getattr(world, who))
    assert client.get(reverse("moderation_queue")).status_code == 404
    assert client.get(reverse("story_moderate", args=[story.pk])).status_code == 404
    assert client.post(reverse("story_moderate", args=[story.pk]),
                       {"decision": "publish"}).status_code == 404
    story.refresh_from_db()
    assert story.status == StoryStatus.SUBMITTED


def test_nobody_approves_their_own_story(world):
    moderator_and_carer = UserFactory(roles=[Role.MANAGER, Role.CARER])
    story = make_story(moderator_and_carer)
    client = client_for(moderator_and_carer)
    assert story.title not in text(client.get(reverse("moderation_queue")))
    assert client.post(reverse("story_moderate", args=[story.pk]),
                       {"decision": "publish"}).status_code == 404
    story.refresh_from_db()
    assert story.status == StoryStatus.SUBMITTED


@pytest.mark.parametrize("who", ["coordinator", "manager", "no_role"])
def test_only_service_users_and_carers_write_stories(world, who):
    client = client_for(getattr(world, who))
    assert client.get(reverse("story_create")).status_code == 404
    assert client.post(reverse("story_create"), {"title": "x", "body": "y",
                                                 "publish_as": "anonymous"}).status_code == 404
    assert not RecoveryStory.objects.exists()


def test_only_the_author_changes_sends_or_withdraws(world, carer_client, manager_client):
    story = make_story(world.service_user_account, submit=False)
    for client in (carer_client, manager_client):
        assert client.get(reverse("story_edit", args=[story.pk])).status_code == 404
        assert client.post(reverse("story_submit", args=[story.pk])).status_code == 404
        assert client.post(reverse("story_withdraw", args=[story.pk])).status_code == 404
    story.refresh_from_db()
    assert story.status == StoryStatus.DRAFT


def test_the_story_form_keeps_what_was_typed(world, carer_client):
    response = carer_client.post(reverse("story_create"), {
        "title": "My story", "body": "Every word I wrote.", "publish_as": "chosen_name",
        "chosen_name": "", "action": "submit",
    })
    assert response.status_code == 200
    assert "Enter the name to show, or choose another option" in text(response)
    markup = page(response)
    assert 'value="My story"' in markup
    assert "Every word I wrote.</textarea>" in markup
    assert checked(markup, "publish_as", "chosen_name")
    assert not RecoveryStory.objects.exists()


# --- No markup, ever ------------------------------------------------------------------


def test_injected_script_is_only_ever_shown_escaped(world, service_user_client,
                                                    manager_client, carer_client):
    response = service_user_client.post(reverse("story_create"), {
        "title": f"Hello {SCRIPT}", "body": f"Before\n\n{SCRIPT}\n<b onmouseover=x>after</b>",
        "publish_as": "chosen_name", "chosen_name": f"Alex {SCRIPT}", "action": "submit",
    })
    assert response.status_code == 302
    story = RecoveryStory.objects.get()
    assert SCRIPT in story.body  # stored as typed: plain text, never markup

    def check(markup: str) -> None:
        assert SCRIPT not in markup
        assert "<b onmouseover" not in markup
        assert ESCAPED in markup

    check(page(service_user_client.get(_detail(story))))
    check(page(service_user_client.get(reverse("own_stories"))))
    check(page(service_user_client.get(reverse("story_edit", args=[story.pk]))))
    check(page(manager_client.get(reverse("moderation_queue"))))
    check(page(manager_client.get(reverse("story_moderate", args=[story.pk]))))
    manager_client.post(reverse("story_moderate", args=[story.pk]), {"decision": "publish"})
    check(page(carer_client.get(_detail(story))))
    check(page(carer_client.get(reverse("story_list"))))
    check(page(carer_client.get("/support/")))


# --- Who it says wrote it -------------------------------------------------------------


def test_an_anonymous_story_never_names_its_author(world, manager_client):
    author = world.service_user_account
    # A name nobody else in the fixture can have (theirs are made up at random).
    author.full_name = "Zebedee Quillfeather"
    author.save(update_fields=["full_name"])
    story = make_story(author, title="Finding my feet", publish_as=PublishAs.ANONYMOUSLY)
    pages = [manager_client.get(reverse("moderation_queue")),
             manager_client.get(reverse("story_moderate", args=[story.pk])),
             manager_client.get(_detail(story))]
    services.story_publish(story=story, moderator=world.manager)
    for who in NOT_MODERATORS + MODERATORS:
        client = client_for(getattr(world, who))
        pages += [client.get(_detail(story)), client.get(reverse("story_list")),
                  client.get("/support/")]
    for response in pages:
        assert response.status_code == 200
        markup = page(response)
        assert "Finding my feet" in markup
        assert "Anonymous" in markup
        for name in (author.full_name, "Zebedee", "Quillfeather", author.email):
            assert name not in markup, name


def test_a_chosen_name_is_shown_instead_of_the_real_one(world, carer_client):
    story = make_story(world.service_user_account, publish_as=PublishAs.CHOSEN_NAME,
                       chosen_name="Sunny")
    services.story_publish(story=story, moderator=world.manager)
    markup = page(carer_client.get(_detail(story)))
    assert "By Sunny" in text(carer_client.get(_detail(story)))
    assert world.service_user_account.full_name not in markup


def test_a_moderator_decides_about_the_text_they_read(world, manager_client):
    story = make_story(world.service_user_account, body="The first version.")
    url = reverse("story_moderate", args=[story.pk])
    opened = page(manager_client.get(url))
    read_version = re.search(r'name="read_version" value="([^"]+)"', opened).group(1)
    services.story_update(story=story, changed_by=world.service_user_account,
                          title=story.title, body="A new last paragraph.",
                          publish_as=story.publish_as)
    response = manager_client.post(url, {"decision": "publish",
                                         "read_version": read_version})
    assert response.status_code == 200
    assert "The author has changed this story since you opened it" in text(response)
    assert "A new last paragraph." in text(response)
    story.refresh_from_db()
    assert story.status == StoryStatus.SUBMITTED
    fresh = re.search(r'name="read_version" value="([^"]+)"', page(response)).group(1)
    assert manager_client.post(url, {"decision": "publish", "read_version": fresh}
                               ).status_code == 302
    story.refresh_from_db()
    assert story.status == StoryStatus.PUBLISHED

"""The peer-support rules as whole matrices, and the list and single-object forms of
each rule agreeing for every person and every state."""

from __future__ import annotations

import pytest

from consent import policy
from peersupport import services
from peersupport.models import StoryStatus
from tests.peersupport.helpers import make_offer, make_story

PEOPLE = ["service_user_account", "other_service_user_account", "carer_account",
          "other_carer_account", "coordinator", "other_coordinator", "manager",
          "other_manager", "admin", "no_role"]
AUTHOR = "service_user_account"
MODERATORS = {"manager", "other_manager", "admin"}

EXPECTED_READERS = {
    StoryStatus.DRAFT: {AUTHOR},
    StoryStatus.SUBMITTED: {AUTHOR, *MODERATORS},
    StoryStatus.SENT_BACK: {AUTHOR, *MODERATORS},
    StoryStatus.WITHDRAWN: {AUTHOR, *MODERATORS},
    StoryStatus.PUBLISHED: set(PEOPLE),
}


def _story_in(world, state):
    author = world.service_user_account
    story = make_story(author, submit=state != StoryStatus.DRAFT)
    if state == StoryStatus.PUBLISHED:
        services.story_publish(story=story, moderator=world.manager)
    elif state == StoryStatus.SENT_BACK:
        services.story_send_back(story=story, moderator=world.manager, reason="Not yet.")
    elif state == StoryStatus.WITHDRAWN:
        services.story_withdraw(story=story, withdrawn_by=author)
    story.refresh_from_db()
    return story


@pytest.mark.parametrize("state", list(EXPECTED_READERS))
def test_who_reads_a_story_in_each_state(world, state):
    story = _story_in(world, state)
    readers = set()
    for name in PEOPLE:
        person = getattr(world, name)
        in_list = policy.stories_visible_to(person).filter(pk=story.pk).exists()
        assert in_list == policy.can_view_story(person, story), name
        if in_list:
            readers.add(name)
    assert readers == EXPECTED_READERS[state]


def test_who_does_what_to_a_story(world):
    story = _story_in(world, StoryStatus.SUBMITTED)
    able = {
        "edit": {n for n in PEOPLE if policy.can_edit_story(getattr(world, n), story)},
        "withdraw": {n for n in PEOPLE if policy.can_withdraw_story(getattr(world, n), story)},
        "moderate": {n for n in PEOPLE if policy.can_moderate_story(getattr(world, n), story)},
        "write": {n for n in PEOPLE if policy.can_write_story(getattr(world, n))},
    }
    assert able == {
        "edit": {AUTHOR},
        "withdraw": {AUTHOR},
        "moderate": MODERATORS,
        "write": {"service_user_account", "other_service_user_account", "carer_account",
                  "other_carer_account"},
    }


def test_who_keeps_the_directory(world):
    retired = make_offer("Ended", active=False)
    keepers = {n for n in PEOPLE if policy.can_manage_offers(getattr(world, n))}
    assert keepers == {"coordinator", "other_coordinator", "manager", "other_manager",
                       "admin"}
    for name in PEOPLE:
        sees_retired = policy.offers_visible_to(getattr(world, name)).filter(
            pk=retired.pk).exists()
        assert sees_retired == (name in keepers), name

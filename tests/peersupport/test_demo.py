"""The demo's peer support: a dozen local offers, two published stories (one anonymous)
and one waiting for approval, and signposting on demo service users — made once,
however many times the demo is seeded."""

from __future__ import annotations

import io

from django.core.management import call_command
from django.test import Client

from carecoord.audit.models import AccessEvent
from carecoord.demo.peersupport import seed_peersupport
from carecoord.records.models import ServiceUser
from peersupport.models import Offer, PublishAs, RecoveryStory, Signposting, StoryStatus
from tests.peersupport.helpers import text


def _counts() -> dict[str, int]:
    return {
        "offers": Offer.objects.count(),
        "stories": RecoveryStory.objects.count(),
        "signposting": Signposting.objects.count(),
        "signposting events": AccessEvent.objects.filter(
            action="signposting.record").count(),
    }


def test_seed_is_idempotent_and_fills_the_directory(db, settings):
    settings.DEBUG = True  # seed_demo runs only for a laptop demo
    call_command("seed_demo", stdout=io.StringIO())
    first = _counts()
    call_command("seed_demo", stdout=io.StringIO())
    seed_peersupport()
    assert _counts() == first

    assert Offer.objects.filter(active=True).count() >= 12
    assert Offer.objects.filter(active=False).exists()
    published = RecoveryStory.objects.filter(status=StoryStatus.PUBLISHED)
    assert published.count() == 2
    assert published.filter(publish_as=PublishAs.ANONYMOUSLY).count() == 1
    assert RecoveryStory.objects.filter(status=StoryStatus.SUBMITTED).count() == 1
    people = {"Alexandra Morgan", "Daniel Reid", "Gareth Lowes"}
    signposted = set(Signposting.objects.values_list("service_user__full_name", flat=True))
    assert signposted == people
    assert first["signposting events"] == first["signposting"]
    # Every signposting was recorded by someone allowed to: the person or their coordinator.
    for service_user in ServiceUser.objects.filter(full_name__in=people):
        assert service_user.signpostings.exists()


def test_the_demo_pages_work(db, settings):
    settings.DEBUG = True  # seed_demo runs only for a laptop demo
    call_command("seed_demo", stdout=io.StringIO())
    client = Client()
    client.post("/sign-in/", {"username": "linda.morgan@demo.carecoord.test",
                              "password": "recovery-demo-2026"})
    response = client.get("/support/")
    assert response.status_code == 200
    assert "Tynedale Carers' Centre drop-in" in text(response)
    anonymous = RecoveryStory.objects.get(publish_as=PublishAs.ANONYMOUSLY)
    story = text(client.get(f"/support/stories/{anonymous.pk}/"))
    assert "Anonymous" in story
    assert anonymous.author.full_name not in story

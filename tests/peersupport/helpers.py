"""Building offers and stories, and reading pages the way people do."""

from __future__ import annotations

import html as html_lib
import re

from carecoord.records.models import User
from peersupport import services
from peersupport.models import Audience, Offer, OfferKind, PublishAs, RecoveryStory

OFFER_LINK = re.compile(r'href="/support/offers/(\d+)/"')


def make_offer(name: str, *, kind: str = OfferKind.PEER_SUPPORT_GROUP,
               audience: str = Audience.BOTH, place: str = "Hexham", online: bool = False,
               description: str = "A friendly group.", active: bool = True,
               when: str = "Mondays 10:30 to 12:00", contact: str = "01632 960000") -> Offer:
    offer = Offer.objects.create(name=name, kind=kind, audience=audience, place=place,
                                 online=online, when=when, contact=contact,
                                 description=description, active=active)
    return offer


def make_story(author: User, *, title: str = "What helped me", body: str = "Walking helped.",
               publish_as: str = PublishAs.MY_NAME, chosen_name: str = "",
               submit: bool = True) -> RecoveryStory:
    return services.story_create(author=author, title=title, body=body,
                                 publish_as=publish_as, chosen_name=chosen_name,
                                 submit=submit)


def page(response) -> str:
    return response.content.decode()


def plain(markup: str) -> str:
    """The words on the screen: tags gone, entities decoded, spaces collapsed."""
    markup = re.sub(r"<(script|style)\b.*?</\1>", " ", markup, flags=re.S)
    markup = re.sub(r"<[^>]+>", " ", markup)
    return " ".join(html_lib.unescape(markup).split())


def text(response) -> str:
    return plain(page(response))


def offer_ids(response) -> set[int]:
    """The offers listed in the directory's results (each card links to its offer)."""
    markup = page(response)
    start = markup.index('id="results-heading"')
    end = markup.index('id="stories-heading"')
    return {int(pk) for pk in OFFER_LINK.findall(markup[start:end])}


def checked(markup: str, name: str, value: str) -> bool:
    """Whether the radio button `name` = `value` is checked."""
    for tag in re.findall(r"<input[^>]*>", markup):
        if f'name="{name}"' in tag and f'value="{value}"' in tag:
            return " checked" in tag
    return False

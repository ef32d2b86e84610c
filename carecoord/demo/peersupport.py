"""Demo data: a directory of local offers in the North East, stories of recovery (two
published, one of them anonymous, and one waiting for approval), and signposting on the
demo service users' records. Safe to run again: it finds what it made before.

Phone numbers are from Ofcom's range for drama (01632 960xxx) and email addresses use
example.org, so nobody real is ever called or written to from the demo.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from carecoord.records.models import Allocation, ServiceUser, User
from consent.policy import Basis
from peersupport import services
from peersupport.models import (
    Audience,
    Offer,
    OfferKind,
    PublishAs,
    RecoveryStory,
    Signposting,
    StoryStatus,
    TakenUp,
)

# (name, kind, audience, place, online, when, contact, description)
OFFERS = [
    ("Hexham Hearing Voices Group", OfferKind.PEER_SUPPORT_GROUP, Audience.SERVICE_USERS,
     "Community Centre, Gilesgate, Hexham", False, "Tuesdays 2:00pm to 3:30pm",
     "Marie, group facilitator: 01632 960101",
     "A friendly, confidential group for people who hear voices, see visions or have "
     "other unusual experiences. Share what helps, or just listen. Tea and biscuits; no "
     "need to book."),
    ("Understanding recovery — Recovery College North East", OfferKind.RECOVERY_COLLEGE,
     Audience.BOTH, "Recovery College, Newcastle upon Tyne", True,
     "Thursdays 10:00am to 12:30pm for 4 weeks, starting each term",
     "Recovery College North East: 01632 960102, enrol@recoverycollege.example.org",
     "A short course co-taught by a peer trainer and a clinician: what recovery can "
     "mean, hope, and taking back control. Free. Join in the room or online."),
    ("Painting for wellbeing — Recovery College North East", OfferKind.RECOVERY_COLLEGE,
     Audience.BOTH, "Queen's Hall Arts, Hexham", False, "Wednesdays 1:00pm to 3:00pm",
     "Recovery College North East: 01632 960102",
     "Six relaxed painting sessions for beginners and the rusty. Materials provided. "
     "The taster session is a good way to see if it is for you."),
    ("Building your WRAP (Wellness Recovery Action Plan)", OfferKind.COURSE,
     Audience.SERVICE_USERS, "Morpeth Library meeting room", True,
     "Mondays 10:30am to 12:00pm for 8 weeks; an evening group runs online",
     "Recovery College North East: 01632 960102",
     "Write your own WRAP with others doing the same, led by trained peer facilitators. "
     "You decide what goes in it and who sees it."),
    ("Tynedale Carers' Centre drop-in", OfferKind.PEER_SUPPORT_GROUP, Audience.CARERS,
     "Tynedale Carers' Centre, Hexham", False,
     "First and third Monday of each month, 10:00am to 12:00pm",
     "Tynedale Carers' Centre: 01632 960103",
     "Time for you, with other carers who understand. Advice on a carer's assessment, "
     "benefits and breaks, or just a coffee and a chat."),
    ("Caring for someone with mental ill health: family learning sessions",
     OfferKind.COURSE, Audience.CARERS, "Tynedale Carers' Centre, Hexham", True,
     "Six Tuesday evenings, 6:30pm to 8:30pm, three times a year",
     "Family learning team: 01632 960104, families@carers.example.org",
     "For families and friends: understanding diagnoses and medication, what to do in a "
     "crisis, communicating when things are hard, and looking after yourself too."),
    ("Understanding psychosis: for families and friends", OfferKind.RECOVERY_COLLEGE,
     Audience.CARERS, "", True, "Saturday mornings, 10:00am to 12:00pm, monthly",
     "Recovery College North East: 01632 960102",
     "An online session with a carer peer trainer and a psychologist. Ask the questions "
     "you have not had the chance to ask."),
    ("North East Peer Forum", OfferKind.ONLINE_COMMUNITY, Audience.BOTH, "", True,
     "Any time; moderators online 9:00am to 9:00pm",
     "https://peerforum.example.org",
     "A moderated online community for people with lived experience of mental ill health "
     "and the people who support them. Read first, post when you are ready."),
    ("Carers' evening chat", OfferKind.ONLINE_COMMUNITY, Audience.CARERS, "", True,
     "Wednesdays 7:30pm to 8:30pm, by video call",
     "Tynedale Carers' Centre: 01632 960103",
     "An hour to talk with other carers after the day is done. Cameras optional."),
    ("Prudhoe Growing Together allotment group", OfferKind.PEER_SUPPORT_GROUP,
     Audience.BOTH, "Allotments off Station Road, Prudhoe", False,
     "Wednesdays and Saturdays, 10:00am to 1:00pm",
     "Growing Together: 01632 960105",
     "Grow vegetables and flowers alongside others, at your own pace. No experience "
     "needed; tools and wellies provided. Many people say the company matters as much as "
     "the veg."),
    ("Tyne Valley Walk and Talk", OfferKind.PEER_SUPPORT_GROUP, Audience.BOTH,
     "Meets at Corbridge Market Place", False, "Fridays 11:00am, about 90 minutes",
     "Walk leader: 01632 960106",
     "A gentle walk by the river with a peer walk leader, ending at a café. Come on your "
     "own or bring someone."),
    ("Haltwhistle Wellbeing Café", OfferKind.OTHER, Audience.BOTH,
     "Methodist Church Hall, Haltwhistle", False, "Saturdays 11:00am to 2:00pm",
     "Café volunteers: 01632 960107",
     "A warm, welcoming café run by volunteers with lived experience. Cheap food, board "
     "games, and someone to talk to if you want to."),
    ("Blokes' Brew", OfferKind.PEER_SUPPORT_GROUP, Audience.SERVICE_USERS,
     "Hexham Rugby Club", False, "Mondays 7:00pm to 8:30pm",
     "blokesbrew@example.org",
     "A talking group for men over a brew. Say as much or as little as you like; "
     "nobody is going to judge."),
    ("Mindfulness taster (ended)", OfferKind.COURSE, Audience.BOTH,
     "Hexham Library", False, "Ran in the spring", "Recovery College North East",
     "A four-week taster that has finished. Kept to show a retired offer."),
]
RETIRED = {"Mindfulness taster (ended)"}

STORY_MODERATOR = "manager@demo.carecoord.test"

# (author email, title, publish as, chosen name, status, days ago, body)
STORIES = [
    ("gaz.lowes@demo.carecoord.test", "The allotment got me out of the house",
     PublishAs.CHOSEN_NAME, "Gaz", StoryStatus.PUBLISHED, 21,
     "For two years I hardly went out. Drinking was the only thing that filled the day.\n\n"
     "Jo, my care coordinator, kept mentioning the allotment group in Prudhoe. I said no "
     "four times. The fifth time I went, mostly so she would stop asking.\n\n"
     "Nobody asked me why I was there. Somebody handed me a fork and showed me where the "
     "potatoes were going. That was it. I went back the next week, and the one after.\n\n"
     "I still have bad weeks. But on Wednesdays and Saturdays I have somewhere to be, and "
     "people who would notice if I was not there. Last summer I gave away more beans than "
     "I could eat.\n\n"
     "If you are being told about a group and thinking \"not for me\": go once. You can "
     "always not go back."),
    ("chris.reid@demo.carecoord.test", "Learning to look after myself too",
     PublishAs.ANONYMOUSLY, "", StoryStatus.PUBLISHED, 9,
     "When my husband became unwell I thought my job was to hold everything together. "
     "The kids, the house, his appointments, work. I did not tell anyone how tired I was.\n"
     "\n"
     "The family learning sessions changed that. Sitting in a room with other people "
     "caring for someone, I heard my own story coming out of other people's mouths. I "
     "learned more about what he was going through in six evenings than in two years.\n\n"
     "I also learned I was allowed to ask for help for me. I have had a carer's "
     "assessment now, and I go to the drop-in when I can.\n\n"
     "He is doing better. So am I."),
    ("alex.morgan@demo.carecoord.test", "Painting my way back",
     PublishAs.CHOSEN_NAME, "Alex M", StoryStatus.SUBMITTED, 2,
     "I used to paint every day. When I got ill I stopped, and then I could not remember "
     "why I ever started.\n\n"
     "The recovery college taster session was the first time in a year I had held a "
     "brush. My hands shook. The tutor said that was fine, hers did too the first time "
     "she came as a student.\n\n"
     "I am halfway through the course now. I am not painting every day, but I am "
     "painting."),
]

# (service user full name, offer name, offered by email, days ago, taken up, outcome)
SIGNPOSTING = [
    ("Alexandra Morgan", "Painting for wellbeing — Recovery College North East",
     "sam.okafor@demo.carecoord.test", 70, TakenUp.YES,
     "Went to the taster session, then signed up for the whole course. Alex says it is "
     "the first thing in a long time that felt like theirs."),
    ("Alexandra Morgan", "North East Peer Forum", "alex.morgan@demo.carecoord.test", 20,
     TakenUp.NOT_YET, ""),
    ("Daniel Reid", "Tyne Valley Walk and Talk", "sam.okafor@demo.carecoord.test", 30,
     TakenUp.NOT_YET, "Dan wants to try it once he is back at work part-time."),
    ("Daniel Reid", "Building your WRAP (Wellness Recovery Action Plan)",
     "sam.okafor@demo.carecoord.test", 120, TakenUp.NO,
     "The daytime group clashed with work. We talked about the online evening group "
     "instead."),
    ("Gareth Lowes", "Prudhoe Growing Together allotment group",
     "jo.bell@demo.carecoord.test", 250, TakenUp.YES,
     "Goes every week and has made a friend there. Gaz says it gives the week a shape."),
    ("Gareth Lowes", "Blokes' Brew", "jo.bell@demo.carecoord.test", 40, TakenUp.NOT_YET,
     ""),
]


def seed_peersupport() -> None:
    offers = _offers()
    _stories()
    _signposting(offers)


def _offers() -> dict[str, Offer]:
    offers = {}
    for name, kind, audience, place, online, when, contact, description in OFFERS:
        offer = Offer.objects.filter(name=name).first()
        if offer is None:
            offer = Offer.objects.create(
                name=name, kind=kind, audience=audience, place=place, online=online,
                when=when, contact=contact, description=description,
                active=name not in RETIRED,
            )
        offers[name] = offer
    return offers


def _stories() -> None:
    moderator = User.objects.filter(email=STORY_MODERATOR).first()
    now = timezone.now()
    for email, title, publish_as, chosen_name, status, days_ago, body in STORIES:
        author = User.objects.filter(email=email).first()
        if author is None or RecoveryStory.objects.filter(author=author, title=title).exists():
            continue
        when = now - dt.timedelta(days=days_ago)
        story = RecoveryStory.objects.create(
            author=author, title=title, body=body, publish_as=publish_as,
            chosen_name=chosen_name, status=StoryStatus.SUBMITTED,
            submitted_at=when - dt.timedelta(days=2),
        )
        if status == StoryStatus.PUBLISHED:
            # Written straight to the row: publishing through the service would also
            # send the author a notification dated today.
            RecoveryStory.objects.filter(pk=story.pk).update(
                status=StoryStatus.PUBLISHED, published_at=when, moderated_by=moderator,
                moderated_at=when,
            )


def _signposting(offers: dict[str, Offer]) -> None:
    today = timezone.localdate()
    for full_name, offer_name, by_email, days_ago, taken_up, outcome in SIGNPOSTING:
        service_user = ServiceUser.objects.filter(full_name=full_name).first()
        offered_by = User.objects.filter(email=by_email).first()
        offer = offers.get(offer_name)
        if service_user is None or offered_by is None or offer is None:
            continue
        if Signposting.objects.filter(service_user=service_user, offer=offer).exists():
            continue
        own = service_user.user_id == offered_by.pk
        allocated = Allocation.objects.active().filter(
            episode__service_user=service_user, coordinator=offered_by).exists()
        if not (own or allocated):
            continue
        services.signposting_record(
            service_user=service_user, offer=offer, offered_by=offered_by,
            basis=Basis.SELF if own else Basis.ALLOCATED_COORDINATOR,
            offered_on=today - dt.timedelta(days=days_ago), taken_up=taken_up,
            outcome=outcome,
        )

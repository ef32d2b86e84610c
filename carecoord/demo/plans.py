"""Plans for the demo service users: every kind, with real content, in every state —
agreed, awaiting signatures, declined, and changed after agreement."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from carecoord.records.models import ServiceUser, User
from carers.models import CarerRelationship
from plans import services
from plans.models import Plan, PlanItem
from plans.sections import PlanKind

CRISIS = {
    "early_signs": "I stop answering my phone and sleep in the day. I stop cooking.",
    "responds_to": "My mum, and Sam. I listen to people who are calm and don't rush me.",
    "does_not_respond_to": "People who raise their voice, or talk about me as if I'm not "
                           "there.",
    "has_helped": "Walking by the river with someone. Short, clear plans for each day.",
    "has_not_helped": "Being told to 'snap out of it'. Long waits in A&E on my own.",
    "who_to_contact": "Mum (Linda) first, on her mobile. Then the crisis team, day or "
                      "night.",
    "practical": "Mum will feed the cat and check the post. Work knows to call Mum.",
    "advance_statement": "I would prefer home treatment to a ward. I do not want "
                         "olanzapine again: it made me feel like a stranger to myself.",
}

PEOPLE = {
    "Alexandra Morgan": {
        "recovery": "Recovery for me is getting back to my art and having friends round "
                    "again without dreading it.",
        "hopes": "Sell some prints at the Hexham market. Start a short course at the "
                 "recovery college.",
        "goals": [("Go to the recovery college painting course", "meaning", 8,
                   [(6, 3, "Looked at the course list together."),
                    (3, 5, "Went to the taster session.")])],
        "crisis": CRISIS,
        "state": "agreed",
        "review_in_days": 10,
        "responsibility": ("I will take my own medication each morning.", "carer"),
    },
    "Daniel Reid": {
        "recovery": "Being a good dad and getting back to work part-time.",
        "hopes": "Take my lad fishing every other Saturday.",
        "goals": [("Back to work two days a week", "empowerment", 12,
                   [(10, 4, "Talked to my manager.")])],
        "crisis": dict(CRISIS, practical="Chris will take the kids to school."),
        "state": "awaiting",
        "review_in_days": -8,
        "responsibility": ("I will go to the gym on Tuesdays on my own.", "service_user"),
    },
    "Fatima Hussain": {
        "recovery": "Feeling safe in my own flat again.",
        "hopes": "Finish my nursing degree.",
        "goals": [("Sleep through the night most nights", "hope", 6, [])],
        "crisis": CRISIS,
        "state": "declined",
        "review_in_days": 20,
        "responsibility": ("I will tell Omar when I have a bad week.", "service_user"),
    },
    "Gareth Lowes": {
        "recovery": "Not drinking, and being part of the allotment group.",
        "hopes": "Grow enough veg to give some away.",
        "goals": [("Go to the allotment group every week", "connectedness", 10,
                   [(8, 6, "Went three weeks running."), (2, 7, "Made a friend there.")])],
        "crisis": CRISIS,
        "state": "agreed",
        "review_in_days": 30,
        "responsibility": ("I will ring the team if I start drinking again.", "service_user"),
    },
    "Mei Chen": {
        "recovery": "Finishing my degree and being less hard on myself.",
        "hopes": "Study abroad for a term.",
        "goals": [("Hand in my dissertation", "identity", 16, [(4, 5, "First chapter done.")])],
        "crisis": {"early_signs": "I stop eating and stay in my room."},
        "state": "changed_after_agreement",
        "review_in_days": 40,
        "responsibility": ("I will email my tutor when I fall behind.", "service_user"),
    },
    "Ruth Adeyemi": {
        "recovery": "Ruth said: 'Being able to go to church and sing again.'",
        "state": "started",
    },
}

WRAP = {
    "wellness_toolbox": ("Things that help", "Music, a bath, phoning my sister, the dog."),
    "daily_maintenance": ("Every day", "Up by 9, breakfast, a walk, one thing I enjoy."),
    "triggers": ("Money worries", "If a bill arrives I open it with someone and make a plan."),
    "early_warning_signs": ("Not sleeping", "Two bad nights: I tell someone and cut back."),
}


def seed_plans(*, password: str) -> None:
    for service_user in ServiceUser.objects.filter(full_name__in=PEOPLE).select_related("user"):
        if Plan.objects.filter(service_user=service_user).exists():
            continue
        _seed_person(service_user, PEOPLE[service_user.full_name], password)


def _seed_person(service_user: ServiceUser, spec: dict, password: str) -> None:
    coordinator = User.objects.coordinating(service_user).order_by("pk").first()
    owner = service_user.user
    care_plan = services.plan_create(service_user=service_user, kind=PlanKind.CARE_PLAN,
                                     created_by=coordinator)
    items = {item.prompt: item for item in care_plan.items.all()}
    services.item_update(item=items["recovery_meaning"], changed_by=owner or coordinator,
                         expected_revision=1, body=spec["recovery"],
                         recorded_in_meeting=owner is None)
    if spec["state"] == "started":
        return
    services.item_update(item=items["hopes"], changed_by=owner, expected_revision=1,
                         body=spec["hopes"])
    for prompt, text in spec["crisis"].items():
        services.item_update(item=items[prompt], changed_by=coordinator, expected_revision=1,
                             body=text, recorded_in_meeting=True)
    today = timezone.localdate()
    for title, domain, weeks, progress in spec["goals"]:
        goal = services.item_create(
            plan=care_plan, section_code="goals", author=owner, title=title,
            body="Agreed together at our last meeting.",
            details={"domain": domain, "target_on": today + dt.timedelta(weeks=weeks)},
        )
        services.goal_agree(item=goal, agreed_by=owner, party="service_user")
        services.goal_agree(item=goal, agreed_by=coordinator, party="coordinator")
        for weeks_ago, rating, note in progress:
            services.progress_record(item=goal, recorded_by=owner,
                                     recorded_on=today - dt.timedelta(weeks=weeks_ago),
                                     rating=rating, note=note)
    services.item_create(plan=care_plan, section_code="needs_support", author=coordinator,
                         title="Someone to talk to between appointments",
                         body="Sam rings every Thursday. The peer support group meets on "
                              "Mondays.")
    services.item_create(plan=care_plan, section_code="risk", author=coordinator,
                         title="Travelling on my own",
                         body="A positive risk we agreed: travelling to the city by train "
                              "alone, with a text to Mum on arrival.")

    version = services.version_propose(plan=care_plan, proposed_by=coordinator)
    services.version_sign(version=version, signer=coordinator, role="coordinator",
                          password=password)
    if spec["state"] in ("agreed", "changed_after_agreement"):
        services.version_sign(version=version, signer=owner, role="service_user",
                              password=password)
    elif spec["state"] == "declined":
        services.version_decline(
            version=version, signer=owner, role="service_user",
            reason="The risk section makes me sound dangerous. I want it written with me, "
                   "not about me.",
        )
    if spec["state"] == "changed_after_agreement":
        hopes = PlanItem.objects.get(plan=care_plan, prompt="hopes")
        services.item_update(item=hopes, changed_by=owner, expected_revision=hopes.revision,
                             body=spec["hopes"] + " And learn to drive.")
    review_on = today + dt.timedelta(days=spec["review_in_days"])
    if spec["review_in_days"] > 0:
        review = services.review_record(
            plan=care_plan, recorded_by=coordinator, held_on=today - dt.timedelta(days=60),
            attendees=f"{service_user.name}, {coordinator.display_name}",
            what_changed="Goals agreed; crisis plan rewritten in their words.",
            next_review_on=review_on,
        )
        if owner:
            services.review_listened_answer(review=review, answered_by=owner, score=4,
                                            comment="Yes, mostly. I got to say what I "
                                                    "wanted.")
    else:
        Plan.objects.filter(pk=care_plan.pk).update(next_review_on=review_on)

    _seed_wrap(service_user, owner, coordinator, password)
    _seed_responsibility(service_user, spec, owner, coordinator)


def _seed_wrap(service_user: ServiceUser, owner: User, coordinator: User,
               password: str) -> None:
    wrap = services.plan_create(service_user=service_user, kind=PlanKind.WRAP,
                                created_by=owner)
    for section_code, (title, body) in WRAP.items():
        services.item_create(plan=wrap, section_code=section_code, author=owner, title=title,
                             body=body)
    supporters = wrap.items.get(prompt="supporters")
    services.item_update(item=supporters, changed_by=owner, expected_revision=1,
                         body="My sister first, then my care coordinator.")
    version = services.version_propose(plan=wrap, proposed_by=owner)
    services.version_sign(version=version, signer=owner, role="service_user",
                          password=password)
    services.suggestion_create(plan=wrap, section_code="wellness_toolbox",
                               text="The Monday walking group at the park?",
                               suggested_by=coordinator)


def _seed_responsibility(service_user: ServiceUser, spec: dict, owner: User,
                         coordinator: User) -> None:
    agreement = services.plan_create(service_user=service_user,
                                     kind=PlanKind.RESPONSIBILITY_AGREEMENT,
                                     created_by=coordinator)
    text, holder = spec["responsibility"]
    details = {
        "holder": "service_user",
        "positive_risk": "Taking charge of this myself, which the team used to do.",
        "safety_net": "If I miss two days, the team rings me.",
        "support": "Sam, on Thursdays; the crisis team out of hours.",
        "review_on": timezone.localdate() + dt.timedelta(weeks=6),
    }
    if holder == "carer":
        relationship = CarerRelationship.objects.active().filter(
            service_user=service_user, carer__user__isnull=False
        ).first()
        if relationship:
            details["holder"] = "carer"
            details["holder_relationship"] = relationship.pk
            text = "Mum reminds me to take my medication if I forget."
    services.item_create(plan=agreement, section_code="responsibilities", author=coordinator,
                         title=text[:80], body=text, details=details)
    services.item_create(
        plan=agreement, section_code="responsibilities", author=coordinator,
        title="The team calls back within a working day",
        body="The team calls back within a working day when I leave a message.",
        details={"holder": "service", "holder_service": "Community mental health team",
                 "safety_net": "The duty worker picks up messages if Sam is away.",
                 "review_on": timezone.localdate() + dt.timedelta(weeks=6)},
    )
    services.version_propose(plan=agreement, proposed_by=coordinator)

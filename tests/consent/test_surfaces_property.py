"""The product's promise, as a property: whatever the service users decide, in whatever
order, every carer sees through EVERY surface exactly the items the decisions allow.

Hypothesis builds 1–2 service users, each with a care plan and a WRAP (crisis questions
and free items), 1–3 carers linked to one or both, and a random sequence of item
decisions, section rules, overrides, "follow the section again", end dates, new items,
removed items and ended relationships. A tiny model written here (independent of the
app's code) says which items each carer may see on a randomly chosen "today"; the test
then reads every surface — the carer's page, the carer API, the item API and item page,
the service user's preview, the FHIR export and the policy — and compares. It also checks that the
permissions still match the decisions (check_consent_permissions finds nothing). Each
example runs in a transaction that is rolled back, so examples never see each other's
data.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.test import Client
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from carecoord.records.models import Role
from carers.services import carer_relationship_end
from consent import policy
from consent.services import (
    ConsentError,
    consent_decide_item,
    consent_decide_many,
    consent_decide_section,
    consent_item_follow_section,
    consent_permissions_check,
)
from plans import services as plan_services
from plans.models import PlanItem
from plans.sections import PlanKind, section
from tests import clock
from tests.conftest import pass_second_factor
from tests.factories import CarerFactory, CarerRelationshipFactory, UserFactory

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r"tok(\d+)kot")
# Sections decisions and rules are made about, and those new items may be added to.
# Decisions are made in a few sections, so that item decisions, section rules and new
# items often meet; the other items (e.g. "My hopes and aspirations", WRAP triggers) are
# never shared and must stay hidden everywhere.
RULE_SECTIONS = {
    PlanKind.CARE_PLAN: ("crisis", "needs_support"),
    PlanKind.WRAP: ("wrap_crisis", "wellness_toolbox"),
}
OPEN_SECTIONS = {
    PlanKind.CARE_PLAN: ("needs_support", "risk"),
    PlanKind.WRAP: ("wrap_crisis", "wellness_toolbox", "triggers"),
}
OPERATIONS = (
    "share_item", "share_item", "share_item", "withdraw_item", "withdraw_item",
    "share_section", "share_section", "share_section", "withdraw_section", "follow_section",
    "follow_section", "add_item", "add_item", "add_item", "remove_item", "end_relationship",
    "end_relationship", "share_many", "share_many_now", "stop_many",
)
END_DATES = (None, 0, 5)  # days from today; evaluated on today or today + 3
FIRST_FREE_TOKEN = 10**9  # free items' tokens never collide with the prompts' (their pks)


class RollbackError(Exception):
    """Rolls one example's transaction back."""


# --- The model: what the decisions allow ---------------------------------------------------


@dataclass
class Item:
    pk: int
    person: int  # index of the service user
    plan_pk: int
    kind: str
    section: str
    title: str
    token: int
    free: bool
    removed: bool = False


@dataclass
class Decision:
    shared: bool
    expires_on: dt.date | None


@dataclass
class Model:
    """Item decisions override section rules; not shared, expired, removed or an ended
    relationship means hidden."""

    items: dict[int, Item] = field(default_factory=dict)
    explicit: dict[tuple[int, int], Decision] = field(default_factory=dict)
    rules: dict[tuple[int, int, str], Decision] = field(default_factory=dict)
    links: dict[tuple[int, int], bool] = field(default_factory=dict)  # (carer, person): active

    def visible(self, carer: int, today: dt.date) -> set[int]:
        shown = set()
        for item in self.items.values():
            if item.removed or not self.links.get((carer, item.person), False):
                continue
            decision = self.explicit.get((carer, item.pk))
            if decision is None:
                decision = self.rules.get((carer, item.plan_pk, item.section))
            if decision is None or not decision.shared:
                continue
            if decision.expires_on is not None and decision.expires_on < today:
                continue
            shown.add(item.pk)
        return shown


# --- The world of one example ----------------------------------------------------------------


@dataclass
class Person:
    service_user: object
    account: object
    coordinator: object
    plans: dict  # kind -> Plan


@dataclass
class CarerOf:
    carer: object
    user: object
    relationships: dict  # person index -> CarerRelationship


def _build(data, world, model: Model) -> tuple[list[Person], list[CarerOf]]:
    people = [
        Person(world.service_user, world.service_user_account, world.coordinator, {}),
        Person(world.other_service_user, world.other_service_user_account,
               world.other_coordinator, {}),
    ][: data.draw(st.integers(1, 2), label="service users")]
    for index, person in enumerate(people):
        for kind in (PlanKind.CARE_PLAN, PlanKind.WRAP):
            plan = plan_services.plan_create(service_user=person.service_user, kind=kind,
                                             created_by=person.account)
            person.plans[kind] = plan
            # The fixed questions, answered with their own pk as a findable token.
            PlanItem.objects.filter(plan=plan).update(
                body=Concat(Value("tok"), Cast("pk", CharField()), Value("kot")))
            for item in PlanItem.objects.filter(plan=plan):
                model.items[item.pk] = Item(item.pk, index, plan.pk, kind, item.section,
                                            item.title, item.pk, free=False)
            _add_item(model, person, index, kind,
                      data.draw(st.sampled_from(OPEN_SECTIONS[kind]), label="first item in"))

    subsets = [(0,)] if len(people) == 1 else [(0,), (1,), (0, 1)]
    carers = []
    for _ in range(data.draw(st.integers(1, 3), label="carers")):
        user = UserFactory(roles=[Role.CARER])
        carer = CarerFactory(user=user, email=user.email)
        linked = data.draw(st.sampled_from(subsets), label="cares for")
        relationships = {
            index: CarerRelationshipFactory(carer=carer, service_user=people[index].service_user,
                                            relationship="Mum")
            for index in linked
        }
        for index in linked:
            model.links[(len(carers), index)] = True
        carers.append(CarerOf(carer, user, relationships))
    return people, carers


def _add_item(model: Model, person: Person, index: int, kind: str, section_code: str) -> None:
    token = FIRST_FREE_TOKEN + len(model.items)
    title = f"Item-{token}-end"
    item = plan_services.item_create(plan=person.plans[kind], section_code=section_code,
                                     author=person.account, title=title,
                                     body=f"tok{token}kot")
    model.items[item.pk] = Item(item.pk, index, item.plan_id, kind, section_code, title, token,
                                free=True)


def _decider(data, person: Person) -> dict:
    if data.draw(st.booleans(), label="recorded by the coordinator"):
        return {"decided_by": person.coordinator, "basis": "Asked for this in our meeting"}
    return {"decided_by": person.account}


def _end_date(data, today: dt.date) -> dt.date | None:
    days = data.draw(st.sampled_from(END_DATES), label="end date (days)")
    return None if days is None else today + dt.timedelta(days=days)


def _pick_item(data, model: Model, live: list[int], carer_index: int) -> int:
    """An item to decide about, chosen so that decisions meet: often one this carer
    already has a decision or a section rule about, otherwise one of the first few items
    of a section decisions are made about, sometimes any item at all."""
    decided = [pk for pk in live if (carer_index, pk) in model.explicit
               or (carer_index, model.items[pk].plan_pk, model.items[pk].section) in model.rules]
    if decided and data.draw(st.booleans(), label="an item already decided about"):
        return data.draw(st.sampled_from(decided), label="item")
    kind = data.draw(st.sampled_from((PlanKind.CARE_PLAN, PlanKind.WRAP)), label="plan")
    code = data.draw(st.sampled_from((*RULE_SECTIONS[kind], "any")), label="section")
    choices = [pk for pk in live if code == "any" or (
        model.items[pk].kind == kind and model.items[pk].section == code)]
    choices = (choices if code == "any" else choices[:3]) or live
    return data.draw(st.sampled_from(choices), label="item")


def _operate(data, model: Model, people: list[Person], carers: list[CarerOf],
             today: dt.date) -> None:
    operation = data.draw(st.sampled_from(OPERATIONS), label="operation")
    links = sorted(model.links)
    carer_index, index = data.draw(st.sampled_from(links), label="carer, person")
    person, carer = people[index], carers[carer_index].carer
    live = sorted(pk for pk, item in model.items.items()
                  if item.person == index and not item.removed)
    active = model.links[(carer_index, index)]

    def decide(call, on_success) -> None:
        """Make a consent decision; for a carer no longer linked it must be refused."""
        try:
            call()
        except ConsentError:
            assert not active, f"{operation} refused for an active relationship"
            return
        assert active, f"{operation} accepted for an ended relationship"
        on_success()

    if operation in ("share_item", "withdraw_item", "follow_section"):
        pk = _pick_item(data, model, live, carer_index)
        item = PlanItem.objects.get(pk=pk)
        who = _decider(data, person)
        if operation == "follow_section":
            decide(lambda: consent_item_follow_section(item=item, carer=carer, **who),
                   lambda: model.explicit.pop((carer_index, pk), None))
            return
        shared = operation == "share_item"
        expires_on = _end_date(data, today) if shared else None
        decide(lambda: consent_decide_item(item=item, carer=carer, shared=shared,
                                           expires_on=expires_on, **who),
               lambda: model.explicit.__setitem__((carer_index, pk),
                                                  Decision(shared, expires_on)))
    elif operation in ("share_section", "withdraw_section"):
        kind = data.draw(st.sampled_from((PlanKind.CARE_PLAN, PlanKind.WRAP)), label="plan")
        code = data.draw(st.sampled_from(RULE_SECTIONS[kind]), label="section")
        plan = person.plans[kind]
        shared = operation == "share_section"
        expires_on = _end_date(data, today) if shared else None
        who = _decider(data, person)
        decide(lambda: consent_decide_section(plan=plan, section=code, carer=carer,
                                              shared=shared, expires_on=expires_on, **who),
               lambda: model.rules.__setitem__((carer_index, plan.pk, code),
                                               Decision(shared, expires_on)))
    elif operation in ("share_many", "share_many_now", "stop_many"):
        _decide_many(data, model, operation, person, carer, carer_index, live, active,
                     decide, today)
    elif operation == "add_item":
        kinds = {plan.pk: kind for kind, plan in person.plans.items()}
        ruled = sorted({(kinds[plan_pk], code) for (_, plan_pk, code) in model.rules
                        if plan_pk in kinds and code in OPEN_SECTIONS[kinds[plan_pk]]})
        if ruled and data.draw(st.booleans(), label="into a section with a rule"):
            kind, code = data.draw(st.sampled_from(ruled), label="plan and section")
        else:
            kind = data.draw(st.sampled_from((PlanKind.CARE_PLAN, PlanKind.WRAP)),
                             label="plan")
            code = data.draw(st.sampled_from(OPEN_SECTIONS[kind]), label="section")
        _add_item(model, person, index, kind, code)
    elif operation == "remove_item":
        free = [pk for pk in live if model.items[pk].free]
        if not free:
            return
        pk = data.draw(st.sampled_from(free), label="item to remove")
        item = PlanItem.objects.get(pk=pk)
        plan_services.item_remove(item=item, removed_by=person.account,
                                  expected_revision=item.revision)
        model.items[pk].removed = True
    elif operation == "end_relationship" and active:
        carer_relationship_end(relationship=carers[carer_index].relationships[index],
                               ended_by=person.coordinator)
        model.links[(carer_index, index)] = False


def _decide_many(data, model: Model, operation: str, person: Person, carer, carer_index: int,
                 live: list[int], active: bool, decide, today: dt.date) -> None:
    """The consent page's one submission (consent_decide_many), in the model's terms: what
    the one-at-a-time decisions it stands for would do (ADR 0018)."""
    pairs = [(kind, code) for kind, codes in RULE_SECTIONS.items() for code in codes]
    chosen = data.draw(st.lists(st.sampled_from(pairs), max_size=2, unique=True),
                       label="sections")
    picked = data.draw(st.lists(st.sampled_from(live), max_size=3, unique=True),
                       label="items") if live else []
    if not chosen and not picked:
        return
    sections = [(person.plans[kind], code) for kind, code in chosen]
    keys = {(plan.pk, code) for plan, code in sections}
    shared = operation != "stop_many"
    later = operation == "share_many"
    expires_on = _end_date(data, today) if shared else None
    who = _decider(data, person)

    def effective(decision: Decision | None) -> bool:
        return decision is not None and decision.shared and (
            decision.expires_on is None or decision.expires_on >= today)

    def rule(key: tuple[int, str]) -> Decision | None:
        return model.rules.get((carer_index, *key))

    def sharing_now(item: Item) -> bool:
        own = model.explicit.get((carer_index, item.pk))
        return effective(own if own is not None else rule((item.plan_pk, item.section)))

    in_chosen = [model.items[pk] for pk in live
                 if (model.items[pk].plan_pk, model.items[pk].section) in keys]
    rules, explicit = {}, {}
    if shared:
        for key in keys:
            if later:
                rules[key] = Decision(True, expires_on)
            elif effective(rule(key)):
                rules[key] = Decision(False, None)  # later items are not shared
        for item in ([] if later else in_chosen):
            explicit[item.pk] = Decision(True, expires_on)
        for pk in picked:
            explicit[pk] = Decision(True, expires_on)
    else:
        for key in keys:
            if effective(rule(key)):
                rules[key] = Decision(False, None)
        for item in in_chosen:
            if (carer_index, item.pk) in model.explicit and sharing_now(item):
                explicit[item.pk] = Decision(False, None)
        for pk in picked:
            item = model.items[pk]
            if (item.plan_pk, item.section) in keys:
                continue  # its section stops: above
            if sharing_now(item):
                explicit[pk] = Decision(False, None)

    def call() -> None:
        consent_decide_many(
            service_user=person.service_user, carer=carer, shared=shared,
            sections=sections, items=list(PlanItem.objects.filter(pk__in=picked)),
            later_items=later, expires_on=expires_on, **who)

    def apply() -> None:
        for key, decision in rules.items():
            model.rules[(carer_index, *key)] = decision
        for pk, decision in explicit.items():
            model.explicit[(carer_index, pk)] = decision

    if active and not rules and not explicit:
        with pytest.raises(ConsentError):  # nothing to stop, or nothing there to share now
            call()
        return
    decide(call, apply)


# --- Reading every surface ---------------------------------------------------------------


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    pass_second_factor(client, user)
    return client


def _tokens(markup: str, model: Model) -> set[int]:
    by_token = {item.token: pk for pk, item in model.items.items()}
    found = {int(t) for t in TOKEN.findall(markup)}
    unknown = found - by_token.keys()
    assert not unknown, f"tokens of no item of this example: {unknown}"
    return {by_token[t] for t in found}


def _assert_nothing_hidden_leaks(markup: str, model: Model, hidden: set[int],
                                 shown: set[int], where: str) -> None:
    """No hidden item's words: its token never; its title unless the page shows it for
    another reason (a visible item's section can share its one question's title)."""
    shown_titles = {model.items[pk].title for pk in shown}
    shown_titles |= {section(model.items[pk].kind, model.items[pk].section).title
                     for pk in shown}
    for pk in hidden:
        item = model.items[pk]
        assert f"tok{item.token}kot" not in markup, f"hidden item {pk} on {where}"
        if item.title not in shown_titles and not any(item.title in t for t in shown_titles):
            assert item.title not in markup, f"hidden item {pk}'s title on {where}"


def _check_surfaces(model: Model, people: list[Person], carers: list[CarerOf],
                    now: dt.date) -> None:
    every_item = sorted(model.items)
    person_clients = [_client(person.account) for person in people]
    for carer_index, carer in enumerate(carers):
        client = _client(carer.user)
        expected = model.visible(carer_index, now)
        note(f"carer {carer_index} on {now}: expects {sorted(expected)}")

        # (e) the policy, all people at once.
        assert set(policy.items_shared_with(carer.user).values_list("pk", flat=True)) \
            == expected, "policy.items_shared_with"

        # (c) one item at a time — the item API: 200 exactly for what is shared, 404 for
        # every other item; and the item's history page, 404 for every item this carer
        # has ever had a decision or rule about, shared or not: sharing shares an item's
        # current words, never its earlier ones (ADR 0010).
        for pk in every_item:
            want = 200 if pk in expected else 404
            status = client.get(f"/api/v1/items/{pk}/").status_code
            assert status == want, f"item API for {pk}: {status}"
            item = model.items[pk]
            if (pk in expected or (carer_index, pk) in model.explicit
                    or (carer_index, item.plan_pk, item.section) in model.rules):
                status = client.get(f"/plans/items/{pk}/history/").status_code
                assert status == 404, f"item history page for {pk}: {status}"

        for index, relationship in carer.relationships.items():
            person = people[index]
            mine = {pk for pk in expected if model.items[pk].person == index}
            theirs = {pk for pk, item in model.items.items() if item.person == index}
            hidden = theirs - mine
            page = client.get(f"/carers/people/{relationship.pk}/")
            api = client.get(f"/api/v1/carer/people/{relationship.pk}/shared-items/")
            preview = person_clients[index].get(
                f"/consent/service-users/{person.service_user.pk}/carers/"
                f"{relationship.pk}/preview/")
            fhir = client.get(f"/api/v1/service-users/{person.service_user.pk}/fhir")
            if not model.links[(carer_index, index)]:
                assert mine == set()
                assert page.status_code == api.status_code == preview.status_code == 404
                assert fhir.status_code == 404
                continue

            # (a) the carer's page.
            assert page.status_code == 200
            markup = page.content.decode()
            assert _tokens(markup, model) == mine, "carer page"
            _assert_nothing_hidden_leaks(markup, model, hidden, mine, "the carer page")

            # (b) the carer API.
            assert api.status_code == 200
            rows = api.json()["results"]
            assert {row["id"] for row in rows} == mine, "carer API"
            assert {pk for row in rows for pk in _tokens(row["body"], model)} == mine
            _assert_nothing_hidden_leaks(json.dumps(api.json(), ensure_ascii=False), model,
                                         hidden, mine, "the carer API")

            # (f) the FHIR export: the carer's bundle holds exactly what is shared.
            assert fhir.status_code == 200
            bundle = fhir.content.decode()
            assert _tokens(bundle, model) == mine, "FHIR export"
            _assert_nothing_hidden_leaks(bundle, model, hidden, mine, "the FHIR export")

            # (d) the service user's preview: exactly the carer's page.
            assert preview.status_code == 200
            assert _tokens(preview.content.decode(), model) == mine, "preview"

            # (e) the policy, for this person.
            assert set(policy.items_shared_with(
                carer.user, PlanItem.objects.filter(plan__service_user=person.service_user)
            ).values_list("pk", flat=True)) == mine


# --- The property ----------------------------------------------------------------------------


# Each example reads every surface (~1–2 s), so shrinking a failure would take minutes:
# the failing example is reported as generated, with every draw labelled, and
# print_blob gives the @reproduce_failure line to replay it exactly. No example database
# (nothing written under the repository).
@settings(max_examples=25, deadline=None, database=None, print_blob=True,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_every_surface_shows_each_carer_exactly_what_the_decisions_allow(world, data):
    today = clock.today()
    with contextlib.suppress(RollbackError), transaction.atomic():
        model = Model()
        people, carers = _build(data, world, model)
        for _ in range(data.draw(st.integers(6, 20), label="operations")):
            _operate(data, model, people, carers, today)
        # Whatever happened, the permissions still match the decisions.
        assert consent_permissions_check() == []
        now = today + dt.timedelta(days=data.draw(st.sampled_from((0, 3)),
                                                  label="read on today +"))
        with clock.travel_to(now):
            _check_surfaces(model, people, carers, now)
        raise RollbackError

"""Helpers that build plans the way people do: through the plan services, so every
item, revision, history row and audit event is what the real app would have made."""

from __future__ import annotations

import datetime as dt

from carecoord.records.models import User
from consent import policy
from plans import services
from plans.models import Plan, PlanItem, PlanVersion, Signature
from plans.sections import CRISIS_PROMPTS, PlanKind
from tests import clock
from tests.factories import PASSWORD

CRISIS_PROMPT_CODES = [prompt.code for prompt in CRISIS_PROMPTS]


def make_plan(world, kind: str = PlanKind.CARE_PLAN, *, by: User | None = None) -> Plan:
    """A plan for world.service_user, created by the allocated coordinator unless `by`."""
    return services.plan_create(
        service_user=world.service_user, kind=kind, created_by=by or world.coordinator
    )


def prompt_item(plan: Plan, prompt: str) -> PlanItem:
    return PlanItem.objects.get(plan=plan, prompt=prompt)


def write(item: PlanItem, by: User, body: str, **kwargs) -> PlanItem:
    """Save `body` over the item's current revision (fresh from the database)."""
    item.refresh_from_db()
    return services.item_update(item=item, changed_by=by, expected_revision=item.revision,
                                body=body, **kwargs)


def add_item(plan: Plan, section_code: str, by: User, title: str, body: str = "",
             **kwargs) -> PlanItem:
    return services.item_create(plan=plan, section_code=section_code, author=by, title=title,
                                body=body, **kwargs)


def add_goal(plan: Plan, by: User, title: str = "Get back to swimming",
             target: dt.date | None = None) -> PlanItem:
    return add_item(plan, "goals", by, title, body="Twice a week at the leisure centre.",
                    details={"domain": "connectedness",
                             "target_on": target or clock.days(540)})


def add_responsibility(plan: Plan, by: User, *, holder: str = "service_user",
                       relationship_pk: int | None = None,
                       title: str = "Cooking for myself") -> PlanItem:
    details: dict = {"holder": holder, "positive_risk": "Using the hob again",
                     "safety_net": "Smoke alarm checked weekly"}
    if relationship_pk is not None:
        details["holder_relationship"] = relationship_pk
    return add_item(plan, "responsibilities", by, title, body="Three evenings a week.",
                    details=details)


def fill_crisis(plan: Plan, by: User, *, skip: tuple[str, ...] = ()) -> None:
    for code in CRISIS_PROMPT_CODES:
        if code not in skip:
            write(prompt_item(plan, code), by, f"My answer about {code}.")


def plan_with_content(world, kind: str = PlanKind.CARE_PLAN) -> Plan:
    """A plan with something written in it, ready to propose."""
    plan = make_plan(world, kind)
    if kind == PlanKind.CARE_PLAN:
        write(prompt_item(plan, "recovery_meaning"), world.service_user_account,
              "Being able to see my friends and cook for myself.")
    elif kind == PlanKind.WRAP:
        add_item(plan, "wellness_toolbox", world.service_user_account, "Walking the dog",
                 body="Every morning, whatever the weather.")
    else:
        add_responsibility(plan, world.coordinator)
    return plan


def propose(plan: Plan, by: User) -> PlanVersion:
    return services.version_propose(plan=plan, proposed_by=by)


def sign(version: PlanVersion, user: User, *, password: str = PASSWORD) -> Signature:
    """Sign in the role the policy gives this person (as the signing page does)."""
    role = policy.signer_role(user, version)
    assert role is not None, f"{user} is not a signer of {version}"
    return services.version_sign(version=version, signer=user, role=role, password=password)


def reload(version: PlanVersion) -> PlanVersion:
    return PlanVersion.objects.get(pk=version.pk)


def latest_number(plan: Plan) -> int:
    return plan.versions.order_by("-number").values_list("number", flat=True).first()


def status(version: PlanVersion) -> str:
    version = reload(version)
    return services.version_status(version, latest_number=latest_number(version.plan))

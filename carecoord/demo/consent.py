"""Mixed consent for the demo, so the difference is visible: items shared one by one, a
section rule with an item kept back, a grant that has expired, and a withdrawal; and
Linda, whom Alex involves in her reviews, invited to give her views before the next."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from carers.models import CarerRelationship
from consent.grants import PlanItemUserObjectPermission
from consent.models import ConsentDecision, ReviewInvolvementDecision
from consent.reviews.services import review_involvement_decide
from consent.services import consent_decide_item, consent_decide_section
from plans.models import Plan


def seed_consent() -> None:
    _alex_and_linda()
    _dan_and_chris()
    _linda_heard_at_reviews()


def _linda_heard_at_reviews() -> None:
    """Alex asks for Linda's views before her care plan reviews: Linda is invited (a
    notification and a thing to do) to give them before the next one."""
    relationship = _relationship("Alexandra Morgan", "Linda Morgan")
    if relationship is None or ReviewInvolvementDecision.objects.filter(
            carer=relationship.carer, service_user=relationship.service_user).exists():
        return
    review_involvement_decide(relationship=relationship, involved=True,
                              decided_by=relationship.service_user.user,
                              note="Mum sees things I miss.")


def _relationship(full_name: str, carer_name: str) -> CarerRelationship | None:
    return CarerRelationship.objects.active().select_related(
        "carer", "service_user__user").filter(
        service_user__full_name=full_name, carer__full_name=carer_name).first()


def _alex_and_linda() -> None:
    relationship = _relationship("Alexandra Morgan", "Linda Morgan")
    if relationship is None or ConsentDecision.objects.filter(
            service_user=relationship.service_user).exists():
        return
    alex, linda = relationship.service_user, relationship.carer
    care_plan = Plan.objects.get(service_user=alex, kind="care_plan")
    items = {item.prompt: item for item in care_plan.items.all()}
    for prompt in ("early_signs", "who_to_contact", "practical"):
        consent_decide_item(item=items[prompt], carer=linda, shared=True,
                            decided_by=alex.user, note="So Mum knows what to look out for.")
    consent_decide_section(plan=care_plan, section="goals", carer=linda, shared=True,
                           decided_by=alex.user)
    # Shared for a while last month, until last week: now expired, and never shown.
    expired = consent_decide_item(item=items["has_helped"], carer=linda, shared=True,
                                  decided_by=alex.user, expires_on=timezone.localdate(),
                                  note="While I was on holiday.")
    last_week = timezone.localdate() - dt.timedelta(days=7)
    ConsentDecision.objects.filter(pk=expired.pk).update(
        expires_on=last_week, decided_at=timezone.now() - dt.timedelta(days=30))
    PlanItemUserObjectPermission.objects.filter(decision=expired).update(expires_on=last_week)


def _dan_and_chris() -> None:
    relationship = _relationship("Daniel Reid", "Christine Reid")
    if relationship is None or ConsentDecision.objects.filter(
            service_user=relationship.service_user).exists():
        return
    dan, chris = relationship.service_user, relationship.carer
    care_plan = Plan.objects.get(service_user=dan, kind="care_plan")
    # The whole crisis plan, recorded by Dan's coordinator at his request...
    coordinator = care_plan.created_by
    consent_decide_section(plan=care_plan, section="crisis", carer=chris, shared=True,
                           decided_by=coordinator,
                           basis="Dan asked for this in our meeting, with Chris there.")
    # ...except his advance statement, which he keeps to himself.
    advance = care_plan.items.get(prompt="advance_statement")
    consent_decide_item(item=advance, carer=chris, shared=False, decided_by=dan.user,
                        note="I'd rather talk to Chris about this myself.")
    # He shared his hopes, then changed his mind: withdrawn, and gone at once.
    hopes = care_plan.items.get(prompt="hopes")
    consent_decide_item(item=hopes, carer=chris, shared=True, decided_by=dan.user)
    consent_decide_item(item=hopes, carer=chris, shared=False, decided_by=dan.user,
                        note="Not yet.")

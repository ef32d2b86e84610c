"""Template tags for peer-support content on pages whose views belong to other apps: a
care plan's signposting and a team's signposting counts. Reads go through
peersupport.selectors (which ask the access policy), as in a view."""

from __future__ import annotations

from django import template

from consent import policy
from peersupport import selectors
from peersupport.models import Audience, OfferKind
from peersupport.selectors import ATTENDANCE_IN_PERSON, ATTENDANCE_ONLINE, AUDIENCE_ANYONE
from plans.sections import PlanKind

register = template.Library()


@register.simple_tag
def plan_signposting(user, plan, basis=None) -> dict | None:
    """The signposting to show on a care plan page, for this viewer: the rows they may
    read and whether they may add one. None on other kinds of plan. `basis`: the one the
    plan page opened the plan on, so the record is not checked again."""
    if plan is None or plan.kind != PlanKind.CARE_PLAN:
        return None
    service_user = plan.service_user
    if not basis:  # not given (or not in the template's context): ask
        basis = policy.record_basis(user, service_user)
    if basis not in policy.FULL_BASES:
        return None  # not for a care-team member or emergency access
    return {
        "rows": list(selectors.signposting_for_service_user(
            viewer=user, service_user=service_user, basis=basis)),
        "can_record": policy.can_record_signposting_on_basis(basis),
        "is_own": service_user.user_id is not None and service_user.user_id == user.pk,
        "service_user": service_user,
    }


@register.simple_tag
def team_signposting(user, team):
    """Signposting counts for a team the viewer manages (None for anyone else)."""
    if team is None:
        return None
    return selectors.team_signposting_counts(viewer=user, team=team)


@register.filter
def count_words(count: int, nouns: str) -> str:
    """"No opportunities", "One opportunity", "12 opportunities" (nouns: "one,many")."""
    singular, plural = nouns.split(",")
    if count == 0:
        return f"No {plural}"
    if count == 1:
        return f"One {singular}"
    return f"{count} {plural}"


@register.simple_tag
def search_description(search) -> str:
    """The filters in use, in words: "for carers, online, in Hexham, matching 'walk'"."""
    parts = []
    if search.kind:
        parts.append(dict(OfferKind.choices).get(search.kind, "").lower())
    if search.audience == Audience.CARERS:
        parts.append("for carers, family and friends")
    elif search.audience == Audience.SERVICE_USERS:
        parts.append("for people using mental health services")
    if search.attendance == ATTENDANCE_ONLINE:
        parts.append("online")
    elif search.attendance == ATTENDANCE_IN_PERSON:
        parts.append("in person")
    if search.place:
        parts.append(f"in or near {search.place}")
    if search.text:
        parts.append(f"matching “{search.text}”")
    if search.include_retired:
        parts.append("including retired offers")
    return ", ".join(part for part in parts if part)


@register.simple_tag
def is_filtered(search) -> bool:
    return bool(search.kind or search.audience != AUDIENCE_ANYONE or search.attendance
                or search.place or search.text or search.include_retired)

"""Template tags for plan pages: plain-words labels, the progress chart, and the plan
links on pages whose views belong to other apps (home page, record page).

Reads go through plans.selectors (which ask the access policy), as in a view.
"""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import formats, timezone
from django.utils.dateformat import format as date_format
from django.utils.safestring import SafeString

from carecoord.records import selectors as record_selectors
from carecoord.web.charts import score_chart
from carecoord.web.fragments import fragment, render_fragment
from consent import policy
from consent.policy import Basis
from plans import selectors
from plans.forms import LISTENED_CHOICES
from plans.models import GoalAgreement, PlanItem, RequiredSigner, Signature
from plans.sections import RECOVERY_DOMAINS, ItemType, PlanKind, sections_for

register = template.Library()

KIND_SHORT = {
    PlanKind.CARE_PLAN: "care plan",
    PlanKind.WRAP: "WRAP",
    PlanKind.RESPONSIBILITY_AGREEMENT: "responsibility agreement",
}
KIND_ORDER = (PlanKind.CARE_PLAN, PlanKind.WRAP, PlanKind.RESPONSIBILITY_AGREEMENT)


def possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") and not name.endswith("ss") else f"{name}'s"


def plan_title(kind: str, service_user_name: str, is_own: bool) -> str:
    owner = "Your" if is_own else possessive(service_user_name)
    return f"{owner} {KIND_SHORT.get(kind, 'plan')}"


@register.simple_tag
def plan_heading(plan, is_own: bool) -> str:
    """"Your care plan" for the service user, "Alex's care plan" for everyone else."""
    return plan_title(plan.kind, plan.service_user.name, is_own)


@register.filter
def kind_short(kind: str) -> str:
    return KIND_SHORT.get(kind, "plan")


# --- Plan links for other apps' pages -------------------------------------------------


def _plan_rows(user, service_user, basis: Basis) -> list[dict]:
    plans = selectors.plans_for_service_user(viewer=user, service_user=service_user,
                                             basis=basis)
    is_own = basis is Basis.SELF
    return [
        {
            "kind": kind,
            "kind_short": KIND_SHORT[kind],
            "label": plan_title(kind, service_user.name, is_own),
            "plan": plans.get(kind),
            "service_user": service_user,
        }
        for kind in KIND_ORDER
    ]


@register.simple_tag
def own_plans(user) -> list[dict]:
    """The signed-in service user's own plans, in order, with None where a plan has not
    been started: `{% own_plans user as own_plans %}`."""
    if not user.is_authenticated:
        return []
    record = record_selectors.own_record(viewer=user)
    if record is None:
        return []
    return _plan_rows(user, record, Basis.SELF)


@register.simple_tag
def record_plans(user, service_user, basis: Basis | None = None) -> list[dict]:
    """The plans of a record the viewer has opened, for the record page. `may_start` says
    whether the viewer may start a plan that does not exist yet. `basis`: the viewer's
    basis on the record, as the page opened it (asked again here when not given)."""
    if basis is None:
        basis = policy.record_basis(user, service_user)
    if basis is None:
        return []
    rows = _plan_rows(user, service_user, basis)
    if basis not in policy.FULL_BASES:
        # A care-team member sees only the plans their role opens, and nothing to start.
        rows = [row for row in rows if row["plan"] is not None]
    for row in rows:
        row["may_start"] = row["plan"] is None and policy.can_start_plan_on_basis(basis)
    return rows


@register.simple_tag
def reviews_awaiting(user) -> list:
    """Reviews where this service user has not yet said whether they felt listened to."""
    if not user.is_authenticated:
        return []
    return list(selectors.reviews_awaiting_answer(viewer=user).order_by("held_on"))


# --- Words for values -----------------------------------------------------------------


@register.filter
def isodate(value) -> dt.date | None:
    """A date stored as ISO text in an item's details, as a date (for |date)."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


@register.filter
def domain_label(code: str) -> str:
    return dict(RECOVERY_DOMAINS).get(code, code or "")


@register.filter
def written_by_label(code: str) -> str:
    try:
        return PlanItem.WrittenBy(code).label
    except ValueError:
        return ""


@register.filter
def listened_label(score) -> str:
    return dict(LISTENED_CHOICES).get(score, "")


@register.filter
def section_title(code: str, kind: str) -> str:
    for candidate in sections_for(kind):
        if candidate.code == code:
            return candidate.title
    return code


def _holder_text(details: dict, carers: dict, service_user_name: str, is_own: bool) -> str:
    holder = details.get("holder")
    if holder == "service_user":
        return "You" if is_own else service_user_name
    if holder == "carer":
        try:
            relationship = carers.get(int(details.get("holder_relationship")))
        except (TypeError, ValueError):
            relationship = None
        if relationship is None:
            return "A carer who is no longer linked"
        return f"{relationship.carer.name} ({relationship.relationship})"
    if holder == "coordinator":
        return "The care coordinator"
    if holder == "service":
        return details.get("holder_service") or "A service"
    return "Not said"


def _date_text(value) -> str:
    date = isodate(value)
    return date_format(date, "j F Y") if date else ""


@register.simple_tag
def detail_rows(item_type: str, details: dict | None, carers: dict, service_user_name: str,
                is_own: bool = False) -> list[tuple[str, str]]:
    """The structured parts of a goal or a responsibility as (label, text) rows, for a
    live item, a version's snapshot entry or a history entry alike."""
    details = details or {}
    if item_type == ItemType.GOAL:
        return [
            ("Part of recovery", domain_label(details.get("domain", "")) or "Not said"),
            ("Target date", _date_text(details.get("target_on")) or "Not set"),
        ]
    if item_type == ItemType.RESPONSIBILITY:
        return [
            ("Who holds it", _holder_text(details, carers, service_user_name, is_own)),
            ("Positive risk being supported", details.get("positive_risk", "")),
            ("The safety net", details.get("safety_net", "")),
            ("Support available at the right time", details.get("support", "")),
            ("Review date", _date_text(details.get("review_on")) or "Not set"),
        ]
    return []


@register.simple_tag
def person_name(person, service_user, viewer) -> str:
    """How to name someone on a plan page: "you" for the viewer, the service user by the
    name they chose, everyone else by their display name."""
    if person is None:
        return "someone"
    if person.pk == viewer.pk:
        return "you"
    if service_user is not None and person.pk == service_user.user_id:
        return service_user.name
    return person.display_name


def item_attribution(item, service_user, viewer, days: dict[dt.date, str]) -> str:
    """The line under an item: the kind of writer, the person (`person_name`) and the day,
    "Care coordinator – you, 2 December 2026". Each day is written out once a page
    (`days`, the page's own; 80 items: about half the line's time; issue 15)."""
    # The label straight from the enum: `get_written_by_display` rebuilds the field's
    # choices as a dict on every call, 80 times a page.
    text = written_by_label(item.written_by) or item.written_by
    if item.author:
        text += f" – {person_name(item.author, service_user, viewer)}"
    # As the template's |date does: in the current time zone.
    day = timezone.template_localtime(item.updated_at).date()
    if day not in days:
        days[day] = formats.date_format(day, "j F Y")
    return f"{text}, {days[day]}"


@register.simple_tag(takes_context=True)
def plan_item(context, view, section_view) -> SafeString:
    """One item of a plan page (and its print view): `templates/plans/includes/item.jinja`,
    a fragment (carecoord.web.fragments, ADR 0030). Django's engine took a third of an
    80-item page to write the items (issue 15). The fragment gets only what the page
    already has: the item's view, its section and the page's plan, people and token."""
    # Kept for the whole page, in the render context's root, as {% include %} keeps its
    # templates: the item template, and each day written out once.
    page = context.render_context.dicts[0].setdefault(plan_item, {})
    if not page:
        page["template"] = fragment("plans/includes/item.jinja")
        page["days"] = {}
    service_user, viewer, days = context["service_user"], context["user"], page["days"]
    return render_fragment(
        page["template"], view=view, item=view.item, sv=section_view, plan=context["plan"],
        carers=context["carers"], service_user=service_user, is_own=context["is_own"],
        printing=context.get("printing"), user=viewer, csrf_token=context.get("csrf_token"),
        detail_rows=detail_rows, goal_agreement=goal_agreement,
        progress_chart=progress_chart,
        attribution=lambda item: item_attribution(item, service_user, viewer, days),
    )


# --- Goals ----------------------------------------------------------------------------


def _and(names: list[str]) -> str:
    return " and ".join(names)


@register.simple_tag
def goal_agreement(view, plan, viewer) -> str:
    """Where a goal's agreement stands, in words: "Agreed by you and Sam Okafor",
    "Waiting for Alex to agree"."""
    item = view.item
    agreements = view.agreements  # read with the item (plans.selectors.ItemView)
    current = [a for a in agreements if a.revision == item.revision]
    by_party = {a.party: a for a in current}
    viewer_party = getattr(view, "viewer_party", None)
    su_name = plan.service_user.name

    def name_of(party: str) -> str:
        if party == GoalAgreement.Party.SERVICE_USER:
            return "you" if viewer_party == party else su_name
        if party in by_party:
            agreement = by_party[party]
            return "you" if agreement.agreed_by_id == viewer.pk else (
                agreement.agreed_by.display_name)
        if viewer_party == party:
            return "you"
        if viewer_party == GoalAgreement.Party.SERVICE_USER:
            return "your care coordinator"
        return "the care coordinator"

    parties = [GoalAgreement.Party.SERVICE_USER, GoalAgreement.Party.COORDINATOR]
    agreed = [p for p in parties if p in by_party]
    waiting = [p for p in parties if p not in by_party]
    if not waiting:
        text = f"Agreed by {_and([name_of(p) for p in agreed])}"
    else:
        waiting_text = f"Waiting for {_and([name_of(p) for p in waiting])} to agree"
        if agreed:
            text = f"{_and([name_of(p) for p in agreed])} agreed. {waiting_text}"
        else:
            text = f"Not agreed yet. {waiting_text}"
            if any(a.revision < item.revision for a in agreements):
                text = ("It has changed since it was last agreed, so it needs agreeing "
                        f"again. {waiting_text}")
    return text[:1].upper() + text[1:]


@register.simple_tag
def progress_chart(progress) -> SafeString:
    """A goal's 0–10 ratings over time; the table beside it is the text alternative."""
    updates = list(progress)
    summary = "Progress ratings out of 10: " + "; ".join(
        f"{u.rating} on {date_format(u.recorded_on, 'j F Y')}" for u in updates
    ) + "."
    return score_chart([(u.recorded_on, u.rating) for u in updates], summary)


# --- Versions and signatures ----------------------------------------------------------


def _signer_name(signature: Signature, service_user_name: str, viewer) -> str:
    if signature.signer_id == viewer.pk:
        return "you"
    if signature.role == RequiredSigner.Role.SERVICE_USER:
        return service_user_name
    return signature.signer.display_name


@register.simple_tag
def version_status_text(status: str, version, viewer, signatures=None) -> str:
    """A version's status in words: Agreed on …, Waiting for signatures, Not signed:
    Alex said why, Replaced by a newer version. `signatures`: its answers, when the
    page already has them (plans.selectors.VersionRow)."""
    if status == "agreed":
        return f"Agreed on {date_format(version.agreed_at, 'j F Y')}"
    if status == "declined":
        if signatures is None:
            signatures = version.signatures.all()
        names = [
            _signer_name(s, version.plan.service_user.name, viewer)
            for s in signatures if s.decision == Signature.Decision.DECLINED
        ]
        return f"Not signed: {_and(names)} said why"
    if status == "replaced":
        return "Replaced by a newer version"
    return "Waiting for signatures"


@register.simple_tag
def signer_rows(version, signatures, viewer) -> list[dict]:
    """Who must sign this version, and what each has done: signed, declined (with their
    reasons) or not yet answered."""
    return selectors.version_signer_rows(version=version, signatures=list(signatures),
                                         viewer=viewer)


@register.simple_tag
def snapshot_sections(version, entries: list[dict]) -> list[dict]:
    """A version's frozen entries (those the viewer may read) grouped under its plan's
    section titles, in order."""
    by_section: dict[str, list[dict]] = {}
    for entry in entries:
        by_section.setdefault(entry.get("section", ""), []).append(entry)
    groups = [
        {"section": candidate, "entries": by_section.pop(candidate.code)}
        for candidate in sections_for(version.plan.kind) if candidate.code in by_section
    ]
    # Anything frozen under a section the plan kind no longer has is still shown.
    groups += [{"section": None, "code": code, "entries": entries}
               for code, entries in by_section.items()]
    return groups


@register.filter
def role_label(role: str) -> str:
    try:
        return RequiredSigner.Role(role).label
    except ValueError:
        return role

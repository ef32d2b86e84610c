"""Words for the consent pages: whether a carer can see an item, and a section's rule, in
plain words (never colour alone); and the sections of the page about one carer. Written in
Python (and a fragment) rather than included templates because the page about one carer
says it for every item of every plan, and the overview for every item and carer: an
include per item was most of those pages' time (issue 15)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timezone import template_localtime

from carecoord.web.fragments import fragment, render_fragment

if TYPE_CHECKING:
    from carecoord.records.models import ServiceUser
    from consent.views import CellView, ChoiceSection, RuleView

register = template.Library()


@register.simple_tag
def cell_words(cell: CellView, is_own: bool, service_user: ServiceUser) -> SafeString:
    """Whether one carer can see one item, and why, as the page says it."""
    name = cell.relationship.carer.name
    if cell.shared:
        until = format_html(" until {}", date_filter(cell.until, "j F Y")) if cell.until else ""
        because = (
            format_html(", because {} shared the whole section",
                        "you" if is_own else service_user.name)
            if cell.by_rule else ""
        )
        return format_html("<strong>{} can see this</strong>{}{}.", name, until, because)
    if cell.ended_on:
        why = format_html(": sharing ended after {}", date_filter(cell.ended_on, "j F Y"))
    elif cell.own_decision and cell.rule.in_effect:
        why = ", although the rest of the section is shared with them"
    else:
        why = ""
    return format_html("{} cannot see this{}.", name, why)


@register.simple_tag
def rule_words(rule: RuleView) -> SafeString:
    """One carer's rule for a whole section, in plain words."""
    decision = rule.decision
    if rule.in_effect:
        until = (format_html(", until {}", date_filter(decision.expires_on, "j F Y"))
                 if decision.expires_on else "")
        return format_html(
            "<strong>Shares the whole section, including anything added later</strong>{}.",
            until)
    if rule.ended:
        return format_html("The whole section was shared until {}. That has ended.",
                           date_filter(decision.expires_on, "j F Y"))
    if decision:
        return format_html("The whole section is not shared: sharing it stopped on {}.",
                           date_filter(template_localtime(decision.decided_at), "j F Y"))
    return SafeString("The whole section is not shared.")


@register.simple_tag(takes_context=True)
def consent_section(context, section: ChoiceSection) -> SafeString:
    """One section of the page about one carer, with its items:
    `templates/consent/includes/section.jinja`, a fragment (carecoord.web.fragments, ADR
    0030). The page's template took 33 of its ~100 ms on the trust data, most of it
    writing the sections through Django's engine; 22 ms with the fragment (issue 15).
    The fragment gets only what the page already has."""
    # Kept for the whole page, in the render context's root, as {% include %} keeps its
    # templates.
    page = context.render_context.dicts[0]
    if consent_section not in page:
        page[consent_section] = fragment("consent/includes/section.jinja")
    return render_fragment(
        page[consent_section], cs=section, carer=context["carer"], is_own=context["is_own"],
        service_user=context["service_user"], rule_words=rule_words, cell_words=cell_words)

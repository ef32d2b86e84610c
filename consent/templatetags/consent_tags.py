"""Words for the consent pages: whether a carer can see an item, in plain words (never
colour alone). Written in Python rather than an included template because the page about
one carer says it for every item of every plan, and the overview for every item and
carer: an include per item was most of those pages' time (issue 15)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils.html import format_html
from django.utils.safestring import SafeString

if TYPE_CHECKING:
    from carecoord.records.models import ServiceUser
    from consent.views import CellView

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

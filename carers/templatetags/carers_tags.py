"""Template tags for the carer's own space: the wellbeing chart, and the carer panels on
a service user's record page (whose view belongs to carecoord).

Reads go through carers.selectors (which ask the access policy), as in a view.
"""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.safestring import SafeString

from carecoord.web.charts import score_chart
from carers import selectors
from carers.models import WellbeingCheckIn

register = template.Library()


@register.simple_tag
def record_carer_panels(user, service_user, basis=None) -> list[selectors.CarerPanel]:
    """For an allocated care coordinator on a record: each carer's assessment requests,
    what they know helps, and only what they chose to share of their own space. `basis`:
    the viewer's basis on the record, as the page opened it."""
    if not user.is_authenticated:
        return []
    return selectors.carer_panels_for_record(viewer=user, service_user=service_user,
                                             basis=basis)


@register.simple_tag
def insights_about_self(user, service_user, basis=None) -> list:
    """For the service user on their own record: what their carers shared."""
    if not user.is_authenticated:
        return []
    return selectors.insights_about_self(viewer=user, service_user=service_user, basis=basis)


@register.simple_tag
def wellbeing_chart(check_ins: list[WellbeingCheckIn], summary: str) -> SafeString:
    """A carer's check-in scores (0 to 10) over time; the list beside it and `summary`
    are its text alternatives."""
    check_ins = list(check_ins)
    label = "How you have been coping, out of 10: " + "; ".join(
        f"{c.coping} on {date_format(timezone.localtime(c.created_at), 'j F Y')}"
        for c in check_ins
    ) + f". {summary}"
    return score_chart([(c.created_at, c.coping) for c in check_ins], label)

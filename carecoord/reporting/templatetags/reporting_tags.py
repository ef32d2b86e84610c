""""Getting stuck" prompts on pages whose views live below reporting: the coordinator's
home page, a service user's own record and a team's page. The page's template asks for
them here, so carecoord.records.views never imports carecoord.reporting. Reads go through
carecoord.reporting.selectors (which ask the access policy), as in a view."""

from __future__ import annotations

from django import template

from carecoord.records.models import Team, User
from carecoord.records.selectors import OpenedRecord
from carecoord.reporting import selectors
from carecoord.reporting.selectors import StuckRow, TeamStuckSummary

register = template.Library()


@register.simple_tag
def stuck_caseload(user: User) -> list[StuckRow]:
    """The coordinator's service users who have prompts, with the reasons."""
    return selectors.caseload_stuck_prompts_for_page(viewer=user)


@register.simple_tag
def stuck_invitations(user: User, record: OpenedRecord) -> list[str]:
    """On the service user's own record: the prompts as invitations to talk."""
    return selectors.stuck_invitations(viewer=user, record=record)


@register.simple_tag
def team_stuck_summary(user: User, team: Team) -> TeamStuckSummary:
    """Counts only, for the team's managers (404 for anyone else)."""
    return selectors.team_stuck_summary(viewer=user, team=team)

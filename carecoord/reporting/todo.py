""""Getting stuck" prompts as things to do (carecoord/todo/selectors.py): for a care
coordinator, each person on their caseload with prompts, with the reasons; for a manager,
how many people in each of their teams have prompts — a count, no names, no reasons.

Reporting sits above the selectors, so it adds these through `things_to_do_source`;
carecoord/apps.py imports this module once, in every process. The prompts that are
things to do in their own right (a review overdue, a plan waiting for signatures) are
listed there already, and left out here."""

from __future__ import annotations

import datetime as dt

from carecoord.records.models import Role, User
from carecoord.reporting import selectors
from carecoord.reporting.stuck import Rule
from carecoord.todo.selectors import Entry, stuck_entry, team_entry, things_to_do_source

LISTED_ALREADY = {Rule.REVIEW_OVERDUE, Rule.AWAITING_SIGNATURE}


@things_to_do_source
def stuck_things_to_do(viewer: User, today: dt.date) -> list[Entry]:
    entries = []
    if viewer.has_role(Role.COORDINATOR):
        for row in selectors.caseload_stuck_prompts(viewer=viewer, today=today):
            reasons = [p.reason for p in row.prompts if p.rule not in LISTED_ALREADY]
            if reasons:
                entries.append(stuck_entry(row.service_user.pk, row.service_user.name,
                                           reasons))
    if viewer.has_role(Role.MANAGER):
        for team, people in selectors.teams_stuck_counts(viewer=viewer, today=today):
            if people:
                entries.append(team_entry(team.pk, team.name, people))
    return entries

"""Shared pieces of the administration tests."""

from __future__ import annotations

import re

from carecoord.records.models import Team

THRESHOLDS = {
    "stuck_no_progress_days": 60, "stuck_awaiting_signature_days": 20,
    "stuck_assessment_days": 21, "stuck_falling_check_ins": 3, "stuck_caseload_prompts": 4,
    "reminder_due_soon_days": 10, "reminder_overdue_days": 5,
}


def team_post(*, name: str, managers=(), team: Team | None = None, **overrides) -> dict:
    """What the team form posts: the name, managers and every setting."""
    values = {field: getattr(team, field) for field in THRESHOLDS} if team else dict(THRESHOLDS)
    values.update(overrides)
    return {"name": name, "managers": [user.pk for user in managers], **values}


def invitation_link(body: str) -> str:
    """The path of the one-time link in an invitation email."""
    match = re.search(r"https?://[^/\s]+(/staff-invitation/\S+/)", body)
    assert match, body
    return match.group(1)

"""How much text each kind of free-text answer takes, the same on every surface.

The pages show it with the NHS.UK character count and refuse more with a message that
names the field; the API's serializers answer 400 naming the field (ADR 0019). Where a
model field has its own max_length (peer support's descriptions and stories, a carer's
views before a review), the form takes that one.
"""

from __future__ import annotations

TITLE = 200  # a plan item's title, names
ITEM_BODY = 10_000  # a plan item's words
DETAIL = 2_000  # a responsibility's positive risk, safety net and support
NOTE = 2_000  # notes, comments, reasons, outcomes, bases of a decision
ADDRESS = 500  # an address, or notes about contacting someone
DISCHARGE_PLAN = 10_000
REVIEW_ATTENDEES = 5_000
REVIEW_WHAT_CHANGED = 20_000
DECLINE_REASON = 10_000
CARER_SPACE = 5_000  # a carer's own needs, the support wanted, what helps

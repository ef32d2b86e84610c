"""The first meeting's questions: one page each, in this order (ADR 0017).

Pure data, like `plans.sections`: the pages, the draft and the service that writes the
care plan all read the steps from here, so "2 of 5 steps done" means the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

# How far ahead a planned end of care coordination may be: at least this many days from
# the day it is agreed, and at most this many days after the episode started.
PLANNED_END_MIN_DAYS = 28
PLANNED_END_MAX_DAYS = 2 * 365

TEXT = "text"
DATE = "date"


@dataclass(frozen=True)
class Step:
    code: str
    question: str  # asked of the person, in the second person
    hint: str
    summary_label: str  # how the check-your-answers page names it
    kind: str = TEXT
    max_length: int = 2000
    # Where the answer goes on the care plan: a fixed question (prompt) or a free item
    # in a section, titled `item_title`.
    prompt: str = ""
    section: str = ""
    item_title: str = ""


STEPS: tuple[Step, ...] = (
    Step("recovery", "What does recovery mean to you?",
         "Write down what they say, in their words. There are no right answers: it might be "
         "work, friends, feeling safe, or a good night's sleep.",
         "What recovery means to them", prompt="recovery_meaning"),
    Step("hopes", "What are your hopes for the future?",
         "Big and small: what they want to do, be or have.",
         "Their hopes and aspirations", prompt="hopes"),
    Step("what_matters", "What matters most to you?",
         "The people, places, things and ways of living that matter to them.",
         "What matters to them", section="needs_support", item_title="What matters to me"),
    Step("who_matters", "Who matters to you?",
         "Family, friends, neighbours, anyone who supports them.",
         "Who matters to them", section="carer_involvement", item_title="Who matters to me"),
    Step("planned_end", "When do you plan for care coordination to end?",
         "Care coordination is time-limited. Agree a date together, at least 4 weeks from "
         "today and within 2 years of the start. For example, 15 3 2027.",
         "Planned end of care coordination", kind=DATE, section="planned_end"),
)

STEP_CODES = tuple(step.code for step in STEPS)


def step(code: str) -> Step:
    for candidate in STEPS:
        if candidate.code == code:
            return candidate
    raise KeyError(code)


def step_number(code: str) -> int:
    return STEP_CODES.index(code) + 1


def next_step(code: str) -> str | None:
    index = STEP_CODES.index(code)
    return STEP_CODES[index + 1] if index + 1 < len(STEP_CODES) else None


def steps_done(answers: dict) -> list[str]:
    """The steps with an answer saved, in order."""
    return [code for code in STEP_CODES if str(answers.get(code) or "").strip()]

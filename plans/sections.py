"""The sections of each plan kind, in the words people see.

Sections are code, not data: the consent app and the API refer to them by `code`, and
section rules ("share my crisis plan with Mum") must mean the same thing everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models


class PlanKind(models.TextChoices):
    CARE_PLAN = "care_plan", "Care plan"
    WRAP = "wrap", "Wellness Recovery Action Plan (WRAP)"
    RESPONSIBILITY_AGREEMENT = "responsibility_agreement", "Responsibility agreement"


class ItemType(models.TextChoices):
    TEXT = "text", "Text"
    GOAL = "goal", "Goal"
    RESPONSIBILITY = "responsibility", "Responsibility"


@dataclass(frozen=True)
class Prompt:
    """A fixed question in a section; its item exists from the start."""

    code: str
    title: str
    hint: str


@dataclass(frozen=True)
class Section:
    code: str
    title: str
    hint: str
    item_type: str = ItemType.TEXT
    # Sections whose words are the service user's own: they may edit them on a care plan.
    own_words: bool = False
    prompts: tuple[Prompt, ...] = field(default_factory=tuple)
    # True when every prompt must be answered for the section to be complete.
    must_be_complete: bool = False
    # Free items (beyond the prompts) may be added.
    open_ended: bool = True


CRISIS_PROMPTS = (
    Prompt("early_signs", "Early signs that I am becoming unwell",
           "What do I, and the people close to me, notice first?"),
    Prompt("responds_to", "People I respond to",
           "Who do I listen to and trust when I am unwell?"),
    Prompt("does_not_respond_to", "People I do not respond to",
           "Who or what makes things worse when I am unwell?"),
    Prompt("has_helped", "What has helped before", "Things that have worked for me."),
    Prompt("has_not_helped", "What has not helped before",
           "Things that did not work, or made things worse."),
    Prompt("who_to_contact", "Who to contact, and how",
           "Names, phone numbers, and when to call each of them."),
    Prompt("practical", "Practical arrangements",
           "Children, pets, my home, bills, work — who will look after what."),
    Prompt("advance_statement", "My advance statement",
           "Treatments I would prefer, and treatments I refuse, if I cannot say so at the "
           "time."),
)

CARE_PLAN_SECTIONS = (
    Section("recovery_meaning", "What recovery means to me",
            "In my own words: what a good life looks like for me.", own_words=True,
            prompts=(Prompt("recovery_meaning", "What recovery means to me",
                            "In my own words: what a good life looks like for me."),),
            open_ended=False),
    Section("hopes", "My hopes and aspirations",
            "What I want to do, be or have — big and small.", own_words=True,
            prompts=(Prompt("hopes", "My hopes and aspirations",
                            "What I want to do, be or have — big and small."),),
            open_ended=False),
    Section("goals", "My goals", "Goals we agree together, with a target date.",
            item_type=ItemType.GOAL),
    Section("needs_support", "Needs, and who does what",
            "What I need, and what each of us — me, my carers, my care coordinator, "
            "services — will do."),
    Section("crisis", "Crisis and contingency plan",
            "What to do if I become unwell, in my words and specific to me.",
            prompts=CRISIS_PROMPTS, must_be_complete=True, open_ended=False),
    Section("risk", "Risk and positive risk-taking",
            "Risks we know about, and the positive risks I want to take with support."),
    Section("carer_involvement", "Carer involvement",
            "How the people who support me are involved, and what they need."),
    Section("planned_end", "Planning the end of care coordination",
            "What needs to be in place for care coordination to end well."),
)

WRAP_SECTIONS = (
    Section("wellness_toolbox", "My wellness toolbox",
            "Things I can do to stay well or feel better."),
    Section("daily_maintenance", "Daily maintenance plan",
            "What I am like when I am well, and what I do every day to stay well."),
    Section("triggers", "Triggers and action plan",
            "Things that might upset me, and what I will do if they happen."),
    Section("early_warning_signs", "Early warning signs and action plan",
            "Signs that I am starting to feel worse, and what I will do."),
    Section("breaking_down", "When things are breaking down",
            "Signs that things are getting much worse, and what I will do."),
    Section("wrap_crisis", "My crisis plan",
            "For my supporters, if I cannot take care of myself.",
            prompts=(
                Prompt("supporters", "My supporters", "Who I want to help, and how to reach "
                       "them."),
                Prompt("medication", "Medication", "What I take, and what I want to avoid."),
                Prompt("treatments", "Treatments", "Treatments I want, and ones I do not."),
                Prompt("helps", "What helps", "What others can do that helps."),
                Prompt("does_not_help", "What does not help", "What others should not do."),
            )),
    Section("post_crisis", "Post-crisis plan",
            "How I will know the crisis is over, and how I will look after myself after it."),
)

RESPONSIBILITY_SECTIONS = (
    Section("responsibilities", "Responsibilities we have agreed",
            "Each responsibility, who holds it, the positive risk it supports, and the "
            "safety net.", item_type=ItemType.RESPONSIBILITY),
)

SECTIONS: dict[str, tuple[Section, ...]] = {
    PlanKind.CARE_PLAN: CARE_PLAN_SECTIONS,
    PlanKind.WRAP: WRAP_SECTIONS,
    PlanKind.RESPONSIBILITY_AGREEMENT: RESPONSIBILITY_SECTIONS,
}


def sections_for(kind: str) -> tuple[Section, ...]:
    return SECTIONS[kind]


def section(kind: str, code: str) -> Section:
    for candidate in SECTIONS[kind]:
        if candidate.code == code:
            return candidate
    raise KeyError(f"{kind} has no section {code!r}")


def section_order(kind: str, code: str) -> tuple[int, int]:
    """Where a section comes when pages show a person's plans together: plans in
    `PlanKind`'s order, then sections in their plan's order (not the codes' alphabet)."""
    kinds = list(PlanKind)
    codes = [candidate.code for candidate in SECTIONS[kind]]
    return kinds.index(PlanKind(kind)), codes.index(code)


def section_choices() -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for sections in SECTIONS.values():
        for s in sections:
            seen.setdefault(s.code, s.title)
    return list(seen.items())


# --- How far a section has got (the contents list's tags) ------------------------------


@dataclass(frozen=True)
class Part:
    """What a section's state needs to know of one item (or one entry of a version)."""

    prompt: str  # the fixed question it answers, "" for an item someone added
    written: bool  # a question answered; an added item always counts as written
    agreed: bool | None = None  # a goal: agreed by both sides; None when not known


class State(models.TextChoices):
    COMPLETE = "complete", "Complete"
    INCOMPLETE = "incomplete", "Incomplete"
    NOT_STARTED = "not_started", "Not started"
    NEEDS_SIGNATURE = "needs_signature", "Needs your signature"


STATE_TAGS = {  # NHS.UK tag colours; the words say the same, never the colour alone
    State.COMPLETE: "nhsuk-tag--green",
    State.INCOMPLETE: "nhsuk-tag--yellow",
    State.NOT_STARTED: "nhsuk-tag--grey",
    State.NEEDS_SIGNATURE: "nhsuk-tag--blue",
}


@dataclass(frozen=True)
class SectionState:
    state: str
    detail: str = ""  # what is missing, in words: "3 of 8 questions answered"

    @property
    def label(self) -> str:
        return State(self.state).label

    @property
    def tag_class(self) -> str:
        return STATE_TAGS[State(self.state)]


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def section_state(plan_section: Section, parts: list[Part]) -> SectionState:
    """How far a section has got, from the parts the reader sees of it (the caller gives
    every part, or asks this only of a reader who sees the whole section).

    A section with fixed questions is complete when every question is answered; one with
    none answered (and nothing added) is not started; in between, incomplete. A section
    people add to is complete once something is written in it — except goals, which are
    mutually agreed: a goal not yet agreed by both sides leaves the section incomplete.
    """
    prompts = [part for part in parts if part.prompt]
    answered = [part for part in prompts if part.written]
    added = [part for part in parts if not part.prompt and part.written]
    if not answered and not added:
        return SectionState(State.NOT_STARTED)  # the tag says it all
    if len(answered) < len(prompts):
        return SectionState(State.INCOMPLETE, f"{len(answered)} of "
                            f"{_count(len(prompts), 'question', 'questions')} answered")
    if plan_section.item_type == ItemType.GOAL:
        waiting = [part for part in added if part.agreed is False]
        if waiting:
            return SectionState(State.INCOMPLETE,
                                f"{_count(len(waiting), 'goal', 'goals')} not agreed yet")
    return SectionState(State.COMPLETE)


RECOVERY_DOMAINS = (
    ("connectedness", "Connectedness"),
    ("hope", "Hope and optimism"),
    ("identity", "Identity"),
    ("meaning", "Meaning and purpose"),
    ("empowerment", "Empowerment"),
)

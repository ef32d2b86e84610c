"""The one table of plain words for the access audit trail (ADR 0020).

Every access event keeps a short code for what was done (`action`, e.g. `plan_detail.view`)
and the words of why the policy allowed it (`basis`). People never see the codes: the
managers' reports, the access-events CSV and PDF, and the service user's "Who has looked at
your record" all say what happened through this module, so the words cannot drift apart
between surfaces. A pure module: no database, no Django models, safe to import anywhere.

`tests/carecoord/test_audit_wording.py` reads the code base for every action and basis it
writes and fails on any without words here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ActionWords:
    """How to say one kind of event.

    `done`: for staff, a sentence on its own ("Read a plan").
    `to_you`: for the service user, after the person's name ("read your plan").
    `many`: for the service user, several of these in a day, with `{n}` for how many
    ("looked at {n} of your shared items"); without it, "{to_you} {n} times".
    `done_many`: for staff, one page view that showed `{n}` of these ("Looked at {n}
    shared items"); without it, "{done} ({n} things at once)".
    """

    done: str
    to_you: str
    many: str = ""
    done_many: str = ""

    def for_staff(self, count: int = 1) -> str:
        """`done`, or for one page view that showed `count` things, how many:
        `done_many` ("Looked at 25 shared items"), else "Read a plan (3 things at once)"."""
        if count <= 1:
            return self.done
        if self.done_many:
            return self.done_many.format(n=count)
        return f"{self.done} ({count} things at once)"

    def for_service_user(self, count: int = 1) -> str:
        if count <= 1:
            return self.to_you
        if self.many:
            return self.many.format(n=count)
        return f"{self.to_you} {count} times"


def _view(done: str, to_you: str, many: str = "", done_many: str = "") -> ActionWords:
    return ActionWords(done=done, to_you=to_you, many=many, done_many=done_many)


# Reads: every surface that opens someone's record writes `<surface>.view`
# (carecoord/records/selectors.py `audit_read`).
_VIEWS: dict[str, ActionWords] = {
    "service_user_record.view": _view("Opened the record", "opened your record"),
    "service_user_edit.view": _view("Opened the record to change personal details",
                                    "opened your personal details to change them"),
    "episode_edit.view": _view("Opened the episode of care to change it",
                               "opened your episode of care to change it"),
    "carer_add.view": _view("Opened the record to add a carer",
                            "opened your record to add a carer"),
    "consent.view": _view("Read who can see the plans", "read who can see your plans"),
    "consent_carer.view": _view("Read what is shared with a carer",
                                "read what you share with a carer"),
    "consent_preview.view": _view("Previewed what a carer can see",
                                  "looked at what a carer can see"),
    "consent_review_involvement.view": _view(
        "Read which carers are involved in reviews",
        "read which carers are involved in your reviews"),
    "first_meeting.view": _view("Opened the first meeting", "opened your first meeting"),
    "plan_start.view": _view("Opened the record to start a plan",
                             "opened your record to start a plan"),
    "plan_detail.view": _view("Read a plan", "read your plan"),
    "plan_print.view": _view("Printed a plan", "printed your plan"),
    "item_add.view": _view("Opened a plan to add to it", "opened your plan to add to it"),
    "item_edit.view": _view("Opened part of a plan to change it",
                            "opened part of your plan to change it",
                            "opened {n} parts of your plans to change them"),
    "item_remove.view": _view("Opened part of a plan to remove it",
                              "opened part of your plan to remove it",
                              "opened {n} parts of your plans to remove them"),
    "item_history.view": _view("Read the history of part of a plan",
                               "read the history of part of your plan",
                               "read the history of {n} parts of your plans"),
    "goal_agree.view": _view("Opened a goal to agree it", "opened your goal to agree it"),
    "progress_add.view": _view("Opened a goal to add progress",
                               "opened your goal to add progress"),
    "review_add.view": _view("Opened a plan to record a review",
                             "opened your plan to record a review"),
    "suggestion_add.view": _view("Opened a plan to suggest something",
                                 "opened your plan to suggest something"),
    "version_detail.view": _view("Read a signed version of a plan",
                                 "read a signed version of your plan"),
    "version_diff.view": _view("Compared two versions of a plan",
                               "compared two versions of your plan"),
    "version_pdf.view": _view("Downloaded a plan as a PDF",
                              "downloaded your plan as a PDF"),
    "version_propose.view": _view("Opened a plan to ask for signatures",
                                  "opened your plan to ask for signatures"),
    "signposting_create.view": _view("Opened the record to suggest support",
                                     "opened your record to suggest support"),
    "signposting_edit.view": _view("Opened a suggestion of support to change it",
                                   "opened a suggestion of support to change it"),
    "carer_item.view": _view("Looked at a shared item", "looked at a shared item",
                             "looked at {n} shared items", "Looked at {n} shared items"),
    "carer_review_views.view": _view("Read what a carer said for a review",
                                     "read what a carer said for your review"),
    "carer_insight.view": _view("Read what a carer shared about what helps",
                                "read what a carer shared about what helps you"),
    "carer_space.view": _view("Looked at a carer's own space",
                              "looked at a carer's own space"),
    # Through the API (an app or a connected system, with a personal API token).
    "api.service_user.view": _view("Read the record through the API",
                                   "read your record using a connected app"),
    "api.episodes.view": _view("Read the episodes of care through the API",
                               "read your episodes of care using a connected app"),
    "api.allocations.view": _view("Read who coordinates care through the API",
                                  "read who coordinates your care using a connected app"),
    "api.carers.view": _view("Read the list of carers through the API",
                             "read the list of your carers using a connected app"),
    "api.access_events.view": _view("Read who has looked at the record through the API",
                                    "read who has looked at your record using a connected app"),
    "api.episode.view": _view("Read an episode of care through the API",
                              "read your episode of care using a connected app"),
    "api.allocation.view": _view("Read who coordinates care through the API",
                                 "read who coordinates your care using a connected app"),
    "api.care_team.view": _view("Read the care team through the API",
                                "read your care team using a connected app"),
    "api.carer_relationship.view": _view("Read a carer's details through the API",
                                         "read a carer's details using a connected app"),
    "api.plans.view": _view("Read the list of plans through the API",
                            "read the list of your plans using a connected app"),
    "api.plan.view": _view("Read a plan through the API",
                           "read your plan using a connected app"),
    "api.plan_item.view": _view("Read part of a plan through the API",
                                "read part of your plan using a connected app",
                                "read {n} parts of your plans using a connected app"),
    "api.plan_version.view": _view("Read a signed version of a plan through the API",
                                   "read a signed version of your plan using a connected app"),
    "api.fhir.view": _view("Copied the record to another system (FHIR)",
                           "copied your record to another NHS system"),
}


def _did(done: str, to_you: str) -> ActionWords:
    return ActionWords(done=done, to_you=to_you)


# Changes and other events.
_CHANGES: dict[str, ActionWords] = {
    # Written by whoever allocated; the coordinator given access is named in the basis.
    "record_access.grant": _did("Gave a care coordinator access to the record",
                                "gave a care coordinator access to your record"),
    "service_user.create": _did("Created the record", "created your record"),
    "service_user.update": _did("Changed personal details", "changed your personal details"),
    "service_user.email_change": _did("Changed the email address",
                                      "changed your email address"),
    "service_user.possible_duplicate": _did(
        "Noted that another record has the same NHS number",
        "noted that another record has your NHS number"),
    "service_user.possible_duplicate_resolve": _did(
        "Checked a record that had the same NHS number",
        "checked a record that had your NHS number"),
    "episode.start": _did("Started an episode of care", "started your episode of care"),
    "episode.update": _did("Changed the episode of care", "changed your episode of care"),
    "episode.discharge": _did("Ended care coordination (discharge)",
                              "ended your care coordination"),
    "allocation.create": _did("Allocated a care coordinator",
                              "allocated you a care coordinator"),
    "allocation.end": _did("Ended a care coordinator's allocation",
                           "ended a care coordinator's allocation to you"),
    "invitation.create": _did("Sent an invitation to sign in",
                              "sent you an invitation to sign in"),
    "invitation.accept": _did("Took up an invitation to sign in",
                              "took up an invitation to sign in"),
    "care_team.add": _did("Added someone to the care team", "added someone to your care team"),
    "care_team.end": _did("Took someone off the care team",
                          "took someone off your care team"),
    "break_glass.open": _did("Used emergency access to the crisis plan",
                             "used emergency access to your crisis plan"),
    "carer.add": _did("Added a carer", "added a carer"),
    "carer.offer": _did("Offered to link a carer", "offered to link a carer"),
    "carer.offer_accept": _did("Accepted being linked as a carer",
                               "accepted being linked as your carer"),
    "carer.offer_decline": _did("Declined being linked as a carer",
                                "declined being linked as your carer"),
    "carer.end": _did("Ended a carer's link", "ended a carer's link"),
    "carer_assessment.offer": _did("Offered a carer's assessment",
                                   "offered a carer's assessment"),
    "carer_assessment.complete": _did("Marked a carer's assessment as done",
                                      "marked a carer's assessment as done"),
    "consent.share": _did("Shared part of a plan with a carer",
                          "shared part of your plan with a carer"),
    "consent.withdraw": _did("Stopped sharing part of a plan with a carer",
                             "stopped sharing part of your plan with a carer"),
    "consent.section_share": _did("Shared a section of a plan with a carer",
                                  "shared a section of your plan with a carer"),
    "consent.section_withdraw": _did("Stopped sharing a section of a plan with a carer",
                                     "stopped sharing a section of your plan with a carer"),
    "consent.follow_section": _did("Shared a new item, as the section is shared",
                                   "shared a new item, as the section is shared"),
    "consent.review_involve": _did("Involved a carer in reviews",
                                   "involved a carer in your reviews"),
    "consent.review_withdraw": _did("Stopped involving a carer in reviews",
                                    "stopped involving a carer in your reviews"),
    "plan.create": _did("Started a plan", "started a plan for you"),
    "plan_item.create": _did("Added to a plan", "added to your plan"),
    "plan_item.update": _did("Changed part of a plan", "changed part of your plan"),
    "plan_item.remove": _did("Removed part of a plan", "removed part of your plan"),
    "goal.agree": _did("Agreed a goal", "agreed your goal"),
    "goal.progress": _did("Added progress on a goal", "added progress on your goal"),
    "plan_version.propose": _did("Asked for signatures on a plan",
                                 "asked for signatures on your plan"),
    "plan_version.sign": _did("Signed a plan", "signed your plan"),
    "plan_version.decline": _did("Chose not to sign a plan", "chose not to sign your plan"),
    "review.record": _did("Recorded a review", "recorded your review"),
    "review.carer_views": _did("Wrote a carer's views for a review",
                               "wrote a carer's views for your review"),
    "review.listened_answer": _did("Answered whether they felt listened to",
                                   "answered whether they felt listened to"),
    "suggestion.create": _did("Suggested something for a plan",
                              "suggested something for your plan"),
    "suggestion.accept": _did("Accepted a suggestion", "accepted a suggestion"),
    "suggestion.dismiss": _did("Set aside a suggestion", "set aside a suggestion"),
    "first_meeting.step_save": _did("Saved a step of the first meeting",
                                    "saved a step of your first meeting"),
    "first_meeting.finish": _did("Finished the first meeting",
                                 "finished your first meeting"),
    "signposting.record": _did("Suggested support", "suggested support for you"),
    "signposting.update": _did("Changed a suggestion of support",
                               "changed a suggestion of support"),
    # Events about accounts, teams and reports (no service user's record).
    "role.grant": _did("Gave someone a role", "gave someone a role"),
    "role.revoke": _did("Took a role away", "took a role away"),
    "team.manager_add": _did("Added a team manager", "added a team manager"),
    "team.manager_remove": _did("Removed a team manager", "removed a team manager"),
    "team.coordinator_add": _did("Added a care coordinator to the team",
                                 "added a care coordinator to the team"),
    "team.coordinator_remove": _did("Removed a care coordinator from the team",
                                    "removed a care coordinator from the team"),
    "team.settings": _did("Changed the team's settings", "changed the team's settings"),
    # The administration area (carecoord/administration, ADR 0022).
    "team.create": _did("Created a team", "created a team"),
    "team.rename": _did("Renamed a team", "renamed a team"),
    "staff.invite": _did("Invited a member of staff", "invited a member of staff"),
    "staff.invitation_resend": _did("Sent a member of staff a new invitation link",
                                    "sent a member of staff a new invitation link"),
    "staff.invitation_accept": _did("Took up their staff invitation",
                                    "took up their staff invitation"),
    "staff.disable": _did("Disabled a staff account", "disabled a staff account"),
    "staff.enable": _did("Enabled a staff account again", "enabled a staff account again"),
    "user.account_change": _did("Changed an account", "changed an account"),
    "user.password_reset_link": _did("Sent a link to set a new password",
                                     "sent a link to set a new password"),
    "twofa.set_up": _did("Set up two-step sign-in", "set up two-step sign-in"),
    "twofa.recovery_codes_regenerated": _did("Made new recovery codes",
                                             "made new recovery codes"),
    "twofa.removed": _did("Turned off two-step sign-in", "turned off two-step sign-in"),
    "api.token.create": _did("Made an API token", "made an API token"),
    "api.token.revoke": _did("Cancelled an API token", "cancelled an API token"),
    "api.token.use": _did("Used an API token", "used an API token"),
    "export.download": _did("Downloaded an exported file", "downloaded an exported file"),
    "report.view": _did("Read a team report", "read a team report"),
    "report.csv": _did("Downloaded a team report (CSV)", "downloaded a team report"),
    "report.pdf": _did("Downloaded a team report (PDF)", "downloaded a team report"),
    # The trail itself (archive_audit_month, ADR 0027).
    "audit.archive": _did("Archived a month of the audit trail",
                          "archived a month of the audit trail"),
}

ACTIONS: dict[str, ActionWords] = {**_VIEWS, **_CHANGES}


def action_words(code: str) -> ActionWords:
    """The words for an action code. A code written before its words existed still reads
    as something a person understands, never as the bare code."""
    words = ACTIONS.get(code)
    if words is not None:
        return words
    subject = code.rsplit(".", 1)[0].replace("api.", "").replace("_", " ").replace(".", " ")
    if code.endswith(".view"):
        return ActionWords(done=f"Looked at the {subject}", to_you=f"looked at your {subject}")
    return ActionWords(done=f"Changed the {subject}", to_you=f"changed your {subject}")


def action_done(code: str, count: int = 1) -> str:
    """For staff, reports and exports: "Read a plan"; for one page view that showed
    `count` things, how many ("Looked at 25 shared items")."""
    return action_words(code).for_staff(count)


# --- Why they could ---------------------------------------------------------------------

# The bases are words already (the policy's `Basis`, the carers' `CarerSpaceBasis`, and a
# few written by services); here each becomes a sentence someone outside the service
# would understand. `for staff`, and `for the service user` (who is "you").


@dataclass(frozen=True)
class BasisWords:
    staff: str
    to_you: str


BASES: dict[str, BasisWords] = {
    # consent.policy.Basis
    "own record": BasisWords("It is their own record", "It is your own record"),
    "allocated care coordinator": BasisWords("They are the allocated care coordinator",
                                             "They are your care coordinator"),
    "team manager: caseload details only": BasisWords(
        "They manage the team (caseload details only)",
        "They manage the team (they see only basic details)"),
    "carer relationship: existence only": BasisWords(
        "They are a carer (they can see only that the record exists)",
        "They are your carer (they can see only that you have a record)"),
    "shared with them by the service user": BasisWords(
        "Shared with them by {name}", "You shared it with them"),
    "care team member: the parts their care-team role allows": BasisWords(
        "They are on the care team (the parts their role allows)",
        "They are on your care team (they see only the parts their role needs)"),
    "emergency access (break-glass): crisis plan and advance statement": BasisWords(
        "Emergency access to the crisis plan and advance statement",
        "Emergency access to your crisis plan and advance statement"),
    # carers.models.CarerSpaceBasis
    "their own carer's space": BasisWords("It is their own carer's space",
                                          "It is their own carer's space"),
    "care coordinator of someone they care for": BasisWords(
        "They coordinate care for someone the carer cares for",
        "They coordinate your care"),
    "care coordinator of someone they care for; shared by the carer": BasisWords(
        "The carer shared it with them", "Your carer shared it with them"),
    "a carer's insight about them": BasisWords("A carer shared it about them",
                                               "Your carer shared it about you"),
    # consent.models.DecidedAs (the basis of a consent change)
    "The service user decided": BasisWords("The service user decided", "You decided"),
    "A professional recorded it on their behalf": BasisWords(
        "A professional recorded it on their behalf",
        "A professional recorded it for you"),
    # Written by services.
    "care coordinator in the team": BasisWords("They are a care coordinator in the team",
                                               "They are a care coordinator in your team"),
    "team manager": BasisWords("They manage the team", "They manage the team"),
    "administrator": BasisWords("They are an administrator", "They are an administrator"),
    "NHS number held by another record": BasisWords(
        "Another record has the same NHS number", "Another record has your NHS number"),
    "invitation link": BasisWords("They used their invitation link",
                                  "They used their invitation link"),
    "the carer": BasisWords("The carer chose to", "The carer chose to"),
    "self": BasisWords("Their own account", "Their own account"),
    "requested it": BasisWords("They asked for the file", "They asked for the file"),
    "allocation change": BasisWords("Allocations were changed",
                                    "Allocations were changed"),
    "record reader": BasisWords("They can read the whole record",
                                "They can read your whole record"),
    "plan editor": BasisWords("They can change the plan", "They can change your plan"),
    "carer named as holding a responsibility": BasisWords(
        "The carer holds a responsibility in the agreement",
        "Your carer holds a responsibility in your agreement"),
    # The party of a signature or a goal's agreement (plans.models.RequiredSigner.Role).
    "carer involved in reviews": BasisWords("The carer is involved in reviews",
                                            "Your carer is involved in your reviews"),
    "service_user": BasisWords("As the service user", "As you"),
    "coordinator": BasisWords("As care coordinator", "As your care coordinator"),
    "care coordinator": BasisWords("As care coordinator", "As your care coordinator"),
    "carer": BasisWords("As a carer", "As your carer"),
    "service": BasisWords("For the service", "For the service"),
    "older than the months kept online": BasisWords(
        "The month is older than the months kept online",
        "The month is older than the months kept online"),
    # One page view that showed several things, each for its own reason (audit services).
    "several (see each item)": BasisWords("Each thing for its own reason",
                                          "Each thing for its own reason"),
}

# A read made with a personal API token adds "; via <token name>" to its basis
# (carecoord/audit/services.py); account events name the person as "user:<id> <name>".
_VIA_TOKEN = re.compile(r"^(?P<basis>.*?); via (?P<token>.+)$", re.DOTALL)
_USER_PREFIX = re.compile(r"^user:\d+ ")
_GIVEN_ACCESS = re.compile(r"^(?P<name>.+) given access as care coordinator$")


def basis_words(basis: str, *, to_service_user: bool = False,
                service_user_name: str = "") -> str:
    """Why the policy allowed it, as a sentence. For staff, `service_user_name` (the name
    the person chose) says whose decision it was: "Shared with them by Alex"."""
    basis = basis or ""
    token = None
    match = _VIA_TOKEN.match(basis)
    if match:
        basis, token = match["basis"], match["token"]
    words = BASES.get(basis)
    if words is not None:
        text = words.to_you if to_service_user else words.staff
        text = text.replace("{name}", service_user_name or "the service user")
    elif (given := _GIVEN_ACCESS.match(basis)) is not None:
        text = (f"{given['name']} was made your care coordinator" if to_service_user
                else f"{given['name']} was made care coordinator")
    else:
        # Free words: a professional's reason for a consent decision, a token's name.
        text = _USER_PREFIX.sub("", basis).strip()
        text = text[:1].upper() + text[1:] if text else "Not recorded"
    if token:
        text = f"{text}, using the app or API token “{token}”"
    return text

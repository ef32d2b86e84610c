"""Writes for plans: items and their history, goals, versions and signatures, reviews
and WRAP suggestions. Each service is one transaction with its audit inside; callers
have already asked the access policy whether the person may do this."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from carecoord.audit.request_context import current_ip_address
from carecoord.audit.services import access_event_record
from carecoord.notifications.services import notification_send
from carecoord.records import services as record_services
from carecoord.records.auth import PasswordLockedOutError, password_confirm
from carecoord.records.models import Episode, ServiceUser, User
from carecoord.web import date_bounds, text_limits
from carers.models import Carer, CarerRelationship
from plans import first_meeting, signals
from plans.models import (
    CARER_VIEWS_MAX_LENGTH,
    CarerReviewViews,
    FirstMeeting,
    GoalAgreement,
    ItemChange,
    Plan,
    PlanItem,
    PlanVersion,
    ProgressUpdate,
    RequiredSigner,
    Responsibility,
    Review,
    Signature,
    Suggestion,
    content_hash,
)
from plans.sections import ItemType, PlanKind, section, sections_for


class ItemConflictError(Exception):
    """The item changed since this person opened it."""

    def __init__(self, current: PlanItem) -> None:
        super().__init__("stale revision")
        self.current = current


class PlanActionError(Exception):
    """A plan action that cannot be done now, with a message people can read."""


class InvalidDetailsError(PlanActionError):
    """An item's structured parts that do not fit its type (bad input, not a conflict)."""


class WrongPasswordError(PlanActionError):
    """The password given to confirm a signature is not the signer's."""


class SigningLockedOutError(WrongPasswordError):
    """Too many wrong passwords (signing or signing in): the account is locked for now."""


def _audit(actor: User, plan: Plan, action: str, target: str, basis: str) -> None:
    access_event_record(actor=actor, service_user=plan.service_user, action=action,
                        target=target, basis=basis)


def _touch(plan: Plan) -> None:
    Plan.objects.filter(pk=plan.pk).update(content_revision=F("content_revision") + 1)


# Row locks below are FOR NO KEY UPDATE of the row itself: writing an access event takes
# a key-share lock on the service user it names, and a plain FOR UPDATE on that row (or
# on joined rows) would deadlock with a concurrent reader's audit write.


# --- Plans and items ------------------------------------------------------------------


@transaction.atomic
def plan_create(*, service_user: ServiceUser, kind: str, created_by: User) -> Plan:
    """A new plan with an empty item for each fixed question of its sections: a care plan
    opens with "What recovery means to me" and "My hopes and aspirations"."""
    first_review = (
        timezone.localdate() + dt.timedelta(weeks=settings.CARE_PLAN_FIRST_REVIEW_WEEKS)
        if kind == PlanKind.CARE_PLAN else None
    )
    plan, created = Plan.objects.get_or_create(
        service_user=service_user, kind=kind,
        defaults={"created_by": created_by, "next_review_on": first_review},
    )
    if not created:
        return plan
    written_by = (
        PlanItem.WrittenBy.SERVICE_USER
        if service_user.user_id == created_by.pk
        else PlanItem.WrittenBy.RECORDED_IN_MEETING
    )
    position = 0
    for plan_section in sections_for(kind):
        for prompt in plan_section.prompts:
            PlanItem.objects.create(
                plan=plan, section=plan_section.code, prompt=prompt.code,
                item_type=plan_section.item_type, title=prompt.title, position=position,
                written_by=written_by, author=created_by,
            )
            position += 1
    _audit(created_by, plan, "plan.create", f"plan:{plan.pk}", "record reader")
    if plan.next_review_on is not None:
        signals.review_scheduled.send(sender=Plan, plan=plan)
    return plan


def _written_by(plan: Plan, author: User, recorded_in_meeting: bool,
                said_by_service_user: bool = False) -> str:
    if plan.service_user.user_id == author.pk:
        return PlanItem.WrittenBy.SERVICE_USER
    if said_by_service_user:
        return PlanItem.WrittenBy.SAID_BY_SERVICE_USER
    if recorded_in_meeting:
        return PlanItem.WrittenBy.RECORDED_IN_MEETING
    return PlanItem.WrittenBy.COORDINATOR


# The structured parts each kind of item may have. Anything else is refused: a key that
# means nothing on one type (say `holder` on a crisis-plan answer) must not be stored
# for some other code to misread one day.
DETAIL_KEYS: dict[str, frozenset[str]] = {
    ItemType.TEXT: frozenset(),
    ItemType.GOAL: frozenset({"domain", "target_on"}),
    ItemType.RESPONSIBILITY: frozenset({
        "holder", "holder_relationship", "holder_service", "positive_risk", "safety_net",
        "support", "review_on",
    }),
}
HOLDER_KEYS = ("holder", "holder_relationship", "holder_service")


def _clean_details(item_type: str, details: dict | None, *,
                   saved: dict | None = None) -> dict:
    """`saved`: the item's details as they are now (an edit), so that a goal's target
    date that has passed since it was set can be kept while the rest changes."""
    details = dict(details or {})
    unknown = sorted(set(details) - DETAIL_KEYS[item_type])
    if unknown:
        kind = ItemType(item_type).label.lower()
        raise InvalidDetailsError(f"A {kind} has no {', '.join(unknown)}.")
    for key, value in list(details.items()):
        if value is None or value == "":
            details.pop(key)
        elif key in DATE_KEYS:
            details[key] = _clean_detail_date(value).isoformat()
        elif key in TEXT_KEYS:
            if not isinstance(value, str):
                raise InvalidDetailsError(f"{key} must be text.")
            if len(value) > text_limits.DETAIL:
                raise InvalidDetailsError(
                    f"{key} must be {text_limits.DETAIL} characters or fewer.")
    target = details.get("target_on")
    if (target is not None and target < timezone.localdate().isoformat()
            and target != (saved or {}).get("target_on")):
        raise InvalidDetailsError(TARGET_DATE_IN_PAST)
    return details


# A goal's target is ahead of us (a review date is, too: `review_record`).
TARGET_DATE_IN_PAST = "Target date must be today or in the future."
# Free text among the structured parts, bounded like the page's boxes.
TEXT_KEYS = frozenset({"positive_risk", "safety_net", "support"})


# Dates among the structured parts: stored as ISO text, always a real date in range.
DATE_KEYS = frozenset({"target_on", "review_on"})


def _clean_detail_date(value: object) -> dt.date:
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise InvalidDetailsError("Enter a real date, for example 2026-03-27.") from None
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise InvalidDetailsError("Enter a real date, for example 2026-03-27.")
    problem = date_bounds.future_date_problem(value)
    if problem is not None:
        raise InvalidDetailsError(problem)
    return value


def _split_holder(item: PlanItem, details: dict) -> tuple[dict, Responsibility | None]:
    """Take who holds a responsibility out of `details` into an (unsaved) Responsibility
    for `item`; None when no holder is given. A carer holder must be one of this service
    user's active carers."""
    holder = details.pop("holder", None)
    relationship_id = details.pop("holder_relationship", None)
    service = (details.pop("holder_service", None) or "").strip()
    if holder is None:
        return details, None
    if holder not in Responsibility.Holder.values:
        raise InvalidDetailsError("Say who holds this responsibility.")
    responsibility = getattr(item, "responsibility", None) or Responsibility(item=item)
    responsibility.holder = holder
    responsibility.holder_relationship = None
    responsibility.holder_service = ""
    if holder == Responsibility.Holder.CARER:
        relationship = (
            CarerRelationship.objects.active()
            .filter(pk=relationship_id, service_user_id=item.plan.service_user_id).first()
            if isinstance(relationship_id, int) and not isinstance(relationship_id, bool)
            else None
        )
        if relationship is None:
            raise InvalidDetailsError("Choose which of this person's carers holds it.")
        responsibility.holder_relationship = relationship
    elif holder == Responsibility.Holder.SERVICE:
        if not service:
            raise InvalidDetailsError("Enter the name of the service.")
        responsibility.holder_service = service[:200]
    return details, responsibility


@transaction.atomic
def item_create(
    *,
    plan: Plan,
    section_code: str,
    author: User,
    title: str,
    body: str = "",
    details: dict | None = None,
    recorded_in_meeting: bool = False,
    said_by_service_user: bool = False,
    own_words: bool = False,
    prompt: str = "",
) -> PlanItem:
    """A free item in a section. `said_by_service_user`: the words are the service
    user's, written down by the coordinator; `own_words`: the service user may change it
    wherever it sits (a first meeting's answers)."""
    plan_section = section(plan.kind, section_code)
    if not plan_section.open_ended:
        raise PlanActionError("This section has fixed questions; answer those instead.")
    last = plan.items.filter(section=section_code).order_by("-position").first()
    item = PlanItem(
        plan=plan, section=section_code, prompt=prompt, item_type=plan_section.item_type,
        title=title,
        body=body, position=(last.position + 1) if last else 0,
        written_by=_written_by(plan, author, recorded_in_meeting, said_by_service_user),
        author=author, own_words=own_words,
    )
    item.details, responsibility = _split_holder(
        item, _clean_details(plan_section.item_type, details))
    item.save()
    if responsibility is not None:
        responsibility.item = item
        responsibility.save()
    ItemChange.objects.create(item=item, changed_by=author, revision=1, action="created",
                              before=None, after=item.snapshot())
    signals.item_added.send(sender=PlanItem, item=item)  # consent: section rules
    _touch(plan)
    _audit(author, plan, "plan_item.create", f"plan_item:{item.pk}", "plan editor")
    return item


@transaction.atomic
def item_update(
    *,
    item: PlanItem,
    changed_by: User,
    expected_revision: int,
    title: str | None = None,
    body: str,
    details: dict | None = None,
    recorded_in_meeting: bool = False,
    said_by_service_user: bool = False,
) -> PlanItem:
    """Save only over the revision the editor saw; otherwise raise ItemConflictError with
    what is saved now, so nothing is silently overwritten."""
    current = (
        PlanItem.objects.select_for_update(no_key=True, of=("self",))
        .select_related("plan__service_user")
    ).get(pk=item.pk)
    if current.removed_at is not None or current.revision != expected_revision:
        raise ItemConflictError(current)
    before = current.snapshot()
    if title is not None and not current.prompt:
        current.title = title
    current.body = body
    responsibility = None
    if details is not None:
        current.details, responsibility = _split_holder(
            current, _clean_details(current.item_type, details, saved=current.details))
        if responsibility is not None:
            current.responsibility = responsibility  # compared below before it is saved
    current.written_by = _written_by(current.plan, changed_by, recorded_in_meeting,
                                     said_by_service_user)
    current.author = changed_by
    if current.snapshot() | {"revision": 0, "written_by": ""} == before | {
        "revision": 0, "written_by": ""
    }:
        return current  # nothing changed: no new revision, no history noise
    current.revision += 1
    current.save()
    if responsibility is not None:
        responsibility.save()
    ItemChange.objects.create(item=current, changed_by=changed_by, revision=current.revision,
                              action="changed", before=before, after=current.snapshot())
    _touch(current.plan)
    _audit(changed_by, current.plan, "plan_item.update", f"plan_item:{current.pk}",
           "plan editor")
    return current


@transaction.atomic
def item_remove(*, item: PlanItem, removed_by: User, expected_revision: int) -> None:
    current = (
        PlanItem.objects.select_for_update(no_key=True, of=("self",))
        .select_related("plan__service_user")
    ).get(pk=item.pk)
    if current.removed_at is not None or current.revision != expected_revision:
        raise ItemConflictError(current)
    if current.prompt:
        raise PlanActionError("Fixed questions cannot be removed; you can leave them empty.")
    before = current.snapshot()
    current.removed_at = timezone.now()
    current.revision += 1
    current.save()
    ItemChange.objects.create(item=current, changed_by=removed_by, revision=current.revision,
                              action="removed", before=before, after=None)
    signals.item_removed.send(sender=PlanItem, item=current)  # consent: unshare it
    _touch(current.plan)
    _audit(removed_by, current.plan, "plan_item.remove", f"plan_item:{current.pk}",
           "plan editor")


# --- Goals ----------------------------------------------------------------------------


@transaction.atomic
def goal_agree(
    *, item: PlanItem, agreed_by: User, party: str, expected_revision: int | None = None
) -> GoalAgreement:
    """Agree to a goal's current words. With `expected_revision`, refuse if the goal has
    changed since the person read it: nobody agrees to words they have not seen."""
    item = (
        PlanItem.objects.select_for_update(no_key=True, of=("self",))
        .select_related("plan__service_user")
    ).get(pk=item.pk)
    if item.item_type != ItemType.GOAL:
        raise PlanActionError("Only goals are agreed this way.")
    if expected_revision is not None and expected_revision != item.revision:
        raise ItemConflictError(item)
    agreement, _ = GoalAgreement.objects.get_or_create(
        item=item, party=party, revision=item.revision, defaults={"agreed_by": agreed_by}
    )
    _audit(agreed_by, item.plan, "goal.agree", f"plan_item:{item.pk}", party)
    return agreement


def goal_is_agreed(item: PlanItem, agreements: list[GoalAgreement] | None = None) -> bool:
    """Both sides agreed to the goal's current words. `agreements`: the goal's, already
    read (else its prefetched or stored ones)."""
    if agreements is None:
        agreements = list(item.agreements.all())
    parties = {a.party for a in agreements if a.revision == item.revision}
    return {GoalAgreement.Party.SERVICE_USER, GoalAgreement.Party.COORDINATOR} <= parties


@transaction.atomic
def progress_record(
    *, item: PlanItem, recorded_by: User, recorded_on: dt.date, rating: int, note: str
) -> ProgressUpdate:
    if item.item_type != ItemType.GOAL:
        raise PlanActionError("Progress is recorded on goals.")
    update = ProgressUpdate(item=item, recorded_on=recorded_on, rating=rating, note=note,
                            recorded_by=recorded_by)
    update.full_clean()
    update.save()
    _audit(recorded_by, item.plan, "goal.progress", f"plan_item:{item.pk}", "plan editor")
    return update


# --- Versions and signatures ----------------------------------------------------------


def _current_snapshot(plan: Plan) -> list[dict]:
    return [
        item.snapshot()
        for item in plan.items.filter(removed_at__isnull=True)
        .select_related("responsibility").order_by("section", "position", "pk")
    ]


def _carers_holding_responsibilities(plan: Plan) -> set[int]:
    """The carers (still caring) who hold a responsibility on the plan as it is now."""
    return set(
        Responsibility.objects.filter(
            item__plan=plan, item__removed_at__isnull=True,
            holder=Responsibility.Holder.CARER, holder_relationship__ended_on__isnull=True,
        ).values_list("holder_relationship__carer_id", flat=True)
    )


@transaction.atomic
def version_propose(*, plan: Plan, proposed_by: User) -> PlanVersion:
    """Freeze the plan's items as an immutable version with its SHA-256 content hash."""
    plan = Plan.objects.select_for_update(no_key=True).get(pk=plan.pk)
    latest = plan.versions.order_by("-number").first()
    if latest is not None and latest.plan_revision == plan.content_revision:
        raise PlanActionError(
            f"Nothing has changed since version {latest.number}, so there is nothing new "
            "to sign."
        )
    snapshot = _current_snapshot(plan)
    # Fixed questions exist from the start; a plan counts as written once one is answered
    # or a free item (a goal, a responsibility) is added.
    if not any(entry["body"].strip() or not entry["prompt"] for entry in snapshot):
        raise PlanActionError("The plan is empty. Write something before asking for "
                              "signatures.")
    version = PlanVersion.objects.create(
        plan=plan, number=(latest.number + 1) if latest else 1, snapshot=snapshot,
        content_hash=content_hash(snapshot), plan_revision=plan.content_revision,
        proposed_by=proposed_by,
    )
    RequiredSigner.objects.create(version=version, role=RequiredSigner.Role.SERVICE_USER)
    # A WRAP belongs to the service user: their signature alone agrees it.
    if plan.kind != PlanKind.WRAP:
        RequiredSigner.objects.create(version=version, role=RequiredSigner.Role.COORDINATOR)
    if plan.kind == PlanKind.RESPONSIBILITY_AGREEMENT:
        for carer_id in sorted(_carers_holding_responsibilities(plan)):
            RequiredSigner.objects.create(version=version, role=RequiredSigner.Role.CARER,
                                          carer_id=carer_id)
    _audit(proposed_by, plan, "plan_version.propose", f"plan_version:{version.pk}",
           "plan editor")
    _notify_signature_needed(version, proposed_by)
    return version


# How plans are named in notifications ("your care plan", "Alex's WRAP").
PLAN_WORDS = {
    PlanKind.CARE_PLAN: "care plan",
    PlanKind.WRAP: "WRAP",
    PlanKind.RESPONSIBILITY_AGREEMENT: "responsibility agreement",
}


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") and not name.endswith("ss") else f"{name}'s"


def _notify_signature_needed(version: PlanVersion, proposed_by: User) -> None:
    """Everyone who must sign, except whoever proposed it: the service user, the carers
    named on a responsibility agreement, and (when the service user proposed it) their
    allocated care coordinators. Each is told what to sign and given the link; the
    emails say neither (notification_send)."""
    plan = version.plan
    service_user = plan.service_user
    words = PLAN_WORDS.get(plan.kind, "plan")
    link = {"url_name": "version_detail", "url_args": [version.pk]}
    roles = set(version.required_signers.values_list("role", flat=True))
    if (RequiredSigner.Role.SERVICE_USER in roles and service_user.user_id
            and service_user.user_id != proposed_by.pk):
        notification_send(user=service_user.user,
                          text=f"Your {words} (version {version.number}) is ready for you "
                               "to sign, or to say why not.", **link)
    for carer_user in User.objects.filter(
        carer_record__in=version.required_signers.filter(
            role=RequiredSigner.Role.CARER).values("carer_id"),
        is_active=True,
    ).exclude(pk=proposed_by.pk):
        notification_send(user=carer_user,
                          text=f"{_possessive(service_user.name)} {words} (version "
                               f"{version.number}) names you: it is ready for you to sign.",
                          **link)
    if RequiredSigner.Role.COORDINATOR in roles and service_user.user_id == proposed_by.pk:
        for coordinator in User.objects.coordinating(service_user).exclude(pk=proposed_by.pk):
            notification_send(user=coordinator,
                              text=f"{service_user.name} proposed version {version.number} "
                                   f"of their {words}: it is ready for you to sign.", **link)


def _notify_declined(version: PlanVersion, signature: Signature) -> None:
    """A decline tells the allocated care coordinators (and the service user, when it
    was not theirs) that the plan needs to change, and where to read why. The reasons
    stay on the version's page, for the record's readers only."""
    plan = version.plan
    service_user = plan.service_user
    words = PLAN_WORDS.get(plan.kind, "plan")
    decliner = (service_user.name if signature.role == RequiredSigner.Role.SERVICE_USER
                else signature.signer.display_name)
    link = {"url_name": "version_detail", "url_args": [version.pk]}
    for coordinator in User.objects.coordinating(service_user).exclude(pk=signature.signer_id):
        notification_send(user=coordinator,
                          text=f"{decliner} declined to sign version {version.number} of "
                               f"{_possessive(service_user.name)} {words}. Read why, in "
                               "their words.", **link)
    if service_user.user_id and service_user.user_id != signature.signer_id:
        notification_send(user=service_user.user,
                          text=f"{decliner} declined to sign version {version.number} of "
                               f"your {words}. Read why.", **link)


def version_is_latest(version: PlanVersion) -> bool:
    return not version.plan.versions.filter(number__gt=version.number).exists()


def version_sign(
    *, version: PlanVersion, signer: User, role: str, password: str,
    request: HttpRequest | None = None,
) -> Signature:
    """Sign a version, confirmed with the signer's password; binds to its content hash.

    The password is checked the way sign-in checks it (`password_confirm`: django-axes
    counts each wrong one and locks the account after the same number of failures), and
    before the signing transaction, so a failure is counted even though nothing is signed.
    """
    try:
        confirmed = password_confirm(user=signer, password=password, request=request)
    except PasswordLockedOutError as error:
        raise SigningLockedOutError(str(error)) from error
    if not confirmed:
        raise WrongPasswordError("The password is not right. Enter the password you use to "
                                 "sign in.")
    return _version_sign(version=version, signer=signer, role=role)


@transaction.atomic
def _version_sign(*, version: PlanVersion, signer: User, role: str) -> Signature:
    version = (
        PlanVersion.objects.select_for_update(no_key=True, of=("self",))
        .select_related("plan")
    ).get(pk=version.pk)
    _check_open_for_signing(version, signer)
    signature = Signature.objects.create(
        version=version, signer=signer, role=role, decision=Signature.Decision.SIGNED,
        content_hash=version.content_hash, ip_address=current_ip_address.get(),
    )
    if _all_signed(version):
        version.agreed_at = timezone.now()
        version.save()
    _audit(signer, version.plan, "plan_version.sign", f"plan_version:{version.pk}", role)
    return signature


@transaction.atomic
def version_decline(*, version: PlanVersion, signer: User, role: str, reason: str) -> Signature:
    version = (
        PlanVersion.objects.select_for_update(no_key=True, of=("self",))
        .select_related("plan")
    ).get(pk=version.pk)
    if not reason.strip():
        raise PlanActionError("Say why, in your own words.")
    _check_open_for_signing(version, signer)
    signature = Signature.objects.create(
        version=version, signer=signer, role=role, decision=Signature.Decision.DECLINED,
        reason=reason.strip(), content_hash=version.content_hash,
        ip_address=current_ip_address.get(),
    )
    _audit(signer, version.plan, "plan_version.decline", f"plan_version:{version.pk}", role)
    _notify_declined(version, signature)
    return signature


def _check_open_for_signing(version: PlanVersion, signer: User) -> None:
    if version.agreed_at is not None:
        raise PlanActionError("This version is already agreed.")
    if not version_is_latest(version):
        raise PlanActionError("A newer version has been proposed; sign that one instead.")
    if version.signatures.filter(signer=signer).exists():
        raise PlanActionError("You have already answered for this version.")
    if version.signatures.filter(decision=Signature.Decision.DECLINED).exists():
        # A decline says the plan needs to change: it is agreed by signing a new version,
        # never by collecting the other signatures around the "no".
        raise PlanActionError("Someone has declined to sign this version. It needs to be "
                              "changed and proposed again.")


def version_open_for_answers(version: PlanVersion) -> bool:
    """Whether a version still takes signatures and declines: the latest, not agreed,
    and nobody has declined it (the same states `_check_open_for_signing` refuses)."""
    return (
        version.agreed_at is None
        and version_is_latest(version)
        and not version.signatures.filter(decision=Signature.Decision.DECLINED).exists()
    )


def _all_signed(version: PlanVersion) -> bool:
    signed = list(version.signatures.filter(decision=Signature.Decision.SIGNED)
                  .select_related("signer__carer_record"))
    signed_carers = {
        s.signer.carer_record.pk
        for s in signed
        if s.role == RequiredSigner.Role.CARER and hasattr(s.signer, "carer_record")
    }
    for required in version.required_signers.all():
        if required.role == RequiredSigner.Role.CARER:
            if required.carer_id not in signed_carers:
                return False
        elif not any(s.role == required.role for s in signed):
            return False
    return True


def version_status(version: PlanVersion, *, latest_number: int | None = None,
                   signatures: list[Signature] | None = None) -> str:
    """agreed / declined / replaced / awaiting, in that order of precedence.
    `signatures`: the version's answers, already read (else its prefetched or stored
    ones)."""
    if version.agreed_at is not None:
        return "agreed"
    if signatures is None:
        signatures = list(version.signatures.all())
    if any(s.decision == Signature.Decision.DECLINED for s in signatures):
        return "declined"
    if latest_number is not None and version.number < latest_number:
        return "replaced"
    return "awaiting"


# --- The end of care coordination -----------------------------------------------------

# The episode's planned end, discharge plan and who to contact afterwards, as items of the
# care plan's "planned end" section: shareable with a carer item by item (or by a section
# rule) like any other, on every surface. Keyed by these prompt codes, kept in step by
# the episode services (carecoord.records.signals.episode_changed -> plans.receivers).
DISCHARGE_ITEMS = (
    ("planned_end_date", "When care coordination is planned to end"),
    ("discharge_plan", "Discharge plan"),
    ("after_discharge_contacts", "Who to contact after care coordination ends"),
)


def _discharge_bodies(episode: Episode) -> dict[str, str]:
    return {
        "planned_end_date": f"Care coordination is planned to end on "
                            f"{episode.planned_end_on:%-d %B %Y}.",
        "discharge_plan": episode.discharge_plan.strip(),
        "after_discharge_contacts": episode.after_discharge_contacts.strip(),
    }


@transaction.atomic
def plan_discharge_items_sync(*, episode: Episode, changed_by: User) -> list[PlanItem]:
    """Make the care plan's discharge items say what the episode says: created when there
    is something to say, changed (with history) when it changes. Items keep their ids, so
    what a carer was shared stays shared as the words change; sharing is the consent
    services' business, as for any item. No care plan yet: nothing; a new care plan opens
    with only its empty questions, and gets these at the episode's next change."""
    plan = Plan.objects.filter(service_user_id=episode.service_user_id,
                               kind=PlanKind.CARE_PLAN).first()
    if plan is None:
        return []
    current = {item.prompt: item for item in plan.items.filter(
        prompt__in=[code for code, _ in DISCHARGE_ITEMS], removed_at__isnull=True)}
    bodies = _discharge_bodies(episode)
    synced = []
    for code, title in DISCHARGE_ITEMS:
        body, item = bodies[code], current.get(code)
        if item is None and body:
            item = item_create(plan=plan, section_code="planned_end", author=changed_by,
                               title=title, body=body, prompt=code)
        elif item is not None and item.body != body:
            item = item_update(item=item, changed_by=changed_by,
                               expected_revision=item.revision, body=body)
        if item is not None:
            synced.append(item)
    return synced


# --- Reviews --------------------------------------------------------------------------


@transaction.atomic
def review_record(
    *,
    plan: Plan,
    recorded_by: User,
    held_on: dt.date,
    attendees: str,
    what_changed: str,
    next_review_on: dt.date,
    carers_attended=(),
) -> Review:
    if plan.kind != PlanKind.CARE_PLAN:
        raise PlanActionError("Reviews are recorded on care plans.")
    date_bounds.check_dates(held_on=date_bounds.past_date_problem(held_on),
                            next_review_on=date_bounds.future_date_problem(next_review_on))
    if next_review_on <= held_on:
        raise ValidationError({"next_review_on": "The next review must be after this one."})
    review = Review.objects.create(plan=plan, held_on=held_on, attendees=attendees,
                                   what_changed=what_changed, next_review_on=next_review_on,
                                   recorded_by=recorded_by)
    review.carers_attended.set(carers_attended)
    # The views carers gave for this review: the review names whose it received.
    due_on = Plan.objects.filter(pk=plan.pk).values_list("next_review_on", flat=True).first()
    CarerReviewViews.objects.filter(plan=plan, review_due_on=due_on,
                                    review__isnull=True).update(review=review)
    Plan.objects.filter(pk=plan.pk).update(next_review_on=next_review_on)
    plan.next_review_on = next_review_on
    _audit(recorded_by, plan, "review.record", f"review:{review.pk}", "allocated care coordinator")
    signals.review_scheduled.send(sender=Plan, plan=plan)
    return review


@transaction.atomic
def carer_review_views_save(*, plan: Plan, carer: Carer, views: str,
                            written_by: User) -> CarerReviewViews:
    """A carer's views, in their own words, for the plan's upcoming review: written or
    changed until the review is recorded. The caller has asked the policy that this carer
    is involved (consent.policy.review_views_for_carer). The coordinators are told, in
    a grouped notification that names the service user but quotes nothing."""
    views = views.strip()
    if not views:
        raise ValidationError({"views": "Write your views, or leave this page."})
    if len(views) > CARER_VIEWS_MAX_LENGTH:
        raise ValidationError({"views": f"Your views must be {CARER_VIEWS_MAX_LENGTH} "
                                        "characters or fewer."})
    plan = Plan.objects.select_related("service_user").get(pk=plan.pk)
    saved, created = CarerReviewViews.objects.update_or_create(
        plan=plan, review_due_on=plan.next_review_on, carer=carer,
        defaults={"views": views})
    _audit(written_by, plan, "review.carer_views", f"carer_review_views:{saved.pk}",
           "carer involved in reviews")
    if created:
        name = plan.service_user.name
        for coordinator in User.objects.coordinating(plan.service_user):
            notification_send(
                user=coordinator,
                text=f"A carer has given their views for {_possessive(name)} review.",
                text_for_count=f"{{count}} carers have given their views for "
                               f"{_possessive(name)} review.",
                group=f"carer_views:{plan.pk}", url_name="plan_detail", url_args=[plan.pk])
    return saved


@transaction.atomic
def review_listened_answer(*, review: Review, answered_by: User, score: int,
                           comment: str) -> Review:
    """The service user's own answer to "Did you feel listened to?"."""
    review = Review.objects.select_for_update(no_key=True).get(pk=review.pk)
    review.listened_score = score
    review.listened_comment = comment
    review.listened_answered_at = timezone.now()
    review.full_clean()
    review.save()
    _audit(answered_by, review.plan, "review.listened_answer", f"review:{review.pk}",
           "own record")
    return review


# --- WRAP suggestions -----------------------------------------------------------------


@transaction.atomic
def suggestion_create(*, plan: Plan, section_code: str, text: str, suggested_by: User,
                      item: PlanItem | None = None) -> Suggestion:
    section(plan.kind, section_code)  # raises for a section the plan does not have
    suggestion = Suggestion.objects.create(plan=plan, section=section_code, item=item,
                                           text=text, suggested_by=suggested_by)
    _audit(suggested_by, plan, "suggestion.create", f"suggestion:{suggestion.pk}",
           "allocated care coordinator")
    return suggestion


@transaction.atomic
def suggestion_answer(*, suggestion: Suggestion, answered_by: User, accept: bool) -> Suggestion:
    """Accepting adds the suggestion as a new item in the service user's name: the WRAP
    still only changes by its owner's choice."""
    suggestion = (
        Suggestion.objects.select_for_update(no_key=True, of=("self",))
        .select_related("plan")
    ).get(pk=suggestion.pk)
    if suggestion.status != Suggestion.Status.OPEN:
        raise PlanActionError("This suggestion has already been answered.")
    suggestion.status = Suggestion.Status.ACCEPTED if accept else Suggestion.Status.DISMISSED
    suggestion.answered_at = timezone.now()
    suggestion.save()
    if accept:
        plan_section = section(suggestion.plan.kind, suggestion.section)
        if plan_section.open_ended:
            item = item_create(plan=suggestion.plan, section_code=suggestion.section,
                               author=answered_by, title=suggestion.text[:80],
                               body=suggestion.text)
        else:
            target = suggestion.item or suggestion.plan.items.filter(
                section=suggestion.section, removed_at__isnull=True).first()
            item = item_update(item=target, changed_by=answered_by,
                               expected_revision=target.revision,
                               body=(target.body + "\n\n" + suggestion.text).strip())
        PlanItem.objects.filter(pk=item.pk).update(
            written_by=PlanItem.WrittenBy.SUGGESTION_ACCEPTED
        )
    _audit(answered_by, suggestion.plan,
           "suggestion.accept" if accept else "suggestion.dismiss",
           f"suggestion:{suggestion.pk}", "own record")
    return suggestion


def signed_versions_verify() -> tuple[int, list[str]]:
    """Re-hash every version that has a signature; report each whose snapshot no longer
    matches its hash, or whose signatures were made over a different hash."""
    mismatches = []
    checked = 0
    versions = (
        PlanVersion.objects.filter(signatures__isnull=False)
        .distinct()
        .select_related("plan__service_user")
        .prefetch_related("signatures")
        .order_by("pk")
    )
    for version in versions.iterator(chunk_size=500):
        checked += 1
        label = f"version {version.number} of plan {version.plan_id} (id {version.pk})"
        if version.recompute_hash() != version.content_hash:
            mismatches.append(f"{label}: its content no longer matches its hash")
        for signature in version.signatures.all():
            if signature.content_hash != version.content_hash:
                mismatches.append(f"{label}: {signature.get_decision_display().lower()} by "
                                  f"user {signature.signer_id} over a different hash")
    return checked, mismatches


# --- The first meeting (plans.first_meeting, ADR 0017) -------------------------------


class FirstMeetingError(PlanActionError):
    """The first meeting cannot be saved to the care plan now."""


@transaction.atomic
def first_meeting_step_save(*, episode: Episode, saved_by: User, step_code: str,
                            answer: str) -> FirstMeeting:
    """Save one step's answer to the episode's draft (started by the first save). The
    caller has asked the policy: `saved_by` is allocated to this open episode."""
    first_meeting.step(step_code)  # raises KeyError for a step that does not exist
    meeting, _ = FirstMeeting.objects.select_for_update(no_key=True).get_or_create(
        episode=episode, defaults={"started_by": saved_by})
    if meeting.is_finished:
        raise FirstMeetingError("This first meeting has already been saved to the care plan.")
    meeting.answers = {**meeting.answers, step_code: answer}
    meeting.save()
    access_event_record(actor=saved_by, service_user=episode.service_user,
                        action="first_meeting.step_save",
                        target=f"first_meeting:{meeting.pk}:{step_code}",
                        basis="allocated care coordinator")
    return meeting


@transaction.atomic
def first_meeting_finish(*, episode: Episode, finished_by: User) -> FirstMeeting:
    """Write the draft's answers to the care plan, in one transaction: the opening
    sections as items in the service user's own words (said by them, recorded by the
    coordinator; theirs to change afterwards), and the planned end on the episode."""
    meeting = (FirstMeeting.objects.select_for_update(no_key=True)
               .filter(episode=episode).first())
    if meeting is None or not first_meeting.steps_done(meeting.answers):
        raise FirstMeetingError("Answer at least one question before saving to the care "
                                "plan.")
    if meeting.is_finished:
        raise FirstMeetingError("This first meeting has already been saved to the care plan.")
    service_user = episode.service_user
    plan = plan_create(service_user=service_user, kind=PlanKind.CARE_PLAN,
                       created_by=finished_by)
    answers = meeting.answers
    for meeting_step in first_meeting.STEPS:
        answer = str(answers.get(meeting_step.code) or "").strip()
        if not answer:
            continue
        if meeting_step.kind == first_meeting.DATE:
            planned_end_on = dt.date.fromisoformat(answer)
            # The episode's change keeps the care plan's "planned end" item in step
            # (plan_discharge_items_sync, through the episode_changed signal): one item
            # says when coordination ends, whoever changed it last.
            record_services.episode_update(
                episode=episode, changed_by=finished_by, planned_end_on=planned_end_on,
                discharged_on=None, discharge_plan=episode.discharge_plan)
        elif meeting_step.prompt:
            item = plan.items.get(prompt=meeting_step.prompt)
            item = item_update(item=item, changed_by=finished_by,
                               expected_revision=item.revision, body=answer,
                               said_by_service_user=True)
            PlanItem.objects.filter(pk=item.pk).update(own_words=True)
        else:
            item_create(plan=plan, section_code=meeting_step.section, author=finished_by,
                        title=meeting_step.item_title, body=answer,
                        said_by_service_user=True, own_words=True)
    meeting.finished_at = timezone.now()
    meeting.finished_by = finished_by
    meeting.plan = plan
    meeting.save()
    access_event_record(actor=finished_by, service_user=service_user,
                        action="first_meeting.finish", target=f"first_meeting:{meeting.pk}",
                        basis="allocated care coordinator")
    return meeting

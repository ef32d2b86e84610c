"""Scale data: one English mental-health trust's worth of care coordination, for the
benchmark (`make bench`, benchmarks/run.py, ADR 0023).

`generate(scale=TRUST)` makes, in bulk inserts, rows that are what the app's own services
would have made: staff with their roles and teams, service users with an open episode and
an allocated coordinator, carers with accounts and accepted relationships, care plans,
WRAPs and responsibility agreements with their items and item history, a first version of
each plan signed by the people who must sign it (hashed with `plans.models.content_hash`,
so `verify_plan_signatures` passes), consent decisions with their current rows and the
grants written by the consent services' own set-wise sync (so `check_consent_permissions`
passes), carers involved in reviews, and a year of access events hash-chained by the audit
service (so `verify_audit_chain` passes).

Every date comes from one `today`. Names, words and choices come from one seeded random
generator, so the same seed makes the same trust. Every account has the published
`SCALE_PASSWORD`: the command refuses to run in a deployment.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from carecoord.audit.partitions import audit_partitions_ensure
from carecoord.audit.services import access_events_append_history
from carecoord.records.models import (
    STAFF_ROLES,
    Allocation,
    Episode,
    Role,
    ServiceUser,
    Team,
    User,
    UserRole,
)
from carecoord.twofa.services import DEMO_TOTP_KEY
from carers.models import Carer, CarerRelationship
from consent.models import (
    ConsentDecision,
    DecidedAs,
    ItemConsent,
    ReviewInvolvementDecision,
    SectionRule,
)
from consent.services import consent_sync_carer_for
from plans.models import (
    ItemChange,
    Plan,
    PlanItem,
    PlanVersion,
    RequiredSigner,
    Responsibility,
    Signature,
    content_hash,
)
from plans.sections import ItemType, PlanKind, sections_for

SCALE_PASSWORD = "scale-data-not-for-production"  # published on purpose: see the command
TEAM_PREFIX = "Scale team"
BATCH = 5000


@dataclass(frozen=True)
class Scale:
    teams: int
    service_users_per_team: int
    coordinators_per_team: int
    carers_per_service_user: int
    access_events: int
    # Free items per section of a care plan, WRAP and responsibility agreement (fixed
    # questions come on top): about 83 items a person at trust scale.
    care_plan_items: dict[str, int] = field(default_factory=lambda: {
        "goals": 8, "needs_support": 14, "risk": 8, "carer_involvement": 6,
        "planned_end": 4})
    wrap_items: int = 3  # per open-ended WRAP section
    responsibilities: int = 8
    # Every `long_plan_every`-th person's care plan has this many items in all (the care
    # plan page is measured at 80 items).
    long_plan_items: int = 80
    long_plan_every: int = 50
    shared_items_per_carer: int = 25

    @property
    def service_users(self) -> int:
        return self.teams * self.service_users_per_team


# About 6,000 people on CPA, caseloads of 30, two carers each: issue 15.
TRUST = Scale(teams=20, service_users_per_team=300, coordinators_per_team=10,
              carers_per_service_user=2, access_events=2_000_000)
# The same shape, small enough for a test.
SMALL = Scale(teams=2, service_users_per_team=30, coordinators_per_team=1,
              carers_per_service_user=2, access_events=20_000, long_plan_every=10)
# Between the two, for developing the benchmark.
MEDIUM = Scale(teams=4, service_users_per_team=300, coordinators_per_team=10,
               carers_per_service_user=2, access_events=200_000)
SCALES = {"trust": TRUST, "medium": MEDIUM, "small": SMALL}

FIRST = ["Alex", "Sam", "Jo", "Priya", "Mohammed", "Aisha", "Tom", "Grace", "Oliver",
         "Amelia", "Jack", "Isla", "Harry", "Ava", "Noah", "Mia", "Leo", "Zara", "Kofi",
         "Siobhan", "Dylan", "Megan", "Rhys", "Ffion", "Callum", "Eilidh", "Ravi", "Mei"]
LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
        "Patel", "Khan", "Robinson", "Wright", "Thompson", "Evans", "Walker", "Ahmed",
        "Roberts", "Green", "Hall", "Wood", "Hughes", "Clarke", "Okafor", "Nowak"]
RELATIONSHIPS = ["Mum", "Dad", "partner", "sister", "brother", "friend", "daughter", "son",
                 "neighbour", "aunt"]
PHRASES = [
    "Getting out for a walk every morning, even a short one.",
    "Being back at the allotment with my brother at weekends.",
    "Sleeping badly for more than three nights in a row.",
    "Talking to Sam at the peer support group on Thursdays.",
    "Knowing who to ring when things start to slip.",
    "Cooking a proper meal at least four times a week.",
    "Not being rushed when I explain how I am feeling.",
    "Going back to college part time in September.",
    "Keeping on top of bills with help from the money advice service.",
    "Music, my dog, and the bus into town on a good day.",
    "Stopping answering the phone and staying in bed.",
    "Being listened to, not talked over, when I am unwell.",
    "Taking my medication at the same time each evening.",
    "Someone I trust checking in if I have not replied for two days.",
]
DOMAINS = ["home", "work", "relationships", "health", "money", "learning", "leisure"]
SERVICES = ["Crisis team", "Recovery college", "Money advice service", "GP surgery"]


def scale_data_present() -> bool:
    """Whether scale data has been made here already (its first team exists)."""
    return Team.objects.filter(name=f"{TEAM_PREFIX} 01").exists()


def _nhs_number(rng: random.Random) -> str:
    weights = (10, 9, 8, 7, 6, 5, 4, 3, 2)
    while True:
        digits = [rng.randrange(10) for _ in range(9)]
        check = 11 - sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            return "".join(map(str, digits)) + str(check)


def _bulk(model: type, rows: list) -> list:
    return model.objects.bulk_create(rows, batch_size=BATCH)


class _Generator:
    def __init__(self, scale: Scale, seed: int, today: dt.date,
                 say: Callable[[str], None]) -> None:
        self.scale, self.today, self.say = scale, today, say
        self.rng = random.Random(seed)  # noqa: S311 (made-up data, repeatable by seed)
        self.password = make_password(SCALE_PASSWORD)
        self.now = timezone.now()
        self.counter = 0

    def name(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"

    def users(self, role: str, count: int, label: str) -> list[User]:
        start = self.counter
        self.counter += count
        users = _bulk(User, [
            User(email=f"{label}{start + n:06d}@scale.example.test", full_name=self.name(),
                 password=self.password)
            for n in range(count)])
        _bulk(UserRole, [UserRole(user=user, role=role) for user in users])
        if role in STAFF_ROLES:
            # Staff sign in with a second factor: the demo's published authenticator key,
            # which is accepted only while DEBUG or DEMO is on (the load test, scripts/load.sh).
            _bulk(TOTPDevice, [TOTPDevice(user=user, name="Demo authenticator",
                                          key=DEMO_TOTP_KEY, confirmed=True)
                               for user in users])
        return users

    def days_ago(self, low: int, high: int) -> dt.date:
        return self.today - dt.timedelta(days=self.rng.randint(low, high))

    # --- people ----------------------------------------------------------------------

    def people(self) -> None:
        scale, rng = self.scale, self.rng
        self.teams = _bulk(Team, [Team(name=f"{TEAM_PREFIX} {n + 1:02d}")
                                  for n in range(scale.teams)])
        managers = self.users(Role.MANAGER, scale.teams, "manager")
        coordinators = self.users(Role.COORDINATOR, scale.teams * scale.coordinators_per_team,
                                  "coordinator")
        self.coordinators_by_team = {}
        for n, team in enumerate(self.teams):
            team.managers.add(managers[n])
            mine = coordinators[n * scale.coordinators_per_team:
                                (n + 1) * scale.coordinators_per_team]
            team.coordinators.add(*mine)
            self.coordinators_by_team[team.pk] = mine
        self.managers = managers
        accounts = self.users(Role.SERVICE_USER, scale.service_users, "person")
        service_users = []
        for n, account in enumerate(accounts):
            team = self.teams[n // scale.service_users_per_team]
            service_users.append(ServiceUser(
                user=account, team=team, full_name=account.full_name,
                preferred_name=account.full_name.split()[0] if rng.random() < 0.3 else "",
                date_of_birth=self.today - dt.timedelta(days=rng.randint(18 * 365, 80 * 365)),
                nhs_number=_nhs_number(rng), email=account.email,
                phone=f"07700 9{rng.randrange(100000):05d}"))
        self.service_users = _bulk(ServiceUser, service_users)
        episodes = _bulk(Episode, [
            Episode(service_user=su, started_on=(start := self.days_ago(30, 900)),
                    planned_end_on=start + dt.timedelta(days=rng.randint(180, 730)))
            for su in self.service_users])
        # Caseloads of service_users_per_team / coordinators_per_team, round the team.
        self.coordinator_of = {}
        allocations = []
        for n, (su, episode) in enumerate(zip(self.service_users, episodes, strict=True)):
            team_coordinators = self.coordinators_by_team[su.team_id]
            coordinator = team_coordinators[n % len(team_coordinators)]
            self.coordinator_of[su.pk] = coordinator
            allocations.append(Allocation(episode=episode, coordinator=coordinator,
                                          started_on=episode.started_on))
        _bulk(Allocation, allocations)
        self.say(f"  {len(self.service_users):,} service users in {len(self.teams)} teams")

    def carers(self) -> None:
        scale = self.scale
        count = scale.service_users * scale.carers_per_service_user
        accounts = self.users(Role.CARER, count, "carer")
        carers = _bulk(Carer, [Carer(user=user, full_name=user.full_name, email=user.email)
                               for user in accounts])
        relationships = []
        for n, carer in enumerate(carers):
            su = self.service_users[n // scale.carers_per_service_user]
            started = self.days_ago(10, 700)
            relationships.append(CarerRelationship(
                carer=carer, service_user=su, relationship=self.rng.choice(RELATIONSHIPS),
                started_on=started, added_by=self.coordinator_of[su.pk],
                status=CarerRelationship.Status.ACTIVE, responded_at=self.now))
        self.relationships = _bulk(CarerRelationship, relationships)
        self.say(f"  {len(carers):,} carers")

    # --- plans ---------------------------------------------------------------------------

    def _item(self, plan: Plan, section: str, item_type: str, position: int, *,
              prompt: str = "", title: str = "", author: User) -> PlanItem:
        rng = self.rng
        details = {}
        if item_type == ItemType.GOAL:
            details = {"domain": rng.choice(DOMAINS),
                       "target_on": (self.today + dt.timedelta(days=rng.randint(30, 300))
                                     ).isoformat()}
        elif item_type == ItemType.RESPONSIBILITY:
            details = {"positive_risk": rng.choice(PHRASES), "safety_net": rng.choice(PHRASES),
                       "support": rng.choice(PHRASES)}
        body = " ".join(rng.sample(PHRASES, rng.randint(1, 3)))
        return PlanItem(plan=plan, section=section, prompt=prompt, item_type=item_type,
                        title=title or body[:60], body=body, details=details,
                        position=position, written_by=PlanItem.WrittenBy.RECORDED_IN_MEETING,
                        author=author, revision=2 if prompt else 1)

    def plans(self) -> None:
        scale, rng = self.scale, self.rng
        plans = []
        for su in self.service_users:
            coordinator = self.coordinator_of[su.pk]
            for kind in (PlanKind.CARE_PLAN, PlanKind.WRAP, PlanKind.RESPONSIBILITY_AGREEMENT):
                review = (self.today + dt.timedelta(days=rng.randint(-30, 180))
                          if kind == PlanKind.CARE_PLAN else None)
                plans.append(Plan(service_user=su, kind=kind, created_by=coordinator,
                                  next_review_on=review))
        plans = _bulk(Plan, plans)
        items: list[PlanItem] = []
        for n, plan in enumerate(plans):
            author = self.coordinator_of[plan.service_user_id]
            free = {PlanKind.CARE_PLAN: dict(scale.care_plan_items),
                    PlanKind.WRAP: {},
                    PlanKind.RESPONSIBILITY_AGREEMENT: {"responsibilities":
                                                        scale.responsibilities}}[plan.kind]
            if plan.kind == PlanKind.CARE_PLAN and (n // 3) % scale.long_plan_every == 0:
                fixed = sum(len(s.prompts) for s in sections_for(plan.kind))
                free["needs_support"] += scale.long_plan_items - fixed - sum(free.values())
            position = 0
            for section in sections_for(plan.kind):
                for prompt in section.prompts:
                    items.append(self._item(plan, section.code, section.item_type, position,
                                            prompt=prompt.code, title=prompt.title,
                                            author=author))
                    position += 1
                if section.open_ended:
                    how_many = free.get(section.code, scale.wrap_items
                                        if plan.kind == PlanKind.WRAP else 0)
                    for _ in range(how_many):
                        items.append(self._item(plan, section.code, section.item_type,
                                                position, author=author))
                        position += 1
        items = _bulk(PlanItem, items)
        responsibilities = []
        for item in items:
            if item.item_type == ItemType.RESPONSIBILITY:
                holder = rng.choice([Responsibility.Holder.SERVICE_USER,
                                     Responsibility.Holder.COORDINATOR,
                                     Responsibility.Holder.SERVICE])
                responsibilities.append(Responsibility(
                    item=item, holder=holder,
                    holder_service=rng.choice(SERVICES)
                    if holder == Responsibility.Holder.SERVICE else ""))
        _bulk(Responsibility, responsibilities)
        # The history item_create and item_update write: a fixed question is made empty
        # with its plan and answered later (revision 2); a free item is created (1).
        changes = []
        revisions: dict[int, int] = {}
        for item in items:
            after = item.snapshot()
            if item.prompt:
                before = {**after, "body": "", "revision": 1}
                changes.append(ItemChange(item=item, changed_by=item.author, revision=2,
                                          action=ItemChange.Action.CHANGED, before=before,
                                          after=after))
            else:
                changes.append(ItemChange(item=item, changed_by=item.author, revision=1,
                                          action=ItemChange.Action.CREATED, before=None,
                                          after=after))
            revisions[item.plan_id] = revisions.get(item.plan_id, 0) + 1
        _bulk(ItemChange, changes)
        for plan in plans:
            plan.content_revision = revisions.get(plan.pk, 0)
        Plan.objects.bulk_update(plans, ["content_revision"], batch_size=BATCH)
        self.plans_list = plans
        self.items_by_plan: dict[int, list[PlanItem]] = {}
        for item in items:
            self.items_by_plan.setdefault(item.plan_id, []).append(item)
        self.say(f"  {len(plans):,} plans, {len(items):,} items")

    def versions(self) -> None:
        """Version 1 of every plan, agreed: what version_propose freezes and the required
        signers sign, over the same content hash."""
        versions, signers, signatures = [], [], []
        for plan in self.plans_list:
            entries = sorted(self.items_by_plan[plan.pk],
                             key=lambda item: (item.section, item.position, item.pk))
            snapshot = [item.snapshot() for item in entries]
            coordinator = self.coordinator_of[plan.service_user_id]
            proposed = self.now - dt.timedelta(days=self.rng.randint(20, 300))
            versions.append(PlanVersion(
                plan=plan, number=1, snapshot=snapshot, content_hash=content_hash(snapshot),
                plan_revision=plan.content_revision, proposed_by=coordinator,
                agreed_at=proposed + dt.timedelta(days=2)))
        versions = _bulk(PlanVersion, versions)
        accounts = {su.pk: su.user for su in self.service_users}
        for plan, version in zip(self.plans_list, versions, strict=True):
            roles = [(RequiredSigner.Role.SERVICE_USER, accounts[plan.service_user_id])]
            if plan.kind != PlanKind.WRAP:
                roles.append((RequiredSigner.Role.COORDINATOR,
                              self.coordinator_of[plan.service_user_id]))
            for role, signer in roles:
                signers.append(RequiredSigner(version=version, role=role))
                signatures.append(Signature(version=version, signer=signer, role=role,
                                            decision=Signature.Decision.SIGNED,
                                            content_hash=version.content_hash))
        _bulk(RequiredSigner, signers)
        _bulk(Signature, signatures)
        self.say(f"  {len(versions):,} agreed versions, {len(signatures):,} signatures")

    # --- consent ------------------------------------------------------------------------

    def consent(self) -> None:
        """Each carer: about `shared_items_per_carer` items shared by the service user —
        the first carer through a section rule on the crisis plan and item decisions, the
        others through item decisions — then the grants by the consent services' own
        set-wise sync, one carer at a time."""
        scale, rng = self.scale, self.rng
        plans_by_su: dict[int, list[Plan]] = {}
        for plan in self.plans_list:
            plans_by_su.setdefault(plan.service_user_id, []).append(plan)
        accounts = {su.pk: su.user for su in self.service_users}
        decisions: list[ConsentDecision] = []
        rule_for: list[tuple[int, Plan, str]] = []  # (decision index, plan, section)
        item_for: list[tuple[int, PlanItem]] = []
        involvement = []
        for n, relationship in enumerate(self.relationships):
            su_id = relationship.service_user_id
            first = n % scale.carers_per_service_user == 0
            items = [item for plan in plans_by_su[su_id] if plan.kind != PlanKind.WRAP
                     or not first for item in self.items_by_plan[plan.pk]]
            wanted = scale.shared_items_per_carer
            if first:
                care_plan = next(p for p in plans_by_su[su_id] if p.kind == PlanKind.CARE_PLAN)
                crisis = [i for i in self.items_by_plan[care_plan.pk] if i.section == "crisis"]
                rule_for.append((len(decisions), care_plan, "crisis"))
                decisions.append(ConsentDecision(
                    service_user_id=su_id, carer_id=relationship.carer_id, plan=care_plan,
                    section="crisis", item=None, shared=True, decided_by=accounts[su_id],
                    decided_as=DecidedAs.SERVICE_USER))
                items = [i for i in items if i.section != "crisis"]
                wanted -= len(crisis)
                involvement.append(ReviewInvolvementDecision(
                    service_user_id=su_id, carer_id=relationship.carer_id, involved=True,
                    decided_by=accounts[su_id], decided_as=DecidedAs.SERVICE_USER))
            for item in rng.sample(items, min(wanted, len(items))):
                item_for.append((len(decisions), item))
                decisions.append(ConsentDecision(
                    service_user_id=su_id, carer_id=relationship.carer_id,
                    plan_id=item.plan_id, section=item.section, item=item, shared=True,
                    decided_by=accounts[su_id], decided_as=DecidedAs.SERVICE_USER))
        decisions = _bulk(ConsentDecision, decisions)
        _bulk(SectionRule, [SectionRule(carer_id=decisions[i].carer_id, plan=plan,
                                        section=section, decision=decisions[i])
                            for i, plan, section in rule_for])
        _bulk(ItemConsent, [ItemConsent(carer_id=decisions[i].carer_id, item=item,
                                        decision=decisions[i]) for i, item in item_for])
        _bulk(ReviewInvolvementDecision, involvement)
        self.say(f"  {len(decisions):,} consent decisions; granting...")
        for relationship in self.relationships:
            consent_sync_carer_for(carer=relationship.carer,
                                   service_user_ids=[relationship.service_user_id])

    # --- the audit trail ----------------------------------------------------------------

    def access_events(self) -> int:
        """A year of reads, oldest first: coordinators opening their people's plan items,
        carers opening what was shared with them."""
        rng, total = self.rng, self.scale.access_events
        su_ids = [su.pk for su in self.service_users]
        items_by_su: dict[int, list[int]] = {}
        for plan in self.plans_list:
            items_by_su.setdefault(plan.service_user_id, []).extend(
                item.pk for item in self.items_by_plan[plan.pk])
        carers_by_su: dict[int, list[int]] = {}
        for relationship in self.relationships:
            carers_by_su.setdefault(relationship.service_user_id, []).append(
                relationship.carer.user_id)
        coordinator_of = {pk: user.pk for pk, user in self.coordinator_of.items()}
        start = self.now - dt.timedelta(days=365)

        def events() -> Iterator[tuple]:
            per_day, extra = divmod(total, 365)
            for day in range(365):
                count = per_day + (1 if day < extra else 0)
                seconds = sorted(rng.random() * 86400 for _ in range(count))
                for second in seconds:
                    su_id = rng.choice(su_ids)
                    item_id = rng.choice(items_by_su[su_id])
                    when = start + dt.timedelta(days=day, seconds=second)
                    if rng.random() < 0.75:
                        yield (when, coordinator_of[su_id], su_id, "plan.view",
                               f"plan_item:{item_id}", "allocated care coordinator")
                    else:
                        yield (when, rng.choice(carers_by_su[su_id]), su_id,
                               "carer_item.view", f"plan_item:{item_id}", "shared with carer")

        # A trust that has run for a year has a partition for each of its months (the
        # daily task makes them ahead of time, ADR 0027): without them the year would
        # lie in the default partition, which no report prunes and no archive detaches.
        audit_partitions_ensure(today=start.astimezone(dt.UTC).date(), months_ahead=13)
        written = access_events_append_history(events=events())
        self.say(f"  {written:,} access events")
        return written


def generate(*, scale: Scale, seed: int = 15, today: dt.date | None = None,
             say: Callable[[str], None] = lambda _: None) -> None:
    """Make the scale data (see the module's docstring). Not idempotent by itself: the
    command asks `scale_data_present` first."""
    generator = _Generator(scale, seed, today or timezone.localdate(), say)
    steps = [("people", generator.people), ("carers", generator.carers),
             ("plans", generator.plans), ("versions", generator.versions),
             ("consent", generator.consent), ("access events", generator.access_events)]
    # One transaction: a run that fails leaves nothing half made, so "is it there?"
    # (`scale_data_present`) is always a whole answer.
    with transaction.atomic():
        for label, step in steps:
            started = timezone.now()
            step()
            _analyze()
            say(f"{label}: {(timezone.now() - started).total_seconds():.1f} s")


def _analyze() -> None:
    """Fresh planner statistics after each step. The tables were empty when the
    transaction began; without this, the consent services' queries in the next step are
    planned for empty tables (sequential scans of half a million items, per carer)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

"""Demo data for the "getting stuck" prompts: make sure some demo service users trigger
each rule (see carecoord/reporting/stuck.py), with the team's default thresholds. Safe to run
again: each step looks for what it made (or for the state it wants) first.

- Mei Chen: no goal progress for 100 days (Jo Bell's caseload).
- Daniel Reid: care plan review overdue; past his planned end (from the seed); his
  wife Christine Reid's last three check-ins, shared with the coordinator, are falling.
- Gareth Lowes: past his planned end (from the seed).
- Fatima Hussain: her responsibility agreement waiting for signatures for 40 days.
- Alexandra Morgan: her mum Linda Morgan asked for a carer's assessment 40 days ago.
So Sam Okafor has three people with prompts: the manager sees that on the team page.
"""

from __future__ import annotations

import datetime as dt
from itertools import pairwise

from django.db import connection
from django.utils import timezone

from carecoord.records.models import User
from carers.models import AssessmentRequest, Carer, CarerRelationship, WellbeingCheckIn
from plans import services as plan_services
from plans.models import Plan, ProgressUpdate
from plans.sections import ItemType, PlanKind

DAYS_AGO = 40
NO_PROGRESS_DAYS_AGO = 100
FALLING_CHECK_INS = [
    (6, "Tired, but we're managing. Dan's been out walking with me."),
    (4, "A hard week. I haven't been sleeping well."),
    (2, "I'm struggling to keep going, if I'm honest."),
]


def seed_stuck() -> None:
    today = timezone.localdate()
    _no_progress("Mei Chen", today)
    _review_overdue("Daniel Reid", today)
    _awaiting_signature("Fatima Hussain")
    _assessment_waiting("Linda Morgan", "Alexandra Morgan", today)
    _falling_check_ins("Christine Reid", "Daniel Reid")


def _no_progress(full_name: str, today: dt.date) -> None:
    """Move the person's goal progress back to 100 days ago (as if nothing had been
    recorded since)."""
    long_ago = today - dt.timedelta(days=NO_PROGRESS_DAYS_AGO)
    ProgressUpdate.objects.filter(
        item__plan__service_user__full_name=full_name, item__plan__kind=PlanKind.CARE_PLAN,
        item__item_type=ItemType.GOAL, recorded_on__gt=long_ago,
    ).update(recorded_on=long_ago)


def _review_overdue(full_name: str, today: dt.date) -> None:
    Plan.objects.filter(service_user__full_name=full_name, kind=PlanKind.CARE_PLAN).exclude(
        next_review_on__lt=today
    ).update(next_review_on=today - dt.timedelta(days=5))


def _awaiting_signature(full_name: str) -> None:
    plan = (
        Plan.objects.filter(service_user__full_name=full_name,
                            kind=PlanKind.RESPONSIBILITY_AGREEMENT)
        .select_related("service_user").first()
    )
    if plan is None:
        return
    version = plan.versions.prefetch_related("signatures").order_by("-number").first()
    if version is None or plan_services.version_status(version) != "awaiting":
        proposer = User.objects.coordinating(plan.service_user).order_by("pk").first()
        if proposer is None:
            return
        try:
            version = plan_services.version_propose(plan=plan, proposed_by=proposer)
        except plan_services.PlanActionError:
            return
    proposed = timezone.now() - dt.timedelta(days=DAYS_AGO)
    if version.proposed_at > proposed:
        # This simulates time passing: the version was proposed 40 days ago and nobody
        # has signed it since. A version's content is immutable and its queryset refuses
        # any update but agreed_at, so the proposal time is moved back in SQL, for the
        # demo only (proposed_at is not part of the signed content hash).
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE plans_planversion SET proposed_at = %s WHERE id = %s",
                [proposed, version.pk],
            )


def _relationship(carer_name: str, service_user_name: str) -> CarerRelationship | None:
    return CarerRelationship.objects.active().select_related("carer").filter(
        carer__full_name=carer_name, service_user__full_name=service_user_name
    ).first()


def _assessment_waiting(carer_name: str, service_user_name: str, today: dt.date) -> None:
    relationship = _relationship(carer_name, service_user_name)
    if relationship is None:
        return
    carer = relationship.carer
    long_ago = today - dt.timedelta(days=DAYS_AGO)
    open_requests = AssessmentRequest.objects.filter(
        carer=carer, completed_on__isnull=True
    ).exclude(status=AssessmentRequest.Status.COMPLETED)
    if open_requests.filter(requested_on__lte=long_ago).exists():
        return
    oldest = open_requests.order_by("requested_on", "pk").first()
    if oldest is None:
        request = AssessmentRequest.objects.create(
            carer=carer, requested_on=long_ago,
            note="Asked by phone: caring for Alex has been a lot since the spring.",
        )
        request.shared_with.add(relationship)
    else:
        # Simulates time passing: the carer asked 40 days ago.
        AssessmentRequest.objects.filter(pk=oldest.pk).update(requested_on=long_ago)


def _falling_check_ins(carer_name: str, service_user_name: str) -> None:
    """The carer's last three check-ins fall, and the carer shared each of them with
    the care coordinator (only then does the coordinator see a prompt)."""
    relationship = _relationship(carer_name, service_user_name)
    if relationship is None:
        return
    carer: Carer = relationship.carer
    latest = list(carer.check_ins.order_by("-created_at", "-pk")[: len(FALLING_CHECK_INS)])
    scores = [c.coping for c in reversed(latest)]
    shared_through = {c.pk for c in carer.check_ins.filter(shared_with=relationship)}
    if (len(latest) == len(FALLING_CHECK_INS) and all(c.pk in shared_through for c in latest)
            and all(a > b for a, b in pairwise(scores))):
        return
    now = timezone.now()
    newest = latest[0].created_at if latest else None
    start = now - dt.timedelta(days=14)
    if newest is not None and newest >= start:
        start = newest + (now - newest) / 4
    step = (now - start) / len(FALLING_CHECK_INS)
    for index, (coping, words) in enumerate(FALLING_CHECK_INS):
        check_in = WellbeingCheckIn.objects.create(
            carer=carer, coping=coping, words=words, created_at=start + step * index,
        )
        check_in.shared_with.add(relationship)

"""The demo data, in one place: people, plans, consent, peer support and the "getting
stuck" prompts, made by `seed_all` (run by `python manage.py seed_demo`). Idempotent: run
it again and nothing is made twice. It sits at the top of the layers: it uses every app's
services, and nothing imports it but the command."""

from __future__ import annotations

from carecoord.demo.care_team import seed_care_team
from carecoord.demo.consent import seed_consent
from carecoord.demo.peersupport import seed_peersupport
from carecoord.demo.people import DEMO_PASSWORD, seed_people
from carecoord.demo.plans import seed_plans
from carecoord.demo.stuck import seed_stuck
from plans.reminders import review_reminders_send


def seed_all() -> None:
    records = seed_people()
    seed_plans(password=DEMO_PASSWORD)
    seed_consent()
    seed_stuck()
    seed_peersupport()
    seed_care_team(records)
    review_reminders_send()  # so the demo shows reminders due and overdue

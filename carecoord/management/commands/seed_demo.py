"""python manage.py seed_demo: the demo data (carecoord/demo/), and the logins."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings

from carecoord.demo import seed_all
from carecoord.demo.care_team import CARE_TEAM_LOGINS
from carecoord.demo.people import DEMO_LOGINS, DEMO_PASSWORD
from carecoord.twofa.services import DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = "Create (or find) the demo team, people, episodes and carers, and print the logins."

    def handle(self, *args, **options) -> None:
        # Every demo account, the superuser included, has the published password: in a
        # deployment (DEBUG off) that is a way in for anyone who read the README.
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates accounts with the published demo password, so it runs "
                "only with DEBUG=true (a laptop demo), never in a deployment.")
        # In-app notifications are part of the demo; their emails (sent when the
        # transaction commits) are not.
        quiet_email = override_settings(
            EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"
        )
        with quiet_email, transaction.atomic():
            seed_all()
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Sign in with any of these:"))
        self.stdout.write(f"  password for every demo account: {DEMO_PASSWORD}")
        for email, who in DEMO_LOGINS + CARE_TEAM_LOGINS:
            self.stdout.write(f"  {email:<36} {who}")
        self.stdout.write("")
        self.stdout.write(
            "Staff accounts (manager, coordinators, admin, care-team professionals) also "
            "ask for a 6-digit code."
        )
        self.stdout.write("  Get the current one with:  python manage.py demo_otp_code <email>")
        self.stdout.write(f"  or add the demo key to an authenticator app: {DEMO_TOTP_SECRET}")
        self.stdout.write("  (the demo key works only in the demo, never in production)")
        self.stdout.write("")

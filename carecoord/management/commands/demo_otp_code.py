"""python manage.py demo_otp_code <email>: the demo account's current sign-in code."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from carecoord.twofa.services import DEMO_TOTP_KEY, demo_key_allowed


class Command(BaseCommand):
    help = "Print the current 6-digit sign-in code of a demo staff account (the demo only)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email")

    def handle(self, *args, **options) -> None:
        if not demo_key_allowed():
            raise CommandError("The demo key works only in the demo (DEBUG or DEMO on).")
        email = options["email"].strip().lower()
        device = TOTPDevice.objects.filter(
            user__email=email, key=DEMO_TOTP_KEY, confirmed=True
        ).first()
        if device is None:
            raise CommandError(f"{email} has no demo authenticator (run seed_demo first).")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")

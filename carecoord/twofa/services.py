"""Writes for two-factor sign-in: setting up an authenticator, recovery codes, removing
them, and checking a code. Each write is one transaction with its audit event."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django_otp import devices_for_user
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from carecoord.audit.services import access_event_record
from carecoord.records.models import User
from carecoord.twofa.selectors import second_factor_required

RECOVERY_CODE_COUNT = 10

# The demo's published authenticator secret (RFC 6238's test key, "12345678901234567890";
# base32 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ). Anyone can compute its codes, so a device
# with it is refused outside the demo: unless DEBUG or DEMO (the laptop demo, which runs
# with DEBUG off and which `check --deploy` rejects) is on (`second_factor_match`).
DEMO_TOTP_KEY = "3132333435363738393031323334353637383930"
DEMO_TOTP_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # the same key, as apps take it


class SecondFactorRequiredError(Exception):
    """Staff may not remove their second factor."""


def _audit(user: User, action: str) -> None:
    access_event_record(actor=user, action=action, target=f"user:{user.pk}", basis="self")


def normalise_token(token: str) -> str:
    """Codes as people type them: spaces anywhere, any case."""
    return "".join((token or "").split()).lower()


def is_demo_device(device: Device) -> bool:
    return isinstance(device, TOTPDevice) and device.key == DEMO_TOTP_KEY


def demo_key_allowed() -> bool:
    """Only in the demo (scripts/demo.sh) or while developing."""
    return bool(settings.DEBUG or getattr(settings, "DEMO", False))


def second_factor_match(*, user: User, token: str) -> Device | None:
    """The confirmed device (authenticator or recovery codes) this code belongs to, or
    None. A recovery code is used up. django-otp throttles each device after a wrong code
    (a growing wait); the caller counts the failure towards the account's lock-out."""
    token = normalise_token(token)
    if not token:
        return None
    for device in devices_for_user(user, confirmed=True):
        if is_demo_device(device) and not demo_key_allowed():
            continue  # a published secret is no second factor outside the demo
        if device.verify_is_allowed()[0] and device.verify_token(token):
            return device
    return None


@transaction.atomic
def totp_setup_start(*, user: User) -> TOTPDevice:
    """A new authenticator secret, unconfirmed until a code from it is entered."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


@transaction.atomic
def totp_setup_confirm(*, user: User, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the authenticator with a code from it: it replaces any earlier one, and ten
    new recovery codes replace any earlier ones. Returns the codes (shown once), or None
    when the code is wrong."""
    if device.user_id != user.pk or device.confirmed:
        return None
    if not (device.verify_is_allowed()[0] and device.verify_token(normalise_token(token))):
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _recovery_codes_replace(user)
    _audit(user, "twofa.set_up")
    return codes


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    codes = _recovery_codes_replace(user)
    _audit(user, "twofa.recovery_codes_regenerated")
    return codes


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@transaction.atomic
def second_factor_remove(*, user: User) -> None:
    """Remove the authenticator and recovery codes (service users and carers only)."""
    if second_factor_required(user=user):
        raise SecondFactorRequiredError
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    _audit(user, "twofa.removed")


@transaction.atomic
def demo_totp_enrol(*, user: User) -> TOTPDevice:
    """The demo data's authenticator, with the published demo secret (refused unless
    DEBUG is on)."""
    device = TOTPDevice.objects.filter(user=user, key=DEMO_TOTP_KEY).first()
    if device is None:
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(
            user=user, name="Demo authenticator", key=DEMO_TOTP_KEY, confirmed=True
        )
    return device

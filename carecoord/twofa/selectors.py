"""Reads about a person's second factor: whether they need one and what they have."""

from __future__ import annotations

from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from carecoord.records.models import STAFF_ROLES, User

# Roles that see other people's records or run the system: their sign-in needs a second
# factor. Service users and carers may add one.


def second_factor_required(*, user: User) -> bool:
    return bool(user.is_staff or user.is_superuser or user.roles & STAFF_ROLES)


def confirmed_totp_device(*, user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def has_second_factor(*, user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_totp_device(*, user: User, device_id: int | None) -> TOTPDevice | None:
    """The authenticator being set up (not yet confirmed with a code)."""
    if device_id is None:
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=False, pk=device_id).first()


def recovery_codes_left(*, user: User) -> int:
    device = StaticDevice.objects.filter(user=user, confirmed=True).first()
    return device.token_set.count() if device else 0


def active_user(*, user_id: int | None) -> User | None:
    """The account a half-finished sign-in names, if it can still sign in."""
    if not isinstance(user_id, int):
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()

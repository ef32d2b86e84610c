"""The one-time link in a staff invitation: Django's password reset tokens, with their own
salt (a reset link is no invitation, nor the other way round) and the invitation's
lifetime (INVITATION_VALID_DAYS, not the 2 hours of a reset link). A token hashes the
account's password and last sign-in, so it stops working once the password is set: it is
used once."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int


class StaffInvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "carecoord.administration.tokens.StaffInvitationTokenGenerator"

    def valid_seconds(self) -> int:
        return settings.INVITATION_VALID_DAYS * 24 * 3600

    def _make_hash_value(self, user, timestamp: int) -> str:
        # Also the account's active flag: disabling an invited account kills its link.
        return f"{super()._make_hash_value(user, timestamp)}{user.is_active}"

    def check_token(self, user, token: str | None) -> bool:
        # Django's own check_token compares against PASSWORD_RESET_TIMEOUT; the same
        # steps here, against the invitation's lifetime.
        if not (user and token):
            return False
        try:
            ts_b36, _ = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return False
        return (self._num_seconds(self._now()) - ts) <= self.valid_seconds()


staff_invitation_tokens = StaffInvitationTokenGenerator()

"""Two-factor sign-in (django-otp): a time-based code from an authenticator app, with
one-use recovery codes; required for staff, optional for service users and carers
(ADR 0011)."""

"""A coordinator's first sign-in in Chromium: sent to set up an authenticator, the QR
code shows under the strict CSP, a code confirms it, the recovery codes are shown once."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.browser.test_sign_in_and_caseload import _is_blocked_nhs_font
from tests.conftest import totp_code
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_coordinator_sets_up_two_factor_sign_in(page, live_server, live_world):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email address").fill(live_world.coordinator.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Set up two-factor sign-in", level=1)).to_be_visible()
    qr = page.locator(".app-qr-code svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box is not None
    assert box["width"] > 100
    assert box["height"] > 100
    expect(page.locator("#twofa-secret")).not_to_be_empty()
    assert [e for e in errors if not _is_blocked_nhs_font(e)] == []

    device = TOTPDevice.objects.get(user=live_world.coordinator, confirmed=False)
    page.get_by_label("Security code").fill(totp_code(device))
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Your recovery codes", level=1)).to_be_visible()
    expect(page.locator(".app-recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="I have kept my codes safe – continue").click()
    expect(page.get_by_role("heading", name="Your caseload", level=2)).to_be_visible()
    assert [e for e in errors if not _is_blocked_nhs_font(e)] == []

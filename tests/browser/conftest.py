"""Browser tests: Debian's Chromium through Playwright, against Django's live server.

- Playwright cannot download its own browsers here, so `browser_type_launch_args` points
  it at /usr/bin/chromium (see shared STACK-NOTES "Browser tests").
- `live_server` runs in another thread while Playwright's sync API runs an event loop in
  this one, so Django needs DJANGO_ALLOW_ASYNC_UNSAFE (set below, before Django is used).
- The live server reads the database through its own connection, so every test here
  uses committed data: `@pytest.mark.django_db(transaction=True)` and the `live_world`
  fixture (the shared `world`, built under `transactional_db`).
- On failure, a full-page screenshot named after the test goes to TEST_ARTIFACTS_DIR
  (or the test's tmp_path).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


# --- Screenshot on failure ----------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def _safe_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")[:200]


@pytest.fixture(autouse=True)
def _screenshot_on_failure(request, tmp_path):
    if "page" not in request.fixturenames:
        yield
        return
    # Set `page` up from inside this fixture so that this teardown runs before the page
    # is closed.
    page = request.getfixturevalue("page")
    yield
    screenshots_on_failure(request, tmp_path, {"": page})


def screenshots_on_failure(request, tmp_path, pages: dict) -> None:
    """If the test failed, a full-page screenshot of each person's page, into
    TEST_ARTIFACTS_DIR (kept by scripts/test.sh) or the test's tmp_path."""
    report = getattr(request.node, "rep_call", None)
    if report is None or not report.failed:
        return
    directory = Path(os.environ.get("TEST_ARTIFACTS_DIR") or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)
    for who, page in pages.items():
        suffix = f"-{who}" if who else ""
        path = directory / f"{_safe_name(request.node.nodeid)}{suffix}.png"
        try:
            page.screenshot(path=str(path), full_page=True)
        except Exception as error:  # a screenshot must not hide the failure
            print(f"Could not save a screenshot to {path}: {error}")
        else:
            print(f"Screenshot of the failure: {path}")


# --- Committed data for the live server ---------------------------------------------------


@pytest.fixture
def live_world(transactional_db, world):
    """The shared `world`, committed, so that the live server's thread can read it."""
    return world


# --- Helpers ------------------------------------------------------------------------------


def sign_in(page, live_server, email: str, password: str):
    """Sign in through the real forms: the password, then (for staff, and anyone with an
    authenticator) the code their authenticator shows now. Returns the response to the
    last form's submission."""
    from carecoord.records.models import User
    from carecoord.twofa.selectors import has_second_factor, second_factor_required
    from tests.conftest import totp_code, totp_device_for, totp_step

    user = User.objects.filter(email=email.strip().lower()).first()
    device = None
    if user is not None and (second_factor_required(user=user) or has_second_factor(user=user)):
        device = totp_device_for(user)
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Sign in").click()
    if device is None or "/sign-in/code/" not in page.url:
        return navigation.value
    device.refresh_from_db()
    # A code is accepted once: if this device was just used in this 30-second step,
    # the next step's code (within django-otp's tolerance of one step) is the one.
    offset = max(0, device.last_t - totp_step(device) + 1)
    page.get_by_label("Security code").fill(totp_code(device, step_offset=offset))
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Continue").click()
    return navigation.value


def fill_date(page, legend: str, value) -> None:
    """Type a date into an NHS.UK date input as a person does: the day, month and year
    boxes of the fieldset whose legend is `legend` (carecoord/web/date_input.py)."""
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(value.day))
    group.get_by_label("Month").fill(str(value.month))
    group.get_by_label("Year").fill(str(value.year))
